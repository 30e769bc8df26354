"""Meeting cadence: which meetings each community and street must hold, and which periods passed
without one. Plain functions.

Rules (001 潞州: 社区每月召开 1+3+N 联席会议、街道每季度; 003: 周民情恳谈会、月问题协调会、季工作评监会):
1. The district keeps a list of cadences: a level (社区 / 街道 / 区级), a kind of meeting and how often
   (每周 / 每月 / 每季度). A new district starts with 001's two (DEFAULTS); the district changes them.
2. A period counts as held when a meeting of that level and kind was held in it (recorded as
   召开, with or without published minutes), at the unit's own level: a community's own meeting,
   a street's own meeting, the district's joint meeting (002 全区物业管理联席会议; the district is
   one unit, 全区); the day is its held time in Asia/Shanghai.
3. A period is missed only once it is over: the running period is 进行中 until its last day.
   Weeks run Monday to Sunday; quarters are calendar quarters.
4. The page shows the last PERIODS periods of each cadence for every community (street) in scope,
   the district level to the district admin only (who holds those meetings);
   the 待办 counts the units whose last finished period was missed — community staff their
   community's, street staff their communities' and street's, the district admin the district's
   own meetings — once the district has adopted
   its cadences (saved them on the page): until then the defaults are a proposal shown, not a
   duty that flags every community of a district that has just started.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import bindparam, case, func, literal, select

from .. import policy
from ..auth.models import Membership
from ..extensions import db, kept_row
from ..org.models import Community, Street
from ..timeutil import SHANGHAI, local, today
from .models import EVERY, KINDS, LEVELS, Meeting, MeetingCadence

DEFAULTS = [("community", "joint", "month"), ("street", "joint", "quarter")]
PERIODS = 6
HELD = ("held", "published")


class CadenceProblem(ValueError):
    def __init__(self, message: str, field: str = "kind"):
        super().__init__(message)
        self.message = message
        self.field = field


def cadences(active_only: bool = True) -> list[MeetingCadence]:
    """The district's cadences; until it changes them, the defaults (rule 1), not written: a page
    read writes nothing."""
    rows = db.session.execute(select(MeetingCadence).order_by(MeetingCadence.level, MeetingCadence.id)).scalars().all()
    if not rows:
        rows = [MeetingCadence(level=lv, kind=k, every=e, active=True) for lv, k, e in DEFAULTS]
    return [c for c in rows if c.active or not active_only]


def _written() -> None:
    """The defaults become the district's own rows the first time it changes anything."""
    if db.session.execute(select(MeetingCadence.id).limit(1)).first() is None:
        db.session.add_all([MeetingCadence(level=lv, kind=k, every=e, active=True) for lv, k, e in DEFAULTS])
        db.session.flush()


def save_cadence(level: str, kind: str, every: str) -> MeetingCadence:
    if level not in LEVELS:
        raise CadenceProblem("请选择层级。", "level")
    if kind not in KINDS:
        raise CadenceProblem("请选择会议类型。", "kind")
    if every not in EVERY:
        raise CadenceProblem("请选择召开频次。", "every")
    _written()
    found = db.session.execute(select(MeetingCadence).where(
        MeetingCadence.level == level, MeetingCadence.kind == kind)).scalar_one_or_none()
    if found is None:
        found = MeetingCadence(level=level, kind=kind)
        db.session.add(found)
    found.every, found.active = every, True
    db.session.flush()
    return found


def stop_cadence(level: str, kind: str) -> MeetingCadence:
    _written()
    c = db.session.execute(select(MeetingCadence).where(
        MeetingCadence.level == level, MeetingCadence.kind == kind, MeetingCadence.active.is_(True))).scalar_one_or_none()
    if c is None:
        raise CadenceProblem("没有这项在用的会议频次要求。", "kind")
    c.active = False
    db.session.flush()
    return c


def period_start(every: str, day: date) -> date:
    if every == "week":
        return day - timedelta(days=day.weekday())
    if every == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_start(every: str, start: date) -> date:
    if every == "week":
        return start + timedelta(days=7)
    months = 1 if every == "month" else 3
    y, m = divmod(start.month - 1 + months, 12)
    return date(start.year + y, m + 1, 1)


def periods(every: str, on: date, n: int = PERIODS) -> list[tuple[date, date]]:
    """The last n periods, oldest first, the running one last: (first day, day after the last)."""
    start = period_start(every, on)
    out = [(start, next_start(every, start))]
    while len(out) < n:
        prev = period_start(every, out[0][0] - timedelta(days=1))
        out.insert(0, (prev, out[0][0]))
    return out


def period_label(every: str, start: date) -> str:
    if every == "week":
        return f"{start:%m-%d}周"
    if every == "month":
        return f"{start.year}年{start.month}月"
    return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"


