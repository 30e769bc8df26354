"""待办: what is waiting for one membership to act, as counts with a link to the list that shows
those items.

Every count goes through the policy's scope (`policy.visible`), and wherever the list page has a
filter for the set, the count is taken from that list's own select function with the same
arguments the link passes, so the card and the list it opens cannot disagree. Where a list has
no such filter the card says so (`exact=False`: the link opens the nearest list).

The flat counts of a membership are sent as one statement (one scalar subquery each); the
per-evaluation counts are one grouped query per kind of step; objections need the keeper rule
of `publicity.checks` per row, read over the unfinished objections in scope only. No query per
record, so the landing page's query count does not grow with the district.

The statements depend on the membership's scope and the day only (the time of the request is
the bound parameter `todo_at`), so they are built once per scope and day (`policy.built`) and
only run on each request: building them was most of the landing page's time.

Plain functions, no Flask request: the view passes the membership and the clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..auth.models import Membership
from ..committees import logic as committees
from ..contracts import filing as filings
from ..demands import logic as demands
from ..demands.models import Demand
from ..evaluation import cycles, publishing, workflow
from ..exits import logic as exits
from ..exits.models import FirmExit
from ..evaluation.models import Assessment, AssessorAssignment, Evaluation, ItemScore, StandardItem
from ..extensions import db, kept_row
from ..tenancy import kept
from ..fees import claims
from ..followups import logic as followups
from ..followups.models import FollowUp
from ..hiring import logic as hiring
from ..matters import logic as matter_filings
from ..meetings import cadence, logic as meetings
from ..meetings.models import KINDS, LEVELS
from ..publicity import checks, fund
from ..publicity.models import Objection, Publication
from ..votes import logic as votes
from ..votes.models import FundApplication

FIRM_ROLES = policy.FIRM_ROLES


@dataclass
class Card:
    """One to-do count. The link is `url_for(endpoint, **args)`; `exact` is False when the list
    has no filter for exactly this set and the link opens the nearest list instead."""
    key: str
    label: str
    count: int
    endpoint: str
    args: dict = field(default_factory=dict)
    note: str = ""          # a second line: what is overdue, which evaluation
    danger: bool = False    # something in it is overdue
    exact: bool = True
    hint: str = ""          # where to find the items when the link is not exact


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _count_of(stmt):
    """SELECT count(*) over a list's select (its ordering and eager loads dropped)."""
    return select(func.count()).select_from(stmt.order_by(None).subquery())


# The request's time (UTC) in the kept statements: demand deadlines.
AT = bindparam("todo_at")


class _Batch:
    """Counts sent together: one statement, one scalar subquery per count."""

    def __init__(self):
        self._stmts = []

    def add(self, stmt) -> int:
        self._stmts.append(stmt)
        return len(self._stmts) - 1

    def statement(self):
        return kept(select(*[s.scalar_subquery() for s in self._stmts])) if self._stmts else None


@dataclass
class _Spec:
    """A card whose count (and optional note count) comes from the batch."""
    key: str
    label: str
    endpoint: str
    args: dict
    count: int                      # index into the batch
    note: str = ""                  # "其中 {n} 件已逾期": formatted with the note count
    note_count: int | None = None   # index into the batch
    exact: bool = True
    hint: str = ""


# --- demands ------------------------------------------------------------------------------------

