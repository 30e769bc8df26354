"""Exit and handover: firm_exit, handover_item, exit_rule; contract.agreed_end_date/end_reason;
the credit kind refuse_exit renamed exit_refusal (合同终止拒不退出)

Revision ID: f5c2a8e1d9b4
Revises: f4c1a9e2b7d3
Create Date: 2026-12-06 12:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f5c2a8e1d9b4'
down_revision = 'f4c1a9e2b7d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_end_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('end_reason', sa.String(length=60), server_default='', nullable=False))

    op.create_table('exit_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('grace_days', sa.Integer(), nullable=False),
        sa.Column('record_refusal', sa.Boolean(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_exit_rule_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exit_rule')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_exit_rule_tenant_id')),
    )
    with op.batch_alter_table('exit_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exit_rule_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('firm_exit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('source_key', sa.String(length=80), nullable=True),
        sa.Column('vote_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('notice_on', sa.Date(), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('notice_late', sa.Boolean(), nullable=False),
        sa.Column('deadline_on', sa.Date(), nullable=False),
        sa.Column('outgoing_serving', sa.Boolean(), nullable=False),
        sa.Column('incoming_kind', sa.String(length=8), nullable=True),
        sa.Column('incoming_contract_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('handover_on', sa.Date(), nullable=True),
        sa.Column('refusal_recorded_on', sa.Date(), nullable=True),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_firm_exit_compound_id_compound')),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_firm_exit_contract_id_contract')),
        sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], name=op.f('fk_firm_exit_firm_id_firm')),
        sa.ForeignKeyConstraint(['incoming_contract_id'], ['contract.id'], name=op.f('fk_firm_exit_incoming_contract_id_contract')),
        sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_firm_exit_started_by_id_user'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_firm_exit_tenant_id_tenant')),
        sa.ForeignKeyConstraint(['vote_id'], ['owner_vote.id'], name=op.f('fk_firm_exit_vote_id_owner_vote')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_exit')),
        sa.UniqueConstraint('tenant_id', 'source_key', name=op.f('uq_firm_exit_tenant_id_source_key')),
    )
    with op.batch_alter_table('firm_exit', schema=None) as batch_op:
        for col in ('compound_id', 'firm_id', 'contract_id', 'vote_id', 'deadline_on', 'incoming_contract_id',
                    'status', 'tenant_id'):
            batch_op.create_index(batch_op.f(f'ix_firm_exit_{col}'), [col], unique=False)

    op.create_table('handover_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('exit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sort', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=True),
        sa.Column('count', sa.Integer(), nullable=True),
        sa.Column('side', sa.String(length=10), nullable=True),
        sa.Column('signed_by_id', sa.Integer(), nullable=True),
        sa.Column('signed_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('dispute_reason', sa.Text(), nullable=False),
        sa.Column('disputed_at', sa.DateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['exit_id'], ['firm_exit.id'], name=op.f('fk_handover_item_exit_id_firm_exit')),
        sa.ForeignKeyConstraint(['signed_by_id'], ['user.id'], name=op.f('fk_handover_item_signed_by_id_user'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_handover_item_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_item')),
        sa.UniqueConstraint('exit_id', 'kind', name=op.f('uq_handover_item_exit_id_kind')),
    )
    with op.batch_alter_table('handover_item', schema=None) as batch_op:
        for col in ('exit_id', 'status', 'tenant_id'):
            batch_op.create_index(batch_op.f(f'ix_handover_item_{col}'), [col], unique=False)

    # The credit kind's code as the exit check writes it; a district that has both keeps both.
    op.execute("UPDATE credit_record_kind SET code = 'exit_refusal', name = '合同终止拒不退出' "
               "WHERE code = 'refuse_exit' AND NOT EXISTS (SELECT 1 FROM credit_record_kind k "
               "WHERE k.tenant_id = credit_record_kind.tenant_id AND k.code = 'exit_refusal')")


def downgrade():
    op.execute("UPDATE credit_record_kind SET code = 'refuse_exit', name = '合同终止后拒不退出' "
               "WHERE code = 'exit_refusal'")
    with op.batch_alter_table('handover_item', schema=None) as batch_op:
        for col in ('exit_id', 'status', 'tenant_id'):
            batch_op.drop_index(batch_op.f(f'ix_handover_item_{col}'))
    op.drop_table('handover_item')
    with op.batch_alter_table('firm_exit', schema=None) as batch_op:
        for col in ('compound_id', 'firm_id', 'contract_id', 'vote_id', 'deadline_on', 'incoming_contract_id',
                    'status', 'tenant_id'):
            batch_op.drop_index(batch_op.f(f'ix_firm_exit_{col}'))
    op.drop_table('firm_exit')
    with op.batch_alter_table('exit_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exit_rule_tenant_id'))
    op.drop_table('exit_rule')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_column('end_reason')
        batch_op.drop_column('agreed_end_date')
