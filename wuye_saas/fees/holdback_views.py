"""质量保证金释放 pages: the district's list per evaluation, compound and month with totals and
the finance office's export and the latest release job's card (progress, outcome); the firm's
own; the history of one compound month (and the households' credits when the kept part went to
their bills); the district's re-run after late bills or credit notes, as a job (thin views over
holdback.py and holdback_jobs.py)."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, request, send_file, url_for

from .. import policy, timeutil
from ..evaluation.models import Evaluation
from ..extensions import db
from ..formutil import Form, record_id
from ..jobs import Busy, check as check_job
from ..web import current_membership, get_or_404, render, require, tenant_blueprint
from . import holdback, holdback_jobs
from .claim_views import _month
from .models import HoldbackRelease

bp = tenant_blueprint("holdback", __name__, "/fees")


def _filters() -> holdback.Filters:
    args = request.args
    return holdback.Filters(evaluation_id=record_id(args.get("evaluation", "")),
                            compound_id=record_id(args.get("compound", "")), month=_month(args.get("month")))


@bp.route("/holdback/")
def index():
    mem = current_membership()
    f = _filters()
    rows = holdback.month_rows(mem, f)
    evs, comps, months = holdback.choices(mem)
    ev = None
    if f.evaluation_id and policy.can(mem, "release", "holdback"):
        ev = db.session.execute(db.select(Evaluation).where(Evaluation.id == f.evaluation_id,
                                                            Evaluation.status == "published")).scalar_one_or_none()
    job = None
    if policy.can(mem, "release", "holdback"):   # the district's job card (progress, outcome)
        job = holdback_jobs.latest(f.evaluation_id)
        if job is not None and not job.finished:
            check_job(job)  # a dead worker's run shows 失败, not 进行中 forever
    return render("fees/holdback/index.html", "fees/holdback/_table.html", rows=rows, totals=holdback.totals(rows),
                  args=request.args, evaluations=evs, compounds=comps, months=months, rerun=ev, job=job,
                  confirm=request.args.get("confirm") == "1", form=Form(),
                  filtered=any(v for k, v in request.args.items() if k != "confirm"), pct=holdback.pct_text)


@bp.route("/holdback.xlsx")
def export():
    rows = holdback.month_rows(current_membership(), _filters())
    buf = BytesIO()
    holdback.workbook(rows, f"导出时间：{timeutil.fmt_datetime(timeutil.now())}").save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"质量保证金释放-{timeutil.today():%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/holdback/<int:holdback_release_id>")
def detail(holdback_release_id):
    row = get_or_404(HoldbackRelease, holdback_release_id)
    postings = holdback.history(row)
    return render("fees/holdback/detail.html", row=row, postings=postings, totals={
        "withheld": sum(p.withheld_fen for p in postings), "released": sum(p.released_fen for p in postings),
        "kept": sum(p.kept_fen for p in postings)}, rule=holdback.rule_text(row.policy), pct=holdback.pct_text,
        credits=holdback.credits_of(postings) if row.policy.holdback_kept_to == "bills" else [])


@bp.route("/holdback/evaluations/<int:evaluation_id>/release", methods=["POST"])
def rerun(evaluation_id):
    """The district starts the job that posts what bills issued or credited since the release
    changed (after the confirmation on the list page); it posts nothing when nothing changed."""
    ev = get_or_404(Evaluation, evaluation_id)   # another district's: 404 before any 403
    require("release", "holdback")
    if ev.status != "published" or not Form().validate_on_submit():
        abort(400)
    try:
        holdback_jobs.submit(ev, "rerun", current_membership().user)
    except Busy as exc:
        db.session.rollback()
        flash(f"“{ev.name}”的质量保证金正在核算（{exc.run.actor} 于 {timeutil.fmt_datetime(exc.run.created_at)} "
              f"发起，{exc.run.status_label}），请等它完成后再重新核算。", "warning")
    else:
        flash("已开始按当前账单重新核算，进度见下方；只补记差额。", "success")
    return redirect(url_for(".index", evaluation=ev.id))
