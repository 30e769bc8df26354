"""Login, CSRF, rate limiting, cookies, password storage and change, logout, choosing and
switching the district and role."""
from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from wuye_saas.audit import AuditEvent
from wuye_saas import create_app
from wuye_saas.auth.models import LoginLock, LoginSession, Membership, User, hash_password, needs_rehash
from wuye_saas.config import load_config
from wuye_saas.extensions import db
from wuye_saas.org.models import Compound, Street
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
        db.session.execute(update(LoginLock).values(since=now() - timedelta(minutes=16)))
        db.session.commit()
    assert _login_post(client, "alpha-street", PASSWORD).status_code == 302


def test_four_failures_do_not_lock_and_success_clears_them(app, client, world):
    for _ in range(4):
        _login_post(client, "alpha-street", "wrong-password-1")
    assert _login_post(client, "alpha-street", PASSWORD).status_code == 302
    with app.app_context():
        left = db.session.execute(select(func.count()).select_from(LoginLock)
                                  .filter_by(username="alpha-street")).scalar_one()
    assert left == 0


def test_session_cookie_is_httponly_and_lax(client, world):
    resp = _login_post(client, "alpha-district", PASSWORD)
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_password_is_stored_as_argon2id(app, world):
    with app.app_context():
        user = User(username="hash-check", display_name="哈希")
        user.set_password("Secret-9876")
        assert user.password_hash.startswith("$argon2id$") and "Secret-9876" not in user.password_hash
        assert user.check_password("Secret-9876") and not user.check_password("Secret-9877")
    assert _hash_of(app, "alpha-district").startswith("$argon2id$")


def test_production_hashes_with_owasp_argon2id_parameters(app, monkeypatch):
    for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config(app.instance_path)
    assert (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"]) == (2, 19456, 1)
    prod = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with prod.app_context():
        stored = hash_password("Secret-9876")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    with app.app_context():   # the suite's cheap parameters: a production hash is upgraded… downwards
        assert needs_rehash(stored)


@pytest.mark.parametrize("old", ["pbkdf2:sha256:600000", "scrypt:32768:8:1"])
def test_an_old_werkzeug_hash_logs_in_and_is_rehashed_without_logging_anyone_out(app, world, old):
    here, elsewhere = app.test_client(), app.test_client()
    with app.app_context():
        db.session.execute(update(User).filter_by(username="alpha-firm")
                           .values(password_hash=generate_password_hash(PASSWORD, method=old)))
        db.session.commit()
    login(elsewhere, "alpha-firm")           # the first login upgrades the hash…
    assert _hash_of(app, "alpha-firm").startswith("$argon2id$")
    assert elsewhere.get("/d/alpha/").status_code == 200
    login(here, "alpha-firm")                # …and the next one keeps it
    upgraded = _hash_of(app, "alpha-firm")
    assert here.get("/d/alpha/").status_code == 200 and elsewhere.get("/d/alpha/").status_code == 200
    assert _login_post(app.test_client(), "alpha-firm", "Wrong-pass-1").status_code == 401
    assert _hash_of(app, "alpha-firm") == upgraded


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
    assert _hash_of(app, "alpha-firm").startswith("$argon2id$")
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


# --- login sessions: revocable on the server, idle and absolute lifetimes ----------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def _copy(app, client):
    """Another browser holding a copy of this browser's session cookie."""
    other = app.test_client()
    other.set_cookie("session", _cookie(client))
    return other


def _to_login(resp) -> bool:
    return resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_logout_ends_a_copied_session_cookie_too(app, client, world):
    login(client, "alpha-district")
    assert client.get("/d/alpha/compounds/").status_code == 200
    assert client.get("/d/alpha/compounds/").headers.get("X-Page-Cache") == "hit"
    copy = _copy(app, client)
    assert copy.get("/d/alpha/compounds/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    # Neither a kept page, nor a rendered one, nor the pages outside a district.
    assert _to_login(copy.get("/d/alpha/compounds/"))
    assert _to_login(copy.get("/d/alpha/"))
    assert _to_login(copy.get("/choose"))
    assert _to_login(copy.get("/account/password"))


def test_an_idle_session_ends_and_a_used_one_goes_on(app, client, world):
    login(client, "alpha-district")
    with client.session_transaction() as s:
        s["seen"] -= 119 * 60            # 1 h 59 min without a request: still open
    assert client.get("/d/alpha/").status_code == 200
    with client.session_transaction() as s:
        assert abs(s["seen"] - time.time()) < 5   # the visit counted
        s["seen"] -= 121 * 60            # 2 h 1 min: ended
    assert _to_login(client.get("/d/alpha/"))
    assert _to_login(client.get("/choose"))


def test_a_session_ends_twelve_hours_after_login_however_busy(app, client, world):
    login(client, "alpha-district")
    with app.app_context():
        db.session.execute(update(LoginSession).values(created_at=now() - timedelta(hours=11, minutes=59)))
        db.session.commit()
    assert client.get("/d/alpha/").status_code == 200
    with app.app_context():
        db.session.execute(update(LoginSession).values(created_at=now() - timedelta(hours=12, minutes=1)))
        db.session.commit()
    assert _to_login(client.get("/d/alpha/"))
    assert _login_post(client, "alpha-district", PASSWORD).status_code == 302   # a new login is a new session
    assert client.get("/d/alpha/").status_code == 200


def test_a_session_cookie_without_its_row_is_not_a_login(app, client, world):
    login(client, "alpha-district")
    with client.session_transaction() as s:
        s["sid"] = "made-up"
    assert _to_login(client.get("/d/alpha/"))
    with client.session_transaction() as s:
        del s["sid"]
    assert _to_login(client.get("/choose"))


def test_the_district_admin_signs_a_person_out_everywhere(app, client, world):
    person, elsewhere = app.test_client(), app.test_client()
    login(person, "alpha-street")
    login(elsewhere, "alpha-street")
    login(client, "alpha-district")
    with app.app_context():
        uid = db.session.execute(select(User.id).filter_by(username="alpha-street")).scalar_one()
    page = client.get(f"/d/alpha/users/{uid}/sessions")
    assert page.status_code == 200 and "确认退出全部登录" in page.get_data(as_text=True)
    assert person.get("/d/alpha/").status_code == 200          # the confirmation changed nothing
    resp = post(client, f"/d/alpha/users/{uid}/sessions")
    assert resp.status_code == 302
    assert "退出全部 2 处登录" in client.get(resp.location).get_data(as_text=True)
    assert _to_login(person.get("/d/alpha/")) and _to_login(elsewhere.get("/choose"))
    assert client.get("/d/alpha/").status_code == 200          # the admin's own session goes on
    with app.app_context(), system_scope():
        ev = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.entity_id == uid)
                                .order_by(AuditEvent.id.desc())).scalars().first()
    assert ev.label.startswith("退出全部登录") and ev.changes == {"sessions_ended": 2}
    login(person, "alpha-street")                             # a new login works
    assert person.get("/d/alpha/").status_code == 200
    # Another district's admin cannot reach the person.
    beta = app.test_client()
    login(beta, "beta-district")
    assert post(beta, f"/d/beta/users/{uid}/sessions").status_code == 404
    assert person.get("/d/alpha/").status_code == 200


