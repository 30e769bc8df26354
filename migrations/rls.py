"""Row-level security for tenant tables, for this migration and every later one.

Every table with a `tenant_id` column gets the policy `tenant_wall`, ENABLEd and FORCEd (so
the owning role is held too, unless it is a superuser or has BYPASSRLS): a row is seen and
written only in a transaction whose `wuye.tenant` names its district, or whose `wuye.system`
is `on` (platform admin, login, seeding). The application sets both per transaction
(wuye_saas/rls.py). A migration that adds a tenant table ends with `wall(table)` — or
`wall_all()`, which finds every tenant table by its column (tests/test_rls.py fails for one
left without). Nothing happens on SQLite: it has no row security; the ORM's filter is the wall.

Usage in a migration (env.py puts this folder on sys.path):

    def upgrade():
        op.create_table("thing", ..., sa.Column("tenant_id", ...))
        from rls import wall
        wall("thing")
"""
from alembic import op
from sqlalchemy import text

POLICY = "tenant_wall"
# Each setting read once per statement (an InitPlan), not once per row.
RULE = ("(SELECT current_setting('wuye.system', true) = 'on')"
        " OR tenant_id = (SELECT NULLIF(current_setting('wuye.tenant', true), '')::integer)")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def tenant_tables() -> list[str]:
    """Tables and partitioned tables (and their partitions) of this schema with a tenant_id."""
    return list(op.get_bind().execute(text(
        "SELECT c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname")).scalars())


def wall(table: str) -> None:
    """ENABLE + FORCE row-level security on `table` with the district policy (idempotent).

    Where tenant_id may be NULL (audit_event: platform events such as a district created), a
    row of no district may be added from any scope — the audit hook writes it in the scope
    of whatever flush follows — but is read only in the system scope."""
    if not _postgresql():
        return
    q = '"' + table.replace('"', '""') + '"'
    nullable = op.get_bind().execute(text(
        "SELECT NOT a.attnotnull FROM pg_attribute a"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attname = 'tenant_id'"), {"t": q}).scalar()
    check = f"{RULE} OR tenant_id IS NULL" if nullable else RULE
    op.execute(f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {q} FORCE ROW LEVEL SECURITY")
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {q}")
    op.execute(f"CREATE POLICY {POLICY} ON {q} USING ({RULE}) WITH CHECK ({check})")


def append_only(table: str) -> None:
    """No role but the table's owner may UPDATE or DELETE its rows (the audit trail): revokes
    what default privileges or scripts/pg_roles.sql granted (the migration does not know the
    application role's name). Run again after recreating the table."""
    if not _postgresql():
        return
    q = '"' + table.replace('"', '""') + '"'
    grantees = op.get_bind().execute(text(
        "SELECT DISTINCT grantee FROM information_schema.role_table_grants"
        " WHERE table_schema = current_schema() AND table_name = :t AND privilege_type IN ('UPDATE', 'DELETE')"
        " AND grantee NOT IN (current_user, (SELECT pg_get_userbyid(relowner) FROM pg_class"
        "                                    WHERE oid = CAST(:q AS regclass)))"), {"t": table, "q": q}).scalars()
    for grantee in grantees:
        op.execute(f'REVOKE UPDATE, DELETE ON {q} FROM "{grantee.replace(chr(34), chr(34) * 2)}"')


def unwall(table: str) -> None:
    if not _postgresql():
        return
    q = '"' + table.replace('"', '""') + '"'
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {q}")
    op.execute(f"ALTER TABLE {q} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {q} DISABLE ROW LEVEL SECURITY")


def wall_all() -> None:
    """`wall` every tenant table there is (new ones included; the walled ones again)."""
    if _postgresql():
        for table in tenant_tables():
            wall(table)
