"""Evaluation cycles: the list with progress, "发起考核" (district), one cycle's assessments,
moving it into review and assigning assessors (thin views over cycles.py)."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, g, redirect, request, url_for
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..formutil import Form, attach_errors, record_id
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import cycles
from .cycle_forms import OpenForm
from .models import ASSESSMENT_STATUSES, CYCLE_KINDS, EVALUATION_STATUSES, METHODS, SCORERS, UNITS, Evaluation, Standard

bp = tenant_blueprint("evaluations", __name__, "/evaluations")

NAV_LABELS = {"district_admin": "考核周期", "street_staff": "考核确认", "community_staff": "考核审核",
              "firm_manager": "考核自评", "firm_staff": "考核自评", "assessor": "第三方测评",
              "committee_member": "履约评价"}
# Pages of the other evaluation helpers, linked when they are installed.
RESULT_ENDPOINTS = {"finalize": "results.finalize", "publish": "results.publish", "results": "results.evaluation",
                    "surveys": "surveys.index"}


@bp.app_context_processor
def _evaluation_nav():
    mem = g.get("membership")
    label = NAV_LABELS.get(mem.role) if mem is not None else None
    return {"evaluation_nav": [("evaluations.index", "clipboard2-check", label)] if label else []}


def _linked() -> dict[str, str]:
    """The other helpers' endpoints that exist in this app (name → endpoint)."""
    return {k: e for k, e in RESULT_ENDPOINTS.items() if e in current_app.view_functions}


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/")
def index():
    m = current_membership()
    args = request.args
    kind = args.get("kind") if args.get("kind") in CYCLE_KINDS else None
    status = args.get("status") if args.get("status") in EVALUATION_STATUSES else None
    page = db.paginate(cycles.evaluations_select(m, kind, status, args.get("q", "")), page=page_arg(), per_page=20,
                       error_out=False)
    return render("evaluation/cycles/index.html", "evaluation/cycles/_table.html", page=page, args=args,
                  progress=cycles.progress(m, [e.id for e in page.items]), kinds=CYCLE_KINDS,
                  statuses=EVALUATION_STATUSES, filtered=any(args.get(k) for k in ("kind", "status", "q")),
                  may_open=policy.can(m, "open", "evaluation"))


def _firm_choices(start: date | None, end: date | None):
    if start is None or end is None or end < start:
        return []
    return cycles.firms_in_period(start, end)


def _new_page(form: OpenForm, status: int = 200):
    standards = cycles.usable_standards()
    form.standard_id.choices = [(s.id, s.audit_label) for s in standards]
    drafts = db.session.execute(select(Standard).where(Standard.status == "draft")
                                .order_by(Standard.name, Standard.version)).scalars().all()
    units = {s.id: s.unit for s in standards}
    firms = _firm_choices(form.period_start.data, form.period_end.data)
    chosen = set(form.firm_ids.data or [])
    return render("evaluation/cycles/new.html", form=form, standards=standards, drafts=drafts, units=units,
                  firms=firms, chosen=chosen, spot=cycles.spot_check_firms(today()), kinds=CYCLE_KINDS, unit_labels=UNITS,
                  linked_standards="standards.index" in current_app.view_functions), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    require("open", "evaluation")
    m = current_membership()
    if request.method == "GET":
        kind = request.args.get("kind") if request.args.get("kind") in CYCLE_KINDS else "quarterly"
        s = cycles.suggest(kind, today())
        standards = cycles.usable_standards()
        first = standards[0] if standards else None
        form = OpenForm(formdata=None, data={**s, "standard_id": first.id if first else None,
                                             "unit": first.unit if first else "compound"})
        # Every firm with a contract in the period is ticked: the usual cycle covers them all.
        form.firm_ids.data = [f.id for f, _ in _firm_choices(s["period_start"], s["period_end"])]
        return _new_page(form)
    form = OpenForm()
    if form.validate_on_submit():
        standard = db.session.get(Standard, form.standard_id.data) if form.standard_id.data else None
        try:
            ev = cycles.open_evaluation(m, standard, form.kind.data, form.name.data, form.period_start.data,
                                        form.period_end.data, form.self_report_due.data, form.review_due.data,
                                        form.appeal_days.data, form.firm_ids.data or [], form.unit.data == "compound")
        except cycles.CycleProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            n = len(ev.assessments)
            db.session.commit()
            flash(f"已发起“{ev.name}”：{n} 个考核对象，企业可开始自评（{ev.self_report_due:%Y-%m-%d} 截止）。",
                  "success")
            return redirect(url_for("evaluations.detail", evaluation_id=ev.id))
    return _new_page(form, 422)


