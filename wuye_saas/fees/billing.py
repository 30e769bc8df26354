"""Billing runs, bills and credit notes — plain functions, no Flask request.

A run bills every household of its scope for one month. It works compound by compound in
chunks; each chunk is one bulk INSERT … ON CONFLICT DO NOTHING on (tenant, household, month)
and its own commit, so a run that dies keeps its finished chunks and any later run of the
same month issues only the missing bills: never a duplicate, never a lost one. The parts come
from `compute.compound_month` (the one rounding rule); issued bills are never recomputed.
"""
from __future__ import annotations

import calendar
import gc
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import selectinload

from .. import audit, partitions, policy, rls
from ..extensions import db, refresh_statistics
from ..formutil import too_long, record_id
from ..money import fmt_yuan
from ..org import pickers
from ..org.models import (
    Building, Community, Compound, Contract, Firm, Household, HouseholdClass, HouseholdClassLink, Street,
    household_label,
)
from ..tenancy import current_tenant_id, kept, system_scope
from ..timeutil import day_start_utc, now, today
from . import compute, sums
from .models import Bill, BillingRun, BillSum, CreditNote, FeeAssignment, FeePolicy, HoldbackCredit, Payment

SCOPE_LABELS = {"district": "全区", "street": "街道", "compound": "小区", "firm": "本公司全部小区"}
SKIP_NO_CONTRACT = "该月没有有效的物业服务合同"
SKIP_NO_ASSIGNMENT = "该月未分配收费政策"
SKIP_NO_VERSION = "收费政策在该月没有已生效的版本"
SKIP_NO_HOUSEHOLDS = "小区没有住户"
# 明码标价规定: a changed price is posted a month before it applies. The price billed for a month
# must be the one of the compound's latest 收费公示 posted at least PRICE_NOTICE_MONTHS before the
# month starts; a compound whose older notice shows another price is not billed at the new one.
PRICE_NOTICE_MONTHS = 1
SKIP_PRICE_NOTICE = "新收费标准未提前一个月公示（明码标价规定），暂不能按新标准开具账单"
# A run's chunks start small and double up to CHUNK_HOUSEHOLDS, and the planner's statistics
# are refreshed each time the run has doubled what it wrote, from its first chunk on: a chunk's
# refresh of the kept sums is planned from statistics at most a chunk behind. A first chunk of
# 20,000 planned from empty tables' statistics took 4.7 s of a 17 s run (docs/benchmarks.md).
FIRST_CHUNK = 2_000         # households in a run's first chunk
CHUNK_HOUSEHOLDS = 20_000   # households per chunk (= per commit) at most; a compound is never split
STATISTICS_AFTER = FIRST_CHUNK  # bills issued by a run before the planner's statistics are refreshed
KEPT_TABLES = ("owed_bill", "household_owed", "compound_owed")  # the arrears' rows a run writes beside its bills


class BillingProblem(ValueError):
    """Input that cannot start a run or issue a credit note; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- months --------------------------------------------------------------------------------

def parse_month(text: str | None) -> date:
    """'2025-03' → date(2025, 3, 1); a clear message otherwise."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise BillingProblem("月份格式应为 年-月，例如 2025-03", "month")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def check_billable(month: date, on: date | None = None) -> None:
    """Bills may be issued up to one month ahead (a month's fee is billed at its start)."""
    limit = next_month((on or today()).replace(day=1))
    if month > limit:
        raise BillingProblem(f"不能为 {limit:%Y-%m} 之后的月份开具账单", "month")


# --- scope -------------------------------------------------------------------------------

def _contract_in(month: date):
    return Contract.in_force(month, month_end(month))


def firm_compounds(firm_id: int) -> list[tuple[int, str]]:
    """Compounds the firm has (or had) a contract for: what a firm may pick."""
    stmt = (select(Compound.id, Compound.name).where(Compound.id.in_(
        select(Contract.compound_id).where(Contract.firm_id == firm_id))).order_by(Compound.name))
    return [tuple(r) for r in db.session.execute(stmt)]


def scope_choices(membership) -> list[tuple[str, str]]:
    """(value, label) of the scopes this membership may bill, e.g. ('street:3', '街道：…')."""
    if membership.role in ("firm_manager", "firm_staff"):
        return [("firm", SCOPE_LABELS["firm"])] + [
            (f"compound:{cid}", f"小区：{name}") for cid, name in firm_compounds(membership.firm_id)]
    streets = db.session.execute(select(Street.id, Street.name).order_by(Street.name))
    compounds = db.session.execute(select(Compound.id, Compound.name).order_by(Compound.name))
    return ([("district", SCOPE_LABELS["district"])]
            + [(f"street:{sid}", f"街道：{name}") for sid, name in streets]
            + [(f"compound:{cid}", f"小区：{name}") for cid, name in compounds])


