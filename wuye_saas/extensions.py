"""Flask extensions, created unbound; the app factory binds them."""
import os
import threading
from time import monotonic

from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()


def ping_when_idle(engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip only when it has sat unused for a while.

    SQLAlchemy's pool_pre_ping pings on every checkout: one extra round trip per request, a
    quarter of a kept page's time under load (docs/benchmarks.md). A connection used in the last
    seconds is alive; one idle longer may have been cut (database restart, a firewall's idle
    timeout) and is tested first. A dead one raises DisconnectionError, on which the pool drops
    it and checks out another."""
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        since = record.info.get("idle_since")
        if since is not None and monotonic() - since > idle_seconds:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except engine.dialect.loaded_dbapi.Error as err:
                raise exc.DisconnectionError() from err


class DirectReads:
    """One statement read on a PostgreSQL connection of its own per worker thread, kept open in
    autocommit, outside the pool and the ORM session.

    For the statement that starts every district page: through the session it costs a pooled
    checkout, a session transaction, a reset and a check-in — about 0.23 ms of a kept page's
    1 ms, more than the round trip itself (docs/benchmarks.md). Autocommit (held by row-level
    security, one short transaction per read): each read sees the latest committed data and
    holds no lock between requests. A connection cut since (database
    restart, idle timeout) is replaced once; one inherited across a fork is left to the parent.
    Each worker thread holds one such connection beside the pool's."""

    def __init__(self, stmt):
        self._stmt, self._local = stmt, threading.local()

    def row(self, engine, params: dict):
        try:
            return self._read(engine, params)
        except engine.dialect.loaded_dbapi.Error:
            # Cut, or its prepared statement outlived a schema change: a fresh connection.
            self._local.cursor = None
            return self._read(engine, params)

    def _read(self, engine, params: dict):
        cur = self._cursor(engine)
        local = self._local
        if local.walled:
            # Row-level security (rls.py) holds this role: the read is the session check that
            # finds the district itself, so it runs in the system scope. BEGIN, the scope, the
            # (prepared) statement and COMMIT go as one pipeline: one round trip, as the simple
            # query of the scope and the statement was, with the statement parsed once per
            # connection. Nothing outlives the transaction.
            conn = cur.connection
            with conn.pipeline():
                conn.execute(local.scope)
                cur.execute(local.sql, params, prepare=local.prepare)
                conn.commit()
            return cur.fetchone()
        return cur.execute(local.sql, params, prepare=local.prepare).fetchone()

    def _cursor(self, engine):
        local = self._local
        if getattr(local, "cursor", None) is None or local.pid != os.getpid():
            from psycopg.rows import namedtuple_row

            from . import rls, tenancy

            pooled = engine.raw_connection()   # the engine's connect arguments and events
            pooled.detach()                    # ours now: the pool neither resets nor reuses it
            conn = pooled.dbapi_connection
            local.walled = rls.active(engine)
            conn.autocommit = not local.walled
            local.sql = str(self._stmt.compile(dialect=engine.dialect))
            local.scope = rls.scope_sql(tenancy.Scope(None, system=True))
            # Behind a transaction pooler the connection prepares nothing (config.py).
            local.prepare = None if conn.prepare_threshold is None else True
            local.cursor = conn.cursor(row_factory=namedtuple_row)
            local.pid = os.getpid()
        return local.cursor


def refresh_statistics(*tables: str) -> None:
    """ANALYZE after a bulk load (committed) on PostgreSQL: its planner works from table
    statistics, and autovacuum may be off or not yet round (a community's 缴费率 took minutes on
    a freshly billed district; docs/benchmarks.md). Only a table's owner may ANALYZE it: the
    application's role, which owns nothing, would only be warned and skip every table, so the
    owner's role (DATABASE_OWNER_URL) does it when it is set.

    SQLite too: without statistics its planner takes a district's `tenant_id` index, which every
    row of a one-district database matches, for the bill list's per-bill payment and credit
    look-ups: the demo's 账单 took 0.9 s, and filtered by a month did not finish in minutes
    (0.09 s each once analysed)."""
    from flask import current_app
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    if db.engine.dialect.name == "sqlite":
        for table in tables or ("",):   # SQLite's ANALYZE takes one table at a time
            db.session.execute(text(f"ANALYZE {table}"))
        return
    if db.engine.dialect.name != "postgresql":
        return
    sql = text("ANALYZE " + ", ".join(tables) if tables else "ANALYZE")
    owner_url = current_app.config.get("DATABASE_OWNER_URL")
    if not owner_url:
        db.session.execute(sql)
        return
    engine = create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sql)
    finally:
        engine.dispose()