def _demand_specs(m: Membership, at, batch: _Batch) -> list[_Spec]:
    def tab(name):
        return _count_of(demands.demands_select(m, demands.Filters(tab=name), at))

    def status(value, overdue=False):
        stmt = select(func.count(Demand.id)).where(policy.visible(m, Demand), Demand.status == value)
        return stmt.where(demands.overdue_clause(at)) if overdue else stmt

    if m.role in FIRM_ROLES or m.role == policy.DEPARTMENT:
        # Dispatched to this firm (or department): its turn to accept (接单), then to resolve
        # (办结); each card opens the list's tab of that step.
        return [
            _Spec("demands_dispatched", "待接单诉求", "demands.index", {"tab": "dispatched"},
                  batch.add(tab("dispatched")), "其中 {n} 件已逾期", batch.add(status("dispatched", True))),
            _Spec("demands_accepted", "处理中诉求", "demands.index", {"tab": "accepted"},
                  batch.add(tab("accepted")), "其中 {n} 件已逾期", batch.add(status("accepted", True))),
        ]
    if m.role == "community_staff":
        return [
            _Spec("demands_new", "待派单诉求", "demands.index", {"tab": "new"}, batch.add(tab("new")),
                  "其中 {n} 件已逾期", batch.add(status("new", True))),
            _Spec("demands_resolved", "待回访诉求", "demands.index", {"tab": "resolved"}, batch.add(tab("resolved"))),
        ]
    if m.role == "street_staff":
        return [_Spec("demands_escalated", "已升级街道诉求", "demands.index", {"tab": "escalated"},
                      batch.add(tab("escalated")))]
    if m.role == policy.GRID:
        # 网格员 follow their grid's demands through the community's dispatch and the handling.
        return [_Spec("demands_new", "网格内待派单诉求", "demands.index", {"tab": "new"}, batch.add(tab("new"))),
                _Spec("demands_handling", "网格内处理中诉求", "demands.index", {"tab": "handling"},
                      batch.add(tab("handling")), "其中 {n} 件已逾期",
                      batch.add(select(func.count(Demand.id)).where(
                          policy.visible(m, Demand), Demand.status.in_(("dispatched", "accepted")),
                          demands.overdue_clause(at))))]
    return []


# --- publicity: checks, objections; votes and maintenance-fund applications --------------------

def _committee_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    if m.role != "committee_member":
        return []
    specs = [_Spec("publications_unchecked", "待核对公示", "checks.index",
                   {"view": "publications", "state": "unchecked"},
                   batch.add(_count_of(checks.publications_select(m, "unchecked"))))]
    if policy.can(m, "run", "vote"):
        for status, key, label in (("open", "votes_open", "进行中的表决"),
                                   ("draft", "votes_draft", "待报备社区的表决"),
                                   ("filed", "votes_filed", "待公示的表决")):
            specs.append(_Spec(key, label, "votes.index", {"status": status},
                               batch.add(_count_of(votes.votes_select(m, status=status)))))
    return specs


def _fund_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    specs = []
    level = next((lv for lv, role in votes.REVIEWER.items() if role == m.role), None)
    if level and policy.can(m, "review", "fund_review"):
        specs.append(_Spec("funds_review", "待审核维修资金申请", "funds.index", {"status": level},
                           batch.add(_count_of(votes.applications_select(m, status=level)))))
    kind = votes.applicant_kind(m)
    if kind and policy.can(m, "apply", "fund_apply"):
        # Returned to the applicant: its own (firm or committee) applications. The list's
        # 已退回 filter also shows the other applicant's, if any, of the same compounds.
        own = votes.applications_select(m, status="returned").where(
            FundApplication.applicant == kind)
        specs.append(_Spec("funds_returned", "已退回的维修资金申请", "funds.index", {"status": "returned"},
                           batch.add(_count_of(own)), exact=False))
    return specs


def _fund_low_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    """Compounds whose maintenance fund is below 30% of its first deposit: the committee must
    urge the owners to top it up (北京 第83条), the community oversees it. The list's 不足 30%
    filter is the same select."""
    if m.role not in ("community_staff", "committee_member"):
        return []
    low = batch.add(_count_of(fund.compounds_select(m, low=True)))
    return [_Spec("fund_low", "维修资金不足首期交存额 30% 的小区", "fund.index", {"low": "1"}, low,
                  "须督促业主及时续筹（北京条例第八十三条）", low)]


def _filing_specs(m: Membership, on: date, batch: _Batch) -> list[_Spec]:
    """合同备案 waiting for this reviewer's step (三级联审), with those past their deadline; and a
    firm's returned filings."""
    specs = []
    waiting = filings.todo_select(m)
    if waiting is not None:
        level = next(lv for lv, role in filings.REVIEWER.items() if role == m.role)
        specs.append(_Spec("filings_review", "待审核合同备案", "contracts.index", {"status": level},
                           batch.add(_count_of(waiting)), "其中 {n} 件已超过审核时限",
                           batch.add(_count_of(waiting.where(filings.overdue_clause(on))))))
    if filings.is_filer(m):
        specs.append(_Spec("filings_returned", "已退回的合同备案", "contracts.index", {"status": "returned"},
                           batch.add(_count_of(filings.filings_select(m, "returned")))))
    return specs