@dataclass(frozen=True)
class Scope:
    kind: str
    id: int | None
    label: str


def resolve_scope(membership, value: str, month: date) -> Scope:
    """The scope a form value names, checked against what the membership may bill."""
    kind, _, raw = (value or "").partition(":")
    if membership.role in ("firm_manager", "firm_staff"):
        firm = db.session.get(Firm, membership.firm_id)
        if kind == "firm" and not raw:
            return Scope("firm", firm.id, f"{firm.name}（全部小区）")
        if kind == "compound" and record_id(raw):
            row = db.session.execute(select(Compound.name).where(
                Compound.id == record_id(raw), Compound.id.in_(select(Contract.compound_id).where(
                    Contract.firm_id == firm.id, _contract_in(month))))).first()
            if row is None:
                raise BillingProblem("该小区在所选月份没有与本公司的有效合同，不能开具账单", "scope")
            return Scope("compound", record_id(raw), row.name)
        raise BillingProblem("请选择开具范围", "scope")
    if kind == "district" and not raw:
        return Scope("district", None, "全区")
    model = {"street": Street, "compound": Compound}.get(kind)
    row = (db.session.execute(select(model).where(model.id == record_id(raw))).scalar_one_or_none()
           if model and record_id(raw) else None)
    if row is None:
        raise BillingProblem("所选范围不存在，请重新选择", "scope")
    return Scope(kind, row.id, row.name)


def scope_compound_ids(kind: str, scope_id: int | None, month: date):
    """A SELECT of the compound ids a run's scope covers."""
    if kind == "district":
        return select(Compound.id)
    if kind == "street":
        return select(Compound.id).join(Community).where(Community.street_id == scope_id)
    if kind == "compound":
        return select(Compound.id).where(Compound.id == scope_id)
    if kind == "firm":
        return select(Contract.compound_id).where(Contract.firm_id == scope_id, _contract_in(month))
    raise ValueError(kind)


def create_run(scope: Scope, month: date) -> BillingRun:
    run = BillingRun(month=month, scope_kind=scope.kind, scope_id=scope.id, scope_label=scope.label[:100],
                     skipped={})
    db.session.add(run)
    db.session.flush()
    return run


# --- the run ---------------------------------------------------------------------------------

@dataclass
class CompoundPlan:
    id: int
    name: str
    contract: compute.ContractTerms
    policy: FeePolicy
    terms: compute.Terms
    households: int


def _latest(rows, key):
    """{key: row} keeping the row with the latest start (rows come ordered by start)."""
    out = {}
    for row in rows:
        out[key(row)] = row
    return out


def plan_run(br: BillingRun) -> tuple[list[CompoundPlan], dict[str, list[str]]]:
    """The compounds to bill with their contract and policy version, and the skipped ones by
    reason. A handful of queries whatever the number of compounds."""
    month, end = br.month, month_end(br.month)
    ids = scope_compound_ids(br.scope_kind, br.scope_id, month)
    names = dict(db.session.execute(select(Compound.id, Compound.name).where(Compound.id.in_(ids))
                                    .order_by(Compound.id)).all())
    counts = dict(db.session.execute(select(Household.compound_id, func.count()).where(
        Household.compound_id.in_(ids)).group_by(Household.compound_id)).all())
    contracts = _latest(db.session.execute(select(Contract).where(
        Contract.compound_id.in_(ids), _contract_in(month)).order_by(Contract.start_date, Contract.id)).scalars(),
        lambda c: c.compound_id)
    assigned = _latest(db.session.execute(select(FeeAssignment).where(
        FeeAssignment.compound_id.in_(ids), FeeAssignment.valid_from <= end,
        or_(FeeAssignment.valid_to.is_(None), FeeAssignment.valid_to >= month))
        .order_by(FeeAssignment.valid_from, FeeAssignment.id)).scalars(), lambda a: a.compound_id)
    families = {a.family_id for a in assigned.values()}
    family = func.coalesce(FeePolicy.family_id, FeePolicy.id)
    versions = _latest(db.session.execute(select(FeePolicy, family.label("fam")).where(
        family.in_(families), FeePolicy.status == "active", FeePolicy.valid_from <= end,
        or_(FeePolicy.valid_to.is_(None), FeePolicy.valid_to >= month))
        .options(selectinload(FeePolicy.grades), selectinload(FeePolicy.concessions))
        .order_by(FeePolicy.valid_from, FeePolicy.id)).all(), lambda r: r.fam) if families else {}

    noticed = noticed_prices(ids, month)
    plans, skipped = [], defaultdict(list)
    terms_cache = {}
    for cid, name in names.items():
        contract = contracts.get(cid)
        if br.scope_kind == "firm" and (contract is None or contract.firm_id != br.scope_id):
            continue  # another firm serves it this month: not part of this firm's run
        reason = None
        if contract is None:
            reason = SKIP_NO_CONTRACT
        elif cid not in assigned:
            reason = SKIP_NO_ASSIGNMENT
        elif assigned[cid].family_id not in versions:
            reason = SKIP_NO_VERSION
        elif not counts.get(cid):
            reason = SKIP_NO_HOUSEHOLDS
        if reason:
            skipped[reason].append(name)
            continue
        policy = versions[assigned[cid].family_id].FeePolicy
        terms = terms_cache.setdefault(policy.id, compute.terms_of(policy))
        ct = compute.ContractTerms(contract.firm_id, contract.service_grade, contract.fee_rate, contract.start_date)
        try:
            price = compute.unit_price(terms, ct)  # a pricing problem skips the compound with its reason
        except compute.PricingProblem as exc:
            skipped[str(exc)].append(name)
            continue
        if not price_noticed(noticed.get(cid), price):
            skipped[SKIP_PRICE_NOTICE].append(name)
            continue
        plans.append(CompoundPlan(cid, name, ct, policy, terms, counts[cid]))
    return plans, dict(skipped)


