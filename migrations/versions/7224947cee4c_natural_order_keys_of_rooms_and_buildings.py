"""natural order keys: household.room_key and building.name_key (2号楼 < 10号楼; 1单元101 < 1单元201 < 1单元1001 < 2单元101)

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
KEYS = (('household', 'room', 'room_key', 80), ('building', 'name', 'name_key', 140))


def _key(text):
    # Frozen copy of org.models.natural_key as of this revision: digit runs padded to six.
    return re.sub(r"\d+", lambda d: d.group().zfill(6), text or "")


def _fill(bind, table, source, key):
    t = sa.table(table, sa.column('id', sa.Integer), sa.column(source, sa.String), sa.column(key, sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(t.c.id, t.c[source]).where(t.c.id > last).order_by(t.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(t.update().where(t.c.id == sa.bindparam('row_id')).values({key: sa.bindparam('key_value')}),
                     [{'row_id': row_id, 'key_value': _key(text)} for row_id, text in rows])
        last = rows[-1][0]


def upgrade():
    for table, source, key, length in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(key, sa.String(length=length), server_default='', nullable=False))
        _fill(op.get_bind(), table, source, key)


def downgrade():
    for table, _, key, _ in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(key)
