"""Each role's landing page: what waits for it (待办, `todo.py`) and what its slice of the district
holds. Staff (district, street, community) also get the indicators board read from the monthly
snapshots, with drill-down district → street → community → compound, its Excel export and
(district) a refresh."""
from io import BytesIO

from flask import abort, current_app, redirect, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select, true

from .. import policy
from ..extensions import db, kept_row, htmx
from ..indicators import jobs as indicator_jobs
from ..org import models as m
from ..pagecache import Memo, cached_page
from ..tenancy import kept
from ..timeutil import local, now, today
from ..web import current_membership, render, require, tenant_blueprint
from . import board, todo

bp = tenant_blueprint("dashboard", __name__)

COUNTED = [("streets", m.Street, "街道"), ("communities", m.Community, "社区"),
           ("compounds", m.Compound, "小区"), ("households", m.Household, "住户"),
           ("firms", m.Firm, "物业企业"), ("committees", m.Committee, "业委会/物管会")]
# What a drilled node's cards leave out (the node itself and the levels above it).
ABOVE = {"district": set(), "street": {"streets"}, "community": {"streets", "communities"},
         "compound": {"streets", "communities", "compounds"}}


def _focus(mem):
    """The node the query arguments name (404 outside the scope); None for roles without a board."""
    if not board.is_staff(mem):
        return None
    try:
        return board.focus(mem, request.args.get("level"), request.args.get("street_id"),
                           request.args.get("community_id"), request.args.get("compound_id"))
    except board.NotInScope:
        abort(404)


def _register_counts(mem, f) -> dict:
    """The register's live counts in the membership's scope and, on a drilled page, within the
    node (plain values, safe to keep): one statement. Households are the sum of the compounds'
    `household_count` (kept by triggers), so a large district's households are not counted
    row by row on every landing page. The statement is built once per scope, node and day."""
    shown, stmt = policy.built("dashboard.counts", mem, lambda: _counts_select(mem, f),
                               tuple(sorted(f.args.items())) if f is not None else ())
    row = [int(n) for n in kept_row(stmt)]
    counts, total, rest = row[:len(shown)], row[len(shown)], row[len(shown) + 1:]
    modes, party = rest[:len(m.MANAGEMENT_MODES)], rest[len(m.MANAGEMENT_MODES):]
    stats = [(key, label, n) for (key, _, label), n in zip(shown, counts) if n or policy.can(mem, "create")]
    by_mode = [(mode, n, round(n * 100 / total, 1) if total else 0) for mode, n in zip(m.MANAGEMENT_MODES, modes)]
    return {"stats": stats, "by_mode": by_mode, "total": total,
            "party": list(zip(m.PARTY_STATUSES, party)), "list_args": _list_args(f)}


def _counts_select(mem, f):
    node = board.node_scope(f) if f is not None else None
    if node is not None and _reach(node) == _reach(mem):
        node = None   # the staff's own node (their landing page): its clauses again would plan each pass twice

    def where(model):
        return [policy.visible(mem, model)] + ([policy.visible(node, model)] if node else [])

    # The compounds' figures (count, households, each management mode) in one pass over the
    # scope's compounds and the firms' (count, party status) in another: each was a subquery of
    # its own that planned and scanned the scope again (ten passes on a street's page).
    comps = select(func.count(m.Compound.id).label("n"),
                   func.coalesce(func.sum(m.Compound.household_count), 0).label("households"),
                   *[func.count(m.Compound.id).filter(m.Compound.management_mode == mode).label(f"mode{i}")
                     for i, mode in enumerate(m.MANAGEMENT_MODES)]).where(*where(m.Compound)).subquery("comps")
    firms = select(func.count(m.Firm.id).label("n"),
                   *[func.count(m.Firm.id).filter(m.Firm.party_status == status).label(f"party{i}")
                     for i, status in enumerate(m.PARTY_STATUSES)]).where(*where(m.Firm)).subquery("firms")

    def counted(key, model):
        if key == "compounds":
            return comps.c.n
        if key == "households":
            return comps.c.households
        if key == "firms":
            return firms.c.n
        return select(func.count(model.id)).where(*where(model)).scalar_subquery()

    left_out = ABOVE[f.level] if f is not None else set()
    shown = [(key, model, label) for key, model, label in COUNTED if key not in left_out]
    values = [counted(key, model) for key, model, _ in shown]
    values += [comps.c.n]   # all modes: the cards' total
    values += [comps.c[f"mode{i}"] for i in range(len(m.MANAGEMENT_MODES))]
    values += [firms.c[f"party{i}"] for i in range(len(m.PARTY_STATUSES))]
    return shown, kept(select(*values).select_from(comps).join(firms, true()))


