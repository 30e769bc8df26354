"""compound (tenant_id, name, id): 收缴率 by compound walks a district's compounds in name order a
page at a time, instead of grouping every billed compound's months to sort, page and count them
(3.8 ms at 1,000 compounds against 0.7 at 100: the page grew with the district)

Revision ID: a8d2f4c6e1b3
Revises: f1a6c3e8b2d5
Create Date: 2026-12-07 19:05:00
"""
from alembic import op


revision = 'a8d2f4c6e1b3'
down_revision = 'f1a6c3e8b2d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_compound_tenant_id_name', 'compound', ['tenant_id', 'name', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_compound_tenant_id_name', table_name='compound')
