"""Security review: redirects and links built from the query string, CSRF on every POST route,
what the public pages show, and who may write what across firms, compounds and districts."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from wuye_saas.extensions import csrf, db
from wuye_saas.jobs import JobRun
from wuye_saas.tenancy import tenant_scope
from wuye_saas.votes.models import Ballot, OwnerVote
from wuye_saas.web import safe_local_path

from .helpers import PASSWORD, csrf_token, login, post

EVIL = ["//evil.example/x", "/\\evil.example/x", "/\t/evil.example/x", "/\n/evil.example/x",
        "/\r/evil.example/x", "https://evil.example/x", "javascript:alert(1)", ""]


def test_safe_local_path_keeps_own_paths_and_refuses_other_hosts():
    assert safe_local_path("/d/alpha/fees/bills/?month=2026-01&q=%E5%BC%A0") == \
        "/d/alpha/fees/bills/?month=2026-01&q=%E5%BC%A0"
    for target in EVIL + [None]:
        assert safe_local_path(target) is None, repr(target)


def test_login_next_with_a_tab_or_newline_does_not_leave_the_site(app, client, world):
    # Browsers drop tabs/newlines inside a URL: "/<TAB>/evil.example" is "//evil.example".
    for raw in ("/%09/evil.example/x", "/%0a/evil.example/x", "/%0d/evil.example/x"):
        client.post("/logout", data={"csrf_token": csrf_token(client)})
        token = csrf_token(client)
        resp = client.post(f"/login?next={raw}", data={"username": "alpha-district", "password": PASSWORD,
                                                       "csrf_token": token})
        assert resp.status_code == 302, raw
        assert resp.headers["Location"] == "/d/alpha/", (raw, resp.headers["Location"])


def test_login_next_keeps_a_same_site_path(app, client, world):
    token = csrf_token(client)
    resp = client.post("/login?next=/d/alpha/fees/bills/", data={"username": "alpha-district",
                                                                "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/d/alpha/fees/bills/"


def _job_run(app, ns, username):
    from wuye_saas.auth.models import User
    with app.app_context(), tenant_scope(ns.tenant_id):
        uid = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        run = JobRun(kind="test", label="测试任务", func="tests:none", user_id=uid, status="done", progress=100)
        db.session.add(run)
        db.session.commit()
        return run.id


def _back_href(html: str) -> str | None:
    m = re.search(r'<a class="btn btn-outline-secondary mt-3" href="([^"]*)">返回</a>', html)
    return m.group(1) if m else None


def test_job_page_back_link_only_points_into_the_site(app, client, world):
    rid = _job_run(app, world["alpha"], "alpha-district")
    login(client, "alpha-district")
    ok = client.get(f"/d/alpha/jobs/{rid}", query_string={"back": "/d/alpha/import/"})
    assert _back_href(ok.get_data(as_text=True)) == "/d/alpha/import/"
    for target in EVIL:
        resp = client.get(f"/d/alpha/jobs/{rid}", query_string={"back": target})
        assert resp.status_code == 200
        # No link at all: neither the foreign target nor a dead "#".
        assert _back_href(resp.get_data(as_text=True)) is None, repr(target)


def test_no_view_is_exempt_from_csrf(app):
    """Only the JSON API is: a bearer token authenticates it, never the browser's session
    (tests/test_api.py::test_the_browser_session_never_authenticates_the_api)."""
    assert not csrf._exempt_views and {bp.name for bp in csrf._exempt_blueprints} == {"api"}


def test_every_post_route_refuses_a_request_without_csrf_token(app, client, world):
    """Logged in as the district admin (who may write nearly everything), a POST with no token
    is a 400 on every route that takes POST, and writes nothing."""
    login(client, "alpha-district")
    with app.app_context():
        rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith("/api/")]
        api_rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.rule.startswith("/api/")]
        before = _audit_count()
    for rule in api_rules:   # exempt from CSRF, but the session's cookie is not enough either
        resp = client.post(rule.rule.replace("<district>", "alpha"), json={"x": "1"})
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized", rule.rule
    assert len(rules) > 30
    for rule in rules:
        # <any(a, b):x> → a; <tenant_slug> → alpha; any other parameter (an id) → 1.
        url = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), rule.rule)
        url = re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", lambda m: "alpha" if m.group(1) == "tenant_slug" else "1", url)
        resp = client.post(url, data={"x": "1"})
        assert resp.status_code == 400, (rule.rule, url, resp.status_code)
        assert "请求已失效" in resp.get_data(as_text=True)
    with app.app_context():
        assert _audit_count() == before


def _audit_count():
    from wuye_saas.audit import AuditEvent
    from wuye_saas.tenancy import system_scope
    with system_scope():   # every district's events (PostgreSQL's row-level security reads by scope)
        return db.session.execute(select(func.count(AuditEvent.id))).scalar_one()


def test_ballot_redirect_ignores_unrelated_query_arguments(app, client, world):
    """A stray query argument that clashes with url_for's own (owner_vote_id, tenant_slug,
    _external) used to crash the ballot sheet's save (500) or send it to another district."""
    ns = world["alpha"]
    login(client, "alpha-committee")
    resp = post(client, "/d/alpha/votes/new", {"matter": "use_fund", "title": "更换水泵", "description": ""})
    assert resp.status_code == 302
    vid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    url = f"/d/alpha/votes/{vid}/ballots/{ns.household1}?owner_vote_id=999&tenant_slug=beta&_external=1&q=101"
    resp = post(client, url, {"choice": "yes", "owner_key": ""})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/d/alpha/votes/{vid}/ballots?q=101"
    with app.app_context(), tenant_scope(ns.tenant_id):
        # The vote is still a draft: the ballot was refused and nothing was written.
        assert db.session.get(OwnerVote, vid).status == "draft"
        assert db.session.execute(select(func.count(Ballot.id))).scalar_one() == 0