def _reach(scope) -> tuple:
    return scope.role, scope.street_id, scope.community_id, scope.compound_id


def _list_args(f) -> dict:
    """Query arguments narrowing the register's lists to the node, where a list has such a filter."""
    if f is None or f.level == "district":
        return {}
    if f.level == "street":
        return {"communities": {"street_id": f.args["street_id"]}, "compounds": {"street": f.args["street_id"]}}
    if f.level == "community":
        return {"compounds": {"community_id": f.args["community_id"]},
                "grids": {"community_id": f.args["community_id"]}}
    return {"households": {"compound_id": f.args["compound_id"]}, "committees": {"compound_id": f.args["compound_id"]}}


# The landing page is the most requested page, and counting a large district's households takes
# tens of milliseconds on PostgreSQL: the counts are kept per membership and node for a short
# while (LANDING_COUNTS_SECONDS, per process), also across writes, which retire the kept page.
_kept_counts = Memo(capacity=4096)


def _counts(mem, f) -> dict:
    ttl = current_app.config["LANDING_COUNTS_SECONDS"]
    if ttl <= 0:
        return _register_counts(mem, f)
    key = (mem.id, tuple(sorted(f.args.items())) if f is not None else ())
    value = _kept_counts.get(key)
    if value is None:
        value = _register_counts(mem, f)
        _kept_counts.put(key, value, ttl)
    return value


@bp.route("/")
@cached_page
def home():
    mem = current_membership()
    f = _focus(mem)
    indicators = board.board(mem, f) if f is not None else None
    if indicators and htmx and not htmx.history_restore_request:
        # A drill-down step: the board and the register's cards under it, both of the node.
        return render("dashboard/home.html", "dashboard/_board.html", ind=indicators, **_counts(mem, f))
    # 待办 is counted on every full page, never kept in `_kept_counts`: the kept page is retired by
    # the next write in the district, so a handled item leaves the count on the next load.
    # A firm sees its own credit grade on its landing page (three statements, firm roles only);
    # the to-do card of open tenders reads its bars from the same standing.
    credit = None
    if mem.role in policy.FIRM_ROLES and mem.firm_id:
        from ..credit.grading import standing  # lazy: credit is another area
        credit = standing(mem.firm_id, today())
    return render("dashboard/home.html", ind=indicators, todo=todo.cards(mem, now(), today(), credit), credit=credit,
                  **_counts(mem, f))


@bp.route("/indicators.xlsx")
def export():
    mem = current_membership()
    if not board.is_staff(mem):
        abort(403)   # the board is the staff's; other roles have none to export
    data = board.board(mem, _focus(mem))
    buf = BytesIO()
    board.workbook(data).save(buf)
    buf.seek(0)
    f = data["focus"]
    stamp = local(now()).strftime("%Y%m%d")
    return send_file(buf, as_attachment=True, download_name=f"工作台指标-{f.title}-{stamp}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/indicators/refresh", methods=["POST"])
def refresh():
    """刷新本月数据: the snapshot job (the same one the scheduler runs), with its progress card."""
    require("run", "snapshot")
    run = indicator_jobs.submit(current_user)
    if htmx:
        return render("jobs/status.html", "dashboard/_refresh.html", run=run, back=url_for(".home"))
    return redirect(url_for("jobs.status", job_run_id=run.id, back=url_for(".home")))
