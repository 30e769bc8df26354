"""Demands (诉求): the staff list, intake, detail with its steps, photos, the district's
categories, and the residents' submission and tracking pages (thin views over logic.py)."""
from __future__ import annotations

import io
from datetime import datetime

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..extensions import db
from ..formutil import Form, attach_errors, record_id
from ..org import pickers
from ..org.models import Compound
from ..ratelimit import PUBLIC_DEMANDS, limiter
from ..timeutil import fmt_datetime, local, now
from ..volunteers import logic as volunteer_logic
from ..web import current_membership, get_or_404, page_arg, public_blueprint, render, require, tenant_blueprint
from . import logic
from .forms import (
    CategoryForm, ChannelForm, DispatchForm, NoteForm, PublicDemandForm, ResolveForm, StaffDemandForm, SuperviseForm, VisitForm,
)
from .models import (
    ASSIGNEE_KINDS, EVENT_KINDS, SATISFACTION, STATUSES, URGENCIES, Demand, DemandCategory, DemandChannel,
    DemandEvent, DemandPhoto,
)

bp = tenant_blueprint("demands", __name__, "/demands")
public_bp = public_blueprint("demand_public", __name__)

LABELS = {"statuses": STATUSES, "urgencies": URGENCIES, "assignee_kinds": ASSIGNEE_KINDS,
          "satisfaction": SATISFACTION, "event_kinds": EVENT_KINDS}
NUMBER_RETRIES = 3


def _labels() -> dict:
    """The pages' code → name maps; channels are the district's (its own ones included)."""
    return {**LABELS, "channels": logic.channel_labels()}


def _list_title(m) -> str:
    return {policy.DEPARTMENT: "派给本部门的诉求", policy.GRID: "网格内诉求"}.get(
        m.role, "派给本企业的诉求" if m.role in policy.FIRM_ROLES else "诉求办理")


@bp.app_context_processor
def _demand_nav():
    """The 诉求 items of the 基层治理 menu: only what the acting membership may use."""
    mem = g.get("membership")
    if mem is None or not policy.reaches(mem, Demand):
        return {"demand_nav": []}
    items = [("demands.index", "chat-square-text", _list_title(mem))]
    if policy.can(mem, "intake", "demand_intake"):
        items.append(("demands.new", "telephone-inbound", "登记诉求"))
    if policy.can(mem, "configure", "demand_config"):
        items.append(("demands.categories", "tags", "诉求分类与时限"))
        items.append(("demands.channels", "broadcast", "受理渠道"))
    return {"demand_nav": items}


def _overdue(d: Demand, at: datetime) -> bool:
    return logic.is_overdue(d, at)


# --- list and export ------------------------------------------------------------------------

def _with_demands(m):
    """SELECT of the compounds the membership sees demands of (the filter's choices)."""
    return select(Demand.compound_id).where(policy.visible(m, Demand))


def _filters(m) -> tuple[logic.Filters, pickers.NamePick]:
    """The list's filters, and its compound filter: a select of the compounds with demands, or a
    box for (part of) the name where there are too many to list (a large district's)."""
    args = request.args
    tab = args.get("tab") or logic.default_tab(m)
    pick = pickers.name_pick(m, args, Compound, "compound", _with_demands)
    return logic.Filters(tab=tab if tab in logic.tabs(m) else "all", category_id=record_id(args.get("category", "")),
                         channel=args.get("channel", ""), compound_id=pick.picked, compound_name=pick.name,
                         q=args.get("q", ""), status=args.get("status", "")), pick


@bp.route("/")
def index():
    m, at = current_membership(), now()
    f, pick = _filters(m)
    counts = logic.tab_counts(m, f, at)
    # The tab's count is the list's total (the same filters and tab): not counted a second time.
    page = db.paginate(logic.demands_select(m, f, at), page=page_arg(), per_page=20, error_out=False, count=False)
    page.total = counts[f.tab]
    return render("demands/index.html", "demands/_results.html", page=page, f=f, args=request.args,
                  tabs=logic.tabs(m), counts=counts, categories=logic.categories(), pick=pick,
                  at=at, overdue=_overdue, firm=m.role in policy.FIRM_ROLES or m.role == policy.DEPARTMENT,
                  title=_list_title(m), department=m.role == policy.DEPARTMENT,
                  filtered=any(request.args.get(k) for k in ("q", "category", "channel", "compound", "compound_name", "status")),
                  **_labels())


