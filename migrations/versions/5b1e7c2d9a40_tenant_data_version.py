"""tenant.data_version: bumped after each committed write in the district; keys kept pages

Revision ID: 5b1e7c2d9a40
Revises: 882757dcd245
Create Date: 2026-11-25 01:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e7c2d9a40'
down_revision = '882757dcd245'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('data_version')
