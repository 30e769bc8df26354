"""合同备案 pages: the lists (filings, 未备案, 审核中, 即将到期) with their Excel export, a firm's
filing of a new contract or one on record, a filing's page with its review step and refiling,
the attachments, and the district's settings (thin views over filing.py)."""
from __future__ import annotations

import io

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for

from .. import policy
from ..extensions import db
from ..formutil import record_id
from ..org.models import Compound, Contract
from ..org.resources import rate_text
from ..timeutil import fmt_datetime, local, now, today
from ..web import (
    current_membership, get_or_404, page_arg, render, require, save, send_voucher, tenant_blueprint, uploads,
)
from . import filing
from .forms import FilingForm, NewFilingForm, ReviewForm, RuleForm
from .models import CONTRACT_KINDS, FILING_STATUSES, LEVELS, ContractFiling, FilingFile

bp = tenant_blueprint("contracts", __name__, "/filings")

PER_PAGE = 20
TABS = {"filings": "备案申请", "unfiled": "未备案合同", "review": "审核中", "expiring": "即将到期"}
STAFF_TABS = ("unfiled", "review", "expiring")


@bp.app_context_processor
def _contracts_nav():
    m = g.get("membership")
    if m is None or not policy.reaches(m, ContractFiling):
        return {"contracts_nav": []}
    return {"contracts_nav": [("contracts.index", "file-earmark-check", _heading(m))]}


def _heading(m) -> str:
    return "我的合同备案" if m.role in policy.FIRM_ROLES else "合同备案"


def _tabs(m) -> list[str]:
    return ["filings"] + (list(STAFF_TABS) if filing.is_list_reader(m) else [])


def _q() -> str:
    return (request.args.get("q") or "").strip()[:40]


def _select(m, tab: str, d, r):
    q = _q()
    if tab == "unfiled":
        return filing.unfiled_select(m, d, q)
    if tab == "review":
        return filing.in_review_select(m, d, request.args.get("late") == "1", q)
    if tab == "expiring":
        return filing.expiring_select(m, d, r.expiring_days, q)
    status = request.args.get("status", "")
    return filing.filings_select(m, status if status in FILING_STATUSES or status == "open" else "", q)


def _tab(m) -> str:
    tab = request.args.get("tab", "filings")
    if tab not in TABS:
        tab = "filings"
    if tab not in _tabs(m):
        abort(403)
    return tab


@bp.route("/")
def index():
    m, d = current_membership(), today()
    if not policy.reaches(m, ContractFiling):
        abort(403)
    tab, r = _tab(m), filing.rule()
    page = db.paginate(_select(m, tab, d, r), page=page_arg(), per_page=PER_PAGE, error_out=False)
    priority = (filing.renewal_priority([(c.firm_id, c.compound_id) for c in page.items])
                if tab == "expiring" else set())
    return render("contracts/index.html", heading=_heading(m), tab=tab, tabs=[(t, TABS[t]) for t in _tabs(m)],
                  page=page, today=d,
                  rule=r, priority=priority, statuses=FILING_STATUSES, kinds=CONTRACT_KINDS, levels=LEVELS,
                  overdue=filing.overdue, q=_q(), args=request.args, rate_text=rate_text,
                  to_file=filing.contracts_to_file(m) if tab == "filings" else [],
                  may_file=filing.is_filer(m), may_configure=policy.can(m, "configure", "filing_config"))


