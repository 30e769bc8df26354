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

from sqlalchemy import bindparam, literal, select

from .. import policy
from ..auth.models import Membership
from ..extensions import db
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
    with one query of the meetings in those periods and one of the units per level, however
    many cadences."""
    rows = db.session.execute(select(MeetingCadence).order_by(MeetingCadence.level, MeetingCadence.id)).scalars().all()
    levels = {"community_staff": {"community"}, "street_staff": {"community", "street"},
              policy.DISTRICT: {"district"}}.get(m.role, set())
    wanted = [c for c in rows if c.active and c.level in levels]
    if not wanted:
        return []   # not adopted (no rows), or nothing of this level
    on = on or today()
    last = {c.id: periods(c.every, on, 2)[0] for c in wanted}   # the last finished period
    start = datetime.combine(min(a for a, _ in last.values()), time(), SHANGHAI)
    end = datetime.combine(max(b for _, b in last.values()), time(), SHANGHAI)
    levels, kinds = tuple(sorted({c.level for c in wanted})), tuple(sorted({c.kind for c in wanted}))
    # Built once per scope, levels and kinds (policy.built: every landing page of a staff member
    # asks); the period comes as parameters.
    meetings = policy.built("cadence.held", m, lambda: select(
        Meeting.level, Meeting.kind, Meeting.community_id, Meeting.street_id, Meeting.held_at).where(
            policy.visible(m, Meeting), Meeting.level.in_(levels), Meeting.kind.in_(kinds),
            Meeting.status.in_(HELD), Meeting.held_at.is_not(None),
            Meeting.held_at >= bindparam("start"), Meeting.held_at < bindparam("end")), levels, kinds)
    held: set[tuple] = set()
    for lv, kind, community_id, street_id, at in db.session.execute(
            meetings, {"start": _naive_utc(start), "end": _naive_utc(end)}):
        unit = {"community": community_id, "street": street_id}.get(lv, DISTRICT_UNIT[0])
        held.add((lv, kind, unit, local(at).date()))
    units = {lv: [u for u, _ in _units(m, lv)] for lv in levels}
    out = []
    for c in wanted:
        a, b = last[c.id]
        met = {u for lv, kind, u, day in held if lv == c.level and kind == c.kind and a <= day < b}
        n = sum(1 for u in units[c.level] if u not in met)
        if n:
            out.append((c, n))
    return out
