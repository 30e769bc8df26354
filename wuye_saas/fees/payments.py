"""Payments, arrears and collection rates: what residents owe and what they paid.

What a household owes on a bill is always derived, never stored:
    due  = resident_fen − Σ credit notes' resident_fen − Σ 质量保证金返还 credits on the bill
    paid = Σ payments
    owed = due − paid
computed with grouped sub-queries so a list costs one query, not one per row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, func, literal, select, true
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..extensions import db, looked_up
from ..money import fmt_yuan
from ..org import pickers
from ..org.models import Building, Community, Compound, Firm, Household, Street
from . import sums
from .models import (PAYMENT_METHODS, Bill, BillSum, CompoundOwed, CreditNote, HoldbackCredit, HouseholdOwed, OwedBill,
                     Payment)

BUCKETS = {"current": "本月", "m1_3": "1–3 个月", "m4_6": "4–6 个月", "m6p": "6 个月以上"}


# --- balances --------------------------------------------------------------------------------

def _among(col, bills, each: bool):
    """col IN bills; with `each`, the bills looked up one by one (few: a chunk or a compound-month)."""
    return looked_up(col, bills) if each else col.in_(bills)


def _credits(bills=None, each: bool = False):
    """Per bill: what credit notes took off each part, and (as `resident`) all that reduces the
    resident's due — the notes' resident part and the 质量保证金返还 credits on the bill."""
    notes = select(CreditNote.bill_id.label("bill_id"), CreditNote.resident_fen.label("resident"),
                   CreditNote.gov_fen.label("gov"), CreditNote.firm_fen.label("firm"))
    returns = select(HoldbackCredit.bill_id, HoldbackCredit.amount_fen, literal(0), literal(0))
    if bills is not None:
        notes = notes.where(_among(CreditNote.bill_id, bills, each))
        returns = returns.where(_among(HoldbackCredit.bill_id, bills, each))
    else:
        returns = returns.where(HoldbackCredit.bill_id.is_not(None))
    both = notes.union_all(returns).subquery("taken")
    return (select(both.c.bill_id, func.sum(both.c.resident).label("resident"), func.sum(both.c.gov).label("gov"),
                   func.sum(both.c.firm).label("firm")).group_by(both.c.bill_id).subquery("cn"))


def _payments(bills=None, each: bool = False):
    stmt = select(Payment.bill_id, func.sum(Payment.amount_fen).label("paid"))
    if bills is not None:
        stmt = stmt.where(_among(Payment.bill_id, bills, each))
    return stmt.group_by(Payment.bill_id).subquery("pay")


def balance_select(m=None, *where, each: bool = False):
    """One row per bill: Bill.id, due, paid, owed (+ credited gov/firm), limited to what the
    membership sees when one is given and to the `where` filters on Bill. Callers add their
    own grouping. `each`: the bills are few (the kept sums' refresh of a chunk or a
    compound-month): their payments and credits are looked up bill by bill
    (extensions.looked_up), never by scanning the district's.

    The scope and the filters also restrict the payment and credit-note sums: summing every
    payment of the district first and joining afterwards made a community's 缴费率 read all
    the district's payments (and, on PostgreSQL without statistics, re-aggregate them per
    bill — minutes); see docs/benchmarks.md "缴费率"."""
    bill_where = ([policy.visible(m, Bill)] if m is not None else []) + list(where)
    bills = select(Bill.id).where(*bill_where) if bill_where else None
    cn, pay = _credits(bills, each), _payments(bills, each)
    due = Bill.resident_fen - func.coalesce(cn.c.resident, 0)
    paid = func.coalesce(pay.c.paid, 0)
    stmt = (select(Bill.id.label("bill_id"), due.label("due"), paid.label("paid"),
                   (due - paid).label("owed"),
                   (Bill.gov_fen - func.coalesce(cn.c.gov, 0)).label("gov"),
                   (Bill.firm_fen - func.coalesce(cn.c.firm, 0)).label("firm"))
            .outerjoin(cn, cn.c.bill_id == Bill.id).outerjoin(pay, pay.c.bill_id == Bill.id))
    return stmt.where(*bill_where) if bill_where else stmt


@dataclass(frozen=True)
class Balance:
    due: int
    paid: int
    owed: int
    gov: int
    firm: int


def balance(bill_id: int) -> Balance:
    row = db.session.execute(balance_select(None, Bill.id == bill_id)).one()
    return Balance(row.due, row.paid, row.owed, row.gov, row.firm)


def balances(bill_ids: list[int]) -> dict[int, Balance]:
    if not bill_ids:
        return {}
    rows = db.session.execute(balance_select(None, Bill.id.in_(bill_ids))).all()
    return {r.bill_id: Balance(r.due, r.paid, r.owed, r.gov, r.firm) for r in rows}


# --- recording a payment ---------------------------------------------------------------------

RECEIPT_DIGITS = 6


def next_receipt_no(day: date) -> str:
    """The next free receipt number of the month: SK202611-000123."""
    prefix = f"SK{day:%Y%m}-"
    taken = db.session.execute(select(Payment.receipt_no)
                               .where(Payment.receipt_no.like(prefix + "%"))).scalars()
    seq = max((int(n[len(prefix):]) for n in taken if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{seq + 1:0{RECEIPT_DIGITS}d}"


def payment_problems(bill: Bill, amount_fen: int, method: str, receipt_no: str, paid_on: date,
                     today: date) -> dict[str, str]:
    """Field → Chinese message for every rule the payment breaks; empty when it may be saved."""
    problems = {}
    owed = balance(bill.id).owed
    if amount_fen <= 0:
        problems["amount"] = "金额必须大于 0。"
    elif amount_fen > owed:
        problems["amount"] = (f"超过该账单尚欠的居民应缴部分（{fmt_yuan(owed)}）。" if owed > 0
                              else "该账单居民应缴部分已结清，无需再收款。")
    if method not in PAYMENT_METHODS:
        problems["method"] = "请选择收款方式。"
    if db.session.execute(select(Payment.id).where(Payment.receipt_no == receipt_no)).first():
        problems["receipt_no"] = "该收据号已被使用，请换一个。"
    if paid_on > today:
        problems["paid_on"] = "收款日期不能晚于今天。"
    return problems


def record_payment(bill: Bill, amount_fen: int, method: str, receipt_no: str, paid_on: date,
                   today: date, note: str = "") -> tuple[Payment | None, dict[str, str]]:
    """Save the payment (flushed, audited by the ORM) or return the problems, writing nothing."""
    problems = payment_problems(bill, amount_fen, method, receipt_no, paid_on, today)
    if problems:
        return None, problems
    pay = Payment(bill_id=bill.id, amount_fen=amount_fen, method=method, receipt_no=receipt_no,
                  paid_on=paid_on, note=note)
    db.session.add(pay)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent payment took the receipt number first
        db.session.rollback()
        return None, {"receipt_no": "该收据号已被使用，请换一个。"}
    return pay, {}


DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ["", "拾", "佰", "仟"]
BIG_UNITS = ["", "万", "亿", "万亿"]


def _four(n: int) -> str:
    """0 < n < 10000 in capitals, with 零 for inner gaps (1005 → 壹仟零伍)."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + DIGITS[d] + SMALL_UNITS[pos]
            zero = False
    return out