def notice_deadline(month: date) -> date:
    """The last day a notice of a price billed from `month` may be posted (Shanghai date)."""
    y, m = divmod(month.year * 12 + month.month - 1 - PRICE_NOTICE_MONTHS, 12)
    return date(y, m + 1, 1)


def noticed_prices(compound_ids, month: date) -> dict[int, dict]:
    """{compound: the price of its latest 收费公示 posted by notice_deadline(month)}. Notices
    published before prices were kept in them say nothing and are passed over."""
    from ..publicity.models import Publication    # publicity builds on fees, not the reverse

    cutoff = day_start_utc(notice_deadline(month) + timedelta(days=1))
    rows = db.session.execute(select(Publication.compound_id, Publication.content).where(
        Publication.compound_id.in_(compound_ids), Publication.kind == "standing_notice",
        Publication.published_at < cutoff).order_by(Publication.compound_id, Publication.seq))
    out = {}
    for cid, content in rows:
        price = (content or {}).get("price")
        if isinstance(price, dict):
            out[cid] = price
    return out


def price_noticed(noticed: dict | None, price: tuple) -> bool:
    """Whether the billed (rate, flat 分) is the noticed one; True without a priced notice (the
    publicity schedule flags a missing notice; it cannot tell a change from the first price)."""
    if noticed is None:
        return True
    rate, flat = price
    if flat is not None or noticed.get("flat_fen") is not None:
        return noticed.get("flat_fen") == flat
    try:
        return noticed.get("rate") is not None and Decimal(noticed["rate"]) == rate
    except (ArithmeticError, TypeError, ValueError):
        return False


def chunks(plans: list[CompoundPlan], first: int | None = None, most: int | None = None):
    """The plans in batches of whole compounds: the first of about `first` households, each next
    one twice the last, up to `most`."""
    most = most or CHUNK_HOUSEHOLDS
    size = min(first or FIRST_CHUNK, most)
    batch, n = [], 0
    for plan in plans:
        if batch and n + plan.households > size:
            yield batch
            batch, n, size = [], 0, min(2 * size, most)
        batch.append(plan)
        n += plan.households
    if batch:
        yield batch


def _hot(stmt, *models):
    """Run a per-chunk query with its tenant terms written as `tenant_id + 0 = ?`. The central
    filter's plain `tenant_id = ?` is, for SQLite without statistics, the most selective index,
    yet it matches every row of a one-district database: each chunk would scan the whole
    table (quadratic). The rewritten term still restricts to the tenant but drives no index."""
    tid = current_tenant_id()
    with system_scope():
        return db.session.execute(stmt.where(*(m.tenant_id + 0 == tid for m in models)))


