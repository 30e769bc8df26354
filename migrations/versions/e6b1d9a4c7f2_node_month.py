"""node_month: the monthly snapshot summed per district, street and community

The dashboard read and summed every compound's snapshot row of twelve months on each view
(12,000 rows for 1,000 compounds); the snapshot now writes the sums per node too
(indicators/rollup.py). The months already taken are summed here once, the same way.

Revision ID: e6b1d9a4c7f2
Revises: d3f8a6c2e5b1
Create Date: 2026-12-06 15:20:00

"""
import json
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


revision = 'e6b1d9a4c7f2'
down_revision = 'd3f8a6c2e5b1'
branch_labels = None
depends_on = None

SUMS = ["compounds", "committee", "service", "party", "party_work", "no_service", "households", "received",
        "due", "on_time", "overdue", "visited", "satisfied", "billed", "collected", "pub_due", "pub_on_time"]

# The snapshot's sums per community and distribution (as rollup.sums()), all districts and months.
GROUPS = """
SELECT tenant_id, month, street_id, community_id, management_mode, stars, list_kind, max(taken_at),
       count(id), sum(CASE WHEN has_committee THEN 1 ELSE 0 END), sum(CASE WHEN service_covered THEN 1 ELSE 0 END),
       sum(CASE WHEN party_org_covered THEN 1 ELSE 0 END), sum(CASE WHEN party_work_covered THEN 1 ELSE 0 END),
       sum(CASE WHEN management_mode = '无人管理' AND NOT service_covered THEN 1 ELSE 0 END), sum(households),
       sum(demands_received), sum(demands_due), sum(demands_on_time), sum(demands_overdue), sum(demands_visited),
       sum(demands_satisfied), sum(billed_fen), sum(collected_fen), sum(publicity_due), sum(publicity_on_time)
FROM compound_month GROUP BY tenant_id, month, street_id, community_id, management_mode, stars, list_kind
"""


def upgrade():
    table = op.create_table(
        'node_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('level', sa.String(length=10), nullable=False),
        sa.Column('node_id', sa.Integer(), nullable=False),
        sa.Column('street_id', sa.Integer(), nullable=True),
        *[sa.Column(name, sa.BigInteger() if name in ("billed", "collected") else sa.Integer(), nullable=False)
          for name in SUMS],
        sa.Column('distribution', sa.JSON(), nullable=False),
        sa.Column('taken_at', sa.DateTime(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'level', 'node_id', 'month'),
    )
    op.create_index('ix_node_month_tenant_month_level_street', 'node_month',
                    ['tenant_id', 'month', 'level', 'street_id'])
    op.create_index(op.f('ix_node_month_tenant_id'), 'node_month', ['tenant_id'])
    nodes = {}
    for g in op.get_bind().execute(sa.text(GROUPS)):
        tid, month, street, community, mode, stars, list_kind, taken_at, *figures = g
        for level, node_id, parent in (("district", 0, None), ("street", street, street),
                                       ("community", community, street)):
            row = nodes.setdefault((tid, month, level, node_id), {
                "tenant_id": tid, "month": month, "level": level, "node_id": node_id, "street_id": parent,
                "taken_at": None, **dict.fromkeys(SUMS, 0),
                "distribution": {"modes": defaultdict(int), "stars": defaultdict(int), "lists": defaultdict(int)}})
            for name, n in zip(SUMS, figures):
                row[name] += int(n or 0)
            row["taken_at"] = max(filter(None, (row["taken_at"], taken_at)), default=None)
            dist = row["distribution"]
            dist["modes"][mode] += figures[0]
            if stars is not None:
                dist["stars"][str(stars)] += figures[0]
            if list_kind is not None:
                dist["lists"][list_kind] += figures[0]
    if nodes:
        rows = list(nodes.values())
        for r in rows:
            r["distribution"] = json.loads(json.dumps(r["distribution"]))
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_index(op.f('ix_node_month_tenant_id'), table_name='node_month')
    op.drop_index('ix_node_month_tenant_month_level_street', table_name='node_month')
    op.drop_table('node_month')
