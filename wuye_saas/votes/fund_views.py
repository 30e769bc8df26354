"""Maintenance-fund applications: apply → owner vote → community, street, district review →
ledger withdrawal and publication (thin views over logic.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ..extensions import db
from ..formutil import attach_errors
from ..org import pickers
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import logic
from .forms import FundForm, ResubmitForm, ReviewForm
from .models import FUND_STATUSES, REVIEW_LEVELS, VOTE_STATUSES, FundApplication

bp = tenant_blueprint("funds", __name__, "/funds")


@bp.route("/")
def index():
    args = request.args
    stmt = logic.applications_select(current_membership(), args.get("q", "").strip(), args.get("status"))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    return render("funds/index.html", "funds/_table.html", page=page, args=args, statuses=FUND_STATUSES,
                  filtered=any(v for k, v in args.items() if k != "page"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    require("apply", "fund_apply")
    m = current_membership()
    compounds = logic.visible_compounds(m)
    form = FundForm()
    form.compound_id.choices = [(0, "请选择…")] + compounds
    form.vote_id.choices = [(0, "新建表决草稿（交业委会报备、公示、表决）")] + [
        (v.id, f"{v.compound.name} · {v.title}（{VOTE_STATUSES[v.status]}）")
        for v in logic.linkable_votes([cid for cid, _ in compounds])]
    form.buildings.choices = logic.building_choices([cid for cid, _ in compounds])
    if form.validate_on_submit():
        app, problems = logic.create_application(
            form.compound_id.data, logic.applicant_kind(m), form.item.data, form.budget_fen, form.contractor.data,
            form.quotes.data or "", form.emergency.data, form.vote_id.data, form.building_ids)
        if app is not None:
            db.session.commit()
            flash(f"维修资金使用申请已提交，当前：{FUND_STATUSES[app.status]}。", "success")
            return redirect(url_for("funds.detail", fund_application_id=app.id))
        db.session.rollback()
        attach_errors(form, problems)
    pickers.follow(form, m)
    return render("funds/new.html", form=form, has_compounds=bool(compounds)), (422 if form.errors else 200)


def _detail(app, review_form=None, resubmit_form=None, status=200):
    m = current_membership()
    level = logic.review_level(m, app)
    may_resubmit = app.status == "returned" and logic.is_applicant(m, app)
    if resubmit_form is None and may_resubmit:
        resubmit_form = ResubmitForm(data={"item": app.item, "budget": f"{app.budget_fen / 100:.2f}",
                                           "contractor": app.contractor, "quotes": app.quotes})
    return render("funds/detail.html", app=app, level=level, levels=REVIEW_LEVELS,
                  review_form=review_form or ReviewForm(), resubmit_form=resubmit_form,
                  may_resubmit=may_resubmit, statuses=FUND_STATUSES, vote_statuses=VOTE_STATUSES,
                  balance=logic.fund_balance(app.compound_id), shares=logic.share_text(app)), status


@bp.route("/<int:fund_application_id>")
def detail(fund_application_id):
    return _detail(get_or_404(FundApplication, fund_application_id))


@bp.route("/<int:fund_application_id>/review", methods=["POST"])
def review(fund_application_id):
    app = get_or_404(FundApplication, fund_application_id)
    require("review", "fund_review")
    form = ReviewForm()
    if form.validate_on_submit():
        problems = logic.review(app, current_membership(), form.decision.data == "approve", form.reason.data,
                                form.approved_fen, user=current_user)
        if not problems:
            db.session.commit()
            flash(f"审核已提交，当前：{FUND_STATUSES[app.status]}。", "success")
            return redirect(url_for("funds.detail", fund_application_id=app.id))
        db.session.rollback()
        attach_errors(form, problems)
    return _detail(app, review_form=form, status=422)


@bp.route("/<int:fund_application_id>/resubmit", methods=["POST"])
def resubmit(fund_application_id):
    app = get_or_404(FundApplication, fund_application_id)
    require("apply", "fund_apply")
    if not logic.is_applicant(current_membership(), app):
        abort(403)
    form = ResubmitForm()
    if form.validate_on_submit():
        problems = logic.resubmit(app, form.item.data, form.budget_fen, form.contractor.data, form.quotes.data or "")
        if not problems:
            db.session.commit()
            flash("申请已修改并重新提交社区审核。", "success")
            return redirect(url_for("funds.detail", fund_application_id=app.id))
        db.session.rollback()
        attach_errors(form, problems)
    return _detail(app, resubmit_form=form, status=422)
