"""Periodic follow-up jobs (scheduled by wuye_saas/jobs/schedule.py: followups.term_reminders)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..jobs import job
from ..timeutil import SHANGHAI, local
from . import logic


@job(queue="default", timeout=600)
def remind_expiring_terms(run, at_iso: str) -> None:
    """One follow-up per committee term ending within 90 days (or ended without 换届), for the
    compound's community; the key term_expiry:<committee>:<term_end> makes re-runs write nothing
    new, and a term extended or renewed gets a fresh reminder."""
    at = datetime.fromisoformat(at_iso)
    # The tick is naive UTC (timeutil.now()); the day that counts is Shanghai's.
    day = (local(at) if at.tzinfo is None else at.astimezone(SHANGHAI)).date()
    committees = db.session.execute(logic.expiring_committees(day).options(
        joinedload(logic.Committee.compound))).scalars().all()
    created = 0
    for i, c in enumerate(committees, start=1):
        _, new = logic.remind_term(c, day)
        created += new
        if i % 50 == 0:
            run.report(i, len(committees), f"已检查 {i}/{len(committees)} 个业委会")
    run.result = {"checked": len(committees), "created": created, "day": day.isoformat()}
    # The facade commits the follow-ups with the run's closing state: a failed run writes none.
    run.message = f"检查 {len(committees)} 个即将或已经届满的业委会（物管会），新建提醒 {created} 条。"
