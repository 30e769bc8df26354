"""API benchmark (issue #17): demand intake through the JSON API with 16 concurrent clients on
PostgreSQL — requests per second and p99 — beside a bare Flask JSON route served the same way
in the same run; then the register (households) read page by page through the whole district.

    .venv/bin/python scripts/bench_api.py                       # build the district, then measure
    .venv/bin/python scripts/bench_api.py --reuse               # measure again on the built database
    .venv/bin/python scripts/bench_api.py --compounds 1000 --households 300000   # the issue's size
    # a district another script built (bench_load.py's `load`), with the token its seed-demo printed:
    .venv/bin/python scripts/bench_api.py --reuse --slug load --token wy_…

Needs PostgreSQL (DATABASE_URL; the database is dropped and re-created unless --reuse) and
gunicorn (the `[prod]` extra). Both apps are served by gunicorn (2 workers × 8 threads, gthread)
on loopback; the load comes from 16 Python threads in this process, each with its own keep-alive
connection (the same client for both apps, so their numbers compare). Prints Markdown for
docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SLUG = "apibench"
API_PORT, BARE_PORT = 8731, 8732


def run(cmd, env=None, capture=False):
    print("+", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, cwd=ROOT, env=env, capture_output=capture, text=True)
    return out.stdout if capture else None


def recreate_database(url: str):
    from sqlalchemy import create_engine, text
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(env, compounds: int, households: int) -> str:
    recreate_database(env["DATABASE_URL"])
    run([PY, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    out = run([PY, "-m", "flask", "--app", "wsgi", "seed-demo", "--slug", SLUG, "--name", "接口压测区",
               "--compounds", str(compounds), "--households", str(households), "--bill-months", "0"], env, capture=True)
    token = re.search(r"wy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", out).group(0)
    (ROOT / "instance").mkdir(exist_ok=True)
    (ROOT / "instance" / "bench_api_token").write_text(token)
    return token


def serve(app: str, port: int, env) -> subprocess.Popen:
    proc = subprocess.Popen([PY, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "8", "-b",
                             f"127.0.0.1:{port}", "--log-level", "warning", app], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit(f"{app} did not start")


def load(port: int, path: str, body_of, headers: dict, seconds: float, clients: int = 16):
    """`clients` threads POSTing for `seconds`; (requests/s, p50 ms, p99 ms, non-2xx)."""
    lat, bad, stop = [], [0], time.monotonic() + seconds
    lock = threading.Lock()

    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], 0
        while time.monotonic() < stop:
            body = json.dumps(body_of(n, i))
            t = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t)
            if resp.status >= 300:
                with lock:
                    bad[0] += 1
            i += 1
        with lock:
            lat.extend(mine)
    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    lat.sort()
    return len(lat) / took, lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000, bad[0], len(lat)


def page_register(token: str, limit: int = 200):
    conn = http.client.HTTPConnection("127.0.0.1", API_PORT, timeout=30)
    times, rows, cursor = [], 0, None
    started = time.perf_counter()
    while True:
        path = f"/api/v1/{SLUG}/households?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        t = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        page = json.loads(resp.read())
        times.append(time.perf_counter() - t)
        assert resp.status == 200, page
        rows += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    total = time.perf_counter() - started
    times.sort()
    return rows, len(times), total, times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000


def main():
    global SLUG
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--compounds", type=int, default=100)
    ap.add_argument("--households", type=int, default=30000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--slug", default="apibench", help="the district (with --reuse)")
    ap.add_argument("--token", help="its API client's token (with --reuse; default: the one this script's build kept)")
    args = ap.parse_args()
    SLUG = args.slug
    env = dict(os.environ)
    if not env.get("DATABASE_URL", "").startswith("postgresql"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    env.setdefault("SECRET_KEY", "bench")
    env["FLASK_DEBUG"] = "0"
    if args.reuse:
        token = args.token or (ROOT / "instance" / "bench_api_token").read_text().strip()
    else:
        token = build(env, args.compounds, args.households)
    from sqlalchemy import create_engine, text
    eng = create_engine(env["DATABASE_URL"])
    with eng.connect() as conn:
        conn.execute(text("SELECT set_config('wuye.system', 'on', false)"))
        compounds = [r[0] for r in conn.execute(text(
            "SELECT c.id FROM compound c JOIN tenant t ON t.id = c.tenant_id WHERE t.slug = :s ORDER BY c.id"),
            {"s": SLUG})]
        households = conn.execute(text("SELECT count(*) FROM household h JOIN tenant t ON t.id = h.tenant_id "
                                       "WHERE t.slug = :s"), {"s": SLUG}).scalar()
    eng.dispose()
    # The client's rate limit would stop the run at 120 a minute: lifted for the benchmark.
    eng = create_engine(env["DATABASE_URL"])
    with eng.begin() as conn:
        conn.execute(text("SELECT set_config('wuye.system', 'on', true)"))
        conn.execute(text("UPDATE api_client SET rate_per_minute = 1000000"))
    eng.dispose()
    run_id = int(time.time())

    def demand(n, i):
        return {"work_order_no": f"B{run_id}-{n}-{i}", "compound_id": compounds[(n * 7 + i) % len(compounds)],
                "category": "维修", "title": "楼道灯不亮", "description": "压测工单", "contact_name": "压测",
                "contact_phone": "13912345678"}

    api = serve("wsgi:app", API_PORT, env)
    bare = serve("scripts.bench_bare:app", BARE_PORT, env)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        load(BARE_PORT, "/json", demand, {}, 3)                      # warm up both
        load(API_PORT, f"/api/v1/{SLUG}/demands", demand, auth, 3)
        b = load(BARE_PORT, "/json", demand, {}, args.seconds)
        a = load(API_PORT, f"/api/v1/{SLUG}/demands", demand, auth, args.seconds)
        reg = page_register(token)
    finally:
        for p in (api, bare):
            p.terminate()
            p.wait(10)
    print(f"\n{len(compounds)} 小区, {households:,} 住户; 16 concurrent clients, {args.seconds:.0f} s each\n")
    print("| route | requests | req/s | p50 (ms) | p99 (ms) | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| bare Flask JSON route (POST /json) | {b[4]:,} | {b[0]:.0f} | {b[1]:.1f} | {b[2]:.1f} | {b[3]} |")
    print(f"| POST /api/v1/{{district}}/demands | {a[4]:,} | {a[0]:.0f} | {a[1]:.1f} | {a[2]:.1f} | {a[3]} |")
    rows, pages, total, p50, p99 = reg
    print(f"\nRegister paged: {rows:,} households in {pages} pages of 200 in {total:.1f} s "
          f"({rows / total:,.0f} rows/s); per page p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
