"""bill_sum: the bills of each compound, month and firm summed, kept equal to its bills; and
owed_bill / household_owed / compound_owed: the bills with something owed, each household's
total and the owing households per compound (the arrears page), kept by the same refresh.

The bill list's totals and the 缴费率 summed every bill of the district on each request, so
their time grew with the district. They read these rows instead (one per compound-month, a
few thousand for a large district). A write that changes what the rows sum — a billing run,
a payment, a credit note (the 质量保证金返还 credits reach bills only inside a billing run) —
calls `refresh` for the compound-months it touched, in its own transaction: the rows are
recomputed from the bills, not adjusted by a delta, so they cannot drift. Bills, payments,
credit notes and 返还 credits written through the ORM (any code path, tests included) are
noted at flush and their compound-months refreshed just before the commit; the bulk writes
that bypass the ORM (the billing run's COPY, the demo's payments) call `refresh` themselves.

What is owed on a bill changes only with its compound-month's bills, so the same refresh
recomputes the month's owed_bill rows of those compounds, the household_owed rows of the
households billed in it (from all their owed_bill rows, any month) and the compound_owed
counts of the compounds those rows name.

A billing run's chunk whose compounds had no bill of the month writes the rows from the bills
it has just issued instead (`issued`): a new bill has no payment, credit note or 返还 credit
(the run attached none, else it refreshes), so what is owed on it is its resident part, its
compound-month's sums are the sums of its parts, and a household with no household_owed row
before owes exactly that bill. Households that had a row are recomputed as `refresh` does.
Nothing is adjusted by a delta; tests compare the rows so written with the computed ones.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import chain

from sqlalchemy import case, delete, event, func, insert, select
from sqlalchemy.orm import Session

from ..extensions import db, looked_up
from ..org.models import Compound
from ..tenancy import current_tenant_id, tenant_scope
from .models import Bill, BillSum, CompoundOwed, CreditNote, HoldbackCredit, HouseholdOwed, OwedBill, Payment

_PENDING = "bill_sum_pending"  # session.info: {tenant_id: ({(month, compound_id)}, {bill_id})}

COLUMNS = ("tenant_id", "compound_id", "firm_id", "month", "bills", "base_fen", "gov_fen", "firm_fen",
           "resident_fen", "credited_fen", "paid_fen", "collected_fen")


def computed(*where):
    """SELECT of the sums computed from the bills matching `where` (one row per compound,
    firm and month, in bill_sum's columns): what refresh stores, and what tests compare with."""
    from .payments import _credits, _payments  # payments calls refresh: import at use
    bills = select(Bill.id).where(*where)
    cn, pay = _credits(bills, each=True), _payments(bills, each=True)
    per = (select(Bill.tenant_id, Bill.compound_id, Bill.firm_id, Bill.month, Bill.base_fen, Bill.gov_fen,
                  Bill.firm_fen, Bill.resident_fen, func.coalesce(cn.c.resident, 0).label("credited"),
                  func.coalesce(pay.c.paid, 0).label("paid"))
           .outerjoin(cn, cn.c.bill_id == Bill.id).outerjoin(pay, pay.c.bill_id == Bill.id)
           .where(*where).subquery("per_bill"))
    due = per.c.resident_fen - per.c.credited
    return (select(per.c.tenant_id, per.c.compound_id, per.c.firm_id, per.c.month, func.count(),
                   func.sum(per.c.base_fen), func.sum(per.c.gov_fen), func.sum(per.c.firm_fen),
                   func.sum(per.c.resident_fen), func.sum(per.c.credited), func.sum(per.c.paid),
                   func.sum(case((per.c.paid > due, due), else_=per.c.paid)))
            .group_by(per.c.tenant_id, per.c.compound_id, per.c.firm_id, per.c.month))


OWED_COLUMNS = ("tenant_id", "household_id", "compound_id", "firm_id", "month", "owed_fen")


def owed_computed(*where):
    """SELECT of the bills matching `where` with something owed on them, in owed_bill's columns."""
    from .payments import balance_select
    b = balance_select(None, *where, each=True).add_columns(Bill.tenant_id, Bill.household_id, Bill.compound_id,
                                                 Bill.firm_id, Bill.month).subquery("b")
    return select(b.c.tenant_id, b.c.household_id, b.c.compound_id, b.c.firm_id, b.c.month,
                  b.c.owed).where(b.c.owed > 0)


def household_owed_computed(*where):
    """SELECT of each household's Σ over the owed_bill rows matching `where` (household_owed's rows)."""
    return (select(OwedBill.tenant_id, OwedBill.household_id, func.min(OwedBill.compound_id),
                   func.sum(OwedBill.owed_fen)).where(*where).group_by(OwedBill.tenant_id, OwedBill.household_id))


def compound_owed_computed(*where):
    """SELECT of the household_owed rows matching `where` counted per compound (compound_owed's rows)."""
    return (select(HouseholdOwed.tenant_id, HouseholdOwed.compound_id, func.count())
            .where(*where).group_by(HouseholdOwed.tenant_id, HouseholdOwed.compound_id))


def _lock(ids: list[int]) -> None:
    # Two writers of one compound (two payments at once) must not both replace its rows from
    # what each saw: the compound's row is locked until the transaction ends (no-op on SQLite,
    # whose writers are serialised anyway).
    db.session.execute(select(Compound.id).where(Compound.id.in_(ids)).order_by(Compound.id).with_for_update())


def _households_owed(tid: int, households, recount: set[int]) -> None:
    """Recompute the household_owed rows of `households` (a SELECT or a list of household ids,
    looked up one by one; None: none) from their owed_bill rows, then compound_owed of `recount`
    and of every compound those rows named before or name now."""
    # A household's row names the least compound it owes in, usually one of `ids`; one that
    # moved may be counted elsewhere, before or after: those compounds are counted again too.
    table = HouseholdOwed.__table__
    if households is not None:
        recount |= set(db.session.execute(
            delete(table).where(table.c.tenant_id == tid, looked_up(table.c.household_id, households))
            .returning(table.c.compound_id)).scalars())
        recount |= set(db.session.execute(insert(table).from_select(
            ["tenant_id", "household_id", "compound_id", "owed_fen"],
            household_owed_computed(OwedBill.tenant_id == tid, looked_up(OwedBill.household_id, households)))
            .returning(table.c.compound_id)).scalars())
    recount = sorted(recount)
    db.session.execute(delete(CompoundOwed).where(CompoundOwed.tenant_id == tid, CompoundOwed.compound_id.in_(recount)))
    db.session.execute(insert(CompoundOwed.__table__).from_select(
        ["tenant_id", "compound_id", "households"],
        compound_owed_computed(HouseholdOwed.tenant_id == tid, HouseholdOwed.compound_id.in_(recount))))


def refresh(month: date, compound_ids) -> None:
    """Recompute the rows of these compounds for the month from their bills (flushes)."""
    ids = sorted({int(i) for i in compound_ids})
    if not ids:
        return
    tid = current_tenant_id()
    db.session.flush()
    _lock(ids)
    db.session.execute(delete(BillSum).where(BillSum.tenant_id == tid, BillSum.month == month,
                                             BillSum.compound_id.in_(ids)))
    db.session.execute(insert(BillSum.__table__).from_select(
        list(COLUMNS), computed(Bill.tenant_id == tid, Bill.month == month, Bill.compound_id.in_(ids))))
    db.session.execute(delete(OwedBill).where(OwedBill.tenant_id == tid, OwedBill.month == month,
                                              OwedBill.compound_id.in_(ids)))
    db.session.execute(insert(OwedBill.__table__).from_select(
        list(OWED_COLUMNS), owed_computed(Bill.tenant_id == tid, Bill.month == month, Bill.compound_id.in_(ids))))
    billed = select(Bill.household_id).where(Bill.tenant_id == tid, Bill.month == month, Bill.compound_id.in_(ids))
    _households_owed(tid, billed, set(ids))


def issued(month: date, compound_ids, bills: list[tuple]) -> None:
    """The rows of these compounds, which had no bill in the month, from the bills a billing run
    has just inserted for them with nothing attached (rows in billing.BILL_COLUMNS; PostgreSQL)."""
    from .billing import BILL_COLUMNS
    ids = sorted({int(i) for i in compound_ids})
    tid = current_tenant_id()
    db.session.flush()
    _lock(ids)
    col = {c: i for i, c in enumerate(BILL_COLUMNS)}
    hid, cid, fid, res = (col[c] for c in ("household_id", "compound_id", "firm_id", "resident_fen"))
    parts = [col[c] for c in ("base_fen", "gov_fen", "firm_fen", "resident_fen")]
    per: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # (compound, firm): count, parts
    owed = []
    for b in bills:
        s = per[(b[cid], b[fid])]
        s[0] += 1
        for k, i in enumerate(parts, 1):
            s[k] += b[i]
        if b[res] > 0:
            owed.append(b)
    db.session.execute(insert(BillSum.__table__), [
        dict(zip(COLUMNS, (tid, cid, fid, month, *s, 0, 0, 0))) for (cid, fid), s in per.items()])
    conn = db.session.connection()
    # One INSERT of the chunk's rows as arrays (a COPY would be refused to the application's role
    # by row-level security; this is checked by the policies like any INSERT).
    conn.exec_driver_sql(
        "INSERT INTO owed_bill (tenant_id, household_id, compound_id, firm_id, month, owed_fen) "
        "SELECT %(tid)s, u.h, u.c, u.f, %(month)s::date, u.o FROM unnest(%(h)s::int4[], "
        "%(c)s::int4[], %(f)s::int4[], %(o)s::int4[]) AS u(h, c, f, o)",
        {"tid": tid, "month": month, "h": _ints(b[hid] for b in owed),
         "c": _ints(b[cid] for b in owed), "f": _ints(b[fid] for b in owed), "o": _ints(b[res] for b in owed)})
    before = list(conn.exec_driver_sql(
        "SELECT household_id FROM household_owed WHERE tenant_id = %(tid)s AND household_id = ANY(%(h)s::int4[])",
        {"tid": tid, "h": _ints(b[hid] for b in owed)}).scalars())
    had_row = set(before)
    new = [b for b in owed if b[hid] not in had_row]
    conn.exec_driver_sql(
        "INSERT INTO household_owed (tenant_id, household_id, compound_id, owed_fen) "
        "SELECT %(tid)s, u.h, u.c, u.o FROM unnest(%(h)s::int4[], %(c)s::int4[], %(o)s::int4[]) AS u(h, c, o)",
        {"tid": tid, "h": _ints(b[hid] for b in new), "c": _ints(b[cid] for b in new), "o": _ints(b[res] for b in new)})
    _households_owed(tid, before or None, set(ids))


def _ints(values) -> str:
    """An int4[] literal of the values (None: NULL): psycopg adapts a list element by element in
    Python, three times slower for a chunk's 20,000 than joining the text."""
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def refresh_month(month: date) -> None:
    """refresh for every compound billed in the month (after a bulk write such as the demo's)."""
    refresh(month, db.session.execute(select(Bill.compound_id).where(Bill.month == month).distinct()).scalars())


TOTAL_KEYS = ("count", "base", "gov", "firm", "resident", "paid")


def totals_by_month_select(*where):
    """Σ over the bill_sum rows matching `where` for each month, newest first (`month_totals`
    reads them in the bill list's keys; the list's totals add them up, its pages find their
    months in them)."""
    return (select(BillSum.month, func.sum(BillSum.bills), func.sum(BillSum.base_fen), func.sum(BillSum.gov_fen),
                   func.sum(BillSum.firm_fen), func.sum(BillSum.resident_fen), func.sum(BillSum.paid_fen))
            .where(*where).group_by(BillSum.month).order_by(BillSum.month.desc()))


def month_totals(rows) -> list[tuple[date, dict]]:
    return [(month, dict(zip(TOTAL_KEYS, (int(v or 0) for v in sums)))) for month, *sums in rows]


def added(per_month: list[tuple[date, dict]]) -> dict:
    return {k: sum(t[k] for _, t in per_month) for k in TOTAL_KEYS}


@event.listens_for(Session, "after_flush")
def _note_flushed(session, flush_context):
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Bill):
            keys, _ = session.info.setdefault(_PENDING, {}).setdefault(obj.tenant_id, (set(), set()))
            keys.add((obj.month, obj.compound_id))
        elif isinstance(obj, (Payment, CreditNote, HoldbackCredit)) and obj.bill_id is not None:
            _, bills = session.info.setdefault(_PENDING, {}).setdefault(obj.tenant_id, (set(), set()))
            bills.add(obj.bill_id)


@event.listens_for(Session, "before_commit")
def _refresh_pending(session):
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this event: its writes must be noted first
    if not session.info.get(_PENDING):
        return
    for tid, (keys, bills) in sorted(session.info.pop(_PENDING, {}).items()):
        with tenant_scope(tid):
            by_month = defaultdict(set)
            for month, compound_id in keys:
                by_month[month].add(compound_id)
            if bills:
                for month, compound_id in session.execute(select(Bill.month, Bill.compound_id)
                                                          .where(Bill.id.in_(sorted(bills))).distinct()):
                    by_month[month].add(compound_id)
            for month, ids in sorted(by_month.items()):
                refresh(month, ids)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)
