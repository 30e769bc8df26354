"""bill_sum (the bills summed per compound, month and firm, kept by the writes), the bill list's
and the household list's order indexes; bill_sum is filled from the bills already issued

Revision ID: e8a3c5f1b2d7
Revises: c3f8a1d6e2b9
Create Date: 2026-12-06 15:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e8a3c5f1b2d7'
down_revision = 'c3f8a1d6e2b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bill_sum',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=True),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('bills', sa.Integer(), nullable=False),
        sa.Column('base_fen', sa.BigInteger(), nullable=False),
        sa.Column('gov_fen', sa.BigInteger(), nullable=False),
        sa.Column('firm_fen', sa.BigInteger(), nullable=False),
        sa.Column('resident_fen', sa.BigInteger(), nullable=False),
        sa.Column('credited_fen', sa.BigInteger(), nullable=False),
        sa.Column('paid_fen', sa.BigInteger(), nullable=False),
        sa.Column('collected_fen', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id']),
        sa.ForeignKeyConstraint(['firm_id'], ['firm.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bill_sum_tenant_id', 'bill_sum', ['tenant_id'])
    op.create_index('ix_bill_sum_firm_id', 'bill_sum', ['firm_id'])
    op.create_index('ix_bill_sum_tenant_id_month', 'bill_sum', ['tenant_id', 'month'])
    op.create_index('ix_bill_sum_compound_id_month', 'bill_sum', ['compound_id', 'month'])
    op.create_index('ix_bill_list_order', 'bill', ['tenant_id', sa.text('month DESC'), 'compound_id', 'household_id'])
    op.create_index('ix_household_list_order', 'household', ['tenant_id', 'compound_id', 'building_id', 'room_key'])
    # The same sums as fees/sums.computed, for the bills issued before this table existed.
    op.execute("""
        INSERT INTO bill_sum (tenant_id, compound_id, firm_id, month, bills, base_fen, gov_fen, firm_fen,
                              resident_fen, credited_fen, paid_fen, collected_fen)
        SELECT b.tenant_id, b.compound_id, b.firm_id, b.month, count(*), sum(b.base_fen), sum(b.gov_fen),
               sum(b.firm_fen), sum(b.resident_fen), sum(coalesce(c.amount, 0)), sum(coalesce(p.paid, 0)),
               sum(CASE WHEN coalesce(p.paid, 0) > b.resident_fen - coalesce(c.amount, 0)
                        THEN b.resident_fen - coalesce(c.amount, 0) ELSE coalesce(p.paid, 0) END)
        FROM bill b
        LEFT JOIN (SELECT bill_id, sum(amount_fen) AS paid FROM payment GROUP BY bill_id) p ON p.bill_id = b.id
        LEFT JOIN (SELECT bill_id, sum(amount) AS amount FROM (
                       SELECT bill_id, resident_fen AS amount FROM credit_note
                       UNION ALL SELECT bill_id, amount_fen FROM holdback_credit WHERE bill_id IS NOT NULL) t
                   GROUP BY bill_id) c ON c.bill_id = b.id
        GROUP BY b.tenant_id, b.compound_id, b.firm_id, b.month
    """)


def downgrade():
    op.drop_index('ix_household_list_order', table_name='household')
    op.drop_index('ix_bill_list_order', table_name='bill')
    op.drop_table('bill_sum')
