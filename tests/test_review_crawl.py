"""Found by walking every page of the demo district as every role, and by posting to every
write route with ids out of the poster's reach: pages link only to what their reader may
open, and a refused write is a 404 (out of scope) that writes nothing."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.routing.converters import IntegerConverter

from wuye_saas.extensions import db
from wuye_saas.tenancy import system_scope, tenant_scope

from .factories import ROLES, USER_SUFFIX
from .helpers import csrf_token, login
from .test_isolation import (  # noqa: F401  (probe_world is a fixture)
    TENANTS, Probe, _first_rows, _ids_for, _membership_of, _models_by_table, _visible, probe_world,
)


def _post_probes(app, world) -> list[Probe]:
    """Every tenant POST rule whose arguments are all record ids (the write routes); the ids
    of rows only write routes name are added to the probe world's (its _add_* functions
    create them branch by branch, so the first two rows are branches 1 and 2)."""
    tables = _models_by_table()
    probes = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or "tenant_slug" not in rule.arguments:
            continue
        args = rule.arguments - {"tenant_slug"}
        ids = {a: tables.get(a[:-3]) for a in args
               if a.endswith("_id") and isinstance(rule._converters.get(a), IntegerConverter)}
        if args and len(ids) == len(args) and all(ids.values()):
            probes.append(Probe(rule, ids))
    with app.app_context():
        for model in {mdl for p in probes for mdl in p.ids.values()}:
            if model.__tablename__ not in world.ids:
                world.ids[model.__tablename__] = {
                    slug: dict(zip((1, 2), _first_rows(model, world.tenant[slug]))) for slug in TENANTS}
    return probes


def _fingerprint(app) -> dict[str, int]:
    """Row counts of every table; the audit log counts every ORM update too."""
    with app.app_context(), system_scope():
        return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in db.metadata.sorted_tables}


def test_out_of_scope_writes_are_404_and_write_nothing(app, client, probe_world):
    probes = _post_probes(app, probe_world)
    assert len(probes) > 40, [p.rule.rule for p in probes]
    failures = []
    for role in ROLES:
        username = f"alpha-{USER_SUFFIX[role]}"
        login(client, username)
        token = csrf_token(client)
        targets = []  # (url, why) every one of them must be a 404
        with app.app_context(), tenant_scope(probe_world.tenant["alpha"]):
            mem = _membership_of(username)
            for probe in probes:
                beta = _ids_for(probe, probe_world.ids, "beta", 1)
                targets += [(u, "beta's id") for u in probe.urls("alpha", beta)]
                branch2 = _ids_for(probe, probe_world.ids, "alpha", 2)
                if not probe.public and not _visible(mem, probe, branch2):  # residents' pages are open
                    targets += [(u, "out of scope") for u in probe.urls("alpha", branch2)]
        before = _fingerprint(app)
        for url, why in targets:
            try:
                resp = client.post(url, data={"csrf_token": token})
            except Exception as exc:  # noqa: BLE001  (TESTING re-raises: report them all)
                failures.append(f"{username} POST {url} ({why}) raised {type(exc).__name__}: {exc}")
                continue
            if resp.status_code != 404:
                failures.append(f"{username} POST {url} ({why}) → {resp.status_code}, expected 404")
        after = _fingerprint(app)
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        if changed:
            failures.append(f"{username}: refused posts wrote {changed}")
    assert not failures, "\n".join(failures)


# Write routes the probe world cannot drive honestly, and why.
UNPROBED_WRITES = {
    # The probe's meeting is planned (so its edit page answers) yet has an item escalated to the
    # street, which only a held meeting can have; deleting it trips the street copy's foreign key.
    "meetings.delete",
}


def test_in_scope_posts_without_input_never_fail_and_refusals_write_nothing(app, client, probe_world):
    """Every write route, posted bare (only the CSRF token) on records in the poster's scope:
    refused (400/403/409/422) writing nothing, or done; never a server error."""
    probes = [p for p in _post_probes(app, probe_world) if not p.public and p.endpoint not in UNPROBED_WRITES]
    failures = []
    for role in ROLES:
        username = f"alpha-{USER_SUFFIX[role]}"
        login(client, username)
        token = csrf_token(client)
        with app.app_context(), tenant_scope(probe_world.tenant["alpha"]):
            mem = _membership_of(username)
            urls = [u for p in probes if _visible(mem, p, ids := _ids_for(p, probe_world.ids, "alpha", 1))
                    for u in p.urls("alpha", ids)]
        for url in urls:
            before = _fingerprint(app)
            try:
                resp = client.post(url, data={"csrf_token": token})
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{username} POST {url} raised {type(exc).__name__}: {exc}")
                continue
            if resp.status_code >= 400:
                after = _fingerprint(app)
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                if changed:
                    failures.append(f"{username} POST {url} → {resp.status_code} but wrote {changed}")
    assert not failures, "\n".join(failures)


# --- every page a role can open links only to pages it can open ----------------------------------

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "hx-get"):
            if a.get(key):
                self.links.append(a[key])


def _same_site(base: str, href: str) -> str | None:
    url = urlsplit(urljoin("http://localhost" + base, href))
    if url.netloc != "localhost" or not url.path.startswith(("/d/alpha/", "/p/alpha/")) or url.path == "/logout":
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def _pattern(url: str) -> str:
    path, _, query = url.partition("?")
    keys = sorted(kv.split("=")[0] for kv in query.split("&") if kv and not kv.startswith("page="))
    return re.sub(r"/\d+", "/N", path) + "?" + "&".join(keys)


@pytest.mark.parametrize("role", ROLES)
def test_pages_link_only_to_what_their_reader_may_open(app, client, probe_world, role):
    username = f"alpha-{USER_SUFFIX[role]}"
    start = login(client, username).headers["Location"]
    with app.app_context(), tenant_scope(probe_world.tenant["alpha"]):
        mem = _membership_of(username)
        seeds = [u for p in probe_world.probes if not p.public
                 for b in (1, 2) if _visible(mem, p, ids := _ids_for(p, probe_world.ids, "alpha", b))
                 for u in p.urls("alpha", ids)]
    queue, status, per_pattern, failures = [(start, "(login)")] + [(u, None) for u in seeds], {}, {}, []

    def refused(url, src):
        if src is not None and status[url] not in (200, 301, 302):
            failures.append(f"{url} → {status[url]}, linked from {src}")

    while queue:
        url, src = queue.pop(0)
        if url in status:
            refused(url, src)
            continue
        try:
            resp = client.get(url)
        except Exception as exc:  # noqa: BLE001  (TESTING re-raises view errors)
            status[url] = 500
            failures.append(f"{url} (linked from {src}) raised {type(exc).__name__}: {exc}")
            continue
        status[url] = resp.status_code
        refused(url, src)  # a seed is any page of the role's records: only links must open
        if resp.status_code in (301, 302):
            nxt = _same_site(url, resp.headers["Location"])
            if nxt:
                queue.insert(0, (nxt, url))
            continue
        if resp.status_code != 200 or "html" not in resp.content_type:
            continue
        parser = _Links()
        parser.feed(resp.get_data(as_text=True))
        for href in parser.links:
            nxt = _same_site(url, href)
            if nxt in status:
                refused(nxt, url)
            elif nxt and per_pattern.setdefault(_pattern(nxt), 0) < 3:
                per_pattern[_pattern(nxt)] += 1
                queue.append((nxt, url))
    assert len(status) > 20
    assert not failures, f"{username}:\n" + "\n".join(failures)


# --- the findings, one by one ------------------------------------------------------------------

def test_evaluation_page_links_each_reader_to_the_results_it_may_open(app, client, probe_world):
    ev = probe_world.ids["evaluation"]["alpha"][1]
    ranking = f'href="/d/alpha/evaluations/{ev}/results"'
    login(client, "alpha-firm")  # the firm has no ranking: its own results page instead
    page = client.get(f"/d/alpha/evaluations/{ev}").get_data(as_text=True)
    assert ranking not in page and 'href="/d/alpha/results/firm"' in page
    assert client.get(f"/d/alpha/evaluations/{ev}/results").status_code == 403
    assert client.get("/d/alpha/results/firm").status_code == 200
    login(client, "alpha-assessor")  # the assessor has neither
    page = client.get(f"/d/alpha/evaluations/{ev}").get_data(as_text=True)
    assert ranking not in page and 'href="/d/alpha/results/firm"' not in page
    login(client, "alpha-community")
    page = client.get(f"/d/alpha/evaluations/{ev}").get_data(as_text=True)
    assert ranking in page and client.get(f"/d/alpha/evaluations/{ev}/results").status_code == 200


def test_assessors_result_page_has_no_breadcrumb_to_the_staff_rankings(app, client, probe_world):
    a = probe_world.ids["assessment"]["alpha"][1]
    ev = probe_world.ids["evaluation"]["alpha"][1]
    login(client, "alpha-assessor")
    resp = client.get(f"/d/alpha/results/assessments/{a}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "探针季测评1" in page
    assert 'href="/d/alpha/results/"' not in page and f'href="/d/alpha/evaluations/{ev}/results"' not in page
    assert client.get("/d/alpha/results/").status_code == 403
    login(client, "alpha-street")
    page = client.get(f"/d/alpha/results/assessments/{a}").get_data(as_text=True)
    assert 'href="/d/alpha/results/"' in page and f'href="/d/alpha/evaluations/{ev}/results"' in page


def test_a_hand_edited_list_filter_is_ignored_not_a_server_error(app, client, world):
    login(client, "alpha-district")
    for url in ("/d/alpha/compounds/?street=abc", "/d/alpha/compounds/?firm=x&community_id=1",
                "/d/alpha/households/?class=abc", "/d/alpha/communities/?street_id=abc"):
        resp = client.get(url)
        assert resp.status_code == 200, url
    page = client.get("/d/alpha/compounds/?street=abc").get_data(as_text=True)
    assert "甲区1号小区" in page and "甲区2号小区" in page  # no filter: the whole list