def _matter_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    """重大事项报备: the street's filings to acknowledge (the party report noted), the
    community's to note as reported to the party organisation."""
    waiting = matter_filings.todo_select(m)
    if waiting is None:
        return []
    label = "待签收的重大事项报备" if m.role == "street_staff" else "待登记报告社区党组织的重大事项"
    # The list's 待街道签收 filter also shows the filings at the other step.
    hint = "“社区党组织”一栏为“已报告”的" if m.role == "street_staff" else "“社区党组织”一栏为“待登记”的"
    return [_Spec("matters_waiting", label, "matters.index", {"status": "filed"},
                  batch.add(_count_of(waiting)), exact=False, hint=hint)]


def objections_waiting(m: Membership) -> int:
    """Objections whose next step is this membership's (`checks.next_step`): the keeper answers,
    the committee accepts or escalates, the community decides. Who keeps a publication is a
    district setting read per row, so the unfinished objections in scope are read (one query)
    and the keepers only when there are any. The same set as the list's 待我处理 scope."""
    if m.role not in FIRM_ROLES | {"committee_member", "community_staff"}:
        return 0
    pending = db.session.execute(policy.built("todo.objections", m, lambda: (
        select(Objection).where(policy.visible(m, Objection),
                                Objection.status.in_(("open", "answered", "escalated")))
        .options(joinedload(Objection.publication).joinedload(Publication.compound))))).scalars().all()
    if not pending:
        return 0
    ctx = checks.context(m)
    return sum(1 for o in pending if checks.next_step(o, m, ctx))


OBJECTION_LABELS = {"committee_member": "待处理质询", "community_staff": "待裁决质询"}


# --- fees, appeals, evaluations, follow-ups, meetings, formations ------------------------------

def _district_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    specs = []
    if policy.can(m, "decide", "claim_decide"):
        specs.append(_Spec("claims_submitted", "待审核补贴申领", "claims.index", {"status": "submitted"},
                           batch.add(_count_of(claims.claims_select(m, status="submitted")))))
    if policy.can(m, "submit", "claim_submit"):
        specs.append(_Spec("claims_rejected", "已退回的补贴申领", "claims.index", {"status": "rejected"},
                           batch.add(_count_of(claims.claims_select(m, status="rejected")))))
    if policy.can(m, "decide", "appeal_decide"):
        specs.append(_Spec("appeals_open", "待裁定申诉", "results.appeals", {"status": "open"},
                           batch.add(_count_of(publishing.appeals_select(m, "open")))))
    if policy.can(m, "publish", "evaluation"):
        # Finalized: the results job computes, then the district publishes (发布).
        specs.append(_Spec("evaluations_finalized", "待发布的考核", "evaluations.index", {"status": "finalized"},
                           batch.add(_count_of(cycles.evaluations_select(m, status="finalized")))))
    return specs


def _staff_specs(m: Membership, on: date, batch: _Batch) -> list[_Spec]:
    specs = []
    if m.role == "street_staff":
        specs.append(_Spec("escalations_pending", "待上会事项", "meetings.pending", {},
                           batch.add(_count_of(meetings.escalations_select(m, "pending", level="street")))))
    if m.role == policy.DISTRICT:
        # What street meetings escalated to the 全区物业管理联席会议, not on its agenda yet.
        specs.append(_Spec("escalations_district", "待上区联席会议的事项", "meetings.pending", {},
                           batch.add(_count_of(meetings.escalations_select(m, "pending", level="district")))))
    if policy.can(m, "open", "formation"):
        specs.append(_Spec("formations_active", "进行中的组建/换届", "committees.formations", {"status": "active"},
                           batch.add(_count_of(committees.formations_select(m, "active")))))
        # 物业管理条例 第十六条: elected committees not filed within 30 days.
        specs.append(_Spec("formations_overdue", "逾期未备案的业委会", "committees.formations", {"status": "overdue"},
                           batch.add(_count_of(committees.formations_select(m, "overdue", day=on)))))
    if policy.can(m, "close", "followup"):
        open_ = followups.follow_ups_select(m, "open")
        specs.append(_Spec("followups_open", "待办督办", "followups.index", {"status": "open"},
                           batch.add(_count_of(open_)), "其中 {n} 件已过期",
                           batch.add(_count_of(open_.where(FollowUp.due_on < on)))))
    return specs


