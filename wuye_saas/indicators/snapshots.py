"""Monthly snapshots: one CompoundMonth row per compound per month, as the figures stood when
taken (definitions in `definitions`). Plain functions: they flush, never commit.

A snapshot of a month is taken for a day D: the current month for the day it is taken on, a
past month for its last day. It is written with one upsert per chunk of rows, so re-taking it
replaces the figures in place (idempotent) and the statement count does not grow with the
number of compounds. The month's sums per district, street and community (NodeMonth, rollup.py)
are written with it.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..org.models import Compound
from ..tenancy import Tenant, current_tenant_id, tenant_scope
from ..timeutil import local
from . import definitions as d, rollup
from .models import CompoundMonth

HISTORY_MONTHS = 12
CHUNK = 500   # rows per upsert statement (SQLite's bound-parameter limit)


def day_for(month: date, at: datetime) -> date:
    """The day a month's figures are taken for: today within the month, else its last day."""
    today = local(at).date()
    return min(today, d.month_end(month))


def _evaluation_results(day: date, at: datetime, firms: dict[int, int]) -> dict[int, tuple]:
    """compound id → (stars, list) from the latest evaluation published by `at`: the compound's
    own assessment, else its serving firm's firm-wide one."""
    from ..evaluation.models import Assessment, Evaluation  # lazy: evaluation reads indicators too

    latest = db.session.execute(select(Evaluation.id).where(
        Evaluation.status == "published", Evaluation.published_at <= at)
        .order_by(Evaluation.published_at.desc(), Evaluation.id.desc()).limit(1)).scalar()
    if latest is None:
        return {}
    rows = db.session.execute(select(Assessment.compound_id, Assessment.firm_id, Assessment.stars,
                                     Assessment.list_kind).where(Assessment.evaluation_id == latest)).all()
    by_compound = {r.compound_id: (r.stars, r.list_kind) for r in rows if r.compound_id is not None}
    by_firm = {r.firm_id: (r.stars, r.list_kind) for r in rows if r.compound_id is None}
    out = {}
    for cid, fid in firms.items():
        if fid in by_firm:
            out[cid] = by_firm[fid]
    out.update(by_compound)
    return out


def compute_rows(month: date, at: datetime) -> list[dict]:
    """The month's rows for every compound of the current district (not written)."""
    day = day_for(month, at)
    cover = d.coverage_on(day)
    demands = d.demand_counts(month, at)
    money = d.collection_counts(month, month)
    publicity = d.publicity_counts(list(cover), day)
    results = _evaluation_results(day, at, {cid: r["firm_id"] for cid, r in cover.items() if r["firm_id"]})
    tenant_id = current_tenant_id()
    rows = []
    for cid, row in cover.items():
        billed = money.get(cid, (0, 0))
        due, on_time = publicity.get(cid, (0, 0))
        stars, list_kind = results.get(cid, (None, None))
        rows.append({
            **row, "tenant_id": tenant_id, "month": month, "taken_at": at,
            "demands_received": 0, "demands_due": 0, "demands_on_time": 0, "demands_overdue": 0,
            "demands_visited": 0, "demands_satisfied": 0, **demands.get(cid, {}),
            "collected_fen": billed[0], "billed_fen": billed[1],
            "publicity_due": due, "publicity_on_time": on_time, "stars": stars, "list_kind": list_kind,
        })
    return rows


def _upsert(rows: list[dict]) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CompoundMonth.__table__
    for i in range(0, len(rows), CHUNK):
        stmt = insert(table).values(rows[i:i + CHUNK])
        keep = {"id", "tenant_id", "month", "compound_id"}
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "month", "compound_id"],
            set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keep})
        db.session.execute(stmt)


def snapshot(tenant_id: int, month: date, at: datetime, bump: bool = True) -> int:
    """Take (or re-take) the month's snapshot for every compound of the district; rows written.
    A compound removed from the register keeps its past rows; its row of this month goes.
    `bump=False` leaves `snapshot_version` to the caller (several months, one bump at the end)."""
    month = d.month_start(month)
    with tenant_scope(tenant_id):
        rows = compute_rows(month, at)
        _upsert(rows)
        db.session.execute(delete(CompoundMonth).where(
            CompoundMonth.month == month, CompoundMonth.compound_id.not_in(select(Compound.id)))
            .execution_options(synchronize_session=False))
        rollup.roll_up(month)
        if bump:
            _bump(tenant_id)
        db.session.flush()
    return len(rows)


def _bump(tenant_id: int) -> None:
    # Last before the commit: the district row stays locked (other writes bump data_version on
    # it) only until the transaction ends.
    db.session.execute(update(Tenant).where(Tenant.id == tenant_id)
                       .values(snapshot_version=Tenant.snapshot_version + 1))


def snapshot_version() -> int:
    """Changes with every snapshot of the current district (what the dashboard keeps is keyed to it)."""
    return db.session.execute(select(Tenant.snapshot_version).where(Tenant.id == current_tenant_id())).scalar_one()


def months_taken() -> set[date]:
    return set(db.session.execute(select(CompoundMonth.month).distinct()).scalars())


def missing_months(current: date, taken: set[date], history: int = HISTORY_MONTHS) -> list[date]:
    """The past months of the history window that have no snapshot at all, oldest first."""
    return [m for m in (d.add_months(current, -k) for k in range(history - 1, 0, -1)) if m not in taken]


def refresh(tenant_id: int, at: datetime) -> dict:
    """The scheduled refresh: the current month again, and any missing past month once (a
    past month that has a snapshot is never taken again, so its history stays as it was)."""
    with tenant_scope(tenant_id):
        current = d.month_start(local(at).date())
        filled = missing_months(current, months_taken())
        compounds = 0
        for month in filled + [current]:
            compounds = snapshot(tenant_id, month, at, bump=False)
        _bump(tenant_id)
    return {"current": current, "filled": filled, "compounds": compounds}