@bp.route("/export.xlsx")
def export():
    from openpyxl import Workbook

    m, at = current_membership(), now()
    rows = db.session.execute(logic.demands_select(m, _filters(m)[0], at)).scalars().all()
    channels = logic.channel_labels()
    wb = Workbook()
    ws = wb.active
    ws.title = "诉求清单"
    ws.append(["诉求编号", "小区", "分类", "渠道", "紧急程度", "标题", "状态", "受理时间", "办理时限", "承办方",
               "办结时间", "按时办结", "已逾期", "升级街道时间", "回访满意度", "重新办理次数"])
    for d in rows:
        ws.append([d.number, d.compound.name, d.category.name, channels.get(d.channel, d.channel),
                   URGENCIES.get(d.urgency, d.urgency), d.title, STATUSES.get(d.status, d.status),
                   fmt_datetime(d.received_at), fmt_datetime(d.deadline_at),
                   d.assignee_name or "", fmt_datetime(d.resolved_at),
                   ("是" if logic.on_time(d) else "否") if d.resolved_at else "",
                   "是" if logic.is_overdue(d, at) else "", fmt_datetime(d.escalated_at),
                   SATISFACTION.get(d.satisfaction, "") if d.satisfaction else "", d.reopen_count])
    ws.append([f"导出时间：{fmt_datetime(at)}，共 {len(rows)} 件"])
    for col, width in zip("ABCDEFGHIJKLMNOP", (18, 16, 10, 12, 8, 30, 12, 17, 17, 20, 17, 8, 8, 17, 10, 8)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"诉求清单-{local(at):%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- staff intake ---------------------------------------------------------------------------

def _intake_choices(form: StaffDemandForm, m) -> list:
    cats = logic.categories(active_only=True)
    form.compound_id.choices = [(0, "请选择…")] + logic.compounds_for_intake(m)
    form.category_id.choices = [(0, "请选择…")] + [(c.id, c.name) for c in cats]
    form.channel.choices = [("", "请选择…")] + list(logic.staff_channels().items())
    return cats


@bp.route("/new", methods=["GET", "POST"])
def new():
    require("intake", "demand_intake")
    m = current_membership()
    form = StaffDemandForm()
    cats = _intake_choices(form, m)
    if request.method == "GET" and m.role == policy.GRID and "patrol" in logic.staff_channels():
        form.channel.data = "patrol"   # 网格员 find most of what they enter on their rounds
    if form.validate_on_submit():
        data = logic.Intake(form.category_id.data, form.title.data, form.description.data or "",
                            form.contact_name.data, form.contact_phone.data, form.household_code.data or "",
                            form.urgency.data, form.channel.data)
        for attempt in range(NUMBER_RETRIES):
            try:
                d = logic.intake(m, form.compound_id.data, data)
            except logic.NumberTaken:
                db.session.rollback()
                continue
            except logic.DemandProblem as e:
                db.session.rollback()
                attach_errors(form, {e.field: e.message})
                break
            db.session.commit()
            flash(f"已登记诉求 {d.number}，办理时限至 {fmt_datetime(d.deadline_at)}。下一步：派单。", "success")
            return redirect(url_for("demands.detail", demand_id=d.id))
        else:
            attach_errors(form, {"title": "系统繁忙，请重新提交。"})
    return render("demands/new.html", form=form, categories=cats), (422 if request.method == "POST" else 200)


# --- detail and steps -----------------------------------------------------------------------

def _load(demand_id: int) -> Demand:
    return get_or_404(Demand, demand_id)


def _detail(d: Demand, forms: dict | None = None, problem: str = "", status: int = 200):
    m, at = current_membership(), now()
    firms = logic.dispatch_firms(d.compound_id)
    dispatch = DispatchForm(formdata=None, data={"firm_id": d.firm_id or (firms[0].id if firms else 0),
                                                  "assignee_kind": d.assignee_kind or "firm",
                                                  "department_id": d.department_id})
    forms = {"dispatch": dispatch, "accept": NoteForm(formdata=None), "resolve": ResolveForm(formdata=None),
             "visit": VisitForm(formdata=None), "supervise": SuperviseForm(formdata=None), **(forms or {})}
    forms["dispatch"].firm_id.choices = [(f.id, f.name) for f in firms]
    volunteers = volunteer_logic.dispatch_volunteers(d.compound_id) if "dispatch" in logic.next_steps(m, d) else []
    forms["dispatch"].volunteer_id.choices = [(None, "请选择志愿者")] + [
        (v.id, f"{v.name}{'（党员）' if v.is_party_member else ''}{' · ' + v.team.name if v.team else ''}")
        for v in volunteers]
    departments = logic.dispatch_departments() if "dispatch" in logic.next_steps(m, d) else []
    forms["dispatch"].department_id.choices = [(None, "请选择职能部门")] + [(x.id, x.name) for x in departments]
    events = db.session.execute(select(DemandEvent).where(DemandEvent.demand_id == d.id)
                                .options(selectinload(DemandEvent.photos)).order_by(DemandEvent.at, DemandEvent.id)
                                ).scalars().all()
    return render("demands/detail.html", d=d, forms=forms, steps=logic.next_steps(m, d), events=events,
                  problem=problem, at=at, overdue=logic.is_overdue(d, at), on_time=logic.on_time(d),
                  firms=firms, volunteers=volunteers, departments=departments,
                  on_behalf=d.assignee_kind in ("volunteer", "department") and m.role != policy.DEPARTMENT,
                  **_labels()), status


@bp.route("/<int:demand_id>")
def detail(demand_id):
    return _detail(_load(demand_id))


def _step(demand_id: int, area: str, name: str, form, run, done):
    """parse → logic → commit → redirect, or the detail page with the message (422 next to the
    field; 409/403 for a step out of turn or not this person's, as an alert)."""
    d = _load(demand_id)  # 404 before 403: never confirm it exists
    require("act", area)
    if form.validate_on_submit():
        try:
            result = run(d, current_membership(), form)
        except logic.DemandProblem as e:
            db.session.rollback()
            d = _load(demand_id)
            if e.status == 422:
                attach_errors(form, {e.field: e.message})
                return _detail(d, {name: form}, status=422)
            return _detail(d, problem=e.message, status=e.status)
        db.session.commit()
        flash(done(result) if callable(done) else done, "success")
        return redirect(url_for("demands.detail", demand_id=demand_id))
    return _detail(d, {name: form}, status=422)


@bp.route("/<int:demand_id>/dispatch", methods=["POST"])
def dispatch(demand_id):
    form = DispatchForm()
    form.firm_id.choices = []
    return _step(demand_id, "demand_dispatch", "dispatch", form,
                 lambda d, m, f: logic.dispatch(d, m, f.assignee_kind.data, f.firm_id.data, f.note.data,
                                                volunteer_id=f.volunteer_id.data, department_id=f.department_id.data),
                 "已派单。")


@bp.route("/<int:demand_id>/accept", methods=["POST"])
def accept(demand_id):
    return _step(demand_id, "demand_handle", "accept", NoteForm(),
                 lambda d, m, f: logic.accept(d, m, f.note.data), "已接单。")


@bp.route("/<int:demand_id>/resolve", methods=["POST"])
def resolve(demand_id):
    def run(d, m, f):
        uploads = [logic.Upload(fs.filename, fs.read()) for fs in request.files.getlist("photos") if fs.filename]
        return logic.resolve(d, m, f.note.data, uploads, current_app.config["UPLOAD_FOLDER"])
    return _step(demand_id, "demand_handle", "resolve", ResolveForm(), run, "已办结，等待社区回访。")


@bp.route("/<int:demand_id>/visit", methods=["POST"])
def visit(demand_id):
    return _step(demand_id, "demand_dispatch", "visit", VisitForm(),
                 lambda d, m, f: logic.visit(d, m, f.satisfaction.data, f.note.data, f.close_anyway.data,
                                             f.reason.data),
                 lambda outcome: "回访完成，诉求已关闭。" if outcome == "closed"
                 else "回访不满意，已退回原承办方重新办理。")


@bp.route("/<int:demand_id>/supervise", methods=["POST"])
def supervise(demand_id):
    return _step(demand_id, "demand_dispatch", "supervise", SuperviseForm(),
                 lambda d, m, f: logic.supervise(d, m, f.note.data), "已记录督办意见。")


@bp.route("/photos/<int:demand_photo_id>")
def photo(demand_photo_id):
    """A resolution photo, only to those who see its demand (scope via the policy)."""
    p = get_or_404(DemandPhoto, demand_photo_id)
    path = logic.photo_path(current_app.config["UPLOAD_FOLDER"], p.stored_name)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=p.content_type, download_name=p.filename)


