"""A district's accounts and memberships, managed by its district admin."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.auth.models import Membership, User
from wuye_saas.extensions import db
from wuye_saas.tenancy import system_scope

from .helpers import PASSWORD, csrf_token, login, post

NEW_PW = "Fresh-pass-77"


def _account(**changes):
    data = {"username": "li-grid", "display_name": "李网格", "phone": "13912345678",
            "password": NEW_PW, "confirm": NEW_PW, "role": "community_staff"}
    return data | changes


def _counts(app):
    with app.app_context(), system_scope():
        return tuple(db.session.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (User, Membership, AuditEvent))


def _user(app, username):
    with app.app_context(), system_scope():
        return db.session.execute(select(User).filter_by(username=username)).scalar_one()


def _memberships(app, username):
    with app.app_context(), system_scope():
        stmt = (select(Membership).join(User).where(User.username == username).order_by(Membership.id))
        return [dict(id=m.id, tenant_id=m.tenant_id, role=m.role, active=m.active, is_chair=m.is_chair,
                     street_id=m.street_id, community_id=m.community_id, firm_id=m.firm_id,
                     compound_id=m.compound_id) for m in db.session.execute(stmt).scalars()]


def _login_fails(app, username, password=PASSWORD):
    c = app.test_client()
    resp = c.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(c)})
    return resp.status_code == 401


def test_admin_creates_community_staff_who_sees_only_their_community(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/users/new", _account(community_id=a.community1))
    assert resp.status_code == 302
    user = _user(app, "li-grid")
    assert resp.headers["Location"] == f"/d/alpha/users/{user.id}"
    assert (user.display_name, user.phone) == ("李网格", "13912345678")
    [m] = _memberships(app, "li-grid")
    assert (m["tenant_id"], m["role"], m["community_id"], m["active"], m["street_id"]) == (
        a.tenant_id, "community_staff", a.community1, True, None)

    with app.app_context(), system_scope():
        events = db.session.execute(select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.tenant_id,
                                           AuditEvent.actor, AuditEvent.changes)
                                    .where(AuditEvent.entity.in_(["user", "membership"]),
                                           AuditEvent.user_id.is_not(None))).all()
    by_entity = {e.entity: e for e in events}
    assert by_entity["user"].entity_id == user.id and by_entity["user"].tenant_id == a.tenant_id
    assert by_entity["user"].actor == "甲区district"
    assert "password_hash" not in by_entity["user"].changes  # secrets never reach the log
    assert by_entity["membership"].entity_id == m["id"] and by_entity["membership"].tenant_id == a.tenant_id

    staff = app.test_client()
    assert login(staff, "li-grid", NEW_PW).headers["Location"] == "/d/alpha/"
    html = staff.get("/d/alpha/compounds/").get_data(as_text=True)
    assert "甲区1号小区" in html and "甲区2号小区" not in html
    assert staff.get(f"/d/alpha/compounds/{a.compound2}").status_code == 404
    assert staff.get("/d/alpha/users/").status_code == 403


@pytest.mark.parametrize("changes, field, message", [
    ({}, "community_id", "请选择所属社区"),
    ({"community_id": "BETA"}, "community_id", "所选社区不存在或不属于本区"),
    ({"role": "firm_manager", "firm_id": "BETA_FIRM"}, "firm_id", "所选物业企业不存在或不属于本区"),
    # A stale form (role changed without JavaScript): the community id is not read as a firm id.
    ({"role": "firm_manager", "community_id": "ALPHA"}, "firm_id", "请选择所属物业企业"),
    ({"role": "mayor"}, "role", "请选择有效的角色"),
    ({"role": ""}, "role", "请选择角色"),
    ({"username": "alpha-street"}, "username", "该用户名已被使用"),
    ({"username": "ab"}, "username", "用户名为 3–60 位"),
    ({"password": "abcdefgh", "confirm": "abcdefgh"}, "password", "密码需同时包含字母和数字"),
    ({"confirm": "Other-pass-1"}, "confirm", "两次输入的密码不一致"),
    ({"phone": "12345"}, "phone", "请填写 11 位手机号或带区号的固定电话"),
    ({"display_name": ""}, "display_name", "请填写姓名"),
])
def test_bad_account_input_writes_nothing(app, client, world, changes, field, message):
    a, b = world["alpha"], world["beta"]
    ids = {"BETA": b.community1, "BETA_FIRM": b.firm1, "ALPHA": a.community1}
    data = {k: ids.get(v, v) for k, v in _account(**changes).items()}
    if "community_id" not in changes and data["role"] == "community_staff" and field != "community_id":
        data["community_id"] = a.community1
    login(client, "alpha-district")
    before = _counts(app)
    resp = post(client, "/d/alpha/users/new", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html and "账号尚未创建" in html
    assert _counts(app) == before


def test_scope_field_follows_role_with_this_districts_records_only(app, client, world):
    a, b = world["alpha"], world["beta"]
    login(client, "alpha-district")
    html = client.get("/d/alpha/users/scope-field?role=firm_manager", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="firm_id"' in html and "甲区第1物业公司" in html and "甲区第2物业公司" in html
    assert "乙区" not in html and f'value="{b.firm1}"' not in html
    html = client.get("/d/alpha/users/scope-field?role=committee_member").get_data(as_text=True)
    assert 'name="compound_id"' in html and "甲区第1社区 · 甲区1号小区" in html and 'name="is_chair"' in html
    html = client.get("/d/alpha/users/scope-field?role=assessor").get_data(as_text=True)
    assert "全区" in html and "<select" not in html
    # Without JavaScript the refresh button re-renders the right select and saves nothing.
    before = _counts(app)
    resp = post(client, "/d/alpha/users/new", _account(role="street_staff", refresh_scope="1"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'name="street_id"' in html and "甲区第1街道" in html
    assert "is-invalid" not in html
    assert _counts(app) == before
    assert f'value="{a.street1}"' in html


@pytest.mark.parametrize("username", ["alpha-street", "alpha-community", "alpha-firm", "alpha-committee",
                                      "alpha-assessor"])
def test_other_roles_get_403(app, client, world, username):
    login(client, username)
    for url in ["/d/alpha/users/", "/d/alpha/users/new", "/d/alpha/users/memberships/new",
                "/d/alpha/users/scope-field?role=street_staff"]:
        assert client.get(url).status_code == 403, url
    before = _counts(app)
    resp = post(client, "/d/alpha/users/new", _account(community_id=world["alpha"].community1))
    assert resp.status_code == 403
    assert _counts(app) == before
    # Their own account is in their scope (policy) but not theirs to manage: 403; others: 404.
    me, other = _user(app, username).id, _user(app, "alpha-district").id
    for suffix in ("", "/password"):
        assert client.get(f"/d/alpha/users/{me}{suffix}").status_code == 403
        assert client.get(f"/d/alpha/users/{other}{suffix}").status_code == 404
    # Their own membership is in their scope, but not theirs to switch off: 403, nothing written.
    [mine] = _memberships(app, username)
    assert post(client, f"/d/alpha/users/memberships/{mine['id']}/status", {"active": "0"}).status_code == 403
    assert _memberships(app, username)[0]["active"] is True


def test_other_districts_users_are_404(app, client, world):
    login(client, "alpha-district")
    beta_user = _user(app, "beta-street")
    [beta_m] = _memberships(app, "beta-street")
    assert client.get(f"/d/alpha/users/{beta_user.id}").status_code == 404
    assert client.get(f"/d/alpha/users/{beta_user.id}/password").status_code == 404
    assert client.get(f"/d/alpha/users/memberships/{beta_m['id']}/status").status_code == 404
    assert post(client, f"/d/alpha/users/memberships/{beta_m['id']}/status", {"active": "0"}).status_code == 404
    assert post(client, f"/d/alpha/users/{beta_user.id}/password",
                {"password": NEW_PW, "confirm": NEW_PW}).status_code == 404
    assert _memberships(app, "beta-street")[0]["active"] is True
    login(app.test_client(), "beta-street")  # old password still works
    # Under beta's own URL, alpha's session has no membership: 404 too.
    assert client.get(f"/d/beta/users/{beta_user.id}").status_code == 404


def test_list_search_filter_and_isolation(app, client, world):
    login(client, "alpha-district")
    html = client.get("/d/alpha/users/").get_data(as_text=True)
    for name in ["alpha-district", "alpha-street", "alpha-community", "alpha-firm", "alpha-committee",
                 "alpha-assessor"]:
        assert name in html
    assert "beta-" not in html
    assert "业委会成员（主任） · 甲区1号小区" in html and "街道工作人员 · 甲区第1街道" in html
    html = client.get("/d/alpha/users/?q=street").get_data(as_text=True)
    assert "alpha-street" in html and "alpha-community" not in html
    html = client.get("/d/alpha/users/?role=firm_manager").get_data(as_text=True)
    assert "alpha-firm" in html and "alpha-street" not in html
    part = client.get("/d/alpha/users/?status=disabled", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "没有符合条件的人员" in part and "<html" not in part


def test_disable_membership_blocks_login_and_enable_restores(app, client, world):
    [m] = _memberships(app, "alpha-street")
    login(client, "alpha-district")
    confirm = client.get(f"/d/alpha/users/memberships/{m['id']}/status").get_data(as_text=True)
    assert "确认停用" in confirm and "街道工作人员 · 甲区第1街道" in confirm
    assert _memberships(app, "alpha-street")[0]["active"] is True  # the GET only asks

    resp = post(client, f"/d/alpha/users/memberships/{m['id']}/status", {"active": "0"})
    assert resp.status_code == 302
    assert _memberships(app, "alpha-street")[0]["active"] is False
    assert _login_fails(app, "alpha-street")
    user = _user(app, "alpha-street")
    html = client.get(f"/d/alpha/users/{user.id}").get_data(as_text=True)
    assert "已停用" in html and "启用" in html
    part = client.get("/d/alpha/users/?status=disabled").get_data(as_text=True)
    assert "alpha-street" in part and "alpha-firm" not in part
    with app.app_context(), system_scope():
        ev = db.session.execute(select(AuditEvent).filter_by(entity="membership", entity_id=m["id"],
                                                             action="update")).scalar_one()
        assert ev.changes == {"active": {"before": True, "after": False}} and ev.tenant_id == world["alpha"].tenant_id

    assert post(client, f"/d/alpha/users/memberships/{m['id']}/status", {"active": "1"}).status_code == 302
    assert _memberships(app, "alpha-street")[0]["active"] is True
    assert login(app.test_client(), "alpha-street").headers["Location"] == "/d/alpha/"


def test_cannot_disable_the_membership_in_use(app, client, world):
    [m] = _memberships(app, "alpha-district")
    login(client, "alpha-district")
    resp = post(client, f"/d/alpha/users/memberships/{m['id']}/status", {"active": "0"})
    assert resp.status_code == 409 and "不能停用您当前正在使用的身份" in resp.get_data(as_text=True)
    assert _memberships(app, "alpha-district")[0]["active"] is True


def test_add_membership_to_existing_user_cross_appointment(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    before_hash = _user(app, "alpha-community").password_hash
    resp = post(client, "/d/alpha/users/memberships/new",
                {"username": "Alpha-Community", "role": "committee_member", "compound_id": a.compound1,
                 "is_chair": "y"})
    assert resp.status_code == 302
    roles = [(m["role"], m["community_id"], m["compound_id"], m["is_chair"]) for m in _memberships(app, "alpha-community")]
    assert roles == [("community_staff", a.community1, None, False), ("committee_member", None, a.compound1, True)]
    assert _user(app, "alpha-community").password_hash == before_hash
    # Two roles now: login asks which one to act as.
    c = app.test_client()
    assert login(c, "alpha-community").headers["Location"].startswith("/choose")

    before = _counts(app)
    dup = post(client, "/d/alpha/users/memberships/new",
               {"username": "alpha-community", "role": "committee_member", "compound_id": a.compound1})
    assert dup.status_code == 422 and "该账号在本区已有相同的角色" in dup.get_data(as_text=True)
    missing = post(client, "/d/alpha/users/memberships/new",
                   {"username": "nobody-here", "role": "assessor"})
    assert missing.status_code == 422 and "没有该用户名的账号" in missing.get_data(as_text=True)
    foreign = post(client, "/d/alpha/users/memberships/new",
                   {"username": "alpha-firm", "role": "firm_staff", "firm_id": world["beta"].firm1})
    assert foreign.status_code == 422 and "所选物业企业不存在或不属于本区" in foreign.get_data(as_text=True)
    assert _counts(app) == before


def test_firm_serving_two_districts_and_password_reset_rules(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    # beta's firm manager also serves alpha: one account, two districts.
    assert post(client, "/d/alpha/users/memberships/new",
                {"username": "beta-firm", "role": "firm_manager", "firm_id": a.firm2}).status_code == 302
    shared = _user(app, "beta-firm")
    assert sorted(m["tenant_id"] for m in _memberships(app, "beta-firm")) == sorted([a.tenant_id, world["beta"].tenant_id])
    page = client.get(f"/d/alpha/users/{shared.id}").get_data(as_text=True)
    assert "该账号同时在其他区县任职" in page and "甲区第2物业公司" in page and "乙区第1物业公司" not in page
    resp = post(client, f"/d/alpha/users/{shared.id}/password", {"password": NEW_PW, "confirm": NEW_PW})
    assert resp.status_code == 409 and "不能由本区重置密码" in resp.get_data(as_text=True)
    assert _user(app, "beta-firm").password_hash == shared.password_hash
    login(app.test_client(), "beta-firm")

    # An account only this district uses can be reset; the old password stops working.
    own = _user(app, "alpha-assessor")
    weak = post(client, f"/d/alpha/users/{own.id}/password", {"password": "12345678", "confirm": "12345678"})
    assert weak.status_code == 422 and "密码需同时包含字母和数字" in weak.get_data(as_text=True)
    assert _user(app, "alpha-assessor").password_hash == own.password_hash
    assert post(client, f"/d/alpha/users/{own.id}/password",
                {"password": NEW_PW, "confirm": NEW_PW}).status_code == 302
    assert _login_fails(app, "alpha-assessor", PASSWORD)
    login(app.test_client(), "alpha-assessor", NEW_PW)
    with app.app_context(), system_scope():
        updates = db.session.execute(select(AuditEvent).filter_by(entity="user", entity_id=own.id, action="update")
                                     .order_by(AuditEvent.id)).scalars().all()
        resets = [ev for ev in updates if "password_hash" in ev.changes]
        assert len(resets) == 1
        assert resets[0].changes == {"password_hash": {"before": "***", "after": "***"}}
        assert (resets[0].tenant_id, resets[0].actor) == (a.tenant_id, "甲区district")


def test_disabled_membership_is_not_offered_at_login(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    post(client, "/d/alpha/users/memberships/new",
         {"username": "alpha-community", "role": "committee_member", "compound_id": a.compound2})
    first = _memberships(app, "alpha-community")[0]
    assert post(client, f"/d/alpha/users/memberships/{first['id']}/status", {"active": "0"}).status_code == 302
    # One usable membership left: straight in as committee member of compound 2, not the choice page.
    c = app.test_client()
    assert login(c, "alpha-community").headers["Location"] == "/d/alpha/"
    acting = c.get("/d/alpha/").get_data(as_text=True)
    assert "业委会成员 · 甲区2号小区" in acting


def test_all_problems_shown_in_one_round(app, client, world):
    login(client, "alpha-district")
    before = _counts(app)
    resp = post(client, "/d/alpha/users/new", _account(username="alpha-firm", display_name="",
                                                       community_id=world["beta"].community1))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "该用户名已被使用" in html and "所选社区不存在或不属于本区" in html
    assert html.count("请填写姓名") == 1
    resp = post(client, "/d/alpha/users/memberships/new", {"username": "nobody-here", "role": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "没有该用户名的账号" in html and "请选择角色" in html
    assert _counts(app) == before
