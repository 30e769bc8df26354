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


@job(queue="default", timeout=600)
def sync_sources(run, at_iso: str) -> None:
    """Records from the publicity schedule and demands (credit/sources.py), once each: the
    daily tick writes what became due since the last one and nothing twice."""
    from . import sources
    at = datetime.fromisoformat(at_iso)
    day = (local(at) if at.tzinfo is None else at.astimezone(SHANGHAI)).date()
    counts = sources.sync_all(day)
    run.result = {"day": day.isoformat(), **counts}
    run.message = f"{day:%Y-%m-%d} 自动信用记录：公示 {counts['publicity']} 条，诉求 {counts['demands']} 条。"
