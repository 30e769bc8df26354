"""Billing pages: start a run and follow it, the runs, the bills, a bill and its credit notes.
Thin: parse → billing.* → render."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..jobs import Busy, JobRun
from ..money import to_fen
from ..jobs import check as check_job
from ..org.models import Compound, Firm, Street
from ..timeutil import fmt_datetime, today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from ..org import pickers
from . import billing
from .billing_forms import CreditForm, RunForm
from .jobs import running_run, submit
from .models import Bill, BillingRun, BillSum
from ..formutil import record_id

bp = tenant_blueprint("billing", __name__, "/fees")

FIRM_ROLES = ("firm_manager", "firm_staff")


@bp.route("/runs/")
def runs():
    require("run", "billing")
    stmt = (select(BillingRun).where(policy.visible(current_membership(), BillingRun))
            .order_by(BillingRun.id.desc()))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    jobs = {r.id: r for r in db.session.execute(select(JobRun).where(
        JobRun.id.in_([b.job_run_id for b in page.items if b.job_run_id])))
        .scalars()} if page.items else {}
    for job in jobs.values():
        if not job.finished:
            check_job(job)  # a dead worker's run shows 失败, not 进行中 forever
    return render("fees/billing/runs.html", "fees/billing/_runs.html", page=page, jobs=jobs, args=request.args)


def _firm_compound_guard(m, value: str) -> None:
    """A firm naming a compound it never served gets a 404, like any out-of-scope record."""
    kind, _, raw = (value or "").partition(":")
    if m.role in FIRM_ROLES and kind == "compound":
        if record_id(raw) not in {cid for cid, _ in billing.firm_compounds(m.firm_id)}:
            abort(404)


@bp.route("/runs/new", methods=["GET", "POST"])
def new_run():
    require("run", "billing")
    m = current_membership()
    form = RunForm()
    form.scope.choices = billing.scope_choices(m)
    busy = None
    if form.is_submitted():
        _firm_compound_guard(m, form.scope.data)
    if form.validate_on_submit():
        try:
            month = billing.parse_month(form.month.data)
            billing.check_billable(month)
            scope = billing.resolve_scope(m, form.scope.data, month)
        except billing.BillingProblem as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            try:
                br = submit(scope, month, current_user)
            except Busy as exc:
                db.session.rollback()
                busy = _busy(exc.run, m)
                form.scope.errors.append(busy["message"])
            else:
                return redirect(url_for(".run", billing_run_id=br.id))
    elif not form.is_submitted():
        form.month.data = today().strftime("%Y-%m")
        form.scope.data = request.args.get("scope", "")
    return render_template("fees/billing/new.html", form=form, busy=busy), 422 if form.errors else 200


def _busy(job: JobRun, m) -> dict:
    """The refusal of a second run of the same month and scope, naming the running one (a
    link only for those who may open it)."""
    br = running_run(job)
    message = (f"{br.audit_label} 的账单正在开具（{job.actor} 于 {fmt_datetime(job.created_at)} 发起，"
               f"{job.status_label}），请等它完成后再开具；同一月份和范围同时只能有一个开具任务。")
    open_it = db.session.scalar(select(BillingRun.id).where(BillingRun.id == br.id, policy.visible(m, BillingRun)))
    return {"message": message, "run_id": open_it}


@bp.route("/runs/<int:billing_run_id>")
def run(billing_run_id: int):
    br = get_or_404(BillingRun, billing_run_id)
    job = db.session.get(JobRun, br.job_run_id) if br.job_run_id else None
    if job is not None and not job.finished:
        check_job(job)
    return render("fees/billing/run.html", "fees/billing/_outcome.html", br=br, job=job,
                  totals=billing.run_totals(br.id))


class _RowsPagination(SelectPagination):
    """Pages of rows (a Bill with its paid, due and status columns), not only the Bill."""

    def _query_items(self):
        stmt, offset, months = self._query_args["select"], self._query_offset, self._query_args["months"]
        if months is not None:  # only the months the page's rows are in (billing.page_months)
            window = billing.page_months(months, offset, self.per_page)
            if window is None:
                return []
            oldest, newest, offset = window
            stmt = stmt.where(Bill.month >= oldest, Bill.month <= newest)
        return list(self._query_args["session"].execute(stmt.limit(self.per_page).offset(offset)).all())


def _int_arg(name):
    value = request.args.get(name, "")
    return record_id(value)


# Compounds and firms with bills (bill_sum has a row per compound, firm and month, not per bill).
def _billed_compounds(m):
    return select(BillSum.compound_id).where(policy.visible(m, BillSum))


def _billed_firms(m):
    return select(BillSum.firm_id).where(policy.visible(m, BillSum))


@bp.route("/bills/")
def bills():
    m = current_membership()
    month_text = request.args.get("month", "").strip()
    month, month_error = None, None
    if month_text:
        try:
            month = billing.parse_month(month_text)
        except billing.BillingProblem as exc:
            month_error = str(exc)
    picks = {"compound": pickers.name_pick(m, request.args, Compound, "compound", _billed_compounds),
             "firm": pickers.name_pick(m, request.args, Firm, "firm", _billed_firms)}
    filters = billing.BillFilters(month=month, street_id=_int_arg("street"),
                                  compound_id=picks["compound"].picked, compound_name=picks["compound"].name,
                                  firm_id=picks["firm"].picked, firm_name=picks["firm"].name,
                                  status=request.args.get("status"), q=request.args.get("q", "").strip()[:40])
    rows_stmt, totals, months = billing.bills_query(m, filters)
    page = _RowsPagination(select=rows_stmt, session=db.session, page=page_arg(), per_page=20,
                           error_out=False, count=False, months=months)
    page.total = totals["count"]  # the totals query counts too: no second COUNT
    households, compounds = billing.row_names(b for b, *_ in page.items)
    streets = db.session.execute(select(Street.id, Street.name).where(policy.visible(m, Street))
                                 .order_by(Street.name)).all()
    return render("fees/billing/bills.html", "fees/billing/_bills.html", page=page, totals=totals,
                  streets=streets, picks=picks, statuses=billing.PAID_STATUSES, args=request.args,
                  households=households, compounds=compounds,
                  month_error=month_error)


@bp.route("/bills/<int:bill_id>")
def bill(bill_id: int):
    b = get_or_404(Bill, bill_id)
    # Link the run only for those who may open it (a firm sees its own runs, not the district's).
    run_open = db.session.scalar(select(BillingRun.id).where(
        BillingRun.id == b.billing_run_id, policy.visible(current_membership(), BillingRun))) is not None
    return render_template("fees/billing/bill.html", bill=b, money=billing.bill_money(b),
                           part_labels=billing.PART_LABELS, run_open=run_open)


@bp.route("/bills/<int:bill_id>/credit", methods=["GET", "POST"])
def credit(bill_id: int):
    b = get_or_404(Bill, bill_id)
    require("credit", "billing")
    form = CreditForm()
    if form.validate_on_submit():
        amounts = {part: to_fen(Decimal(getattr(form, part).data or 0)) for part in billing.PART_LABELS}
        try:
            billing.issue_credit(b, amounts, form.reason.data)
        except billing.BillingProblem as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            flash("已开具冲减单。", "success")
            return redirect(url_for(".bill", bill_id=b.id))
    return render_template("fees/billing/credit.html", form=form, bill=b, money=billing.bill_money(b),
                           part_labels=billing.PART_LABELS), 422 if form.errors else 200
