"""The one permission policy: who may do what, and which records each membership sees.

`visible(membership, Model)` is the scope filter every list and lookup uses; a record outside
it does not exist for that person (404). `can(membership, action, Model)` says whether an
in-scope record may be changed (403 when not).
"""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.base import Executable

from .auth.models import Membership, User
from .org.models import (
    Building, Committee, CommitteeMember, Community, Compound, Contract, CrossAppointment, Department, Firm,
    Grid, Household, HouseholdClass, HouseholdClassLink, Instructor, Ownership, PartyOrg, Person, Street,
)
from .fees.models import (
    Bill, BillingRun, CreditNote, FeeAssignment, FeeConcession, FeePolicy, FeePolicyGrade, HoldbackRelease,
    BillSum, OwedBill, Payment, SubsidyClaim,
)
from .jobs import JobRun
from .publicity.models import (
    LedgerEntry, LedgerKeeper, LedgerVoucher, Objection, Publication, PublicationCheck, PublicityRequirement,
)
from .votes.models import Ballot, FundApplication, FundReview, OwnerVote
from .demands.models import Demand, DemandCategory, DemandChannel, DemandEvent, DemandPhoto
from .meetings.models import ActionItem, AgendaItem, Meeting, MeetingAttendee, MeetingCadence
from .committees.models import Candidate, CommitteeSupervision, Formation, VettingCheck, VettingCriterion
from .followups.models import FollowUp
from .indicators.models import CompoundMonth
from .evaluation.models import (
    Appeal, Assessment, AssessorAssignment, Evaluation, Evidence, ItemScore, Standard, StandardCategory,
    StandardItem, Survey, SurveyResponse,
)
from .credit.models import (
    CreditEvidence, CreditGrade, CreditObjection, CreditRecord, CreditRecordKind, CreditRule, FirmFlag,
)
from .fourlists.models import FourListItem, FourListUpdate
from .volunteers.models import BuildingLeader, PointExchange, Volunteer, VolunteerTask, VolunteerTeam
from .contracts.models import ContractFiling, FilingFile, FilingReview, FilingRule
from .exits.models import ExitRule, FirmExit, HandoverItem
from .hiring.models import (
    HiringRule, PanelMember, PanelScore, Selection, SelectionCandidate, TenderApplication,
)
from .matters.models import MatterFiling, MatterFilingFile, MatterRule
from .notifications.models import InboxItem
from .tenancy import kept
from .timeutil import today

DISTRICT = "district_admin"
FIRM_ROLES = {"firm_manager", "firm_staff"}
GRID = "grid_worker"             # 网格员: its grid's compounds (网格巡查)
DEPARTMENT = "department_staff"  # 职能部门: what was dispatched to its department
# An API client of the district (api/models.py), acting through the JSON API. It reads as the
# district does, or — when it acts for a firm — as that firm's staff (`api_viewer`); it writes
# only what its scopes name (API_WRITES), a payment only for its firm.
API = "api_client"
API_WRITES = {"demand_intake": "demands:write", "payment": "fees:write"}

