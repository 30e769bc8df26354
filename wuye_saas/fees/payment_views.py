"""Payments on bills, receipts, arrears and collection rates (thin views over payments.py)."""
from __future__ import annotations

from io import BytesIO

from flask import flash, redirect, request, send_file, url_for
from sqlalchemy import select

from .. import policy, timeutil
from ..extensions import db
from ..org import pickers
from ..org.models import Compound, Household
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import payments
from .models import Bill, Payment
from .payment_forms import PaymentForm
from ..formutil import record_id

bp = tenant_blueprint("payments", __name__, "/fees")


@bp.route("/bills/<int:bill_id>/pay", methods=["GET", "POST"])
def pay(bill_id):
    """The bill's account: parts, credit notes, payments; the payment form for firm roles."""
    bill = get_or_404(Bill, bill_id)
    mem = current_membership()
    may_record = policy.can(mem, "record", "payment")
    if request.method == "POST":
        require("record", "payment")
    today = timeutil.today()
    form = PaymentForm(data={"paid_on": today, "receipt_no": payments.next_receipt_no(today)}
                       if request.method == "GET" else None)
    if may_record and form.validate_on_submit():
        pay_row, problems = payments.record_payment(bill, form.amount_fen, form.method.data,
                                                    form.receipt_no.data.strip(), form.paid_on.data,
                                                    today, (form.note.data or "").strip())
        if pay_row is not None:
            db.session.commit()
            flash(f"已收款 {payments.fmt_yuan(pay_row.amount_fen)}，收据号 {pay_row.receipt_no}。", "success")
            return redirect(url_for("payments.receipt", payment_id=pay_row.id))
        for name, msg in problems.items():
            getattr(form, name).errors.append(msg)
    status = 422 if request.method == "POST" else 200
    return render("fees/payments/pay.html", bill=bill, form=form, may_record=may_record,
                  bal=payments.balance(bill.id), pays=payments.bill_payments(bill.id),
                  credits=payments.bill_credits(bill.id)), status


@bp.route("/payments/<int:payment_id>/receipt")
def receipt(payment_id):
    pay_row = get_or_404(Payment, payment_id)
    return render("fees/payments/receipt.html", pay=pay_row, bill=pay_row.bill,
                  upper=payments.rmb_upper(pay_row.amount_fen))


def _arrears_filters(mem):
    pick = pickers.name_pick(mem, request.args, Compound, "compound", payments.billed)
    bucket = request.args.get("bucket")
    return pick, {"compound_id": pick.picked, "compound_name": pick.name,
                  "bucket": bucket if bucket in payments.BUCKETS else None}


@bp.route("/arrears")
def arrears():
    mem = current_membership()
    today = timeutil.today()
    pick, filters = _arrears_filters(mem)
    page = payments.arrears_page(mem, today, page_arg(), **filters)
    return render("fees/payments/arrears.html", "fees/payments/_arrears_table.html", page=page,
                  args=request.args, buckets=payments.BUCKETS, today=today, pick=pick, mask=payments.mask_name,
                  filtered=any(v for k, v in request.args.items() if k != "page"))


@bp.route("/arrears.xlsx")
def arrears_export():
    today = timeutil.today()
    rows = payments.arrears_rows(current_membership(), today, **_arrears_filters(current_membership())[1])
    buf = BytesIO()
    payments.arrears_workbook(rows, today).save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"欠费明细-{today:%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/households/<int:household_id>/bills")
def household(household_id):
    """One household's bills (newest first) with what is owed on each: where payments start."""
    hh = get_or_404(Household, household_id)
    bills = db.session.execute(select(Bill).where(Bill.household_id == hh.id,
                                                  policy.visible(current_membership(), Bill))
                               .order_by(Bill.month.desc())).scalars().all()
    bal = payments.balances([b.id for b in bills])
    return render("fees/payments/household.html", hh=hh, rows=[(b, bal[b.id]) for b in bills],
                  may_record=policy.can(current_membership(), "record", "payment"),
                  mask=payments.mask_name)


@bp.route("/collection")
def collection():
    level = request.args.get("by") if request.args.get("by") in payments.LEVELS else "compound"
    months, rows, total, page = payments.collection(current_membership(), timeutil.today(), level, page=page_arg())
    # The chart: the total plus the first rows (a line per compound stops being readable).
    series = [total] + rows[:8]
    chart = {"labels": [f"{mo:%Y-%m}" for mo in months],
             "series": [{"label": r.label, "data": [r.value(mo) for mo in months]} for r in series]}
    return render("fees/payments/collection.html", months=months, rows=rows, total=total,
                  level=level, levels=payments.LEVELS, chart=chart, page=page, args=request.args)
