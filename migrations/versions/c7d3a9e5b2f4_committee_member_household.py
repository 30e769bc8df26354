"""committee_member.household_id: the member's own unit (北京 第44条（八）: the committee publishes
its members' fee payments every half year, read from that unit's bills); None when not linked

Revision ID: c7d3a9e5b2f4
Revises: d3a7e5c1b9f2
Create Date: 2026-12-07 02:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c7d3a9e5b2f4'
down_revision = 'd3a7e5c1b9f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_committee_member_household_id'), ['household_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_committee_member_household_id_household'), 'household',
                                    ['household_id'], ['id'])


def downgrade():
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_committee_member_household_id_household'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_committee_member_household_id'))
        batch_op.drop_column('household_id')