# Who may write what. The org tree is the district's register; later areas add their own.
WRITERS = {
    "org": {DISTRICT},
    "users": {DISTRICT},
    "import": {DISTRICT},
    "audit": {DISTRICT},
    "fee_policy": {DISTRICT},
    "billing": {DISTRICT} | FIRM_ROLES,        # a firm bills its own compounds only
    "payment": FIRM_ROLES,
    "claim_submit": {"firm_manager"},
    "claim_decide": {DISTRICT},
    "holdback": {DISTRICT},   # re-running a release (publishing releases by itself)
    # Accounts and publicity: the keeper of each ledger kind (firm or committee, as the district
    # configures) is checked in the logic; these are the roles that can be keepers at all.
    "ledger": FIRM_ROLES | {"committee_member"},
    "publish": FIRM_ROLES | {"committee_member"},
    "objection": {"committee_member"},
    "objection_decide": {"community_staff"},
    "publicity_config": {DISTRICT},
    # 专项维修资金: the district sets the first-deposit standard and whether 北京 第74条 applies;
    # the fund's keeper (accounts.keeps) posts deposits and uses.
    "fund_config": {DISTRICT},
    "vote": {"committee_member"},
    "fund_apply": FIRM_ROLES | {"committee_member"},
    "fund_review": {"community_staff", "street_staff", DISTRICT},
    # Demands: staff take them in and dispatch; the assignee firm handles its own; the step
    # functions check whose turn it is.
    "demand_config": {DISTRICT},
    "demand_intake": {"community_staff", "street_staff", GRID},
    "demand_dispatch": {"community_staff", "street_staff"},
    "demand_handle": FIRM_ROLES | {"community_staff", "street_staff", DEPARTMENT},
    # A meeting's action item given to a department is closed by that department's accounts.
    "action_done": {"community_staff", "street_staff", DISTRICT, DEPARTMENT},
    # Community and street staff run their meetings, the district its 全区物业管理联席会议 (002).
    "meeting": {"community_staff", "street_staff", DISTRICT},
    "meeting_cadence": {DISTRICT},     # how often each level must meet
    "formation": {"community_staff"},
    "vetting_config": {DISTRICT},
    "supervision": {"community_staff", "street_staff"},
    "followup": {DISTRICT, "street_staff", "community_staff"},
    "snapshot": {DISTRICT},
    # Evaluation: the district builds standards, opens cycles, finalizes and decides appeals;
    # firms self-report and appeal; community reviews, street confirms, assessors score theirs.
    "standard": {DISTRICT},
    "evaluation": {DISTRICT},
    "self_report": FIRM_ROLES,
    # The district reviews and confirms firm-wide assessments (no community or street of its own).
    "review": {"community_staff", DISTRICT},
    "confirm": {"street_staff", DISTRICT},
    "assess": {"assessor"},
    "committee_score": {"committee_member"},   # 业委会履约评价: the logic checks it is the compound's
    "appeal": {"firm_manager"},
    "appeal_decide": {DISTRICT},
    "survey": {DISTRICT, "community_staff"},
    # Credit file: district and street staff record (with evidence); the district revokes,
    # configures and decides objections; the firm's manager objects to its own records.
    "credit": {DISTRICT, "street_staff"},
    "credit_decide": {DISTRICT},
    "credit_config": {DISTRICT},
    "credit_object": {"firm_manager"},
    # 四项清单: community and street staff keep their communities' lists; an item's owner firm
    # reports progress on it (the logic checks it is the owner).
    "fourlist": {"community_staff", "street_staff"},
    "fourlist_report": {"community_staff", "street_staff"} | FIRM_ROLES,
    "volunteers": {"community_staff", "street_staff"},
    # 合同备案: a firm files its own contracts; community, street and district review in turn
    # (the logic checks whose step it is); the district sets the deadlines and the number prefix.
    "contract_filing": FIRM_ROLES,
    "contract_review": {"community_staff", "street_staff", DISTRICT},
    "filing_config": {DISTRICT},
    # Exit and handover: the committee (an owners' decision), the community acting for it, the
    # street and district start exits and name the incoming side; the incoming side signs the
    # handover lines (exits.logic.side_of checks which side it is).
    "exit": {DISTRICT, "street_staff", "community_staff", "committee_member"},
    "handover": FIRM_ROLES | {"committee_member", "community_staff"},
    "exit_config": {DISTRICT},
    # 选聘: the committee, or the community acting for it (代行), runs a selection — the logic
    # checks which of them acts for the compound now; a firm's manager applies to tenders and
    # signs its contract draft; the district sets the tender rule.
    "selection": {"committee_member", "community_staff"},
    "tender_apply": {"firm_manager"},
    "contract_sign": {"firm_manager", "committee_member", "community_staff"},
    "hiring_config": {DISTRICT},
    # 重大事项报备: whoever runs the vote files its matter (votes.views.may_run checks which),
    # the community notes it reported to the party organisation, the street acknowledges or
    # returns; the district sets the spending threshold.
    "matter_file": {"committee_member", "community_staff"},
    "matter_party": {"community_staff"},
    "matter_ack": {"street_staff"},
    "matter_config": {DISTRICT},
    "api_clients": {DISTRICT},   # the district's API clients (create, rotate, revoke)
}


def can(m: Membership | None, action: str, area: str = "org") -> bool:
    if m is None or not m.active:
        return False
    if action == "view":
        return True
    if m.role == API:
        scope = API_WRITES.get(area)
        return scope is not None and scope in m.scopes and (area != "payment" or m.firm_id is not None)
    return m.role in WRITERS.get(area, set())


