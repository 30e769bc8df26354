"""The staff dashboard's figures, read from the monthly snapshots (CompoundMonth) with GROUP BY:
a fixed number of queries whatever the number of compounds. Plain functions, no request.

A focus is one node of the tree — the district, a street, a community or a compound — and
the dashboard shows its figures month by month plus a table of its children (streets,
communities, compounds; for a compound, its months). Which nodes a membership may open
follows the policy: a node outside its scope is `NotInScope` (the view answers 404).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import case, func, select

from .. import policy
from ..extensions import db
from ..fees.payments import rate_text, rate_value
from ..indicators.definitions import DEFINITIONS, NO_SERVICE_MODE
from ..indicators.models import CompoundMonth as CM
from ..org.models import MANAGEMENT_MODES, Community, Compound, Street

LEVELS = {"district": "全区", "street": "街道", "community": "社区", "compound": "小区"}
CHILD = {"district": "street", "street": "community", "community": "compound", "compound": None}
STAFF = {"district_admin": "district", "street_staff": "street", "community_staff": "community"}
HISTORY = 12
STARS = [5, 4, 3, 2, 1, 0]
LIST_LABELS = {"red": "红榜", "yellow": "黄榜", "black": "黑榜"}


class NotInScope(LookupError):
    """The requested node does not exist or lies outside the membership's scope."""


def is_staff(mem) -> bool:
    return mem is not None and mem.role in STAFF


@dataclass
class Focus:
    level: str
    title: str
    where: list
    args: dict                       # query arguments naming this focus (links, export)
    crumbs: list = field(default_factory=list)   # [(label, args)] from the role's top down

    @property
    def child(self) -> str | None:
        return CHILD[self.level]


def _one(stmt):
    row = db.session.execute(stmt).first()
    if row is None:
        raise NotInScope()
    return row


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def focus(mem, level: str | None, street_id=None, community_id=None, compound_id=None) -> Focus:
    """The node the arguments name, within the membership's scope. A level above the role's own
    (a street's staff asking for the district) shows the role's own node; a node outside the
    scope raises NotInScope."""
    top = STAFF[mem.role]
    order = list(LEVELS)
    level = level if level in LEVELS else top
    if order.index(level) < order.index(top):
        level = top
    ids = {"street": _int(street_id), "community": _int(community_id), "compound": _int(compound_id)}
    if level == "street" and top == "street":
        ids["street"] = ids["street"] or mem.street_id
    if level == "community" and top == "community":
        ids["community"] = ids["community"] or mem.community_id
    crumbs = [("全区", {"level": "district"})] if top == "district" else []
    if level == "district":
        return Focus("district", "全区", [], {"level": "district"}, crumbs)
    if level == "street":
        if ids["street"] is None:
            raise NotInScope()
        s = _one(select(Street.id, Street.name).where(Street.id == ids["street"], policy.visible(mem, Street)))
        args = {"level": "street", "street_id": s.id}
        return Focus("street", s.name, [CM.street_id == s.id], args, crumbs + [(s.name, args)])
    if level == "community":
        if ids["community"] is None:
            raise NotInScope()
        c = _one(select(Community.id, Community.name, Street.id.label("street_id"), Street.name.label("street"))
                 .join(Street, Street.id == Community.street_id)
                 .where(Community.id == ids["community"], policy.visible(mem, Community)))
        args = {"level": "community", "community_id": c.id}
        if top in ("district", "street"):
            crumbs.append((c.street, {"level": "street", "street_id": c.street_id}))
        return Focus("community", c.name, [CM.community_id == c.id], args, crumbs + [(c.name, args)])
    if ids["compound"] is None:
        raise NotInScope()
    p = _one(select(Compound.id, Compound.name, Community.id.label("community_id"), Community.name.label("community"),
                    Street.id.label("street_id"), Street.name.label("street"))
             .join(Community, Community.id == Compound.community_id).join(Street, Street.id == Community.street_id)
             .where(Compound.id == ids["compound"], policy.visible(mem, Compound)))
    if top in ("district", "street"):
        crumbs.append((p.street, {"level": "street", "street_id": p.street_id}))
    crumbs.append((p.community, {"level": "community", "community_id": p.community_id}))
    args = {"level": "compound", "compound_id": p.id}
    return Focus("compound", p.name, [CM.compound_id == p.id], args, crumbs + [(p.name, args)])


# --- aggregates ---------------------------------------------------------------------------------

def _n(cond):
    return func.sum(case((cond, 1), else_=0))


NO_SERVICE = (CM.management_mode == NO_SERVICE_MODE) & (CM.service_covered.is_(False))


