"""Set-based writes whose number of SQL statements does not grow with the number of rows.

An ORM flush or an executemany INSERT … RETURNING sends a statement per row (SQLite) or per
batch of rows (PostgreSQL's insertmanyvalues pages), so a job writing 12,000 rows sent hundreds.
Here a whole set is one statement:
- `next_ids(table, n)`: n ids for the table, given before the insert so that rows of other
  tables can point at them (PostgreSQL: n values of the id sequence in one SELECT; SQLite:
  after the highest id — callers write something first in the transaction, which takes SQLite's
  one write lock, so no other writer can take those ids before the commit).
- `insert_rows(table, rows)`: one INSERT … SELECT over a single JSON array parameter
  (PostgreSQL jsonb_array_elements, SQLite json_each), each value cast to its column's type.
Values are sent exactly: integers as JSON integers, Decimals as strings, dates and times as
their column's bind processor (SQLite) or ISO text (PostgreSQL) gives them.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Table, func, select, text

from .extensions import db


def next_ids(table: Table, n: int) -> list[int]:
    if n <= 0:
        return []
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                 {"t": table.name, "n": n}).scalars())
    start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + n + 1))


def _converter(column, dialect):
    """How a column's values go into the JSON array (None when as they are)."""
    try:
        py = column.type.python_type
    except NotImplementedError:
        return None
    if py in (date, datetime):
        proc = column.type.bind_processor(dialect) if dialect.name == "sqlite" else None
        to_text = proc or (lambda v: v.isoformat())
        return lambda v: None if v is None else to_text(v)
    if py is Decimal:
        return lambda v: None if v is None else str(v)
    return None


def insert_rows(table: Table, rows: list[dict]) -> None:
    """Insert the rows (dicts with the same keys) by one statement."""
    if not rows:
        return
    conn = db.session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    cols = [table.c[k] for k in keys]
    sqlite = dialect.name == "sqlite"
    values = [[r[k] for k in keys] for r in rows]
    for i, convert in enumerate(_converter(c, dialect) for c in cols):
        if convert is not None:
            for v in values:
                v[i] = convert(v[i])
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    names = ", ".join(f'"{c.name}"' for c in cols)
    if sqlite:
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(cols)))
        sql = f'INSERT INTO "{table.name}" ({names}) SELECT {values} FROM json_each(:rows)'
    else:
        values = ", ".join(f"CAST(v->>{i} AS {c.type.compile(dialect=dialect)})" for i, c in enumerate(cols))
        sql = f'INSERT INTO "{table.name}" ({names}) SELECT {values} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS v'
    conn.execute(text(sql), {"rows": payload})
