"""Evaluation cycles (月抽查、季测评、年度考核): open one on a standard version for chosen firms,
create its assessments and item-score rows in bulk, move it into review, list cycles with
their progress. Plain functions: they flush, the caller commits; a refusal raises
CycleProblem (Chinese message, field name) having written nothing.

Who is assessed: per compound, every contract of a chosen firm that is in force at some
point of the period gives one assessment (firm × compound; a compound that changed firms in
the period is assessed for both); firm-wide, one assessment per chosen firm.

加大抽查频次: a 月抽查 always includes every firm that carries an active 加大抽查频次 flag on the
day it is opened (credit/consequences.py) and has a contract in the period — whether ticked or
not — so per compound, all of its compounds are checked every month while the flag lasts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from .. import audit, events, policy
from ..auth.models import Membership, User
from ..extensions import db
from ..org.models import Compound, Contract, Firm
from ..tenancy import current_tenant_id
from ..timeutil import today
from .models import (
    CYCLE_KINDS, EVALUATION_STATUSES, Assessment, AssessorAssignment, Evaluation, ItemScore, Standard, StandardItem,
)

CHUNK = 5000
APPEAL_DAYS = (1, 60)
# Statuses an assessment passes after the firm's self-report (the "已提交" progress count).
PAST_SELF_REPORT = ("submitted", "reviewed", "confirmed", "finalized")


class CycleProblem(ValueError):
    def __init__(self, message: str, field: str = "name"):
        super().__init__(message)
        self.message = message
        self.field = field


# --- what the "发起考核" form offers -----------------------------------------------------------

def usable_standards() -> list[Standard]:
    """Active versions only: a draft has not been checked to add up, a retired one is replaced."""
    return list(db.session.execute(select(Standard).where(Standard.status == "active")
                                   .order_by(Standard.name, Standard.version.desc())).scalars())


def _in_period(start: date, end: date):
    return Contract.in_force(start, end)


def firms_in_period(start: date, end: date) -> list[tuple[Firm, int]]:
    """Firms with a contract in force at some point of the period, with how many compounds."""
    n = func.count(func.distinct(Contract.compound_id))
    rows = db.session.execute(select(Firm, n).join(Contract, Contract.firm_id == Firm.id)
                              .where(_in_period(start, end)).group_by(Firm.id).order_by(Firm.name, Firm.id)).all()
    return [(f, k) for f, k in rows]


def spot_check_firms(on: date) -> set[int]:
    """Firms a 月抽查 opened on `on` must include (an active 加大抽查频次 flag)."""
    from ..credit.consequences import firms_with_flag  # lazy: credit is another area
    return firms_with_flag("more_spot_checks", on)


def _quarter_of(d: date) -> tuple[date, date]:
    q0 = 3 * ((d.month - 1) // 3) + 1
    first = date(d.year, q0, 1)
    nxt = date(d.year + (q0 == 10), 1 if q0 == 10 else q0 + 3, 1)
    return first, nxt - timedelta(days=1)


def suggest(kind: str, on: date) -> dict:
    """Defaults for a new cycle opened on `on`: the period that has just ended (a quarter is
    evaluated after it closes), a name like “2026年第3季度季测评”, ten days to self-report and
    ten more to review, seven days to appeal."""
    if kind == "monthly":
        end = date(on.year, on.month, 1) - timedelta(days=1)
        start = date(end.year, end.month, 1)
        name = f"{start.year}年{start.month}月月抽查"
    elif kind == "annual":
        start, end = date(on.year - 1, 1, 1), date(on.year - 1, 12, 31)
        name = f"{start.year}年度考核"
    else:
        kind = "quarterly"
        start, end = _quarter_of(_quarter_of(on)[0] - timedelta(days=1))
        name = f"{start.year}年第{(start.month - 1) // 3 + 1}季度季测评"
    return {"kind": kind, "name": name, "period_start": start, "period_end": end,
            "self_report_due": on + timedelta(days=10), "review_due": on + timedelta(days=20), "appeal_days": 7}


# --- opening a cycle ----------------------------------------------------------------------------

def _check(standard: Standard | None, kind: str, name: str, period_start, period_end, self_report_due,
           review_due, appeal_days) -> None:
    if standard is None:
        raise CycleProblem("请选择考核标准。", "standard_id")
    if standard.status != "active":
        raise CycleProblem(f"“{standard.audit_label}”不是启用中的版本，不能用于考核；请先启用。", "standard_id")
    if not any(i.kind == "regular" for i in standard.items):
        raise CycleProblem("该考核标准还没有基本考核项。", "standard_id")
    if kind not in CYCLE_KINDS:
        raise CycleProblem("请选择考核类型（月抽查、季测评或年度考核）。", "kind")
    if not name:
        raise CycleProblem("请填写考核名称。", "name")
    if len(name) > 100:
        raise CycleProblem("考核名称不能超过 100 个字。", "name")
    if db.session.execute(select(Evaluation.id).where(Evaluation.name == name)).first():
        raise CycleProblem(f"已有名为“{name}”的考核，请换一个名称。", "name")
    if period_start is None or period_end is None:
        raise CycleProblem("请填写考核期间的起止日期。", "period_start" if period_start is None else "period_end")
    if period_end < period_start:
        raise CycleProblem("考核期间的结束日期不能早于开始日期。", "period_end")
    if self_report_due is None:
        raise CycleProblem("请填写企业自评截止日期。", "self_report_due")
    if self_report_due < period_start:
        raise CycleProblem("企业自评截止日期不能早于考核期间的开始日期。", "self_report_due")
    if review_due is None:
        raise CycleProblem("请填写审核截止日期。", "review_due")
    if review_due < self_report_due:
        raise CycleProblem("审核截止日期不能早于企业自评截止日期。", "review_due")
    if appeal_days is None or not APPEAL_DAYS[0] <= appeal_days <= APPEAL_DAYS[1]:
        raise CycleProblem(f"申诉期应为 {APPEAL_DAYS[0]} 到 {APPEAL_DAYS[1]} 天。", "appeal_days")


def _targets(firm_ids: list[int], per_compound: bool, start: date, end: date) -> list[tuple[int, int | None]]:
    """(firm, compound) pairs to assess, compound None for firm-wide; refuses a firm with no
    contract in the period."""
    wanted = sorted(set(firm_ids))
    pairs = db.session.execute(select(Contract.firm_id, Contract.compound_id).distinct()
                               .where(Contract.firm_id.in_(wanted), _in_period(start, end))
                               .order_by(Contract.firm_id, Contract.compound_id)).all()
    with_contract = {f for f, _ in pairs}
    missing = [f for f in wanted if f not in with_contract]
    if missing:
        names = db.session.execute(select(Firm.name).where(Firm.id.in_(missing)).order_by(Firm.name)).scalars().all()
        if len(names) < len(missing):
            raise CycleProblem("所选企业不存在。", "firm_ids")
        raise CycleProblem("以下企业在考核期间没有生效的物业服务合同：" + "、".join(names[:5])
                           + ("等" if len(names) > 5 else ""), "firm_ids")
    if per_compound:
        return [(f, c) for f, c in pairs]
    return [(f, None) for f in wanted]


def open_evaluation(m: Membership, standard: Standard | None, kind: str, name: str, period_start: date | None,
                    period_end: date | None, self_report_due: date | None, review_due: date | None,
                    appeal_days: int | None, firm_ids: list[int], per_compound: bool) -> Evaluation:
    """Open a cycle: the Evaluation (status open), one Assessment per target and one ItemScore
    per item of the standard per assessment, inserted in bulk; the standard version is frozen."""
    name = (name or "").strip()
    _check(standard, kind, name, period_start, period_end, self_report_due, review_due, appeal_days)
    if kind == "monthly":
        flagged = spot_check_firms(today())
        if flagged:
            in_period = set(db.session.execute(select(Contract.firm_id).where(
                Contract.firm_id.in_(flagged), _in_period(period_start, period_end))).scalars())
            firm_ids = sorted(set(firm_ids) | in_period)
    if not firm_ids:
        raise CycleProblem("请至少选择一家物业服务企业。", "firm_ids")
    targets = _targets(firm_ids, per_compound, period_start, period_end)
    ev = Evaluation(standard_id=standard.id, kind=kind, name=name, period_start=period_start, period_end=period_end,
                    status="open", self_report_due=self_report_due, review_due=review_due, appeal_days=appeal_days,
                    created_by_id=m.user_id)
    db.session.add(ev)
    db.session.flush()
    tid = current_tenant_id()
    for i in range(0, len(targets), CHUNK):
        db.session.execute(insert(Assessment), [
            {"tenant_id": tid, "evaluation_id": ev.id, "firm_id": f, "compound_id": c, "status": "draft",
             "return_note": "", "vetoed": False, "breakdown": {}} for f, c in targets[i:i + CHUNK]])
    item_ids = [i.id for i in standard.items]
    assessment_ids = db.session.execute(select(Assessment.id).where(Assessment.evaluation_id == ev.id)
                                        .order_by(Assessment.id)).scalars().all()
    rows = ({"tenant_id": tid, "assessment_id": a, "item_id": it, "self_note": "", "review_reason": "",
             "vetoed": False} for a in assessment_ids for it in item_ids)
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            db.session.execute(insert(ItemScore), batch)
            batch = []
    if batch:
        db.session.execute(insert(ItemScore), batch)
    # The bulk inserts bypass the ORM unit of work: one summary event for them.
    audit.record_event("create", "assessment", f"{name}：{len(assessment_ids)} 个考核对象",
                       {"evaluation_id": ev.id, "assessments": len(assessment_ids),
                        "item_scores": len(assessment_ids) * len(item_ids),
                        "unit": "compound" if per_compound else "firm"}, entity_id=ev.id)
    from . import standards  # the standards module owns what freezing means
    standards.freeze(standard)
    db.session.flush()
    return ev


def enter_review(ev: Evaluation) -> None:
    """自评中 → 审核中: firms can no longer self-report (a returned report may still be corrected)."""
    if ev.status != "open":
        raise CycleProblem(f"该考核当前“{_status(ev)}”，不能进入审核。", "status")
    ev.status = "reviewing"
    db.session.flush()


def _status(ev: Evaluation) -> str:
    return EVALUATION_STATUSES.get(ev.status, ev.status)


# --- assessors -----------------------------------------------------------------------------------

def assessor_items(ev: Evaluation) -> list[StandardItem]:
    return [i for i in ev.standard.items if i.scorer == "assessor" and i.method != "computed"]


def assessors() -> list[Membership]:
    """The district's active assessor memberships (第三方测评机构 accounts)."""
    return list(db.session.execute(select(Membership).join(User, User.id == Membership.user_id)
                                   .where(Membership.role == "assessor", Membership.active)
                                   .order_by(User.display_name, Membership.id)).scalars())


