"""The demo district's indicator history: twelve monthly snapshots, taken by the same refresh the
scheduler runs (past months from the dated register, demands, bills and publications). Runs
last, after every other demo seed, so the snapshots see their data."""
from __future__ import annotations

from .. import audit
from ..indicators import snapshots
from ..indicators.models import CompoundMonth
from ..extensions import db
from ..tenancy import tenant_scope
from ..timeutil import now


def seed_indicators(tenant_id: int) -> dict:
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        outcome = snapshots.refresh(tenant_id, now())
        months = len(outcome["filled"]) + 1
        audit.record_event("snapshot", "compound_month",
                           f"演示统计快照：{months} 个月 × {outcome['compounds']} 个小区",
                           changes={"months": months, "compounds": outcome["compounds"]})
        db.session.flush()
        rows = db.session.query(CompoundMonth.id).count()
    return {"snapshots": rows}
