"""domain_event: what happened, written with the change (the outbox notifications and webhooks
read)

Revision ID: c3d9e1f5a7b2
Revises: f7a2c4e9b1d6
Create Date: 2026-12-06 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d9e1f5a7b2'
down_revision = 'f7a2c4e9b1d6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'domain_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('domain_event', schema=None) as batch_op:
        batch_op.create_index('ix_domain_event_subject', ['subject', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_domain_event_tenant_id'), ['tenant_id'], unique=False)
    from rls import wall
    wall('domain_event')


def downgrade():
    with op.batch_alter_table('domain_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domain_event_tenant_id'))
        batch_op.drop_index('ix_domain_event_subject')
    op.drop_table('domain_event')