def rmb_upper(fen: int) -> str:
    """Amount in Chinese capitals as on a receipt: 12345 → 壹佰贰拾叁元肆角伍分."""
    if fen == 0:
        return "零元整"
    sign = "负" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    jiao, fen_ = divmod(cents, 10)
    text = ""
    if yuan:
        groups, i = [], 0
        while yuan:
            groups.append((yuan % 10000, i))
            yuan //= 10000
            i += 1
        prev_small = False
        for g, idx in reversed(groups):
            if g == 0:
                prev_small = True
                continue
            if text and (prev_small or g < 1000):
                text += "零"
            text += _four(g) + BIG_UNITS[idx]
            prev_small = False
        text += "元"
    if not jiao and not fen_:
        return sign + text + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen_:
        text += DIGITS[fen_] + "分"
    else:
        text += "整"
    return sign + text


# --- arrears ---------------------------------------------------------------------------------

def month_start(d: date, back: int = 0) -> date:
    """The first day of the month `back` months before d's month."""
    n = d.year * 12 + d.month - 1 - back
    return date(n // 12, n % 12 + 1, 1)


def _bucket_of(month_col, today: date):
    """Bucket key of a bill month by its age in whole months against today (Shanghai)."""
    return case((month_col >= month_start(today), literal("current")),
                (month_col >= month_start(today, 3), literal("m1_3")),
                (month_col >= month_start(today, 6), literal("m4_6")),
                else_=literal("m6p"))


def _in_bucket(month_col, bucket: str, today: date):
    """The bill months of a bucket (as _bucket_of assigns them)."""
    bounds = {"current": (month_start(today), None), "m1_3": (month_start(today, 3), month_start(today)),
              "m4_6": (month_start(today, 6), month_start(today, 3)), "m6p": (None, month_start(today, 6))}
    low, high = bounds[bucket]
    return and_(*([month_col >= low] if low else []), *([month_col < high] if high else []))


def _whole_district(m, compound_id: int | None, compound_name: str = "") -> bool:
    """Whether the list is every household of the district (read from household_owed)."""
    return policy.visible(m, OwedBill) is true() and not compound_id and not compound_name


def _ranked(m, today: date, compound_id: int | None = None, bucket: str | None = None, compound_name: str = ""):
    """(household_id, owed) of each household listed, unordered; and the WHERE on OwedBill of
    the bills counted. The district's whole list reads household_owed (one row per household,
    in the order's index); a narrower view (a compound, a street, a firm) sums its OwedBill
    rows — the unpaid bills of what it sees, never the paid ones nor their payments."""
    where = [policy.visible(m, OwedBill)] + ([OwedBill.compound_id == compound_id] if compound_id else [])
    if compound_name:
        where.append(OwedBill.compound_id.in_(pickers.named(Compound, compound_name)))
    if _whole_district(m, compound_id, compound_name):
        stmt = select(HouseholdOwed.household_id, HouseholdOwed.owed_fen.label("owed"))
        if bucket in BUCKETS:
            stmt = stmt.where(HouseholdOwed.household_id.in_(
                select(OwedBill.household_id).where(_in_bucket(OwedBill.month, bucket, today))))
        return stmt, where
    stmt = (select(OwedBill.household_id, func.sum(OwedBill.owed_fen).label("owed"))
            .where(*where).group_by(OwedBill.household_id))
    if bucket in BUCKETS:
        stmt = stmt.having(func.max(case((_in_bucket(OwedBill.month, bucket, today), 1), else_=0)) == 1)
    return stmt, where


def arrears_rows(m, today: date, compound_id: int | None = None, bucket: str | None = None,
                 limit: int | None = None, offset: int = 0, compound_name: str = "") -> list:
    """Households with an unpaid resident part: owed in total and per age bucket, owed desc
    (`limit` of them from `offset`). Buckets are relative to today, so they are summed here
    from the listed households' unpaid bills only."""
    ranked, where = _ranked(m, today, compound_id, bucket, compound_name)
    ranked = ranked.subquery("ranked")
    listed = select(ranked.c.household_id)
    if limit is not None:
        listed = listed.order_by(ranked.c.owed.desc(), ranked.c.household_id).limit(limit).offset(offset)
    bucket_of = _bucket_of(OwedBill.month, today)
    per = (select(OwedBill.household_id, func.sum(OwedBill.owed_fen).label("owed"), func.count().label("bills"),
                  func.min(OwedBill.month).label("oldest"),
                  *[func.sum(case((bucket_of == k, OwedBill.owed_fen), else_=0)).label(k) for k in BUCKETS])
           .where(*where, OwedBill.household_id.in_(listed.scalar_subquery()))
           .group_by(OwedBill.household_id).subquery("per"))
    stmt = (select(Household.id.label("household_id"), Household.room, Household.owner_name,
                   Building.name.label("building"), Compound.name.label("compound"),
                   per.c.owed, per.c.bills, per.c.oldest, *[per.c[k] for k in BUCKETS])
            .join(per, per.c.household_id == Household.id)
            .join(Building, Building.id == Household.building_id)
            .join(Compound, Compound.id == Household.compound_id)
            .order_by(per.c.owed.desc(), Household.id))
    return db.session.execute(stmt).all()


class ArrearsPagination(Pagination):
    """A page of arrears_rows. The count of the district's whole list sums compound_owed (a
    row per compound); a filtered or narrower list counts its ranked households (no bill is read)."""

    def _query_items(self):
        return arrears_rows(*self._query_args["args"], limit=self.per_page, offset=self._query_offset,
                            **self._query_args["filters"])

    def _query_count(self):
        m, today = self._query_args["args"]
        filters = self._query_args["filters"]
        if (_whole_district(m, filters.get("compound_id"), filters.get("compound_name", ""))
                and filters.get("bucket") not in BUCKETS):
            return db.session.execute(select(func.coalesce(func.sum(CompoundOwed.households), 0))).scalar()
        ranked, _ = _ranked(m, today, **filters)
        return db.session.execute(select(func.count()).select_from(ranked.subquery())).scalar()


def arrears_page(m, today: date, page: int, per_page: int = 20, **filters) -> ArrearsPagination:
    return ArrearsPagination(page=page, per_page=per_page, error_out=False, args=(m, today), filters=filters)


def arrears_workbook(rows, today: date):
    """The filtered arrears list as an Excel workbook (amounts in 元, numbers with a 元 format)."""
    from openpyxl import Workbook

    from ..excel import append, yuan
    wb = Workbook()
    ws = wb.active
    ws.title = "欠费明细"
    ws.append(["小区", "楼栋", "房号", "业主", "欠费账单数", "最早欠费月份", "欠费合计（元）",
               *[f"{v}（元）" for v in BUCKETS.values()]])
    for r in rows:
        append(ws, [r.compound, r.building, r.room, mask_name(r.owner_name), r.bills,
                    f"{r.oldest:%Y-%m}", yuan(r.owed or 0), *[yuan(getattr(r, k) or 0) for k in BUCKETS]])
    append(ws, ["合计", "", "", "", sum(r.bills for r in rows), "", yuan(sum(r.owed or 0 for r in rows)),
                *[yuan(sum(getattr(r, k) or 0 for r in rows)) for k in BUCKETS]])
    ws.append([f"统计日：{today:%Y-%m-%d}"])
    for col in "ABCDEFGHIJK":
        ws.column_dimensions[col].width = 14
    return wb


def mask_name(name: str) -> str:
    """张三 → 张*: enough for a resident to recognise, not enough to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


# --- collection rate -------------------------------------------------------------------------

LEVELS = {"compound": "小区", "firm": "物业企业", "street": "街道"}


def _tenths(collected: int, billed: int) -> int:
    """|collected| / billed in tenths of a percent, rounded half up: exact integer arithmetic (a
    landing page shows a few hundred rates; Decimal was a tenth of its board's time)."""
    q, r = divmod(abs(collected) * 1000, billed)
    return q + (2 * r >= billed)


def rate_text(collected: int, billed: int) -> str:
    """缴费率 as '87.5%'; '—' when nothing was billed (never a division by zero)."""
    if billed <= 0:
        return "—"
    t = _tenths(collected, billed)
    return f"{'-' if collected < 0 else ''}{t // 10}.{t % 10}%"


def rate_value(collected: int, billed: int) -> float | None:
    """The same rate as a number for the chart (None: a gap in the line)."""
    if billed <= 0:
        return None
    v = _tenths(collected, billed) / 10
    return -v if collected < 0 else v


@dataclass
class RateRow:
    key: int | None
    label: str
    cells: dict  # month → (collected, billed)

    def text(self, month):
        return rate_text(*self.cells.get(month, (0, 0)))

    def value(self, month):
        return rate_value(*self.cells.get(month, (0, 0)))


class Rows(Pagination):
    """A page of rows already read (with the total of all rows), for the pager macro."""

    def _query_items(self):
        return self._query_args["rows"]

    def _query_count(self):
        return self._query_args["total"]


def collection(m, today: date, level: str = "compound", months: int = 12, page: int | None = None,
               per_page: int = 20):
    """(months, rows by level, the total row, the page or None) of 缴费率 for bills of the last
    `months` months; with `page`, rows are that page of `per_page` rows (the street level has
    few rows: all of them), else all rows.

    collected counts payments up to what is due (a credit note after payment must not push a
    rate above 100%); billed is the resident part after credit notes. Both come from bill_sum,
    so the time depends on the compounds shown, not on the bills of the district."""
    month_list = [month_start(today, k) for k in range(months - 1, -1, -1)]
    where = [policy.visible(m, BillSum), BillSum.month >= month_list[0], BillSum.month <= month_list[-1]]
    if level == "firm":
        key, label, joins = BillSum.firm_id, Firm.name, [(Firm, Firm.id == BillSum.firm_id)]
    elif level == "street":
        key, label = Street.id, Street.name
        joins = [(Compound, Compound.id == BillSum.compound_id), (Community, Community.id == Compound.community_id),
                 (Street, Street.id == Community.street_id)]
    else:
        key, label, joins = BillSum.compound_id, Compound.name, [(Compound, Compound.id == BillSum.compound_id)]
    label = func.coalesce(label, "（未指定）")
    collected, billed = func.sum(BillSum.collected_fen), func.sum(BillSum.resident_fen - BillSum.credited_fen)

    def joined(stmt):
        stmt = stmt.select_from(BillSum)
        for target, on in joins:
            stmt = stmt.outerjoin(target, on)
        return stmt.where(*where)

    pager, keys, total_rows = None, None, 0   # by compound: the count is read with the total row below
    offset = (max(page or 1, 1) - 1) * per_page
    rows: dict = {}
    by_page = page is not None and level == "compound"
    if by_page:
        # The compounds in name order (an index), each kept if it has a bill of the months, then
        # those compounds' sums alone: a page no longer groups, joins and sorts every billed
        # compound's months to show twenty (the page's time grew with the district).
        billed_here = select(BillSum.id).where(BillSum.compound_id == Compound.id, *where).exists()
        named = db.session.execute(select(Compound.id, Compound.name).where(billed_here)
                                   .order_by(Compound.name, Compound.id).limit(per_page).offset(offset)).all()
        keys = [k for k, _ in named]
        rows = {k: RateRow(k, name, {}) for k, name in named}
        cells = (select(key.label("key"), BillSum.month, collected.label("collected"), billed.label("billed"))
                 .where(*where, key.in_(keys)).group_by(key, BillSum.month))
        for r in db.session.execute(cells) if keys else ():
            rows[r.key].cells[r.month] = (int(r.collected or 0), int(r.billed or 0))
    elif page is not None and level != "street":
        listed = db.session.execute(joined(select(key.label("key"), label.label("label"), func.count().over()))
                                    .group_by(key, label).order_by(label, key)
                                    .limit(per_page).offset(offset)).all()
        keys = [r.key for r in listed]
        total_rows = listed[0][2] if listed else 0
        if not listed and page > 1:  # past the last page: the count still shows
            total_rows = db.session.execute(select(func.count()).select_from(
                joined(select(key)).group_by(key).subquery())).scalar()
    if not by_page:
        cells = joined(select(key.label("key"), label.label("label"), BillSum.month, collected.label("collected"),
                              billed.label("billed")))
        if keys is not None:
            wanted = key.in_([k for k in keys if k is not None])
            cells = cells.where(wanted | key.is_(None) if None in keys else wanted)
        for r in db.session.execute(cells.group_by(key, label, BillSum.month).order_by(label, key)):
            row = rows.setdefault(r.key, RateRow(r.key, r.label, {}))
            row.cells[r.month] = (int(r.collected or 0), int(r.billed or 0))
    total = RateRow(None, "合计", {})
    billed_compounds = [select(func.count(BillSum.compound_id.distinct())).where(*where).scalar_subquery()] \
        if by_page else []
    for month, c, bl, *n in db.session.execute(select(BillSum.month, collected, billed, *billed_compounds)
                                               .where(*where).group_by(BillSum.month)):
        total.cells[month] = (int(c or 0), int(bl or 0))
        total_rows = n[0] if n else total_rows
    ordered = [rows[k] for k in keys if k in rows] if keys is not None else list(rows.values())
    if keys is not None:
        pager = Rows(page=max(page, 1), per_page=per_page, error_out=False, rows=ordered, total=total_rows)
    return month_list, ordered, total, pager


# --- compound choices (filters) --------------------------------------------------------------

def billed(m):
    """SELECT of the ids of compounds the membership has bills for (a filter's choices), from
    bill_sum (a row per compound, firm and month billed) rather than every bill."""
    return select(BillSum.compound_id).where(policy.visible(m, BillSum))


def bill_payments(bill_id: int) -> list[Payment]:
    return list(db.session.execute(select(Payment).where(Payment.bill_id == bill_id)
                                   .order_by(Payment.paid_on, Payment.id)).scalars())


def bill_credits(bill_id: int) -> list[CreditNote]:
    return list(db.session.execute(select(CreditNote).where(CreditNote.bill_id == bill_id)
                                   .order_by(CreditNote.id)).scalars())


# --- the residents' lookup -------------------------------------------------------------------

def household_by_code(code: str) -> Household | None:
    """The household of a code in the current district (the tenant filter applies)."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return db.session.execute(select(Household).where(func.upper(Household.household_code) == code)
                              ).scalar_one_or_none()


def household_bills(household_id: int, limit: int = 12) -> list[tuple[Bill, Balance]]:
    bills = list(db.session.execute(select(Bill).where(Bill.household_id == household_id)
                                    .order_by(Bill.month.desc()).limit(limit)).scalars())
    bal = balances([b.id for b in bills])
    return [(b, bal[b.id]) for b in bills]
