"""The billing job, and starting a run (BillingRun + JobRun, dispatched after the commit)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from .. import jobs
from ..extensions import db
from . import billing
from .models import BillingRun

JOB_KIND = "billing"


@jobs.job(queue="default", timeout=3600)
def bill_month(run, billing_run_id: int) -> None:
    """Bill one run's scope. Commits per chunk itself (see billing.run_billing), so a crash
    keeps the finished chunks; the facade commits the closing counts and audit event."""
    outcome = billing.run_billing(billing_run_id, run.report)
    run = db.session.get(jobs.JobRun, run.id)  # reloaded: the chunk commits expired it
    run.result = outcome
    run.message = outcome["summary"]


def lock_key(scope: billing.Scope, month: date) -> str:
    """One unfinished run per district, month and scope (jobs.JobRun.lock_key)."""
    return f"billing:{month:%Y-%m}:{scope.kind}:{scope.id or ''}"


def running_run(job: jobs.JobRun) -> BillingRun | None:
    return db.session.execute(select(BillingRun).where(BillingRun.job_run_id == job.id)).scalar_one_or_none()


def submit(scope: billing.Scope, month: date, user) -> BillingRun:
    """Start a run; raises jobs.Busy while the same month and scope is being billed (the
    lock is taken first, before anything is written)."""
    label = f"开具账单：{month:%Y年%m月} · {scope.label}"
    run = jobs.create_run(bill_month, label[:200], user=user, kind=JOB_KIND, lock_key=lock_key(scope, month))
    br = billing.create_run(scope, month)
    br.job_run_id = run.id
    run.args = [br.id]
    jobs.start(run)
    return br
