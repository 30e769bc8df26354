"""Notifications (issue 17): who gets which inbox item and nobody else, the bell, marking read,
preferences routing SMS, quiet hours, the outbox through a local fake provider (retries, rate
limit, never twice, a crash leaves it uncertain), reminders once, a rollback tells nobody."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from wuye_saas import events
from wuye_saas.audit import acting_as
from wuye_saas.auth.models import Membership, User
from wuye_saas.demands.models import Demand
from wuye_saas.evaluation.models import Assessment, Evaluation, Standard
from wuye_saas.extensions import db
from wuye_saas.notifications import handlers, outbox, reminders
from wuye_saas.notifications.models import (
    InboxItem, MessageTemplate, NotifyPreference, OutboxMessage, ProviderConfig,
)
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import SHANGHAI, now, today

from .fakeserver import FakeServer
from .helpers import login, post
from .test_demands import add_member, as_user, setup_categories, staff_intake
from .test_evaluation_workflow import ev_world, open_cycle  # noqa: F401 — a fixture

PHONE = "13912345678"


@pytest.fixture
def no_kick(app, monkeypatch):
    """The tests below drive the sender themselves: no delivery started by a commit."""
    monkeypatch.setitem(app.config, "NOTIFY_KICK", False)


def _utc(y, mo, d, h, mi=0):
    """A Shanghai wall-clock time as naive UTC."""
    from datetime import timezone
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


def _items(app, ns, username=None):
    """[(username, kind, title)] of the district's inbox, or of one user's."""
    with app.app_context(), tenant_scope(ns.tenant_id):
        stmt = (select(User.username, InboxItem.kind, InboxItem.title)
                .join(Membership, Membership.id == InboxItem.membership_id)
                .join(User, User.id == Membership.user_id).order_by(InboxItem.id))
        if username:
            stmt = stmt.where(User.username == username)
        return [tuple(r) for r in db.session.execute(stmt).all()]


def _outbox(app, ns):
    with app.app_context(), tenant_scope(ns.tenant_id):
        return [(m.channel, m.kind, m.recipient) for m in
                db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def _dispatched_demand(app, client, a, **over):
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    did = int(staff_intake(client, a, cats, **over).headers["Location"].rsplit("/", 1)[1])
    assert post(client, f"/d/alpha/demands/{did}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}
                ).status_code == 302
    return did


def test_dispatch_tells_the_firm_and_nobody_else_then_resolution_and_closing(app, client, world):
    a, b = world["alpha"], world["beta"]
    add_member(app, a, "alpha-firmstaff", "firm_staff", firm_id=a.firm1)
    add_member(app, a, "alpha-firm2", "firm_manager", firm_id=a.firm2)
    add_member(app, a, "alpha-community2", "community_staff", community_id=a.community2)
    did = _dispatched_demand(app, client, a)
    with app.app_context(), tenant_scope(a.tenant_id):
        number = db.session.get(Demand, did).number
    title = f"诉求{number}「3 号楼楼道灯不亮」已派给甲区第1物业公司，请及时接单办理。"
    assert _items(app, a) == [("alpha-firm", "demand.dispatched", title),
                              ("alpha-firmstaff", "demand.dispatched", title)]
    assert _items(app, b) == []

    # The bell: the firm's count on every page; the community has nothing waiting.
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert 'data-testid="bell-count"' not in html and 'data-testid="bell"' in html
    as_user(client, "alpha-firm")
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert re.search(r'data-testid="bell-count">1<', html)
    page = client.get("/d/alpha/inbox/").get_data(as_text=True)
    assert title in page and "1 条未读" in page

    # Accept and resolve: the community (of that compound only) is due a return visit; the
    # resident who left a phone number gets an SMS.
    url = f"/d/alpha/demands/{did}"
    assert post(client, f"{url}/accept").status_code == 302
    assert post(client, f"{url}/resolve", {"note": "已更换灯泡"}).status_code == 302
    visit = f"甲区1号小区诉求{number}「3 号楼楼道灯不亮」已办结，请回访居民。"
    assert _items(app, a)[2:] == [("alpha-community", "demand.resolved", visit)]
    assert _outbox(app, a) == [("sms", "resident.demand_resolved", PHONE)]
    as_user(client, "alpha-community")
    assert post(client, f"{url}/visit", {"satisfaction": "satisfied"}).status_code == 302
    assert _outbox(app, a) == [("sms", "resident.demand_resolved", PHONE), ("sms", "resident.demand_closed", PHONE)]
    assert len(_items(app, a)) == 3 and _outbox(app, b) == []


def test_a_landline_gets_no_sms_and_a_department_is_told(app, client, world):
    a = world["alpha"]
    add_member(app, a, "alpha-department2", "department_staff", department_id=a.department2)
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    did = int(staff_intake(client, a, cats, contact_phone="0355-2021234").headers["Location"].rsplit("/", 1)[1])
    assert post(client, f"/d/alpha/demands/{did}/dispatch",
                {"assignee_kind": "department", "department_id": a.department1}).status_code == 302
    assert [(u, k) for u, k, _ in _items(app, a)] == [("alpha-department", "demand.dispatched")]
    assert _outbox(app, a) == []


def test_escalation_objection_publication_vote_and_credit_reach_their_people(app, world, no_kick):
    from wuye_saas.credit.models import CreditRecordKind
    from wuye_saas.credit import records
    from wuye_saas.publicity import chain, checks
    from wuye_saas.votes.models import OwnerVote

    a, b = world["alpha"], world["beta"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        committee = db.session.execute(select(Membership).where(Membership.role == "committee_member")).scalar_one()
        # A publication: the committee checks it (not its publisher, had it been one of them).
        p = chain.publish(a.compound1, "disclosure", "2026年上半年物业服务信息公开",
                          {"lines": [{"key": "1", "label": "物业费收缴率", "value": "92%"}]},
                          period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), publisher="甲区第1物业公司")
        # An objection on it: a disclosure is the firm's, so the firm serving the compound answers.
        checks.raise_objection(p, committee, "1", "收缴率怎么算的？")
        vote = OwnerVote(compound_id=a.compound1, matter="other", title="更换小区大门门禁")
        db.session.add(vote)
        db.session.flush()
        events.emit("vote.opened", "vote", vote.id, compound_id=a.compound1, data={"title": vote.title})
        bad = CreditRecordKind(code="T1", name="未按时公示", nature="bad", points=Decimal("2"))
        good = CreditRecordKind(code="T2", name="获得表彰", nature="good", points=Decimal("2"))
        db.session.add_all([bad, good])
        db.session.flush()
        records._new_record(a.firm1, bad, today(), "未按时公示2026年一季度公共收益", "staff", "", None)
        records._new_record(a.firm1, good, today(), "获区级表彰", "staff", "", None)   # nothing to object to
        d = Demand(number="SQ1", compound_id=a.compound1, category_id=None, channel="hotline_12345", title="漏水",
                   deadline_at=now())
        from wuye_saas.demands import logic
        logic.ensure_default_categories()
        d.category_id = logic.categories()[0].id
        db.session.add(d)
        db.session.flush()
        events.emit("demand.escalated", "demand", d.id, compound_id=a.compound1, data={"number": "SQ1"})
        db.session.commit()
    got = [(u, k) for u, k, _ in _items(app, a)]
    assert got == [("alpha-committee", "publication.issued"), ("alpha-firm", "objection.raised"),
                   ("alpha-committee", "vote.opened"), ("alpha-firm", "credit.recorded"),
                   ("alpha-street", "demand.escalated")]
    assert _items(app, b) == []


def test_open_marks_read_and_goes_to_the_record_and_read_all(app, client, world, no_kick):
    a = world["alpha"]
    did = _dispatched_demand(app, client, a)
    with app.app_context(), tenant_scope(a.tenant_id):
        firm = db.session.execute(select(Membership).where(Membership.role == "firm_manager")).scalar_one()
        for i in range(2):
            handlers.add_item(firm, "reminder.self_report", f"t:{i}", {"title": f"考核{i}", "due": "1月1日"})
        db.session.commit()
        first = db.session.execute(select(InboxItem.id).where(InboxItem.kind == "demand.dispatched")).scalar_one()
        community_item = handlers.add_item(
            db.session.execute(select(Membership).where(Membership.role == "community_staff")).scalar_one(),
            "reminder.review", "t:c", {"title": "x", "due": "1月1日", "count": 1}).id
        db.session.commit()
    as_user(client, "alpha-firm")
    assert "3 条未读" in client.get("/d/alpha/inbox/").get_data(as_text=True)
    resp = post(client, f"/d/alpha/inbox/{first}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/d/alpha/demands/{did}")
    page = client.get("/d/alpha/inbox/?show=unread").get_data(as_text=True)
    assert "2 条未读" in page and "已派给" not in page
    assert re.search(r'data-testid="bell-count">2<', page)
    # Someone else's item does not exist for this person.
    assert post(client, f"/d/alpha/inbox/{community_item}/read").status_code == 404
    assert post(client, "/d/alpha/inbox/read-all").status_code == 302
    page = client.get("/d/alpha/inbox/").get_data(as_text=True)
    assert "0 条未读" in page and 'data-testid="bell-count"' not in page
    assert page.count('data-read="yes"') == 3
    as_user(client, "alpha-community")
    assert "1 条未读" in client.get("/d/alpha/inbox/").get_data(as_text=True)


def test_preferences_route_sms_and_refuse_a_bad_phone(app, client, world, no_kick):
    a = world["alpha"]
    login(client, "alpha-firm")
    resp = post(client, "/d/alpha/inbox/settings", {"sms_kinds": ["demand.dispatched"], "phone": "12345"})
    assert resp.status_code == 422 and "请填写 11 位手机号码" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/inbox/settings", {"sms_kinds": ["demand.dispatched"]})
    assert resp.status_code == 422 and "选择短信提醒需要手机号码" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/inbox/settings", {"wechat_kinds": ["demand.dispatched"]})
    assert resp.status_code == 422 and "微信 OpenID" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(NotifyPreference)).first() is None
    assert post(client, "/d/alpha/inbox/settings", {"sms_kinds": ["demand.dispatched"], "phone": "13800000001"}
                ).status_code == 302
    client.post("/logout")
    _dispatched_demand(app, client, a)
    assert _outbox(app, a) == [("sms", "demand.dispatched", "13800000001")]
    with app.app_context(), tenant_scope(a.tenant_id):
        body = db.session.execute(select(OutboxMessage.body)).scalar_one()
    assert body.endswith("已派给甲区第1物业公司，请及时接单办理。")


def test_quiet_hours_hold_a_message_until_morning_but_not_an_urgent_one(app, world, no_kick):
    a = world["alpha"]
    late = _utc(2026, 12, 7, 23, 0)
    with app.app_context(), tenant_scope(a.tenant_id):
        calm = outbox.queue("sms", "resident.demand_closed", PHONE, {"number": "SQ1", "title": "灯"}, key="q1", at=late)
        urgent = outbox.queue("sms", "resident.demand_closed", PHONE, {"number": "SQ2", "title": "漏气"}, key="q2",
                              urgent=True, at=late)
        assert calm.next_at == _utc(2026, 12, 8, 8, 0) and urgent.next_at == late
        db.session.commit()
        assert outbox.send_due(late + timedelta(minutes=5))["sent"] == 1
        assert outbox.send_due(_utc(2026, 12, 8, 7, 59))["sent"] == 0
        assert outbox.send_due(_utc(2026, 12, 8, 8, 0))["sent"] == 1
        assert [(m.idem_key, m.status) for m in db.session.execute(
            select(OutboxMessage).order_by(OutboxMessage.id)).scalars()] == [("q1", "sent"), ("q2", "sent")]


def _aliyun(app, a, server, rate=60):
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.add(ProviderConfig(channel="sms", provider="aliyun", endpoint=server.url + "/", key_id="LTAIkey",
                                      secret="s3cret-value", sign_name="红色物业", rate_per_minute=rate,
                                      quiet_start=0, quiet_end=0))
        db.session.add(MessageTemplate(kind="resident.demand_closed", text="您的诉求{number}已关闭。",
                                       sms_template_code="SMS_123"))
        db.session.commit()


def _signature_ok(query: dict, secret: str) -> bool:
    q = dict(query)
    sig = q.pop("Signature")
    canonical = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(q.items()))
    to_sign = "GET&%2F&" + quote(canonical, safe="~")
    return sig == base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def test_outbox_sends_through_a_fake_aliyun_retrying_a_failure_never_twice(app, world, no_kick):
    a = world["alpha"]
    t0 = _utc(2026, 12, 8, 10, 0)
    with FakeServer(default=(200, {"Code": "OK", "Message": "OK", "BizId": "biz-1"})) as server:
        _aliyun(app, a, server)
        server.script.append((500, {"Code": "ServiceUnavailable", "Message": "busy"}))
        with app.app_context(), tenant_scope(a.tenant_id):
            outbox.queue("sms", "resident.demand_closed", PHONE, {"number": "SQ1", "title": "灯"}, key="k1", at=t0)
            db.session.commit()
            assert outbox.send_due(t0)["retry"] == 1
            msg = db.session.execute(select(OutboxMessage)).scalar_one()
            assert (msg.status, msg.attempts, msg.next_at) == ("retry", 1, t0 + timedelta(seconds=60))
            assert "HTTP 500" in msg.last_error
            assert outbox.send_due(t0 + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0,
                                                                    "uncertain": 0, "held": 0}
            assert outbox.send_due(t0 + timedelta(seconds=61))["sent"] == 1
            assert outbox.send_due(t0 + timedelta(hours=1))["sent"] == 0    # done: never again
            db.session.expire_all()
            msg = db.session.execute(select(OutboxMessage)).scalar_one()
            assert (msg.status, msg.attempts, msg.provider_ref) == ("sent", 2, "biz-1")
        assert len(server.requests) == 2
        q = server.requests[1]["query"]
        assert (q["Action"], q["PhoneNumbers"], q["SignName"], q["TemplateCode"], q["OutId"]) == (
            "SendSms", PHONE, "红色物业", "SMS_123", "k1")
        assert q["TemplateParam"] == '{"number": "SQ1", "title": "灯"}'
        assert _signature_ok(q, "s3cret-value")


def test_two_senders_at_once_send_each_message_once(app, world, no_kick):
    a = world["alpha"]
    t0 = _utc(2026, 12, 8, 10, 0)
    with FakeServer(default=(200, {"Code": "OK", "BizId": "b"})) as server:
        _aliyun(app, a, server, rate=1000)
        with app.app_context(), tenant_scope(a.tenant_id):
            for i in range(8):
                outbox.queue("sms", "resident.demand_closed", PHONE, {"number": f"SQ{i}", "title": "t"}, key=f"c{i}",
                             at=t0)
            db.session.commit()
        errors = []

        def run():
            try:
                with app.app_context(), tenant_scope(a.tenant_id):
                    outbox.send_due(t0)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert sorted(r["query"]["OutId"] for r in server.requests) == sorted(f"c{i}" for i in range(8))
        with app.app_context(), tenant_scope(a.tenant_id):
            assert db.session.execute(select(func.count()).where(OutboxMessage.status == "sent")).scalar_one() == 8
            assert db.session.execute(select(func.max(OutboxMessage.attempts))).scalar_one() == 1


def test_a_crash_after_the_claim_leaves_it_uncertain_not_sent_again(app, world, no_kick):
    a = world["alpha"]
    t0 = _utc(2026, 12, 8, 10, 0)
    with FakeServer(default=(200, {"Code": "OK", "BizId": "b"})) as server:
        _aliyun(app, a, server)
        with app.app_context(), tenant_scope(a.tenant_id):
            outbox.queue("sms", "resident.demand_closed", PHONE, {"number": "SQ1", "title": "t"}, key="x1", at=t0)
            db.session.commit()
            # The sender claimed it, (maybe) called the provider, and died before marking it.
            assert outbox.claim("sms", t0, quiet=False) is not None
            assert outbox.send_due(t0 + timedelta(minutes=5))["sent"] == 0
            assert outbox.send_due(t0 + timedelta(minutes=11))["uncertain"] == 1
            assert outbox.send_due(t0 + timedelta(hours=2))["sent"] == 0
            msg = db.session.execute(select(OutboxMessage)).scalar_one()
            assert msg.status == "uncertain" and "未自动重发" in msg.last_error
        assert server.requests == []


def test_the_rate_limit_leaves_the_rest_for_the_next_minute(app, world, no_kick):
    a = world["alpha"]
    t0 = _utc(2026, 12, 8, 10, 0)
    with FakeServer(default=(200, {"Code": "OK", "BizId": "b"})) as server:
        _aliyun(app, a, server, rate=2)
        with app.app_context(), tenant_scope(a.tenant_id):
            for i in range(3):
                outbox.queue("sms", "resident.demand_closed", PHONE, {"number": i, "title": "t"}, key=f"r{i}", at=t0)
            db.session.commit()
            assert outbox.send_due(t0)["sent"] == 2
            assert outbox.send_due(t0 + timedelta(seconds=30))["sent"] == 0
            assert outbox.send_due(t0 + timedelta(seconds=61))["sent"] == 1
        assert len(server.requests) == 3


def test_wechat_template_message_refreshes_an_expired_token(app, world, no_kick):
    a = world["alpha"]
    t0 = _utc(2026, 12, 8, 10, 0)
    tokens = iter(["tok-1", "tok-2"])

    def route(req):
        if req["path"] == "/cgi-bin/token":
            return 200, {"access_token": next(tokens), "expires_in": 7200}
        if req["query"]["access_token"] == "tok-1":
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": 42}

    with FakeServer(handler=route) as server:
        with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
            db.session.add(ProviderConfig(channel="wechat", provider="wechat", endpoint=server.url, key_id="wxapp",
                                          secret="appsecret-1", quiet_start=0, quiet_end=0))
            db.session.add(MessageTemplate(kind="vote.opened", text="{compound}表决「{title}」开始", wechat_template_id="TPL1"))
            db.session.commit()
            outbox.queue("wechat", "vote.opened", "openid-1", {"compound": "1号小区", "title": "换门禁"}, key="w1", at=t0)
            db.session.commit()
            assert outbox.send_due(t0)["sent"] == 1
            msg = db.session.execute(select(OutboxMessage)).scalar_one()
            assert (msg.status, msg.provider_ref) == ("sent", "42")
        import json
        sent = json.loads(server.requests[-1]["body"])
        assert (sent["touser"], sent["template_id"], sent["client_msg_id"]) == ("openid-1", "TPL1", "w1")
        assert sent["data"]["first"]["value"] == "1号小区表决「换门禁」开始"


def test_deadline_reminders_are_added_once(app, world, no_kick):
    a, b = world["alpha"], world["beta"]
    on = today()
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        std = Standard(name="季度标准", status="active", unit="compound")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="quarterly", name="2026年第四季度考核", period_start=date(2026, 10, 1),
                        period_end=date(2026, 12, 31), status="open", self_report_due=on + timedelta(days=2),
                        review_due=on + timedelta(days=20))
        db.session.add(ev)
        db.session.flush()
        db.session.add(Assessment(evaluation_id=ev.id, firm_id=a.firm1, compound_id=a.compound1))
        db.session.commit()
        at = now()
        assert reminders.run_all(at)["self_report"] == 1
        db.session.commit()
        assert reminders.run_all(at)["self_report"] == 0     # never twice
        db.session.commit()
    due = on + timedelta(days=2)
    assert _items(app, a) == [("alpha-firm", "reminder.self_report",
                               f"考核「2026年第四季度考核」的自评将于{due.month}月{due.day}日截止，请尽快完成自评。")]
    assert _items(app, b) == []


def test_a_rolled_back_change_creates_nothing(app, client, world, no_kick):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    did = int(staff_intake(client, a, cats).headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.get(Demand, did)
        d.status, d.assignee_kind, d.firm_id = "resolved", "firm", a.firm1
        events.emit("demand.dispatched", "demand", did, compound_id=d.compound_id)
        events.emit("demand.resolved", "demand", did, compound_id=d.compound_id)
        assert db.session.execute(select(func.count(InboxItem.id))).scalar_one() == 2
        assert db.session.execute(select(func.count(OutboxMessage.id))).scalar_one() == 1
        db.session.rollback()
        assert db.session.execute(select(func.count(InboxItem.id))).scalar_one() == 0
        assert db.session.execute(select(func.count(OutboxMessage.id))).scalar_one() == 0


def test_admin_pages_settings_templates_and_secret_never_shown(app, client, world, no_kick):
    a = world["alpha"]
    login(client, "alpha-firm")
    assert client.get("/d/alpha/inbox/channels").status_code == 403
    assert client.get("/d/alpha/inbox/templates").status_code == 403
    client.post("/logout")
    login(client, "alpha-district")
    assert post(client, "/d/alpha/inbox/channels/sms", {
        "provider": "aliyun", "endpoint": "", "key_id": "LTAI5t", "secret": "verysecretvalue1234",
        "sign_name": "红色物业", "rate_per_minute": "30", "quiet_start": "22", "quiet_end": "8"}).status_code == 302
    page = client.get("/d/alpha/inbox/channels").get_data(as_text=True)
    assert "verysecretvalue1234" not in page and "尾号 1234" in page
    form = client.get("/d/alpha/inbox/channels/sms").get_data(as_text=True)
    assert "verysecretvalue1234" not in form
    # Saved again without a secret: the old one is kept.
    assert post(client, "/d/alpha/inbox/channels/sms", {
        "provider": "aliyun", "key_id": "LTAI5t", "secret": "", "sign_name": "红色物业", "rate_per_minute": "30",
        "quiet_start": "22", "quiet_end": "8"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(ProviderConfig.secret)).scalar_one() == "verysecretvalue1234"
    resp = post(client, "/d/alpha/inbox/templates/demand.dispatched", {"text": "诉求{number}{secret}"})
    assert resp.status_code == 422 and "不能使用占位符 {secret}" in resp.get_data(as_text=True)
    assert post(client, "/d/alpha/inbox/templates/demand.dispatched",
                {"text": "【派单】{number}：{title}", "sms_template_code": "SMS_9"}).status_code == 302
    assert "【派单】{number}：{title}" in client.get("/d/alpha/inbox/templates").get_data(as_text=True)
    assert client.get("/d/alpha/inbox/outbox").status_code == 200


def test_a_publication_due_soon_reminds_its_keeper_once_and_not_after_it_is_published(app, world, no_kick):
    from wuye_saas.publicity import chain
    from wuye_saas.publicity.models import PublicityRequirement

    a = world["alpha"]
    on = date(2026, 12, 7)      # November's statement is due by 12月10日 (10 days' grace)
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.add(PublicityRequirement(kind="ledger_statement", ledger_kind="public_revenue", frequency="monthly",
                                            grace_days=10))
        db.session.flush()
        # The second compound has published it already.
        chain.publish(a.compound2, "ledger_statement", "2026年11月公共收益收支情况", {"ledger_kind": "public_revenue"},
                      period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), publisher="业委会")
        assert reminders.publications(on) == 1
        assert reminders.publications(on) == 0     # never twice
        assert reminders.publications(date(2026, 12, 1)) == 0   # 9 days ahead: not yet near
        db.session.commit()
    # Public revenue is the committee's ledger by default: the compound's committee is reminded.
    got = [(u, k, t) for u, k, t in _items(app, a) if k == "reminder.publication"]
    assert got == [("alpha-committee", "reminder.publication",
                    "甲区1号小区的账目公示（公共收益）（2026-11-01 至 2026-11-30，每月）应于12月10日前公示，目前尚未公示。")]


# --- what waits for the district admin, the assessor and the grid worker --------------------------

def test_a_credit_objection_waits_for_the_district_admins(app, client, world, no_kick):
    from wuye_saas.credit.models import CreditObjection

    from .test_credit import add, seeded
    a = world["alpha"]
    seeded(app, a)
    rec = add(app, a, a.firm1, "court_judgment", today() - timedelta(days=1))
    before = len(_items(app, a))
    login(client, "alpha-firm")
    resp = post(client, f"/d/alpha/credit/records/{rec}/objection", {"reason": ""})
    assert resp.status_code == 422 and len(_items(app, a)) == before      # refused: nobody told
    assert post(client, f"/d/alpha/credit/records/{rec}/objection",
                {"reason": "判决已被撤销，附二审判决书。"}).status_code == 302
    new = _items(app, a)[before:]
    assert [(u, k) for u, k, _ in new] == [("alpha-district", "credit.objected")]
    assert new[0][2].startswith("甲区第1物业公司对信用记录「") and new[0][2].endswith("」提出异议，请在期限内裁定。")
    assert _items(app, world["beta"]) == []
    with app.app_context(), tenant_scope(a.tenant_id):
        obj = db.session.execute(select(CreditObjection.id)).scalar_one()
        item = db.session.execute(select(InboxItem.id).where(InboxItem.kind == "credit.objected")).scalar_one()
    as_user(client, "alpha-district")
    resp = post(client, f"/d/alpha/inbox/{item}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/d/alpha/credit/objections/{obj}")


def test_an_assessor_is_told_of_the_items_given_to_it_once(app, client, ev_world, no_kick):
    w = ev_world
    eid = open_cycle(app, w)
    d_item = w["std"]["D"]
    login(client, "alpha-district")
    url = f"/d/alpha/evaluations/{eid}/assessors"
    assert post(client, url, {f"item-{d_item}": str(w["assessor"])}).status_code == 302
    assert post(client, url, {f"item-{d_item}": str(w["assessor"])}).status_code == 302     # unchanged: no news
    assert _items(app, w["ns"], "alpha-assessor") == [
        ("alpha-assessor", "evaluation.assigned", "您已被指派为考核「测试季测评小区」的第三方测评，共1个考核项待打分。")]
    assert [k for _, k, _ in _items(app, w["ns"]) if k == "evaluation.assigned"] == ["evaluation.assigned"]
    with app.app_context(), tenant_scope(w["ns"].tenant_id):
        item = db.session.execute(select(InboxItem.id).where(InboxItem.kind == "evaluation.assigned")).scalar_one()
    as_user(client, "alpha-assessor")
    resp = post(client, f"/d/alpha/inbox/{item}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/d/alpha/evaluations/{eid}")
    assert client.get(resp.headers["Location"]).status_code == 200


def test_the_grid_worker_hears_when_its_patrol_report_is_resolved(app, client, world, no_kick):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-grid")
    did = int(staff_intake(client, a, cats, channel="patrol", title="5号楼外墙瓷砖松动"
                           ).headers["Location"].rsplit("/", 1)[1])
    as_user(client, "alpha-community")
    assert post(client, f"/d/alpha/demands/{did}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}
                ).status_code == 302
    as_user(client, "alpha-firm")
    assert post(client, f"/d/alpha/demands/{did}/accept").status_code == 302
    assert post(client, f"/d/alpha/demands/{did}/resolve", {"note": "已清除松动瓷砖并设置围挡"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        number = db.session.get(Demand, did).number
    assert _items(app, a, "alpha-grid") == [
        ("alpha-grid", "demand.taken_resolved", f"您登记的诉求{number}「5号楼外墙瓷砖松动」已由甲区第1物业公司办结。")]
    # A demand the community took in tells the community only, not the grid worker.
    did2 = _dispatched_demand(app, client, a)
    as_user(client, "alpha-firm")
    assert post(client, f"/d/alpha/demands/{did2}/accept").status_code == 302
    assert post(client, f"/d/alpha/demands/{did2}/resolve", {"note": "已修复"}).status_code == 302
    assert len(_items(app, a, "alpha-grid")) == 1
