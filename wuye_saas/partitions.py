"""PostgreSQL only: `bill` and `audit_event` are partitioned by month, and the references to
and from `bill` are checked by statement-level triggers instead of foreign keys.

Why: a billing run inserts a million bills; six foreign keys checked row by row cost several
times the COPY of the rows itself. The triggers (migration c3f8a1d6e2b9) check each statement
once with an anti-join over its transition table, and the parents' DELETE/UPDATE triggers
refuse to remove a row still named — what the foreign keys guaranteed (NO ACTION), cheaper.
A partitioned `bill` can only be the target of a foreign key that includes its partition key,
so payment, credit_note and holdback_credit name their bill through the same triggers.

The app's role owns no table and cannot create partitions: the owner runs
`flask db-partitions` (see README) to add the coming months and archive old ones. Rows of a
month without its partition land in the DEFAULT partition; creating that month's partition
later moves them out. SQLite keeps plain tables and real foreign keys.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import text

from . import rls

# table → partition key column (RANGE by calendar month)
PARTITIONED = {"bill": "month", "audit_event": "at"}
PARTITION_NAME = re.compile(r"^(bill|audit_event)_(y\d{4}m\d{2}|default)$")

# (child table, column, parent table): the foreign keys PostgreSQL checks by triggers.
TRIGGER_REFERENCES = (
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
TRIGGER_FK_NAMES = {f"fk_{child}_{col}_{parent}" for child, col, parent in TRIGGER_REFERENCES}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic autogenerate filter: on PostgreSQL the partitions (and archived months) are not
    models, and the trigger-checked foreign keys are deliberately absent."""
    if type_ == "table" and reflected and compare_to is None and name and PARTITION_NAME.match(name):
        return False
    if type_ == "foreign_key_constraint" and name in TRIGGER_FK_NAMES:
        return not _on_postgresql()
    return True


def _on_postgresql() -> bool:
    from .extensions import db

    return db.engine.dialect.name == "postgresql"


def month_add(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def existing(conn, table: str) -> dict[date, str]:
    """{first day of month: partition name} of the table's monthly partitions."""
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = CAST(:t AS regclass)"), {"t": table}).scalars()
    out = {}
    for name in rows:
        m = re.fullmatch(rf"{table}_y(\d{{4}})m(\d{{2}})", name)
        if m:
            out[date(int(m.group(1)), int(m.group(2)), 1)] = name
    return out


def _bounds(table: str, month: date) -> tuple[str, str]:
    kind = "DATE" if PARTITIONED[table] == "month" else "TIMESTAMP"
    return f"{kind} '{month.isoformat()}'", f"{kind} '{month_add(month, 1).isoformat()}'"


def create_month(conn, table: str, month: date) -> str:
    """Create one month's partition; rows of that month waiting in the DEFAULT partition are
    moved into it first (PostgreSQL refuses the new partition while the default holds them)."""
    name, key = partition_name(table, month), PARTITIONED[table]
    lo, hi = _bounds(table, month)
    waiting = conn.execute(text(
        f"SELECT EXISTS (SELECT 1 FROM {table}_default WHERE {key} >= {lo} AND {key} < {hi})")).scalar()
    if not waiting:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})"))
        rls.secure_partition(conn, table, name)
        return name
    conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(text(f"INSERT INTO {name} SELECT * FROM {table}_default WHERE {key} >= {lo} AND {key} < {hi}"))
    # Straight from the partition: the month's rows move, nothing references them differently.
    conn.execute(text(f"DELETE FROM {table}_default WHERE {key} >= {lo} AND {key} < {hi}"))
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})"))
    rls.secure_partition(conn, table, name)
    return name


def ensure(conn, first: date, last: date) -> list[str]:
    """Create the missing monthly partitions of both tables from `first` to `last` (months),
    and those of any month whose rows wait in the DEFAULT partition (an older month imported
    or billed late)."""
    made = []
    for table, key in PARTITIONED.items():
        have = existing(conn, table)
        waiting = conn.execute(text(
            f"SELECT DISTINCT CAST(date_trunc('month', {key}) AS date) FROM {table}_default")).scalars()
        wanted = set(waiting)
        month = first
        while month <= last:
            wanted.add(month)
            month = month_add(month, 1)
        for month in sorted(wanted - set(have)):
            made.append(create_month(conn, table, month))
    return made


BILL_REFERRERS = ("payment", "credit_note", "holdback_credit")


class StillReferenced(ValueError):
    pass


def archive(conn, before: date, schema: str = "archive") -> list[str]:
    """Detach the monthly partitions older than `before` and move them to `schema` (dump and
    drop them from there). A bill month still named by a payment, credit note or 质量保证金
    credit is refused: detaching would leave those rows naming bills that are gone."""
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    moved = []
    for table in PARTITIONED:
        for month, name in sorted(existing(conn, table).items()):
            if month >= before:
                continue
            if table == "bill":
                for child in BILL_REFERRERS:
                    if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {child} c JOIN {name} b"
                                         f" ON b.id = c.bill_id)")).scalar():
                        raise StillReferenced(f"{name}: bills still named by {child}; not archived")
            conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            conn.execute(text(f"ALTER TABLE {name} SET SCHEMA {schema}"))
            moved.append(f"{schema}.{name}")
    return moved