def _exit_specs(m: Membership, on: date, batch: _Batch) -> list[_Spec]:
    """Exits: staff and the committee follow those of their compounds (and the overdue ones); a
    firm the compounds it leaves and those whose handover it signs as the incoming firm."""
    if m.role in FIRM_ROLES:
        out, in_ = exits.exits_select(m, "open", side="out"), exits.exits_select(m, "open", side="in")
        return [_Spec("exits_out", "本企业退出中的项目", "exits.index", {"tab": "open", "side": "out"},
                      batch.add(_count_of(out)), "其中 {n} 个已过交接期限",
                      batch.add(_count_of(out.where(FirmExit.deadline_on < on)))),
                _Spec("exits_in", "待签收的交接", "exits.index", {"tab": "open", "side": "in"},
                      batch.add(_count_of(in_)))]
    if m.role not in ("street_staff", "community_staff", "committee_member", "district_admin"):
        return []
    return [_Spec("exits_open", "进行中的退出交接", "exits.index", {"tab": "open"},
                  batch.add(_count_of(exits.exits_select(m, "open")))),
            _Spec("exits_overdue", "逾期未完成交接", "exits.index", {"tab": "overdue"},
                  batch.add(_count_of(exits.exits_select(m, "overdue", on=on))), "已过交接期限 {n} 个",
                  batch.add(_count_of(exits.exits_select(m, "overdue", on=on))))]
def _hiring_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    """选聘: a firm's manager — open tenders it has not applied to and its contract drafts to sign;
    the side acting for the owners (committee, or community 代行) — the selection steps waiting
    for it. Each card opens the list's tab, counted by that tab's own select."""
    def tab(name):
        return batch.add(_count_of(hiring.selections_select(m, name, check_bar=False)))   # bars: `cards`

    if m.role == "firm_manager" and policy.can(m, "apply", "tender_apply"):
        return [_Spec("hiring_apply", "可报名的招标", "hiring.index", {"tab": "apply"}, tab("apply")),
                _Spec("hiring_sign", "待签订的物业服务合同", "hiring.index", {"tab": "sign"}, tab("sign"))]
    if m.role in ("committee_member", "community_staff") and policy.can(m, "run", "selection"):
        return [_Spec("hiring_prepare", "待提名或发布的选聘", "hiring.index", {"tab": "prepare"}, tab("prepare")),
                _Spec("hiring_scoring", "待评标的招标", "hiring.index", {"tab": "scoring"}, tab("scoring")),
                _Spec("hiring_sign", "待签订的物业服务合同", "hiring.index", {"tab": "sign"}, tab("sign"))]
    return []


def _action_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    """A department's 交办事项: the meetings' action items given to it, not done yet."""
    if m.role != policy.DEPARTMENT:
        return []
    return [_Spec("meetings_actions", "待落实的交办事项", "meetings.actions", {"state": "open"},
                  batch.add(_count_of(meetings.actions_select(m, "open"))), "其中 {n} 项已逾期",
                  batch.add(_count_of(meetings.actions_select(m, "overdue"))))]


def _meeting_specs(m: Membership, batch: _Batch) -> list[_Spec]:
    """Planned meetings: the community's and the street's own (they hold and record them), and
    those about a firm's or committee's compounds (they attend)."""
    level = {"community_staff": "community", "street_staff": "street", policy.DISTRICT: "district"}.get(m.role)
    if level is None and m.role not in FIRM_ROLES | {"committee_member"}:
        return []
    args = {"tab": "upcoming", **({"level": level} if level else {})}
    label = {"street": "即将召开的街道会议", "district": "即将召开的区联席会议"}.get(level, "即将召开的会议")
    return [_Spec("meetings_upcoming", label, "meetings.index", args,
                  batch.add(_count_of(meetings.meetings_select(m, "upcoming", level=level))))]


