"""The periodic scheduler (wuye_saas/jobs/schedule.py): each entry runs once per interval per
active district, never for a suspended one, again once its interval has passed; its runs go
through the job facade (inline here, a real RQ worker when REDIS_URL is set)."""
from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from wuye_saas.audit import AuditEvent
from wuye_saas.demands.models import Demand
from wuye_saas.extensions import db
from wuye_saas.jobs import JobRun, _REGISTRY, job
from wuye_saas.jobs import schedule
from wuye_saas.tenancy import Tenant, system_scope, tenant_scope
from wuye_saas.timeutil import now

from .helpers import wait_for_job
from .test_demand_escalation import make_demands


@job(queue="default", timeout=60)
def note_tick(run, at_iso: str) -> None:
    """A daily test entry: records the tick it was given (importable by the RQ worker)."""
    run.result = {"at": at_iso}


ESCALATE = next(p for p in schedule.SCHEDULE if p.name == "demands.escalate")
DAILY = schedule.Periodic("test.daily", f"{__name__}:note_tick", timedelta(days=1), "测试每日任务")


@pytest.fixture
def entries(monkeypatch):
    """The real escalation entry beside a daily test entry."""
    monkeypatch.setattr(schedule, "SCHEDULE", [ESCALATE, DAILY])


def _tick(app, at) -> list[tuple[str, str, str]]:
    """Run the scheduler at `at`; (district slug, entry, outcome) of every run it started."""
    with app.app_context():
        started = schedule.run_due(at)
    out = []
    for run_id in started:
        result = wait_for_job(app, run_id)
        with app.app_context(), system_scope():
            run = db.session.get(JobRun, run_id)
            slug = db.session.get(Tenant, run.tenant_id).slug
            assert run.args == [at.isoformat()]
        out.append((slug, run.kind, result["status"]))
    return sorted(out)


def test_each_entry_once_per_interval_per_active_district(app, rq_worker, world, entries):
    a = world["alpha"]
    (overdue,) = make_demands(app, a, [("维修", "normal", "new")])
    t0 = now() + timedelta(days=4)   # past the 72-hour deadline

    assert _tick(app, t0) == [("alpha", "demands.escalate", "done"), ("alpha", "test.daily", "done"),
                              ("beta", "demands.escalate", "done"), ("beta", "test.daily", "done")]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(Demand, overdue).escalated_at == t0
    # Nothing is due again within the interval, however often the scheduler looks.
    assert _tick(app, t0) == []
    assert _tick(app, t0 + timedelta(minutes=9)) == []
    # Ten minutes on: the escalation again, not the daily entry.
    assert _tick(app, t0 + timedelta(minutes=10)) == [("alpha", "demands.escalate", "done"),
                                                      ("beta", "demands.escalate", "done")]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(Demand, overdue).escalated_at == t0   # escalated once only

    # A suspended district is skipped; the active one goes on.
    with app.app_context(), system_scope():
        db.session.execute(db.update(Tenant).where(Tenant.slug == "beta").values(active=False))
        db.session.commit()
    assert _tick(app, t0 + timedelta(minutes=25)) == [("alpha", "demands.escalate", "done")]
    assert _tick(app, t0 + timedelta(days=1)) == [("alpha", "demands.escalate", "done"),
                                                  ("alpha", "test.daily", "done")]
    with app.app_context(), system_scope():
        kinds = db.session.execute(select(JobRun.kind).where(JobRun.tenant_id == world["beta"].tenant_id)).scalars()
        assert sorted(kinds) == ["demands.escalate", "demands.escalate", "test.daily"]


def test_a_missed_tick_runs_once_not_once_per_missed_interval(app, rq_worker, world, entries):
    t0 = now()
    assert len(_tick(app, t0)) == 4
    # The scheduler was down for an hour: one run per entry and district, not six.
    assert _tick(app, t0 + timedelta(hours=1)) == [("alpha", "demands.escalate", "done"),
                                                   ("beta", "demands.escalate", "done")]


def test_every_scheduled_entry_is_a_registered_job():
    for p in schedule.SCHEDULE:
        module, name = p.func.split(":")
        fn = getattr(importlib.import_module(module), name)
        assert fn.job_path == p.func and p.func in _REGISTRY, p.name


def test_the_schedulers_bookkeeping_stays_out_of_the_audit_log(app, rq_worker, world, entries):
    _tick(app, now() + timedelta(days=4))
    with app.app_context(), system_scope():
        assert db.session.execute(select(AuditEvent.id).where(AuditEvent.entity == "schedule_state")).first() is None
