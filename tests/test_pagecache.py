"""Kept pages (wuye_saas/pagecache.py): what a user must never notice — a stale page after a
write, another person's page, another browser's CSRF token, a lost flash message."""
from __future__ import annotations

import gzip
import re
import zlib

import pytest
from sqlalchemy import create_engine, text

from wuye_saas import extensions, pagecache
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import Tenant, system_scope, tenant_scope

from .helpers import login as _login
from .helpers import post


def login(client, username):
    """Log in and follow the redirect, as a browser does (the landing page shows the welcome)."""
    client.get(_login(client, username).location)


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(pagecache, "monotonic", lambda: now[0])
    return now


def _token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _version(app, tenant_id) -> int:
    with app.app_context(), system_scope():
        return db.session.get(Tenant, tenant_id).data_version


def test_a_list_is_kept_until_someone_writes_in_the_district(app, client, world, clock):
    a = world["alpha"]
    login(client, "alpha-district")
    first = client.get("/d/alpha/compounds/")
    assert first.headers["X-Page-Cache"] == "miss"
    again = client.get("/d/alpha/compounds/")
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.get_data(as_text=True) == first.get_data(as_text=True)

    before = _version(app, a.tenant_id)
    resp = post(client, "/d/alpha/compounds/new", {
        "community_id": a.community1, "name": "新建的小区", "compound_type": "商品房",
        "management_mode": "专业物业"})
    assert resp.status_code == 302
    assert _version(app, a.tenant_id) > before
    client.get(resp.location)      # the new compound's page, with the message
    after = client.get("/d/alpha/compounds/")
    assert after.headers["X-Page-Cache"] == "miss"
    assert "新建的小区" in after.get_data(as_text=True)


def test_a_write_outside_the_request_cycle_retires_kept_pages(app, client, world, clock):
    """Jobs, the CLI and bulk statements commit through the same session events."""
    a = world["alpha"]
    login(client, "alpha-district")
    client.get("/d/alpha/compounds/")
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(m.Compound.__table__.update()
                           .where(m.Compound.id == a.compound1).values(name="改过名的小区"))
        db.session.commit()
    resp = client.get("/d/alpha/compounds/")
    assert resp.headers["X-Page-Cache"] == "miss"
    assert "改过名的小区" in resp.get_data(as_text=True)


def test_a_rolled_back_write_changes_nothing(app, world):
    a = world["alpha"]
    before = _version(app, a.tenant_id)
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(m.Street(name="未提交的街道"))
        db.session.flush()
        db.session.rollback()
        db.session.commit()
    assert _version(app, a.tenant_id) == before


def test_another_districts_writes_keep_this_districts_pages(app, client, world, clock):
    b = world["beta"]
    login(client, "alpha-district")
    client.get("/d/alpha/compounds/")
    with app.app_context(), tenant_scope(b.tenant_id):
        db.session.add(m.Street(name="乙区新街道"))
        db.session.commit()
    assert client.get("/d/alpha/compounds/").headers["X-Page-Cache"] == "hit"


def test_each_membership_gets_its_own_page(app, world, clock):
    district, street = app.test_client(), app.test_client()
    login(district, "alpha-district")
    login(street, "alpha-street")
    html = district.get("/d/alpha/compounds/").get_data(as_text=True)
    assert "甲区2号小区" in html
    resp = street.get("/d/alpha/compounds/")
    assert resp.headers["X-Page-Cache"] == "miss"
    assert "甲区1号小区" in resp.get_data(as_text=True)
    assert "甲区2号小区" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("change, expect", [
    ("UPDATE \"user\" SET active = false WHERE username = 'alpha-district'", 302),
    ("UPDATE login_session SET revoked_at = created_at", 302),   # logged out elsewhere (a copied cookie)
    ("UPDATE membership SET active = false WHERE user_id = "
     "(SELECT id FROM \"user\" WHERE username = 'alpha-district')", 404),
    ("UPDATE tenant SET active = false WHERE slug = 'alpha'", 404),
])
def test_a_kept_page_is_only_served_to_a_working_member(app, client, world, clock, change, expect):
    """A kept page is answered when the request starts, before the user loader and the views'
    checks: its own check must refuse whatever they refuse — here even for a change made
    behind the product's back, which does not retire the page."""
    login(client, "alpha-district")
    client.get("/d/alpha/compounds/")
    assert client.get("/d/alpha/compounds/").headers["X-Page-Cache"] == "hit"
    with app.app_context(), system_scope(), db.engine.begin() as conn:   # no session: the version stays
        conn.execute(text(change))
    resp = client.get("/d/alpha/compounds/")
    assert resp.status_code == expect
    assert "X-Page-Cache" not in resp.headers
    if expect == 302:
        assert "/login" in resp.location


