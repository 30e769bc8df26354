"""Fee policy pages: families and versions, assignments to compounds, what-if simulation.
Everyone in the district may read policies; only the district admin changes them."""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, request, url_for
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..formutil import attach_errors, record_id
from ..org import pickers
from ..org.models import Community, Compound, HouseholdClass, Street
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import holdback, policies, simulate as sim
from .models import BASES, GOV_MODES, POLICY_STATUSES, Bill, FeeAssignment, FeePolicy, HoldbackRelease
from .policy_forms import ActivateForm, AssignForm, EndAssignmentForm, NewVersionForm, SimulateForm, policy_form

bp = tenant_blueprint("fee_policies", __name__, "/fees")

AREA = "fee_policy"


def _manage():
    require("manage", AREA)


def _options(model, label=lambda o: o.name):
    stmt = select(model).where(policy.visible(current_membership(), model)).order_by(model.name)
    return [(o.id, label(o)) for o in db.session.execute(stmt).scalars()]


def _policy_form(**kw):
    classes = db.session.execute(select(HouseholdClass.id, HouseholdClass.name).order_by(HouseholdClass.id)).all()
    return policy_form(classes, _options(Compound), **kw)


def _ctx():
    return {"bases": BASES, "gov_modes": GOV_MODES, "statuses": POLICY_STATUSES, "period": policies.period}


@bp.route("/policies/")
def index():
    args = request.args
    stmt = policies.family_query(args.get("q", "").strip(), args.get("status", ""))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    versions = policies.versions_of([p.family_id for p in page.items])
    return render("fees/policies/index.html", "fees/policies/_families.html", page=page, versions=versions,
                  args=args, filtered=any(args.get(k) for k in ("q", "status")), **_ctx())


@bp.route("/policies/new", methods=["GET", "POST"])
def new():
    _manage()
    form = _policy_form()
    if form.validate_on_submit():
        p, errs = policies.create_policy(form.to_data())
        if p is not None:
            db.session.commit()
            flash(f"已新增收费政策“{p.name}”（草稿），生效前请核对并点击“生效”。", "success")
            return redirect(url_for(".detail", fee_policy_id=p.id))
        db.session.rollback()
        attach_errors(form, errs)
    return render("fees/policies/form.html", form=form, obj=None, **_ctx()), (422 if form.errors else 200)


@bp.route("/policies/<int:fee_policy_id>")
def detail(fee_policy_id):
    p = get_or_404(FeePolicy, fee_policy_id)
    q = request.args.get("q", "").strip()
    stmt = policies.assignment_query(p.family_id, q).where(policy.visible(current_membership(), FeeAssignment))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    versions = policies.versions_of([p.family_id])[p.family_id]
    return render("fees/policies/detail.html", "fees/policies/_assignments.html", p=p, page=page,
                  versions=versions, args=request.args, filtered=bool(q), locked=policies.locked_reason(p),
                  pager_args={**request.args.to_dict(), "fee_policy_id": p.id}, show_policy=False,
                  today=today(), holdback_rule=holdback.rule_text(p), **_ctx())


@bp.route("/policies/<int:fee_policy_id>/edit", methods=["GET", "POST"])
def edit(fee_policy_id):
    p = get_or_404(FeePolicy, fee_policy_id)
    _manage()
    locked = policies.locked_reason(p)
    form = _policy_form()
    if request.method == "GET":
        form.load(policies.PolicyData.of(p))
    elif locked:
        flash(locked, "warning")
    elif form.validate_on_submit():
        errs = policies.update_policy(p, form.to_data())
        if not errs:
            db.session.commit()
            flash(f"已保存“{p.name}”第 {p.version} 版。", "success")
            return redirect(url_for(".detail", fee_policy_id=p.id))
        db.session.rollback()
        attach_errors(form, errs)
    status = 422 if (form.errors or (locked and request.method == "POST")) else 200
    return render("fees/policies/form.html", form=form, obj=p, locked=locked, **_ctx()), status


@bp.route("/policies/<int:fee_policy_id>/version", methods=["GET", "POST"])
def new_version(fee_policy_id):
    p = get_or_404(FeePolicy, fee_policy_id)
    _manage()
    form = NewVersionForm()
    if form.validate_on_submit():
        new, problem = policies.new_version(p, form.old_until.data)
        if new is not None:
            db.session.commit()
            flash(f"已创建第 {new.version} 版（草稿），自 {new.valid_from:%Y-%m-%d} 起生效；"
                  f"第 {p.version} 版执行至 {p.valid_to:%Y-%m-%d}。", "success")
            return redirect(url_for(".edit", fee_policy_id=new.id))
        db.session.rollback()
        form.old_until.errors = list(form.old_until.errors) + [problem]
    return render("fees/policies/version.html", form=form, p=p, **_ctx()), (422 if form.errors else 200)


@bp.route("/policies/<int:fee_policy_id>/activate", methods=["GET", "POST"])
def activate(fee_policy_id):
    p = get_or_404(FeePolicy, fee_policy_id)
    _manage()
    form = ActivateForm()
    problem = None if p.status == "draft" else "只有草稿版本可以生效。"
    if form.validate_on_submit() and problem is None:
        problem = policies.activate(p)
        if problem is None:
            db.session.commit()
            flash(f"“{p.name}”第 {p.version} 版已生效。", "success")
            return redirect(url_for(".detail", fee_policy_id=p.id))
    return render("fees/policies/activate.html", form=form, p=p, problem=problem, **_ctx()), \
        (422 if problem and request.method == "POST" else 200)


