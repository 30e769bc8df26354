"""Demand channels the district configures (wuye_saas/demands/logic.py channels()): its own
channels used at intake and named everywhere, built-ins switched off (never 网上), and the
dashboard's 12345 热线诉求量 by month in the viewer's scope."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from sqlalchemy import event, func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.audit_log import display
from wuye_saas.auth.models import Membership, User
from wuye_saas.demands import logic
from wuye_saas.demands.models import Demand, DemandChannel
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now

from .helpers import login, post
from .test_demands import as_user, setup_categories, staff_intake


def channel_rows(app, ns) -> dict[str, tuple[str, bool]]:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return {r.code: (r.name, r.active) for r in db.session.execute(select(DemandChannel)).scalars()}


def demand_count(app, ns) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.execute(select(func.count(Demand.id))).scalar()


def add_channel(client, name="400 党员热线", sort="5", active="y"):
    data = {"name": name, "sort": sort}
    if active:
        data["active"] = active
    return post(client, "/d/alpha/demands/channels", data)


def test_custom_channel_added_used_at_intake_and_shown_everywhere(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-district")
    assert add_channel(client).status_code == 302
    rows = channel_rows(app, a)
    [(code, (name, active))] = rows.items()
    with app.app_context(), tenant_scope(a.tenant_id):
        row = db.session.execute(select(DemandChannel)).scalar_one()
        assert code == f"c{row.id}" and (name, active) == ("400 党员热线", True)
    html = client.get("/d/alpha/demands/channels").get_data(as_text=True)
    assert f'data-channel="{code}"' in html and "400 党员热线" in html and "本区新增" in html

    as_user(client, "alpha-community")
    form = client.get("/d/alpha/demands/new").get_data(as_text=True)
    assert f'value="{code}"' in form and "400 党员热线" in form and 'value="online"' not in form
    resp = staff_intake(client, a, cats, channel=code, title="党员热线：楼道堆物")
    assert resp.status_code == 302
    resp2 = staff_intake(client, a, cats, title="12345：路灯")
    assert resp2.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.execute(select(Demand).filter_by(title="党员热线：楼道堆物")).scalar_one()
        assert d.channel == code
        demand_id = d.id
        assert d.events[0].note == "400 党员热线受理"

    detail = client.get(f"/d/alpha/demands/{demand_id}").get_data(as_text=True)
    assert "400 党员热线" in detail
    listing = client.get("/d/alpha/demands/?tab=all").get_data(as_text=True)
    assert "400 党员热线" in listing and f'<option value="{code}"' in listing
    filtered = client.get(f"/d/alpha/demands/?tab=all&channel={code}").get_data(as_text=True)
    assert "党员热线：楼道堆物" in filtered and "12345：路灯" not in filtered

    from openpyxl import load_workbook
    export = client.get(f"/d/alpha/demands/export.xlsx?tab=all&channel={code}")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][3] == "渠道" and [r[3] for r in rows[1:-1]] == ["400 党员热线"]

    # The audit log shows the district's name for the stored code, built-ins their fixed names.
    with app.app_context(), tenant_scope(a.tenant_id):
        evs = db.session.execute(select(AuditEvent).where(
            AuditEvent.tenant_id == a.tenant_id, AuditEvent.entity == "demand", AuditEvent.action == "create")
            .order_by(AuditEvent.id)).scalars().all()
        shown = [next(c.value for c in r.changes if c.label == "受理渠道") for r in display.rows(evs)]
        assert shown == ["400 党员热线", "12345 热线"]
    as_user(client, "alpha-district")
    log = client.get("/d/alpha/audit/?entity=demand_channel").get_data(as_text=True)
    assert "诉求受理渠道" in log and "400 党员热线" in log


def test_deactivated_channels_not_offered_old_demands_keep_their_names(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-district")
    add_channel(client, "民情恳谈会")
    code = next(iter(channel_rows(app, a)))
    as_user(client, "alpha-community")
    assert staff_intake(client, a, cats, channel=code, title="恳谈会：加装电梯").status_code == 302
    assert staff_intake(client, a, cats, channel="petition", title="信访：噪音").status_code == 302

    as_user(client, "alpha-district")
    row_id = int(code[1:])
    assert post(client, f"/d/alpha/demands/channels/{row_id}/edit",
                {"name": "民情恳谈会", "sort": "5"}).status_code == 302          # 启用 unticked
    assert post(client, "/d/alpha/demands/channels/builtin", {"code": "petition", "active": "0"}).status_code == 302
    rows = channel_rows(app, a)
    assert rows[code] == ("民情恳谈会", False) and rows["petition"] == ("信访", False)

    as_user(client, "alpha-community")
    form = client.get("/d/alpha/demands/new").get_data(as_text=True)
    assert f'value="{code}"' not in form and 'value="petition"' not in form and 'value="visit"' in form
    before = demand_count(app, a)
    for channel in (code, "petition"):
        resp = staff_intake(client, a, cats, channel=channel, title="不应登记")
        assert resp.status_code == 422 and "不是有效的选择。" in resp.get_data(as_text=True)
    assert demand_count(app, a) == before
    # The logic refuses too (a form bypassed), with nothing written.
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        mem = _membership("alpha-community")
        data = logic.Intake(cats["维修"], "绕过表单", "", "李女士", "13912345678", channel=code)
        try:
            logic.intake(mem, a.compound1, data)
        except logic.DemandProblem as e:
            assert e.message == "请选择受理渠道（只能选择本区启用的渠道）。" and e.field == "channel"
        else:
            raise AssertionError("an inactive channel was accepted")
        db.session.rollback()
    assert demand_count(app, a) == before

    listing = client.get("/d/alpha/demands/?tab=all").get_data(as_text=True)
    assert "民情恳谈会" in listing and "信访" in listing
    with app.app_context(), tenant_scope(a.tenant_id):
        assert logic.channel_labels()[code] == "民情恳谈会"
    # Switched on again, it is offered again.
    as_user(client, "alpha-district")
    post(client, "/d/alpha/demands/channels/builtin", {"code": "petition", "active": "1"})
    as_user(client, "alpha-community")
    assert 'value="petition"' in client.get("/d/alpha/demands/new").get_data(as_text=True)


def _membership(username: str) -> Membership:
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one()
    return db.session.execute(select(Membership).filter_by(user_id=user.id)).scalar_one()


def test_refusals_online_stays_on_and_only_the_district_configures(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/demands/channels/builtin", {"code": "online", "active": "0"})
    assert resp.status_code == 409
    assert "“网上（居民自助）”是居民自助提交的渠道，不能停用。" in resp.get_data(as_text=True)
    assert post(client, "/d/alpha/demands/channels/builtin", {"code": "nope", "active": "0"}).status_code == 404
    for name, message in (("", "请填写渠道名称。"), ("长" * 31, "渠道名称不能超过 30 个字。"),
                          ("12345 热线", "已有同名渠道。"), ("网上（居民自助）", "已有同名渠道。")):
        resp = add_channel(client, name)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), name
    resp = add_channel(client, "议事会", sort="10000")
    assert resp.status_code == 422 and "排序应在 0 到 9999 之间。" in resp.get_data(as_text=True)
    assert channel_rows(app, a) == {}
    # The channels page names 网上 as not switchable and offers no button for it.
    html = client.get("/d/alpha/demands/channels").get_data(as_text=True)
    assert "居民自助，不能停用" in html and 'name="code" value="online"' not in html
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        try:
            logic.set_builtin_active("online", False)
        except logic.DemandProblem as e:
            assert e.status == 409
        else:
            raise AssertionError("online was switched off")
        assert db.session.execute(select(DemandChannel)).first() is None

    # Others of the district neither see nor use the configuration.
    for user in ("alpha-community", "alpha-street"):
        as_user(client, user)
        assert client.get("/d/alpha/demands/channels").status_code == 403
        assert add_channel(client, "越权渠道").status_code == 403
        assert post(client, "/d/alpha/demands/channels/builtin", {"code": "visit", "active": "0"}).status_code == 403
    assert channel_rows(app, a) == {}


def _demand(ns, cat_id: int, compound_id: int, channel: str, received_at: datetime, n: int) -> None:
    db.session.add(Demand(number=f"SQ-T{n:04d}", compound_id=compound_id, category_id=cat_id, channel=channel,
                          title=f"测试{n}", received_at=received_at, deadline_at=received_at + timedelta(days=3)))


def test_hotline_12345_by_month_exact_per_scope_in_one_query(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    cat = cats["维修"]
    at = datetime(2026, 11, 20, 4, 0)                     # 2026-11-20 12:00 Shanghai
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        n = 0
        # (compound, channel, received_at as naive UTC); Shanghai is UTC+8.
        for compound, channel, when in [
            (a.compound1, "hotline_12345", datetime(2026, 10, 31, 15, 59)),   # 10-31 23:59 → October
            (a.compound1, "hotline_12345", datetime(2026, 10, 31, 16, 0)),    # 11-01 00:00 → November
            (a.compound1, "hotline_12345", datetime(2026, 11, 3, 1, 0)),
            (a.compound1, "petition", datetime(2026, 11, 3, 1, 0)),           # another channel
            (a.compound2, "hotline_12345", datetime(2026, 10, 5, 1, 0)),
            (a.compound2, "hotline_12345", datetime(2026, 11, 6, 1, 0)),
            (a.compound2, "hotline_12345", datetime(2026, 11, 7, 1, 0)),
            (a.compound1, "hotline_12345", datetime(2025, 11, 30, 15, 59)),   # 2025-11-30 23:59: too old
            (a.compound1, "hotline_12345", datetime(2025, 11, 30, 16, 0)),    # 2025-12-01: the first month
            (a.compound2, "hotline_12345", datetime(2026, 11, 30, 16, 0)),    # December: after this month
        ]:
            n += 1
            _demand(a, cat, compound, channel, when, n)
        db.session.commit()

        district, street = _membership("alpha-district"), _membership("alpha-street")
        statements = []
        listener = lambda *args: statements.append(args[2])   # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            whole = dict(logic.hotline_by_month(district, at))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        assert list(whole) == [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 12)]
        assert whole[date(2026, 10, 1)] == 2 and whole[date(2026, 11, 1)] == 4
        assert whole[date(2025, 12, 1)] == 1 and sum(whole.values()) == 7
        mine = dict(logic.hotline_by_month(street, at))     # street 1: compound 1 only
        assert mine[date(2026, 10, 1)] == 1 and mine[date(2026, 11, 1)] == 2
        assert mine[date(2025, 12, 1)] == 1 and sum(mine.values()) == 4


def test_dashboard_shows_this_months_12345_count_in_scope(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    at = now()
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for n, compound in enumerate((a.compound1, a.compound2, a.compound2), start=1):
            _demand(a, cats["维修"], compound, "hotline_12345", at - timedelta(minutes=n), n)
        db.session.commit()
        month = logic.month_starts(at)[-1]
    label = f"{month:%Y年%m月}"
    for user, count in (("alpha-district", 3), ("alpha-street", 1)):
        as_user(client, user)
        html = client.get("/d/alpha/").get_data(as_text=True)
        assert "12345 热线诉求量（近 12 个月）" in html, user
        assert f'data-month="{label}">{count}</td>' in html, user
