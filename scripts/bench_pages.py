"""Benchmark: the most-used pages (wuye_saas/demo/busiest.py), rendered in-process through the
WSGI app (no network, no server), with the page cache off and on, beside the bare Flask route
(scripts/bench_bare.py) measured in the same run. Per page: median and p95 of N requests after 3
warm-ups, the median CPU time of this process (the page's Python work, without the database's),
and the SQL statements of one request.

"Off" turns off every kept result of the process: kept pages (PAGE_CACHE_SECONDS=0), the
landing page's kept register counts (LANDING_COUNTS_SECONDS=0), and whatever else the process
keeps is forgotten before each request (pagecache.clear()); the page is rendered from the
database each time. "On" is the production setting: the same page kept and served.

    # build a district of a given size into DATABASE_URL's database (dropped and re-created)
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/wuye_bench .venv/bin/python scripts/bench_pages.py --compounds 100
    # measure an existing district (slug `load`, password demo1234, as scripts/bench_load.py builds it)
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/wuye_load .venv/bin/python scripts/bench_pages.py --reuse

Without DATABASE_URL it builds into a temporary SQLite file. Prints a Markdown table for
docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "scripts"))

from bench_load import recreate_database  # noqa: E402
from wuye_saas import create_app, pagecache  # noqa: E402
from wuye_saas.demo import busiest  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402


def build(app, url: str, args) -> None:
    if url.startswith("postgresql"):
        recreate_database(url)
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
    started = time.perf_counter()
    out = app.test_cli_runner().invoke(args=[
        "seed-demo", "--slug", args.slug, "--name", f"基准{args.compounds}", "--password", args.password,
        "--compounds", str(args.compounds), "--households", str(args.households or args.compounds * 300)])
    assert out.exit_code == 0, out.output
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    if url.startswith("postgresql"):
        with app.app_context():
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")


def timed(get, n: int) -> tuple[float, float, float]:
    """Median and p95 wall-clock ms, and the median CPU ms of this process (the page's Python
    work without the database's: on a busy machine the wall clock also counts waiting)."""
    times, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        get()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    return (statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            statistics.median(cpu))


def bare_anchor(n: int) -> tuple[float, float, float]:
    spec = importlib.util.spec_from_file_location("bench_bare", ROOT / "scripts" / "bench_bare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    client = mod.app.test_client()

    def get():
        assert client.get("/").status_code == 200
    timed(get, 50)
    return timed(get, n)


def profile(get, n: int) -> None:
    import cProfile
    import pstats
    prof = cProfile.Profile()
    prof.runcall(lambda: [get() for _ in range(n)])
    if os.environ.get("PROFILE_DUMP"):   # for pstats or a viewer
        prof.dump_stats(os.environ["PROFILE_DUMP"])
    pstats.Stats(prof).sort_stats("cumulative").print_stats(os.environ.get("PROFILE_FILTER", ""), 40)
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    if os.environ.get("PROFILE_CALLERS"):
        pstats.Stats(prof).sort_stats("cumulative").print_callers(os.environ["PROFILE_CALLERS"])


def statement_times(engine, get, n: int) -> None:
    """Each statement of the page with its median ms over `n` uncached requests (the database's
    part, as the client sees it: planning, execution, the round trip), slowest first."""
    times: dict[str, list[float]] = {}
    started = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started["at"], started["sql"] = time.perf_counter(), " ".join(statement.split())[:140]

    def after(conn, cursor, statement, parameters, context, executemany):
        times.setdefault(started["sql"], []).append((time.perf_counter() - started["at"]) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(n):
            get()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    per_request = sum(sum(ts) for ts in times.values()) / n
    print(f"\n  statements: {per_request:.1f} ms per request in all")
    for sql, ts in sorted(times.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {statistics.median(ts):7.2f} ms ×{len(ts) // n}  {sql}")


def login(app, username: str, password: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert resp.status_code == 302, username
    return client


def district_size(app, slug: str) -> str:
    from wuye_saas.org.models import Compound, Household
    from wuye_saas.tenancy import Tenant, system_scope
    with app.app_context(), system_scope():
        tid = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one()
        n_c, n_h = (db.session.execute(select(func.count()).select_from(model).where(model.tenant_id == tid))
                    .scalar_one() for model in (Compound, Household))
    return f"{n_c:,} compounds, {n_h:,} households"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compounds", type=int, default=100, help="size of the district to build")
    ap.add_argument("--households", type=int, default=0, help="households to build (default 300 per compound)")
    ap.add_argument("--reuse", action="store_true", help="measure the district already in the database")
    ap.add_argument("--slug", default="load")
    ap.add_argument("--password", default="demo1234")
    ap.add_argument("-n", "--requests", type=int, default=30, help="timed requests per page and mode")
    ap.add_argument("--only", default="", help="only pages whose URL or name contains this")
    ap.add_argument("--statements", type=int, default=0, metavar="N",
                    help="instead of timing: each statement's median ms over N uncached requests of each page")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="instead of timing: profile N uncached requests of each page (cProfile, top 25)")
    ap.add_argument("--kept", action="store_true", help="with --profile: profile the kept page instead")
    args = ap.parse_args()

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    if not args.reuse:
        build(app, url, args)
    with app.app_context():
        engine = db.engine
        pages = busiest.resolve(args.slug)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))

    size = district_size(app, args.slug)
    load = os.getloadavg()[0]
    bare = bare_anchor(max(args.requests * 10, 200))
    print(f"\ndatabase: {url.split(':')[0]}; district `{args.slug}`: {size}; "
          f"load average {load:.2f}; {args.requests} requests per page and mode\n")
    print("| account | page | URL | off median ms | off p95 ms | off CPU ms | off statements | on median ms "
          "| on p95 ms | on statements |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| — | bare Flask route (anchor) | `/` | {bare[0]:.2f} | {bare[1]:.2f} | {bare[2]:.2f} | 0 | | | |",
          flush=True)
    clients = {}
    for user, name, page in pages:
        if args.only and args.only not in page and args.only not in name:
            continue
        client = clients.get(user) or clients.setdefault(user, login(app, user, args.password))
        row = []
        for keep in (False, True):
            app.config["PAGE_CACHE_SECONDS"] = 30 if keep else 0
            app.config["LANDING_COUNTS_SECONDS"] = 60 if keep else 0
            pagecache.clear()

            def get():
                if not keep:
                    pagecache.clear()   # nothing kept from the last request either (the board's figures)
                resp = client.get(page, headers={"Accept-Encoding": "gzip"})
                assert resp.status_code == 200, (page, resp.status_code)
            for _ in range(3):
                get()
            if args.profile and keep == args.kept:
                profile(get, args.profile)
                break
            if args.statements and not keep:
                statement_times(engine, get, args.statements)
                break
            median, p95, cpu = timed(get, args.requests)
            statements.clear()
            get()
            row += [f"{median:.1f}", f"{p95:.1f}"] + ([] if keep else [f"{cpu:.1f}"]) + [str(len(statements))]
        print(f"| {user.rsplit('-', 1)[1]} | {name} | `{page[len(args.slug) + 3:]}` | " + " | ".join(row) + " |",
              flush=True)


if __name__ == "__main__":
    main()
