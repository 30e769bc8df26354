"""四项清单 (/fourlists/…): the lists of a community and year, an item's page with its progress
reports, adding items (also from a demand or an agenda item), the Excel sheet. Thin views over
logic.py."""
from __future__ import annotations

from io import BytesIO

from flask import g, request, send_file, url_for
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy
from ..demands.models import Demand
from ..extensions import db
from ..formutil import record_id
from ..meetings.models import AgendaItem
from ..org import pickers
from ..org.models import Compound, Firm
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, save, tenant_blueprint
from . import logic
from .forms import ItemForm, ReportForm
from .models import KINDS, OWNER_KINDS, STATES, FourListItem

bp = tenant_blueprint("fourlists", __name__, "/fourlists")


@bp.app_context_processor
def _nav():
    mem = g.get("membership")
    shown = mem is not None and policy.reaches(mem, FourListItem)
    return {"fourlist_nav": [("fourlists.index", "list-columns", "四项清单")] if shown else []}


@bp.app_context_processor
def _listed():
    """For a demand's or agenda item's page: the 需求清单 item it became, or whether the viewer
    may list it (rule 6)."""
    def fourlist_of(demand=None, agenda_item=None):
        mem = g.get("membership")
        if mem is None or not policy.reaches(mem, FourListItem):
            return None, False
        item = logic.listed_from(demand=demand, agenda_item=agenda_item)
        if item is not None and db.session.execute(select(FourListItem.id).where(
                FourListItem.id == item.id, policy.visible(mem, FourListItem))).first() is None:
            item = None
        return item, item is None and logic.may_keep(mem)
    return {"fourlist_of": fourlist_of}


def _year(args) -> int:
    y = record_id(args.get("year"))
    return y if y and logic.YEAR_MIN <= y <= logic.YEAR_MAX else today().year


@bp.route("/")
def index():
    m, args = current_membership(), request.args
    year, community_id = _year(args), record_id(args.get("community_id"))
    flags = {"overdue": args.get("overdue") == "1", "priority": args.get("priority") == "1"}
    stmt = logic.items_select(m, year, community_id, args.get("kind", ""), args.get("state", ""),
                              (args.get("q") or "").strip()[:100], **flags).options(
        joinedload(FourListItem.community), joinedload(FourListItem.compound))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    return render("fourlists/index.html", "fourlists/_table.html", page=page, args=args, year=year,
                  community_id=community_id, communities=pickers.communities(m), kinds=KINDS, states=STATES,
                  summary=logic.summary(m, year, community_id), today=today(),
                  may_keep=logic.may_keep(m), filtered=any(args.get(n) for n in ("kind", "state", "q", "overdue",
                                                                                   "priority")))


def _choices(form: ItemForm, m) -> None:
    pickers.community_choices(form, m)
    firms = db.session.execute(select(Firm).where(policy.visible(m, Firm)).order_by(Firm.name)).scalars()
    form.firm_id.choices = [(None, "—")] + [(f.id, f.name) for f in firms]


def _data(form: ItemForm) -> logic.ItemData:
    return logic.ItemData(form.community_id.data, form.year.data, form.kind.data, form.title.data or "",
                          form.detail.data or "", form.owner_kind.data, form.owner_name.data or "",
                          form.firm_id.data, form.compound_id.data, form.due_on.data, form.priority.data)


def _source(form: ItemForm | None = None):
    """The demand or agenda item a new 需求 item comes from (in scope, else 404)."""
    raw = form.demand_id.data if form else request.args.get("demand_id")
    demand = get_or_404(Demand, record_id(raw) or 0) if raw else None
    raw = form.agenda_item_id.data if form else request.args.get("agenda_item_id")
    agenda = get_or_404(AgendaItem, record_id(raw) or 0) if raw else None
    return demand, agenda


@bp.route("/new", methods=["GET", "POST"])
def new():
    m = current_membership()
    require("manage", "fourlist")
    form = ItemForm()
    _choices(form, m)
    demand, agenda = _source(form if request.method == "POST" else None)
    if request.method == "GET":
        form.year.data = _year(request.args)
        form.kind.data = request.args.get("kind") if request.args.get("kind") in KINDS else "need"
        form.community_id.data = record_id(request.args.get("community_id")) or (
            m.community_id if m.role == "community_staff" else None)
        source = demand or agenda
        if source is not None:
            form.kind.data, form.title.data = "need", source.title
            form.detail.data = getattr(source, "description", None) or getattr(source, "detail", "") or ""
            form.compound_id.data = source.compound_id
            form.community_id.data = (db.session.get(Compound, source.compound_id).community_id
                                      if source.compound_id else getattr(source, "community_id", None))
            form.demand_id.data = str(demand.id) if demand else ""
            form.agenda_item_id.data = str(agenda.id) if agenda else ""
            existing = logic.listed_from(demand=demand, agenda_item=agenda)
            if existing is not None:
                form.title.errors = [f"已列入 {existing.year} 年需求清单：{existing.title}"]
    done = save(form, lambda: logic.create_item(m, _data(form), current_user.id, demand=demand, agenda_item=agenda),
                lambda item: f"已列入{KINDS[item.kind]}：{item.title}",
                lambda item: url_for("fourlists.detail", four_list_item_id=item.id), (logic.FourListProblem,))
    return done or (render("fourlists/form.html", form=form, item=None, source=demand or agenda,
                           demand=demand, agenda=agenda), 422 if request.method == "POST" else 200)


