"""职能部门 as accounts and 网格员: department (the district's functional departments),
membership.department_id / grid_id (the scope of the roles department_staff and grid_worker),
demand.department_id and action_item.department_id (what was dispatched to a department).

Revision ID: a1d7e3c9f5b2
Revises: e5a1c7d3b9f2
Create Date: 2026-12-06 19:00:00

Demands already dispatched to a department by a typed name keep that name (assignee_name) and
no department: nobody can tell which register entry a free text meant.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a1d7e3c9f5b2'
down_revision = 'e5a1c7d3b9f2'
branch_labels = None
depends_on = None

REFERRERS = (("membership", "department_id"), ("membership", "grid_id"), ("demand", "department_id"),
             ("action_item", "department_id"))


def upgrade():
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="其他"),
        sa.Column("contact", sa.String(40), nullable=False, server_default=""),
        sa.Column("phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name="fk_department_tenant_id_tenant"),
        sa.PrimaryKeyConstraint("id", name="pk_department"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_department_tenant_id_name"),
    )
    op.create_index("ix_department_tenant_id", "department", ["tenant_id"])
    for table, column in REFERRERS:
        target = column[:-3]
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch.create_foreign_key(f"fk_{table}_{column}_{target}", target, [column], ["id"])
            batch.create_index(f"ix_{table}_{column}", [column])
    from rls import wall
    wall("department")


def downgrade():
    for table, column in reversed(REFERRERS):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_{column}")
            batch.drop_constraint(f"fk_{table}_{column}_{column[:-3]}", type_="foreignkey")
            batch.drop_column(column)
    op.drop_index("ix_department_tenant_id", "department")
    op.drop_table("department")
