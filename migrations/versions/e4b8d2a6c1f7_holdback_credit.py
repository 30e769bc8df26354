"""质量保证金: where the kept part goes (fee_policy.holdback_kept_to) and holdback_credit, the
households' shares credited on their next bills

Revision ID: e4b8d2a6c1f7
Revises: a5d3e9c2b7f1
Create Date: 2026-12-06 11:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e4b8d2a6c1f7'
down_revision = 'a5d3e9c2b7f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fee_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holdback_kept_to', sa.String(length=10), server_default='ledger',
                                      nullable=False))
    op.create_table('holdback_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_holdback_credit_bill_id_bill')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_holdback_credit_compound_id_compound')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_holdback_credit_household_id_household')),
    sa.ForeignKeyConstraint(['release_id'], ['holdback_release.id'], name=op.f('fk_holdback_credit_release_id_holdback_release')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_holdback_credit_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdback_credit'))
    )
    with op.batch_alter_table('holdback_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holdback_credit_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_credit_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_credit_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_credit_release_id'), ['release_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_credit_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('holdback_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holdback_credit_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_holdback_credit_release_id'))
        batch_op.drop_index(batch_op.f('ix_holdback_credit_household_id'))
        batch_op.drop_index(batch_op.f('ix_holdback_credit_compound_id'))
        batch_op.drop_index(batch_op.f('ix_holdback_credit_bill_id'))
    op.drop_table('holdback_credit')
    with op.batch_alter_table('fee_policy', schema=None) as batch_op:
        batch_op.drop_column('holdback_kept_to')