@bp.route("/new/firms")
def firms():
    """The firm checklist for the period typed on the form (HTMX)."""
    require("open", "evaluation")
    start, end = _date_arg("period_start"), _date_arg("period_end")
    chosen = {record_id(v) for v in request.args.getlist("firm_ids")} - {None}
    rows = _firm_choices(start, end)
    if request.args.get("all") == "1":
        chosen = {f.id for f, _ in rows}
    return render("evaluation/cycles/_firms.html", firms=rows, chosen=chosen, field_errors=[],
                  spot=cycles.spot_check_firms(today()),
                  period_ok=start is not None and end is not None and end >= start)


def _detail(ev: Evaluation, status_code: int = 200, assign_error: str | None = None):
    m = current_membership()
    args = request.args
    status = args.get("status") if args.get("status") in ASSESSMENT_STATUSES else None
    progress = cycles.progress(m, [ev.id])[ev.id]
    q = args.get("q", "")
    # Without a search the progress (the scope's assessments by status) already counts the list.
    known = None if q.strip() else (progress.by_status.get(status, 0) if status else progress.total)
    page = db.paginate(cycles.assessments_select(m, ev, status, q), page=page_arg(), per_page=20,
                       error_out=False, count=known is None)
    if known is not None:
        page.total = known
    district = policy.can(m, "open", "evaluation")
    ctx = {}
    if district:
        ctx = {"assessor_items": cycles.assessor_items(ev), "assessors": cycles.assessors(),
               "assigned": cycles.assignments(ev)}
    return render("evaluation/cycles/detail.html", "evaluation/cycles/_assessments.html", ev=ev, page=page,
                  args=args, progress=progress, statuses=ASSESSMENT_STATUSES,
                  ev_statuses=EVALUATION_STATUSES, kinds=CYCLE_KINDS, methods=METHODS, scorers=SCORERS,
                  district=district, linked=_linked(), confirm=args.get("confirm"), assign_error=assign_error,
                  pager_args={**args.to_dict(), "evaluation_id": ev.id},
                  filtered=any(args.get(k) for k in ("status", "q")), today=today(), form=Form(), **ctx), status_code


@bp.route("/<int:evaluation_id>")
def detail(evaluation_id):
    return _detail(get_or_404(Evaluation, evaluation_id))


@bp.route("/<int:evaluation_id>/review", methods=["POST"])
def enter_review(evaluation_id):
    ev = get_or_404(Evaluation, evaluation_id)
    require("open", "evaluation")
    if not Form().validate_on_submit():
        abort(400)
    try:
        cycles.enter_review(ev)
    except cycles.CycleProblem as e:
        db.session.rollback()
        flash(e.message, "danger")
        return _detail(ev, 409)
    db.session.commit()
    flash(f"“{ev.name}”已进入审核，企业不能再自评（被退回的自评仍可在审核截止日前修改）。", "success")
    return redirect(url_for("evaluations.detail", evaluation_id=ev.id))


def _assessor_choice() -> dict[int, int | None]:
    """The posted item-<id> selects as {item id: membership id, None for 未指派}. An item not
    posted is left as it is; a value or item that is not a plain id is refused, never read as
    未指派 (that silently removed assignments)."""
    choice = {}
    for key, raw in request.form.items():
        if not key.startswith("item-"):
            continue
        item = key[len("item-"):]
        if record_id(item) is None or not (raw == "" or record_id(raw)):
            raise cycles.CycleProblem("所选测评机构账号不存在或已停用。", "assessors")
        choice[record_id(item)] = record_id(raw)
    return choice


@bp.route("/<int:evaluation_id>/assessors", methods=["POST"])
def assign(evaluation_id):
    ev = get_or_404(Evaluation, evaluation_id)
    require("open", "evaluation")
    if not Form().validate_on_submit():
        abort(400)
    try:
        n = cycles.assign_assessors(ev, _assessor_choice())
    except cycles.CycleProblem as e:
        db.session.rollback()
        return _detail(ev, 422, assign_error=e.message)
    db.session.commit()
    flash(f"已更新 {n} 个考核项的测评机构指派。" if n else "指派没有变化。", "success" if n else "info")
    return redirect(url_for("evaluations.detail", evaluation_id=ev.id))
