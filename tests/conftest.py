"""Test fixtures.

By default the suite runs on a throwaway SQLite file with jobs inline. With DATABASE_URL and
REDIS_URL set it runs against PostgreSQL with jobs going through Redis to a real RQ worker
(started here as a subprocess). REQUIRE_SERVICES=1 turns a missing service into a failure.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from contextvars import ContextVar
from pathlib import Path

import pytest
from flask import current_app, has_request_context
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from wuye_saas import create_app, pagecache, rls, tenancy
from wuye_saas.extensions import db
from wuye_saas.ratelimit import limiter

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "unscoped: the test's own code may read a district's table outside "
                                       "any scope, to see the wall from there (conftest._guard_unscoped_reads)")


def _check_services():
    problems = []
    if not os.environ.get("DATABASE_URL"):
        problems.append("DATABASE_URL is not set")
    url = os.environ.get("REDIS_URL")
    if not url:
        problems.append("REDIS_URL is not set")
    else:
        from redis import Redis
        try:
            Redis.from_url(url).ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"Redis at {url} unreachable: {exc}")
    if problems:
        pytest.exit("REQUIRE_SERVICES=1 but " + "; ".join(problems), returncode=3)


class UnscopedRead(AssertionError):
    """Test code read a district's table outside any scope where the wall holds the role."""


# A test's own code that reads a district's table outside any scope proves nothing as the
# application role: the wall (rls.py) shows it no row, so "nothing was written" holds whatever
# was written, and a production function it calls there sees nothing, where the SQLite run (and
# an owner's) sees everything. As tenancy's ORM filter fails closed there, so do the test's raw
# SQL and Core reads (the audit trail is no ORM-filtered model): the test must open
# system_scope() (an operator's view of every district) or tenant_scope(). Requests and CLI
# commands are production's (`_AsProduction`); tests marked `unscoped` mean to see the wall from
# no scope (tests/test_rls.py); INSERTs are the wall's own to refuse (WITH CHECK).
_production: ContextVar[bool] = ContextVar("wuye_test_production", default=False)
_guarding: ContextVar[bool] = ContextVar("wuye_test_guarding", default=False)
_walled = None   # the pattern of the walled tables' names (partitions included)


def _guard_unscoped_reads(conn, cursor, statement, parameters, context, executemany):
    if (not _guarding.get() or _production.get() or has_request_context()
            or tenancy.current_scope() != tenancy.Scope(None) or not rls.active(conn.engine)
            or statement.lstrip()[:6].upper() == "INSERT"):
        return
    found = _walled.search(statement)
    if found:
        raise UnscopedRead(f"test code read {found.group(1)} outside any scope, where the wall shows "
                           "nothing: open system_scope() or tenant_scope()")


class _AsProduction:
    """What production runs — a request, a CLI command — starts as it does there: in no scope
    (tenancy's default), whatever scope the test body is in, and sets its own scopes; the
    body's are back when it returns. A request made inside the body's tenant_scope would
    otherwise run in that district whatever its page sets, and prove nothing about the scopes
    production sets (tests/test_scopes.py checks it)."""

    def _as_production(self, run, *args, **kwargs):
        token, production = tenancy.enter(None), _production.set(True)
        try:
            return run(*args, **kwargs)
        finally:
            _production.reset(production)
            tenancy.leave(token)


class Client(_AsProduction, FlaskClient):
    def open(self, *args, **kwargs):
        return self._as_production(super().open, *args, **kwargs)


class CliRunner(_AsProduction, FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        return self._as_production(super().invoke, *args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    if REQUIRE_SERVICES:
        _check_services()
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        "LANDING_COUNTS_SECONDS": 0,   # tests look at counts right after changing the register
        # The districts' signing keys: made at the first publication, in a folder of the run.
        "PUBLICATION_KEYS_DIR": str(tmp_path_factory.mktemp("keys")),
        "PUBLICATION_KEYS_AUTO_CREATE": True,
        # Cheap argon2id: the suite logs in thousands of times (test_auth checks the real defaults).
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 64, "ARGON2_PARALLELISM": 1,
        # The fake receivers and providers listen on loopback (outbound.py refuses it by default).
        "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
    })
    app.test_client_class, app.test_cli_runner_class = Client, CliRunner
    global _walled   # a walled table's name, not a column's (x.name) or a word in quotes
    names = sorted((t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c), key=len, reverse=True)
    _walled = re.compile(r'(?<![\w."\'])"?(' + "|".join(map(re.escape, names))
                         + r')(?:_y\d{4}m\d{2}|_default)?"?(?![\w"\'])')
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _guard_unscoped_reads)
    from flask_migrate import upgrade
    with app.app_context():
        upgrade()  # the migrations, not create_all: the suite proves they build the schema
    yield app


_owner_engines = {}
BIG_WIPE = 2_000   # households above which the wipe truncates instead of deleting


