"""The district's publicity schedule: which publications are due how often, and which compounds
are late or missing them. Plain functions (flush only; the caller commits).

Rules of the computation:
- Periods are calendar months, quarters, half-years or years. The period that is due on a date
  `on` is the latest one whose deadline (period end + grace days) lies before `on`: on the
  deadline itself the firm or committee is still in time.
- A publication meets it when it has the requirement's kind (and ledger kind, for statements),
  covers the whole period, and was published (Shanghai date) on or before the deadline; one
  published later is "late"; none at all is "missing".
- A standing notice (长期公示) is met by any publication of its kind published by `on`.
- Some requirements bind only some compounds: the 物业费收支 statement those served under a
  酬金制 contract at the period's end (上海 第48条: the firm reports the year's income and spending
  and the next year's budget), and so do the 酬金制 yearly budget and final account (a budget:
  a 酬金制 contract on the first day of its year); the committee's own publications (its
  members' fees too) those with a committee then.
- A budget covers the year after the period due (AHEAD_KINDS): by the deadline of year Y the
  budget of year Y+1 is out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import select

from ..extensions import db
from ..org.models import MANAGEMENT_MODES, Compound
from ..timeutil import local
from .checks import COMMITTEE_KINDS, ledger_kind_of
from .models import FREQUENCIES, LEDGER_KINDS, PUBLICATION_KINDS, Publication, PublicityRequirement

MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
STATUSES = {"ok": "按时公示", "late": "逾期公示", "missing": "未公示"}

# The defaults one button seeds, as data, each with the rule it follows (RULES.md).
DEFAULTS = [
    {"kind": "ledger_statement", "ledger_kind": "public_revenue", "frequency": "quarterly", "grace_days": 15,
     "management_mode": None, "source": "民法典第282条；上海第66条、清远第57条：公共收益每季度公示"},
    {"kind": "ledger_statement", "ledger_kind": "maintenance_fund", "frequency": "yearly", "grace_days": 30,
     "management_mode": None,
     "source": "建设部/财政部令165：维修资金至少每年公布（上海第66条为每半年，可改为每半年）"},
    {"kind": "standing_notice", "ledger_kind": None, "frequency": "standing", "grace_days": 0,
     "management_mode": "专业物业",
     "source": "明码标价规定第六条：收费公示十一项（含价格举报电话12358），长期公示"},
    {"kind": "disclosure", "ledger_kind": None, "frequency": "half_yearly", "grace_days": 15,
     "management_mode": "专业物业",
     "source": "民法典第943条：物业服务人定期公开服务事项、收费、履约、维修资金及共有部分经营收益情况"},
    {"kind": "ledger_statement", "ledger_kind": "fee_account", "frequency": "yearly", "grace_days": 90,
     "management_mode": None,
     "source": "上海第48条：酬金制的物业服务企业每年报告上一年度物业服务项目收支情况并公告（仅酬金制小区）"},
    {"kind": "annual_account", "ledger_kind": None, "frequency": "yearly", "grace_days": 90,
     "management_mode": None,
     "source": "物业服务收费管理办法第十二条、上海第48条、北京第70条：酬金制的物业服务企业每年公布上一年度"
               "物业服务资金收支决算，默认次年3月底前（仅酬金制小区）"},
    {"kind": "annual_budget", "ledger_kind": None, "frequency": "yearly", "grace_days": 90,
     "management_mode": None,
     "source": "物业服务收费管理办法第十二条、上海第48条、北京第70条：酬金制的物业服务企业公布本年度物业服务资金"
               "收支预算，默认当年3月底前；宽限天数为0即须在年度开始前公布（仅酬金制小区）"},
]
# Offered with its rule when a district adds it (not seeded: 北京's rule, not every province's).
OPTIONAL = [
    {"kind": "committee_news", "ledger_kind": None, "frequency": "half_yearly", "grace_days": 15,
     "management_mode": None,
     "source": "北京第44条（八）：业委会定期向业主通报工作情况（仅有业委会的小区）"},
    {"kind": "committee_fees", "ledger_kind": None, "frequency": "half_yearly", "grace_days": 15,
     "management_mode": None,
     "source": "北京第44条（八）：业委会每半年公示委员、候补委员交纳物业费情况（仅有业委会的小区）"},
]
# Kinds under a 酬金制 contract only (the firm reports the owners' money it manages).
REMUNERATED_KINDS = ("annual_account", "annual_budget")
# A budget is for the coming year: the one due by a year's deadline (its end + grace days)
# covers the next year — the 2026 budget by 2026-03-31 with the default 90 days.
AHEAD_KINDS = ("annual_budget",)


class ScheduleProblem(ValueError):
    def __init__(self, message: str, field: str = "kind"):
        super().__init__(message)
        self.message = message
        self.field = field


def source_of(req: PublicityRequirement) -> str:
    for d in DEFAULTS + OPTIONAL:
        if (d["kind"], d["ledger_kind"]) == (req.kind, req.ledger_kind):
            return d["source"]
    return ""


def add_requirement(kind: str, ledger_kind: str | None, frequency: str, grace_days: int,
                    management_mode: str | None) -> PublicityRequirement:
    ledger_kind = ledger_kind or None
    management_mode = management_mode or None
    if kind not in PUBLICATION_KINDS:
        raise ScheduleProblem("请选择公示类型。", "kind")
    if kind == "ledger_statement" and ledger_kind not in LEDGER_KINDS:
        raise ScheduleProblem("账目公示须选择账目类型。", "ledger_kind")
    if kind != "ledger_statement" and ledger_kind:
        raise ScheduleProblem("只有账目公示需要选择账目类型。", "ledger_kind")
    if frequency not in FREQUENCIES:
        raise ScheduleProblem("请选择公示频次。", "frequency")
    if grace_days is None or not 0 <= grace_days <= 90:
        raise ScheduleProblem("宽限天数应在 0 到 90 之间。", "grace_days")
    if management_mode is not None and management_mode not in MANAGEMENT_MODES:
        raise ScheduleProblem("请选择管理模式。", "management_mode")
    dup = db.session.execute(select(PublicityRequirement.id).where(
        PublicityRequirement.kind == kind, PublicityRequirement.ledger_kind.is_(ledger_kind) if ledger_kind is None
        else PublicityRequirement.ledger_kind == ledger_kind,
        PublicityRequirement.management_mode.is_(None) if management_mode is None
        else PublicityRequirement.management_mode == management_mode)).first()
    if dup:
        raise ScheduleProblem("已有相同的公示要求（类型、账目、适用范围都相同）。", "kind")
    req = PublicityRequirement(kind=kind, ledger_kind=ledger_kind, frequency=frequency, grace_days=grace_days,
                               management_mode=management_mode)
    db.session.add(req)
    db.session.flush()
    return req


def seed_defaults() -> int:
    """Add the default requirements the district does not have yet; how many were added."""
    added = 0
    for d in DEFAULTS:
        try:
            add_requirement(d["kind"], d["ledger_kind"], d["frequency"], d["grace_days"], d["management_mode"])
            added += 1
        except ScheduleProblem:
            continue  # already configured (perhaps with other values): keep the district's choice
    return added


def requirements_select():
    return select(PublicityRequirement).order_by(PublicityRequirement.kind, PublicityRequirement.ledger_kind,
                                                 PublicityRequirement.id)


# --- periods -----------------------------------------------------------------------------------

def _add_months(d: date, n: int) -> date:
    y, mo = divmod(d.month - 1 + n, 12)
    return date(d.year + y, mo + 1, 1)


def period_containing(d: date, frequency: str) -> tuple[date, date]:
    n = MONTHS[frequency]
    start = date(d.year, (d.month - 1) // n * n + 1, 1)
    return start, _add_months(start, n) - timedelta(days=1)


def covered(kind: str, frequency: str, start: date, end: date) -> tuple[date, date]:
    """The period a publication of this kind must cover when (start, end) is the period due."""
    if kind in AHEAD_KINDS:
        return period_containing(end + timedelta(days=1), frequency)
    return start, end


def due_period(frequency: str, grace_days: int, on: date) -> tuple[date, date, date]:
    """(start, end, deadline) of the latest period whose deadline is before `on`."""
    start, end = period_containing(on, frequency)
    while end + timedelta(days=grace_days) >= on:
        start, end = period_containing(start - timedelta(days=1), frequency)
    return start, end, end + timedelta(days=grace_days)


# --- compliance --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    compound_id: int
    compound_name: str
    community_id: int
    requirement_id: int
    kind: str
    ledger_kind: str | None
    frequency: str
    period_start: date | None
    period_end: date | None
    deadline: date | None
    status: str                    # ok / late / missing
    publication_id: int | None
    published_on: date | None

    @property
    def label(self) -> str:
        name = PUBLICATION_KINDS[self.kind]
        return f"{name}（{LEDGER_KINDS[self.ledger_kind]}）" if self.ledger_kind else name


def _applies(req: PublicityRequirement, compound: Compound, bound: dict) -> bool:
    if req.management_mode is not None and req.management_mode != compound.management_mode:
        return False
    return req.id not in bound or compound.id in bound[req.id]


def _bound(reqs, ids: list[int], on: date) -> dict[int, set[int]]:
    """{requirement: the compounds it binds} for the requirements that bind only some: a 酬金制
    contract, or a committee, in office at the end of the period due (for a standing one, `on`)."""
    from ..org.models import Committee, Contract   # models only

    out = {}
    for req in reqs:
        end = on if req.frequency == "standing" else due_period(req.frequency, req.grace_days, on)[1]
        if req.ledger_kind == "fee_account" or req.kind in REMUNERATED_KINDS:
            if req.kind in AHEAD_KINDS and req.frequency != "standing":
                end += timedelta(days=1)   # a budget: the first day of its year
            stmt = select(Contract.compound_id).where(Contract.compound_id.in_(ids), Contract.in_force(end),
                                                      Contract.fee_mode == "酬金制")
        elif req.kind in COMMITTEE_KINDS:
            stmt = select(Committee.compound_id).where(Committee.compound_id.in_(ids), Committee.term_start <= end,
                                                       Committee.term_end >= end)
        else:
            continue
        out[req.id] = set(db.session.execute(stmt).scalars())
    return out


def compliance(compound_ids, on: date) -> list[Row]:
    """One row per compound and requirement that applies to it, for the period due on `on`."""
    ids = list(compound_ids)
    if not ids:
        return []
    reqs = db.session.execute(requirements_select()).scalars().all()
    compounds = db.session.execute(select(Compound).where(Compound.id.in_(ids)).order_by(Compound.name)).scalars().all()
    pubs: dict[int, list[tuple]] = {}
    for p in db.session.execute(select(Publication).where(Publication.compound_id.in_(ids))
                                .order_by(Publication.published_at)).scalars():
        pubs.setdefault(p.compound_id, []).append((p.id, p.kind, ledger_kind_of(p), p.period_start, p.period_end,
                                                   local(p.published_at).date()))
    bound = _bound(reqs, ids, on)
    rows = []
    for c in compounds:
        for req in reqs:
            if _applies(req, c, bound):
                rows.append(_row(c, req, pubs.get(c.id, []), on))
    return rows


def _row(c: Compound, req: PublicityRequirement, pubs: list[tuple], on: date) -> Row:
    matching = [p for p in pubs if p[1] == req.kind and (req.ledger_kind is None or p[2] == req.ledger_kind)
                and p[5] <= on]
    if req.frequency == "standing":
        first = matching[0] if matching else None
        return Row(c.id, c.name, c.community_id, req.id, req.kind, req.ledger_kind, req.frequency, None, None, None,
                   "ok" if first else "missing", first and first[0], first and first[5])
    start, end, deadline = due_period(req.frequency, req.grace_days, on)
    start, end = covered(req.kind, req.frequency, start, end)
    covering = [p for p in matching if p[3] and p[4] and p[3] <= start and p[4] >= end]
    in_time = next((p for p in covering if p[5] <= deadline), None)
    found = in_time or (covering[0] if covering else None)
    status = "ok" if in_time else ("late" if found else "missing")
    return Row(c.id, c.name, c.community_id, req.id, req.kind, req.ledger_kind, req.frequency, start, end, deadline,
               status, found and found[0], found and found[5])


def compliance_rate(compound_ids, on: date) -> Fraction | None:
    """Share of (compound, requirement) pairs met on time, exact; None when nothing applies
    (a scoring item then has nothing to measure)."""
    return rate_of(compliance(compound_ids, on))


def rate_of(rows: list[Row]) -> Fraction | None:
    if not rows:
        return None
    return Fraction(sum(1 for r in rows if r.status == "ok"), len(rows))
