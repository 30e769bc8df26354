"""consequences that act: firm flags from the lists, the district's flag validity and demand
threshold, and the standards' consequence texts turned into entries of the free-text kind

Revision ID: e3b8f1c5a7d2
Revises: e3b8f1a4c6d2
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3b8f1c5a7d2'
down_revision = 'e3b8f1a4c6d2'
branch_labels = None
depends_on = None

standard = sa.table('standard', sa.column('id', sa.Integer()), sa.column('consequences', sa.JSON()))


def _convert(to_entries: bool):
    """Old data keeps working: every text line becomes a {"kind": "text"} entry (and back)."""
    conn = op.get_bind()
    for sid, cons in conn.execute(sa.select(standard.c.id, standard.c.consequences)).all():
        if not isinstance(cons, dict):
            continue
        new = {}
        for key, entries in cons.items():
            out = []
            for e in entries or []:
                if to_entries:
                    out.append({"kind": "text", "text": e} if isinstance(e, str) else e)
                elif isinstance(e, dict):
                    out.append(e.get("text") or {"interview": "约谈", "more_spot_checks": "加大抽查频次",
                                                 "exit_procedure": "启动退出程序", "restrict_tender": "限制参加招投标",
                                                 "restrict_award": "限制评优", "priority_renewal": "优先续约",
                                                 "tender_bonus": "招投标加分"}.get(e.get("kind"), ""))
                else:
                    out.append(e)
            new[key] = out
        if new != cons:
            conn.execute(standard.update().where(standard.c.id == sid).values(consequences=new))


def upgrade():
    op.create_table('firm_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('points', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=True),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('list_kind', sa.String(length=10), nullable=False),
    sa.Column('source_key', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_firm_flag_assessment_id_assessment')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_firm_flag_compound_id_compound')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], name=op.f('fk_firm_flag_evaluation_id_evaluation')),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], name=op.f('fk_firm_flag_firm_id_firm')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_firm_flag_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_flag')),
    sa.UniqueConstraint('tenant_id', 'source_key', name=op.f('uq_firm_flag_tenant_id_source_key'))
    )
    with op.batch_alter_table('firm_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_flag_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_flag_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_flag_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_flag_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_flag_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('credit_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consequence_days', sa.Integer(), server_default='365', nullable=False))
        batch_op.add_column(sa.Column('overdue_demands_threshold', sa.Integer(), server_default='3', nullable=False))
    _convert(True)


def downgrade():
    _convert(False)
    with op.batch_alter_table('credit_rule', schema=None) as batch_op:
        batch_op.drop_column('overdue_demands_threshold')
        batch_op.drop_column('consequence_days')
    with op.batch_alter_table('firm_flag', schema=None) as batch_op:
        for name in ('ix_firm_flag_tenant_id', 'ix_firm_flag_kind', 'ix_firm_flag_firm_id', 'ix_firm_flag_evaluation_id',
                     'ix_firm_flag_compound_id'):
            batch_op.drop_index(batch_op.f(name))
    op.drop_table('firm_flag')