# --- evaluation steps, per evaluation -------------------------------------------------------------
# SQL forms of evaluation.workflow's "may act now" rules; tests/test_dashboard_todo.py checks them
# against the workflow's own functions. Whether a step is open depends on the assessment's status
# and its evaluation only, so each evaluation's list filtered by status shows exactly the count.

def self_report_open(on: date):
    """workflow.self_report_closed(a) is None: a draft while the cycle is 自评中 until the end of
    自评截止, a returned report while the cycle is active until the end of 审核截止."""
    return or_(and_(Assessment.status == "draft", Evaluation.status == "open", Evaluation.self_report_due >= on),
               and_(Assessment.status == "returned", Evaluation.status.in_(workflow.ACTIVE_CYCLE),
                    Evaluation.review_due >= on))


def review_open(on: date):
    """workflow.review_closed(a) is None: submitted, or the firm's turn is over (firm_turn_over)."""
    return and_(Evaluation.status.in_(workflow.ACTIVE_CYCLE),
                or_(Assessment.status == "submitted",
                    and_(Assessment.status == "draft", Evaluation.self_report_due < on),
                    and_(Assessment.status == "returned", Evaluation.review_due < on)))


def confirm_open():
    """workflow.confirm_closed(a) is None."""
    return and_(Evaluation.status.in_(workflow.ACTIVE_CYCLE), Assessment.status == "reviewed")


STEP_LABELS = {
    ("self", "draft"): "待自评", ("self", "returned"): "退回修改的自评",
    ("review", "submitted"): "待审核自评", ("review", "draft"): "逾期未自评（待评分）",
    ("review", "returned"): "退回逾期未改（待评分）", ("confirm", "reviewed"): "待街道确认",
}


def _assessment_cards(m: Membership, on: date) -> list[Card]:
    """The steps of the evaluation workflow waiting for this membership, one card per evaluation
    and status (its list: `evaluations.detail?status=…`). The reviewer of a compound's assessment
    is its community and the confirmer its street; of a firm-wide one, the district (workflow
    .is_reviewer / is_confirmer)."""
    stmt = policy.built("todo.assessments", m, lambda: _assessment_select(m, on), on)
    if stmt is None:
        return []
    cards = []
    for ev_id, name, self_due, review_due, step, status, n in db.session.execute(stmt).all():
        label = STEP_LABELS.get((step, status))
        if label is None:
            continue
        note = name
        if step == "self":
            note += f" · {_day(self_due if status == 'draft' else review_due)}截止"
        cards.append(Card(f"assessments_{step}_{status}_{ev_id}", label, n, "evaluations.detail",
                          {"evaluation_id": ev_id, "status": status}, note))
    return cards


def _assessment_select(m: Membership, on: date):
    steps = []
    if m.role in FIRM_ROLES and policy.can(m, "write", "self_report"):
        steps.append(("self", self_report_open(on)))
    if policy.can(m, "write", "review"):
        whose = Assessment.compound_id.is_(None) if m.role == policy.DISTRICT else Assessment.compound_id.is_not(None)
        steps.append(("review", and_(review_open(on), whose)))
    if policy.can(m, "write", "confirm"):
        whose = Assessment.compound_id.is_(None) if m.role == policy.DISTRICT else Assessment.compound_id.is_not(None)
        steps.append(("confirm", and_(confirm_open(), whose)))
    if not steps:
        return None
    step_of = case(*[(clause, name) for name, clause in steps])
    return (
        select(Evaluation.id, Evaluation.name, Evaluation.self_report_due, Evaluation.review_due,
               step_of.label("step"), Assessment.status, func.count(Assessment.id))
        .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
        .where(policy.visible(m, Assessment), or_(*[clause for _, clause in steps]))
        .group_by(Evaluation.id, Evaluation.name, Evaluation.self_report_due, Evaluation.review_due,
                  "step", Assessment.status)
        .order_by(Evaluation.self_report_due, Evaluation.id))