# --- categories (district) ------------------------------------------------------------------

def _categories_page(form: CategoryForm, status: int = 200):
    cats = logic.categories()
    used = set(db.session.execute(select(Demand.category_id).distinct()).scalars())
    return render("demands/categories.html", form=form, cats=cats, used=used, seed_form=Form(),
                  defaults=logic.DEFAULT_CATEGORIES, any_active=any(c.active for c in cats)), status


@bp.route("/categories", methods=["GET", "POST"])
def categories():
    require("configure", "demand_config")
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            cat = logic.save_category(None, form.name.data, form.deadline_hours.data,
                                      form.urgent_deadline_hours.data, form.active.data, form.sort.data)
        except logic.DemandProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(f"已新增诉求分类“{cat.name}”。", "success")
            return redirect(url_for("demands.categories"))
    return _categories_page(form, 422 if request.method == "POST" else 200)


@bp.route("/categories/seed", methods=["POST"])
def categories_seed():
    require("configure", "demand_config")
    if not Form().validate_on_submit():
        abort(400)
    n = logic.ensure_default_categories()
    db.session.commit()
    flash(f"已添加或重新启用 {n} 个默认分类。" if n else "默认分类都已存在并已启用。", "success" if n else "info")
    return redirect(url_for("demands.categories"))


