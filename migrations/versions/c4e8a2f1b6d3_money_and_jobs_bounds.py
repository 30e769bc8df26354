"""fee policy names unique per district and version; job_run heartbeat and lock key (one
billing run per month and scope at a time); money sums and entries in BIGINT

Revision ID: c4e8a2f1b6d3
Revises: c4e8a1f07b3d
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8a2f1b6d3'
down_revision = 'c4e8a1f07b3d'
branch_labels = None
depends_on = None


# Columns holding sums (a compound's month, a claim) or large entries: a district's figures
# can pass INTEGER's ¥21,474,836.47. A single bill's parts stay INTEGER (at most 10⁸ 分).
BIG = [('subsidy_claim', 'amount_fen', False), ('compound_month', 'billed_fen', False),
       ('compound_month', 'collected_fen', False), ('ledger_entry', 'amount_fen', False),
       ('fund_application', 'budget_fen', False), ('fund_application', 'approved_fen', True)]


DEDUPLICATE = """
UPDATE fee_policy SET name = substr(name, 1, 80) || '（重名' || id || '）'
WHERE EXISTS (SELECT 1 FROM fee_policy AS other WHERE other.tenant_id = fee_policy.tenant_id
              AND other.name = fee_policy.name AND other.version = fee_policy.version
              AND other.id < fee_policy.id)
"""


def upgrade():
    for table, column, nullable in BIG:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Integer(), type_=sa.BigInteger(),
                                  existing_nullable=nullable)
    # Names were not unique before: a later same-named policy gets its id appended, so the
    # constraint can hold (the district sees which one it is and may rename it).
    op.execute(DEDUPLICATE)
    with op.batch_alter_table('fee_policy', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_fee_policy_tenant_id_name_version'),
                                          ['tenant_id', 'name', 'version'])
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('lock_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_job_run_tenant_id_lock_key'), ['tenant_id', 'lock_key'])


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_job_run_tenant_id_lock_key'), type_='unique')
        batch_op.drop_column('lock_key')
        batch_op.drop_column('heartbeat_at')
    with op.batch_alter_table('fee_policy', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_fee_policy_tenant_id_name_version'), type_='unique')
    for table, column, nullable in BIG:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.BigInteger(), type_=sa.Integer(),
                                  existing_nullable=nullable)
