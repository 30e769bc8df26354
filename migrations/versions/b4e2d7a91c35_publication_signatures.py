"""publication.hash_version, key_id, signature: every shown field hashed (v2), chain heads signed

Revision ID: b4e2d7a91c35
Revises: 3f6a9c1d2b7e
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b4e2d7a91c35'
down_revision = '3f6a9c1d2b7e'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows keep their v1 hashes (they verify as before) and carry no signature.
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('key_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('signature', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_column('signature')
        batch_op.drop_column('key_id')
        batch_op.drop_column('hash_version')
