"""analyze_vote_roll(): the application's role refreshes vote_roll's statistics after fixing a
roll, in the same transaction (only a table's owner may ANALYZE it; the function runs as the
owner, SECURITY DEFINER, and does nothing else)

Revision ID: e8b4c2d6f0a3
Revises: d4e0f2a6b8c1
Create Date: 2026-12-06 23:20:00
"""
from alembic import op


revision = 'e8b4c2d6f0a3'
down_revision = 'd4e0f2a6b8c1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION analyze_vote_roll() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            ANALYZE vote_roll;
        END $$""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION analyze_vote_roll()")