# --- scope: the compounds, communities, streets and firms a membership reaches -------------

def _communities(m: Membership):
    if m.role == "street_staff":
        return select(Community.id).where(Community.street_id == m.street_id)
    if m.role == "community_staff":
        return select(Community.id).where(Community.id == m.community_id)
    if m.role == GRID:
        return select(Grid.community_id).where(Grid.id == m.grid_id)
    return None


def _active_contracts():
    d = today()
    return Contract.in_force(d)


def _compounds(m: Membership):
    if m.role in ("street_staff", "community_staff"):
        return select(Compound.id).where(Compound.community_id.in_(_communities(m)))
    if m.role in FIRM_ROLES:
        return select(Contract.compound_id).where(Contract.firm_id == m.firm_id, _active_contracts())
    if m.role == "committee_member":
        return select(Compound.id).where(Compound.id == m.compound_id)
    if m.role == GRID:
        return select(Compound.id).where(Compound.grid_id == m.grid_id)
    return None


def _firms(m: Membership):
    if m.role in FIRM_ROLES:
        return select(Firm.id).where(Firm.id == m.firm_id)
    if m.role == "assessor":
        return select(Firm.id)
    comps = _compounds(m)
    if comps is None:
        return None
    return select(Contract.firm_id).where(Contract.compound_id.in_(comps), _active_contracts())


# The scope's selects depend on the membership's role and ids and the day only (contracts in
# force): built once per scope and day instead of on each of the dozens of `visible` calls a page
# makes, where building them was most of a landing page's time. Statements are immutable, so one
# select is safely embedded in many queries; the tenant's filter is added when each runs.
_scopes: dict = {}


def _scope_selects(m) -> tuple:
    key = (m.role, m.street_id, m.community_id, m.firm_id, m.compound_id, m.grid_id, today())
    got = _scopes.get(key)
    if got is None:
        if len(_scopes) >= 4096:
            _scopes.clear()
        got = _scopes[key] = (_compounds(m), _communities(m), _firms(m))
    return got


def _any(*clauses):
    """OR of the clauses, staying the plain `false()` when none can match."""
    live = [c for c in clauses if c is not false()]
    return or_(*live) if live else false()


def _committee_cycles():
    """Running evaluations whose standard has items the owners' committee scores."""
    return (select(Evaluation.id).join(StandardItem, StandardItem.standard_id == Evaluation.standard_id)
            .where(Evaluation.status.in_(("open", "reviewing")), StandardItem.scorer == "committee"))


# 网格员 walk their grid (网格巡查): its compounds, buildings, households and owners, who serves
# and represents them, their demands and meetings, the community's volunteers and lists, and what
# is public anyway (the compounds' public accounts and notices, the district's prices and scoring
# standard). Not the residents' bills and payments, the evaluation of firms or the credit file.
GRID_SEES = frozenset({
    Street, Community, Grid, Compound, Building, Household, HouseholdClass, HouseholdClassLink, Ownership, Person,
    Committee, CommitteeMember, PartyOrg, Firm, Contract, Membership, Department,
    FeePolicy, FeePolicyGrade, FeeConcession, FeeAssignment, Standard, StandardCategory, StandardItem,
    LedgerKeeper, LedgerEntry, LedgerVoucher, Publication, PublicationCheck, Objection, PublicityRequirement,
    Demand, DemandEvent, DemandPhoto, DemandCategory, DemandChannel,
    Meeting, MeetingAttendee, AgendaItem, ActionItem, FourListItem, FourListUpdate,
    Volunteer, VolunteerTeam, VolunteerTask, BuildingLeader, JobRun,
})


