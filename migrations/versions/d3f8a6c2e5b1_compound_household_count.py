"""compound.household_count: each compound's households, kept by triggers on household

Counting a large district's households (300,000 rows) on every landing page grew with the
district; the register's count is now the sum of its compounds' counts. Triggers keep the
column exact whatever writes the households (the ORM, the importer's bulk INSERT, COPY):
statement-level with transition tables on PostgreSQL (one UPDATE per statement, not per row),
row-level on SQLite.

Revision ID: d3f8a6c2e5b1
Revises: e8a3c5f1b2d7
Create Date: 2026-12-06 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd3f8a6c2e5b1'
down_revision = 'e8a3c5f1b2d7'
branch_labels = None
depends_on = None

PG = """
CREATE FUNCTION household_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE compound c SET household_count = c.household_count + n.k
    FROM (SELECT compound_id, count(*) AS k FROM added GROUP BY compound_id) n WHERE c.id = n.compound_id;
    RETURN NULL;
END $$;
CREATE FUNCTION household_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE compound c SET household_count = c.household_count - n.k
    FROM (SELECT compound_id, count(*) AS k FROM removed GROUP BY compound_id) n WHERE c.id = n.compound_id;
    RETURN NULL;
END $$;
CREATE FUNCTION household_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE compound c SET household_count = c.household_count + n.k
    FROM (SELECT compound_id, sum(k) AS k FROM (
            SELECT a.compound_id, 1 AS k FROM added a JOIN removed r ON r.id = a.id WHERE r.compound_id <> a.compound_id
            UNION ALL
            SELECT r.compound_id, -1 FROM added a JOIN removed r ON r.id = a.id WHERE r.compound_id <> a.compound_id
          ) moved GROUP BY compound_id) n
    WHERE c.id = n.compound_id;
    RETURN NULL;
END $$;
CREATE TRIGGER household_count_insert AFTER INSERT ON household REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION household_count_insert();
CREATE TRIGGER household_count_delete AFTER DELETE ON household REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION household_count_delete();
CREATE TRIGGER household_count_update AFTER UPDATE ON household REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION household_count_update();
"""

SQLITE = [
    """CREATE TRIGGER household_count_insert AFTER INSERT ON household BEGIN
        UPDATE compound SET household_count = household_count + 1 WHERE id = NEW.compound_id; END""",
    """CREATE TRIGGER household_count_delete AFTER DELETE ON household BEGIN
        UPDATE compound SET household_count = household_count - 1 WHERE id = OLD.compound_id; END""",
    """CREATE TRIGGER household_count_update AFTER UPDATE OF compound_id ON household
        WHEN OLD.compound_id <> NEW.compound_id BEGIN
        UPDATE compound SET household_count = household_count - 1 WHERE id = OLD.compound_id;
        UPDATE compound SET household_count = household_count + 1 WHERE id = NEW.compound_id; END""",
]


def upgrade():
    with op.batch_alter_table('compound') as batch:
        batch.add_column(sa.Column('household_count', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE compound SET household_count = "
               "(SELECT count(*) FROM household WHERE household.compound_id = compound.id)")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG)
    else:
        for stmt in SQLITE:
            op.execute(stmt)


def downgrade():
    for name in ('insert', 'delete', 'update'):
        op.execute(f"DROP TRIGGER IF EXISTS household_count_{name}" +
                   (" ON household" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP FUNCTION IF EXISTS household_count_{name}()")
    with op.batch_alter_table('compound') as batch:
        batch.drop_column('household_count')
