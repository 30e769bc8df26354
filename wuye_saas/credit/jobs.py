"""The quarterly grade snapshot (scheduled by wuye_saas/jobs/schedule.py: credit.snapshot)."""
from __future__ import annotations

from datetime import datetime

from ..jobs import job
from ..timeutil import SHANGHAI, local
from . import grading


@job(queue="default", timeout=600)
def snapshot_quarter(run, at_iso: str) -> None:
    """Keep every firm's grade at the last finished quarter end; firms that have one keep it, so
    the daily tick writes a quarter once (and a missed tick catches up on its next run)."""
    at = datetime.fromisoformat(at_iso)
    day = (local(at) if at.tzinfo is None else at.astimezone(SHANGHAI)).date()
    qe = grading.last_finished_quarter_end(day)
    written = grading.take_snapshot(qe)
    run.result = {"quarter_end": qe.isoformat(), "written": written}
    run.message = f"{qe:%Y-%m-%d} 季度信用等级：新保存 {written} 家企业。"