def _households(compound_ids: list[int], month: date):
    """{compound_id: [(household_id, area, (class ids …)), …]} in ONE query: households left
    joined to the class links valid by the month's last day."""
    link = and_(HouseholdClassLink.household_id == Household.id, HouseholdClassLink.valid_from <= month_end(month),
                HouseholdClassLink.tenant_id + 0 == current_tenant_id())
    stmt = (select(Household.id, Household.compound_id, Household.floor_area, HouseholdClassLink.household_class_id)
            .outerjoin(HouseholdClassLink, link).where(Household.compound_id.in_(compound_ids))
            .order_by(Household.compound_id, Household.id, HouseholdClassLink.household_class_id))
    out: dict[int, list] = defaultdict(list)
    last = None
    for hid, cid, area, class_id in _hot(stmt, Household):
        if last is None or last[0] != hid:
            last = (hid, area, [])
            out[cid].append(last)
        if class_id is not None:
            last[2].append(class_id)
    return out


# A run's rows of bills (the id is the column's default: nothing the run writes names it).
BILL_COLUMNS = ("tenant_id", "household_id", "compound_id", "firm_id", "policy_id", "billing_run_id",
                "month", "area", "rate", "base_fen", "gov_fen", "firm_fen", "resident_fen", "holdback_fen",
                "classes", "issued_at")


# PostgreSQL types of BILL_COLUMNS for the binary COPY.
BILL_COPY_TYPES = ("int4", "int4", "int4", "int4", "int4", "int4", "date", "numeric", "numeric", "int4",
                   "int4", "int4", "int4", "int4", "text", "timestamp")


