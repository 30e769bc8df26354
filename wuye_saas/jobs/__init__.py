"""The job facade: RQ when REDIS_URL is set, inline otherwise; the same job functions.

A job is a plain function `fn(run: JobRun, *args)` declared with `@job(queue, timeout)`.
Arguments are ids and plain values, never ORM objects. Each run has a JobRun row holding
status and progress, which the page polls. A job is dispatched only after the commit that
created its JobRun (`start`), so a worker never sees a run that was rolled back.

A killed worker cannot say it failed, so the pages ask (`check`): a running job beats on its
row every HEARTBEAT_EVERY seconds from a thread of its own; a row without a beat for
STALE_AFTER seconds, or whose RQ job RQ itself has failed, stopped, or lost (RQ 2's
StartedJobRegistry.cleanup turns a job whose worker stopped heartbeating into a failed one),
is marked failed with the reason. A run may hold a `lock_key` (unique per district while the
run is unfinished): a second run with the same key is refused (`Busy`).
"""
from __future__ import annotations

import importlib
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..audit import acting_as
from ..extensions import db
from ..tenancy import TenantScoped, tenant_scope
from ..timeutil import now

STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
HEARTBEAT_EVERY = 15      # seconds between a running job's beats
STALE_AFTER = 120         # seconds without a beat before a running job counts as dead
ENQUEUE_GRACE = 60        # seconds a queued row may wait for its RQ job to appear
DEAD_WORKER = "任务进程中断（处理任务的进程已停止），任务未完成"
LOST_IN_QUEUE = "任务已不在队列中（队列服务重启或清空），任务未执行完"
NEVER_STARTED = "任务未能启动（发起任务的进程已中断），任务未执行"


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
    heartbeat_at: Mapped[datetime | None]       # last sign of life of a running job
    lock_key: Mapped[str | None] = mapped_column(String(120))  # set while unfinished
    __table_args__ = (UniqueConstraint("tenant_id", "lock_key"),)

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
                         .values(progress=progress, message=message or self.message, heartbeat_at=now()))


class Busy(Exception):
    """Another unfinished run holds the lock key."""

    def __init__(self, run: JobRun):
        super().__init__(run.label)
        self.run = run


def holder(lock_key: str) -> JobRun | None:
    """The live run holding the key, after marking it failed if its worker died."""
    run = db.session.execute(select(JobRun).where(JobRun.lock_key == lock_key)).scalar_one_or_none()
    if run is not None and check(run).finished:
        return None
    return run


def create_run(fn, label: str, *args, user=None, kind: str | None = None, lock_key: str | None = None) -> JobRun:
    """A queued run (flushed). With a lock key, raises Busy while another run holds it; the
    unique (district, lock_key) decides between two requests racing past the check (the
    loser's transaction is rolled back: take the lock before writing anything else)."""
    if lock_key is not None and (other := holder(lock_key)) is not None:
        raise Busy(other)
    run = JobRun(kind=kind or fn.__name__, label=label, func=fn.job_path, args=list(args),
                 user_id=getattr(user, "id", None), lock_key=lock_key,
                 actor=getattr(user, "display_name", None) or "系统")
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        other = holder(lock_key) if lock_key is not None else None
        if other is None:
            raise
        raise Busy(other) from None
    return run


def _rq_state(run: JobRun) -> str | None:
    """RQ's status of the run's job ('missing' when RQ has no such job), or None without
    Redis. Abandoned jobs (their worker stopped heartbeating) are first moved to failed."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    conn = Redis.from_url(url)
    spec = _REGISTRY.get(run.func)
    if spec is not None:
        Queue(spec.queue, connection=conn).started_job_registry.cleanup()
    try:
        return Job.fetch(f"jobrun-{run.id}", connection=conn).get_status(refresh=False) or "missing"
    except NoSuchJobError:
        return "missing"


def dead_reason(run: JobRun) -> str | None:
    """Why an unfinished run can no longer finish, or None while it may."""
    if run.finished:
        return None
    if run.status == "running" and (run.heartbeat_at or run.created_at) < now() - timedelta(seconds=STALE_AFTER):
        return DEAD_WORKER
    state = _rq_state(run)
    if state in ("failed", "stopped", "canceled"):
        return DEAD_WORKER
    waited = run.created_at < now() - timedelta(seconds=ENQUEUE_GRACE)
    if state == "missing" and waited:
        return LOST_IN_QUEUE
    if state is None and run.status == "queued" and waited:
        return NEVER_STARTED  # inline runs start right after their commit
    return None


def check(run: JobRun) -> JobRun:
    """The run, marked failed (and its lock released) if it is dead. Only an unfinished
    row is changed, so a job that finishes meanwhile keeps its own outcome."""
    reason = dead_reason(run)
    if reason is not None:
        table = JobRun.__table__
        done = db.session.execute(
            update(table).where(table.c.id == run.id, table.c.status.in_(("queued", "running")))
            .values(status="failed", message=reason, finished_at=now(), lock_key=None)).rowcount
        db.session.commit()
        if done:
            current_app.logger.warning("job %s marked failed: %s", run.id, reason)
        db.session.refresh(run)
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
        run.heartbeat_at = now()
        db.session.commit()
        fn = _resolve(run.func)
        beating = _Heartbeat(current_app._get_current_object(), run_id, tenant_id)
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
        finally:
            beating.stop()
        run.finished_at = now()
        run.lock_key = None
        db.session.commit()


class _Heartbeat:
    """Writes the run's heartbeat_at every HEARTBEAT_EVERY seconds on a connection of its
    own until stopped; a beat that fails (a busy SQLite file) is tried again next time."""

    def __init__(self, app, run_id: int, tenant_id: int):
        self.app, self.run_id, self.stopped = app, run_id, threading.Event()
        self.tenant_id = tenant_id   # a thread starts with no scope: the row-level wall needs one
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)
        self.thread.start()

    def _beat(self):
        table = JobRun.__table__
        while not self.stopped.wait(HEARTBEAT_EVERY):
            try:
                with self.app.app_context(), tenant_scope(self.tenant_id), db.engine.begin() as conn:
                    conn.execute(update(table).where(table.c.id == self.run_id).values(heartbeat_at=now()))
            except Exception:  # noqa: BLE001 — a missed beat is not the job's failure
                self.app.logger.warning("heartbeat of job %s missed", self.run_id, exc_info=True)

    def stop(self):
        self.stopped.set()
        self.thread.join()