@bp.route("/categories/<int:demand_category_id>/edit", methods=["GET", "POST"])
def category_edit(demand_category_id):
    cat = get_or_404(DemandCategory, demand_category_id)
    require("configure", "demand_config")
    form = CategoryForm(obj=cat)
    if form.validate_on_submit():
        try:
            logic.save_category(cat, form.name.data, form.deadline_hours.data, form.urgent_deadline_hours.data,
                                form.active.data, form.sort.data)
        except logic.DemandProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(f"已保存诉求分类“{cat.name}”。新时限只适用于此后受理的诉求。", "success")
            return redirect(url_for("demands.categories"))
    return render("demands/category_edit.html", form=form, cat=cat, used=logic.category_used(cat)), \
        (422 if request.method == "POST" else 200)


@bp.route("/categories/<int:demand_category_id>/delete", methods=["GET", "POST"])
def category_delete(demand_category_id):
    """A confirmation page, then the delete; a category in use can only be deactivated."""
    cat = get_or_404(DemandCategory, demand_category_id)
    require("configure", "demand_config")
    form = Form()
    used = logic.category_used(cat)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            logic.delete_category(cat)
        except logic.DemandProblem as e:
            db.session.rollback()
            return render("demands/category_delete.html", cat=get_or_404(DemandCategory, demand_category_id),
                          form=form, used=True, problem=e.message), e.status
        db.session.commit()
        flash("已删除该分类。", "success")
        return redirect(url_for("demands.categories"))
    return render("demands/category_delete.html", cat=cat, form=form, used=used, problem="")


# --- channels (district) --------------------------------------------------------------------

def _channels_page(form: ChannelForm, problem: str = "", status: int = 200):
    used = set(db.session.execute(select(Demand.channel).distinct()).scalars())
    return render("demands/channels.html", form=form, channels=logic.channels(), used=used, toggle_form=Form(),
                  problem=problem, online=logic.ONLINE), status