@bp.route("/export.xlsx")
def export():
    from openpyxl import Workbook

    m, d = current_membership(), today()
    if not policy.reaches(m, ContractFiling):
        abort(403)
    tab, r = _tab(m), filing.rule()
    rows = db.session.execute(_select(m, tab, d, r)).unique().scalars().all()
    wb = Workbook()
    ws = wb.active
    ws.title = TABS[tab]
    if tab in ("unfiled", "expiring"):
        priority = filing.renewal_priority([(c.firm_id, c.compound_id) for c in rows]) if tab == "expiring" else set()
        ws.append(["街道", "社区", "小区", "物业服务企业", "服务等级", "收费方式", "标准（元/㎡·月）", "起始日期",
                   "终止日期", "剩余天数"] + (["优先续约"] if tab == "expiring" else []))
        for c in rows:
            ws.append([c.compound.community.street.name, c.compound.community.name, c.compound.name, c.firm.name,
                       c.service_grade, c.fee_mode, float(c.fee_rate), c.start_date, c.end_date,
                       (c.end_date - d).days]
                      + (["是（红榜）" if (c.firm_id, c.compound_id) in priority else ""] if tab == "expiring" else []))
    else:
        ws.append(["小区", "物业服务企业", "合同类型", "服务等级", "标准（元/㎡·月）", "合同期限", "状态", "当前环节时限",
                   "已逾期", "提交时间", "备案编号", "备案日期"])
        for f in rows:
            ws.append([f.compound.name, f.firm.name, CONTRACT_KINDS.get(f.kind, f.kind), f.service_grade,
                       float(f.fee_rate), f"{f.start_date:%Y-%m-%d}～{f.end_date:%Y-%m-%d}",
                       FILING_STATUSES.get(f.status, f.status), f.due_on,
                       "是" if filing.overdue(f, d) else "", fmt_datetime(f.submitted_at), f.number or "", f.filed_on])
    ws.append([f"导出时间：{fmt_datetime(now())}，共 {len(rows)} 条"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"{TABS[tab]}-{local(now()):%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- filing -------------------------------------------------------------------------------------

def _data(form) -> filing.FilingData:
    return filing.FilingData(form.kind.data or None, form.service_grade.data or None, form.fee_mode.data or None,
                             form.fee_rate.data, form.start_date.data, form.end_date.data)


def _submit(form, act, done: str, title: str, contract, filing_row=None, cancel=None):
    """A firm's filing form (new, of a contract on record, refiled): `act(terms, files, folder)`
    files it and gives the filing, whose page follows; else the form again."""
    sent = save(form, lambda: act(_data(form), uploads("files"), current_app.config["UPLOAD_FOLDER"]),
                done, lambda f: url_for("contracts.show", contract_filing_id=f.id), (filing.FilingProblem,))
    return sent or (render("contracts/form.html", form=form, title=title, contract=contract, filing_row=filing_row,
                           cancel=cancel or url_for("contracts.index")), 422 if request.method == "POST" else 200)


@bp.route("/new", methods=["GET", "POST"])
def new():
    m = current_membership()
    require("file", "contract_filing")
    form = NewFilingForm()
    choices = filing.compound_choices(m)
    form.compound_id.choices = [("", "请选择…")] + [(cid, name) for cid, name in choices]
    compound = None
    if request.method == "POST":
        cid = record_id(request.form.get("compound_id", ""))
        # A compound outside what the firm may file for does not exist for it.
        compound = db.session.get(Compound, cid) if cid else None
        if cid and (compound is None or not filing.may_file_for(m, cid)):
            abort(404)
    return _submit(form, lambda *a: filing.file_new(m, compound, *a),
                   lambda f: f"已提交备案：{compound.name}，等待社区审核。", "备案新合同", None)


@bp.route("/contract/<int:contract_id>", methods=["GET", "POST"])
def file_contract(contract_id):
    c, m = get_or_404(Contract, contract_id), current_membership()
    require("file", "contract_filing")
    if not filing.may_file_contract(m, c):
        abort(403)
    form = FilingForm(data=vars(filing.filing_data(c)) if request.method == "GET" else None)
    return _submit(form, lambda *a: filing.file_existing(m, c, *a), f"已提交备案：{c.compound.name}，等待社区审核。",
                   f"合同备案 · {c.compound.name}", c)


def _page(f: ContractFiling, review_form=None, status=200):
    m, d = current_membership(), today()
    return render("contracts/show.html", f=f, kinds=CONTRACT_KINDS, statuses=FILING_STATUSES, levels=LEVELS,
                  late=filing.overdue(f, d), level=filing.review_level(m, f), may_refile=filing.may_refile(m, f),
                  review_form=review_form or ReviewForm(formdata=None), rate_text=rate_text,
                  guided=filing.guided_range(f.compound_id, f.service_grade, f.start_date),
                  record=filing.record_text(f) if f.status == "filed" else ""), status


@bp.route("/<int:contract_filing_id>")
def show(contract_filing_id):
    return _page(get_or_404(ContractFiling, contract_filing_id))


def _reviewed(f: ContractFiling) -> str:
    if f.status == "filed":
        return f"已核准备案，备案编号 {f.number}。"
    if f.status == "returned":
        return "已退回企业修改。"
    return f"已通过，转{LEVELS[f.status]}审核。"


@bp.route("/<int:contract_filing_id>/review", methods=["POST"])
def review(contract_filing_id):
    f = get_or_404(ContractFiling, contract_filing_id)
    require("review", "contract_review")
    m = current_membership()
    if filing.review_level(m, f) is None:
        abort(403)
    form = ReviewForm()
    done = save(form, lambda: filing.review(m, f, form.decision.data == "approve", form.reason.data),
                lambda _: _reviewed(f), url_for("contracts.show", contract_filing_id=f.id), (filing.FilingProblem,))
    return done or _page(f, form, 422)


@bp.route("/<int:contract_filing_id>/refile", methods=["GET", "POST"])
def refile(contract_filing_id):
    f, m = get_or_404(ContractFiling, contract_filing_id), current_membership()
    require("file", "contract_filing")
    if not filing.may_refile(m, f):
        abort(403)
    form = FilingForm(data=vars(filing.filing_data(f)) if request.method == "GET" else None)
    return _submit(form, lambda *a: filing.refile(m, f, *a) or f, "已修改并重新提交，等待社区审核。",
                   f"修改后重新提交 · {f.compound.name}", f.contract, f, url_for("contracts.show", contract_filing_id=f.id))


@bp.route("/files/<int:filing_file_id>")
def attachment(filing_file_id):
    """An attachment, only to those who see its filing (scope via the policy)."""
    return send_voucher(get_or_404(FilingFile, filing_file_id))


# --- the district's settings --------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require("configure", "filing_config")
    r = filing.rule()
    form = RuleForm(data=vars(r) if request.method == "GET" else None)
    if form.validate_on_submit():
        filing.save_rule(filing.Rule(form.community_days.data, form.street_days.data, form.district_days.data,
                                     form.expiring_days.data, form.number_prefix.data.strip()))
        db.session.commit()
        flash("合同备案设置已保存。", "success")
        return redirect(url_for("contracts.settings"))
    return render("contracts/settings.html", form=form), 422 if request.method == "POST" else 200
