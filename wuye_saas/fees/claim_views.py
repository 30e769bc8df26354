"""Subsidy claims: firms submit, the district decides, finance exports (thin views over claims.py)."""
from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import flash, redirect, request, send_file, url_for

from .. import policy, timeutil
from ..extensions import db
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import claims
from .models import CLAIM_STATUSES, SubsidyClaim
from .payment_forms import ClaimForm, DecideForm
from ..formutil import record_id

bp = tenant_blueprint("claims", __name__, "/fees")


def _month(text: str | None) -> date | None:
    try:
        year, month = (int(x) for x in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def _filters():
    args = request.args
    firm = args.get("firm", "")
    return {"month": _month(args.get("month")), "status": args.get("status") or None,
            "firm_id": record_id(firm)}


@bp.route("/claims/")
def index():
    mem = current_membership()
    filters = _filters()
    page = db.paginate(claims.claims_select(mem, **filters), page=page_arg(), per_page=20, error_out=False)
    return render("fees/claims/index.html", "fees/claims/_table.html", page=page, args=request.args,
                  statuses=CLAIM_STATUSES, firms=claims.claim_firms(mem),
                  totals=claims.totals(mem, **filters),
                  filtered=any(v for k, v in request.args.items() if k != "page"))


@bp.route("/claims/export.xlsx")
def export():
    items = db.session.execute(claims.claims_select(current_membership(), **_filters())).scalars().all()
    buf = BytesIO()
    claims.workbook(items).save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"补贴申领-{timeutil.today():%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/claims/new", methods=["GET", "POST"])
def new():
    require("submit", "claim_submit")
    mem = current_membership()
    form = ClaimForm()
    form.compound_id.choices = [(0, "请选择…")] + claims.claim_compounds(mem.firm_id)
    if form.validate_on_submit():
        month = _month(form.month.data)
        claim, problems = claims.create_claim(mem.firm_id, form.compound_id.data, month)
        if claim is not None:
            db.session.commit()
            flash(f"已提交 {claim.month:%Y年%m月} 补贴申领，金额 {claim.amount_fen / 100:,.2f} 元，"
                  f"共 {claim.bill_count} 张账单。", "success")
            return redirect(url_for("claims.detail", subsidy_claim_id=claim.id))
        for name, msg in problems.items():
            getattr(form, name).errors.append(msg)
    return render("fees/claims/new.html", form=form), (422 if form.errors else 200)


@bp.route("/claims/<int:subsidy_claim_id>", methods=["GET", "POST"])
def detail(subsidy_claim_id):
    """The claim; for the district while it waits, the decision form (the confirmation step)."""
    claim = get_or_404(SubsidyClaim, subsidy_claim_id)
    may_decide = policy.can(current_membership(), "decide", "claim_decide") and claim.status == "submitted"
    form = DecideForm()
    if request.method == "POST":
        require("decide", "claim_decide")
        if form.validate_on_submit():
            problems = claims.decide(claim, form.decision.data == "approve", form.reason.data)
            if not problems:
                db.session.commit()
                flash(f"已{CLAIM_STATUSES[claim.status]}该补贴申领。", "success")
                return redirect(url_for("claims.detail", subsidy_claim_id=claim.id))
            for name, msg in problems.items():
                getattr(form, name).errors.append(msg)
        db.session.rollback()
    return render("fees/claims/detail.html", claim=claim, form=form, may_decide=may_decide,
                  statuses=CLAIM_STATUSES, parts=claims.breakdown(claim)), (422 if form.errors else 200)
