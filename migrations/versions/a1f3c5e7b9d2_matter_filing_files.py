"""matter_filing_file: the documents of a written 重大事项报备, each with its SHA-256

Revision ID: a1f3c5e7b9d2
Revises: b8e4d2a6c9f1
Create Date: 2026-12-07 02:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a1f3c5e7b9d2'
down_revision = 'b8e4d2a6c9f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'matter_filing_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('filing_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('stored_name', sa.String(length=80), nullable=False),
        sa.Column('content_type', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['filing_id'], ['matter_filing.id'], name=op.f('fk_matter_filing_file_filing_id_matter_filing')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_matter_filing_file_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_matter_filing_file')),
    )
    with op.batch_alter_table('matter_filing_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matter_filing_file_filing_id'), ['filing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matter_filing_file_tenant_id'), ['tenant_id'], unique=False)
    from rls import wall
    wall('matter_filing_file')


def downgrade():
    op.drop_table('matter_filing_file')
