"""四项清单: four_list_item and its progress reports

Revision ID: f4c2a8d1e7b3
Revises: e3b8f1c5a7d2
Create Date: 2026-12-06 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f4c2a8d1e7b3'
down_revision = 'e3b8f1c5a7d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'four_list_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('owner_kind', sa.String(length=12), nullable=False),
        sa.Column('owner_name', sa.String(length=100), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=True),
        sa.Column('compound_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('priority', sa.Boolean(), nullable=False),
        sa.Column('demand_id', sa.Integer(), nullable=True),
        sa.Column('agenda_item_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['demand_id'], ['demand.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['firm_id'], ['firm.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'agenda_item_id'),
        sa.UniqueConstraint('tenant_id', 'demand_id'),
    )
    with op.batch_alter_table('four_list_item', schema=None) as batch_op:
        for col in ('community_id', 'year', 'kind', 'firm_id', 'compound_id', 'state', 'tenant_id'):
            batch_op.create_index(batch_op.f(f'ix_four_list_item_{col}'), [col], unique=False)
    op.create_table(
        'four_list_update',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=100), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['four_list_item.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('four_list_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_four_list_update_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_four_list_update_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('four_list_update')
    op.drop_table('four_list_item')
