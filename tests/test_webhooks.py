"""Webhooks (issue 17): a client's subscription gets signed deliveries a receiver can verify,
retried with back-off after a failure, listed with their response codes; resend; another
district's client hears nothing; a rolled-back change delivers nothing."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from wuye_saas import events
from wuye_saas.api.models import ApiClient
from wuye_saas.audit import acting_as
from wuye_saas.demands.models import Demand
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now
from wuye_saas.webhooks import logic
from wuye_saas.webhooks.models import WebhookDelivery, WebhookSubscription

from .fakeserver import FakeServer
from .helpers import login, post
from .test_demands import as_user, setup_categories, staff_intake


@pytest.fixture
def no_kick(app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_KICK", False)


def make_client(app, ns, name="12345 市民热线平台") -> int:
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        c = ApiClient(name=name, scopes=["demands:write", "demands:read"], key_id=f"k-{ns.slug}-{name[:5]}",
                      secret_hash="x" * 64)
        db.session.add(c)
        db.session.commit()
        return c.id


def subscribe(client, slug, api_client_id, url, kinds) -> str:
    resp = post(client, f"/d/{slug}/api-clients/{api_client_id}/webhooks", {"url": url, "kinds": kinds})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    html = resp.get_data(as_text=True)
    return re.search(r"(whsec_[A-Za-z0-9_\-]+)", html).group(1)


def _flow(app, client, a):
    """Community takes in a 12345 demand and dispatches it; the firm accepts and resolves it."""
    cats = setup_categories(app, a)
    as_user(client, "alpha-community")
    did = int(staff_intake(client, a, cats).headers["Location"].rsplit("/", 1)[1])
    assert post(client, f"/d/alpha/demands/{did}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}
                ).status_code == 302
    as_user(client, "alpha-firm")
    assert post(client, f"/d/alpha/demands/{did}/accept").status_code == 302
    assert post(client, f"/d/alpha/demands/{did}/resolve", {"note": "已更换灯泡"}).status_code == 302
    return did


def _deliveries(app, ns):
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars().all()


def test_signed_deliveries_verify_retry_and_are_listed(app, client, world, no_kick):
    a, b = world["alpha"], world["beta"]
    cid, other = make_client(app, a), make_client(app, b)
    with FakeServer(default=(200, b'{"received":true}')) as receiver:
        login(client, "alpha-district")
        # Bad input: a clear message, nothing written.
        resp = post(client, f"/d/alpha/api-clients/{cid}/webhooks", {"url": "ftp://x", "kinds": ["demand.resolved"]})
        assert resp.status_code == 422 and "请填写以 https:// 开头的完整地址。" in resp.get_data(as_text=True)
        resp = post(client, f"/d/alpha/api-clients/{cid}/webhooks", {"url": receiver.url + "/hook"})
        assert resp.status_code == 422 and "请至少选择一种事件。" in resp.get_data(as_text=True)
        overview = client.get("/d/alpha/api-clients/webhooks/").get_data(as_text=True)
        assert "12345 市民热线平台" in overview and f"/d/alpha/api-clients/{cid}/webhooks" in overview
        secret = subscribe(client, "alpha", cid, receiver.url + "/hook", ["demand.resolved", "demand.closed"])
        page = client.get(f"/d/alpha/api-clients/{cid}/webhooks").get_data(as_text=True)
        assert secret not in page and receiver.url + "/hook" in page      # shown once only
        # Another district's client page does not exist here.
        assert client.get(f"/d/alpha/api-clients/{other}/webhooks").status_code == 404
        did = _flow(app, client, a)
        ds = _deliveries(app, a)
        assert [(d.kind, d.status) for d in ds] == [("demand.resolved", "pending")]   # dispatched not subscribed
        assert _deliveries(app, b) == []

        receiver.script.append((500, b"oops"))
        t0 = now()
        with app.app_context(), tenant_scope(a.tenant_id):
            assert logic.deliver_due(t0) == {"succeeded": 0, "retry": 1, "failed": 0}
            assert logic.deliver_due(t0 + timedelta(seconds=30))["retry"] == 0      # not due yet
            assert logic.deliver_due(t0 + timedelta(seconds=61)) == {"succeeded": 1, "retry": 0, "failed": 0}
            d = db.session.execute(select(WebhookDelivery)).scalar_one()
            assert (d.status, d.attempts, d.response_code, d.response_excerpt) == ("succeeded", 2, 200,
                                                                                  '{"received":true}')
    assert len(receiver.requests) == 2
    req = receiver.requests[1]
    h = req["headers"]
    assert (h["X-Wuye-Event"], h["X-Wuye-Delivery"]) == ("demand.resolved", d.uid)
    # What a receiver does with the secret it was shown once.
    assert logic.verify(secret, h, req["body"])
    expected = "sha256=" + hmac.new(secret.encode(), f"{h['X-Wuye-Timestamp']}.".encode() + req["body"],
                                    hashlib.sha256).hexdigest()
    assert h["X-Wuye-Signature"] == expected
    assert not logic.verify("whsec_wrong", h, req["body"])
    assert not logic.verify(secret, h, req["body"] + b" ")
    body = json.loads(req["body"])
    assert set(body) == {"id", "kind", "at", "district", "data"}
    assert (body["kind"], body["district"]) == ("demand.resolved", "alpha")
    data = body["data"]
    assert (data["demand_id"], data["status"], data["resolution"], data["channel"]) == (
        did, "resolved", "已更换灯泡", "hotline_12345")
    assert data["number"].startswith("SQ")
    assert receiver.requests[0]["body"] == req["body"]      # every attempt sends the same bytes

    # The list shows each delivery's status, attempts and response code.
    as_user(client, "alpha-district")
    with app.app_context(), tenant_scope(a.tenant_id):
        sub_id = db.session.execute(select(WebhookSubscription.id)).scalar_one()
    html = client.get(f"/d/alpha/api-clients/webhooks/{sub_id}").get_data(as_text=True)
    assert 'data-status="succeeded"' in html and 'data-testid="code">200<' in html
    # Other roles: the pages do not exist for them.
    as_user(client, "alpha-community")
    assert client.get(f"/d/alpha/api-clients/webhooks/{sub_id}").status_code == 404
    assert client.get(f"/d/alpha/api-clients/{cid}/webhooks").status_code == 404


def test_failures_back_off_then_give_up_and_resend(app, client, world, no_kick):
    a = world["alpha"]
    cid = make_client(app, a)
    with FakeServer(default=(503, b"down")) as receiver:
        login(client, "alpha-district")
        subscribe(client, "alpha", cid, receiver.url + "/h", ["demand.resolved"])
        _flow(app, client, a)
        t = now()
        with app.app_context(), tenant_scope(a.tenant_id):
            waits = []
            for _ in range(logic.MAX_ATTEMPTS):
                logic.deliver_due(t)
                d = db.session.execute(select(WebhookDelivery)).scalar_one()
                db.session.refresh(d)
                if d.status == "retry":
                    waits.append(int((d.next_at - t).total_seconds()))
                    t = d.next_at
            assert waits == [60, 300, 1800, 7200, 43200]
            assert (d.status, d.attempts, d.response_code) == ("failed", 6, 503)
        assert len(receiver.requests) == 6
        receiver.default = (204, b"")
        as_user(client, "alpha-district")
        html = client.get(f"/d/alpha/api-clients/webhooks/{d.subscription_id}").get_data(as_text=True)
        assert 'data-status="failed"' in html and 'data-testid="code">503<' in html and "已放弃" in html
        assert post(client, f"/d/alpha/api-clients/webhooks/{d.subscription_id}/deliveries/{d.id}/resend"
                    ).status_code == 302
        with app.app_context(), tenant_scope(a.tenant_id):
            assert logic.deliver_due(now())["succeeded"] == 1
        html = client.get(f"/d/alpha/api-clients/webhooks/{d.subscription_id}").get_data(as_text=True)
        assert 'data-testid="code">204<' in html


def test_an_unreachable_receiver_is_retried_and_a_paused_subscription_waits(app, client, world, no_kick):
    a = world["alpha"]
    cid = make_client(app, a)
    login(client, "alpha-district")
    subscribe(client, "alpha", cid, "http://127.0.0.1:9/unreachable", ["demand.dispatched"])
    cats = setup_categories(app, a)
    as_user(client, "alpha-community")
    did = int(staff_intake(client, a, cats).headers["Location"].rsplit("/", 1)[1])
    post(client, f"/d/alpha/demands/{did}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1})
    with app.app_context(), tenant_scope(a.tenant_id):
        assert logic.deliver_due(now())["retry"] == 1
        d = db.session.execute(select(WebhookDelivery)).scalar_one()
        assert d.response_code is None and d.last_error.startswith("无法连接")
        sub = db.session.get(WebhookSubscription, d.subscription_id)
        sub.active = False
        db.session.commit()
        assert logic.deliver_due(now() + timedelta(hours=1)) == {"succeeded": 0, "retry": 0, "failed": 0}
        # Active again but its client revoked: nothing goes to it either.
        sub.active = True
        db.session.get(ApiClient, cid).revoked_at = now()
        db.session.commit()
        assert logic.deliver_due(now() + timedelta(hours=1)) == {"succeeded": 0, "retry": 0, "failed": 0}
        assert db.session.get(WebhookDelivery, d.id).attempts == 1


def test_a_rolled_back_change_delivers_nothing(app, client, world, no_kick):
    a = world["alpha"]
    cid = make_client(app, a)
    login(client, "alpha-district")
    subscribe(client, "alpha", cid, "https://example.invalid/h", list(logic.KINDS))
    cats = setup_categories(app, a)
    as_user(client, "alpha-community")
    did = int(staff_intake(client, a, cats).headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(a.tenant_id):
        events.emit("demand.closed", "demand", did, compound_id=db.session.get(Demand, did).compound_id)
        assert db.session.execute(select(func.count(WebhookDelivery.id))).scalar_one() == 1
        db.session.rollback()
        assert db.session.execute(select(func.count(WebhookDelivery.id))).scalar_one() == 0


def test_a_commit_kicks_delivery_without_waiting_for_the_sweep(app, client, world, rq_worker):
    """Inline: after the view's commit, in the same request; with Redis: an RQ job."""
    import time
    a = world["alpha"]
    cid = make_client(app, a)
    with FakeServer(default=(200, b"ok")) as receiver:
        login(client, "alpha-district")
        subscribe(client, "alpha", cid, receiver.url + "/k", ["demand.dispatched"])
        cats = setup_categories(app, a)
        as_user(client, "alpha-community")
        did = int(staff_intake(client, a, cats).headers["Location"].rsplit("/", 1)[1])
        post(client, f"/d/alpha/demands/{did}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1})
        deadline = time.time() + 30
        while time.time() < deadline and not receiver.requests:
            time.sleep(0.2)
        assert [r["headers"]["X-Wuye-Event"] for r in receiver.requests] == ["demand.dispatched"]
    for _ in range(50):
        got = _deliveries(app, a)
        if got and got[0].status == "succeeded":
            break
        time.sleep(0.2)
    assert [(d.status, d.response_code) for d in got] == [("succeeded", 200)]
