"""The billing job, and starting a run (BillingRun + JobRun, dispatched after the commit)."""
from __future__ import annotations

from datetime import date

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


def submit(scope: billing.Scope, month: date, user) -> BillingRun:
    br = billing.create_run(scope, month)
    label = f"开具账单：{month:%Y年%m月} · {br.scope_label}"
    run = jobs.create_run(bill_month, label[:200], br.id, user=user, kind=JOB_KIND)
    br.job_run_id = run.id
    jobs.start(run)
    return br