@bp.route("/channels", methods=["GET", "POST"])
def channels():
    require("configure", "demand_config")
    form = ChannelForm()
    if form.validate_on_submit():
        try:
            row = logic.save_channel(None, form.name.data, form.active.data, form.sort.data)
        except logic.DemandProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(f"已新增受理渠道“{row.name}”。", "success")
            return redirect(url_for("demands.channels"))
    return _channels_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/channels/builtin", methods=["POST"])
def channel_builtin():
    """Switch a built-in staff channel on or off (the form posts its code and the wanted state)."""
    require("configure", "demand_config")
    if not Form().validate_on_submit():
        abort(400)
    try:
        row = logic.set_builtin_active(request.form.get("code", ""), request.form.get("active") == "1")
    except logic.DemandProblem as e:
        db.session.rollback()
        if e.status == 404:
            abort(404)
        return _channels_page(ChannelForm(formdata=None), problem=e.message, status=e.status)
    db.session.commit()
    flash(f"已{'启用' if row.active else '停用'}渠道“{row.name}”。", "success")
    return redirect(url_for("demands.channels"))


@bp.route("/channels/<int:demand_channel_id>/edit", methods=["GET", "POST"])
def channel_edit(demand_channel_id):
    row = get_or_404(DemandChannel, demand_channel_id)
    require("configure", "demand_config")
    form = ChannelForm(obj=row)
    if form.validate_on_submit():
        try:
            logic.save_channel(row, form.name.data, form.active.data, form.sort.data)
        except logic.DemandProblem as e:
            db.session.rollback()
            row = get_or_404(DemandChannel, demand_channel_id)
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(f"已保存受理渠道“{row.name}”。", "success")
            return redirect(url_for("demands.channels"))
    return render("demands/channel_edit.html", form=form, row=row), (422 if request.method == "POST" else 200)


# --- residents' pages (no login) -----------------------------------------------------------

def _public_compound(compound_id: int) -> Compound:
    # The tenant filter applies: another district's compound id is a 404 under this slug.
    c = db.session.execute(select(Compound).where(Compound.id == compound_id)).scalar_one_or_none()
    if c is None:
        abort(404)
    return c


@public_bp.route("/c/<int:compound_id>/demand", methods=["GET", "POST"])
@limiter.limit(PUBLIC_DEMANDS, methods=["POST"])   # no login: a flood of demands is refused
def submit(compound_id):
    c = _public_compound(compound_id)
    form = PublicDemandForm()
    cats = logic.categories(active_only=True)
    form.category_id.choices = [(0, "请选择…")] + [(x.id, x.name) for x in cats]
    if form.validate_on_submit():
        data = logic.Intake(form.category_id.data, form.title.data, form.description.data or "",
                            form.contact_name.data, form.contact_phone.data, form.household_code.data)
        for attempt in range(NUMBER_RETRIES):
            try:
                d = logic.submit_public(c, data)
            except logic.NumberTaken:
                db.session.rollback()
                continue
            except logic.DemandProblem as e:
                db.session.rollback()
                attach_errors(form, {e.field: e.message})
                break
            db.session.commit()
            return redirect(url_for("demand_public.track", number=d.number, code=form.household_code.data.strip(),
                                    new=1))
        else:
            attach_errors(form, {"title": "系统繁忙，请重新提交。"})
    return render("demands/public/submit.html", c=c, form=form, categories=cats), \
        (422 if request.method == "POST" else 200)


@public_bp.route("/demand")
def track():
    """Status and the public steps of a demand, for whoever holds its number and household code."""
    number, code = request.args.get("number", "").strip(), request.args.get("code", "").strip()
    errors, d, status = {}, None, 200
    if "number" in request.args or "code" in request.args:
        if not number:
            errors["number"] = "请填写诉求编号。"
        if not code:
            errors["code"] = "请填写户码。"
        if errors:
            status = 422
        else:
            d = logic.by_number(number, code)
            if d is None:
                errors["number"] = "未找到该诉求，请核对诉求编号和户码。"
                status = 404
    return render("demands/public/track.html", d=d, number=number, code=code, errors=errors,
                  steps=logic.public_timeline(d) if d else [], new=request.args.get("new") == "1" and d is not None,
                  **_labels()), status
