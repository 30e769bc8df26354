"""Platform admin: creating, listing, suspending and reactivating districts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.auth.models import Membership, User
from wuye_saas.extensions import db
from wuye_saas.tenancy import Tenant, system_scope

from .factories import ROLES, make_user
from .helpers import PASSWORD, csrf_token, login, post

NEW = {"name": "潞州区", "slug": "luzhou", "region": "山西省长治市", "admin_username": "lz-admin",
       "admin_display_name": "王主任", "admin_phone": "13800001111",
       "admin_password": "Luzhou-2024", "admin_confirm": "Luzhou-2024"}


@pytest.fixture
def platform_admin(app):
    with app.app_context():
        user = make_user("platform", "平台运维")
        user.is_platform_admin = True
        db.session.commit()
    return "platform"


def _counts(app):
    with app.app_context(), system_scope():
        return tuple(db.session.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (Tenant, User, Membership, AuditEvent))


def _tenant(app, slug):
    with app.app_context(), system_scope():
        t = db.session.execute(select(Tenant).filter_by(slug=slug)).scalar_one()
        return {"id": t.id, "active": t.active, "name": t.name, "region": t.region}


def test_create_district_and_its_admin_logs_in(app, client, world, platform_admin):
    login(client, platform_admin)
    resp = post(client, "/admin/tenants/new", NEW)
    assert resp.status_code == 302
    t = _tenant(app, "luzhou")
    assert resp.headers["Location"] == f"/admin/tenants/{t['id']}"
    assert (t["name"], t["region"], t["active"]) == ("潞州区", "山西省长治市", True)
    with app.app_context(), system_scope():
        user = db.session.execute(select(User).filter_by(username="lz-admin")).scalar_one()
        assert (user.display_name, user.phone, user.is_platform_admin) == ("王主任", "13800001111", False)
        mems = db.session.execute(select(Membership).filter_by(user_id=user.id)).scalars().all()
        assert [(m.tenant_id, m.role, m.active) for m in mems] == [(t["id"], "district_admin", True)]
        events = db.session.execute(select(AuditEvent.entity, AuditEvent.action, AuditEvent.tenant_id,
                                           AuditEvent.actor).where(AuditEvent.user_id.is_not(None))).all()
    assert ("tenant", "create", None, "平台运维") in events
    assert ("user", "create", t["id"], "平台运维") in events
    assert ("membership", "create", t["id"], "平台运维") in events

    # The new district's admin logs in and lands on the district's own home page.
    fresh = app.test_client()
    resp = login(fresh, "lz-admin", "Luzhou-2024")
    assert resp.headers["Location"] == "/d/luzhou/"
    home = fresh.get("/d/luzhou/")
    assert home.status_code == 200 and "潞州区" in home.get_data(as_text=True)
    assert fresh.get("/d/alpha/").status_code == 404


@pytest.mark.parametrize("changes, field_message", [
    ({"slug": "1luzhou"}, "以字母开头"),
    ({"slug": "lu zhou"}, "以字母开头"),
    ({"slug": "x"}, "2–40 位"),
    ({"slug": "admin"}, "“admin”是系统保留字"),
    ({"slug": "alpha"}, "该标识已被其他区县使用"),
    ({"admin_username": "ALPHA-district"}, "该用户名已被使用"),
    ({"admin_username": "王五"}, "用户名为 3–60 位"),
    ({"admin_password": "short1", "admin_confirm": "short1"}, "密码至少 8 位"),
    ({"admin_password": "onlyletters", "admin_confirm": "onlyletters"}, "密码需同时包含字母和数字"),
    ({"admin_confirm": "Different-99"}, "两次输入的密码不一致"),
    ({"name": ""}, "请填写区县名称"),
])
def test_bad_district_input_writes_nothing(app, client, world, platform_admin, changes, field_message):
    login(client, platform_admin)
    before = _counts(app)
    resp = post(client, "/admin/tenants/new", NEW | changes)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert field_message in html and "区县尚未开通" in html
    assert _counts(app) == before


def test_slug_is_lowercased(app, client, world, platform_admin):
    login(client, platform_admin)
    assert post(client, "/admin/tenants/new", NEW | {"slug": "LuZhou"}).status_code == 302
    assert _tenant(app, "luzhou")["name"] == "潞州区"


def test_only_platform_admins_reach_admin(app, client, world):
    alpha = world["alpha"].tenant_id
    urls = ["/admin/", "/admin/tenants/new", f"/admin/tenants/{alpha}", f"/admin/tenants/{alpha}/status",
            f"/admin/tenants/{alpha}/admins/new"]
    anon = client.get("/admin/")
    assert anon.status_code == 302 and anon.headers["Location"].startswith("/login")
    login(client, "alpha-district")
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert post(client, f"/admin/tenants/{alpha}/status", {"active": "0"}).status_code == 404
    assert post(client, "/admin/tenants/new", NEW).status_code == 404
    assert _tenant(app, "alpha")["active"] is True
    with app.app_context(), system_scope():
        assert db.session.execute(select(Tenant).filter_by(slug="luzhou")).first() is None


def test_list_counts_search_and_filter(app, client, world, platform_admin):
    login(client, platform_admin)
    html = client.get("/admin/").get_data(as_text=True)
    assert "甲区" in html and "乙区" in html and "/d/alpha/" in html
    # Eight people per district in the factory world (one per role).
    assert html.count(f'<td class="text-end">{len(ROLES)}</td>') == 2
    html = client.get("/admin/?q=乙").get_data(as_text=True)
    assert "乙区" in html and "甲区" not in html
    part = client.get("/admin/?status=suspended", headers={"HX-Request": "true"})
    text = part.get_data(as_text=True)
    assert "没有符合条件的区县" in text and "<html" not in text


def test_suspend_blocks_login_and_pages_then_reactivate(app, client, world, platform_admin):
    alpha = world["alpha"].tenant_id
    member = app.test_client()
    login(member, "alpha-community")
    assert member.get("/d/alpha/").status_code == 200

    login(client, platform_admin)
    confirm = client.get(f"/admin/tenants/{alpha}/status").get_data(as_text=True)
    assert "确认停用" in confirm and 'name="active" value="0"' in confirm
    assert _tenant(app, "alpha")["active"] is True  # the GET only asks
    resp = post(client, f"/admin/tenants/{alpha}/status", {"active": "0"})
    assert resp.status_code == 302
    assert _tenant(app, "alpha")["active"] is False
    with app.app_context(), system_scope():
        ev = db.session.execute(select(AuditEvent).filter_by(entity="tenant", entity_id=alpha, action="update")).scalar_one()
        assert ev.changes == {"active": {"before": True, "after": False}} and ev.actor == "平台运维"

    # An open session loses the district at once; a new login is refused.
    assert member.get("/d/alpha/").status_code == 404
    assert member.get("/d/alpha/compounds/").status_code == 404
    fresh = app.test_client()
    resp = fresh.post("/login", data={"username": "alpha-district", "password": PASSWORD,
                                      "csrf_token": csrf_token(fresh)})
    assert resp.status_code == 401 and "所属区县可能已停用" in resp.get_data(as_text=True)
    login(app.test_client(), "beta-district")  # the other district is untouched

    assert post(client, f"/admin/tenants/{alpha}/status", {"active": "1"}).status_code == 302
    assert _tenant(app, "alpha")["active"] is True
    again = app.test_client()
    assert login(again, "alpha-district").headers["Location"] == "/d/alpha/"
    assert again.get("/d/alpha/").status_code == 200


def test_status_post_needs_explicit_value_and_csrf(app, client, world, platform_admin):
    alpha = world["alpha"].tenant_id
    login(client, platform_admin)
    assert post(client, f"/admin/tenants/{alpha}/status", {}).status_code == 400
    assert client.post(f"/admin/tenants/{alpha}/status", data={"active": "0"}).status_code == 400
    assert _tenant(app, "alpha")["active"] is True


def test_add_another_district_admin(app, client, world, platform_admin):
    beta = world["beta"].tenant_id
    login(client, platform_admin)
    detail = client.get(f"/admin/tenants/{beta}").get_data(as_text=True)
    assert "beta-district" in detail and "alpha-district" not in detail
    before = _counts(app)
    bad = post(client, f"/admin/tenants/{beta}/admins/new",
               {"admin_username": "beta-street", "admin_display_name": "赵六",
                "admin_password": "Second-admin-1", "admin_confirm": "Second-admin-1"})
    assert bad.status_code == 422 and "该用户名已被使用" in bad.get_data(as_text=True)
    assert _counts(app) == before
    resp = post(client, f"/admin/tenants/{beta}/admins/new",
                {"admin_username": "beta-admin2", "admin_display_name": "赵六",
                 "admin_password": "Second-admin-1", "admin_confirm": "Second-admin-1"})
    assert resp.status_code == 302
    assert login(app.test_client(), "beta-admin2", "Second-admin-1").headers["Location"] == "/d/beta/"
    with app.app_context(), system_scope():
        ev = db.session.execute(select(AuditEvent).filter_by(entity="membership", action="create")
                                .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert ev.tenant_id == beta and ev.label == "区级管理员 · 全区"


def test_all_problems_shown_in_one_round(app, client, world, platform_admin):
    """A form-level fault (missing name) does not hide the database's objections."""
    login(client, platform_admin)
    before = _counts(app)
    resp = post(client, "/admin/tenants/new", NEW | {"slug": "admin", "admin_username": "alpha-district",
                                                     "admin_display_name": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "“admin”是系统保留字" in html and "该用户名已被使用" in html
    assert html.count("请填写姓名") == 1
    assert _counts(app) == before


def test_a_platform_admin_without_district_roles_goes_from_home_to_the_platform(client, platform_admin):
    login(client, platform_admin)
    resp = client.get("/choose")      # where the logo and "/" lead a signed-in person
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/"
    assert "没有区县角色" not in client.get("/admin/").get_data(as_text=True)
