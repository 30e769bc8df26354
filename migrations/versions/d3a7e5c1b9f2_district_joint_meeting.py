"""district-level joint meetings (002 全区物业管理联席会议): a district meeting has no street, an
agenda item records the level of the meeting it is (to be) on, so a street can escalate to the
district; community and street meetings and items still need their street (CHECK)

Revision ID: d3a7e5c1b9f2
Revises: c2e4a6b8d0f1
Create Date: 2026-12-07 02:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd3a7e5c1b9f2'
down_revision = 'c2e4a6b8d0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.alter_column('street_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('ck_meeting_street', "level = 'district' OR street_id IS NOT NULL")
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=10), server_default='community', nullable=False))
        batch_op.alter_column('street_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('ck_agenda_item_street', "level = 'district' OR street_id IS NOT NULL")
    # Existing items: a street's pending copy and the items on street meetings are the street's.
    op.execute("UPDATE agenda_item SET level = 'street' WHERE meeting_id IS NULL "
               "OR meeting_id IN (SELECT id FROM meeting WHERE level = 'street')")


def downgrade():
    # District meetings and items have no street to keep: they go with the level.
    op.execute("DELETE FROM action_item WHERE meeting_id IN (SELECT id FROM meeting WHERE level = 'district')")
    op.execute("DELETE FROM meeting_attendee WHERE meeting_id IN (SELECT id FROM meeting WHERE level = 'district')")
    op.execute("UPDATE four_list_item SET agenda_item_id = NULL WHERE agenda_item_id IN "
               "(SELECT id FROM agenda_item WHERE level = 'district')")
    op.execute("UPDATE agenda_item SET outcome = 'pending', decision = '' WHERE outcome = 'escalated' AND level = 'street'")
    op.execute("DELETE FROM agenda_item WHERE level = 'district'")
    op.execute("DELETE FROM meeting WHERE level = 'district'")
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_constraint('ck_agenda_item_street', type_='check')
        batch_op.alter_column('street_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('level')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_constraint('ck_meeting_street', type_='check')
        batch_op.alter_column('street_id', existing_type=sa.Integer(), nullable=False)
