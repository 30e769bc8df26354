"""Computed scoring items: rates from live data (not snapshots) over an evaluation period, per
firm or per compound, for the scoring standard's "系统数据计算" items.

Each entry of COMPUTED is called as `fn(period_start, period_end, by="firm"|"compound")` and
returns {firm or compound id: Fraction or None}; None (or a missing id) means there was nothing
to measure, which the standard scores as it decides — never as 0 or 100%. Exact fractions, so
a score is never off by a float rounding. Every function is a handful of grouped queries.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Callable

from sqlalchemy import and_, case, func, select

from ..extensions import db
from ..timeutil import now
from ..org.models import Contract
from . import definitions as d

BY = ("firm", "compound")


@dataclass(frozen=True)
class Computed:
    key: str
    label: str
    definition: str
    fn: Callable[[date, date, str], dict]

    def __call__(self, period_start: date, period_end: date, by: str = "firm") -> dict:
        if by not in BY:
            raise ValueError(f"by must be one of {BY}")
        return self.fn(period_start, period_end, by)


def _ratio(num: int, den: int) -> Fraction | None:
    return Fraction(num, den) if den else None


def _demands(period_start: date, period_end: date, by: str):
    from ..demands.models import Demand  # lazy: a sibling area read here

    start, end = d.utc_bounds(period_start, period_end)
    col = Demand.compound_id if by == "compound" else Demand.firm_id
    return Demand, col, start, end


def demand_on_time(period_start: date, period_end: date, by: str) -> dict:
    Demand, col, start, end = _demands(period_start, period_end, by)
    # A demand whose deadline has not come yet cannot be late: it is not due.
    due = and_(Demand.deadline_at >= start, Demand.deadline_at < end, Demand.deadline_at <= now())
    on_time = case((and_(Demand.resolved_at.is_not(None), Demand.resolved_at <= Demand.deadline_at), 1), else_=0)
    rows = db.session.execute(select(col, func.sum(on_time), func.count(Demand.id))
                              .where(due, col.is_not(None)).group_by(col)).all()
    return {k: _ratio(int(n or 0), int(total)) for k, n, total in rows}


def demand_satisfaction(period_start: date, period_end: date, by: str) -> dict:
    Demand, col, start, end = _demands(period_start, period_end, by)
    visited = and_(Demand.received_at >= start, Demand.received_at < end, Demand.satisfaction.is_not(None))
    good = case((Demand.satisfaction.in_(d.SATISFIED), 1), else_=0)
    rows = db.session.execute(select(col, func.sum(good), func.count(Demand.id))
                              .where(visited, col.is_not(None)).group_by(col)).all()
    return {k: _ratio(int(n or 0), int(total)) for k, n, total in rows}


def collection_rate(period_start: date, period_end: date, by: str) -> dict:
    counts = d.collection_counts(d.month_start(period_start), period_end, key=by)
    return {k: _ratio(c, b) for k, (c, b) in counts.items()}


def publicity_compliance(period_start: date, period_end: date, by: str) -> dict:
    """As on the day after the period: the latest due period of each requirement; per firm over
    the compounds it served at the end of the period."""
    from ..org.models import Compound

    day = period_end + timedelta(days=1)
    ids = list(db.session.execute(select(Compound.id)).scalars())
    per_compound = d.publicity_counts(ids, day)
    if by == "compound":
        return {cid: _ratio(ok, due) for cid, (due, ok) in per_compound.items()}
    served = db.session.execute(select(Contract.firm_id, Contract.compound_id).where(
        Contract.in_force(period_end))).all()
    sums: dict[int, list[int]] = {}
    for firm_id, cid in served:
        due, ok = per_compound.get(cid, (0, 0))
        cell = sums.setdefault(firm_id, [0, 0])
        cell[0] += ok
        cell[1] += due
    return {f: _ratio(ok, due) for f, (ok, due) in sums.items()}


COMPUTED: dict[str, Computed] = {c.key: c for c in (
    Computed("demand_on_time_rate", "诉求按时办结率",
             "期内到期（办理时限在考核期内）的诉求中，在时限内办结的比例；按派单企业或诉求所在小区统计。",
             demand_on_time),
    Computed("demand_satisfaction_rate", "诉求回访满意率",
             "期内受理并已回访的诉求中，回访“满意”或“基本满意”的比例。", demand_satisfaction),
    Computed("collection_rate", "物业费缴费率",
             "考核期各月账单居民应缴部分（扣除冲减后）中已收回的比例，每张账单最多计到应缴额。", collection_rate),
    Computed("publicity_compliance_rate", "公示按时率",
             "按本区公示要求，考核期末已到期的最近一期公示中按时发布的比例；企业按期末服务的小区合计。",
             publicity_compliance),
)}
