"""The snapshot job: the scheduler's `indicators.snapshot` entry and the district's "刷新本月数据"."""
from __future__ import annotations

from datetime import datetime

from .. import audit, jobs
from ..tenancy import current_tenant_id
from . import snapshots

JOB_KIND = "indicators.snapshot"


@jobs.job(queue="default", timeout=1800)
def snapshot_month(run, at_iso: str) -> None:
    """Refresh the current month (of `at`, naive UTC) and fill any missing past month once."""
    at = datetime.fromisoformat(at_iso)
    outcome = snapshots.refresh(current_tenant_id(), at)
    filled = "、".join(f"{m:%Y年%m月}" for m in outcome["filled"])
    summary = (f"已更新{outcome['current']:%Y年%m月}统计快照（{outcome['compounds']} 个小区）"
               + (f"，补齐 {filled}" if filled else "") + "。")
    audit.record_event("snapshot", "compound_month", summary, changes={
        "month": outcome["current"].isoformat(), "filled": [m.isoformat() for m in outcome["filled"]],
        "compounds": outcome["compounds"]})
    run.result = {"summary": summary, "compounds": outcome["compounds"]}


def submit(user) -> jobs.JobRun:
    from ..timeutil import now

    run = jobs.create_run(snapshot_month, "刷新本月统计数据", now().isoformat(), user=user, kind=JOB_KIND)
    jobs.start(run)
    return run
