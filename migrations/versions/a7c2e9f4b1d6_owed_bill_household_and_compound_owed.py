"""owed_bill, household_owed and compound_owed: the bills with something owed, each household's
total and the owing households per compound (the arrears page's reads, kept by the writes as
bill_sum is), filled from the bills issued

Revision ID: a7c2e9f4b1d6
Revises: b2e8f4a1c6d3
Create Date: 2026-12-06 19:00:00

Comes after the row-level security migration (which walls the tables that existed when it ran):
the new tables get the wall here.
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c2e9f4b1d6'
down_revision = 'b2e8f4a1c6d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'owed_bill',
        sa.Column('bill_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=True),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('owed_fen', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('bill_id'),
    )
    op.create_index('ix_owed_bill_tenant_id', 'owed_bill', ['tenant_id'])
    op.create_index('ix_owed_bill_household_id_month', 'owed_bill', ['household_id', 'month'])
    op.create_index('ix_owed_bill_compound_id_month', 'owed_bill', ['compound_id', 'month'])
    op.create_index('ix_owed_bill_firm_id_household_id', 'owed_bill', ['firm_id', 'household_id'])
    op.create_index('ix_owed_bill_tenant_id_month', 'owed_bill', ['tenant_id', 'month'])
    op.create_table(
        'household_owed',
        sa.Column('household_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('owed_fen', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('household_id'),
    )
    op.create_index('ix_household_owed_tenant_id', 'household_owed', ['tenant_id'])
    op.create_index('ix_household_owed_compound_id', 'household_owed', ['compound_id'])
    op.create_index('ix_household_owed_order', 'household_owed', ['tenant_id', sa.text('owed_fen DESC'), 'household_id'])
    op.create_table(
        'compound_owed',
        sa.Column('compound_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('compound_id'),
    )
    op.create_index('ix_compound_owed_tenant_id', 'compound_owed', ['tenant_id'])
    # The same rows as fees/sums.owed_computed, household_owed_computed and compound_owed_computed, for the bills
    # issued before these tables existed.
    op.execute("""
        INSERT INTO owed_bill (tenant_id, bill_id, household_id, compound_id, firm_id, month, owed_fen)
        SELECT b.tenant_id, b.id, b.household_id, b.compound_id, b.firm_id, b.month,
               b.resident_fen - coalesce(c.amount, 0) - coalesce(p.paid, 0)
        FROM bill b
        LEFT JOIN (SELECT bill_id, sum(amount_fen) AS paid FROM payment GROUP BY bill_id) p ON p.bill_id = b.id
        LEFT JOIN (SELECT bill_id, sum(amount) AS amount FROM (
                       SELECT bill_id, resident_fen AS amount FROM credit_note
                       UNION ALL SELECT bill_id, amount_fen FROM holdback_credit WHERE bill_id IS NOT NULL) t
                   GROUP BY bill_id) c ON c.bill_id = b.id
        WHERE b.resident_fen - coalesce(c.amount, 0) - coalesce(p.paid, 0) > 0
    """)
    op.execute("""
        INSERT INTO household_owed (tenant_id, household_id, compound_id, owed_fen)
        SELECT tenant_id, household_id, min(compound_id), sum(owed_fen) FROM owed_bill GROUP BY tenant_id, household_id
    """)
    op.execute("""
        INSERT INTO compound_owed (tenant_id, compound_id, households)
        SELECT tenant_id, compound_id, count(*) FROM household_owed GROUP BY tenant_id, compound_id
    """)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE owed_bill, household_owed, compound_owed")  # the planner's figures before the first page
    from rls import wall
    wall("owed_bill")
    wall("household_owed")
    wall("compound_owed")


def downgrade():
    op.drop_table('compound_owed')
    op.drop_table('household_owed')
    op.drop_table('owed_bill')
