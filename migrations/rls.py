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

from wuye_saas import rls

POLICY = rls.POLICY


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
    """The district policy on `table` (wuye_saas.rls.wall), on PostgreSQL."""
    if _postgresql():
        rls.wall(op.get_bind(), table)


def wall_all() -> None:
    """`wall` every tenant table there is (new ones included; the walled ones again)."""
    if _postgresql():
        for table in tenant_tables():
            wall(table)


def append_only(table: str) -> None:
    """No role but the owner may UPDATE or DELETE rows of `table` or its partitions (the audit
    trail). Run again after recreating the table."""
    if _postgresql():
        rls.append_only(op.get_bind(), table)


def unwall(table: str) -> None:
    if not _postgresql():
        return
    q = '"' + table.replace('"', '""') + '"'
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {q}")
    op.execute(f"ALTER TABLE {q} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {q} DISABLE ROW LEVEL SECURITY")
