"""物业费收入 in the 物业费收支 ledger, from the payments the firm has recorded.

Under a 酬金制 contract the fees belong to the owners and the ledger shows what came in and
what was spent. What came in is already in the system as payments, so it is posted from them,
one entry per month (voucher "缴费汇总 YYYY-MM"), instead of being typed again. A payment
recorded after the month was posted shows as a difference, posted as a further entry; a
reversal of a posted entry shows it again. Plain functions that flush; the caller commits.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..fees.models import Bill, Payment
from ..fees.payments import month_start
from ..org.models import Compound
from . import ledger
from .models import LedgerEntry

KIND = "fee_account"
CATEGORY = "物业费收入"
MONTHS = 12


def voucher_of(month: date) -> str:
    return f"缴费汇总 {month:%Y-%m}"


@dataclass(frozen=True)
class MonthIncome:
    month: date
    payments: int        # how many payments were received in the month
    collected: int       # their sum, 分
    posted: int          # what the ledger holds for the month so far, 分

    @property
    def difference(self) -> int:
        return self.collected - self.posted


def months(compound_id: int, today: date, n: int = MONTHS) -> list[MonthIncome]:
    """The last n months (this one first): payments received against the compound's bills and
    what has been posted for each."""
    return months_of([compound_id], today, n)[compound_id]


def months_of(compound_ids: list[int], today: date, n: int = MONTHS) -> dict[int, list[MonthIncome]]:
    """`months` for many compounds at once: two grouped statements, however many compounds
    (one per compound read the district's payments once per compound)."""
    if not compound_ids:
        return {}
    first = month_start(today, n - 1)
    year, mon = func.extract("year", Payment.paid_on), func.extract("month", Payment.paid_on)
    paid = {(cid, int(y), int(mo)): (int(c), int(s)) for cid, y, mo, c, s in db.session.execute(
        select(Bill.compound_id, year, mon, func.count(Payment.id), func.sum(Payment.amount_fen))
        .join(Bill, Bill.id == Payment.bill_id)
        .where(Bill.compound_id.in_(compound_ids), Payment.paid_on >= first, Payment.paid_on <= today)
        .group_by(Bill.compound_id, year, mon))}
    wanted = [month_start(today, back) for back in range(n)]
    posted = {(cid, voucher): total for cid, voucher, total in db.session.execute(
        select(LedgerEntry.compound_id, LedgerEntry.voucher_no, func.sum(LedgerEntry.amount_fen))
        .where(LedgerEntry.compound_id.in_(compound_ids), LedgerEntry.kind == KIND,
               LedgerEntry.category == CATEGORY, LedgerEntry.voucher_no.in_([voucher_of(m) for m in wanted]))
        .group_by(LedgerEntry.compound_id, LedgerEntry.voucher_no))}
    return {cid: [MonthIncome(m, *paid.get((cid, m.year, m.month), (0, 0)),
                              int(posted.get((cid, voucher_of(m))) or 0)) for m in wanted]
            for cid in compound_ids}


def post(compound_id: int, month: date, today: date, *, user=None) -> LedgerEntry:
    """Post the month's payments not yet in the ledger; LedgerProblem when there is nothing to post."""
    # Two clicks at once must not post the same difference twice: one posting per compound at a time.
    db.session.execute(select(Compound.id).where(Compound.id == compound_id).with_for_update())
    row = next((r for r in months(compound_id, today) if r.month == month), None)
    if row is None:
        raise ledger.LedgerProblem("只能汇总近 12 个月（含本月）的缴费。", "month")
    if row.difference == 0:
        raise ledger.LedgerProblem(f"{month:%Y年%m月}的缴费已全部入账。", "month")
    return _post_row(compound_id, row, today, user)


def post_past_months(compound_ids: list[int], today: date) -> int:
    """Post every earlier month's difference of these compounds (this month's stays to post);
    the demo's 缴费汇总入账. Returns how many entries were posted."""
    posted = 0
    for cid, rows in months_of(sorted(compound_ids), today).items():
        for row in rows[1:]:
            if row.difference:
                _post_row(cid, row, today, None)
                posted += 1
    return posted


def _post_row(compound_id: int, row: MonthIncome, today: date, user) -> LedgerEntry:
    month = row.month
    last_day = date(month.year, month.month, monthrange(month.year, month.month)[1])
    note = f"由缴费记录汇总：{row.payments} 笔，实收 {row.collected / 100:,.2f} 元"
    if row.posted:
        note += f"；此前已入账 {row.posted / 100:,.2f} 元，本笔为差额"
    return ledger.add_entry(compound_id, KIND, min(last_day, today), CATEGORY, row.difference,
                            counterparty="业主缴费", voucher_no=voucher_of(month), note=note, user=user)
