"""tenant.snapshot_version: bumped by every snapshot; keys the dashboard's kept figures

Revision ID: 3f6a9c1d2b7e
Revises: 7224947cee4c
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f6a9c1d2b7e'
down_revision = '7224947cee4c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snapshot_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('snapshot_version')