def _sums():
    return [func.count(CM.id).label("compounds"), _n(CM.has_committee.is_(True)).label("committee"),
            _n(CM.service_covered.is_(True)).label("service"), _n(CM.party_org_covered.is_(True)).label("party"),
            _n(CM.party_work_covered.is_(True)).label("party_work"), _n(NO_SERVICE).label("no_service"),
            func.sum(CM.households).label("households"),
            func.sum(CM.demands_received).label("received"), func.sum(CM.demands_due).label("due"),
            func.sum(CM.demands_on_time).label("on_time"), func.sum(CM.demands_overdue).label("overdue"),
            func.sum(CM.demands_visited).label("visited"), func.sum(CM.demands_satisfied).label("satisfied"),
            func.sum(CM.billed_fen).label("billed"), func.sum(CM.collected_fen).label("collected"),
            func.sum(CM.publicity_due).label("pub_due"), func.sum(CM.publicity_on_time).label("pub_on_time")]


@dataclass
class Figures:
    """One node's (or child's) sums for one month, with the rates the page shows."""
    label: str
    compounds: int = 0
    committee: int = 0
    service: int = 0
    party: int = 0
    party_work: int = 0
    no_service: int = 0
    households: int = 0
    received: int = 0
    due: int = 0
    on_time: int = 0
    overdue: int = 0
    visited: int = 0
    satisfied: int = 0
    billed: int = 0
    collected: int = 0
    pub_due: int = 0
    pub_on_time: int = 0
    args: dict | None = None      # drill-down link
    month: date | None = None
    taken_at: datetime | None = None

    RATES = {"committee_rate": ("committee", "compounds"), "service_rate": ("service", "compounds"),
             "party_rate": ("party", "compounds"), "on_time_rate": ("on_time", "due"),
             "satisfaction_rate": ("satisfied", "visited"), "collection_rate": ("collected", "billed"),
             "publicity_rate": ("pub_on_time", "pub_due")}

    def text(self, rate: str) -> str:
        num, den = self.RATES[rate]
        return rate_text(getattr(self, num), getattr(self, den))

    def value(self, rate: str) -> float | None:
        num, den = self.RATES[rate]
        return rate_value(getattr(self, num), getattr(self, den))


_SUM_NAMES = [c.name for c in _sums()]   # once: building the expressions per row was half the board's time


def _figures(row, label: str, **extra) -> Figures:
    return Figures(label, **{n: int(getattr(row, n) or 0) for n in _SUM_NAMES}, **extra)


def series(mem, f: Focus) -> list[Figures]:
    """The node's last 12 snapshot months, oldest first."""
    stmt = (select(CM.month, func.max(CM.taken_at).label("taken_at"), *_sums())
            .where(policy.visible(mem, CM), *f.where).group_by(CM.month).order_by(CM.month.desc()).limit(HISTORY))
    rows = db.session.execute(stmt).all()
    return [_figures(r, f"{r.month:%Y-%m}", month=r.month, taken_at=r.taken_at) for r in reversed(rows)]


def children(mem, f: Focus, months: list[Figures]) -> list[Figures]:
    """The table under the charts: the node's children in the latest month, or — for one
    compound — its months."""
    if not months:
        return []
    if f.child is None:
        return list(reversed(months))
    latest = months[-1].month
    key = {"street": CM.street_id, "community": CM.community_id, "compound": CM.compound_id}[f.child]
    model = {"street": Street, "community": Community, "compound": Compound}[f.child]
    stmt = (select(key.label("key"), model.name.label("name"), *_sums()).join(model, model.id == key)
            .where(policy.visible(mem, CM), CM.month == latest, *f.where)
            .group_by(key, model.name).order_by(model.name))
    arg = f"{f.child}_id"
    return [_figures(r, r.name, args={"level": f.child, arg: r.key}) for r in db.session.execute(stmt)]


def distribution(mem, f: Focus, month: date) -> dict:
    """Management modes, stars and lists of the node's compounds in the month: one query."""
    rows = db.session.execute(
        select(CM.management_mode, CM.stars, CM.list_kind, func.count(CM.id))
        .where(policy.visible(mem, CM), CM.month == month, *f.where)
        .group_by(CM.management_mode, CM.stars, CM.list_kind)).all()
    modes = {mode: 0 for mode in MANAGEMENT_MODES}
    stars = {s: 0 for s in STARS}
    lists = {k: 0 for k in LIST_LABELS}
    rated = 0
    for mode, star, kind, n in rows:
        modes[mode] = modes.get(mode, 0) + n
        if star is not None:
            stars[star] = stars.get(star, 0) + n
            rated += n
        if kind in lists:
            lists[kind] += n
    return {"modes": modes, "stars": stars, "lists": lists, "rated": rated or sum(lists.values())}


