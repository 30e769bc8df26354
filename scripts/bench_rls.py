"""What row-level security costs a request: the same pages as the application's role (held by the
policies, so each transaction is told its district) and as the owner role (BYPASSRLS: nothing is
sent), on the same database, in the same run.

    DATABASE_URL=postgresql+psycopg://wuye_app@127.0.0.1:5432/wuye_bench \
    DATABASE_OWNER_URL=postgresql+psycopg://wuye_owner@127.0.0.1:5432/wuye_bench \
      python scripts/bench_rls.py [--requests 300]

The database must have the two roles (scripts/pg_roles.sql); a small demo district is seeded
the first time. For each page: median and p90 milliseconds per request (page cache off),
statements per request, and the scope statements the hook sent per request — those sent with a
transaction's BEGIN cost no round trip of their own, those sent inside an open transaction
(a scope change) cost one.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from wuye_saas import create_app, rls, web  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

PAGES = ["/d/{slug}/", "/d/{slug}/compounds/", "/d/{slug}/households/", "/d/{slug}/fees/bills/"]
SLUG, PASSWORD = "rlsbench", "Bench-pass-1"


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "PAGE_CACHE_SECONDS": 0, "LANDING_COUNTS_SECONDS": 0,
                       "WTF_CSRF_ENABLED": False,
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 64})


def _seed(app) -> None:
    from flask_migrate import upgrade

    from wuye_saas.demo.seed import seed_demo
    from wuye_saas.tenancy import system_scope, tenant_by_slug
    with app.app_context():
        upgrade()
        with system_scope():
            if tenant_by_slug(SLUG) is None:
                seed_demo(SLUG, "基准区", PASSWORD, compounds=20, households=2000)
                db.session.commit()


class _Counts:
    """Statements and scope statements sent while one app's requests run."""

    def __init__(self):
        self.statements = self.with_begin = self.in_transaction = 0

    def statement(self, *args):
        self.statements += 1


def _counting_tell(counts: dict, told):
    def tell(raw, info, scope):
        from psycopg import pq
        before, had = raw.pgconn.transaction_status, info.get(rls._TOLD)
        told(raw, info, scope)
        c = counts["now"]
        if before == pq.TransactionStatus.IDLE:
            c.with_begin += 1
        elif before == pq.TransactionStatus.INTRANS and had != scope:
            c.in_transaction += 1
    return tell


def _measure(apps: dict, n: int, block: int = 20) -> dict:
    """Requests alternate between the apps in blocks (the load of a shared machine drifts), each
    app with its own session-check connection (web._ACTING_DIRECT is per thread, not per app)."""
    counts = {"now": _Counts()}   # logins and warm-ups: not counted
    told, rls.tell = rls.tell, _counting_tell(counts, rls.tell)
    clients, per = {}, {name: _Counts() for name in apps}
    for name, app in apps.items():
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", per[name].statement)
        web._ACTING_DIRECT._local.cursor = None
        clients[name] = app.test_client()
        clients[name].post("/login", data={"username": f"{SLUG}-district", "password": PASSWORD})
    out = {}
    try:
        for page in PAGES:
            url = page.format(slug=SLUG)
            times = {name: [] for name in apps}
            for c in per.values():
                c.statements = c.with_begin = c.in_transaction = 0
            for _ in range(0, n, block):
                for name in apps:
                    web._ACTING_DIRECT._local.cursor = None
                    counts["now"] = _Counts()          # the warm-up request is not counted
                    before = per[name].statements
                    assert clients[name].get(url).status_code == 200, url
                    per[name].statements = before
                    counts["now"] = per[name]
                    for _ in range(block):
                        t = time.perf_counter()
                        clients[name].get(url)
                        times[name].append((time.perf_counter() - t) * 1000)
            for name in apps:
                ts = sorted(times[name])
                k = len(ts)
                c = per[name]
                out.setdefault(name, {})[url] = (statistics.median(ts), ts[int(0.9 * k)], c.statements / k,
                                                 c.with_begin / k, c.in_transaction / k)
    finally:
        rls.tell = told
        for name, app in apps.items():
            with app.app_context():
                event.remove(db.engine, "before_cursor_execute", per[name].statement)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    app_url, owner_url = os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"]
    owner = _app(owner_url)
    _seed(owner)
    walled = _app(app_url)
    print(f"load average {os.getloadavg()[0]:.2f}; {args.requests} requests per page, page cache off")
    results = _measure({"owner (BYPASSRLS)": owner, "application role (RLS)": walled}, args.requests)
    print(f"{'page':<26}{'role':<26}{'median ms':>10}{'p90 ms':>9}{'stmts':>7}{'scope+BEGIN':>12}{'scope alone':>12}")
    for url in results["owner (BYPASSRLS)"]:
        for role, res in results.items():
            med, p90, stmts, with_begin, alone = res[url]
            print(f"{url:<26}{role:<26}{med:>10.2f}{p90:>9.2f}{stmts:>7.1f}{with_begin:>12.2f}{alone:>12.2f}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
