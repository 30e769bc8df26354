"""standard_item.no_survey_rule: what a survey item earns without a valid survey

Until now a compound without a valid survey earned full points on its survey items. Every
existing item gets the new default "zero" (计 0 分); a district that wants another rule
chooses it per item in the standard builder (a frozen standard: in a new version).

Revision ID: d2a7c9e4f1b8
Revises: c4e8a2f1b6d3
Create Date: 2026-12-06 09:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd2a7c9e4f1b8'
down_revision = 'c4e8a2f1b6d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('standard_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_survey_rule', sa.String(length=10), server_default='zero', nullable=False))


def downgrade():
    with op.batch_alter_table('standard_item', schema=None) as batch_op:
        batch_op.drop_column('no_survey_rule')
