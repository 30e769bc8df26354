"""demand_counter: the last 诉求编号 sequence per district and day, taken outside the intake's
transaction on PostgreSQL (concurrent intakes no longer wait for each other)

Revision ID: c2e4a6b8d0f1
Revises: a1f3c5e7b9d2
Create Date: 2026-12-07 02:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c2e4a6b8d0f1'
down_revision = 'a1f3c5e7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'demand_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'day'),
    )
    with op.batch_alter_table('demand_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_counter_tenant_id'), ['tenant_id'], unique=False)
    from rls import wall
    wall('demand_counter')


def downgrade():
    op.drop_table('demand_counter')
