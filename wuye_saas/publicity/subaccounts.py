"""分户账: each household's sub-account of its compound's maintenance fund (专项维修资金).

Every fund entry is split over households when it is posted (ledger.add_entry calls
`allocate`), and the parts are stored (FundShare), so a sub-account is a grouped sum and a
statement of 5,000 households is one query, whatever the number of entries. The rules:
- a deposit: per household as given (首期 at the district's standard × the household's area),
  or a lump sum spread over the compound's households by floor area;
- a use: spread by floor area over the households it concerns — the whole compound, or the
  chosen buildings (民法典 第283条: by area unless the owners agreed otherwise);
- interest: spread by each sub-account's balance when it is posted (by area while no
  sub-account has a positive balance);
- a reversal: each household's part of the original, negated.
Parts are whole 分 by the largest remainder (money.allocate; ties to the lower household id),
so the parts of an entry add up to it exactly and the sub-accounts to the fund's balance.

An entry that cannot be split when posted (no households registered yet, or an earlier entry
still waiting) stays pending, and so do the later ones, in order: `allocate_pending` splits
them once the households are there. Until then the fund page shows the pending amount.
Plain functions: they flush, the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, exists, func, insert, literal, or_, select
from sqlalchemy.orm import joinedload

from .. import audit
from ..extensions import db
from ..money import allocate as split
from ..org.models import Building, Household
from ..tenancy import current_tenant_id
from .models import FundAllocation, FundShare, LedgerEntry

KIND = "maintenance_fund"
FIRST = "首期交存"
INTEREST = "利息"


class ShareProblem(ValueError):
    def __init__(self, message: str, field: str = "amount"):
        super().__init__(message)
        self.field = field


def part_of(category: str, amount_fen: int) -> str:
    if category == FIRST:
        return "first"
    if category == INTEREST:
        return "interest"
    return "deposit" if amount_fen > 0 else "use"


def _households(compound_id: int, building_ids: list[int] | None = None) -> list[tuple[int, Decimal]]:
    stmt = select(Household.id, Household.floor_area).where(Household.compound_id == compound_id)
    if building_ids is not None:
        stmt = stmt.where(Household.building_id.in_(building_ids))
    return [(hid, Decimal(area or 0)) for hid, area in db.session.execute(stmt.order_by(Household.id))]


def _unallocated():
    return ~exists().where(FundAllocation.entry_id == LedgerEntry.id)


def pending_select(compound_id: int):
    """The compound's fund entries not yet split over its households, in posting order."""
    return (select(LedgerEntry).where(LedgerEntry.compound_id == compound_id, LedgerEntry.kind == KIND,
                                      _unallocated()).order_by(LedgerEntry.id))


