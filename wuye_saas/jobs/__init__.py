"""The job facade: RQ when REDIS_URL is set, inline otherwise; the same job functions.

A job is a plain function `fn(run: JobRun, *args)` declared with `@job(queue, timeout)`.
Arguments are ids and plain values, never ORM objects. Each run has a JobRun row holding
status and progress, which the page polls. A job is dispatched only after the commit that
created its JobRun (`start`), so a worker never sees a run that was rolled back.
"""
from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, ForeignKey, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column

from ..audit import acting_as
from ..extensions import db
from ..tenancy import TenantScoped, tenant_scope
from ..timeutil import now

STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


@dataclass(frozen=True)
class JobSpec:
    path: str
    queue: str
    timeout: int


_REGISTRY: dict[str, JobSpec] = {}


def job(queue: str = "default", timeout: int = 600):
    def register(fn):
        path = f"{fn.__module__}:{fn.__name__}"
        _REGISTRY[path] = JobSpec(path, queue, timeout)
        fn.job_path = path
        return fn
    return register


class JobRun(TenantScoped, db.Model):
    __tablename__ = "job_run"
    __audit__ = False  # the work a job does is audited, not its bookkeeping
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(80), default="系统")
    created_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def report(self, done: int, total: int, message: str = "") -> None:
        """Progress from inside the job, written on its own connection so the polling page
        sees it while the job's own writes stay uncommitted until the job ends."""
        progress = min(100, int(done * 100 / total)) if total else 100
        if db.engine.dialect.name == "sqlite":
            # Inline on SQLite: one writer, and nobody polls a blocking request anyway.
            return
        with db.engine.begin() as conn:
            conn.execute(update(JobRun.__table__).where(JobRun.__table__.c.id == self.id)
                         .values(progress=progress, message=message or self.message))


def create_run(fn, label: str, *args, user=None, kind: str | None = None) -> JobRun:
    run = JobRun(kind=kind or fn.__name__, label=label, func=fn.job_path, args=list(args),
                 user_id=getattr(user, "id", None),
                 actor=getattr(user, "display_name", None) or "系统")
    db.session.add(run)
    db.session.flush()
    return run


def start(run: JobRun) -> None:
    """Commit, then hand the run to RQ or run it here."""
    db.session.commit()
    url = current_app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        spec = _REGISTRY[run.func]
        queue = Queue(spec.queue, connection=Redis.from_url(url))
        queue.enqueue(execute, run.id, run.tenant_id, job_timeout=spec.timeout,
                      job_id=f"jobrun-{run.id}")
    else:
        execute(run.id, run.tenant_id)


def _resolve(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def execute(run_id: int, tenant_id: int) -> None:
    """Run one JobRun in the given tenant scope. Called inline or by an RQ worker."""
    from rq import get_current_job

    if get_current_job() is not None:
        # In an RQ work horse (a forked child): drop the parent's pooled connections.
        db.engine.dispose(close=False)
    with tenant_scope(tenant_id):
        run = db.session.get(JobRun, run_id)
        if run is None or run.finished:
            return  # re-delivered or already handled: running twice must not write twice
        run.status = "running"
        db.session.commit()
        fn = _resolve(run.func)
        try:
            with acting_as(run.user_id, run.actor):
                fn(run, *run.args)
            run.status = "done"
            run.progress = 100
        except Exception as exc:  # the job's own writes are rolled back, the failure kept
            db.session.rollback()
            run = db.session.get(JobRun, run_id)
            run.status = "failed"
            run.message = f"任务失败：{exc}"
            current_app.logger.error("job %s failed\n%s", run_id, traceback.format_exc())
        run.finished_at = now()
        db.session.commit()