def looked_up(col, ids):
    """`col IN (ids)` for a subquery (or a list) of a few thousand ids (a billing chunk's households
    or bills); on PostgreSQL `col = ANY(ARRAY(ids))`, which can only be read through col's index, id
    by id. As an IN the planner hashes the ids and scans the whole table against them: for each
    chunk of a billing run, all of household_owed, owed_bill and the district's payments —
    quadratic over a run (docs/benchmarks.md, session 13). Not for large sets: the array is
    built in memory."""
    from sqlalchemy import Integer, any_, bindparam, func
    from sqlalchemy.dialects.postgresql import ARRAY

    listed = isinstance(ids, (list, tuple))
    if db.session.get_bind().dialect.name == "postgresql":
        if listed:
            return col == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
        return col == any_(func.array(ids.scalar_subquery()))
    return col.in_(ids)


def kept_row(stmt, params=None, *, custom: bool = False):
    """The one row of a statement kept for reuse, with the plan it needs. By default PostgreSQL's
    generic plan: a landing page's to-do batch (~20 counts in one statement) took 9–15 ms to plan
    on every request and 2–4 ms to run; left to itself PostgreSQL keeps planning such a statement
    for its parameters. Prepared on the connection at its first run there, the plan made once is
    reused. `custom=True` is the opposite, for a statement whose best plan depends on its values
    but whose generic plan looks cheaper to PostgreSQL, which then switches to it after five runs
    (a street's 12345 volume: the whole district's demands read for the street's). Other
    statements keep the default (`auto`): a generic plan of the bill list was a thousand times
    slower, so the mode is set around this statement only.

    The mode, the statement and the mode's reset go as one pipeline (one round trip where they
    were three), and the statement is compiled once per district (`_generic_sql`), not by the
    ORM on every run: `stmt` must be `tenancy.kept` (policy.built marks what it builds).
    Nothing changes where nothing is prepared (SQLite; behind a transaction pooler) or outside a
    district's scope: the session runs it as any other."""
    from . import tenancy

    session = db.session
    conn = session.connection()
    raw = conn.connection.dbapi_connection
    scope = tenancy.current_scope()
    if (conn.dialect.name != "postgresql" or raw.prepare_threshold is None or scope.system
            or scope.tenant_id is None or not stmt.get_execution_options().get(tenancy.KEPT)):
        return session.execute(stmt, params).one()
    sql, values = _generic_sql(tenancy.kept_filtered(stmt, scope.tenant_id), conn.dialect, params)
    values = {**values, **(params or {})}
    cur = raw.cursor()
    # The engine's listeners see it as any statement: the district told first (rls.py), the
    # statement counted and timed by whoever listens (tests, benchmarks).
    for before in conn.dispatch.before_cursor_execute:
        before(conn, cur, sql, values, None, False)
    with raw.pipeline():
        raw.execute("SET LOCAL plan_cache_mode = force_custom_plan" if custom
                        else "SET LOCAL plan_cache_mode = force_generic_plan")
        cur.execute(sql, values, prepare=True)
        raw.execute("SET LOCAL plan_cache_mode = auto")
    row = cur.fetchone()
    for after in conn.dispatch.after_cursor_execute:
        after(conn, cur, sql, values, None, False)
    return row


_generic: dict = {}


def _generic_sql(stmt, dialect, params) -> tuple[str, dict]:
    """The statement's SQL for the driver and its bound values: a kept statement's are fixed but
    for `params` (the request's, given again on every run)."""
    got = _generic.get(stmt)
    if got is None:
        if len(_generic) >= 1024:
            _generic.clear()
        expanded = stmt.compile(dialect=dialect).construct_expanded_state(params)   # IN lists spelled out
        got = _generic[stmt] = (expanded.statement, expanded.parameters)
    return got


_WROTE = "wuye_wrote"
# Statements that leave nothing a commit would keep (a session-wide SET would outlive it: a write).
_READS = ("SELECT", "SET LOCAL", "SHOW")


def end_reads_with_commit(app) -> None:
    """PostgreSQL: a request whose transaction only read ends it with COMMIT, not ROLLBACK.
    psycopg forgets every statement it prepared on a connection at each rollback (one that was
    rolled back may have dropped what they name), and a rollback ended every request: nothing
    was ever prepared, each statement was planned again on every request. A transaction that
    wrote anything, or holds changed objects, is left to roll back as before: only what a view
    committed is kept, as always."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip()[:9].upper().startswith(_READS):
            conn.info[_WROTE] = True

    def _forget(conn, *args):
        conn.info.pop(_WROTE, None)

    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, _forget)

    # Registered after Flask-SQLAlchemy's: runs before it removes the session.
    @app.teardown_appcontext
    def _commit_reads(exc):
        if exc is not None or not db.session.registry.has():
            return
        session = db.session()
        tx = session.get_transaction()
        # Not a transaction a failed flush left inactive (it waits for its rollback), nor one
        # holding objects not yet written.
        if tx is None or not tx.is_active or session.new or session.dirty or session.deleted:
            return
        if session.connection().info.get(_WROTE):
            return
        # Without expiring what was loaded: the session is closed next, and whoever still holds
        # an object from it (a test, a command's return value) reads it as after a rollback.
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