def pending(compound_id: int) -> tuple[int, int]:
    """(how many, their sum in 分) of the compound's fund entries still pending."""
    n, total = db.session.execute(select(func.count(LedgerEntry.id), func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                                  .where(LedgerEntry.compound_id == compound_id, LedgerEntry.kind == KIND,
                                         _unallocated())).one()
    return int(n), int(total)


def balances(compound_id: int) -> dict[int, int]:
    """household id → its sub-account balance now (one grouped query)."""
    rows = db.session.execute(select(FundShare.household_id, func.sum(FundShare.amount_fen))
                              .where(FundShare.compound_id == compound_id).group_by(FundShare.household_id))
    return {hid: int(total) for hid, total in rows}


def allocate(entry: LedgerEntry, basis: str | None = None, building_ids: list[int] | None = None,
             amounts: dict[int, int] | None = None) -> FundAllocation | None:
    """Split a fund entry over the household sub-accounts; None when it stays pending. An
    explicit basis ("buildings" with `building_ids`, "standard" with `amounts` per household)
    is refused (ShareProblem) when it cannot be applied now, never left pending."""
    if entry.reverses_id is not None:
        return _mirror(entry)
    waiting = db.session.execute(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.compound_id == entry.compound_id, LedgerEntry.kind == KIND, LedgerEntry.id < entry.id,
        _unallocated())).scalar_one()
    if waiting:
        if basis is not None:
            raise ShareProblem(f"本小区尚有 {waiting} 笔维修资金分录未记入分户账，请先在维修资金页面补记分户账。",
                               "mode")
        return None
    total, sign = abs(entry.amount_fen), (1 if entry.amount_fen > 0 else -1)
    if basis == "standard":
        if sum(amounts.values()) != entry.amount_fen or not amounts:
            raise ShareProblem("逐户金额合计与分录金额不一致。")
        parts = sorted(amounts.items())
    else:
        if basis == "buildings":
            if not building_ids:
                raise ShareProblem("请选择本次使用涉及的楼栋。", "buildings")
            people = _households(entry.compound_id, building_ids)
        else:
            people = _households(entry.compound_id)
        weights = [area for _, area in people]
        if basis is None and entry.category == INTEREST:
            held = balances(entry.compound_id)
            by_balance = [Decimal(max(held.get(hid, 0), 0)) for hid, _ in people]
            if sum(by_balance) > 0:
                basis, weights = "balance", by_balance
        basis = basis or "area"
        if sum(weights, Decimal(0)) <= 0:
            if basis == "buildings":
                raise ShareProblem("所选楼栋没有登记房屋面积，无法分摊。", "buildings")
            return None   # no households with an area yet: pending until they are registered
        parts = [(hid, sign * p) for (hid, _), p in zip(people, split(total, weights))]
    part = part_of(entry.category, entry.amount_fen)
    rows = [{"tenant_id": current_tenant_id(), "entry_id": entry.id, "household_id": hid,
             "compound_id": entry.compound_id, "entry_date": entry.entry_date, "part": part, "amount_fen": fen}
            for hid, fen in parts if fen]
    if rows:
        db.session.execute(insert(FundShare), rows)
    a = FundAllocation(compound_id=entry.compound_id, entry_id=entry.id, basis=basis,
                       building_ids=sorted(building_ids) if basis == "buildings" else None, households=len(rows))
    db.session.add(a)
    db.session.flush()
    return a


def _mirror(entry: LedgerEntry) -> FundAllocation | None:
    """A reversal takes back exactly each household's part of the original (set-based)."""
    original = db.session.execute(select(FundAllocation).where(FundAllocation.entry_id == entry.reverses_id)
                                  ).scalar_one_or_none()
    if original is None:
        return None
    src = select(literal(current_tenant_id()), literal(entry.id), FundShare.household_id, FundShare.compound_id,
                 literal(entry.entry_date), FundShare.part, -FundShare.amount_fen).where(
        FundShare.entry_id == entry.reverses_id, FundShare.tenant_id == current_tenant_id())
    db.session.execute(insert(FundShare).from_select(
        ["tenant_id", "entry_id", "household_id", "compound_id", "entry_date", "part", "amount_fen"], src))
    a = FundAllocation(compound_id=entry.compound_id, entry_id=entry.id, basis="reversal",
                       building_ids=original.building_ids, households=original.households)
    db.session.add(a)
    db.session.flush()
    return a


def allocate_pending(compound_id: int) -> int:
    """Split the compound's pending fund entries in posting order, each by its default basis;
    how many were split (it stops at one that still cannot be)."""
    done = 0
    for entry in db.session.execute(pending_select(compound_id)).scalars().all():
        if allocate(entry) is None:
            break
        done += 1
    if done:
        audit.record_event("update", "fund_allocation", f"补记分户账 {done} 笔", changes={"entries": done})
    return done


# --- reads ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubAccount:
    household_id: int
    building: str
    room: str
    owner_name: str
    area: Decimal
    first: int        # 首期交存 (its own, net of reversals): the base of the 30% rule
    opening: int
    deposits: int     # 首期 and other deposits within the period
    uses: int         # positive: what the period's uses took
    interest: int
    closing: int

    @property
    def low(self) -> bool:
        """Below 30% of its own first deposit (令165 第十七条: 应当及时续交)."""
        return self.first > 0 and self.closing * 100 < self.first * 30


