"""专项维修资金分户账: fund_rule (first-deposit standard, 北京 第74条), fund_allocation and
fund_share (each household's part of each fund entry)

Revision ID: f7a2c4e9b1d6
Revises: a7c2e9f4b1d6
Create Date: 2026-12-06 19:00:00

Fund entries made before this stay pending: the fund page's 补记分户账 splits them.
After the row-level security migration (like every later one): a database already past it must
still get these tables, so the new tables get their wall here.
"""
from alembic import op
import sqlalchemy as sa


revision = 'f7a2c4e9b1d6'
down_revision = 'a7c2e9f4b1d6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fund_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cost_fen_per_m2', sa.BigInteger(), nullable=False),
        sa.Column('rate_percent', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('revenue_rule', sa.Boolean(), nullable=False),
        sa.Column('revenue_percent', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id'),
    )
    with op.batch_alter_table('fund_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_rule_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'fund_allocation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('basis', sa.String(length=10), nullable=False),
        sa.Column('building_ids', sa.JSON(), nullable=True),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('entry_id'),
    )
    with op.batch_alter_table('fund_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_allocation_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocation_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'fund_share',
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('entry_date', sa.Date(), nullable=False),
        sa.Column('part', sa.String(length=10), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id']),
        sa.ForeignKeyConstraint(['household_id'], ['household.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('entry_id', 'household_id'),
    )
    with op.batch_alter_table('fund_share', schema=None) as batch_op:
        batch_op.create_index('ix_fund_share_compound_date', ['compound_id', 'entry_date'], unique=False)
        batch_op.create_index('ix_fund_share_household_date', ['household_id', 'entry_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_share_tenant_id'), ['tenant_id'], unique=False)
    from rls import wall
    for table in ('fund_rule', 'fund_allocation', 'fund_share'):
        wall(table)


def downgrade():
    with op.batch_alter_table('fund_share', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_share_tenant_id'))
        batch_op.drop_index('ix_fund_share_household_date')
        batch_op.drop_index('ix_fund_share_compound_date')
    op.drop_table('fund_share')
    with op.batch_alter_table('fund_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_allocation_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_fund_allocation_compound_id'))
    op.drop_table('fund_allocation')
    with op.batch_alter_table('fund_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_rule_tenant_id'))
    op.drop_table('fund_rule')
