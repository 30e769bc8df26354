"""The staff dashboard's figures, read from the monthly snapshots: the district's, a street's and
a community's from their sums per month (NodeMonth, written with each snapshot), a compound's and
a community's compounds from the compounds' rows (CompoundMonth). A fixed number of queries,
each reading a dozen or so rows, whatever the number of compounds. Plain functions, no request.
The statements depend on the membership, the focus and the day only (the months read are bound
parameters): built once per scope, focus and day (`policy.built`), run on each request.

A focus is one node of the tree — the district, a street, a community or a compound — and
the dashboard shows its figures month by month plus a table of its children (streets,
communities, compounds; for a compound, its months). Which nodes a membership may open
follows the policy: a node outside its scope is `NotInScope` (the view answers 404).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import SimpleNamespace
from typing import Callable

from sqlalchemy import bindparam, func, select

from .. import excel, policy
from ..extensions import db
from ..fees.payments import rate_text, rate_value
from ..indicators.definitions import DEFINITIONS, add_months
from ..indicators.models import CompoundMonth as CM, NodeMonth as NM
from ..indicators.rollup import NO_SERVICE, SUM_NAMES, _n, sums
from ..org.models import MANAGEMENT_MODES, Community, Compound, Street
from ..formutil import record_id
from ..demands.logic import hotline_by_month
from ..timeutil import now

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


def focus(mem, level: str | None, street_id=None, community_id=None, compound_id=None) -> Focus:
    """The node the arguments name, within the membership's scope. A level above the role's own
    (a street's staff asking for the district) shows the role's own node; a node outside the
    scope raises NotInScope."""
    top = STAFF[mem.role]
    order = list(LEVELS)
    level = level if level in LEVELS else top
    if order.index(level) < order.index(top):
        level = top
    ids = {"street": record_id(street_id), "community": record_id(community_id), "compound": record_id(compound_id)}
    if level == "street" and top == "street":
        ids["street"] = ids["street"] or mem.street_id
    if level == "community" and top == "community":
        ids["community"] = ids["community"] or mem.community_id
    crumbs = [("全区", {"level": "district"})] if top == "district" else []
    if level == "district":
        return Focus("district", "全区", [], {"level": "district"}, crumbs)
    own = mem.__dict__.get("scope_name")   # read with the request's first row (web._ACTING)
    if level == "street":
        if ids["street"] is None:
            raise NotInScope()
        if own is not None and top == "street" and ids["street"] == mem.street_id:
            # A street's staff on their own street: nothing to look up.
            args = {"level": "street", "street_id": mem.street_id}
            return Focus("street", own, [CM.street_id == mem.street_id], args, [(own, args)])
        s = _one(select(Street.id, Street.name).where(Street.id == ids["street"], policy.visible(mem, Street)))
        args = {"level": "street", "street_id": s.id}
        return Focus("street", s.name, [CM.street_id == s.id], args, crumbs + [(s.name, args)])
    if level == "community":
        if ids["community"] is None:
            raise NotInScope()
        if own is not None and top == "community" and ids["community"] == mem.community_id:
            args = {"level": "community", "community_id": mem.community_id}
            return Focus("community", own, [CM.community_id == mem.community_id], args, [(own, args)])
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


def node_scope(f: Focus):
    """The focus as a scope the policy understands: a street's node reaches what that street's
    staff would, a community's what its staff would, a compound what its committee would. None
    for the district (the membership's own scope is all there is). So every figure of a drilled
    page — the register's counts under the board too — is the node's, never the district's."""
    if f.level == "district":
        return None
    role = {"street": "street_staff", "community": "community_staff", "compound": "committee_member"}[f.level]
    return SimpleNamespace(id=None, role=role, active=True, street_id=f.args.get("street_id"),
                           community_id=f.args.get("community_id"), compound_id=f.args.get("compound_id"),
                           firm_id=None, grid_id=None, department_id=None)


# --- aggregates ---------------------------------------------------------------------------------

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
    mode: str | None = None       # a compound's 管理模式 (compound rows only)

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


def _figures(row, label: str, **extra) -> Figures:
    return Figures(label, **{n: int(getattr(row, n) or 0) for n in SUM_NAMES}, **extra)


def _node(f: Focus):
    """The focus's NodeMonth rows (level and node id); None for a compound (its own rows)."""
    if f.level == "compound":
        return None
    node_id = {"district": 0, "street": f.args.get("street_id"), "community": f.args.get("community_id")}[f.level]
    return [NM.level == f.level, NM.node_id == node_id]


def _key(f: Focus) -> tuple:
    return tuple(sorted(f.args.items()))


def series(mem, f: Focus) -> list[tuple[Figures, dict | None]]:
    """The node's snapshot months of the 12 up to its latest, oldest first, each with its
    distribution (None for a compound's months): one query of at most 12 rows. The focus is in
    the membership's scope (`focus` checked it), so the node's sums are what it may see."""
    return series_and_baseline(mem, f)[0]


def series_and_baseline(mem, f: Focus):
    """`series` and the node's earliest snapshot with its count of 无物业小区 (the 清零 baseline,
    or None), in one statement: the baseline's two columns are subqueries of their own (not
    correlated), read with the months."""
    node = _node(f)

    def build():
        if node is None:
            first = (select(CM.month, _n(NO_SERVICE).label("n")).where(policy.visible(mem, CM), *f.where)
                     .group_by(CM.month).order_by(CM.month).limit(1).subquery())
            return (select(CM.month, CM.taken_at, *sums(), select(first.c.month).scalar_subquery().label("base_month"),
                           select(first.c.n).scalar_subquery().label("base_n"))
                    .where(policy.visible(mem, CM), *f.where)
                    .group_by(CM.month, CM.taken_at).order_by(CM.month.desc()).limit(HISTORY))
        earliest = select(NM.month, NM.no_service).where(*node).order_by(NM.month).limit(1).correlate(None).subquery()
        return (select(NM, select(earliest.c.month).scalar_subquery().label("base_month"),
                       select(earliest.c.no_service).scalar_subquery().label("base_n"))
                .where(*node).order_by(NM.month.desc()).limit(HISTORY))
    rows = db.session.execute(policy.built("board.series", mem, build, _key(f))).all()
    if not rows:
        return [], None
    base = (rows[0].base_month, int(rows[0].base_n or 0))
    if node is not None:
        rows = [r[0] for r in rows]
    first = add_months(rows[0].month, 1 - HISTORY)
    return [(_figures(r, f"{r.month:%Y-%m}", month=r.month, taken_at=r.taken_at), getattr(r, "distribution", None))
            for r in reversed(rows) if r.month >= first], base


def children(mem, f: Focus, months: list[Figures], bills: date | None = None) -> list[Figures]:
    """The table under the charts: the node's children in the latest month, or — for one
    compound — its months. The children's bills are those of the month `bills` (the latest
    month with bills, the one the 缴费率 card shows): this month's are issued after it ends, so
    the latest month would show no 缴费率 at all. Both months in one query. Streets and
    communities are read from their sums, a community's compounds from their own rows."""
    if not months:
        return []
    if f.child is None:
        return list(reversed(months))
    latest = months[-1].month
    read = [latest] + ([bills] if bills is not None and bills != latest else [])
    arg = f"{f.child}_id"
    rows, billed = {}, {}
    for r in db.session.execute(policy.built("board.children", mem, lambda: _children_select(mem, f), _key(f)),
                                {"months": read}):
        if r.month == latest:
            rows[r.key] = _figures(r, r.name, args={"level": f.child, arg: r.key}, month=latest,
                                   mode=getattr(r, "mode", None))
        else:
            billed[r.key] = r
    if len(read) > 1:
        for k, row in rows.items():
            b = billed.get(k)
            row.billed, row.collected = (int(b.billed or 0), int(b.collected or 0)) if b else (0, 0)
    return list(rows.values())


def _children_select(mem, f: Focus):
    """The children's rows of the months bound as `months`."""
    read = bindparam("months", expanding=True)
    if f.child == "compound":
        return (select(CM.compound_id.label("key"), Compound.name.label("name"), CM.month.label("month"), *sums(),
                       func.max(CM.management_mode).label("mode"))
                .join(Compound, Compound.id == CM.compound_id)
                .where(policy.visible(mem, CM), CM.month.in_(read), *f.where)
                .group_by(CM.compound_id, Compound.name, CM.month).order_by(Compound.name))
    model = {"street": Street, "community": Community}[f.child]
    under = [NM.level == f.child] + ([NM.street_id == f.args["street_id"]] if f.level == "street" else [])
    return (select(NM.node_id.label("key"), model.name.label("name"), NM.month.label("month"),
                   *[getattr(NM, n).label(n) for n in SUM_NAMES])
            .join(model, model.id == NM.node_id).where(*under, NM.month.in_(read)).order_by(model.name))


def distribution(mem, f: Focus, month: date, kept: dict | None) -> dict:
    """Management modes, stars and lists of the node's compounds in the month: the node's
    kept distribution, or for one compound its row."""
    modes = {mode: 0 for mode in MANAGEMENT_MODES}
    stars = {s: 0 for s in STARS}
    lists = {k: 0 for k in LIST_LABELS}
    if kept is None:
        kept = {"modes": {}, "stars": {}, "lists": {}}
        stmt = policy.built("board.distribution", mem, lambda: (
            select(CM.management_mode, CM.stars, CM.list_kind, func.count(CM.id))
            .where(policy.visible(mem, CM), CM.month == bindparam("month"), *f.where)
            .group_by(CM.management_mode, CM.stars, CM.list_kind)), _key(f))
        for mode, star, kind, n in db.session.execute(stmt, {"month": month}):
            kept["modes"][mode] = kept["modes"].get(mode, 0) + n
            if star is not None:
                kept["stars"][str(star)] = kept["stars"].get(str(star), 0) + n
            if kind is not None:
                kept["lists"][kind] = kept["lists"].get(kind, 0) + n
    for mode, n in kept["modes"].items():
        modes[mode] = modes.get(mode, 0) + n
    rated = 0
    for star, n in kept["stars"].items():
        stars[int(star)] = stars.get(int(star), 0) + n
        rated += n
    for kind, n in kept["lists"].items():
        if kind in lists:
            lists[kind] += n
    return {"modes": modes, "stars": stars, "lists": lists, "rated": rated or sum(lists.values())}


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


@dataclass(frozen=True)
class Column:
    """One column of the table under the charts (and of the Excel export): its heading (with a
    note such as the bills' month, on a second line on the page), how a row shows it and how the
    node's 合计 row does (the row's way when None), and the values the page marks in red."""
    label: str
    cell: Callable[[Figures], object]
    sum_cell: Callable[[Figures], object] | None = None
    align: str = "end"            # text-end, text-center, text-start
    note: str | None = None
    alert: tuple = ()
    number: Callable[[Figures], object] | None = None      # the export's cell when not the page's text
    sum_number: Callable[[Figures], object] | None = None  # … and the 合计 row's

    @property
    def title(self) -> str:
        return f"{self.label}（{self.note}）" if self.note else self.label

    def total(self, r: Figures):
        return (self.sum_cell or self.cell)(r)

    def export(self, r: Figures):
        return cell_text((self.number or self.cell)(r))

    def export_total(self, r: Figures):
        return cell_text((self.sum_number or self.number or self.sum_cell or self.cell)(r))


@dataclass(frozen=True)
class Share:
    """A 合计 over compounds shown 有/无: how many have it of how many, and the rate —
    '9/15（60.0%）', the rate on a second line on the page."""
    n: int
    of: int
    rate: str

    def __str__(self) -> str:
        return f"{self.n}/{self.of}（{self.rate}）"

    def __html__(self) -> str:
        return f'{self.n}/{self.of}<span class="d-block small fw-normal">（{self.rate}）</span>'


def cell_text(value):
    """A cell as the export writes it (numbers stay numbers, rates are excel.Num fractions)."""
    return value if isinstance(value, (int, float, str, excel.Num)) or value is None else str(value)


def _rate(rate):
    return lambda r: r.text(rate)


def _fraction(rate):
    return lambda r: excel.pct(*(getattr(r, a) for a in Figures.RATES[rate]))


def _rate_column(label, rate, note=None) -> Column:
    """A rate: its text on the page, its fraction with a percent format in the export."""
    return Column(label, _rate(rate), note=note, number=_fraction(rate))


def _has(attr, yes="有", no="无"):
    return lambda r: yes if getattr(r, attr) else no


def _share(attr, rate):
    return lambda r: Share(getattr(r, attr), r.compounds, r.text(rate))


def _month_text(month: date, beside: date | None) -> str:
    """'10月', or '2025年12月' when the year is not the one of `beside`."""
    return f"{month.month}月" if beside and month.year == beside.year else f"{month.year}年{month.month}月"


def _tail(bills: str | None) -> list[Column]:
    return [Column("诉求受理", lambda r: r.received), _rate_column("按时办结率", "on_time_rate"),
            Column("逾期", lambda r: r.overdue), _rate_column("满意率", "satisfaction_rate"),
            _rate_column("缴费率", "collection_rate", bills), _rate_column("公示按时率", "publicity_rate")]


# Months (one compound's table, the trend sheet): each month with its own bills.
COLUMNS = [Column("小区数", lambda r: r.compounds), _rate_column("业委会(物管会)组建率", "committee_rate"),
           _rate_column("物业服务覆盖率", "service_rate"), _rate_column("党的组织覆盖率", "party_rate"),
           Column("无物业小区", lambda r: r.no_service), *_tail(None)]


def columns(child: str | None, latest: date | None, bills: date | None) -> list[Column]:
    """The columns of the table under the charts. Streets and communities get the 三率 over their
    compounds; a community's compounds get what one compound has (its 管理模式, 有/无) rather
    than rates over a single compound, with how many of all and the rates in the 合计 row. The
    children's 缴费率 is of the month the card shows, named in the heading."""
    if child is None:
        return COLUMNS
    note = _month_text(bills, latest) if bills else None
    if child != "compound":
        return [*COLUMNS[:5], *_tail(note)]
    return [Column("管理模式", lambda r: r.mode or "", lambda r: "", "start"),
            Column("业委会(物管会)", _has("committee"), _share("committee", "committee_rate"), "center", alert=("无",),
                   sum_number=_fraction("committee_rate")),
            Column("物业服务", _has("service"), _share("service", "service_rate"), "center", alert=("无",),
                   sum_number=_fraction("service_rate")),
            Column("党的组织", _has("party"), _share("party", "party_rate"), "center", alert=("无",),
                   sum_number=_fraction("party_rate")),
            Column("无物业小区", _has("no_service", "是", "否"), lambda r: r.no_service, "center", alert=("是",)),
            *_tail(note)]


def cells(rows: list, cols: list[Column]) -> list[tuple]:
    """Each row with its cells as the page shows them, (class, value): worked out here once, not
    by the template calling each column per cell (a community's nineteen compounds by fifteen
    columns were a third of its landing page's template time)."""
    classes = [(f"text-{c.align}", f"text-{c.align} text-danger", c.alert) for c in cols]
    out = []
    for r in rows:
        row = []
        for c, (plain, red, alert) in zip(cols, classes):
            v = c.cell(r)
            row.append((red if v in alert else plain, v))
        out.append((r, row))
    return out


# How each chart's table shows a month (the same texts as the cards and the export).
FMT = SimpleNamespace(
    committee=lambda r: r.text("committee_rate"), service=lambda r: r.text("service_rate"),
    party=lambda r: r.text("party_rate"), no_service=lambda r: r.no_service, compounds=lambda r: r.compounds,
    received=lambda r: r.received, on_time=lambda r: r.text("on_time_rate"), overdue=lambda r: r.overdue,
    satisfaction=lambda r: r.text("satisfaction_rate"), collection=lambda r: r.text("collection_rate"),
    publicity=lambda r: r.text("publicity_rate"))


def volunteering(mem, f: Focus) -> dict | None:
    """党员志愿服务 of the node by child (streets of the district, communities of a street or the
    community itself), read live: volunteers are kept per community, not in the snapshots. None
    for a compound."""
    from ..volunteers.logic import FIGURES, counts_by_unit   # volunteers is another area

    if f.level == "compound":
        return None
    by = "street" if f.level == "district" else "community"
    model = Street if by == "street" else Community
    units = select(model.id, model.name).where(policy.visible(mem, model))
    if f.level == "street":
        units = units.where(Community.street_id == f.args["street_id"])
    elif f.level == "community":
        units = units.where(Community.id == f.args["community_id"])
    rows = [(name, {"level": by, f"{by}_id": node_id}, figures)
            for node_id, name, figures in counts_by_unit(mem, node_scope(f), by, units, _key(f))]
    total = {k: sum(r[2][k] for r in rows) for k in FIGURES}
    return {"rows": rows, "total": total, "level": LEVELS[by]}


def board(mem, f: Focus) -> dict:
    months_with, base = series_and_baseline(mem, f)
    months = [m for m, _ in months_with]
    latest = months[-1] if months else None
    # 12345 热线诉求量 by month, read live from the demands of the node (one grouped query): the
    # snapshots count demands by compound, not by channel.
    hotline = [(f"{m:%Y年%m月}", n) for m, n in hotline_by_month(node_scope(f) or mem, now())]
    out = {"focus": f, "months": months, "latest": latest, "definitions": DEFINITIONS, "hotline": hotline,
           "volunteering": volunteering(mem, f),
           "levels": LEVELS, "star_levels": STARS, "list_labels": LIST_LABELS, "fmt": FMT,
           "columns": columns(f.child, None, None)}
    if latest is None:
        return out
    # The latest month with bills (this month's are issued after it ends): the 缴费率 card's, and
    # that of the children's table and its 合计 row (the latest month's figures, with its bills).
    billed = next((m for m in reversed(months) if m.billed), None)
    bills = billed.month if billed else None
    total = replace(latest, billed=billed.billed, collected=billed.collected) if billed else latest
    cols = columns(f.child, latest.month, bills)
    out.update(billed=billed, rows=cells(children(mem, f, months, bills), cols), total=total, columns=cols,
               dist=distribution(mem, f, latest.month, months_with[-1][1]),
               clearing=clearing(base, latest.no_service), chart=chart_data(months))
    return out


# --- export -------------------------------------------------------------------------------------

def workbook(data: dict):
    """The table shown (children or months) and the month-by-month figures, as Excel."""
    from openpyxl import Workbook

    f, months, cols = data["focus"], data["months"], data["columns"]
    wb = Workbook()
    ws = wb.active
    ws.title = "分项"
    first = LEVELS[f.child] if f.child else "月份"
    ws.append([first, *[c.title for c in cols]])
    for r, _ in data.get("rows", []):
        excel.append(ws, [r.label, *[c.export(r) for c in cols]])
    if f.child and data.get("total"):
        excel.append(ws, [f"{f.title}合计", *[c.export_total(data["total"]) for c in cols]])
    trend = wb.create_sheet("月度趋势")
    trend.append(["月份", *[c.title for c in COLUMNS], "数据截至"])
    from ..timeutil import fmt_datetime
    for m in months:
        excel.append(trend, [m.label, *[c.export(m) for c in COLUMNS], fmt_datetime(m.taken_at)])
    notes = wb.create_sheet("口径说明")
    notes.append(["指标", "口径"])
    for label, text in DEFINITIONS.values():
        notes.append([label, text])
    for sheet in (ws, trend):
        sheet.column_dimensions["A"].width = 22
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100
    return wb
