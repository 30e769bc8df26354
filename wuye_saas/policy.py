"""The one permission policy: who may do what, and which records each membership sees.

`visible(membership, Model)` is the scope filter every list and lookup uses; a record outside
it does not exist for that person (404). `can(membership, action, Model)` says whether an
in-scope record may be changed (403 when not).
"""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true

from .auth.models import Membership, User
from .org.models import (
    Building, Committee, CommitteeMember, Community, Compound, Contract, CrossAppointment, Firm,
    Grid, Household, HouseholdClass, HouseholdClassLink, Instructor, PartyOrg, Street,
)
from .fees.models import (
    Bill, BillingRun, CreditNote, FeeAssignment, FeeConcession, FeePolicy, FeePolicyGrade, Payment,
    SubsidyClaim,
)
from .jobs import JobRun
from .publicity.models import (
    LedgerEntry, LedgerKeeper, LedgerVoucher, Objection, Publication, PublicationCheck, PublicityRequirement,
)
from .votes.models import Ballot, FundApplication, FundReview, OwnerVote
from .timeutil import today

DISTRICT = "district_admin"
FIRM_ROLES = {"firm_manager", "firm_staff"}

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
    # Accounts and publicity: the keeper of each ledger kind (firm or committee, as the district
    # configures) is checked in the logic; these are the roles that can be keepers at all.
    "ledger": FIRM_ROLES | {"committee_member"},
    "publish": FIRM_ROLES | {"committee_member"},
    "objection": {"committee_member"},
    "objection_decide": {"community_staff"},
    "publicity_config": {DISTRICT},
    "vote": {"committee_member"},
    "fund_apply": FIRM_ROLES | {"committee_member"},
    "fund_review": {"community_staff", "street_staff", DISTRICT},
}


def can(m: Membership | None, action: str, area: str = "org") -> bool:
    if m is None or not m.active:
        return False
    if action == "view":
        return True
    return m.role in WRITERS.get(area, set())


# --- scope: the compounds, communities, streets and firms a membership reaches -------------

def _communities(m: Membership):
    if m.role == "street_staff":
        return select(Community.id).where(Community.street_id == m.street_id)
    if m.role == "community_staff":
        return select(Community.id).where(Community.id == m.community_id)
    return None


def _active_contracts():
    d = today()
    return and_(Contract.start_date <= d, Contract.end_date >= d)


def _compounds(m: Membership):
    if m.role in ("street_staff", "community_staff"):
        return select(Compound.id).where(Compound.community_id.in_(_communities(m)))
    if m.role in FIRM_ROLES:
        return select(Contract.compound_id).where(Contract.firm_id == m.firm_id, _active_contracts())
    if m.role == "committee_member":
        return select(Compound.id).where(Compound.id == m.compound_id)
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


def _any(*clauses):
    """OR of the clauses, staying the plain `false()` when none can match."""
    live = [c for c in clauses if c is not false()]
    return or_(*live) if live else false()


def visible(m: Membership, model):
    """A WHERE clause limiting `model` to what `m` may see."""
    if model is User:
        # Accounts are not tenant-owned, so no tenant filter guards them (hence before the
        # district shortcut): a user is "here" through a membership of this district in scope.
        return User.id.in_(select(Membership.user_id).where(
            Membership.tenant_id == m.tenant_id, visible(m, Membership)))
    if m.role == DISTRICT:
        return true()
    comps, comms, firms = _compounds(m), _communities(m), _firms(m)

    def within(col, sub):
        return col.in_(sub) if sub is not None else false()

    if model is Street:
        if m.role == "street_staff":
            return Street.id == m.street_id
        if m.role == "community_staff":
            return Street.id.in_(select(Community.street_id).where(Community.id == m.community_id))
        return false()
    if model is Community:
        return within(Community.id, comms)
    if model is Grid:
        return within(Grid.community_id, comms)
    if model is Compound:
        return within(Compound.id, comps)
    if model in (Building, Household, Committee):
        return within(model.compound_id, comps)
    if model is HouseholdClassLink:
        return within(HouseholdClassLink.household_id,
                      None if comps is None else select(Household.id).where(Household.compound_id.in_(comps)))
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
    if model in (Bill, SubsidyClaim):
        if m.role in FIRM_ROLES:
            return model.firm_id == m.firm_id
        return within(model.compound_id, comps)
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
