"""fund_application.building_ids: the buildings whose households share a fund use (None: the
whole compound, as before)

Revision ID: f9c5d3e7a1b4
Revises: e8b4c2d6f0a3
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f9c5d3e7a1b4'
down_revision = 'e8b4c2d6f0a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fund_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('building_ids', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('fund_application', schema=None) as batch_op:
        batch_op.drop_column('building_ids')
