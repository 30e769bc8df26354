"""Ledgers (账目): overview, entries, new entry, reversal, period statement, voucher download.
There is deliberately no edit and no delete route: a correction is a reversing entry."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from .. import timeutil
from ..extensions import db
from ..formutil import attach_errors, record_id
from ..org.models import Compound
from ..web import current_membership, get_or_404, page_arg, render, require, send_voucher, tenant_blueprint, uploads
from ..money import fmt_yuan
from . import accounts, fee_income, ledger
from .publications import may_publish
from ..money import to_fen
from .forms import EntryForm, ReverseForm
from .models import KEEPERS, LEDGER_KINDS, LedgerEntry, LedgerVoucher

bp = tenant_blueprint("ledgers", __name__, "/ledgers")
KIND = "<any(public_revenue, maintenance_fund, fee_account):kind>"


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/")
def index():
    m, today = current_membership(), timeutil.today()
    q = request.args.get("q", "")
    page = db.paginate(accounts.compounds_query(m, q), page=page_arg(), per_page=20, error_out=False)
    ids = [c.id for c in page.items]
    rows = [(c, accounts.kinds_for(c.id, today)) for c in page.items]
    return render("publicity/ledgers/index.html", "publicity/ledgers/_compounds.html", page=page, rows=rows,
                  bal=accounts.balances(ids), kinds=LEDGER_KINDS, args=request.args, q=q,
                  keepers={k: accounts.keeper_of(k) for k in LEDGER_KINDS},
                  can_add=bool(accounts.keepable(m, today)))


@bp.route("/keepers", methods=["GET", "POST"])
def keepers():
    """The district decides who keeps each kind of ledger (and so who publishes it)."""
    require("manage", "publicity_config")
    current = {kind: accounts.keeper_of(kind) for kind in LEDGER_KINDS}
    if request.method == "POST":  # CSRF checked by CSRFProtect
        chosen = {kind: request.form.get(kind, "") for kind in LEDGER_KINDS}
        bad = [LEDGER_KINDS[k] for k, v in chosen.items() if v not in KEEPERS]
        if bad:
            flash(f"请为{'、'.join(bad)}选择记账人。", "error")
            return render("publicity/ledgers/keepers.html", current=chosen, kinds=LEDGER_KINDS,
                          keepers=KEEPERS), 422
        changed = accounts.set_keepers(chosen)
        db.session.commit()
        flash("记账人设置已保存。" if changed else "记账人设置未改变。", "success")
        return redirect(url_for("ledgers.keepers"))
    return render("publicity/ledgers/keepers.html", current=current, kinds=LEDGER_KINDS, keepers=KEEPERS)


@bp.route(f"/<int:compound_id>/{KIND}")
def entries(compound_id: int, kind: str):
    compound = get_or_404(Compound, compound_id)
    m, today = current_membership(), timeutil.today()
    q, start, end = request.args.get("q", ""), _date_arg("start"), _date_arg("end")
    page = db.paginate(accounts.entries_query(compound.id, kind, q, start, end), page=page_arg(),
                       per_page=30, error_out=False)
    active = kind in accounts.kinds_for(compound.id, today)
    incomes = fee_income.months(compound.id, today) if kind == fee_income.KIND and active else []
    return render("publicity/ledgers/entries.html", "publicity/ledgers/_entries.html", compound=compound,
                  kind=kind, kinds=LEDGER_KINDS, page=page, args=request.args, q=q,
                  reversed_by=accounts.reversed_by([e.id for e in page.items]), who=accounts.entered_by(page.items),
                  balance=ledger.balance(compound.id, kind), active=active, incomes=incomes,
                  keeper=accounts.keeper_of(kind), may_write=accounts.keeps(m, compound.id, kind))


@bp.route("/<int:compound_id>/fee_account/from-payments", methods=["POST"])
def post_fee_income(compound_id: int):
    """缴费汇总入账: the month's payments not yet in the 物业费收支 ledger, as one entry."""
    compound = get_or_404(Compound, compound_id)
    m, today = current_membership(), timeutil.today()
    if not accounts.keeps(m, compound.id, fee_income.KIND):
        abort(403)
    if fee_income.KIND not in accounts.kinds_for(compound.id, today):
        abort(409)   # not a 酬金制 compound: it keeps no 物业费收支 ledger
    back = url_for("ledgers.entries", compound_id=compound.id, kind=fee_income.KIND)
    try:   # CSRF checked by CSRFProtect
        month = date.fromisoformat(request.form.get("month", "") + "-01")
    except ValueError:
        flash("请选择要汇总的月份。", "error")
        return redirect(back)
    try:
        entry = fee_income.post(compound.id, month, today, user=m.user)
    except ledger.LedgerProblem as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(back)
    db.session.commit()
    flash(f"已将{month:%Y年%m月}的缴费计入账目：{fmt_yuan(entry.amount_fen)}（#{entry.id}）。", "success")
    return redirect(back)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Without (compound, kind) a chooser of the ledgers the user keeps; with them the form."""
    m, today = current_membership(), timeutil.today()
    cid, kind = request.args.get("compound_id", ""), request.args.get("kind", "")
    if not record_id(cid) or kind not in LEDGER_KINDS:
        return render("publicity/ledgers/choose.html", choices=accounts.keepable(m, today), kinds=LEDGER_KINDS)
    compound = get_or_404(Compound, int(cid))
    if not accounts.keeps(m, compound.id, kind):
        abort(403)
    form = EntryForm(data={"entry_date": today} if request.method == "GET" else None)
    form.set_kind(kind)
    if form.validate_on_submit():
        d = accounts.EntryData(form.entry_date.data, form.direction.data, form.category.data,
                               to_fen(form.amount.data), form.counterparty.data.strip(),
                               (form.voucher_no.data or "").strip(), (form.note.data or "").strip())
        entry, errors, moved = accounts.record_entry(m, compound.id, kind, d, uploads("vouchers"),
                                              current_app.config["UPLOAD_FOLDER"], today, user=m.user)
        if entry is not None:
            db.session.commit()
            flash(f"已记账：{accounts.DIRECTIONS[d.direction]} · {entry.category} {fmt_yuan(abs(entry.amount_fen))}。", "success")
            if moved:
                flash(f"维修资金余额不足首期交存额的 30%，按本区规定（北京市物业管理条例第七十四条）已将其中 "
                      f"{fmt_yuan(moved)} 转入专项维修资金（公共收益“补充维修资金”支出、维修资金“公共收益转入”收入各一笔）。",
                      "warning")
            return redirect(url_for("ledgers.entries", compound_id=compound.id, kind=kind))
        db.session.rollback()
        attach_errors(form, errors)
    status = 422 if request.method == "POST" else 200
    return render("publicity/ledgers/new.html", form=form, compound=compound, kind=kind, kinds=LEDGER_KINDS), status


@bp.route("/entries/<int:ledger_entry_id>")
def entry(ledger_entry_id: int):
    """One entry with its vouchers and reversal links; `?reverse=1` is the confirmation step."""
    e = get_or_404(LedgerEntry, ledger_entry_id)
    return _entry_page(e, ReverseForm(), request.args.get("reverse") == "1")


def _entry_page(e: LedgerEntry, form, confirming: bool, status: int = 200):
    m = current_membership()
    rev = accounts.reversal_of(e)
    may_reverse = accounts.keeps(m, e.compound_id, e.kind) and rev is None and e.reverses_id is None
    return render("publicity/ledgers/entry.html", e=e, reversal=rev, form=form, kinds=LEDGER_KINDS,
                  who=accounts.entered_by([e]),
                  may_reverse=may_reverse,
                  # a refused POST keeps the form so its message shows next to the field
                  confirming=confirming and (may_reverse or bool(form.errors))), status


@bp.route("/entries/<int:ledger_entry_id>/reverse", methods=["POST"])
def reverse(ledger_entry_id: int):
    e = get_or_404(LedgerEntry, ledger_entry_id)
    m = current_membership()
    if not accounts.keeps(m, e.compound_id, e.kind):
        abort(403)
    form = ReverseForm()
    if form.validate_on_submit():
        rev, problem = accounts.reverse_entry(e, form.reason.data, timeutil.today(), user=m.user)
        if rev is not None:
            db.session.commit()
            flash("已生成冲销分录，原分录保持不变。", "success")
            return redirect(url_for("ledgers.entry", ledger_entry_id=rev.id))
        attach_errors(form, {"reason": problem})
    return _entry_page(e, form, True, 422)


@bp.route(f"/<int:compound_id>/{KIND}/statement")
def statement(compound_id: int, kind: str):
    compound = get_or_404(Compound, compound_id)
    today = timeutil.today()
    raw = MultiDict(request.args)
    start = _date_arg("start") or date(today.year, 1, 1)
    end = _date_arg("end") or today
    errors = {}
    for name in ("start", "end"):
        if raw.get(name) and _date_arg(name) is None:
            errors[name] = "日期格式不正确"
    if start > end:
        errors["end"] = "结束日期不能早于开始日期"
    st = None if errors else ledger.statement(compound.id, kind, start, end)
    return render("publicity/ledgers/statement.html", compound=compound, kind=kind, kinds=LEDGER_KINDS,
                  st=st, start=start, end=end, errors=errors,
                  may_publish=may_publish(current_membership(), compound.id, "ledger_statement", kind, today)), \
        (422 if errors else 200)


@bp.route("/vouchers/<int:ledger_voucher_id>")
def voucher(ledger_voucher_id: int):
    """A voucher file, only to those who see its entry (scope via the policy)."""
    return send_voucher(get_or_404(LedgerVoucher, ledger_voucher_id))
