"""Login, CSRF, rate limiting, cookies, password storage and change, logout, choosing and
switching the district and role."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from wuye_saas.auth.models import LoginAttempt, Membership, User
from wuye_saas.extensions import db
from wuye_saas.org.models import Street
from wuye_saas.tenancy import system_scope, tenant_scope
from wuye_saas.timeutil import now

from .factories import make_user
from .helpers import PASSWORD, csrf_token, login, post


def _login_post(client, username, password, **kw):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)}, **kw)


def _acting_as(html: str) -> str:
    match = re.search(r'data-testid="acting-as">([^<]+)<', html)
    return match.group(1) if match else ""


def _streets(app, tid) -> int:
    with app.app_context(), tenant_scope(tid):
        return db.session.execute(select(func.count(Street.id))).scalar_one()


def _hash_of(app, username) -> str:
    with app.app_context():
        return db.session.execute(select(User.password_hash).filter_by(username=username)).scalar_one()


def test_login_lands_on_the_only_district(client, world):
    resp = _login_post(client, "alpha-district", PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/d/alpha/"
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert _acting_as(html) == "甲区 · 区级管理员 · 全区"


def test_login_needs_the_csrf_token(client, world):
    client.get("/login")
    resp = client.post("/login", data={"username": "alpha-district", "password": PASSWORD})
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    assert client.get("/d/alpha/").status_code == 302  # not logged in


def test_register_post_without_token_writes_nothing(app, client, world):
    tid = world["alpha"].tenant_id
    login(client, "alpha-district")
    before = _streets(app, tid)
    assert client.post("/d/alpha/streets/new", data={"name": "无令牌街道"}).status_code == 400
    assert client.post("/d/alpha/streets/new", data={"name": "假令牌街道", "csrf_token": "forged"}).status_code == 400
    assert client.post(f"/d/alpha/streets/{world['alpha'].street2}/delete").status_code == 400
    assert _streets(app, tid) == before
    # The token HTMX sends in its header is accepted: the refusals above were about the token.
    resp = client.post("/d/alpha/streets/new", data={"name": "令牌街道"},
                       headers={"X-CSRFToken": csrf_token(client)})
    assert resp.status_code == 302 and _streets(app, tid) == before + 1


def test_wrong_password_is_a_chinese_401(client, world):
    resp = _login_post(client, "alpha-district", "wrong-password-1")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    resp = _login_post(client, "nobody-here", PASSWORD)
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)


def test_five_failures_lock_the_username_for_fifteen_minutes(app, client, world):
    for _ in range(5):
        assert _login_post(client, "alpha-street", "wrong-password-1").status_code == 401
    resp = _login_post(client, "alpha-street", PASSWORD)
    assert resp.status_code == 401
    assert "登录失败次数过多，请 15 分钟后再试" in resp.get_data(as_text=True)
    # Another username from the same address is not locked out.
    assert _login_post(client, "alpha-community", PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    # Fifteen minutes later the lock has passed.
    with app.app_context():
        db.session.execute(update(LoginAttempt).values(at=now() - timedelta(minutes=16)))
        db.session.commit()
    assert _login_post(client, "alpha-street", PASSWORD).status_code == 302


def test_four_failures_do_not_lock_and_success_clears_them(app, client, world):
    for _ in range(4):
        _login_post(client, "alpha-street", "wrong-password-1")
    assert _login_post(client, "alpha-street", PASSWORD).status_code == 302
    with app.app_context():
        left = db.session.execute(select(func.count(LoginAttempt.id))
                                  .filter_by(username="alpha-street")).scalar_one()
    assert left == 0


def test_session_cookie_is_httponly_and_lax(client, world):
    resp = _login_post(client, "alpha-district", PASSWORD)
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_password_is_stored_as_a_werkzeug_hash(app, world):
    with app.app_context():
        user = User(username="hash-check", display_name="哈希")
        user.set_password("Secret-9876")
        assert user.password_hash != "Secret-9876" and "Secret-9876" not in user.password_hash
        method = user.password_hash.split("$", 1)[0]
        assert re.fullmatch(r"(scrypt:\d+:\d+:\d+|pbkdf2:sha256:\d+)", method), method
        assert user.check_password("Secret-9876") and not user.check_password("Secret-9877")
    assert _hash_of(app, "alpha-district").startswith(("scrypt:", "pbkdf2:"))


def test_change_password(app, client, world):
    login(client, "alpha-firm")
    old_hash = _hash_of(app, "alpha-firm")
    url = "/account/password"
    assert client.get(url).status_code == 200

    def change(current, new, confirm=None):
        return post(client, url, {"current": current, "new": new,
                                  "confirm": new if confirm is None else confirm})

    assert "当前密码不正确" in change("not-my-password1", "Better-pass-99").get_data(as_text=True)
    assert "密码至少 8 位" in change(PASSWORD, "ab1").get_data(as_text=True)
    assert "密码需同时包含字母和数字" in change(PASSWORD, "abcdefghij").get_data(as_text=True)
    assert "两次输入的新密码不一致" in change(PASSWORD, "Better-pass-99", "Better-pass-98").get_data(as_text=True)
    assert _hash_of(app, "alpha-firm") == old_hash  # every refusal left the password alone

    resp = change(PASSWORD, "Better-pass-99")
    assert resp.status_code == 302
    assert _hash_of(app, "alpha-firm").startswith(("scrypt:", "pbkdf2:"))
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert _login_post(client, "alpha-firm", PASSWORD).status_code == 401
    assert _login_post(client, "alpha-firm", "Better-pass-99").status_code == 302


def test_changing_the_password_ends_the_other_sessions_only(app, world):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "alpha-district")
    login(elsewhere, "alpha-district")
    assert elsewhere.get("/d/alpha/compounds/").status_code == 200
    resp = post(here, "/account/password", {"current": PASSWORD, "new": "Better-pass-99",
                                            "confirm": "Better-pass-99"})
    assert resp.status_code == 302
    assert here.get("/d/alpha/compounds/").status_code == 200        # this browser goes on
    gone = elsewhere.get("/d/alpha/compounds/")                    # the other one logs in again
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")


def test_a_disabled_account_loses_its_open_sessions(app, client, world):
    login(client, "alpha-street")
    assert client.get("/d/alpha/").status_code == 200
    with app.app_context(), system_scope():
        db.session.execute(update(User).where(User.username == "alpha-street").values(active=False))
        db.session.commit()
    resp = client.get("/d/alpha/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_logout_is_a_post(client, world):
    login(client, "alpha-district")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: a cross-site form cannot log us out
    assert client.get("/d/alpha/").status_code == 200
    resp = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    after = client.get("/d/alpha/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


@pytest.fixture
def both(app, world):
    """A user who is district admin in alpha and street staff in beta; membership ids."""
    alpha, beta = world["alpha"], world["beta"]
    with app.app_context():
        user = make_user("two-districts", "两区用户")
        db.session.flush()
        ids = {}
        with tenant_scope(alpha.tenant_id):
            ma = Membership(user_id=user.id, role="district_admin")
            db.session.add(ma)
            db.session.flush()
            ids["alpha"] = ma.id
        with tenant_scope(beta.tenant_id):
            mb = Membership(user_id=user.id, role="street_staff", street_id=beta.street1)
            db.session.add(mb)
            db.session.flush()
            ids["beta"] = mb.id
        db.session.commit()
    return ids


def test_two_districts_choose_then_switch(client, world, both):
    resp = _login_post(client, "two-districts", PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/choose")
    html = client.get("/choose").get_data(as_text=True)
    assert "甲区" in html and "乙区" in html and "街道工作人员 · 乙区第1街道" in html
    assert client.get("/d/beta/").status_code == 404  # nothing chosen yet

    resp = post(client, "/choose", {"membership_id": both["beta"]})
    assert resp.status_code == 302 and resp.headers["Location"] == "/d/beta/"
    assert _acting_as(client.get("/d/beta/").get_data(as_text=True)) == "乙区 · 街道工作人员 · 乙区第1街道"
    # Acting for beta's street: beta's second street is out of scope, alpha is another district.
    assert client.get(f"/d/beta/streets/{world['beta'].street2}").status_code == 404
    assert client.get("/d/alpha/").status_code == 404

    resp = post(client, "/choose", {"membership_id": both["alpha"]})
    assert resp.headers["Location"] == "/d/alpha/"
    assert _acting_as(client.get("/d/alpha/").get_data(as_text=True)) == "甲区 · 区级管理员 · 全区"
    assert client.get(f"/d/alpha/streets/{world['alpha'].street2}").status_code == 200
    assert client.get("/d/beta/").status_code == 404


def test_cannot_choose_someone_elses_membership(app, client, world, both):
    login(client, "alpha-district")
    with app.app_context(), system_scope():
        others = db.session.execute(select(Membership.id).where(Membership.id.in_(both.values()))).scalars().all()
    for mid in others:
        assert post(client, "/choose", {"membership_id": mid}).status_code == 404
    assert _acting_as(client.get("/d/alpha/").get_data(as_text=True)) == "甲区 · 区级管理员 · 全区"


def test_one_district_only_gets_404_elsewhere(client, world):
    login(client, "alpha-district")
    for url in ("/d/beta/", "/d/beta/compounds/", f"/d/beta/compounds/{world['beta'].compound1}",
                "/d/nowhere/"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("target", ["//evil.example", "//evil.example/d/alpha/", "https://evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_next_to_another_site_is_not_followed(client, world, target):
    resp = _login_post(client, "alpha-district", PASSWORD, query_string={"next": target})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/d/alpha/"


def test_next_on_this_site_is_followed(client, world):
    resp = _login_post(client, "alpha-district", PASSWORD, query_string={"next": "/d/alpha/compounds/?q=1"})
    assert resp.headers["Location"] == "/d/alpha/compounds/?q=1"
    # A page that needs login sends there with the way back.
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    resp = client.get("/d/alpha/firms/")
    assert resp.status_code == 302 and "next=" in resp.headers["Location"]