def _copy_rows(conn, table: str, rows, sent: list[tuple]) -> None:
    """COPY the rows into the table, appending each to `sent` before it goes."""
    with conn.connection.driver_connection.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(BILL_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(BILL_COPY_TYPES)
            for row in rows:
                sent.append(row)
                copy.write_row(row)


def _insert_bills(rows: Iterable[tuple]) -> list[tuple] | None:
    """Insert the rows, skipping (tenant, household, month) pairs already billed: a multi-row
    INSERT … ON CONFLICT DO NOTHING on SQLite. On PostgreSQL the rows are COPYed straight into
    `bill` (binary) as they come — computed while the server already inserts the earlier ones:
    the caller holds the month's lock and left out the households it found billed, so no row
    conflicts. Should one still (a bill written outside the lock), the COPY is undone to a
    savepoint and the rows go through a temporary table and one INSERT … SELECT … ON CONFLICT
    DO NOTHING instead, which skips it (docs/benchmarks.md, billing).

    PostgreSQL refuses COPY into a table under row-level security for a role it holds (the
    application's): its rows are COPYed into the temporary table, which has no policy, and go on
    by a plain INSERT … SELECT (checked by bill's policy like any other write) on the same
    terms: ON CONFLICT, whose speculative insertion checks and then confirms each row, only
    when a row did conflict.

    Returns the rows when every one was inserted as given (PostgreSQL), else None."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return None
    rows = itertools.chain([first], rows)
    conn = db.session.connection()
    on_conflict = {"index_elements": ["tenant_id", "household_id", "month"]}
    if conn.dialect.name != "postgresql":
        table = Bill.__table__
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(**on_conflict),
                     [dict(zip(BILL_COLUMNS, r)) for r in rows])
        return None
    from psycopg.errors import UniqueViolation

    cols = ", ".join(BILL_COLUMNS)
    sent = []
    loaded = rls.active(db.engine)  # the rows are in the temporary table
    if loaded:
        _load(conn, rows, sent)
    try:
        with conn.begin_nested():
            if loaded:  # the driver's own cursor, as the COPY: its UniqueViolation unwrapped
                with conn.connection.driver_connection.cursor() as cur:
                    cur.execute(f"INSERT INTO bill ({cols}) SELECT {cols} FROM bill_load")
            else:
                _copy_rows(conn, "bill", rows, sent)
        inserted = len(sent)
    except UniqueViolation:
        if not loaded:
            sent.extend(rows)  # the server may stop the COPY before the last row was produced
            _load(conn, sent, [])
            loaded = True
        inserted = conn.exec_driver_sql(f"INSERT INTO bill ({cols}) SELECT {cols} FROM bill_load "
                                        "ON CONFLICT (tenant_id, household_id, month) DO NOTHING").rowcount
    if loaded:
        conn.exec_driver_sql("DROP TABLE bill_load")  # the next chunk of the same transaction makes its own
    return sent if inserted == len(sent) else None


def _load(conn, rows, sent: list[tuple]) -> None:
    """COPY the rows into a new temporary table bill_load of bill's columns."""
    conn.exec_driver_sql(f"CREATE TEMP TABLE bill_load ON COMMIT DROP AS SELECT {', '.join(BILL_COLUMNS)} "
                         "FROM bill WITH NO DATA")
    _copy_rows(conn, "bill_load", rows, sent)


def lock_month(month: date) -> None:
    """Serialise the chunks of runs billing the same district and month (any scopes) on
    PostgreSQL, until the chunk's commit: each chunk then reads the bills already issued
    after the other's commit, so the government cap (compute rule 4) and the counts hold.
    SQLite has one writer at a time anyway. The only advisory lock of the product:
    keys (tenant id, yyyymm)."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(current_tenant_id(), month.year * 100 + month.month)))


def _gov_issued(compound_ids: list[int], month: date) -> dict[int, int]:
    """{compound_id: government part of the month's issued bills after credit notes}."""
    credited = (select(CreditNote.bill_id, func.sum(CreditNote.gov_fen).label("gov"))
                .group_by(CreditNote.bill_id).subquery())
    stmt = (select(Bill.compound_id, func.sum(Bill.gov_fen - func.coalesce(credited.c.gov, 0)))
            .outerjoin(credited, credited.c.bill_id == Bill.id)
            .where(Bill.month == month, Bill.compound_id.in_(compound_ids)).group_by(Bill.compound_id))
    return {cid: int(gov or 0) for cid, gov in db.session.execute(stmt)}


def bill_chunk(br: BillingRun, batch: list[CompoundPlan], class_names: dict[int, str],
               memos: dict | None = None) -> tuple[int, int]:
    """Issue the bills of some compounds; (issued by this run, already existing). Only
    flushes: the caller commits, one commit per chunk. `memos` keeps the run's splits per
    policy version across its chunks (compute.compound_month)."""
    memos = {} if memos is None else memos
    month, tid, issued_at = br.month, current_tenant_id(), now()
    ids = [p.id for p in batch]
    lock_month(month)
    billed = set(_hot(select(Bill.household_id).where(Bill.month == month, Bill.compound_id.in_(ids)), Bill).scalars())
    homes_by_compound = _households(ids, month)
    late = [p.id for p in batch if p.terms.gov_cap_fen is not None
            and any(hid in billed for hid, _, _ in homes_by_compound.get(p.id, []))]
    gov_issued = _gov_issued(late, month) if late else {}
    labels: dict[tuple, str] = {}
    # Read from the ORM before the COPY starts: a lazy load of an expired attribute while the
    # COPY holds the connection would wait on it for ever.
    policy_ids = {plan.id: plan.policy.id for plan in batch}
    homes = {plan.id: [h for h in homes_by_compound.get(plan.id, []) if h[0] not in billed] for plan in batch}
    billed_plans = []

    def rows():
        for plan in batch:
            if not homes[plan.id]:
                continue  # fully billed already (a re-run): nothing to compute
            # Only what is left of the cap goes to households billed after others (rule 4).
            parts = compute.compound_month(plan.terms, plan.contract, month,
                                           [(a, c) for _, a, c in homes[plan.id]],
                                           gov_issued.get(plan.id, 0), memos.setdefault(plan.terms.policy_id, {}))
            for (hid, area, classes), p in zip(homes[plan.id], parts):
                key = tuple(classes)
                label = labels.get(key)
                if label is None:
                    label = labels[key] = "、".join(class_names.get(c, "") for c in classes)[:60]
                yield (tid, hid, plan.id, plan.contract.firm_id, policy_ids[plan.id], run_id, month,
                       area, p.rate, p.base, p.gov, p.firm, p.resident, p.holdback, label, issued_at)
            billed_plans.append(plan)

    run_id = br.id
    inserted = _insert_bills(rows())
    for plan in billed_plans:
        if not plan.policy.frozen:
            plan.policy.frozen = True  # it has billed: editing now makes a new version
    attached = attach_holdback_credits(br, ids)
    # The run's bills (a COPY) and the credits bypass the ORM: the kept sums are written here.
    # A chunk whose compounds had no bill of the month, whose rows all went in as computed and
    # got no credit, writes them from those rows (sums.issued; a run of 300,000 households
    # 13.3 → 10.9 s, docs/benchmarks.md). Any other chunk that wrote something refreshes them;
    # one that wrote nothing (a re-run over billed compounds) leaves them.
    if inserted is not None and not billed and not attached:
        sums.issued(month, ids, inserted)
    elif billed_plans or attached:
        sums.refresh(month, ids)
    if inserted is not None:
        return len(inserted), len(billed)
    # Counted by this run's id: bills another run wrote meanwhile are not this run's.
    issued = _hot(select(func.count()).select_from(Bill).where(
        Bill.month == month, Bill.compound_id.in_(ids), Bill.billing_run_id == br.id), Bill).scalar_one()
    return issued, len(billed)


def attach_holdback_credits(br: BillingRun, compound_ids: list[int]) -> int:
    """质量保证金返还 (holdback.py rule 5): the households' waiting credits go onto the bills this
    run just issued them, in one UPDATE: a credit of an earlier month, on the household's bill
    of this run, when that bill's resident part covers all the household's waiting credits
    (else they wait for a later bill: a bill never goes below zero). How many were attached;
    the caller refreshes the kept sums."""
    credit = HoldbackCredit.__table__
    waiting = and_(credit.c.bill_id.is_(None), credit.c.tenant_id == current_tenant_id())
    new_bill = (select(Bill.id).where(Bill.household_id == credit.c.household_id, Bill.month == br.month,
                                      Bill.billing_run_id == br.id).scalar_subquery())
    other = credit.alias("other")
    pending = (select(func.sum(other.c.amount_fen)).where(other.c.household_id == credit.c.household_id,
                                                          other.c.bill_id.is_(None), other.c.month < br.month)
               .scalar_subquery())
    resident = (select(Bill.resident_fen).where(Bill.household_id == credit.c.household_id, Bill.month == br.month,
                                                Bill.billing_run_id == br.id).scalar_subquery())
    return db.session.execute(update(credit).where(waiting, credit.c.compound_id.in_(compound_ids),
                                                   credit.c.month < br.month, resident >= pending)
                              .values(bill_id=new_bill)).rowcount


@contextmanager
def _collector_paused():
    """Python's cycle collector off for one chunk. A chunk makes ~100,000 short-lived objects
    (rows, parts, tuples), none in a cycle, each allocation burst starting a collection that
    walks every object alive: 6–8 s of a million-household run (38 s without). What a chunk
    leaves in cycles is collected once the collector is back on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _month_table(month: date) -> str:
    """The table a month's bills are in: its partition on PostgreSQL (`bill` itself, all
    partitions, when the month has none of its own and its bills wait in the DEFAULT one)."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return "bill"
    return partitions.existing(conn, "bill").get(month, "bill")


def run_billing(billing_run_id: int, report=lambda done, total, msg="": None) -> dict:
    """Bill a run's scope; its outcome (also stored on the BillingRun)."""
    br = db.session.get(BillingRun, billing_run_id)
    plans, skipped = plan_run(br)
    class_names = dict(db.session.execute(select(HouseholdClass.id, HouseholdClass.name)).all())
    total = sum(p.households for p in plans)
    issued = existing = done = analyzed = 0
    memos: dict = {}
    # Mid-run, the month's own partition: what the chunks' plans read (its statistics are its
    # own), without sampling every other month of the district through the parent each time.
    month_bills = _month_table(br.month)
    report(0, total, f"共 {len(plans)} 个小区、{total} 户待开具")
    for batch in chunks(plans):
        with _collector_paused():
            i, e = bill_chunk(br, batch, class_names, memos)
        db.session.commit()  # a finished chunk survives a later failure
        issued, existing, done = issued + i, existing + e, done + sum(p.households for p in batch)
        # The statistics again each time the run has doubled what it wrote: the chunks' refresh
        # of the owed rows was planned for the empty tables of the run's start (as the
        # application's role a nested loop over the whole district's index per household: a
        # million households took over ten minutes, docs/benchmarks.md).
        if issued >= STATISTICS_AFTER and issued >= 2 * analyzed:
            refresh_statistics(month_bills, *KEPT_TABLES)
            analyzed = issued
        report(done, total, f"已处理 {done}/{total} 户")
    if issued >= STATISTICS_AFTER:  # the district's bills as a whole (the lists and sums across months)
        refresh_statistics("bill", *(KEPT_TABLES if issued != analyzed else ()))
    br = db.session.get(BillingRun, billing_run_id)
    br.issued, br.existing = issued, existing
    br.skipped = {reason: len(names) for reason, names in skipped.items()}
    audit.record_event("create", "billing_run", f"{br.audit_label}：开具账单 {issued} 张",
                       changes={"issued": issued, "existing": existing, "skipped": br.skipped,
                                "compounds": len(plans)}, entity_id=br.id)
    return {"issued": issued, "existing": existing, "compounds": len(plans), "skipped": skipped,
            "summary": f"开具账单 {issued} 张，已存在 {existing} 张，跳过小区 {sum(map(len, skipped.values()))} 个"}


def run_totals(billing_run_id: int) -> dict:
    """What a run has written so far (also after a failure part-way)."""
    row = db.session.execute(select(
        func.count(Bill.id), func.coalesce(func.sum(Bill.base_fen), 0), func.coalesce(func.sum(Bill.gov_fen), 0),
        func.coalesce(func.sum(Bill.firm_fen), 0), func.coalesce(func.sum(Bill.resident_fen), 0))
        .where(Bill.billing_run_id == billing_run_id)).one()
    return dict(zip(("count", "base", "gov", "firm", "resident"), row))


# --- bills -----------------------------------------------------------------------------------

PAID_STATUSES = {"unpaid": "未缴", "partial": "部分缴纳", "paid": "已缴清"}


@dataclass
class BillFilters:
    month: date | None = None
    street_id: int | None = None
    compound_id: int | None = None
    compound_name: str = ""      # part of the name (a large district's filter: pickers.name_pick)
    firm_id: int | None = None
    firm_name: str = ""
    status: str | None = None
    q: str = ""


def bills_query(m, f: BillFilters):
    """(rows statement, totals, bills per month newest first or None) for the filtered bills
    the membership may see.

    A row's paid and credited amounts are sub-queries on that bill (its payments and notes by
    bill_id), so a page of 20 reads 20 bills' payments, not the district's. The totals come
    from bill_sum when the filters are ones it keeps (month, street, compound, firm), with the
    count of each month (`page_months` turns them into the months a page's rows are in); a
    paid status or a search needs the bills themselves. The statements are built once per
    scope and filters (`policy.built`): building them was a fifth of the list's time."""
    rows, totals, by_month = policy.built("fees.bills", m, lambda: _bills_statements(m, f), astuple(f))
    if not by_month:
        row = db.session.execute(totals).one()
        return rows, dict(zip(sums.TOTAL_KEYS, (int(v) for v in row))), None
    per_month = sums.month_totals(db.session.execute(totals))
    return rows, sums.added(per_month), [(month, t["count"]) for month, t in per_month]


def _bills_statements(m, f: BillFilters):
    """(rows, totals, whether the totals are bill_sum's per month), each `tenancy.kept`."""
    paid_fen = func.coalesce(select(func.sum(Payment.amount_fen)).where(Payment.bill_id == Bill.id)
                             .correlate(Bill).scalar_subquery(), 0)
    credited = (func.coalesce(select(func.sum(CreditNote.resident_fen)).where(CreditNote.bill_id == Bill.id)
                              .correlate(Bill).scalar_subquery(), 0)
                + func.coalesce(select(func.sum(HoldbackCredit.amount_fen)).where(HoldbackCredit.bill_id == Bill.id)
                                .correlate(Bill).scalar_subquery(), 0))
    due_fen = Bill.resident_fen - credited
    status = case((paid_fen >= due_fen, literal("paid")), (paid_fen > 0, literal("partial")),
                  else_=literal("unpaid"))
    base = select(Bill).where(policy.visible(m, Bill))
    if f.street_id or f.q:
        base = base.join(Compound, Compound.id == Bill.compound_id).join(Community, Community.id == Compound.community_id)
    if f.month:
        base = base.where(Bill.month == f.month)
    if f.street_id:
        base = base.where(Community.street_id == f.street_id)
    if f.compound_id:
        base = base.where(Bill.compound_id == f.compound_id)
    if f.compound_name:
        base = base.where(Bill.compound_id.in_(pickers.named(Compound, f.compound_name)))
    if f.firm_id:
        base = base.where(Bill.firm_id == f.firm_id)
    if f.firm_name:
        base = base.where(Bill.firm_id.in_(pickers.named(Firm, f.firm_name)))
    if f.status in PAID_STATUSES:
        base = base.where(status == f.status)
    if f.q:
        # The room, the building with or without a space before the room ("2号楼 101"), the owner, the code.
        like = f"%{f.q}%"
        base = (base.join(Household, Household.id == Bill.household_id)
                .join(Building, Building.id == Household.building_id).where(or_(
                    Household.room.like(like), (Building.name + " " + Household.room).like(like),
                    (Building.name + Household.room).like(like), Household.owner_name.like(like),
                    Household.household_code == f.q)))
    rows = (base.add_columns(paid_fen.label("paid"), due_fen.label("due"), status.label("status"))
            .order_by(Bill.month.desc(), Bill.compound_id, Bill.household_id))
    if f.status in PAID_STATUSES or f.q:
        totals = base.with_only_columns(
            func.count(Bill.id), func.coalesce(func.sum(Bill.base_fen), 0), func.coalesce(func.sum(Bill.gov_fen), 0),
            func.coalesce(func.sum(Bill.firm_fen), 0), func.coalesce(func.sum(Bill.resident_fen), 0),
            func.coalesce(func.sum(paid_fen), 0))
        return kept(rows), kept(totals), False
    where = [policy.visible(m, BillSum)]
    if f.month:
        where.append(BillSum.month == f.month)
    if f.street_id:
        where.append(BillSum.compound_id.in_(select(Compound.id).join(Community, Community.id == Compound.community_id)
                                            .where(Community.street_id == f.street_id)))
    if f.compound_id:
        where.append(BillSum.compound_id == f.compound_id)
    if f.compound_name:
        where.append(BillSum.compound_id.in_(pickers.named(Compound, f.compound_name)))
    if f.firm_id:
        where.append(BillSum.firm_id == f.firm_id)
    if f.firm_name:
        where.append(BillSum.firm_id.in_(pickers.named(Firm, f.firm_name)))
    return kept(rows), kept(sums.totals_by_month_select(*where)), True


def row_names(bills) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """For a page of bills: household id → (its label, its owner), and compound id → name, in
    one statement of columns (loading the households, their buildings and the compounds as
    objects took two statements and a sixth of the list's time). A bill's compound is its
    household's (billing groups a compound's households)."""
    ids = {b.household_id for b in bills}
    if not ids:
        return {}, {}
    households, compounds = {}, {}
    for hid, building, room, owner, cid, compound in db.session.execute(
            select(Household.id, Building.name, Household.room, Household.owner_name, Compound.id, Compound.name)
            .join(Building, Building.id == Household.building_id).join(Compound, Compound.id == Household.compound_id)
            .where(Household.id.in_(ids))):
        households[hid], compounds[cid] = (household_label(building, room), owner), compound
    return households, compounds


def page_months(months: list[tuple[date, int]], offset: int, limit: int) -> tuple[date, date, int] | None:
    """For rows ordered newest month first, with `months` the count of each month (newest
    first): (the oldest and the newest month holding rows offset … offset + limit − 1, the
    offset of the first of them within those months), or None past the last row. The bill
    list reads its page from those months' partitions only: unrestricted, a page planned and
    opened every month's partition (3.5 ms of planning for 61 partitions)."""
    skip, i = offset, 0
    while i < len(months) and skip >= months[i][1]:
        skip -= months[i][1]
        i += 1
    if i == len(months):
        return None
    j, held = i, 0
    while j < len(months) and held < skip + limit:
        held += months[j][1]
        j += 1
    return months[j - 1][0], months[i][0], skip


def bill_money(bill: Bill) -> dict:
    """A bill's credit notes and payments with what is still due from the resident."""
    notes = db.session.execute(select(CreditNote).where(CreditNote.bill_id == bill.id)
                               .order_by(CreditNote.id)).scalars().all()
    payments = db.session.execute(select(Payment).where(Payment.bill_id == bill.id)
                                  .order_by(Payment.paid_on, Payment.id)).scalars().all()
    returns = db.session.execute(select(HoldbackCredit).where(HoldbackCredit.bill_id == bill.id)
                                 .order_by(HoldbackCredit.month, HoldbackCredit.id)).scalars().all()
    credited = {k: sum(getattr(n, f"{k}_fen") for n in notes) for k in ("gov", "firm", "resident")}
    paid = sum(p.amount_fen for p in payments)
    returned = sum(c.amount_fen for c in returns)
    due = bill.resident_fen - credited["resident"] - returned
    return {"notes": notes, "payments": payments, "credited": credited, "paid": paid, "returns": returns,
            "returned": returned, "due": due, "outstanding": max(due - paid, 0)}


# --- credit notes ----------------------------------------------------------------------------

PART_LABELS = {"gov": "政府承担", "firm": "企业让利", "resident": "居民缴纳"}


def issue_credit(bill: Bill, amounts: dict[str, int], reason: str) -> CreditNote:
    """A credit note taking `amounts` (分 per part) off the bill. Raises BillingProblem (with
    the field) when a part would drop below zero counting earlier notes, or nothing is taken."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingProblem("请填写冲减原因", "reason")
    if problem := too_long(reason, CreditNote.reason.type.length):
        raise BillingProblem(f"冲减原因{problem}", "reason")
    if not any(amounts.values()):
        raise BillingProblem("请至少填写一项冲减金额", "resident")
    credited = bill_money(bill)["credited"]
    for part, label in PART_LABELS.items():
        left = getattr(bill, f"{part}_fen") - credited[part]
        if amounts.get(part, 0) > left:
            raise BillingProblem(f"{label}部分最多还可冲减 {fmt_yuan(left)}", part)
    note = CreditNote(bill_id=bill.id, reason=reason, **{f"{k}_fen": amounts.get(k, 0) for k in PART_LABELS})
    db.session.add(note)
    db.session.flush()
    return note
