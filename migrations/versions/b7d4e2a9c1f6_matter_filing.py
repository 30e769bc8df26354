"""重大事项报备: matter_filing and the district's matter_rule (spending threshold)

Revision ID: b7d4e2a9c1f6
Revises: c6e2a9d4f1b8
Create Date: 2026-12-06 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d4e2a9c1f6'
down_revision = 'c6e2a9d4f1b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'matter_filing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('vote_id', sa.Integer(), nullable=False),
        sa.Column('matter', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('spending_fen', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('filed_at', sa.DateTime(), nullable=False),
        sa.Column('filed_by_id', sa.Integer(), nullable=True),
        sa.Column('party_reported_at', sa.DateTime(), nullable=True),
        sa.Column('party_reported_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('return_reason', sa.String(length=300), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['vote_id'], ['owner_vote.id']),
        sa.ForeignKeyConstraint(['filed_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['party_reported_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('matter_filing', schema=None) as batch_op:
        for col in ('compound_id', 'vote_id', 'status', 'tenant_id'):
            batch_op.create_index(batch_op.f(f'ix_matter_filing_{col}'), [col], unique=False)
    op.create_table(
        'matter_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('threshold_fen', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id'),
    )
    with op.batch_alter_table('matter_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matter_rule_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('matter_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matter_rule_tenant_id'))
    op.drop_table('matter_rule')
    with op.batch_alter_table('matter_filing', schema=None) as batch_op:
        for col in ('tenant_id', 'status', 'vote_id', 'compound_id'):
            batch_op.drop_index(batch_op.f(f'ix_matter_filing_{col}'))
    op.drop_table('matter_filing')
