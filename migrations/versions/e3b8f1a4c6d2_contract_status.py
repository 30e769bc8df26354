"""Contract status: a draft contract (selection winner, incoming firm before handover) does not serve

Revision ID: e3b8f1a4c6d2
Revises: d1a7c3e9f284
Create Date: 2026-12-06 11:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e3b8f1a4c6d2'
down_revision = 'd1a7c3e9f284'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='active', nullable=False))
        batch_op.create_index(batch_op.f('ix_contract_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_status'))
        batch_op.drop_column('status')
