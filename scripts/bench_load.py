"""Load benchmark (issue #6): the district dashboard and the compound list of a district with
1,000 compounds and ~300,000 households on PostgreSQL, served by gunicorn with 2 workers, under
wrk on loopback, beside a bare Flask route served the same way in the same run. wrk sends what a
browser sends: the logged-in session, one User-Agent, Accept-Encoding: gzip.

    .venv/bin/python scripts/bench_load.py                 # build the district, then measure
    .venv/bin/python scripts/bench_load.py --reuse         # measure again on the built database
    .venv/bin/python scripts/bench_load.py --reuse --uncached   # the same without kept pages

Needs PostgreSQL (DATABASE_URL's server; the database is dropped and re-created unless --reuse),
wrk (Debian package `wrk`; installed with apt-get when missing and running as root) and gunicorn
(the project's `[prod]` extra; installed into this environment when missing).
Prints a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SLUG = "load"
PASSWORD = "demo1234"


def run(cmd, env=None, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, **kw)


def ensure_tools():
    if not shutil.which("wrk"):
        if os.geteuid() != 0:
            sys.exit("wrk 未安装：apt-get install wrk")
        run(["apt-get", "install", "-y", "-q", "wrk"])
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        run([PY, "-m", "pip", "install", "-q", "-e", ".[prod]"])


def recreate_database(url: str):
    from sqlalchemy import create_engine, text
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(env, compounds: int, households: int):
    flask = [PY, "-m", "flask", "--app", "wsgi"]
    run(flask + ["db", "upgrade"], env=env)
    t0 = time.perf_counter()
    run(flask + ["seed-demo", "--slug", SLUG, "--name", "负载测试区", "--password", PASSWORD,
                 "--compounds", str(compounds), "--households", str(households), "--bill-months", "3"], env=env)
    print(f"seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    from sqlalchemy import create_engine, text
    eng = create_engine(env["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("compound", "household", "bill", "payment", "demand", "compound_month")}
    eng.dispose()
    print("rows:", counts, flush=True)
    return counts


def serve(env, app: str, port: int, chdir: Path = ROOT) -> subprocess.Popen:
    proc = subprocess.Popen([PY, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", str(chdir),
                             "--log-level", "warning", app], env=env, cwd=ROOT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login" if app == "wsgi:app"
                                   else f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except Exception:
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"server on {port} did not start")


# One browser: Flask-Login's session protection ties the session to its User-Agent (a request
# from another agent marks the session not fresh and rewrites the cookie on every response).
AGENT = "bench-load/1.0"


def session_cookie(port: int, username: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]
    html = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
    opener.open(f"http://127.0.0.1:{port}/login", data=data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        # What a browser sends: its session, its agent, and that it takes gzip.
        cmd += ["-H", f"Cookie: {cookie}", "-H", f"User-Agent: {AGENT}", "-H", "Accept-Encoding: gzip, deflate"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "errors": int(non2xx.group(1)) if non2xx else 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/wuye_load"))
    ap.add_argument("--compounds", type=int, default=1000)
    ap.add_argument("--households", type=int, default=300_000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--reuse", action="store_true", help="不重建数据库，直接测量")
    ap.add_argument("--uncached", action="store_true",
                    help="PAGE_CACHE_SECONDS=0: every request renders the page (what a page costs right after a write)")
    args = ap.parse_args()
    ensure_tools()
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": "bench-load", "FLASK_APP": "wsgi"}
    if args.uncached:
        env["PAGE_CACHE_SECONDS"] = "0"
    note = " (rendered every time)" if args.uncached else ""
    env.pop("REDIS_URL", None)
    env.pop("WUYE_DEMO", None)
    if not args.reuse:
        recreate_database(args.database_url)
        build(env, args.compounds, args.households)
    app = serve(env, "wsgi:app", 8601)
    bare = serve(env, "bench_bare:app", 8602, ROOT / "scripts")
    try:
        cookie = session_cookie(8601, f"{SLUG}-district")
        targets = [("bare Flask route", "http://127.0.0.1:8602/", ""),
                   ("district dashboard" + note, f"http://127.0.0.1:8601/d/{SLUG}/", cookie),
                   ("compound list" + note, f"http://127.0.0.1:8601/d/{SLUG}/compounds/", cookie)]
        results = []
        for label, url, c in targets:
            wrk(url, c, 3, args.connections)  # warm-up: connections, caches, plans
            results.append((label, wrk(url, c, args.seconds, args.connections)))
    finally:
        for p in (app, bare):
            p.terminate()
            p.wait()
    base = results[0][1]["rps"]
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, gunicorn -w 2, PostgreSQL, "
          f"{args.compounds} compounds / {args.households} households\n")
    print("| target | requests/s | p50 ms | p99 ms | share of bare | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in results:
        print(f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps'] / base:.0%} | {r['errors']} |")


if __name__ == "__main__":
    main()
