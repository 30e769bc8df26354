"""The 质量保证金 release job (holdback.py rule 7) and starting it: by publishing, by the results
job after an upheld appeal, and by the district's re-run. Each start commits the caller's work
first (jobs.start), so call it after the writes it follows."""
from __future__ import annotations

from sqlalchemy import select

from .. import jobs
from ..evaluation.models import Evaluation
from ..extensions import db
from . import holdback

JOB_KIND = "holdback"


@jobs.job(queue="default", timeout=3600)
def release(run, evaluation_id: int, source: str) -> None:
    """Post what the evaluation's results release (idempotent: a second run posts nothing)."""
    ev = db.session.get(Evaluation, evaluation_id)
    user = None
    if run.user_id:
        from ..auth.models import User
        user = db.session.get(User, run.user_id)
    out = holdback.release_evaluation(ev, source, user, run.report)
    run = db.session.get(jobs.JobRun, run.id)
    run.result = {**out.as_dict(), "summary": summary(out)}   # the card shows the summary once done
    run.message = "核算完成。"


def summary(out: holdback.Outcome) -> str:
    if not out.rows:
        return "账单与已释放金额一致，无需补记。"
    return f"已记 {out.rows} 笔：返还企业 {out.released / 100:,.2f} 元，未返还 {out.kept / 100:,.2f} 元。"


def lock_key(evaluation_id: int) -> str:
    return f"{JOB_KIND}:{evaluation_id}"


def submit(ev: Evaluation, source: str, user=None) -> jobs.JobRun | None:
    """Start the release of `ev`. While another run of it is unfinished: the district's re-run
    is refused (jobs.Busy, the page says so); a publish or appeal queues one more run under a
    second key, which waits for the first (the row lock, rule 7) and posts what changed — and
    when that one is queued too, it has not read anything yet and will see this change: None."""
    label = f"质量保证金释放：{ev.name}（{holdback.REASONS.get(source, source)}）"[:200]
    keys = [lock_key(ev.id)] + ([] if source == "rerun" else [f"{lock_key(ev.id)}:next"])
    for i, key in enumerate(keys):
        try:
            run = jobs.create_run(release, label, ev.id, source, user=user, kind=lock_key(ev.id), lock_key=key)
        except jobs.Busy:
            if i == len(keys) - 1 and source == "rerun":
                raise
            continue
        jobs.start(run)
        return run
    return None


def latest(evaluation_id: int | None = None) -> jobs.JobRun | None:
    """The newest release run (of one evaluation, or of any), for the release page's card."""
    stmt = select(jobs.JobRun).where(jobs.JobRun.kind.like(f"{JOB_KIND}:%"))
    if evaluation_id:
        stmt = stmt.where(jobs.JobRun.kind == lock_key(evaluation_id))
    return db.session.execute(stmt.order_by(jobs.JobRun.id.desc()).limit(1)).scalar_one_or_none()