def _pg_wipe(conn, tables) -> None:
    """Empty the tables a test filled. TRUNCATE of all ~240 tables (partitions included) makes
    new files for every one and costs ~1.5 s a test, most of the PostgreSQL run; DELETE of the
    few non-empty ones, children first, costs milliseconds. Their sequences start again at 1 as
    TRUNCATE … RESTART IDENTITY would. If a DELETE is refused (a reference the metadata does not
    order), TRUNCATE … CASCADE does it the slow way."""
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables)
    filled = {row[0] for row in conn.execute(text(probe))}
    if not filled:
        return []
    big = conn.execute(text("SELECT count(*) FROM (SELECT 1 FROM household LIMIT :n) AS s"),
                       {"n": BIG_WIPE + 1}).scalar_one() > BIG_WIPE
    if big:   # a seeded demo district: deleting row by row would take minutes
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return []
    try:
        with conn.begin_nested():
            for t in tables:
                if t.name in filled:
                    conn.execute(text(f'DELETE FROM "{t.name}"'))
    except Exception:  # noqa: BLE001
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return []
    with_ids = [f'"{t.name}"' for t in tables if t.name in filled and "id" in t.c]
    conn.execute(text("SELECT setval(s, 1, false) FROM unnest(CAST(:names AS text[])) AS n, "
                      "pg_get_serial_sequence(n, 'id') AS s WHERE s IS NOT NULL"),
                 {"names": with_ids})
    return [t.name for t in tables if t.name in filled]


def _vacuum(engine, names) -> None:
    """VACUUM the emptied tables, after the DELETE's commit. A table emptied by DELETE keeps its
    pages; if something ANALYZEs it then (a billing run's refresh_statistics), the planner reads
    "these pages hold no rows" and estimates every later read of it at one row, however many it
    holds — a compound's sums then took minutes. VACUUM gives the empty pages back, as TRUNCATE
    would, so the next test's tables are estimated by their size again."""
    if names:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM " + ", ".join(f'"{n}"' for n in names)))


def _wipe():
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        owner_url = current_app.config.get("DATABASE_OWNER_URL")
        if owner_url:
            # The application's role may not DELETE everywhere (and row-level security would
            # hide rows from it anyway): the owner wipes, on a connection of its own.
            if owner_url not in _owner_engines:
                _owner_engines[owner_url] = create_engine(owner_url, poolclass=NullPool)
            with _owner_engines[owner_url].begin() as conn:
                emptied = _pg_wipe(conn, tables)
            _vacuum(_owner_engines[owner_url], emptied)
            return
        emptied = _pg_wipe(db.session.connection(), tables)
        db.session.commit()
        _vacuum(db.engine, emptied)
        return
    else:
        for t in tables:
            db.session.execute(t.delete())
    db.session.commit()


def _jobs_settled(app, timeout: float = 60.0) -> None:
    """With a real worker: wait until no job is queued or running. A job a test started and did
    not wait for (a holdback release after an appeal) would otherwise hold locks the wipe's
    TRUNCATE needs, and the two deadlock."""
    url = app.config.get("REDIS_URL")
    if not url:
        return
    from redis import Redis
    from rq import Queue
    conn = Redis.from_url(url)
    queues = [Queue(n, connection=conn) for n in app.config["RQ_QUEUES"]]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(q.count == 0 and q.started_job_registry.count == 0 for q in queues):
            return
        time.sleep(0.1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A test's own code may not read a district's table outside any scope
    (`_guard_unscoped_reads`) unless the test is marked `unscoped`: one that means to see the
    wall from there."""
    token = None if item.get_closest_marker("unscoped") else _guarding.set(True)
    try:
        yield
    finally:
        if token is not None:
            _guarding.reset(token)


@pytest.fixture(autouse=True)
def _clean(app):
    # No app context is held during the test: each test-client request must get its own
    # (a shared one would share `g` and the session across requests). Tests that read the
    # database open `with app.app_context():` themselves.
    yield
    for attempt in (1, 2):
        _jobs_settled(app)
        with app.app_context():
            db.session.rollback()
            try:
                _wipe()
                break
            except OperationalError as e:
                # A job the worker took off the queue just as _jobs_settled looked (it was in
                # neither the queue nor the started registry) holds locks the wipe needs: the two
                # deadlock. Once it is done, the wipe goes again.
                if attempt == 2 or "deadlock detected" not in str(e):
                    raise
                db.session.rollback()
                time.sleep(0.5)
    pagecache.clear()   # ids and versions start again in the next test's district
    with app.app_context():
        limiter.reset()     # every test's requests come from the same address


@pytest.fixture(scope="session")
def rq_worker(app):
    """A real RQ worker process while REDIS_URL is set; None when jobs run inline."""
    if not app.config.get("REDIS_URL"):
        yield None
        return
    env = dict(os.environ)
    # The worker must read uploads (imports) from the folder the test app saves them to.
    env["UPLOAD_FOLDER"] = app.config["UPLOAD_FOLDER"]
    env["WUYE_KEYS_DIR"], env["WUYE_KEYS_AUTO_CREATE"] = app.config["PUBLICATION_KEYS_DIR"], "1"
    env["OUTBOUND_ALLOWED_NETWORKS"] = ",".join(app.config["OUTBOUND_ALLOWED_NETWORKS"])
    # Its log goes to a file whose tail a test waiting in vain for a job shows (helpers.wait_for_job).
    log = tempfile.NamedTemporaryFile(prefix="wuye-worker-", suffix=".log", delete=False)
    os.environ["WUYE_TEST_WORKER_LOG"] = log.name
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)
    if proc.poll() is not None:
        pytest.fail("the RQ worker exited at start")
    yield proc
    proc.terminate()
    try:
        # Every test waited for its jobs (_jobs_settled): the worker is idle, and an idle RQ
        # worker may sit out its blocking dequeue before it notices the signal.
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()
    os.unlink(log.name)


@pytest.fixture
def client(app, rq_worker):
    return app.test_client()


@pytest.fixture
def world(app):
    """Two districts, each with two branches of everything (see factories.build_district)."""
    from .factories import build_district
    with app.app_context():
        return {"alpha": build_district("alpha", "甲区"), "beta": build_district("beta", "乙区")}
