"""PostgreSQL: bill and audit_event partitioned by month; bill's references checked by
statement-level triggers instead of row-by-row foreign keys

Revision ID: c3f8a1d6e2b9
Revises: b7d4e2a9c1f6
Create Date: 2026-12-06 15:00:00

On SQLite nothing changes (plain tables, real foreign keys).

PostgreSQL:
- `bill` becomes RANGE-partitioned on `month`, `audit_event` on `at`, one partition per
  calendar month from January two years back (or the oldest month present, if older) to 24
  months ahead, plus a DEFAULT partition each. The primary keys become (id, month) and
  (id, at): a partitioned table's unique constraints must contain its partition key. Ids
  still come from the same sequences. The rows are copied over.
- The six foreign keys of `bill` (tenant, household, compound, firm, fee policy, billing run)
  and those naming `bill` (payment, credit_note, holdback_credit: a partitioned bill has no
  unique key on id alone to reference) are replaced by triggers keeping their guarantee and
  their NO ACTION semantics:
  * on the child, AFTER INSERT / AFTER UPDATE … FOR EACH STATEMENT over the transition table:
    one anti-join of the statement's distinct keys against the parent; a key missing raises
    foreign_key_violation (SQLSTATE 23503, as the foreign key did), so the statement fails;
  * on the parent, AFTER DELETE / AFTER UPDATE … FOR EACH STATEMENT: if an id is gone and a
    child row still names it, raise. The child table is first locked in SHARE mode: it waits
    for transactions that inserted children not yet visible and keeps new ones out until
    commit — what the foreign key's row lock on the parent did, per statement instead of per
    row. (A parent's UPDATE that keeps its ids returns before locking.)
  TRUNCATE is not guarded (the owner's tool; the application role is not granted it).
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = 'c3f8a1d6e2b9'
down_revision = 'b7d4e2a9c1f6'
branch_labels = None
depends_on = None

REFERENCES = (
    ("bill", "tenant_id", "tenant"),
    ("bill", "household_id", "household"),
    ("bill", "compound_id", "compound"),
    ("bill", "firm_id", "firm"),
    ("bill", "policy_id", "fee_policy"),
    ("bill", "billing_run_id", "billing_run"),
    ("payment", "bill_id", "bill"),
    ("credit_note", "bill_id", "bill"),
    ("holdback_credit", "bill_id", "bill"),
)

BILL_COLUMNS = """
    id integer NOT NULL DEFAULT nextval('bill_id_seq'),
    household_id integer NOT NULL,
    compound_id integer NOT NULL,
    firm_id integer,
    policy_id integer NOT NULL,
    billing_run_id integer NOT NULL,
    month date NOT NULL,
    area numeric(10, 2) NOT NULL,
    rate numeric(8, 4) NOT NULL,
    base_fen integer NOT NULL,
    gov_fen integer NOT NULL,
    firm_fen integer NOT NULL,
    resident_fen integer NOT NULL,
    holdback_fen integer NOT NULL,
    classes varchar(60) NOT NULL,
    issued_at timestamp without time zone NOT NULL,
    tenant_id integer NOT NULL"""
BILL_INDEXES = {"ix_bill_billing_run_id": "billing_run_id", "ix_bill_compound_id": "compound_id",
                "ix_bill_firm_id": "firm_id", "ix_bill_policy_id": "policy_id", "ix_bill_tenant_id": "tenant_id",
                "ix_bill_tenant_id_month": "tenant_id, month"}

AUDIT_COLUMNS = """
    id integer NOT NULL DEFAULT nextval('audit_event_id_seq'),
    tenant_id integer,
    at timestamp without time zone NOT NULL,
    user_id integer,
    actor varchar(80) NOT NULL,
    action varchar(20) NOT NULL,
    entity varchar(40) NOT NULL,
    entity_id integer,
    label varchar(200) NOT NULL,
    changes json NOT NULL"""
AUDIT_INDEXES = {"ix_audit_event_at": "at", "ix_audit_event_entity": "entity, entity_id",
                 "ix_audit_event_tenant_id": "tenant_id"}
AUDIT_FKS = ("CONSTRAINT fk_audit_event_tenant_id_tenant FOREIGN KEY (tenant_id) REFERENCES tenant (id)",
             'CONSTRAINT fk_audit_event_user_id_user FOREIGN KEY (user_id) REFERENCES "user" (id) ON DELETE SET NULL')

TABLES = {  # table: (key, columns, extra constraints, indexes)
    "bill": ("month", BILL_COLUMNS, ("CONSTRAINT pk_bill PRIMARY KEY (id, month)",
                                     "CONSTRAINT uq_bill_tenant_id_household_id_month"
                                     " UNIQUE (tenant_id, household_id, month)"), BILL_INDEXES),
    "audit_event": ("at", AUDIT_COLUMNS, ("CONSTRAINT pk_audit_event PRIMARY KEY (id, at)",) + AUDIT_FKS,
                    AUDIT_INDEXES),
}
MONTHS_AHEAD = 24


def _month_add(month, n):
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def _child_function(child, col, parent):
    return f"""
CREATE FUNCTION ri_new_{child}_{col}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE missing integer;
BEGIN
    SELECT n.k INTO missing FROM (SELECT DISTINCT {col} AS k FROM new_rows WHERE {col} IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "{child}" violates foreign key constraint "fk_{child}_{col}_{parent}"'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{child}', CONSTRAINT = 'fk_{child}_{col}_{parent}',
                  DETAIL = format('Key ({col})=(%s) is not present in table "{parent}".', missing);
    END IF;
    RETURN NULL;
END $$"""


def _parent_function(child, col, parent):
    refused = f"""
        RAISE EXCEPTION 'update or delete on table "{parent}" violates foreign key constraint "fk_{child}_{col}_{parent}" on table "{child}"'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{parent}', CONSTRAINT = 'fk_{child}_{col}_{parent}',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "{child}".', gone);"""
    return f"""
