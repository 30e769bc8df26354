"""standard_item.question: what residents are asked on the satisfaction survey

Survey items used to show their scoring criterion to residents. Existing survey items get a
plain question: a generic satisfaction item asks about the service overall, any other asks
whether residents are satisfied with what the item names.

Revision ID: c4e8a1f07b3d
Revises: c7e2a9d4b1f3
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8a1f07b3d'
down_revision = 'c7e2a9d4b1f3'
branch_labels = None
depends_on = None

OVERALL = "总体来看，您对本小区的物业服务是否满意？"


def question_for(name: str) -> str:
    name = (name or "").strip()
    if not name or "满意度" in name:
        return OVERALL
    return f"您对本小区的{name}是否满意？"[:200]


def upgrade():
    with op.batch_alter_table('standard_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question', sa.String(length=200), server_default='', nullable=False))
    item = sa.table('standard_item', sa.column('id', sa.Integer), sa.column('name', sa.String),
                    sa.column('scorer', sa.String), sa.column('question', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(item.c.id, item.c.name).where(item.c.scorer == 'survey')).all()
    for row_id, name in rows:
        bind.execute(item.update().where(item.c.id == row_id).values(question=question_for(name)))


def downgrade():
    with op.batch_alter_table('standard_item', schema=None) as batch_op:
        batch_op.drop_column('question')