@dataclass
class Row:
    unit_id: int
    name: str
    held: list[int]          # meetings held in each period, oldest first
    missed_last: bool        # the last finished period had none (rule 3)


DISTRICT_UNIT = (0, "全区")   # the district level's one unit


def shown(m: Membership, c: MeetingCadence) -> bool:
    """A district-level cadence is the district admin's (streets and communities see no district
    meeting, so they could not tell whether it was held)."""
    return c.level != "district" or m.role == policy.DISTRICT


def _unit_col(level: str):
    if level == "community":
        return Meeting.community_id
    if level == "street":
        return Meeting.street_id
    return literal(DISTRICT_UNIT[0])


def _units(m: Membership, level: str):
    if level == "district":
        return [DISTRICT_UNIT] if m.role == policy.DISTRICT else []
    model = Community if level == "community" else Street
    return db.session.execute(policy.built("cadence.units", m, lambda: select(model.id, model.name).where(
        policy.visible(m, model)).order_by(model.name), level)).all()


def compliance(m: Membership, c: MeetingCadence, on: date | None = None) -> tuple[list, list[Row]]:
    """The periods (with labels and whether each is over) and a row per unit in scope."""
    on = on or today()
    spans = periods(c.every, on)
    first = datetime.combine(spans[0][0], time(), SHANGHAI)
    unit_col = _unit_col(c.level)
    held: dict[int, list[int]] = {}
    for unit_id, at in db.session.execute(select(unit_col, Meeting.held_at).where(
            policy.visible(m, Meeting), Meeting.level == c.level, Meeting.kind == c.kind,
            Meeting.status.in_(HELD), Meeting.held_at.is_not(None), Meeting.held_at >= _naive_utc(first))):
        day = local(at).date()
        for i, (a, b) in enumerate(spans):
            if a <= day < b:
                held.setdefault(unit_id, [0] * len(spans))[i] += 1
    rows = []
    for unit_id, name in _units(m, c.level):
        counts = held.get(unit_id, [0] * len(spans))
        rows.append(Row(unit_id, name, counts, counts[-2] == 0))
    cols = [(period_label(c.every, a), b <= on) for a, b in spans]
    return cols, rows


def _naive_utc(dt: datetime) -> datetime:
    """Stored times are naive UTC."""
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def adopted() -> bool:
    return db.session.execute(select(MeetingCadence.id).limit(1)).first() is not None


def adopt_defaults() -> None:
    """The district takes the defaults as its own (the page's 采用 button, the demo)."""
    _written()


def missed_last(m: Membership, on: date | None = None) -> list[tuple[MeetingCadence, int]]:
    """For the 待办: each adopted active cadence of the viewer's level with the number of its units
    that missed the last finished period (rule 4) — `compliance`'s `missed_last` rows, counted
    by the database in one statement for all the cadences (each a count of the scope's units
    without a meeting held in its period), after the one reading the cadences."""
    rows = db.session.execute(select(MeetingCadence).order_by(MeetingCadence.level, MeetingCadence.id)).scalars().all()
    levels = {"community_staff": {"community"}, "street_staff": {"community", "street"},
              policy.DISTRICT: {"district"}}.get(m.role, set())
    wanted = [c for c in rows if c.active and c.level in levels]
    if not wanted:
        return []   # not adopted (no rows), or nothing of this level
    on = on or today()
    params = {}
    for i, c in enumerate(wanted):
        a, b = periods(c.every, on, 2)[0]   # the last finished period
        params[f"start{i}"], params[f"end{i}"] = (_naive_utc(datetime.combine(day, time(), SHANGHAI))
                                                  for day in (a, b))
    # Built once per scope and list of (level, kind); the periods come as parameters.
    stmt = policy.built("cadence.missed", m, lambda: _missed_select(m, wanted),
                        tuple((c.level, c.kind) for c in wanted))
    counts = kept_row(stmt, params)
    return [(c, n) for c, n in zip(wanted, counts) if n]


def _missed_select(m: Membership, wanted: list[MeetingCadence]):
    def held(i: int, c: MeetingCadence, unit_col, unit_id):
        return select(Meeting.id).where(
            policy.visible(m, Meeting), Meeting.level == c.level, Meeting.kind == c.kind,
            Meeting.status.in_(HELD), unit_col == unit_id,
            Meeting.held_at >= bindparam(f"start{i}"), Meeting.held_at < bindparam(f"end{i}")).exists()

    counts = []
    for i, c in enumerate(wanted):
        if c.level == "district":
            # The district is one unit (its joint meeting), the district admin's alone.
            counts.append(case((held(i, c, literal(DISTRICT_UNIT[0]), DISTRICT_UNIT[0]), 0), else_=1))
            continue
        unit = Community if c.level == "community" else Street
        counts.append(select(func.count(unit.id)).where(
            policy.visible(m, unit), ~held(i, c, _unit_col(c.level), unit.id)).scalar_subquery())
    return select(*counts)
