"""The register's generic operations: scoped list queries with search and filters, FK choices,
uniqueness and dependency checks, save and delete. Plain functions; the views call them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import String, UniqueConstraint, func, inspect, or_, select

from .. import policy
from ..extensions import db
from ..formutil import record_id


@dataclass
class Column:
    label: str
    value: Callable[[Any], Any]
    link: bool = False  # render as a link to the record's detail page


@dataclass
class Filter:
    param: str
    label: str
    options: Callable[[Any], list[tuple[str, str]] | None]  # membership → [(value, label)]; None: too many
    clause: Callable[[str], Any]                     # value → WHERE clause
    # Where options can be too many (a large district's compounds, firms): part of a name → WHERE
    # clause, the list's box `<param>_name` (pickers.name_pick says why).
    named: Callable[[str], Any] | None = None

    @property
    def name_param(self) -> str:
        return f"{self.param}_name"


@dataclass
class Resource:
    key: str                     # URL segment: /d/<slug>/<key>/
    model: type
    label: str                   # Chinese name of one record
    form: type
    columns: list[Column]
    search: list = field(default_factory=list)
    search_hint: str = ""
    filters: list[Filter] = field(default_factory=list)
    order_by: list = field(default_factory=list)
    load: list = field(default_factory=list)      # loader options for the list page
    choices: dict[str, Callable] = field(default_factory=dict)  # field → fn(m, obj, args)
    children: list[tuple[str, str]] = field(default_factory=list)  # (resource key, fk attr)
    icon: str = "folder"
    title: Callable[[Any], str] = lambda obj: getattr(obj, "name", "")
    prepare: Callable | None = None   # (form, obj, membership) before validation (edit/new)
    apply: Callable | None = None     # (form, obj) after populate_obj: derived fields, links
    facts: Callable | None = None     # obj → [(label, value)] shown on the detail page besides the form's fields
    total: Callable | None = None     # (membership, args) → the list's row count from kept counts, or None: count the rows
    page_loaded: Callable | None = None   # a list page's records → read what its columns need, for all of them at once

    @property
    def param(self) -> str:
        return f"{self.model.__tablename__}_id"

    def fk_columns(self) -> dict[str, Any]:
        return {c.key: c for c in self.model.__table__.columns if c.foreign_keys and c.key != "tenant_id"}


def list_query(res: Resource, membership, args, boxed=frozenset()):
    """The scoped, searched and filtered SELECT behind a list page; `boxed`: the filters shown
    as a name box (a name for another is not applied: no box shows it)."""
    model = res.model
    stmt = policy.scoped(select(model), membership, model)
    q = (args.get("q") or "").strip()
    if q and res.search:
        stmt = stmt.where(or_(*[col.ilike(f"%{q}%") for col in res.search]))
    for flt in res.filters:
        name = (args.get(flt.name_param) or "").strip()[:40] if flt.param in boxed else ""
        if name:
            stmt = stmt.where(flt.named(name))
        value = args.get(flt.param)
        if value:
            try:
                clause = flt.clause(value)
            except ValueError:  # a hand-edited ?street=abc names no choice: not a 500
                continue
            stmt = stmt.where(clause)
    # Any foreign key can narrow the list (links from a parent's detail page).
    for key, col in res.fk_columns().items():
        value = args.get(key)
        if record_id(value):
            stmt = stmt.where(col == record_id(value))
    return stmt.options(*res.load).order_by(*(res.order_by or [model.id]))


def options(model, membership, label=None, where=None, order=None, load=(), limit=None):
    """[(id, label)] of the records of `model` the membership may see (the first `limit`); the
    label is the name unless `label` (a function of the record) says otherwise. Without one only
    id and name are read: a filter of a district's 1,000 compounds built ORM objects of every column."""
    def build():
        stmt = policy.scoped(select(model).options(*load) if label else select(model.id, model.name),
                             membership, model)
        if where is not None:
            stmt = stmt.where(where)
        return stmt.order_by(*(order if order is not None else [model.name])).limit(limit)
    # A list's filter choices (no clause of the caller's own): built once per scope, as the
    # landing page's statements are; building and filtering it anew cost more than running it.
    stmt = (policy.built("options", membership, build, model, limit)
            if where is None and order is None and not label else build())
    if label:
        return [(o.id, label(o)) for o in db.session.execute(stmt).scalars()]
    return [(i, name) for i, name in db.session.execute(stmt)]


def unique_problems(obj) -> dict[str, str]:
    """Field → message for each unique constraint another record already holds."""
    model = type(obj)
    problems = {}
    for cons in model.__table__.constraints:
        if not isinstance(cons, UniqueConstraint):
            continue
        cols = [c for c in cons.columns if c.key != "tenant_id"]
        stmt = select(model.id).where(*[getattr(model, c.key) == getattr(obj, c.key) for c in cols])
        if obj.id is not None:
            stmt = stmt.where(model.id != obj.id)
        if db.session.execute(stmt.limit(1)).first():
            shown = cols[-1].key
            problems[shown] = "已存在相同的记录，请勿重复录入"
    return problems


def dependents(obj, labels: dict[str, str]) -> list[tuple[str, int]]:
    """[(what, count)] of records that still point at `obj` and would be orphaned."""
    table = type(obj).__table__
    cascaded = {r.mapper.local_table.name for r in inspect(type(obj)).relationships
                if "delete" in r.cascade}
    found = []
    for other in db.metadata.sorted_tables:
        if other.name in cascaded:
            continue
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.parent.name != "tenant_id":
                n = db.session.execute(select(func.count()).select_from(other)
                                       .where(fk.parent == obj.id)).scalar_one()
                if n:
                    found.append((labels.get(other.name, other.name), n))
    return found


def normalise_strings(obj) -> None:
    """Strip surrounding blanks from every text column (pasted data often carries them)."""
    for col in type(obj).__table__.columns:
        if isinstance(col.type, String):
            value = getattr(obj, col.key)
            if isinstance(value, str):
                setattr(obj, col.key, value.strip())
