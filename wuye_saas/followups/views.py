"""Follow-ups (待办督办): the open and closed list in scope, a follow-up's page, closing it with a
note (thin views over logic.py)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..formutil import attach_errors
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import logic
from .forms import CloseForm
from .models import KINDS, FollowUp

bp = tenant_blueprint("followups", __name__, "/followups")
STATUSES = {"open": "待办理", "closed": "已办结"}


@bp.route("/")
def index():
    m, args = current_membership(), request.args
    status = args.get("status") or "open"
    stmt = logic.follow_ups_select(m, status, args.get("kind", ""), args.get("q", "")).options(
        joinedload(FollowUp.compound), joinedload(FollowUp.community), joinedload(FollowUp.firm))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    counts = dict(db.session.execute(select(FollowUp.status, func.count(FollowUp.id))
                                     .where(policy.visible(m, FollowUp)).group_by(FollowUp.status)).all())
    return render("followups/index.html", "followups/_table.html", page=page, args=args, status=status,
                  statuses=STATUSES, kinds=KINDS, counts=counts, today=today(),
                  filtered=any(args.get(n) for n in ("kind", "q")))


def _page(f: FollowUp, form: CloseForm, status: int = 200):
    return render("followups/detail.html", f=f, form=form, kinds=KINDS, statuses=STATUSES, today=today(),
                  may_close=policy.can(current_membership(), "close", "followup") and f.status == "open"), status


@bp.route("/<int:follow_up_id>")
def detail(follow_up_id):
    return _page(get_or_404(FollowUp, follow_up_id), CloseForm(formdata=None))


@bp.route("/<int:follow_up_id>/close", methods=["POST"])
def close(follow_up_id):
    f = get_or_404(FollowUp, follow_up_id)
    require("close", "followup")
    form = CloseForm()
    if form.validate_on_submit():
        try:
            logic.close_follow_up(f, form.note.data, current_user.id)
        except logic.FollowUpProblem as e:
            db.session.rollback()
            attach_errors(form, {"note": e.message})
        else:
            db.session.commit()
            flash(f"已办结：{f.title}", "success")
            return redirect(url_for("followups.index"))
    return _page(f, form, 422)
