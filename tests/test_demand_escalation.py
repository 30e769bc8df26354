"""Deadlines and the scheduled escalation of overdue demands to the street
(wuye_saas/demands/jobs.py), with the job's time controlled by the test."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.demands import logic
from wuye_saas.demands.jobs import escalate_overdue
from wuye_saas.demands.models import Demand, DemandEvent
from wuye_saas.extensions import db
from wuye_saas.jobs import create_run, start
from wuye_saas.tenancy import system_scope, tenant_scope
from wuye_saas.timeutil import fmt_datetime, now

from .helpers import login, wait_for_job
from .test_demands import setup_categories


def _member(role: str) -> Membership:
    return db.session.execute(select(Membership).filter_by(role=role)).scalar_one()


def make_demands(app, ns, specs) -> list[int]:
    """specs: (category name, urgency, how far: 'new' | 'resolved' | 'closed'); ids in order."""
    cats = setup_categories(app, ns)
    ids = []
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        staff, firm = _member("community_staff"), _member("firm_manager")
        for name, urgency, how_far in specs:
            d = logic.intake(staff, ns.compound1, logic.Intake(cats[name], f"{name}{urgency}", "", "李女士",
                                                               "13912345678", urgency=urgency, channel="visit"))
            if how_far in ("resolved", "closed"):
                logic.dispatch(d, staff, "firm", ns.firm1, "")
                logic.accept(d, firm)
                logic.resolve(d, firm, "已处理", [], app.config["UPLOAD_FOLDER"])
            if how_far == "closed":
                logic.visit(d, staff, "satisfied", "")
            ids.append(d.id)
        db.session.commit()
    return ids


def run_job(app, ns, at) -> dict:
    with app.app_context(), tenant_scope(ns.tenant_id):
        run = create_run(escalate_overdue, "逾期诉求升级街道", at.isoformat())
        start(run)
        run_id = run.id
    return wait_for_job(app, run_id)


def state(app, ns, demand_id):
    with app.app_context(), tenant_scope(ns.tenant_id):
        d = db.session.get(Demand, demand_id)
        events = db.session.execute(select(DemandEvent).where(DemandEvent.demand_id == demand_id,
                                                              DemandEvent.kind == "escalated")).scalars().all()
        return d.deadline_at, d.escalated_at, [(e.actor, e.at) for e in events]


def test_deadline_from_category_and_urgency(app, world):
    a = world["alpha"]
    ids = make_demands(app, a, [("维修", "normal", "new"), ("维修", "urgent", "new"),
                                ("加装电梯", "normal", "new"), ("安全隐患", "urgent", "new")])
    with app.app_context(), tenant_scope(a.tenant_id):
        hours = [(d.deadline_at - d.received_at) / timedelta(hours=1)
                 for d in (db.session.get(Demand, i) for i in ids)]
    assert hours == [72, 24, 360, 4]


def test_escalation_by_the_job_with_controlled_time(app, client, world):
    a = world["alpha"]
    normal, urgent, resolved, closed = make_demands(app, a, [
        ("维修", "normal", "new"), ("维修", "urgent", "new"), ("维修", "urgent", "resolved"),
        ("维修", "urgent", "closed")])
    deadline, _, _ = state(app, a, urgent)

    # One minute before the deadline: nothing to escalate.
    out = run_job(app, a, deadline - timedelta(minutes=1))
    assert out["status"] == "done" and out["result"]["escalated"] == 0
    assert state(app, a, urgent)[1:] == (None, [])

    # One minute after: the open urgent one is escalated at the job's time, by 系统; the normal
    # one (72 h) is not due; resolved and closed ones never escalate.
    at = deadline + timedelta(minutes=1)
    out = run_job(app, a, at)
    assert out["status"] == "done" and out["result"] == {"escalated": 1, "at": at.isoformat()}
    assert state(app, a, urgent)[1:] == (at, [("系统", at)])
    for other in (normal, resolved, closed):
        assert state(app, a, other)[1:] == (None, [])

    # A second run changes nothing.
    out = run_job(app, a, at + timedelta(minutes=10))
    assert out["result"]["escalated"] == 0
    assert state(app, a, urgent)[1:] == (at, [("系统", at)])

    # Far in the future only the normal one is added; resolved/closed still never escalate.
    later = now() + timedelta(days=30)
    assert run_job(app, a, later)["result"]["escalated"] == 1
    assert state(app, a, normal)[1] == later
    for other in (resolved, closed):
        assert state(app, a, other)[1:] == (None, [])
    with app.app_context(), system_scope():
        assert db.session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "demand", AuditEvent.label.like("逾期诉求升级街道%"),
            AuditEvent.tenant_id == a.tenant_id)).scalar_one() == 2

    # Visible on both sides: the street's default list is 已升级街道; both see the red badge.
    login(client, "alpha-street")
    html = client.get("/d/alpha/demands/").get_data(as_text=True)
    assert re.findall(r'class="nav-link active[^"]*"[^>]*data-tab="(\w+)"', html) == ["escalated"]
    assert "维修urgent" in html and "维修normal" in html and "已逾期 · 已升级街道" in html
    with app.app_context(), tenant_scope(a.tenant_id):
        number = db.session.get(Demand, resolved).number
    assert number not in html
    badge = f"已逾期 · 已升级街道 {fmt_datetime(at)}"
    assert badge in client.get(f"/d/alpha/demands/{urgent}").get_data(as_text=True)
    client.post("/logout")
    login(client, "alpha-community")
    assert badge in client.get(f"/d/alpha/demands/{urgent}").get_data(as_text=True)
    assert "已逾期 · 已升级街道" in client.get("/d/alpha/demands/?tab=escalated").get_data(as_text=True)


def test_street_dispatches_and_supervises_escalated_demands(app, client, world):
    a = world["alpha"]
    (did,) = make_demands(app, a, [("维修", "urgent", "new")])
    url = f"/d/alpha/demands/{did}"
    from .helpers import post
    login(client, "alpha-street")
    assert post(client, f"{url}/dispatch", {"assignee_kind": "department", "department_id": a.department1}
                ).status_code == 403  # not escalated yet: the community's turn
    deadline = state(app, a, did)[0]
    run_job(app, a, deadline + timedelta(minutes=5))
    assert post(client, f"{url}/dispatch", {"assignee_kind": "department", "department_id": a.department1}
                ).status_code == 302
    assert post(client, f"{url}/supervise", {"note": ""}).status_code == 422
    assert post(client, f"{url}/supervise", {"note": "请区住建局两日内反馈"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.get(Demand, did)
        assert (d.status, d.assignee_kind, d.department_id, d.firm_id) == ("dispatched", "department", a.department1, None)
        assert d.assignee_name == d.department.name
        evs = db.session.execute(select(DemandEvent.kind, DemandEvent.actor).where(DemandEvent.demand_id == did)
                                 .order_by(DemandEvent.id)).all()
    assert [k for k, _ in evs] == ["submitted", "escalated", "dispatched", "supervised"]
    assert evs[-1].actor == "甲区street"
    # Closed as soon as it is resolved late: not on time, not overdue any more.
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.get(Demand, did)
        d.resolved_at, d.status = d.deadline_at + timedelta(hours=1), "resolved"
        assert not logic.on_time(d) and not logic.is_overdue(d, now() + timedelta(days=9))
        db.session.rollback()
