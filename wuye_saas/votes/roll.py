"""The roll of an owner vote (表决权登记) and its count by person, in set-based SQL.

Rules (建筑物区分所有权解释 第八条、第九条; RULES.md "业主表决"):
- every exclusive unit of the compound is on the roll with its registered area in 0.01 ㎡;
- headcount is by person, never by name: one per unit; a person owning several units counts
  once; the co-owners of a unit count as one; the units still held by the developer (unsold or
  undelivered) count once together, whatever owner names they carry. Persons linked by
  ownership — A owns 101, A and B own 102 — are one owner (connected groups, the only reading
  that keeps both "several units once" and "co-owners as one"); a unit with no owner on record
  is its own owner.

Why a roll fixed when voting opens rather than the register at count time: the owners who may
vote are those of the day voting opens (as the 15-day notice announced the units), a sale during
voting must not move a unit's head between owners, and a count — live, final or recounted — can
never change because ownership changed afterwards. The roll is written once (one read, one bulk
insert); every count after it is two aggregate statements whatever the number of units.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, delete, distinct, func, insert, or_, select, text

from ..extensions import db
from ..org.models import Household, Ownership
from ..tenancy import current_tenant_id
from . import counting
from .models import Ballot, BallotChoice, OwnerVote, VoteItem, VoteRoll

DEVELOPER = "dev"


def owned_on(day: date):
    """Ownerships in force on the day (from and until both inclusive; open ends are open)."""
    return and_(or_(Ownership.valid_from.is_(None), Ownership.valid_from <= day),
                or_(Ownership.valid_until.is_(None), Ownership.valid_until >= day))


def heads_of(rows) -> dict[int, tuple[int, str]]:
    """rows of (household id, area ㎡, developer held, person id or None) → household id →
    (area in 0.01 ㎡, head). Persons sharing a unit are joined; the group's head is its
    smallest person id."""
    parent: dict[int, int] = {}

    def find(p):
        while parent.setdefault(p, p) != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    units: dict[int, tuple[int, bool, list[int]]] = {}
    for hid, area, developer, person in rows:
        unit = units.setdefault(hid, (int(Decimal(area) * 100), bool(developer), []))
        if person is not None:
            unit[2].append(person)
    for _, developer, persons in units.values():
        if not developer:
            for p in persons[1:]:
                a, b = find(persons[0]), find(p)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    out = {}
    for hid, (area, developer, persons) in units.items():
        if developer:
            out[hid] = (area, DEVELOPER)
        elif persons:
            out[hid] = (area, f"p:{find(persons[0])}")
        else:
            out[hid] = (area, f"u:{hid}")
    return out


def register_heads(compound_id: int, day: date) -> dict[int, tuple[int, str]]:
    """The compound's units with their heads as the register has them on the day (one read)."""
    rows = db.session.execute(
        select(Household.id, Household.floor_area, Household.developer_held, Ownership.person_id)
        .outerjoin(Ownership, and_(Ownership.household_id == Household.id, owned_on(day)))
        .where(Household.compound_id == compound_id)).all()
    return heads_of(rows)


def fix_roll(vote: OwnerVote, day: date) -> int:
    """Write the vote's roll from the register as of `day`; how many units it holds."""
    heads = register_heads(vote.compound_id, day)
    db.session.execute(delete(VoteRoll).where(VoteRoll.vote_id == vote.id))
    tenant = current_tenant_id()
    rows = [{"tenant_id": tenant, "vote_id": vote.id, "household_id": hid, "area_centi": area, "head": head}
            for hid, (area, head) in heads.items()]
    if rows:
        db.session.execute(insert(VoteRoll), rows)
        if db.session.get_bind().dialect.name == "postgresql":
            # Thousands of rows just written: without statistics the planner takes the roll for
            # a few rows and joins it by scanning it per ballot (seconds per count). ANALYZE in
            # this transaction counts its own new rows; the function runs it as the table's owner
            # (the application's role may not), migration e8b4c2d6f0a3.
            db.session.execute(text("SELECT analyze_vote_roll()"))
    vote.roll_on = day
    db.session.flush()
    return len(rows)


def on_roll(vote: OwnerVote, household_id: int) -> VoteRoll | None:
    return db.session.execute(select(VoteRoll).where(VoteRoll.vote_id == vote.id,
                                                     VoteRoll.household_id == household_id)).scalar_one_or_none()


def count(vote: OwnerVote, items: list[VoteItem]) -> list[tuple[VoteItem, counting.Decision]]:
    """Each item's decision from the roll and the ballots: two aggregate statements."""
    total_area, total_heads = db.session.execute(
        select(func.coalesce(func.sum(VoteRoll.area_centi), 0), func.count(distinct(VoteRoll.head)))
        .where(VoteRoll.vote_id == vote.id)).one()
    # Per item and owner: the area that took part, the area that agreed, and whether every
    # voting unit of the owner agreed (a person agrees only if all of their units did).
    agree = BallotChoice.choice == "agree"
    per_head = (select(BallotChoice.item_id.label("item_id"),
                       func.sum(VoteRoll.area_centi).label("part_area"),
                       func.sum(case((agree, VoteRoll.area_centi), else_=0)).label("agree_area"),
                       func.min(case((agree, 1), else_=0)).label("all_agree"))
                .join(Ballot, Ballot.id == BallotChoice.ballot_id)
                .join(VoteRoll, and_(VoteRoll.vote_id == Ballot.vote_id, VoteRoll.household_id == Ballot.household_id))
                .where(Ballot.vote_id == vote.id, BallotChoice.item_id.in_([i.id for i in items]))
                .group_by(BallotChoice.item_id, VoteRoll.head)).subquery()
    sums = {r.item_id: r for r in db.session.execute(
        select(per_head.c.item_id, func.sum(per_head.c.part_area).label("part_area"),
               func.sum(per_head.c.agree_area).label("agree_area"), func.count().label("part_heads"),
               func.sum(per_head.c.all_agree).label("agree_heads"))
        .group_by(per_head.c.item_id))}
    out = []
    for item in items:
        r = sums.get(item.id)
        part = (int(r.part_area), int(r.agree_area), int(r.part_heads), int(r.agree_heads)) if r else (0, 0, 0, 0)
        out.append((item, counting.decision(vote.matter, int(total_area), part[0], part[1], int(total_heads),
                                            part[2], part[3])))
    return out


def roll_units(vote: OwnerVote) -> list[counting.Unit]:
    """The roll as counting.Unit values (owner key = head), for callers of the plain rule."""
    return [counting.Unit(hid, area, "" if head.startswith("u:") else head, head == DEVELOPER)
            for hid, area, head in db.session.execute(
                select(VoteRoll.household_id, VoteRoll.area_centi, VoteRoll.head)
                .where(VoteRoll.vote_id == vote.id).order_by(VoteRoll.household_id))]
