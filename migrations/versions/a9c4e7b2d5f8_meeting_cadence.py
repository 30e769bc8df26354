"""meeting_cadence: how often each level must hold each kind of meeting (001, 003)

Revision ID: a9c4e7b2d5f8
Revises: e3b5c8a1d470
Create Date: 2026-12-06 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a9c4e7b2d5f8'
down_revision = 'e3b5c8a1d470'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'meeting_cadence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('every', sa.String(length=10), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'level', 'kind'),
    )
    with op.batch_alter_table('meeting_cadence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_cadence_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('meeting_cadence')