# --- assignments ----------------------------------------------------------------------------

@bp.route("/assignments/")
def assignments():
    args = request.args
    family_id = record_id(args.get("family_id"))
    current = today() if args.get("current") else None
    stmt = (policies.assignment_query(family_id, args.get("q", "").strip(), current)
            .where(policy.visible(current_membership(), FeeAssignment)))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    fams = db.session.execute(policies.family_query()).scalars().all()
    return render("fees/policies/assignments.html", "fees/policies/_assignments.html", page=page, args=args,
                  families=fams, filtered=any(args.get(k) for k in ("q", "family_id", "current")),
                  pager_args=args.to_dict(), show_policy=True, today=today(), **_ctx())


def _assign_form():
    form = AssignForm()
    form.family_id.choices = [("", "请选择…")] + [
        (p.family_id, p.name + (f"（{p.for_compound.name}专用）" if p.for_compound_id else ""))
        for p in db.session.execute(policies.family_query()).scalars()]
    form.compound_id.choices = [("", "请选择…")] + _options(Compound)
    form.street_id.choices = [("", "—")] + _options(Street)
    form.community_id.choices = [("", "—")] + _options(Community, lambda c: f"{c.street.name} · {c.name}")
    if request.method == "GET" and record_id(request.args.get("family_id")):
        form.family_id.data = record_id(request.args["family_id"])
    return form


@bp.route("/assignments/new", methods=["GET", "POST"])
def assign():
    _manage()
    form = _assign_form()
    if form.validate_on_submit():
        family = policies.latest_version(form.family_id.data)
        if form.target.data == "compound":
            comps = policies.bulk_compounds(None, None, None, Compound.id == form.compound_id.data)
        else:
            comps = policies.bulk_compounds(form.street_id.data, form.community_id.data,
                                            form.management_mode.data or None)
        rows, errs = policies.assign(family, comps, form.valid_from.data, form.valid_to.data)
        if rows:
            db.session.commit()
            flash(f"已将“{family.name}”分配给 {len(rows)} 个小区。", "success")
            return redirect(url_for(".detail", fee_policy_id=family.id))
        db.session.rollback()
        attach_errors(form, errs)
    pickers.follow(form, current_membership())
    return render("fees/policies/assign.html", form=form, **_ctx()), (422 if form.errors else 200)


@bp.route("/assignments/<int:fee_assignment_id>/end", methods=["GET", "POST"])
def end_assignment(fee_assignment_id):
    a = get_or_404(FeeAssignment, fee_assignment_id)
    _manage()
    form = EndAssignmentForm()
    if form.validate_on_submit():
        problem = policies.end_assignment(a, form.last_day.data)
        if problem is None:
            db.session.commit()
            flash(f"{a.compound.name}的收费政策分配已结束，执行至 {a.valid_to:%Y-%m-%d}。", "success")
            return redirect(url_for(".assignments"))
        db.session.rollback()
        form.last_day.errors = list(form.last_day.errors) + [problem]
    return render("fees/policies/end_assignment.html", form=form, a=a, **_ctx()), (422 if form.errors else 200)


# --- what-if simulation ---------------------------------------------------------------------

@bp.route("/simulate")
def simulate():
    _manage()
    form = SimulateForm(request.args if request.args else None)
    choices = db.session.execute(select(FeePolicy).where(FeePolicy.status.in_(("draft", "active")))
                                 .order_by(FeePolicy.family_id, FeePolicy.version)).scalars().all()
    form.policy_id.choices = [("", "请选择…")] + [
        (p.id, f"{p.name} 第{p.version}版（{POLICY_STATUSES[p.status]}）") for p in choices]
    form.street_id.choices = [("", "—")] + _options(Street)
    form.compound_id.choices = [("", "—")] + _options(Compound)
    if not request.args:
        form.month.data = f"{today():%Y-%m}"
    result = None
    if request.args and form.validate():
        p = db.session.get(FeePolicy, form.policy_id.data)
        scope_id = {"street": form.street_id.data, "compound": form.compound_id.data}.get(form.scope.data)
        year, month = map(int, form.month.data.split("-"))
        result = sim.simulate(p, form.scope.data, scope_id, date(year, month, 1))
    return render("fees/policies/simulate.html", form=form, result=result,
                  chart=sim.chart_data(result) if result else None, **_ctx()), \
        (422 if form.errors else 200)


@bp.app_context_processor
def _fee_nav():
    """The 收费管理 menu for the acting membership: only what it may use."""
    mem = g.get("membership")
    if mem is None or mem.role == "assessor":
        return {"fee_nav": []}
    bills = policy.reaches(mem, Bill)
    items = [("fee_policies.index", "journal-richtext", "收费政策", True),
             ("fee_policies.assignments", "diagram-3", "收费政策分配", policy.can(mem, "manage", AREA)),
             ("fee_policies.simulate", "calculator", "收费政策测算", policy.can(mem, "manage", AREA)),
             ("billing.runs", "lightning-charge", "账单开具", policy.can(mem, "run", "billing")),
             ("billing.bills", "receipt", "账单", bills),
             ("payments.arrears", "exclamation-circle", "欠费管理", bills),
             ("payments.collection", "graph-up", "缴费率", bills),
             # Claims are between the firms and the district.
             ("claims.index", "cash-coin", "补贴申领", mem.role in ("district_admin", "firm_manager", "firm_staff")),
             ("holdback.index", "shield-check", "质量保证金", policy.reaches(mem, HoldbackRelease))]
    return {"fee_nav": [(e, icon, label) for e, icon, label, shown in items if shown]}