def test_a_kept_page_carries_the_csrf_token_of_the_browser_reading_it(app, world, clock):
    a = world["alpha"]
    one, two = app.test_client(), app.test_client()
    login(one, "alpha-district")
    login(two, "alpha-district")   # the same person in a second browser
    first = one.get("/d/alpha/compounds/").get_data(as_text=True)
    kept = two.get("/d/alpha/compounds/")
    assert kept.headers["X-Page-Cache"] == "hit"
    html = kept.get_data(as_text=True)
    assert _token(html) != _token(first)
    assert "\x00" not in html
    # The second browser's forms work with the token its page carries.
    resp = two.post("/d/alpha/streets/new", data={"name": "第二个浏览器的街道", "csrf_token": _token(html)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(db.select(m.Street).filter_by(name="第二个浏览器的街道")).scalar_one()


def test_browsers_get_the_kept_page_gzipped_with_their_own_token(app, world, clock):
    one, two = app.test_client(), app.test_client()
    login(one, "alpha-district")
    login(two, "alpha-district")
    plain = one.get("/d/alpha/").get_data(as_text=True)
    for outcome in ("hit", "hit"):
        resp = two.get("/d/alpha/", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert resp.headers["X-Page-Cache"] == outcome
        assert resp.headers["Content-Encoding"] == "gzip"
        vary = {v.strip() for h in resp.headers.getlist("Vary") for v in h.split(",")}
        assert {"Accept-Encoding", "HX-Request", "Cookie"} <= vary
        packed = resp.get_data()
        assert len(packed) * 3 < len(plain.encode())
        html = gzip.decompress(packed).decode()
        token = _token(html)
        assert html.count(token) >= 3          # the meta tag, HTMX's header, the logout form
        assert html.replace(token, "T") == plain.replace(_token(plain), "T")
        assert zlib.decompress(packed, 16 + zlib.MAX_WBITS).decode() == html   # a strict reader too
    # The token in the compressed page is the second browser's own.
    assert two.post("/d/alpha/streets/new", data={"name": "压缩页面的街道", "csrf_token": token}).status_code == 302


def test_a_waiting_message_is_shown_not_a_kept_page(app, client, world, clock):
    login(client, "alpha-district")
    client.get("/d/alpha/compounds/")
    with client.session_transaction() as s:
        s["_flashes"] = [("success", "导入已完成。")]
    resp = client.get("/d/alpha/compounds/")
    assert "X-Page-Cache" not in resp.headers
    assert "导入已完成。" in resp.get_data(as_text=True)
    resp = client.get("/d/alpha/compounds/")
    assert resp.headers["X-Page-Cache"] == "hit"
    assert "导入已完成。" not in resp.get_data(as_text=True)


def test_kept_pages_expire(app, client, world, clock):
    login(client, "alpha-district")
    client.get("/d/alpha/")
    assert client.get("/d/alpha/").headers["X-Page-Cache"] == "hit"
    clock[0] += app.config["PAGE_CACHE_SECONDS"] + 1
    assert client.get("/d/alpha/").headers["X-Page-Cache"] == "miss"


def test_the_htmx_partial_and_the_full_page_are_kept_apart(app, client, world, clock):
    login(client, "alpha-district")
    partial = client.get("/d/alpha/compounds/?q=1号", headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True)
    full = client.get("/d/alpha/compounds/?q=1号")
    assert full.headers["X-Page-Cache"] == "miss"
    assert "<html" in full.get_data(as_text=True)
    again = client.get("/d/alpha/compounds/?q=1号", headers={"HX-Request": "true"})
    assert again.headers["X-Page-Cache"] == "hit"
    assert "<html" not in again.get_data(as_text=True)


def test_the_store_drops_the_least_recently_used_page_past_its_size(clock):
    store = pagecache.Memo(capacity=10)
    store.put("a", b"aaaa", 30, version=1, size=4)
    store.put("b", b"bbbb", 30, version=1, size=4)
    assert store.get("a", 1) == b"aaaa"          # a is now the more recent
    store.put("c", b"cccc", 30, version=1, size=4)
    assert store.get("b", 1) is None and store.get("a", 1) == b"aaaa" and store.get("c", 1) == b"cccc"
    assert store.get("a", 2) is None             # another version: gone
    store.put("big", b"x" * 11, 30, size=11)     # larger than the store: not kept
    assert store.get("big") is None and store.get("c", 1) == b"cccc"


def test_an_idle_connection_cut_underneath_is_replaced(app, monkeypatch):
    now = [500.0]
    monkeypatch.setattr(extensions, "monotonic", lambda: now[0])
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    extensions.ping_when_idle(engine, idle_seconds=10)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            cut = conn.connection.dbapi_connection
        cut.close()                      # the server went away while it sat in the pool
        now[0] += 11
        with engine.connect() as conn:   # pinged, found dead, replaced
            assert conn.execute(text("SELECT 1")).scalar() == 1
            assert conn.connection.dbapi_connection is not cut
    finally:
        engine.dispose()


def test_the_request_start_read_survives_a_connection_the_database_cut(app, client, world):
    """PostgreSQL reads the acting row on a connection of its own (extensions.DirectReads); when
    the database ends it (a restart, an idle timeout), the next page opens another."""
    from wuye_saas import web
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite reads the acting row on the session's connection")
    login(client, "alpha-district")
    assert client.get("/d/alpha/compounds/").status_code == 200
    conn = web._ACTING_DIRECT._local.cursor.connection   # this thread's
    if app.config["DATABASE_POOLER"]:
        # Behind pgbouncer the server connection is pgbouncer's to replace; what can be cut
        # under the application is its own connection to pgbouncer (a pgbouncer restart).
        conn.close()
    else:
        with app.app_context():
            assert db.session.execute(text("SELECT pg_terminate_backend(:pid)"),
                                      {"pid": conn.info.backend_pid}).scalar() is True
            db.session.commit()
    resp = client.get("/d/alpha/compounds/")
    assert resp.status_code == 200 and "甲区1号小区" in resp.get_data(as_text=True)
    assert web._ACTING_DIRECT._local.cursor.connection is not conn