def assignments(ev: Evaluation) -> dict[int, int]:
    """item id → assessor membership id."""
    return dict(db.session.execute(select(AssessorAssignment.item_id, AssessorAssignment.membership_id)
                                   .where(AssessorAssignment.evaluation_id == ev.id)).all())


def assign_assessors(ev: Evaluation, choice: dict[int, int | None]) -> int:
    """Set (or clear, None) the assessor of each assessor-scored item; the number changed. One
    assessor per item, so two never overwrite each other's scores."""
    if ev.status not in ("open", "reviewing"):
        raise CycleProblem(f"该考核当前“{_status(ev)}”，不能再指派测评机构。", "assessors")
    items = {i.id for i in assessor_items(ev)}
    valid = {mm.id for mm in assessors()}
    current = {a.item_id: a for a in db.session.execute(
        select(AssessorAssignment).where(AssessorAssignment.evaluation_id == ev.id)).scalars()}
    for item_id, mid in choice.items():
        if item_id not in items:
            raise CycleProblem("只能为“第三方测评”打分的考核项指派测评机构。", "assessors")
        if mid is not None and mid not in valid:
            raise CycleProblem("所选测评机构账号不存在或已停用。", "assessors")
    changed, given = 0, {}
    for item_id, mid in choice.items():
        row = current.get(item_id)
        if row is not None and row.membership_id == mid:
            continue
        if row is not None:
            db.session.delete(row)
            db.session.flush()  # the unique row goes before its replacement comes
        if mid is not None:
            db.session.add(AssessorAssignment(evaluation_id=ev.id, item_id=item_id, membership_id=mid))
            given[mid] = given.get(mid, 0) + 1
        changed += 1
    db.session.flush()
    for mid, n in sorted(given.items()):   # each assessor is told of the items newly theirs
        events.emit("evaluation.assigned", "evaluation", ev.id, data={"membership_id": mid, "items": n})
    return changed


