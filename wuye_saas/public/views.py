"""Residents' public pages (no login): their own bills, verified by the household code."""
from __future__ import annotations

from flask import request

from ..fees import payments
from ..fees.payment_forms import LookupForm
from ..ratelimit import BILL_LOOKUPS, limiter
from ..web import public_blueprint, render

bp = public_blueprint("public", __name__)


def _not_a_lookup() -> bool:
    return request.method != "POST" and "code" not in request.args


@bp.route("/bill", methods=["GET", "POST"])
@limiter.limit(BILL_LOOKUPS, exempt_when=_not_a_lookup)   # household codes cannot be guessed
def bill_lookup():
    # GET ?code= (a link the firm can print) or the form's POST (CSRF-checked by Flask-WTF).
    form = LookupForm(formdata=request.form if request.method == "POST" else request.args,
                      meta={"csrf": request.method == "POST"})
    household, rows, status = None, [], 200
    submitted = request.method == "POST" or "code" in request.args
    if submitted and form.validate():
        household = payments.household_by_code(form.code.data)
        if household is None:
            form.code.errors.append("未找到该户码")
            status = 404
        else:
            rows = payments.household_bills(household.id)
    elif submitted:
        status = 422
    return render("public/bill.html", form=form, household=household, rows=rows,
                  owner=payments.mask_name(household.owner_name) if household else ""), status