CREATE FUNCTION ri_old_{child}_{col}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE gone integer;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM 1 FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id) LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;  -- every id kept: nothing can be orphaned
        END IF;
        LOCK TABLE {child} IN SHARE MODE;
        SELECT c.{col} INTO gone FROM {child} c WHERE c.{col} IN (
            SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = o.id)) LIMIT 1;
    ELSE
        LOCK TABLE {child} IN SHARE MODE;
        SELECT c.{col} INTO gone FROM {child} c WHERE c.{col} IN (SELECT o.id FROM old_rows o) LIMIT 1;
    END IF;
    IF FOUND THEN{refused}
    END IF;
    RETURN NULL;
END $$"""


def _triggers(child, col, parent):
    name = f"ri_{child}_{col}"
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {child} REFERENCING NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION ri_new_{child}_{col}()",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {child} REFERENCING NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION ri_new_{child}_{col}()",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {parent} REFERENCING OLD TABLE AS old_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION ri_old_{child}_{col}()",
        f"CREATE TRIGGER {name}_pupd AFTER UPDATE ON {parent} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION ri_old_{child}_{col}()",
    ]


def _partition(table, key, month):
    kind = "DATE" if key == "month" else "TIMESTAMP"
    lo, hi = month.isoformat(), _month_add(month, 1).isoformat()
    return (f"CREATE TABLE {table}_y{month.year:04d}m{month.month:02d} PARTITION OF {table}"
            f" FOR VALUES FROM ({kind} '{lo}') TO ({kind} '{hi}')")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for child, col, parent in REFERENCES:
        op.drop_constraint(f"fk_{child}_{col}_{parent}", child, type_="foreignkey")
    this_month = date.today().replace(day=1)
    for table, (key, columns, constraints, indexes) in TABLES.items():
        old = f"{table}_unpartitioned"
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        op.execute(f"ALTER TABLE {old} DROP CONSTRAINT pk_{table}")
        for ix in indexes:
            op.execute(f"DROP INDEX {ix}")
        if table == "bill":
            op.execute(f"ALTER TABLE {old} DROP CONSTRAINT uq_bill_tenant_id_household_id_month")
        else:
            for fk in ("fk_audit_event_tenant_id_tenant", "fk_audit_event_user_id_user"):
                op.execute(f"ALTER TABLE {old} DROP CONSTRAINT {fk}")
        op.execute(f"CREATE TABLE {table} ({columns}, {', '.join(constraints)}) PARTITION BY RANGE ({key})")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        for ix, cols in indexes.items():
            op.execute(f"CREATE INDEX {ix} ON {table} ({cols})")
        oldest = bind.execute(sa.text(f"SELECT min({key}) FROM {old}")).scalar()
        month = date(this_month.year - 2, 1, 1)
        if oldest is not None and oldest < month:
            month = date(oldest.year, oldest.month, 1)
        while month <= _month_add(this_month, MONTHS_AHEAD):
            op.execute(_partition(table, key, month))
            month = _month_add(month, 1)
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        names = [c.split()[0] for c in columns.strip().split(",\n")]
        op.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {old}")
        op.execute(f"DROP TABLE {old}")
    for child, col, parent in REFERENCES:
        op.execute(_child_function(child, col, parent))
        op.execute(_parent_function(child, col, parent))
        for ddl in _triggers(child, col, parent):
            op.execute(ddl)
    op.execute("ANALYZE bill")
    op.execute("ANALYZE audit_event")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for child, col, parent in REFERENCES:
        for suffix, on in (("ins", child), ("upd", child), ("del", parent), ("pupd", parent)):
            op.execute(f"DROP TRIGGER ri_{child}_{col}_{suffix} ON {on}")
        op.execute(f"DROP FUNCTION ri_new_{child}_{col}()")
        op.execute(f"DROP FUNCTION ri_old_{child}_{col}()")
    # Back to plain tables with the rows still attached (archived months stay where they are).
    for table, (key, columns, constraints, indexes) in TABLES.items():
        old = f"{table}_partitioned"
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        for ix in indexes:
            op.execute(f"DROP INDEX {ix}")
        op.execute(f"ALTER TABLE {old} DROP CONSTRAINT pk_{table}")
        if table == "bill":
            op.execute(f"ALTER TABLE {old} DROP CONSTRAINT uq_bill_tenant_id_household_id_month")
            plain = ("CONSTRAINT pk_bill PRIMARY KEY (id)",
                     "CONSTRAINT uq_bill_tenant_id_household_id_month UNIQUE (tenant_id, household_id, month)")
        else:
            for fk in ("fk_audit_event_tenant_id_tenant", "fk_audit_event_user_id_user"):
                op.execute(f"ALTER TABLE {old} DROP CONSTRAINT {fk}")
            plain = ("CONSTRAINT pk_audit_event PRIMARY KEY (id)",) + AUDIT_FKS
        op.execute(f"CREATE TABLE {table} ({columns}, {', '.join(plain)})")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        for ix, cols in indexes.items():
            op.execute(f"CREATE INDEX {ix} ON {table} ({cols})")
        names = [c.split()[0] for c in columns.strip().split(",\n")]
        op.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {old}")
        op.execute(f"DROP TABLE {old}")
    for child, col, parent in REFERENCES:
        op.create_foreign_key(f"fk_{child}_{col}_{parent}", child, parent, [col], ["id"])