@bp.route("/<int:four_list_item_id>/edit", methods=["GET", "POST"])
def edit(four_list_item_id):
    m = current_membership()
    item = get_or_404(FourListItem, four_list_item_id)
    require("manage", "fourlist")
    form = ItemForm(obj=item)
    _choices(form, m)
    done = save(form, lambda: logic.edit_item(m, item, _data(form)), f"已保存：{item.title}",
                url_for("fourlists.detail", four_list_item_id=item.id), (logic.FourListProblem,))
    return done or (render("fourlists/form.html", form=form, item=item, source=None, demand=None, agenda=None),
                    422 if request.method == "POST" else 200)


def _detail(item: FourListItem, form: ReportForm, status: int = 200):
    m = current_membership()
    return render("fourlists/detail.html", item=item, form=form, kinds=KINDS, states=STATES,
                  owner_kinds=OWNER_KINDS, today=today(), may_report=logic.may_report(m, item),
                  may_edit=logic.may_keep(m, item.community_id)), status


@bp.route("/<int:four_list_item_id>")
def detail(four_list_item_id):
    item = get_or_404(FourListItem, four_list_item_id)
    form = ReportForm(formdata=None, state=item.state if item.state != "planned" else "doing", progress=item.progress)
    return _detail(item, form)


def _author(m) -> str:
    unit = m.firm.name if m.role in policy.FIRM_ROLES and m.firm else m.role_label
    return f"{current_user.display_name}（{unit}）"


@bp.route("/<int:four_list_item_id>/report", methods=["POST"])
def report(four_list_item_id):
    m = current_membership()
    item = get_or_404(FourListItem, four_list_item_id)
    require("report", "fourlist_report")
    form = ReportForm()
    done = save(form, lambda: logic.report(m, item, form.state.data, form.progress.data, form.note.data,
                                           current_user.id, _author(m)),
                lambda u: f"已记录进展：{STATES[u.state]} {u.progress}%",
                url_for("fourlists.detail", four_list_item_id=item.id), (logic.FourListProblem,))
    return done or _detail(item, form, 422)


@bp.route("/export.xlsx")
def export():
    m, args = current_membership(), request.args
    year, community_id = _year(args), record_id(args.get("community_id"))
    items = db.session.execute(logic.items_select(m, year, community_id).options(
        joinedload(FourListItem.community), joinedload(FourListItem.compound))).scalars().all()
    wb = Workbook()
    wb.remove(wb.active)
    day = today()
    for kind, label in KINDS.items():
        ws = wb.create_sheet(label)
        ws.append([f"{year} 年{label}"])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append(["序号", "社区", "事项", "内容说明", "责任主体", "责任单位/责任人", "涉及小区", "完成时限",
                   "状态", "进度", "为民服务项目"])
        for c in ws[2]:
            c.font = Font(bold=True)
        rows = [i for i in items if i.kind == kind]
        for n, i in enumerate(rows, start=1):
            state = STATES[i.state] + ("（逾期）" if i.overdue(day) else "")
            ws.append([n, i.community.name, i.title, i.detail, OWNER_KINDS.get(i.owner_kind, i.owner_kind),
                       i.owner_name, i.compound.name if i.compound else "", i.due_on, state, i.progress / 100,
                       "是" if i.priority else ""])
            ws.cell(ws.max_row, 10).number_format = "0%"
            ws.cell(ws.max_row, 8).number_format = "yyyy-mm-dd"
        for col, width in zip("ABCDEFGHIJK", (6, 16, 36, 40, 14, 24, 16, 12, 12, 8, 12)):
            ws.column_dimensions[col].width = width
        for row in ws.iter_rows(min_row=3):
            for c in row[2:4]:
                c.alignment = Alignment(wrap_text=True, vertical="top")
    buf = BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"四项清单-{year}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