def _finalize_cards(m: Membership) -> list[Card]:
    """Cycles every assessment of which the street has confirmed: ready for 定稿
    (publishing.finalize_problem is None)."""
    if not policy.can(m, "finalize", "evaluation"):
        return []
    # A running cycle has unconfirmed assessments: the first one found ends its look (it counted
    # all of them, a thousand at 1,000 compounds, on every landing page); only a ready cycle's
    # are counted.
    def of_cycle():
        return select(Assessment.id).where(Assessment.evaluation_id == Evaluation.id)
    rows = db.session.execute(policy.built("todo.finalize", m, lambda: (
        select(Evaluation.id, Evaluation.name,
               select(func.count(Assessment.id)).where(Assessment.evaluation_id == Evaluation.id).scalar_subquery())
        .where(policy.visible(m, Evaluation), Evaluation.status.in_(workflow.ACTIVE_CYCLE),
               of_cycle().exists(), ~of_cycle().where(Assessment.status != "confirmed").exists())
        .order_by(Evaluation.id)))).all()
    return [Card(f"evaluations_ready_{ev_id}", "待定稿的考核对象", n, "evaluations.detail",
                 {"evaluation_id": ev_id, "status": "confirmed"}, f"{name} · 已全部街道确认") for ev_id, name, n in rows]


def _assessor_cards(m: Membership) -> list[Card]:
    """An assessor's assessments that still have an assigned item without its score, in cycles
    still open for scoring (workflow.assess_closed is None). The cycle's list shows all of its
    assessments: it has no filter for the unscored ones."""
    if m.role != "assessor" or not policy.can(m, "write", "assess"):
        return []
    rows = db.session.execute(policy.built("todo.assessor", m, lambda: (
        select(Evaluation.id, Evaluation.name, func.count(func.distinct(Assessment.id)))
        .join(Assessment, Assessment.evaluation_id == Evaluation.id)
        .join(ItemScore, ItemScore.assessment_id == Assessment.id)
        .join(AssessorAssignment, and_(AssessorAssignment.evaluation_id == Evaluation.id,
                                       AssessorAssignment.item_id == ItemScore.item_id))
        .where(AssessorAssignment.membership_id == m.id, policy.visible(m, Assessment),
               Evaluation.status.in_(workflow.ACTIVE_CYCLE), Assessment.status != "finalized",
               ItemScore.review_points.is_(None))
        .group_by(Evaluation.id, Evaluation.name).order_by(Evaluation.id)))).all()
    return [Card(f"assess_{ev_id}", "待测评打分", n, "evaluations.detail", {"evaluation_id": ev_id}, name,
                 exact=False, hint="尚有指派指标未打分") for ev_id, name, n in rows]


def _committee_score_cards(m: Membership) -> list[Card]:
    """The committee's items (业委会履约评价) still unscored in its compound's assessments whose
    committee turn is open (workflow.committee_closed is None), one card per assessment, linked to
    its score sheet (which also lists the items already scored)."""
    if m.role != "committee_member" or not policy.can(m, "write", "committee_score"):
        return []
    rows = db.session.execute(policy.built("todo.committee_score", m, lambda: (
        select(Assessment.id, Evaluation.name, func.count(ItemScore.id))
        .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
        .join(ItemScore, ItemScore.assessment_id == Assessment.id)
        .join(StandardItem, StandardItem.id == ItemScore.item_id)
        .where(policy.visible(m, Assessment), Assessment.compound_id == m.compound_id,
               Evaluation.status.in_(workflow.ACTIVE_CYCLE), Assessment.status.in_(workflow.COMMITTEE_OPEN),
               StandardItem.scorer == "committee", ItemScore.review_points.is_(None))
        .group_by(Assessment.id, Evaluation.name).order_by(Assessment.id)))).all()
    return [Card(f"assess_committee_{aid}", "待业委会评价的考核项", n, "assessments.detail", {"assessment_id": aid},
                 f"{name} · 社区审核前完成", exact=False, hint="评分页同时列出已评价的项") for aid, name, n in rows]


