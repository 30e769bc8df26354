"""Ledgers: append-only entries in signed 分; balances and statements are sums of entries.
Plain functions that flush; the caller commits. There is no edit and no delete. A
maintenance-fund entry is split over the household sub-accounts as it is posted
(subaccounts.py), in the same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from ..extensions import db
from . import subaccounts
from .models import LEDGER_KINDS, LedgerEntry


class LedgerProblem(ValueError):
    def __init__(self, message: str, field: str = "amount"):
        super().__init__(message)
        self.field = field


def add_entry(compound_id: int, kind: str, entry_date: date, category: str, amount_fen: int, *,
              counterparty: str = "", voucher_no: str = "", note: str = "", user=None,
              shares: dict | None = None) -> LedgerEntry:
    """`shares`: for a maintenance-fund entry, the split's explicit basis (subaccounts.allocate's
    keyword arguments); without it the default basis of its category."""
    if kind not in LEDGER_KINDS:
        raise LedgerProblem("账目类型不正确", "kind")
    if amount_fen == 0:
        raise LedgerProblem("金额不能为 0")
    entry = LedgerEntry(compound_id=compound_id, kind=kind, entry_date=entry_date, category=category.strip(),
                        amount_fen=amount_fen, counterparty=counterparty.strip(), voucher_no=voucher_no.strip(),
                        note=note.strip(), user_id=getattr(user, "id", None))
    db.session.add(entry)
    db.session.flush()
    _split(entry, shares or {})
    return entry


def _split(entry: LedgerEntry, shares: dict) -> None:
    if entry.kind == subaccounts.KIND:
        try:
            subaccounts.allocate(entry, **shares)
        except subaccounts.ShareProblem as exc:
            raise LedgerProblem(str(exc), exc.field) from exc


def reverse(original: LedgerEntry, entry_date: date, reason: str, *, user=None) -> LedgerEntry:
    """The correction of an entry: the opposite amount, linked to it. Once only."""
    if original.reverses_id is not None:
        raise LedgerProblem("冲销分录不能再被冲销", "reason")
    already = db.session.execute(select(LedgerEntry.id).where(LedgerEntry.reverses_id == original.id)).first()
    if already:
        raise LedgerProblem("该分录已被冲销", "reason")
    if not reason.strip():
        raise LedgerProblem("请填写冲销原因", "reason")
    entry = LedgerEntry(compound_id=original.compound_id, kind=original.kind, entry_date=entry_date,
                        category=original.category, amount_fen=-original.amount_fen,
                        counterparty=original.counterparty, voucher_no=original.voucher_no,
                        note=f"冲销：{reason.strip()}", reverses_id=original.id, user_id=getattr(user, "id", None))
    db.session.add(entry)
    db.session.flush()
    _split(entry, {})
    return entry


def balance(compound_id: int, kind: str, on: date | None = None) -> int:
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
        LedgerEntry.compound_id == compound_id, LedgerEntry.kind == kind)
    if on is not None:
        stmt = stmt.where(LedgerEntry.entry_date <= on)
    return int(db.session.execute(stmt).scalar_one())


@dataclass(frozen=True)
class Statement:
    opening: int
    income: int
    spending: int       # a positive number: the sum of the negative entries, sign removed
    closing: int
    by_category: list   # [(category, income, spending)]


def statement(compound_id: int, kind: str, start: date, end: date) -> Statement:
    """A period statement; closing = opening + income − spending, by construction of sums."""
    opening = balance(compound_id, kind, on=date.fromordinal(start.toordinal() - 1))
    rows = db.session.execute(
        select(LedgerEntry.category,
               func.coalesce(func.sum(case((LedgerEntry.amount_fen > 0, LedgerEntry.amount_fen), else_=0)), 0),
               func.coalesce(func.sum(case((LedgerEntry.amount_fen < 0, -LedgerEntry.amount_fen), else_=0)), 0))
        .where(LedgerEntry.compound_id == compound_id, LedgerEntry.kind == kind,
               LedgerEntry.entry_date >= start, LedgerEntry.entry_date <= end)
        .group_by(LedgerEntry.category).order_by(LedgerEntry.category)).all()
    income = sum(int(r[1]) for r in rows)
    spending = sum(int(r[2]) for r in rows)
    return Statement(opening, income, spending, opening + income - spending,
                     [(r[0], int(r[1]), int(r[2])) for r in rows])
