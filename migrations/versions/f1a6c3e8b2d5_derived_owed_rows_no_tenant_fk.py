"""owed_bill and household_owed: no row-by-row foreign key to tenant, no index of tenant_id
alone (their tenant_id is copied from bills checked on their own; a billing run writes a million
of each: the two checks cost 8 s of a million-household run, docs/benchmarks.md); owed_bill keyed
by (household_id, month), its per-household index, without bill_id, which nothing read (a run no
longer takes its bills' ids from the sequence before the COPY)

Revision ID: f1a6c3e8b2d5
Revises: e4b8c2f6a0d3
Create Date: 2026-12-07 15:30:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'f1a6c3e8b2d5'
down_revision = 'e4b8c2f6a0d3'
branch_labels = None
depends_on = None

TABLES = ('owed_bill', 'household_owed')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_tenant_id_tenant', type_='foreignkey')
            batch.drop_index(f'ix_{table}_tenant_id')
    with op.batch_alter_table('owed_bill') as batch:
        batch.drop_constraint('pk_owed_bill', type_='primary')
        batch.create_primary_key('pk_owed_bill', ['household_id', 'month'])
        batch.drop_index('ix_owed_bill_household_id_month')
        batch.drop_column('bill_id')


def downgrade():
    op.add_column('owed_bill', sa.Column('bill_id', sa.Integer(), nullable=True))
    op.execute("UPDATE owed_bill SET bill_id = (SELECT bill.id FROM bill WHERE bill.household_id = owed_bill.household_id"
               " AND bill.month = owed_bill.month)")
    with op.batch_alter_table('owed_bill') as batch:
        batch.alter_column('bill_id', existing_type=sa.Integer(), nullable=False)
        batch.create_index('ix_owed_bill_household_id_month', ['household_id', 'month'], unique=False)
        batch.drop_constraint('pk_owed_bill', type_='primary')
        batch.create_primary_key('pk_owed_bill', ['bill_id'])
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_index(f'ix_{table}_tenant_id', ['tenant_id'], unique=False)
            batch.create_foreign_key(f'fk_{table}_tenant_id_tenant', 'tenant', ['tenant_id'], ['id'])
