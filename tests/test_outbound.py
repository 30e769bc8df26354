"""Outbound requests to addresses a district configured (issue 17's webhooks and SMS/WeChat
endpoints): nothing reaches the server's own network unless the operator allowed it, plain http
only inside such a network, no redirect followed, and the check is made again at each request."""
from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from wuye_saas import outbound
from wuye_saas.extensions import db
from wuye_saas.notifications.models import ProviderConfig
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now
from wuye_saas.webhooks import logic
from wuye_saas.webhooks.models import WebhookDelivery, WebhookSubscription

from .fakeserver import FakeServer
from .helpers import login, post
from .test_webhooks import _flow, make_client, no_kick, subscribe  # noqa: F401 — fixture

INTERNAL = ["https://127.0.0.1/h", "https://localhost:8443/h", "https://[::1]/h", "https://[::ffff:127.0.0.1]/h",
            "https://10.20.0.5/h", "https://192.168.1.1/h", "https://172.16.0.1/h", "https://100.64.0.1/h",
            "http://169.254.169.254/latest/meta-data/", "https://0.0.0.0/h", "https://224.0.0.1/h"]


@pytest.fixture
def closed(app, monkeypatch):
    """Production's default: no network outside the internet is allowed."""
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOWED_NETWORKS", [])


def test_the_rule_for_addresses(app, closed):
    with app.app_context():
        ok = [outbound.allowed(ipaddress.ip_address(a)) for a in ("8.8.8.8", "2400:3200::1", "127.0.0.1", "10.0.0.1",
                                                                 "169.254.169.254", "::ffff:10.0.0.1", "fe80::1",
                                                                 "224.0.0.1")]
        assert ok == [True, True, False, False, False, False, False, False]
        app.config["OUTBOUND_ALLOWED_NETWORKS"] = ["10.20.0.0/16"]
        assert outbound.allowed(ipaddress.ip_address("10.20.3.4"))
        assert outbound.allowed(ipaddress.ip_address("::ffff:10.20.3.4"))
        assert not outbound.allowed(ipaddress.ip_address("10.21.0.1"))
        outbound.check_url("http://10.20.3.4:8080/12345/callback")        # http inside the allowed network
        with pytest.raises(outbound.Refused, match="必须使用 https"):
            outbound.check_url("http://8.8.8.8/h")
        with pytest.raises(outbound.Refused, match="用户名或密码"):
            outbound.check_url("https://u:p@8.8.8.8/h")
        with pytest.raises(outbound.Refused, match="端口号"):
            outbound.check_url("https://8.8.8.8:99999/h")


def test_a_webhook_to_an_internal_address_is_refused_and_nothing_is_written(app, client, world, closed):
    a = world["alpha"]
    cid = make_client(app, a)
    login(client, "alpha-district")
    for url in INTERNAL:
        resp = post(client, f"/d/alpha/api-clients/{cid}/webhooks", {"url": url, "kinds": ["demand.resolved"]})
        assert resp.status_code == 422, url
        assert "内部网络" in resp.get_data(as_text=True), url
    resp = post(client, f"/d/alpha/api-clients/{cid}/webhooks", {"url": "http://8.8.8.8/h", "kinds": ["demand.resolved"]})
    assert resp.status_code == 422 and "必须使用 https://" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(WebhookSubscription.id))).scalar_one() == 0


def test_the_address_is_checked_again_when_sending(app, client, world, no_kick, monkeypatch):
    """Allowed when subscribed (the operator's network), refused once the operator closes it: the
    receiver gets nothing and the delivery says why."""
    a = world["alpha"]
    cid = make_client(app, a)
    with FakeServer(default=(200, b"ok")) as receiver:
        login(client, "alpha-district")
        subscribe(client, "alpha", cid, receiver.url + "/h", ["demand.resolved"])
        _flow(app, client, a)
        monkeypatch.setitem(app.config, "OUTBOUND_ALLOWED_NETWORKS", [])
        with app.app_context(), tenant_scope(a.tenant_id):
            assert logic.deliver_due(now()) == {"succeeded": 0, "retry": 1, "failed": 0}
            d = db.session.execute(select(WebhookDelivery)).scalar_one()
            assert d.last_error.startswith("拒绝发送：该地址指向内部网络（127.0.0.1）")
        assert receiver.requests == []


def test_a_redirect_is_not_followed(app, client, world, no_kick):
    a = world["alpha"]
    cid = make_client(app, a)
    with FakeServer(default=(200, b"secret inside")) as inside, \
            FakeServer(default=(302, b"", {"Location": inside.url + "/admin"})) as receiver:
        login(client, "alpha-district")
        subscribe(client, "alpha", cid, receiver.url + "/h", ["demand.resolved"])
        _flow(app, client, a)
        with app.app_context(), tenant_scope(a.tenant_id):
            assert logic.deliver_due(now()) == {"succeeded": 0, "retry": 1, "failed": 0}
            d = db.session.execute(select(WebhookDelivery)).scalar_one()
            assert (d.response_code, d.last_error) == (302, "HTTP 302")
            assert d.next_at > now() + timedelta(seconds=50)
        assert len(receiver.requests) == 1 and inside.requests == []


def test_an_sms_endpoint_on_the_internal_network_is_refused(app, client, world, closed):
    a = world["alpha"]
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/inbox/channels/sms", {
        "provider": "aliyun", "endpoint": "http://169.254.169.254/latest/", "key_id": "LTAI5t",
        "secret": "verysecretvalue1234", "sign_name": "红色物业", "rate_per_minute": "30", "quiet_start": "22",
        "quiet_end": "8"})
    assert resp.status_code == 422 and "内部网络（169.254.169.254）" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(ProviderConfig.id))).scalar_one() == 0
