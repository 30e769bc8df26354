"""质量保证金释放: the fee policy's release rule and the holdback_release postings

Revision ID: d1a7c3e9f284
Revises: d2a7c9e4f1b8
Create Date: 2026-12-06 09:35:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd1a7c3e9f284'
down_revision = 'd2a7c9e4f1b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fee_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holdback_kind', sa.String(length=10), server_default='quarterly',
                                      nullable=False))
        batch_op.add_column(sa.Column('holdback_basis', sa.String(length=10), server_default='stars',
                                      nullable=False))
        batch_op.add_column(sa.Column('holdback_bands', sa.JSON(), nullable=True))
    op.create_table('holdback_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=True),
    sa.Column('total', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('withheld_fen', sa.BigInteger(), nullable=False),
    sa.Column('released_fen', sa.BigInteger(), nullable=False),
    sa.Column('kept_fen', sa.BigInteger(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_holdback_release_assessment_id_assessment')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_holdback_release_compound_id_compound')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], name=op.f('fk_holdback_release_evaluation_id_evaluation')),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], name=op.f('fk_holdback_release_firm_id_firm')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_holdback_release_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['policy_id'], ['fee_policy.id'], name=op.f('fk_holdback_release_policy_id_fee_policy')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_holdback_release_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdback_release'))
    )
    with op.batch_alter_table('holdback_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holdback_release_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_release_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_release_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_release_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index('ix_holdback_release_key', ['tenant_id', 'compound_id', 'firm_id', 'month'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_release_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdback_release_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('holdback_release', schema=None) as batch_op:
        for name in ('ix_holdback_release_tenant_id', 'ix_holdback_release_policy_id', 'ix_holdback_release_firm_id',
                     'ix_holdback_release_evaluation_id', 'ix_holdback_release_compound_id',
                     'ix_holdback_release_assessment_id'):
            batch_op.drop_index(batch_op.f(name))
        batch_op.drop_index('ix_holdback_release_key')
    op.drop_table('holdback_release')
    with op.batch_alter_table('fee_policy', schema=None) as batch_op:
        batch_op.drop_column('holdback_bands')
        batch_op.drop_column('holdback_basis')
        batch_op.drop_column('holdback_kind')