def _department(m: Membership, model):
    """职能部门: the demands and meeting action items dispatched to its department, the
    meetings and compounds they belong to; nothing else of the district."""
    mine = select(Demand.compound_id).where(Demand.department_id == m.department_id)
    actions = select(ActionItem.meeting_id).where(ActionItem.department_id == m.department_id)
    if model is Demand:
        return Demand.department_id == m.department_id
    if model in (DemandEvent, DemandPhoto):
        return None   # the general rule: those of the demands it sees
    if model is ActionItem:
        return ActionItem.department_id == m.department_id
    if model is Meeting:
        return Meeting.id.in_(actions)
    if model in (MeetingAttendee, AgendaItem):
        return model.meeting_id.in_(actions)
    if model is Compound:
        return or_(Compound.id.in_(mine), Compound.id.in_(
            select(Meeting.compound_id).where(Meeting.id.in_(actions))))
    if model is Department:
        return Department.id == m.department_id
    # The district's published rules, as every account of the district reads them.
    if model in (DemandCategory, DemandChannel, Standard, StandardCategory, StandardItem, FeePolicy,
                 FeePolicyGrade, FeeConcession):
        return true()
    if model is Membership:
        return Membership.id == m.id
    if model is JobRun:
        return JobRun.user_id == m.user_id
    return false()


def scope_key(m) -> tuple:
    """What the policy reads of a membership (or of a node's scope, `dashboard.board.node_scope`),
    with the day (contracts in force): equal keys, equal clauses."""
    return (getattr(m, "tenant_id", None), m.id, getattr(m, "user_id", None), m.role, getattr(m, "active", True),
            m.street_id, m.community_id, m.firm_id, m.compound_id, getattr(m, "grid_id", None),
            getattr(m, "department_id", None), today())


# Bounded by entries (cleared when full, then built again as needed): a scope's clauses are
# small; a landing page's statements are a few hundred KiB per membership with their compiled
# forms, so about a hundred memberships' worth are kept.
_clauses: dict = {}
_built: dict = {}


def _memo(store: dict, capacity: int, key, build):
    got = store.get(key)
    if got is None:
        if len(store) >= capacity:
            store.clear()
        got = store[key] = build()
    return got


def built(name: str, m, build, *args):
    """`build()`'s statements, built once per scope, day and `args`: for statements that depend on
    nothing else (no data read while building them), so a page reuses them instead of building
    them again on every request. Statements are immutable; values a request brings (the time) go
    in as bound parameters. A statement returned is marked `tenancy.kept` (its district's filter is
    kept with it); one inside what `build` returns, the caller marks."""
    def marked():
        got = build()
        return kept(got) if isinstance(got, Executable) else got
    return _memo(_built, 2048, (name, scope_key(m), args), marked)


def api_viewer(m):
    """Whom an API client reads as: the district (no firm) or its firm's staff."""
    role = "firm_staff" if m.firm_id is not None else DISTRICT
    return SimpleNamespace(id=None, tenant_id=m.tenant_id, user_id=None, role=role, active=m.active,
                           street_id=None, community_id=None, firm_id=m.firm_id, compound_id=None,
                           grid_id=None, department_id=None)


def visible(m: Membership, model):
    """A WHERE clause limiting `model` to what `m` may see."""
    if m.role == API:
        m = m.viewer
    if model is InboxItem:
        # Everyone's inbox is their own, the district admin's too.
        return InboxItem.membership_id == m.id
    if m.role == DISTRICT and model is not User:
        return true()
    # Built once per scope and model (a page asks for the same clauses many times; a clause is
    # as immutable as the selects in it).
    return _memo(_clauses, 16384, (model, scope_key(m)), lambda: _visible(m, model))