# --- lists ---------------------------------------------------------------------------------------

def evaluations_select(m: Membership, kind: str | None = None, status: str | None = None, q: str = ""):
    stmt = select(Evaluation).where(policy.visible(m, Evaluation))
    if kind:
        stmt = stmt.where(Evaluation.kind == kind)
    if status:
        stmt = stmt.where(Evaluation.status == status)
    if q.strip():
        stmt = stmt.where(Evaluation.name.contains(q.strip()))
    return stmt.order_by(Evaluation.period_end.desc(), Evaluation.id.desc())


@dataclass
class Progress:
    total: int = 0
    submitted: int = 0
    reviewed: int = 0
    confirmed: int = 0
    by_status: dict | None = None

    @property
    def pct(self) -> int:
        return round(100 * self.submitted / self.total) if self.total else 0


def progress(m: Membership, evaluation_ids: list[int]) -> dict[int, Progress]:
    """Per evaluation, the assessments in the membership's scope by status (one query)."""
    out = {i: Progress(by_status={}) for i in evaluation_ids}
    if not evaluation_ids:
        return out
    rows = db.session.execute(select(Assessment.evaluation_id, Assessment.status, func.count(Assessment.id))
                              .where(Assessment.evaluation_id.in_(evaluation_ids), policy.visible(m, Assessment))
                              .group_by(Assessment.evaluation_id, Assessment.status)).all()
    for eid, status, n in rows:
        p = out[eid]
        p.by_status[status] = n
        p.total += n
        if status in PAST_SELF_REPORT:
            p.submitted += n
        if status in ("reviewed", "confirmed", "finalized"):
            p.reviewed += n
        if status in ("confirmed", "finalized"):
            p.confirmed += n
    return out


def assessments_select(m: Membership, ev: Evaluation, status: str | None = None, q: str = ""):
    stmt = (select(Assessment).where(Assessment.evaluation_id == ev.id, policy.visible(m, Assessment))
            .join(Firm, Firm.id == Assessment.firm_id).outerjoin(Compound, Compound.id == Assessment.compound_id)
            # The joins the list sorts and searches by carry the firm and compound too (joined
            # again for loading they were two more joins to plan and a second pass over compounds).
            .options(contains_eager(Assessment.firm), contains_eager(Assessment.compound).joinedload(Compound.community)))
    if status:
        stmt = stmt.where(Assessment.status == status)
    if q.strip():
        stmt = stmt.where(or_(Firm.name.contains(q.strip()), Compound.name.contains(q.strip())))
    return stmt.order_by(Firm.name, Compound.name, Assessment.id)