# --- the public pages ------------------------------------------------------------------------

def test_public_board_shows_no_owner_names_codes_or_other_districts(app, client, world):
    a, b = world["alpha"], world["beta"]
    for url in ("/p/alpha/", f"/p/alpha/c/{a.compound1}/"):
        html = client.get(url).get_data(as_text=True)
        assert "张三" not in html and "CODE1" not in html, url
        assert "乙区" not in html and "/p/beta/" not in html, url
    # Another district's compound under this district's slug does not exist.
    assert client.get(f"/p/alpha/c/{b.compound1}/").status_code == 404


def test_public_bill_lookup_masks_the_owner_and_is_tenant_bound(app, client, world):
    # alpha's household code looked up under beta's slug finds nothing.
    resp = client.post("/p/beta/bill", data={"code": "AL1CODE1", "csrf_token": csrf_token(client)})
    assert resp.status_code == 404 and "未找到该户码" in resp.get_data(as_text=True)
    resp = client.post("/p/alpha/bill", data={"code": "AL1CODE1", "csrf_token": csrf_token(client)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "张三" not in html and "张*" in html


# --- writes across scopes --------------------------------------------------------------------

def test_firm_staff_cannot_submit_a_subsidy_claim(app, client, world):
    from wuye_saas.auth.models import Membership, User
    from wuye_saas.fees.models import SubsidyClaim
    from .factories import make_user
    from wuye_saas.audit import acting_as
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        u = make_user("alpha-firmstaff", "物业员工")
        db.session.flush()
        db.session.add(Membership(user_id=u.id, role="firm_staff", firm_id=ns.firm1))
        db.session.commit()
    login(client, "alpha-firmstaff")
    resp = post(client, "/d/alpha/fees/claims/new", {"compound_id": ns.compound1, "month": "2026-01"})
    assert resp.status_code == 403
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count(SubsidyClaim.id))).scalar_one() == 0


def test_street_staff_cannot_review_or_see_another_streets_fund_application(app, client, world):
    from wuye_saas.votes.models import FundApplication
    from wuye_saas.audit import acting_as
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        fa = FundApplication(compound_id=ns.compound2, applicant="committee", item="屋面防水", budget_fen=500000,
                             contractor="某建筑公司", quotes="", emergency=True, status="street")
        db.session.add(fa)
        db.session.commit()
        fid = fa.id
    login(client, "alpha-street")  # street 1; compound2 lies in street 2
    assert client.get(f"/d/alpha/funds/{fid}").status_code == 404
    resp = post(client, f"/d/alpha/funds/{fid}/review", {"decision": "approve", "reason": ""})
    assert resp.status_code == 404
    with app.app_context(), tenant_scope(ns.tenant_id):
        fa = db.session.get(FundApplication, fid)
        assert fa.status == "street" and fa.reviews == []


# --- security headers: the CSP the pages satisfy (tests/test_browser_csp.py), referrer, HSTS ---------

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_template_has_inline_script_or_event_handler():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                found.append(f"{path.relative_to(TEMPLATES)}: {tag}")
        found += [f"{path.relative_to(TEMPLATES)}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        found += [f"{path.relative_to(TEMPLATES)}: {m}" for m in re.findall(r"javascript:|hx-on|js:", text)]
    assert not found, found


def test_every_response_carries_the_csp_and_referrer_policy(app, client, world):
    login(client, "alpha-district")
    for url in ("/login", "/d/alpha/compounds/", "/d/alpha/compounds/", "/p/alpha/bill", "/d/nowhere/"):
        resp = client.get(url)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "unsafe-eval" not in csp and "object-src 'none'" in csp, url
        assert resp.headers["Referrer-Policy"] == "same-origin", url
        assert "Strict-Transport-Security" not in resp.headers   # plain HTTP: no HSTS
    assert resp.status_code == 404
    kept = client.get("/d/alpha/compounds/")
    assert kept.headers["X-Page-Cache"] == "hit" and "script-src 'self';" in kept.headers["Content-Security-Policy"]
