"""Demand channels the district configures (demand_channel): its own channels (code "c<id>")
and its on/off setting of built-in ones. Existing demands keep their built-in codes.

Revision ID: c6e2a9d4f1b8
Revises: a9c4e7b2d5f8
Create Date: 2026-12-06 12:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c6e2a9d4f1b8'
down_revision = 'a9c4e7b2d5f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('demand_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_demand_channel_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_channel')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_demand_channel_tenant_id_code'))
    )
    with op.batch_alter_table('demand_channel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_channel_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('demand_channel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_channel_tenant_id'))
    op.drop_table('demand_channel')
