"""api_request: the keys of API writes (work-order and receipt numbers) per client, for idempotency

Revision ID: 8b0c5e7cece2
Revises: f9c5d3e7a1b4
Create Date: 2026-12-06 23:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '8b0c5e7cece2'
down_revision = 'f9c5d3e7a1b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['api_client.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'client_id', 'kind', 'key'),
    )
    with op.batch_alter_table('api_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_request_tenant_id'), ['tenant_id'], unique=False)
    from rls import wall
    wall('api_request')


def downgrade():
    with op.batch_alter_table('api_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_request_tenant_id'))
    op.drop_table('api_request')