def test_own_sign_out_elsewhere_keeps_this_browser(app, client, world):
    other = app.test_client()
    login(other, "alpha-firm")
    login(client, "alpha-firm")
    resp = post(client, "/account/sessions")
    assert resp.status_code == 302
    assert "已退出其他设备上的 1 处登录" in client.get(resp.location).get_data(as_text=True)
    assert client.get("/d/alpha/").status_code == 200
    assert _to_login(other.get("/d/alpha/"))


def test_a_password_reset_by_the_district_ends_the_persons_sessions(app, client, world):
    person = app.test_client()
    login(person, "alpha-firm")
    login(client, "alpha-district")
    with app.app_context():
        uid = db.session.execute(select(User.id).filter_by(username="alpha-firm")).scalar_one()
    resp = post(client, f"/d/alpha/users/{uid}/password", {"password": "Fresh-pass-77", "confirm": "Fresh-pass-77"})
    assert resp.status_code == 302
    assert _to_login(person.get("/d/alpha/"))


# --- limits: per username (atomic), per address (never against a right password), behind a proxy --

def test_thirty_wrong_passwords_at_once_get_five_checks(app, world):
    clients = [app.test_client() for _ in range(30)]
    tokens = [csrf_token(c) for c in clients]
    start = threading.Barrier(30)
    said = [None] * 30

    def attempt(i):
        start.wait()
        resp = clients[i].post("/login", data={"username": "alpha-street", "password": f"Wrong-pass-{i}",
                                               "csrf_token": tokens[i]})
        said[i] = (resp.status_code, "用户名或密码错误" in resp.get_data(as_text=True))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 401 for code, _ in said)
    assert sum(checked for _, checked in said) == 5      # the other 25 were refused unchecked
    assert _login_post(app.test_client(), "alpha-street", PASSWORD).status_code == 401   # locked


