"""Province benchmark (issue #15): many districts on one PostgreSQL, billed at once by several RQ
workers while one district's people keep using the pages.

Builds (unless --reuse) a database with N districts of 200,000 住户 each (default 20 = 4,000,000
households, no bills): district 1 by `seed-demo` (200 小区, the full demo district whose pages are
timed), the others by bulk SQL as scripts/bench_billing.py seeds its district (200 小区 × 1,000 户,
one firm, one fee policy, 10 % 低保: what billing reads; seed-demo takes ~5 min per district
here), then:

1. times the pages of district 1 in-process with the page cache off, the machine otherwise idle;
2. starts W RQ workers and submits one month's billing for every other district through the real
   job facade (`fees.jobs.submit`, as the 开具账单 button does) and, while they run, times the same
   pages again; reports the billing wall time and bills per second;
3. reports the database size, the bill and audit-log tables with their partitions, and which
   partitions a one-month query of one district touches (EXPLAIN).

    .venv/bin/python scripts/bench_province.py                       # build and measure
    .venv/bin/python scripts/bench_province.py --reuse               # measure again (bills the month after the last one)
    .venv/bin/python scripts/bench_province.py --districts 4 --households 50000   # a small try

Needs PostgreSQL (DATABASE_URL's server; database `wuye_bench_province`) and Redis (REDIS_URL,
default redis://127.0.0.1:6379/9, flushed). Prints Markdown for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_billing import seed as bulk_seed  # noqa: E402
from bench_load import recreate_database, run  # noqa: E402
from bench_pages import login  # noqa: E402

PY = sys.executable
DB_NAME = "wuye_bench_province"
PASSWORD = "demo1234"
PAGES = ["/", "/compounds/", "/households/", "/fees/collection", "/fees/bills/", "/demands/"]


def slug(i: int) -> str:
    return f"p{i:02d}"


def build(env: dict, districts: int, compounds: int, households: int) -> None:
    flask = [PY, "-m", "flask", "--app", "wsgi"]
    run(flask + ["db", "upgrade"], env=env)
    t0 = time.perf_counter()
    run(flask + ["seed-demo", "--slug", slug(1), "--name", "省测试01区", "--password", PASSWORD,
                 "--compounds", str(compounds), "--households", str(households), "--bill-months", "0"],
        env=env, stdout=subprocess.DEVNULL)
    print(f"district {slug(1)} (seed-demo) in {time.perf_counter() - t0:.0f} s", flush=True)
    from wuye_saas import create_app
    from wuye_saas.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "REDIS_URL": None, "SECRET_KEY": "bench"})
    with app.app_context():
        for i in range(2, districts + 1):
            t0 = time.perf_counter()
            bulk_seed(households, slug(i), f"省测试{i:02d}区")
            db.session.remove()
            print(f"district {slug(i)} (bulk) in {time.perf_counter() - t0:.0f} s", flush=True)
    eng = create_engine(env["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    eng.dispose()


def time_pages(client, base: str, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    for _ in range(rounds):
        for p in PAGES:
            t0 = time.perf_counter()
            status = client.get(base + p).status_code
            times[p].append((time.perf_counter() - t0) * 1000)
            assert status == 200, (p, status)
    return times


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def next_month(app, tenant_ids: list[int]) -> date:
    from wuye_saas.extensions import db
    from wuye_saas.fees.models import BillingRun
    from wuye_saas.tenancy import system_scope

    with app.app_context(), system_scope():
        last = db.session.execute(select(BillingRun.month).order_by(BillingRun.month.desc())).scalars().first()
    if last is None:
        return date(2026, 11, 1)
    return date(last.year + last.month // 12, last.month % 12 + 1, 1)


def submit_all(app, tenant_ids: list[int], month: date) -> list[int]:
    from wuye_saas.extensions import db
    from wuye_saas.fees import billing
    from wuye_saas.fees.jobs import submit
    from wuye_saas.tenancy import tenant_scope

    runs = []
    with app.app_context():
        for tid in tenant_ids:
            with tenant_scope(tid):
                br = submit(billing.Scope("district", None, "全区"), month, user=None)
                runs.append(br.job_run_id)
                db.session.remove()
    return runs


def unfinished(app, run_ids: list[int]) -> list:
    from wuye_saas.extensions import db
    from wuye_saas.jobs import JobRun
    from wuye_saas.tenancy import system_scope

    with app.app_context(), system_scope():
        rows = db.session.execute(select(JobRun.id, JobRun.status, JobRun.message).where(JobRun.id.in_(run_ids))).all()
        db.session.remove()
    failed = [r for r in rows if r.status == "failed"]
    assert not failed, failed
    return [r for r in rows if r.status != "done"]


def sizes(url: str, tenant_id: int, month: date) -> list[str]:
    eng = create_engine(url)
    out = []
    with eng.connect() as conn:
        conn.execute(text("ANALYZE bill"))
        out.append(f"database: {conn.execute(text('SELECT pg_size_pretty(pg_database_size(current_database()))')).scalar()}")
        for table in ("bill", "household", "payment", "audit_event"):
            parts = conn.execute(text(
                # A partitioned parent's reltuples after ANALYZE is its partitions' sum: only
                # tables holding rows of their own (relkind r) are counted.
                "SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = CAST(:t AS regclass)),"
                " pg_size_pretty(sum(pg_total_relation_size(oid))),"
                " sum(greatest(reltuples, 0)) FILTER (WHERE relkind = 'r')::bigint"
                " FROM pg_class WHERE oid = CAST(:t AS regclass)"
                " OR oid IN (SELECT relid FROM pg_partition_tree(CAST(:t AS regclass)))"),
                {"t": table}).one()
            out.append(f"{table}: {parts[1]} total, ~{parts[2]:,} rows, {parts[0]} partitions")
        plan = conn.execute(text(
            "EXPLAIN SELECT count(*), sum(resident_fen) FROM bill WHERE tenant_id = :t AND month = :m"),
            {"t": tenant_id, "m": month}).scalars().all()
        scanned = sorted({m.group(1) for line in plan for m in [re.search(r" on (\w+)", line)] if m})
        out.append(f"one district's month of bills reads: {', '.join(scanned)}")
    eng.dispose()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--districts", type=int, default=20)
    ap.add_argument("--compounds", type=int, default=200)
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    server = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/x").rsplit("/", 1)[0]
    url = f"{server}/{DB_NAME}"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url)
    if not args.reuse:
        recreate_database(url)
        t0 = time.perf_counter()
        build(env, args.districts, args.compounds, args.households)
        print(f"built {args.districts} districts in {time.perf_counter() - t0:.0f} s", flush=True)
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, stdout=subprocess.DEVNULL)

    from wuye_saas import create_app
    from wuye_saas.extensions import db
    from wuye_saas.tenancy import Tenant, system_scope

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "PAGE_CACHE_SECONDS": 0,
                      "LANDING_COUNTS_SECONDS": 0, "SECRET_KEY": "bench"})
    with app.app_context(), system_scope():
        tenants = dict(db.session.execute(select(Tenant.slug, Tenant.id)).all())
    ids = [tenants[slug(i)] for i in range(1, args.districts + 1)]
    month = next_month(app, ids)
    client = login(app, f"{slug(1)}-district", PASSWORD)
    base = f"/d/{slug(1)}"
    time_pages(client, base, 2)   # warm-up
    idle = time_pages(client, base, args.rounds)

    workers = [subprocess.Popen([PY, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) for _ in range(args.workers)]
    try:
        time.sleep(2)
        t0 = time.perf_counter()
        run_ids = submit_all(app, ids[1:], month)
        busy: dict[str, list[float]] = {p: [] for p in PAGES}
        while unfinished(app, run_ids):
            for p, values in time_pages(client, base, 1).items():
                busy[p].extend(values)
        wall = time.perf_counter() - t0
    finally:
        for w in workers:
            w.terminate()
        for w in workers:   # a warm shutdown waits for the job in hand; past a minute, stop it
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()

    from wuye_saas.fees.models import Bill
    with app.app_context(), system_scope():
        billed = db.session.execute(select(db.func.count()).select_from(Bill).where(Bill.month == month)).scalar()
    print(f"\n### {args.districts} districts × {args.households:,} households, {args.workers} RQ workers, "
          f"billing {month:%Y-%m} for {len(run_ids)} districts\n")
    print(f"billing: {billed:,} bills in {wall:.0f} s wall = {billed / wall:,.0f} bills/s\n")
    print(f"| page (district 1, cache off) | idle median / p95 ms | while {len(run_ids)} districts bill: median / p95 ms (n) |")
    print("|---|---|---|")
    for p in PAGES:
        b = busy[p] or [float("nan")]
        print(f"| `{p}` | {statistics.median(idle[p]):.1f} / {pct(idle[p], 0.95):.1f} "
              f"| {statistics.median(b):.1f} / {pct(b, 0.95):.1f} ({len(busy[p])}) |")
    print()
    for line in sizes(url, ids[1], month):
        print("-", line)


if __name__ == "__main__":
    main()