def _cadence_cards(m: Membership, on: date) -> list[Card]:
    """Staff: the meetings the district's cadence required in the last finished period and their
    community (street: its communities or itself; the district admin: the district's joint
    meeting) did not hold (meetings/cadence.py)."""
    if m.role not in ("community_staff", "street_staff", policy.DISTRICT):
        return []
    return [Card(f"meetings_missed_{c.level}_{c.kind}", f"上一期未召开的{LEVELS[c.level]}{KINDS[c.kind]}", n,
                 "meetings.cadence_page", danger=True, exact=False, hint="在会议召开情况中标红")
            for c, n in cadence.missed_last(m, on)]


def _appeal_window_card(m: Membership, on: date) -> list[Card]:
    """The firm manager's published results still inside their appeal window (申诉期, inclusive;
    publishing.appeal_window_problem). Its results page lists its whole history."""
    if m.role != "firm_manager" or not policy.can(m, "file", "appeal"):
        return []
    row = db.session.execute(policy.built("todo.appeal_window", m, lambda: (
        select(func.count(Assessment.id), func.max(Evaluation.appeal_until))
        .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
        .where(policy.visible(m, Assessment), Evaluation.status == "published",
               Evaluation.appeal_until.is_not(None), Evaluation.appeal_until >= on)), on)).one()
    n, until = row
    if not n:
        return []
    return [Card("appeal_window", "申诉期内的考核结果", n, "results.firm", {}, f"申诉期至 {_day(until)}",
                 exact=False)]


# --- all together ---------------------------------------------------------------------------------

def _flat(m: Membership, on: date):
    """The flat cards' specs and the one statement counting them (the time: `AT`)."""
    batch = _Batch()
    specs = (_demand_specs(m, AT, batch) + _committee_specs(m, batch) + _district_specs(m, batch)
             + _staff_specs(m, on, batch) + _fund_specs(m, batch) + _fund_low_specs(m, batch)
             + _filing_specs(m, on, batch)
             + _exit_specs(m, on, batch) + _hiring_specs(m, batch)
             + _meeting_specs(m, batch) + _action_specs(m, batch) + _matter_specs(m, batch))
    return specs, batch.statement()


def cards(m: Membership, at: datetime, on: date, standing=None) -> list[Card]:
    """The membership's to-do cards with something waiting (count > 0), most pressing first.
    `at`: now (UTC, for demand deadlines); `on`: today in Shanghai (dates, deadlines by day);
    `standing`: a firm's credit standing today, when the page has read it (its tender bars)."""
    specs, stmt = policy.built("todo.flat", m, lambda: _flat(m, on), on)
    counts = [int(n or 0) for n in kept_row(stmt, {"todo_at": at})] if stmt is not None else []
    flat = []
    for s in specs:
        n = counts[s.count]
        if s.key == "hiring_apply" and hiring.barred(m, hiring.today(), standing):
            n = 0   # a barred firm may apply to none (the list's 可报名 tab is empty too)
        late = counts[s.note_count] if s.note_count is not None else 0
        flat.append(Card(s.key, s.label, n, s.endpoint, s.args, s.note.format(n=late) if late else "",
                         danger=bool(late), exact=s.exact, hint=s.hint))
    waiting = objections_waiting(m)
    objection = Card("objections", OBJECTION_LABELS.get(m.role, "待答复质询"), waiting, "checks.index",
                     {"view": "objections", "scope": "todo"})
    out = flat + _assessment_cards(m, on) + _finalize_cards(m) + _assessor_cards(m) + _committee_score_cards(m) \
        + [objection] + _cadence_cards(m, on) + _appeal_window_card(m, on)
    return sorted((c for c in out if c.count > 0), key=_rank)   # stable: each group keeps its order


# The order on the page: the daily work first (demands, checks), then decisions, the evaluation
# steps, objections, supervision, reviews of fund applications, meetings, the appeal window.
ORDER = ("demands_", "publications_", "votes_", "claims_", "appeals_", "assessments_", "evaluations_",
         "assess_", "objections", "escalations_", "formations_", "followups_", "funds_", "fund_low", "filings_",
         "exits_",
         "hiring_", "meetings_", "appeal_window")


def _rank(card: Card) -> int:
    return next((i for i, prefix in enumerate(ORDER) if card.key.startswith(prefix)), len(ORDER))
