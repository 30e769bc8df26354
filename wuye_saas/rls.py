"""The database's own wall between districts (PostgreSQL row-level security).

Every table with a `tenant_id` carries a policy (migrations/rls.py) that shows and accepts only
rows of the district named by the transaction's setting `wuye.tenant`, or every row when
`wuye.system` is `on`. Both are set per transaction (`set_config(…, true)`), never per
connection, so a pooled or pgbouncer-shared connection cannot carry one district's scope into
another's work.

`install(engine)` keeps the settings equal to the scope of `tenancy` (the request's district,
a job's `tenant_scope`, a `system_scope`): before each statement, if this transaction has not
yet been told the current scope, the statement is preceded by one that tells it. A transaction
that starts with it costs nothing extra (`BEGIN` and the settings go as one simple query,
where psycopg would have sent `BEGIN` alone); a scope change inside an open transaction costs
one round trip. Superusers and roles with BYPASSRLS are not subject to the policies: for them
nothing is sent.
"""
from __future__ import annotations

from sqlalchemy import event, text

from . import tenancy

TENANT, SYSTEM = "wuye.tenant", "wuye.system"
_TOLD = "wuye_rls_scope"   # in the pooled connection's info: the scope this transaction was told


def scope_sql(scope: tenancy.Scope) -> str:
    """The statement that tells the transaction its scope. Literals, not parameters: it goes
    with BEGIN as one simple query (the values are an int and a fixed word)."""
    tid = "" if scope.tenant_id is None else str(int(scope.tenant_id))
    return (f"SELECT set_config('{TENANT}', '{tid}', true) AS tenant, "
            f"set_config('{SYSTEM}', '{'on' if scope.system else 'off'}', true) AS system")


def subject_to_policies(dbapi_connection) -> bool:
    """Whether row-level security applies to this connection's role."""
    with dbapi_connection.cursor() as cur:
        cur.execute("SELECT NOT (rolsuper OR rolbypassrls) FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
    dbapi_connection.rollback()
    return bool(row and row[0])


def active(engine) -> bool:
    """Whether this engine's connections are held by the policies (known after its first connection)."""
    return bool(getattr(engine, "wuye_rls", False))


def install(engine) -> None:
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "first_connect")
    def _first(dbapi_connection, record):
        engine.wuye_rls = subject_to_policies(dbapi_connection)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        if engine.wuye_rls:
            tell(cursor.connection, conn.info, tenancy.current_scope())

    # A transaction's end forgets what it was told (the next one is told again); so does a
    # rollback to a savepoint, which undoes a set_config made after it.
    def _forget(conn, *args):
        conn.info.pop(_TOLD, None)

    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection, record, reset_state):
        record.info.pop(_TOLD, None)


def tell(raw, info: dict, scope: tenancy.Scope) -> None:
    """Make the psycopg connection's current transaction carry `scope`, opening the transaction
    if none is open (also on an autocommit connection: its statements then share it until the
    rollback or commit that ends it). Sent with libpq directly so that psycopg does not send a
    `BEGIN` of its own first: it reads the transaction status from the server, sends no second
    one, and its commit and rollback end this transaction as any other."""
    from psycopg import errors, pq

    status = raw.pgconn.transaction_status
    if status == pq.TransactionStatus.INERROR:
        return   # the statement fails anyway, and so would this one
    if status == pq.TransactionStatus.INTRANS and info.get(_TOLD) == scope:
        return
    sql = scope_sql(scope)
    if status == pq.TransactionStatus.IDLE:
        sql = "BEGIN; " + sql
    result = raw.pgconn.exec_(sql.encode())
    if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        raise errors.error_from_result(result, encoding=raw.info.encoding)
    info[_TOLD] = scope


# --- The policies themselves (DDL, run by the tables' owner: migrations, `flask db-partitions`) ---

POLICY = "tenant_wall"
# Each setting read once per statement (an InitPlan), not once per row.
RULE = (f"(SELECT current_setting('{SYSTEM}', true) = 'on')"
        f" OR tenant_id = (SELECT NULLIF(current_setting('{TENANT}', true), '')::integer)")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def wall(conn, table: str) -> None:
    """ENABLE + FORCE row-level security on `table` with the district policy (idempotent).

    Where tenant_id may be NULL (audit_event: platform events such as a district created), a
    row of no district may be added from any scope but is read only in the system scope."""
    q = _quoted(table)
    nullable = conn.execute(text(
        "SELECT NOT a.attnotnull FROM pg_attribute a"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attname = 'tenant_id'"), {"t": q}).scalar()
    check = f"{RULE} OR tenant_id IS NULL" if nullable else RULE
    conn.execute(text(f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY"))
    conn.execute(text(f"ALTER TABLE {q} FORCE ROW LEVEL SECURITY"))
    conn.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {q}"))
    conn.execute(text(f"CREATE POLICY {POLICY} ON {q} USING ({RULE}) WITH CHECK ({check})"))


def append_only(conn, table: str) -> None:
    """No role but the owner may UPDATE or DELETE the rows of `table` or of any of its partitions
    (a partition reached by its own name is not held by its parent's grants): revokes what
    default privileges or scripts/pg_roles.sql granted."""
    for part in conn.execute(text(
            "SELECT relid::regclass::text FROM pg_partition_tree(CAST(:t AS regclass))"
            " UNION SELECT CAST(:t AS regclass)::text"), {"t": _quoted(table)}).scalars():
        grantees = conn.execute(text(
            "SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g"
            " JOIN pg_class c ON c.oid = CAST(:q AS regclass)"
            " WHERE g.table_schema = current_schema() AND g.table_name = c.relname"
            " AND g.privilege_type IN ('UPDATE', 'DELETE')"
            " AND g.grantee NOT IN (current_user, pg_get_userbyid(c.relowner))"), {"q": part}).scalars().all()
        for grantee in grantees:
            conn.execute(text(f"REVOKE UPDATE, DELETE ON {part} FROM {_quoted(grantee)}"))


def secure_partition(conn, parent: str, partition: str) -> None:
    """A new partition is reachable by its own name, where the parent's policy does not hold:
    it gets the wall itself, and the audit trail's stays append-only."""
    wall(conn, partition)
    if parent in APPEND_ONLY:
        append_only(conn, partition)


APPEND_ONLY = ("audit_event",)   # nothing in the product updates or deletes an event