def _visible(m: Membership, model):
    if model is User:
        # Accounts are not tenant-owned, so no tenant filter guards them (hence before the
        # district shortcut): a user is "here" through a membership of this district in scope.
        return User.id.in_(select(Membership.user_id).where(
            Membership.tenant_id == m.tenant_id, visible(m, Membership)))
    if m.role == DISTRICT:
        return true()
    if m.role == DEPARTMENT:
        clause = _department(m, model)
        if clause is not None:
            return clause
    if m.role == GRID and model not in GRID_SEES:
        return false()
    if model is Department:
        return false() if m.role == "assessor" else true()
    comps, comms, firms = _scope_selects(m)

    def within(col, sub):
        return col.in_(sub) if sub is not None else false()

    if model is Street:
        if m.role == "street_staff":
            return Street.id == m.street_id
        if m.role in ("community_staff", GRID):
            return Street.id.in_(select(Community.street_id).where(Community.id.in_(comms)))
        return false()
    if model is Community:
        return within(Community.id, comms)
    if model is Grid:
        return within(Grid.community_id, comms)
    if model is Compound:
        # On the compound's own columns where the scope is made of them: `id IN (the scope's
        # compounds)` read the district's every compound to keep a community's nineteen (a hash
        # join over the whole table, growing with the district); the community's index answers this.
        if m.role in ("street_staff", "community_staff"):
            return Compound.community_id.in_(comms)
        if m.role == "committee_member":
            return Compound.id == m.compound_id
        if m.role == GRID:
            return Compound.grid_id == m.grid_id
        return within(Compound.id, comps)
    if model in (Building, Household, Committee):
        return within(model.compound_id, comps)
    if model in (HouseholdClassLink, Ownership):
        return within(model.household_id,
                      None if comps is None else select(Household.id).where(Household.compound_id.in_(comps)))
    if model is Person:
        # An owner is seen by whoever sees one of the units they own (or owned).
        return within(Person.id, None if comps is None else select(Ownership.person_id).join(
            Household, Household.id == Ownership.household_id).where(Household.compound_id.in_(comps)))
    if model is HouseholdClass:
        return true()
    if model is CommitteeMember:
        return within(CommitteeMember.committee_id,
                      None if comps is None else select(Committee.id).where(Committee.compound_id.in_(comps)))
    if model is Firm:
        return within(Firm.id, firms)
    if model is Contract:
        if m.role in FIRM_ROLES:
            return Contract.firm_id == m.firm_id
        return within(Contract.compound_id, comps)
    if model is Instructor:
        return within(Instructor.firm_id, firms)
    if model is PartyOrg:
        return _any(within(PartyOrg.compound_id, comps), within(PartyOrg.community_id, comms),
                    within(PartyOrg.firm_id, firms) if m.role in FIRM_ROLES else false())
    if model is CrossAppointment:
        return _any(within(CrossAppointment.community_id, comms),
                    within(CrossAppointment.compound_id, comps))
    if model is Membership:
        return Membership.id == m.id
    # Fees: policies are the district's published rules; money records follow the compound,
    # and a firm sees what it billed (also after its contract ended).
    if model in (FeePolicy, FeePolicyGrade, FeeConcession):
        return true()
    if model is FeeAssignment:
        return within(FeeAssignment.compound_id, comps)
    if model is BillingRun:
        if m.role in FIRM_ROLES:
            # Its "all my compounds" runs and the runs of one compound it has a contract for.
            own = select(Contract.compound_id).where(Contract.firm_id == m.firm_id)
            return or_(and_(BillingRun.scope_kind == "firm", BillingRun.scope_id == m.firm_id),
                       and_(BillingRun.scope_kind == "compound", BillingRun.scope_id.in_(own)))
        return false()
    if model in (Bill, BillSum, OwedBill, SubsidyClaim):
        if m.role in FIRM_ROLES:
            return model.firm_id == m.firm_id
        return within(model.compound_id, comps)
    if model is HoldbackRelease:
        # 质量保证金: the firm its own (also after its contract ended), staff and the committee
        # their compounds' (the kept part is the owners' public revenue).
        if m.role in FIRM_ROLES:
            return HoldbackRelease.firm_id == m.firm_id
        return within(HoldbackRelease.compound_id, comps)
    if model in (Payment, CreditNote):
        bills = select(Bill.id).where(visible(m, Bill))
        return model.bill_id.in_(bills) if visible(m, Bill) is not false() else false()
    # Accounts, publicity and votes follow the compound (a firm: the compounds it keeps now).
    if model in (LedgerKeeper, PublicityRequirement):
        return true()
    if model in (LedgerEntry, Publication, OwnerVote, FundApplication):
        return within(model.compound_id, comps)
    for child, col, parent in ((LedgerVoucher, LedgerVoucher.entry_id, LedgerEntry),
                               (PublicationCheck, PublicationCheck.publication_id, Publication),
                               (Objection, Objection.publication_id, Publication),
                               (Ballot, Ballot.vote_id, OwnerVote),
                               (FundReview, FundReview.application_id, FundApplication)):
        if model is child:
            parent_clause = visible(m, parent)
            return false() if parent_clause is false() else col.in_(select(parent.id).where(parent_clause))
    # Demands: a firm sees only what was dispatched to it; the committee its compound's.
    if model in (DemandCategory, DemandChannel, VettingCriterion):
        return true()
    if model is Demand:
        if m.role in FIRM_ROLES:
            return Demand.firm_id == m.firm_id
        if m.role == "assessor":
            return false()
        return within(Demand.compound_id, comps)
    # Meetings belong to their street or community (a district meeting to the district: no street
    # sees it, only the items it escalated there); firms and committees see those about their
    # compounds, community staff also their street's meetings (escalated matters).
    if model is Meeting:
        if m.role == "street_staff":
            return Meeting.street_id == m.street_id
        if m.role == "community_staff":
            return _any(within(Meeting.community_id, comms),
                        and_(Meeting.level == "street", Meeting.street_id.in_(
                            select(Community.street_id).where(Community.id == m.community_id))))
        if m.role == "assessor":
            return false()
        return within(Meeting.compound_id, comps)
    if model is AgendaItem:
        if m.role == "street_staff":
            return AgendaItem.street_id == m.street_id
        if m.role == "community_staff":
            return _any(within(AgendaItem.community_id, comms),
                        AgendaItem.meeting_id.in_(select(Meeting.id).where(visible(m, Meeting))))
        meeting_clause = visible(m, Meeting)
        return false() if meeting_clause is false() else AgendaItem.meeting_id.in_(
            select(Meeting.id).where(meeting_clause))
    # Formations and committee supervision: the community's work, open to its street and the
    # compound's committee.
    if model in (Formation, CommitteeSupervision):
        if m.role not in ("street_staff", "community_staff", "committee_member"):
            return false()
        if model is Formation:
            return within(Formation.compound_id, comps)
        return within(CommitteeSupervision.committee_id,
                      None if comps is None else select(Committee.id).where(Committee.compound_id.in_(comps)))
    if model is FollowUp:
        if m.role == "street_staff":
            return _any(FollowUp.street_id == m.street_id, within(FollowUp.community_id, comms))
        if m.role == "community_staff":
            return within(FollowUp.community_id, comms)
        if m.role == "committee_member":
            return FollowUp.compound_id == m.compound_id
        return false()
    if model is CompoundMonth:
        if m.role == "street_staff":
            return CompoundMonth.street_id == m.street_id
        if m.role == "community_staff":
            return CompoundMonth.community_id == m.community_id
        return false()
    # Evaluation: standards are the district's published rules. A firm sees only its own
    # assessments (never another firm's scores); a committee the published results of its
    # compound and of the firm serving it, and — while a cycle whose standard has committee
    # items runs — its compound's assessment with only those items; an assessor the
    # evaluations it has items in, and of their scores only those items.
    if model in (Standard, StandardCategory, StandardItem):
        return true()
    if model is AssessorAssignment:
        return AssessorAssignment.membership_id == m.id if m.role == "assessor" else false()
    assigned = select(AssessorAssignment.evaluation_id).where(AssessorAssignment.membership_id == m.id)
    published = select(Evaluation.id).where(Evaluation.status == "published")
    firm_wide_of = and_(Assessment.compound_id.is_(None), within(Assessment.firm_id, firms))
    if model is Evaluation:
        if m.role in ("street_staff", "community_staff"):
            return true()
        if m.role == "assessor":
            return Evaluation.id.in_(assigned)
        assessment_clause = visible(m, Assessment)
        return false() if assessment_clause is false() else Evaluation.id.in_(
            select(Assessment.evaluation_id).where(assessment_clause))
    if model is Assessment:
        if m.role in FIRM_ROLES:
            return Assessment.firm_id == m.firm_id
        if m.role == "assessor":
            return Assessment.evaluation_id.in_(assigned)
        if m.role == "committee_member":
            return or_(and_(Assessment.evaluation_id.in_(published),
                            _any(Assessment.compound_id == m.compound_id, firm_wide_of)),
                       and_(Assessment.compound_id == m.compound_id,
                            Assessment.evaluation_id.in_(_committee_cycles())))
        return _any(within(Assessment.compound_id, comps), firm_wide_of)
    if model is ItemScore:
        if m.role == "assessor":
            return ItemScore.id.in_(
                select(ItemScore.id).join(Assessment, Assessment.id == ItemScore.assessment_id)
                .join(AssessorAssignment, and_(AssessorAssignment.evaluation_id == Assessment.evaluation_id,
                                               AssessorAssignment.item_id == ItemScore.item_id))
                .where(AssessorAssignment.membership_id == m.id))
        if m.role == "committee_member":
            # Published: the whole sheet; while the cycle runs: only the committee's own items.
            return or_(ItemScore.assessment_id.in_(select(Assessment.id).where(
                           Assessment.evaluation_id.in_(published),
                           _any(Assessment.compound_id == m.compound_id, firm_wide_of))),
                       and_(ItemScore.assessment_id.in_(select(Assessment.id).where(
                                Assessment.compound_id == m.compound_id,
                                Assessment.evaluation_id.in_(_committee_cycles()))),
                            ItemScore.item_id.in_(select(StandardItem.id).where(StandardItem.scorer == "committee"))))
        assessment_clause = visible(m, Assessment)
        return false() if assessment_clause is false() else ItemScore.assessment_id.in_(
            select(Assessment.id).where(assessment_clause))
    if model is Survey:
        if m.role not in ("street_staff", "community_staff"):
            return false()
        return within(Survey.compound_id, comps)
    for child, col, parent in ((DemandEvent, DemandEvent.demand_id, Demand),
                               (Evidence, Evidence.item_score_id, ItemScore),
                               (Appeal, Appeal.assessment_id, Assessment),
                               (SurveyResponse, SurveyResponse.survey_id, Survey),
                               (DemandPhoto, DemandPhoto.event_id, DemandEvent),
                               (MeetingAttendee, MeetingAttendee.meeting_id, Meeting),
                               (ActionItem, ActionItem.meeting_id, Meeting),
                               (Candidate, Candidate.formation_id, Formation),
                               (VettingCheck, VettingCheck.candidate_id, Candidate)):
        if model is child:
            parent_clause = visible(m, parent)
            return false() if parent_clause is false() else col.in_(select(parent.id).where(parent_clause))
    # Credit: the kinds and the rule are the district's published rules. A firm sees its own
    # file, staff the files of the firms serving their compounds; a committee only its firm's
    # grade (the register of grades), never the records. A third-party assessor has no part in
    # the credit file (its pages are 403 to it), so not even the rules behind it.
    if model in (CreditRecordKind, CreditRule):
        return false() if m.role == "assessor" else true()
    # 上榜后果 flags: as the records (a firm its own, staff their firms', no committee or assessor).
    if model in (CreditRecord, CreditObjection, FirmFlag):
        if m.role in FIRM_ROLES:
            return model.firm_id == m.firm_id
        if m.role in ("street_staff", "community_staff"):
            return within(model.firm_id, firms)
        return false()
    if model is CreditEvidence:
        parent_clause = visible(m, CreditRecord)
        return false() if parent_clause is false() else CreditEvidence.record_id.in_(
            select(CreditRecord.id).where(parent_clause))
    if model is CreditGrade:
        if m.role == "assessor":
            return false()
        return within(CreditGrade.firm_id, firms)
    # 四项清单: staff their communities' lists; a committee its community's (the lists are the
    # community's promises to its compounds); a firm the items it owns.
    if model is FourListItem:
        if m.role in FIRM_ROLES:
            return FourListItem.firm_id == m.firm_id
        if m.role == "committee_member":
            return FourListItem.community_id.in_(select(Compound.community_id).where(Compound.id == m.compound_id))
        return within(FourListItem.community_id, comms)
    if model is FourListUpdate:
        parent_clause = visible(m, FourListItem)
        return false() if parent_clause is false() else FourListUpdate.item_id.in_(
            select(FourListItem.id).where(parent_clause))
    # Volunteers (names, phones): the staff of their community, street and district only.
    if model in (Volunteer, VolunteerTeam, VolunteerTask):
        return within(model.community_id, comms)
    if model is BuildingLeader:
        # 楼栋长 and 党员中心户: the community's staff and the compound's committee.
        if m.role in FIRM_ROLES or m.role == "assessor":
            return false()
        return within(BuildingLeader.compound_id, comps)
    if model is PointExchange:
        return within(PointExchange.volunteer_id, None if comms is None else
                      select(Volunteer.id).where(Volunteer.community_id.in_(comms)))
    # 合同备案: the firm its own filings, staff their compounds', the committee only its
    # compound's approved filing (the record, not the review in progress).
    if model is FilingRule:
        return false() if m.role == "assessor" else true()
    if model is ContractFiling:
        if m.role in FIRM_ROLES:
            return ContractFiling.firm_id == m.firm_id
        if m.role in ("street_staff", "community_staff"):
            return within(ContractFiling.compound_id, comps)
        if m.role == "committee_member":
            return and_(ContractFiling.compound_id == m.compound_id, ContractFiling.status == "filed")
        return false()
    for child, col in ((FilingReview, FilingReview.filing_id), (FilingFile, FilingFile.filing_id)):
        if model is child:
            parent_clause = visible(m, ContractFiling)
            return false() if parent_clause is false() else col.in_(
                select(ContractFiling.id).where(parent_clause))
    # Exits: staff and the committee those of their compounds; a firm the exits it leaves by and
    # those it takes over by its draft contract (it does not serve that compound yet).
    if model is ExitRule:
        return false() if m.role == "assessor" else true()
    if model is FirmExit:
        if m.role in FIRM_ROLES:
            return or_(FirmExit.firm_id == m.firm_id, FirmExit.incoming_contract_id.in_(
                select(Contract.id).where(Contract.firm_id == m.firm_id)))
        if m.role == "assessor":
            return false()
        return within(FirmExit.compound_id, comps)
    if model is HandoverItem:
        parent_clause = visible(m, FirmExit)
        return false() if parent_clause is false() else HandoverItem.exit_id.in_(
            select(FirmExit.id).where(parent_clause))
    # 选聘: the compound's selections follow the compound; a firm sees the district's published
    # tenders (any compound: tenders are open to the district's firms) and the selections it won,
    # and of the applications only its own. Candidates and the panel are the owners' side's work.
    if model is HiringRule:
        return false() if m.role == "assessor" else true()
    if model is Selection:
        if m.role in FIRM_ROLES:
            return or_(and_(Selection.mode == "tender", Selection.notice_publication_id.is_not(None)),
                       Selection.winner_firm_id == m.firm_id)
        if m.role == "assessor":
            return false()
        return within(Selection.compound_id, comps)
    if model is TenderApplication:
        if m.role in FIRM_ROLES:
            return TenderApplication.firm_id == m.firm_id
        parent_clause = visible(m, Selection)
        return false() if parent_clause is false() else TenderApplication.selection_id.in_(
            select(Selection.id).where(parent_clause))
    if model in (SelectionCandidate, PanelMember):
        if m.role in FIRM_ROLES:
            return false()
        parent_clause = visible(m, Selection)
        return false() if parent_clause is false() else model.selection_id.in_(
            select(Selection.id).where(parent_clause))
    if model is PanelScore:
        parent_clause = visible(m, TenderApplication) if m.role not in FIRM_ROLES else false()
        return false() if parent_clause is false() else PanelScore.application_id.in_(
            select(TenderApplication.id).where(parent_clause))
    if model is MeetingCadence:
        # The district's rule on how often to meet: for the staff who hold the meetings.
        return true() if m.role in ("street_staff", "community_staff") else false()
    # 重大事项报备: staff and the committee those of their compounds (the street its street's,
    # the community its own); firms and assessors none.
    if model is MatterRule:
        return false() if m.role == "assessor" else true()
    if model is MatterFiling:
        if m.role in FIRM_ROLES or m.role == "assessor":
            return false()
        return within(MatterFiling.compound_id, comps)
    if model is MatterFilingFile:
        parent_clause = visible(m, MatterFiling)
        return false() if parent_clause is false() else MatterFilingFile.filing_id.in_(
            select(MatterFiling.id).where(parent_clause))
    if model is JobRun:
        # Anyone follows the progress of the jobs they started (e.g. a firm's billing run).
        return JobRun.user_id == m.user_id
    # Unknown models are invisible until the policy says otherwise: fail closed.
    return false()


def reaches(m: Membership, model) -> bool:
    """False when the membership can see no record of `model` at all (hide its menu)."""
    return visible(m, model) is not false()


def scoped(stmt, m: Membership, model):
    return stmt.where(visible(m, model))
