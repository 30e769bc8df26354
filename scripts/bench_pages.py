"""Benchmark: how long the busiest pages take on the full demo district, per role.

Builds a fresh database (SQLite temp file, or the empty PostgreSQL database in DATABASE_URL),
seeds the default demo district (36,954 households), then times each page through the WSGI
app in-process (no network), 20 requests after 3 warm-ups, and counts SQL statements.

    .venv/bin/python scripts/bench_pages.py                      # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/wuye_bench .venv/bin/python scripts/bench_pages.py
"""
from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

PAGES = {
    "demo-district": ["/d/demo/", "/d/demo/compounds/", "/d/demo/compounds/?mode=无人管理&street=1",
                      "/d/demo/households/", "/d/demo/households/?page=1500", "/d/demo/households/?q=王",
                      "/d/demo/compounds/1", "/d/demo/firms/", "/d/demo/audit/", "/d/demo/fees/collection",
                      "/d/demo/fees/collection?by=street", "/d/demo/?level=street&street_id=1"],
    "demo-community": ["/d/demo/", "/d/demo/households/", "/d/demo/compounds/", "/d/demo/fees/collection"],
    "demo-firm": ["/d/demo/", "/d/demo/households/", "/d/demo/contracts/", "/d/demo/fees/collection"],
}


def main():
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
    runner = app.test_cli_runner()
    started = time.perf_counter()
    out = runner.invoke(args=["seed-demo"])
    assert out.exit_code == 0, out.output
    print(f"database: {url.split(':')[0]}; seed {time.perf_counter() - started:.1f} s")
    with app.app_context():
        engine = db.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    print(f"{'role':<16} {'page':<42} {'median ms':>9} {'p95 ms':>7} {'queries':>7}")
    for user, pages in PAGES.items():
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        resp = client.post("/login", data={"username": user, "password": "demo1234", "csrf_token": token})
        assert resp.status_code == 302, user
        for page in pages:
            for _ in range(3):
                assert client.get(page).status_code == 200, page
            times = []
            for _ in range(20):
                statements.clear()
                t0 = time.perf_counter()
                client.get(page)
                times.append((time.perf_counter() - t0) * 1000)
            q = len(statements)
            times.sort()
            print(f"{user:<16} {page:<42} {statistics.median(times):9.1f} {times[18]:7.1f} {q:7d}")


if __name__ == "__main__":
    main()
