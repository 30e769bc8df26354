"""Exit and handover pages (thin views over logic.py): the list in scope, starting an exit, an
exit's page with its timeline and handover checklist, naming the incoming side, signing and
disputing lines, and the district's rule."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..credit.models import FirmFlag
from ..demands.models import Demand
from ..extensions import db
from ..formutil import record_id
from ..money import to_fen
from ..org.models import Firm
from ..timeutil import today
from ..votes.models import OwnerVote
from ..web import current_membership, get_or_404, page_arg, render, require, save, tenant_blueprint
from . import logic
from .forms import DisputeForm, IncomingForm, RuleForm, SignForm, StartForm
from .models import INCOMING_KINDS, ITEM_KINDS, ITEM_STATUSES, SIDES, SOURCES, STATUSES, FirmExit, HandoverItem

bp = tenant_blueprint("exits", __name__, "/exits")
REFUSALS = (logic.ExitProblem,)


@bp.route("/")
def index():
    m, args = current_membership(), request.args
    tab = args.get("tab") if args.get("tab") in logic.TABS else "open"
    side = args.get("side") if args.get("side") in logic.FIRM_SIDES and m.role in policy.FIRM_ROLES else ""
    stmt = logic.exits_select(m, tab, args.get("q", ""), side=side).options(
        joinedload(FirmExit.compound), joinedload(FirmExit.firm), joinedload(FirmExit.items))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    counts = {t: db.session.execute(select(func.count()).select_from(
        logic.exits_select(m, t, side=side).order_by(None).subquery())).scalar_one() for t in ("open", "overdue")}
    return render("exits/index.html", "exits/_table.html", page=page, args=args, tab=tab, tabs=logic.TABS,
                  side=side, firm_sides=logic.FIRM_SIDES if m.role in policy.FIRM_ROLES else {},
                  counts=counts, sources=SOURCES, statuses=STATUSES, today=today(),
                  may_start=policy.can(m, "start", "exit"), may_config=policy.can(m, "edit", "exit_config"),
                  flagged=logic.flagged_for_exit(m) if policy.can(m, "start", "exit") else [],
                  filtered=bool(args.get("q") or side))


def _start_choices(form: StartForm, m) -> dict:
    contracts = logic.exitable_contracts(m)
    form.contract_id.choices = [("", "请选择")] + [
        (str(c.id), f"{c.compound.name} · {c.firm.name}（{c.start_date:%Y-%m-%d}～{c.end_date:%Y-%m-%d}）")
        for c in contracts]
    compounds = {c.compound_id for c in contracts}
    votes = [v for cid in sorted(compounds) for v in logic.dismissal_votes(cid)]
    form.vote_id.choices = [("", "（不续聘时不选）")] + [
        (str(v.id), f"{v.compound.name}：{v.title}（{v.closes_on or ''} 计票通过）") for v in votes]
    return {str(c.id): c for c in contracts} | {"votes": {str(v.id): v for v in votes}}


@bp.route("/new", methods=["GET", "POST"])
def new():
    require("start", "exit")
    m = current_membership()
    form = StartForm()
    known = _start_choices(form, m)
    if request.method == "GET":
        form.notice_on.data = today()
        wanted = request.args.get("contract_id", "")
        if wanted in known:
            form.contract_id.data = wanted

    def start():
        contract = known.get(form.contract_id.data)
        if contract is None:
            raise logic.ExitProblem("请选择合同。", "contract_id")
        return logic.start_exit(contract, form.reason.data, source=form.source.data, notice_on=form.notice_on.data,
                                vote=known["votes"].get(form.vote_id.data or ""), user_id=m.user_id)
    return (save(form, start, _started, _exit_page, REFUSALS)
            or (render("exits/new.html", form=form), 422 if form.errors else 200))


def _started(x: FirmExit) -> str:
    return f"已启动退出程序：{x.firm.name}退出{x.compound.name}，{x.effective_on:%Y-%m-%d}生效。"


def _exit_page(x: FirmExit) -> str:
    return url_for("exits.detail", firm_exit_id=x.id)


@bp.route("/from-flag/<int:firm_flag_id>", methods=["POST"])
def start_from_flag(firm_flag_id):
    """启动退出程序 decided by a published evaluation (its consequence flag)."""
    flag = get_or_404(FirmFlag, firm_flag_id)
    require("start", "exit")
    m = current_membership()

    def refused(problems):
        flash("；".join(problems.values()), "error")
        return redirect(url_for("exits.index"))
    return save(None, lambda: logic.start_from_flag(m, flag, m.user_id), _started, _exit_page, REFUSALS, refused)


def _incoming_choices(form: IncomingForm, x: FirmExit) -> None:
    form.draft_id.choices = [("", "（新建合同）")] + [
        (str(c.id), f"{c.firm.name}（{c.start_date:%Y-%m-%d}～{c.end_date:%Y-%m-%d}，{c.service_grade}）")
        for c in logic.draft_contracts(x.compound_id)]
    firms = db.session.execute(select(Firm.id, Firm.name).where(Firm.id != x.firm_id).order_by(Firm.name)).all()
    form.firm_id.choices = [("", "请选择")] + [(str(i), n) for i, n in firms]


def _page(x: FirmExit, status: int = 200, **forms):
    m = current_membership()
    side = logic.side_of(m, x)
    incoming_form = forms.get("incoming") or IncomingForm(formdata=None, kind=x.incoming_kind or "firm")
    _incoming_choices(incoming_form, x)
    demands = db.session.execute(logic.open_demands_select(x).limit(50)).scalars().all()
    seen = set(db.session.execute(select(Demand.id).where(
        Demand.id.in_([d.id for d in demands]), policy.visible(m, Demand))).scalars()) if demands else set()
    may_incoming = (policy.can(m, "start", "exit") and x.status == "open"
                    and not any(i.status == "signed" for i in x.items))
    return render("exits/detail.html", x=x, timeline=logic.timeline(x), figures=logic.live_figures(x),
                  demands=demands, linked_demands=seen, side=side, sides=SIDES, sources=SOURCES,
                  statuses=STATUSES, incoming_kinds=INCOMING_KINDS, item_kinds=ITEM_KINDS,
                  item_statuses=ITEM_STATUSES, incoming_form=incoming_form, may_incoming=may_incoming,
                  sign_form=forms.get("sign") or SignForm(formdata=None),
                  dispute_form=forms.get("dispute") or DisputeForm(formdata=None),
                  blank_sign=SignForm(formdata=None), blank_dispute=DisputeForm(formdata=None),
                  form_item=forms.get("item_id"), today=today(),
                  vote=db.session.get(OwnerVote, x.vote_id) if x.vote_id else None), status


@bp.route("/<int:firm_exit_id>")
def detail(firm_exit_id):
    return _page(get_or_404(FirmExit, firm_exit_id))


@bp.route("/<int:firm_exit_id>/incoming", methods=["POST"])
def incoming(firm_exit_id):
    x = get_or_404(FirmExit, firm_exit_id)
    require("start", "exit")
    form = IncomingForm()
    _incoming_choices(form, x)

    def act():
        new = logic.NewContract(record_id(form.firm_id.data or ""), form.end_date.data, form.service_grade.data or "",
                                form.fee_mode.data or "", form.fee_rate.data)
        logic.set_incoming(x, form.kind.data, record_id(form.draft_id.data or ""), new)
    done = save(form, act, lambda _: f"接管方：{INCOMING_KINDS[x.incoming_kind]}"
                + (f"（{x.incoming_contract.firm.name}）" if x.incoming_contract else ""), _exit_page(x), REFUSALS)
    return done or _page(x, 422, incoming=form)


def _item(handover_item_id) -> HandoverItem:
    return get_or_404(HandoverItem, handover_item_id)


@bp.route("/items/<int:handover_item_id>/sign", methods=["POST"])
def sign(handover_item_id):
    item = _item(handover_item_id)
    require("sign", "handover")
    x = item.exit
    form = SignForm()
    done = save(form, lambda: logic.sign(current_membership(), item, form.note.data,
                                         to_fen(form.amount.data) if form.amount.data is not None else None),
                lambda completed: f"交接已完成：{x.compound.name}由接管方服务，自 {x.handover_on:%Y-%m-%d} 起。"
                if completed else f"已签收：{item.label}", _exit_page(x), REFUSALS)
    return done or _page(x, 422, sign=form, item_id=item.id)


@bp.route("/items/<int:handover_item_id>/dispute", methods=["POST"])
def dispute(handover_item_id):
    item = _item(handover_item_id)
    require("sign", "handover")
    x = item.exit
    form = DisputeForm()
    done = save(form, lambda: logic.dispute(current_membership(), item, form.reason.data),
                f"已提出争议：{item.label}", _exit_page(x), REFUSALS, category="warning")
    return done or _page(x, 422, dispute=form, item_id=item.id)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require("edit", "exit_config")
    r = logic.rule()
    form = RuleForm(obj=r) if request.method == "GET" else RuleForm()
    done = save(form, lambda: logic.save_rule(form.grace_days.data, form.record_refusal.data), "退出交接规则已保存。",
                url_for("exits.index"), REFUSALS)
    return done or (render("exits/settings.html", form=form), 422 if form.errors else 200)
