"""Follow-ups (待办督办): the term-expiry job (idempotent, scoped to the compound's community),
open_follow_up for other areas, closing with a required note."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.extensions import db
from wuye_saas.followups import logic
from wuye_saas.followups.jobs import remind_expiring_terms
from wuye_saas.followups.models import FollowUp
from wuye_saas.jobs import create_run, start
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import SHANGHAI, today

from .helpers import login, post, wait_for_job

BASE = "/d/alpha/followups"


def _in(app, a, fn):
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def set_term_end(app, a, committee_id, end):
    _in(app, a, lambda: setattr(db.session.get(m.Committee, committee_id), "term_end", end))


def run_job(app, a, day) -> dict:
    # The scheduler passes a naive-UTC tick; 00:30 Shanghai is still the previous day in UTC.
    at = datetime.combine(day, time(0, 30), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
    run_id = _in(app, a, lambda: (lambda r: (start(r), r.id)[1])(create_run(remind_expiring_terms, "测试", at.isoformat())))
    return wait_for_job(app, run_id)


def follow_ups(app, a):
    return _in(app, a, lambda: [(f.key, f.community_id, f.street_id, f.compound_id, f.due_on, f.status)
                                for f in db.session.execute(select(FollowUp).order_by(FollowUp.id)).scalars()])


def test_term_reminder_job_is_idempotent_and_scoped(app, client, world):
    a, b = world["alpha"], world["beta"]
    d = today()
    end1 = d + timedelta(days=30)
    set_term_end(app, a, a.committee1, end1)                       # within 90 days
    set_term_end(app, a, a.committee2, d + timedelta(days=200))    # not yet
    set_term_end(app, b, b.committee1, d + timedelta(days=10))     # another district
    out = run_job(app, a, d)
    assert out["status"] == "done" and out["result"]["created"] == 1 and out["result"]["day"] == d.isoformat()
    key = f"term_expiry:{a.committee1}:{end1.isoformat()}"
    assert follow_ups(app, a) == [(key, a.community1, a.street1, a.compound1, end1, "open")]
    # Run again (next day's tick): nothing new.
    out = run_job(app, a, d + timedelta(days=1))
    assert out["result"]["created"] == 0 and len(follow_ups(app, a)) == 1
    assert _in(app, a, lambda: db.session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.entity == "follow_up", AuditEvent.action == "create")).scalar_one()) == 1
    # Beta's job ran for beta only.
    assert follow_ups(app, b) == []
    run_job(app, b, d)
    assert [k for k, *_ in follow_ups(app, b)] == [f"term_expiry:{b.committee1}:{(d + timedelta(days=10)).isoformat()}"]
    # A renewed term end gets its own reminder when it comes near again.
    set_term_end(app, a, a.committee1, d + timedelta(days=60))
    assert run_job(app, a, d)["result"]["created"] == 1

    fid = _in(app, a, lambda: db.session.execute(select(FollowUp.id).where(FollowUp.key == key)).scalar_one())
    login(client, "alpha-community")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "甲区1号小区业委会任期将于" in page and "还有 30 天" in page
    assert client.get(f"{BASE}/{fid}").status_code == 200
    client.post("/logout")
    # The other branch's community staff, the firm and beta do not see it.
    login(client, "beta-community")
    assert client.get(f"/d/beta/followups/{fid}").status_code == 404
    assert client.get(f"{BASE}/{fid}").status_code == 404
    client.post("/logout")
    login(client, "alpha-firm")
    assert client.get(f"{BASE}/{fid}").status_code == 404


def test_open_follow_up_fills_scope_and_is_idempotent(app, client, world):
    a = world["alpha"]

    def twice():
        f1 = logic.open_follow_up("interview", "interview:firm2:2026Q3", "约谈甲区第2物业公司",
                                  compound_id=a.compound2, firm_id=a.firm2, detail="季度测评黄榜")
        f2 = logic.open_follow_up("interview", "interview:firm2:2026Q3", "约谈（重复）", compound_id=a.compound2)
        return f1.id, f2.id, f1.community_id, f1.street_id, f2.title
    fid, again, community, street, title = _in(app, a, twice)
    assert (again, community, street, title) == (fid, a.community2, a.street2, "约谈甲区第2物业公司")
    # Community 1's staff: another community's follow-up is a 404; the street of branch 2 is not theirs either.
    login(client, "alpha-community")
    assert client.get(f"{BASE}/{fid}").status_code == 404
    assert "约谈甲区第2物业公司" not in client.get(f"{BASE}/").get_data(as_text=True)
    assert post(client, f"{BASE}/{fid}/close", {"note": "已约谈"}).status_code == 404
    client.post("/logout")
    login(client, "alpha-district")
    assert "约谈甲区第2物业公司" in client.get(f"{BASE}/").get_data(as_text=True)


def test_close_requires_a_note(app, client, world):
    a = world["alpha"]
    fid = _in(app, a, lambda: logic.open_follow_up("term_expiry", "term_expiry:test", "换届提醒",
                                                   compound_id=a.compound1, committee_id=a.committee1).id)
    # The committee of the compound sees it but does not close it.
    login(client, "alpha-committee")
    assert client.get(f"{BASE}/{fid}").status_code == 200
    assert post(client, f"{BASE}/{fid}/close", {"note": "x"}).status_code == 403
    client.post("/logout")
    login(client, "alpha-community")
    resp = post(client, f"{BASE}/{fid}/close", {"note": "  "})
    assert resp.status_code == 422 and "请填写办理情况" in resp.get_data(as_text=True)
    assert follow_ups(app, a)[0][-1] == "open"
    assert post(client, f"{BASE}/{fid}/close", {"note": "已指导成立换届小组"}).status_code == 302

    def closed():
        f = db.session.get(FollowUp, fid)
        return f.status, f.close_note, f.closed_by_id is not None, f.closed_at is not None
    assert _in(app, a, closed) == ("closed", "已指导成立换届小组", True, True)
    page = client.get(f"{BASE}/?status=closed").get_data(as_text=True)
    assert "换届提醒" in page
    assert "没有待办理的事项" in client.get(f"{BASE}/").get_data(as_text=True)
    # Closed is final.
    resp = post(client, f"{BASE}/{fid}/close", {"note": "再次办结"})
    assert resp.status_code == 422
    events = _in(app, a, lambda: db.session.execute(select(AuditEvent.changes).where(
        AuditEvent.entity == "follow_up", AuditEvent.entity_id == fid, AuditEvent.action == "update")).scalars().all())
    assert len(events) == 1 and events[0]["status"] == {"before": "open", "after": "closed"}