COLUMNS = ("first", "opening", "deposits", "uses", "interest", "closing")


def _sum_if(cond):
    return func.coalesce(func.sum(case((cond, FundShare.amount_fen), else_=0)), 0)


def _sums(start: date):
    s = FundShare
    in_period = s.entry_date >= start
    return [_sum_if(s.part == "first").label("first"),
            _sum_if(s.entry_date < start).label("opening"),
            _sum_if(in_period & s.part.in_(("first", "deposit"))).label("deposits"),
            (-_sum_if(in_period & (s.part == "use"))).label("uses"),
            _sum_if(in_period & (s.part == "interest")).label("interest"),
            func.coalesce(func.sum(s.amount_fen), 0).label("closing")]


def _agg(compound_id: int, start: date, end: date, households=None):
    # A page's households by unit (their index), else the whole compound's parts.
    unit = FundShare.household_id.in_(households) if households is not None else FundShare.compound_id == compound_id
    stmt = select(FundShare.household_id, *_sums(start)).where(unit, FundShare.entry_date <= end)
    return stmt.group_by(FundShare.household_id).subquery()


def _filtered(stmt, q: str):
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Household.room.like(like), Building.name.like(like), Household.owner_name.like(like)))
    return stmt


ORDER = (Building.name_key, Household.room_key, Household.id)


def _rows_select(compound_id: int, start: date, end: date, q: str = "", households=None):
    agg = _agg(compound_id, start, end, households)
    cols = [func.coalesce(getattr(agg.c, k), 0) for k in COLUMNS]
    stmt = (select(Household.id, Building.name, Household.room, Household.owner_name, Household.floor_area, *cols)
            .join(Building, Building.id == Household.building_id)
            .outerjoin(agg, agg.c.household_id == Household.id)
            .where(Household.compound_id == compound_id))
    if households is not None:
        stmt = stmt.where(Household.id.in_(households))
    return _filtered(stmt, q)


def _register(compound_id: int):
    return (select(Household.id).join(Building, Building.id == Household.building_id)
            .where(Household.compound_id == compound_id))


def count(compound_id: int, q: str = "") -> int:
    return int(db.session.execute(select(func.count()).select_from(
        _filtered(_register(compound_id), q).subquery())).scalar_one())


def rows(compound_id: int, start: date, end: date, q: str = "", limit: int | None = None,
         offset: int = 0, household_id: int | None = None) -> list[SubAccount]:
    """The sub-accounts for a period (start … end), in the register's order; one query. With a
    limit (a page) only that page's households are summed, so a page costs the same whatever the
    compound's size."""
    households = None
    if household_id is not None:
        households = [household_id]
    elif limit is not None:
        households = _filtered(_register(compound_id), q).order_by(*ORDER).limit(limit).offset(offset)
    stmt = _rows_select(compound_id, start, end, q, households).order_by(*ORDER)
    return [SubAccount(r[0], r[1], r[2], r[3] or "", Decimal(r[4] or 0), *(int(x) for x in r[5:]))
            for r in db.session.execute(stmt)]


def total(compound_id: int, end: date) -> int:
    """Every sub-account of the compound summed, as of `end` (one aggregate, no grouping)."""
    return int(db.session.execute(select(func.coalesce(func.sum(FundShare.amount_fen), 0)).where(
        FundShare.compound_id == compound_id, FundShare.entry_date <= end)).scalar_one())


def entry_parts(household_id: int):
    """A household's parts of fund entries, newest first (a select for pagination)."""
    return (select(FundShare).options(joinedload(FundShare.entry))
            .where(FundShare.household_id == household_id)
            .order_by(FundShare.entry_date.desc(), FundShare.entry_id.desc()))
