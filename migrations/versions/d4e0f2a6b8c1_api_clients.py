"""api_client: a district's machine accounts for the JSON API (hashed secrets, scopes, a firm)

Revision ID: d4e0f2a6b8c1
Revises: c3d9e1f5a7b2
Create Date: 2026-12-06 23:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd4e0f2a6b8c1'
down_revision = 'c3d9e1f5a7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=True),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('secret_hash', sa.String(length=128), nullable=False),
        sa.Column('rate_per_minute', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('rotated_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['firm_id'], ['firm.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_id'),
        sa.UniqueConstraint('tenant_id', 'name'),
    )
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_client_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_client_tenant_id'), ['tenant_id'], unique=False)
    from rls import wall
    wall('api_client')


def downgrade():
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_client_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_api_client_firm_id'))
    op.drop_table('api_client')
