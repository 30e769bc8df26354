"""党员志愿者: volunteer teams, volunteers, tasks they claim (党员接单 included), point exchanges;
楼栋长、单元长、党员中心户 (building_leader)

Revision ID: a5d3e9c2b7f1
Revises: f4c2a8d1e7b3
Create Date: 2026-12-06 12:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a5d3e9c2b7f1'
down_revision = 'f4c2a8d1e7b3'
branch_labels = None
depends_on = None


def _indexes(table, cols):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for col in cols:
            batch_op.create_index(batch_op.f(f'ix_{table}_{col}'), [col], unique=False)


def upgrade():
    op.create_table(
        'volunteer_team',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('leader', sa.String(length=40), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'community_id', 'name'),
    )
    _indexes('volunteer_team', ('community_id', 'tenant_id'))
    op.create_table(
        'volunteer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('organisation', sa.String(length=100), nullable=False),
        sa.Column('is_party_member', sa.Boolean(), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=True),
        sa.Column('building_id', sa.Integer(), nullable=True),
        sa.Column('area_note', sa.String(length=60), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['building_id'], ['building.id']),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['team_id'], ['volunteer_team.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('volunteer', ('community_id', 'team_id', 'building_id', 'tenant_id'))
    op.create_table(
        'volunteer_task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('demand_id', sa.Integer(), nullable=True),
        sa.Column('claimed_on', sa.Date(), nullable=True),
        sa.Column('done_on', sa.Date(), nullable=True),
        sa.Column('hours_tenths', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['demand_id'], ['demand.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['team_id'], ['volunteer_team.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'demand_id'),
    )
    _indexes('volunteer_task', ('community_id', 'compound_id', 'state', 'volunteer_id', 'team_id', 'tenant_id'))
    op.create_table(
        'point_exchange',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=100), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('point_exchange', ('volunteer_id', 'tenant_id'))
    op.create_table(
        'building_leader',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('building_id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('unit_no', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('is_party_member', sa.Boolean(), nullable=False),
        sa.Column('since', sa.Date(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['building_id'], ['building.id']),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('building_leader', ('building_id', 'compound_id', 'tenant_id'))


def downgrade():
    op.drop_table('building_leader')
    op.drop_table('point_exchange')
    op.drop_table('volunteer_task')
    op.drop_table('volunteer')
    op.drop_table('volunteer_team')
