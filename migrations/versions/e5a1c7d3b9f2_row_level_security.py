"""Row-level security: every tenant table walled by district (PostgreSQL only)

Revision ID: e5a1c7d3b9f2
Revises: e6b1d9a4c7f2
Create Date: 2026-12-06 15:10:00

Looks the tenant tables up (every table with a tenant_id), so it walls whatever exists when
it runs; later migrations call migrations/rls.py for the tables they add. Grants to the
application's role are the operator's (scripts/pg_roles.sql): the migration cannot know its name;
it only takes UPDATE and DELETE on audit_event from every role but the owner.
"""
from alembic import op


revision = 'e5a1c7d3b9f2'
down_revision = 'e6b1d9a4c7f2'
branch_labels = None
depends_on = None


def upgrade():
    from rls import append_only, wall_all
    wall_all()
    append_only("audit_event")   # nothing in the product updates or deletes an event


def downgrade():
    from rls import tenant_tables, unwall
    if op.get_bind().dialect.name == "postgresql":
        for table in tenant_tables():
            unwall(table)