def baseline(mem, f: Focus) -> tuple[date, int] | None:
    """The earliest snapshot kept for the node and its count of 无物业小区 (the 清零 baseline)."""
    row = db.session.execute(select(CM.month, _n(NO_SERVICE).label("n"))
                             .where(policy.visible(mem, CM), *f.where)
                             .group_by(CM.month).order_by(CM.month).limit(1)).first()
    return (row.month, int(row.n or 0)) if row else None


def clearing(base: tuple[date, int] | None, now: int) -> dict:
    """清零进度: how much of the baseline's 无物业小区 are gone."""
    if base is None:
        return {"baseline": None, "month": None, "now": now, "text": "—", "pct": 0}
    month, n = base
    if n <= 0:
        return {"baseline": n, "month": month, "now": now, "text": "已清零" if now == 0 else "—",
                "pct": 100 if now == 0 else 0}
    done = max(n - now, 0)
    return {"baseline": n, "month": month, "now": now, "text": rate_text(done, n),
            "pct": rate_value(done, n) or 0}


def chart_data(months: list[Figures]) -> dict:
    """The charts' numbers (rates in percent, None for a month with nothing to measure)."""
    return {
        "labels": [m.label for m in months],
        "rates": {k: [m.value(k) for m in months] for k in Figures.RATES},
        "counts": {k: [getattr(m, k) for m in months] for k in ("no_service", "received", "overdue", "compounds")},
    }


COLUMNS = [("小区数", lambda r: r.compounds), ("业委会(物管会)组建率", lambda r: r.text("committee_rate")),
           ("物业服务覆盖率", lambda r: r.text("service_rate")), ("党的组织覆盖率", lambda r: r.text("party_rate")),
           ("无物业小区", lambda r: r.no_service), ("诉求受理", lambda r: r.received),
           ("按时办结率", lambda r: r.text("on_time_rate")), ("逾期", lambda r: r.overdue),
           ("满意率", lambda r: r.text("satisfaction_rate")), ("缴费率", lambda r: r.text("collection_rate")),
           ("公示按时率", lambda r: r.text("publicity_rate"))]


# How each chart's table shows a month (the same texts as the cards and the export).
FMT = SimpleNamespace(
    committee=lambda r: r.text("committee_rate"), service=lambda r: r.text("service_rate"),
    party=lambda r: r.text("party_rate"), no_service=lambda r: r.no_service, compounds=lambda r: r.compounds,
    received=lambda r: r.received, on_time=lambda r: r.text("on_time_rate"), overdue=lambda r: r.overdue,
    satisfaction=lambda r: r.text("satisfaction_rate"), collection=lambda r: r.text("collection_rate"),
    publicity=lambda r: r.text("publicity_rate"))


def board(mem, f: Focus) -> dict:
    months = series(mem, f)
    latest = months[-1] if months else None
    out = {"focus": f, "months": months, "latest": latest, "definitions": DEFINITIONS,
           "levels": LEVELS, "star_levels": STARS, "list_labels": LIST_LABELS, "fmt": FMT, "columns": COLUMNS}
    if latest is None:
        return out
    # The latest month with bills (this month's are issued after it ends).
    billed = next((m for m in reversed(months) if m.billed), None)
    out.update(billed=billed, rows=children(mem, f, months), dist=distribution(mem, f, latest.month),
               clearing=clearing(baseline(mem, f), latest.no_service), chart=chart_data(months))
    return out


# --- export -------------------------------------------------------------------------------------

def workbook(data: dict):
    """The table shown (children or months) and the month-by-month figures, as Excel."""
    from openpyxl import Workbook

    f, months = data["focus"], data["months"]
    wb = Workbook()
    ws = wb.active
    ws.title = "分项"
    first = LEVELS[f.child] if f.child else "月份"
    ws.append([first, *[c for c, _ in COLUMNS]])
    for r in data.get("rows", []):
        ws.append([r.label, *[fn(r) for _, fn in COLUMNS]])
    if f.child and data.get("latest"):
        ws.append([f"{f.title}合计", *[fn(data["latest"]) for _, fn in COLUMNS]])
    trend = wb.create_sheet("月度趋势")
    trend.append(["月份", *[c for c, _ in COLUMNS], "数据截至"])
    from ..timeutil import fmt_datetime
    for m in months:
        trend.append([m.label, *[fn(m) for _, fn in COLUMNS], fmt_datetime(m.taken_at)])
    notes = wb.create_sheet("口径说明")
    notes.append(["指标", "口径"])
    for label, text in DEFINITIONS.values():
        notes.append([label, text])
    for sheet in (ws, trend):
        sheet.column_dimensions["A"].width = 22
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100
    return wb