def test_an_address_that_failed_often_never_locks_out_a_right_password(app, client, world):
    for i in range(20):   # 20 failures from one address (an office behind one NAT, or someone guessing)
        assert _login_post(client, f"nobody-{i}", "Wrong-pass-1").status_code == 401
    assert _login_post(client, "alpha-district", PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    # From that address a wrong password locks its username at once: no guessing across usernames…
    assert _login_post(client, "alpha-street", "Wrong-pass-1").status_code == 401
    resp = _login_post(client, "alpha-street", PASSWORD)
    assert resp.status_code == 401 and "登录失败次数过多" in resp.get_data(as_text=True)
    # …while the same username from elsewhere gets its five tries as usual.
    elsewhere = app.test_client()
    token = csrf_token(elsewhere)
    resp = elsewhere.post("/login", data={"username": "alpha-community", "password": "Wrong-pass-1",
                                          "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert resp.status_code == 401
    assert _login_post(elsewhere, "alpha-community", PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 302


def _proxied_app(app, proxies: int):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "SECRET_KEY": "test-secret", "TRUSTED_PROXIES": proxies,
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 64, "ARGON2_PARALLELISM": 1})


@pytest.mark.parametrize("proxies, separate", [(1, True), (0, False)])
def test_behind_the_trusted_proxy_each_client_counts_alone(app, world, proxies, separate):
    web = _proxied_app(app, proxies)

    def lookup(client, forwarded):   # nginx appends the client's address to X-Forwarded-For
        return client.get("/p/alpha/bill?code=WRONG", headers={"X-Forwarded-For": forwarded},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    one, two = web.test_client(), web.test_client()
    for _ in range(20):
        assert lookup(one, "203.0.113.5") == 404
    assert lookup(one, "203.0.113.5") == 429
    # A client cannot escape by sending its own header: the proxy's last entry is the one trusted.
    assert lookup(one, "198.51.100.1, 203.0.113.5") == 429
    assert lookup(two, "203.0.113.6") == (404 if separate else 429)


def test_https_through_the_proxy_gets_hsts_and_plain_http_does_not(app, world):
    web = _proxied_app(app, 1)
    c = web.test_client()
    resp = c.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"})
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in c.get("/login", headers={"X-Forwarded-For": "203.0.113.5"}).headers
    # Without a trusted proxy the header is the client's word and means nothing.
    plain = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers


def test_limits_are_counted_in_redis_when_it_is_configured(app, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/13")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert load_config(app.instance_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/13"
    monkeypatch.delenv("REDIS_URL")
    assert load_config(app.instance_path)["RATELIMIT_STORAGE_URI"] == "memory://"


def test_passed_windows_are_dropped_at_a_login(app, client, world):
    for name in ("guessed-1", "guessed-2"):
        _login_post(client, name, "Wrong-pass-1")
    with app.app_context():
        db.session.execute(update(LoginLock).where(LoginLock.username == "guessed-1")
                           .values(since=now() - timedelta(minutes=16)))
        db.session.commit()
    login(client, "alpha-district")
    with app.app_context():
        assert db.session.execute(select(LoginLock.username)).scalars().all() == ["guessed-2"]


def test_a_district_page_acts_as_the_first_statement_s_membership_and_user_without_reading_them_again(
        app, client, world):
    """The membership and the user a page acts as are made from the statement every district
    page starts with (web._ACTING): neither is read a second time, and what that statement does
    not carry (the scope's name, the user's phone) still loads where a page shows it."""
    from .test_queries import count_queries
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        compound = db.session.get(Compound, a.compound1).name
    with app.app_context():
        db.session.execute(update(User).where(User.username == "alpha-committee").values(phone="13912345678"))
        db.session.commit()
    login(client, "alpha-committee")
    with count_queries(app) as seen:
        html = client.get("/d/alpha/").get_data(as_text=True)
    assert _acting_as(html) == f"甲区 · 业委会成员（主任） · {compound}"
    # On SQLite the first statement runs through the engine too: it is the one naming login_session.
    again = [s for s in seen if re.search(r'\bFROM (membership|"user"|inbox_item)\b', s) and "login_session" not in s]
    assert again == []   # the bell's count too is read with the first statement
    assert "账号登记的手机号：13912345678" in client.get("/d/alpha/inbox/settings").get_data(as_text=True)
