"""household.room_key: natural order of rooms within a building (1单元101 < 1单元201 < 1单元1001 < 2单元101)

Revision ID: 7224947cee4c
Revises: 5b1e7c2d9a40
Create Date: 2026-11-25 06:10:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '7224947cee4c'
down_revision = '5b1e7c2d9a40'
branch_labels = None
depends_on = None

BATCH = 5000


def _key(room):
    # Frozen copy of org.models.room_order_key as of this revision: digit runs padded to six.
    return re.sub(r"\d+", lambda d: d.group().zfill(6), room or "")


def upgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_key', sa.String(length=80), server_default='', nullable=False))
    bind = op.get_bind()
    household = sa.table('household', sa.column('id', sa.Integer), sa.column('room', sa.String),
                         sa.column('room_key', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(household.c.id, household.c.room).where(household.c.id > last)
                            .order_by(household.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(household.update().where(household.c.id == sa.bindparam('hid'))
                     .values(room_key=sa.bindparam('key')),
                     [{'hid': hid, 'key': _key(room)} for hid, room in rows])
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_column('room_key')
