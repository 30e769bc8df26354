"""Benchmark (issue #15): the register lists, bills, payments, collection, demands and the
evaluation pages rendered in-process with the page cache off, on a district already built
(`seed-demo --slug load --compounds N --households M`, see scripts/bench_load.py `build`).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/wuye_lists \
        .venv/bin/python scripts/bench_lists.py [--slug load] [--runs 20] [--profile PAGE]

Each page is requested 3 times to warm up, then --runs times; prints the median and 95th
percentile of the wall time in ms, the median of this process's CPU time (Python's share,
which other work on a busy machine does not inflate) and the SQL statements per request. --profile prints cProfile's top functions
for one page (as the first role that requests it). Read-only: the pages are GETs.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import login  # noqa: E402
from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402


def pages(slug: str, evaluation_id: int | None) -> dict[str, list[str]]:
    d = f"/d/{slug}"
    ev = [f"{d}/evaluations/", f"{d}/results/"]
    if evaluation_id:
        ev.append(f"{d}/evaluations/{evaluation_id}/results")
    return {
        f"{slug}-district": [f"{d}/compounds/", f"{d}/compounds/?mode=无人管理&street=1", f"{d}/households/",
                             f"{d}/households/?page=1500", f"{d}/households/?q=王", f"{d}/firms/",
                             f"{d}/fees/bills/", f"{d}/fees/arrears", f"{d}/fees/collection",
                             f"{d}/fees/collection?by=street", f"{d}/demands/"] + ev,
        f"{slug}-street": [f"{d}/compounds/", f"{d}/households/", f"{d}/fees/collection", f"{d}/demands/"],
        f"{slug}-community": [f"{d}/compounds/", f"{d}/households/", f"{d}/fees/bills/",
                              f"{d}/fees/collection", f"{d}/demands/"],
        f"{slug}-firm": [f"{d}/compounds/", f"{d}/households/", f"{d}/fees/bills/", f"{d}/fees/arrears",
                         f"{d}/fees/collection", f"{d}/demands/"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slug", default="load")
    ap.add_argument("--password", default="demo1234")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--profile", help="a page path to profile")
    ap.add_argument("--only", help="only pages containing this text")
    ap.add_argument("--skip", help="leave out pages containing this text")
    args = ap.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"], "SECRET_KEY": "bench",
                      "PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            tid = conn.execute(text("SELECT id FROM tenant WHERE slug = :s"), {"s": args.slug}).scalar_one()
            size = conn.execute(text("SELECT (SELECT count(*) FROM compound WHERE tenant_id = :t),"
                                     " (SELECT count(*) FROM household WHERE tenant_id = :t)"), {"t": tid}).one()
            evaluation_id = conn.execute(text(
                "SELECT e.id FROM evaluation e WHERE e.tenant_id = :t AND e.status IN ('finalized', 'published')"
                " ORDER BY e.period_end DESC, e.id DESC LIMIT 1"),
                {"t": tid}).scalar()
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    print(f"database {engine.dialect.name}; district {args.slug}: {size[0]} compounds, {size[1]} households; "
          f"page cache off; load average {os.getloadavg()[0]:.2f}")
    print(f"| role | page | median ms | p95 ms | CPU ms | statements |\n|---|---|---:|---:|---:|---:|")
    for user, paths in pages(args.slug, evaluation_id).items():
        client = login(app, user, args.password)
        for page in paths:
            if (args.profile and page != args.profile or args.only and args.only not in page
                    or args.skip and args.skip in page):
                continue
            for _ in range(3):
                status = client.get(page).status_code
                assert status == 200, (user, page, status)
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(args.runs):
                    client.get(page)
                prof.disable()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
                return
            times, cpu = [], []
            for _ in range(args.runs):
                statements.clear()
                t0, c0 = time.perf_counter(), time.process_time()
                client.get(page)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(len(times) * 0.95) - 1)]
            print(f"| {user.split('-', 1)[1]} | `{page.split('/', 3)[3]}` | {statistics.median(times):.1f} "
                  f"| {p95:.1f} | {statistics.median(cpu):.1f} | {len(statements)} |", flush=True)


if __name__ == "__main__":
    main()
