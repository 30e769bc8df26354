"""Results: the rankings of an evaluation (district and streets; filters, Excel), finalizing,
computing and publishing, one assessment's result with its items, a firm's history, the
committee's view of the firm serving its compound, and appeals (thin views over results.py and
publishing.py)."""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import policy
from ..auth.models import User
from ..extensions import db
from ..formutil import Form, attach_errors, record_id
from ..jobs import JobRun
from ..org.models import Community, Compound, Firm, Street
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import publishing, results
from .models import (
    APPEAL_STATUSES, ASSESSMENT_STATUSES, CYCLE_KINDS, EVALUATION_STATUSES, LISTS, METHODS, SCORERS, Appeal,
    Assessment, Evaluation, ItemScore, StandardItem,
)
from .result_forms import AppealForm, DecideAppealForm

bp = tenant_blueprint("results", __name__)

RANKING_VIEWERS = {"district_admin", "street_staff", "community_staff"}
FIRM_ROLES = policy.FIRM_ROLES
LIST_BADGES = {"red": "text-bg-danger", "yellow": "text-bg-warning", "black": "text-bg-dark"}


@bp.app_context_processor
def _result_nav():
    m = g.get("membership")
    if m is None:
        return {"result_nav": []}
    items = []
    if m.role in RANKING_VIEWERS:
        items.append(("results.index", "trophy", "考核结果"))
    elif m.role in FIRM_ROLES:
        items.append(("results.firm", "trophy", "我的考核结果"))
    elif m.role == "committee_member":
        items.append(("results.compound", "trophy", "物业考核结果"))
    if m.role in ("district_admin", "firm_manager"):
        items.append(("results.appeals", "chat-left-text", "申诉裁定" if m.role == "district_admin" else "申诉"))
    return {"result_nav": items}


def _ctx(**kw):
    return {"lists": LISTS, "list_badges": LIST_BADGES, "kinds": CYCLE_KINDS, "ev_statuses": EVALUATION_STATUSES,
            "a_statuses": ASSESSMENT_STATUSES, **kw}


def _shown(m, ev: Evaluation) -> bool:
    """Whether the membership may see the computed results of the evaluation: firms and
    committees only once published, staff as soon as they are computed."""
    if ev.results_at is None:
        return False
    return ev.status == "published" if m.role in FIRM_ROLES | {"committee_member"} else True


def _job(ev: Evaluation):
    m = current_membership()
    return db.session.execute(select(JobRun).where(JobRun.kind == f"{results.JOB_KIND}:{ev.id}",
                                                   policy.visible(m, JobRun))
                              .order_by(JobRun.id.desc()).limit(1)).scalar_one_or_none()


# --- evaluations with results and their rankings ------------------------------------------------

@bp.route("/results/")
def index():
    m = current_membership()
    if m.role in FIRM_ROLES:
        return redirect(url_for("results.firm"))
    if m.role == "committee_member":
        return redirect(url_for("results.compound"))
    if m.role not in RANKING_VIEWERS:
        abort(403)
    stmt = (select(Evaluation).where(policy.visible(m, Evaluation), Evaluation.status.in_(("finalized", "published")))
            .order_by(Evaluation.period_end.desc(), Evaluation.id.desc()))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    ids = [e.id for e in page.items]
    counts = {}
    if ids:
        for eid, kind, n in db.session.execute(
                select(Assessment.evaluation_id, Assessment.list_kind, func.count())
                .where(Assessment.evaluation_id.in_(ids), policy.visible(m, Assessment))
                .group_by(Assessment.evaluation_id, Assessment.list_kind)):
            counts.setdefault(eid, {})[kind] = n
    return render("evaluation/results/index.html", **_ctx(page=page, args=request.args, counts=counts))


def _ranking_select(m, ev: Evaluation, args):
    stmt = (select(Assessment).join(Firm, Firm.id == Assessment.firm_id)
            .outerjoin(Compound, Compound.id == Assessment.compound_id)
            .outerjoin(Community, Community.id == Compound.community_id)
            .where(Assessment.evaluation_id == ev.id, policy.visible(m, Assessment)))
    street = args.get("street", "")
    if record_id(street):
        stmt = stmt.where(Community.street_id == record_id(street))
    stars = args.get("stars", "")
    if stars in {"0", "1", "2", "3", "4", "5"}:
        stmt = stmt.where(Assessment.stars == int(stars))
    lst = args.get("list", "")
    if lst in LISTS:
        stmt = stmt.where(Assessment.list_kind == lst)
    elif lst == "none":
        stmt = stmt.where(Assessment.list_kind.is_(None))
    q = args.get("q", "").strip()
    if q:
        stmt = stmt.where(Firm.name.contains(q) | Compound.name.contains(q))
    return (stmt.options(joinedload(Assessment.firm),
                         joinedload(Assessment.compound).joinedload(Compound.community).joinedload(Community.street))
            .order_by(Assessment.rank.is_(None), Assessment.rank, Firm.name, Compound.name, Assessment.id))


def _ranking_viewer(ev_id: int) -> Evaluation:
    ev = get_or_404(Evaluation, ev_id)
    if current_membership().role not in RANKING_VIEWERS:
        abort(403)
    return ev


@bp.route("/evaluations/<int:evaluation_id>/results")
def evaluation(evaluation_id):
    ev = _ranking_viewer(evaluation_id)
    m = current_membership()
    args = request.args
    page = db.paginate(_ranking_select(m, ev, args), page=page_arg(), per_page=20, error_out=False)
    mine = select(Assessment).where(Assessment.evaluation_id == ev.id, policy.visible(m, Assessment)).subquery()
    summary = {"total": 0, "vetoed": 0, "lists": {}, "stars": {}, "avg": None}
    row = db.session.execute(select(func.count(), func.sum(case((mine.c.vetoed, 1), else_=0)),
                                    func.avg(mine.c.total))).one()
    summary.update(total=row[0], vetoed=row[1] or 0, avg=row[2])
    for kind, stars, n in db.session.execute(select(mine.c.list_kind, mine.c.stars, func.count())
                                             .group_by(mine.c.list_kind, mine.c.stars)):
        summary["lists"][kind] = summary["lists"].get(kind, 0) + n
        summary["stars"][stars] = summary["stars"].get(stars, 0) + n
    streets = db.session.execute(select(Street.id, Street.name).where(policy.visible(m, Street))
                                 .order_by(Street.name)).all()
    district = m.role == policy.DISTRICT
    return render("evaluation/results/evaluation.html", "evaluation/results/_ranking.html", **_ctx(
        ev=ev, page=page, args=args, summary=summary, streets=streets, shown=_shown(m, ev), job=_job(ev),
        district=district, finalize_problem=publishing.finalize_problem(ev) if district else None,
        publish_problem=publishing.publish_problem(ev) if district else None, form=Form(),
        total_of=_total_of(ev), cycle_link="evaluations.detail" in current_app.view_functions, filtered=any(args.get(k) for k in ("street", "stars", "list", "q")),
        star_choices=sorted({b.get("stars", 0) for b in ev.standard.star_bands or []} | {0}, reverse=True)))


def _total_of(ev: Evaluation) -> int:
    return db.session.execute(select(func.count()).where(Assessment.evaluation_id == ev.id)).scalar()


@bp.route("/evaluations/<int:evaluation_id>/results.xlsx")
def export(evaluation_id):
    ev = _ranking_viewer(evaluation_id)
    m = current_membership()
    rows = db.session.execute(_ranking_select(m, ev, request.args)).unique().scalars().all()
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = "考核排名"
    cats = [c.name for c in ev.standard.categories]
    ws.append(["排名", "物业企业", "小区", "街道", "社区", "基础分", "加分", "总分", "星级", "榜单", "一票否决"] + cats)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for a in rows:
        comp = a.compound
        cat_points = {c["name"]: c["points"] for c in (a.breakdown or {}).get("categories", [])}
        ws.append([a.rank, a.firm.name, comp.name if comp else "（企业整体）",
                   comp.community.street.name if comp else "", comp.community.name if comp else "",
                   a.base_total, a.bonus_total, a.total, a.stars, LISTS.get(a.list_kind, ""),
                   "是" if a.vetoed else ""] + [float(cat_points[c]) if c in cat_points else None for c in cats])
    for col, width in zip("ABCDEFGHIJK", (6, 26, 22, 14, 14, 9, 8, 9, 6, 8, 9)):
        ws.column_dimensions[col].width = width
    buf = BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"{ev.name}-排名-{today():%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- finalize, compute, publish (district) ------------------------------------------------------

def _confirm_page(ev: Evaluation, action: str, problem: str | None, status: int = 200):
    return render("evaluation/results/confirm.html", **_ctx(
        ev=ev, action=action, problem=problem, form=Form(), total_of=_total_of(ev),
        today_plus=today() + timedelta(days=ev.appeal_days))), status


@bp.route("/evaluations/<int:evaluation_id>/finalize", methods=["GET", "POST"])
def finalize(evaluation_id):
    ev = get_or_404(Evaluation, evaluation_id)
    require("finalize", "evaluation")
    if request.method == "GET":
        return _confirm_page(ev, "finalize", publishing.finalize_problem(ev))
    if not Form().validate_on_submit():
        abort(400)
    try:
        publishing.finalize(current_membership(), ev)
    except publishing.PublishProblem as e:
        db.session.rollback()
        return _confirm_page(ev, "finalize", e.message, 409)
    db.session.commit()
    results.submit(ev, current_user)
    flash(f"“{ev.name}”已定稿，正在计算考核结果。", "success")
    return redirect(url_for("results.evaluation", evaluation_id=ev.id))


@bp.route("/evaluations/<int:evaluation_id>/recompute", methods=["POST"])
def recompute(evaluation_id):
    ev = get_or_404(Evaluation, evaluation_id)
    require("finalize", "evaluation")
    if not Form().validate_on_submit():
        abort(400)
    if ev.status not in ("finalized", "published"):
        flash("考核定稿后才能计算结果。", "danger")
        return redirect(url_for("results.evaluation", evaluation_id=ev.id))
    results.submit(ev, current_user, "重新计算考核结果")
    flash("已开始重新计算考核结果。", "success")
    return redirect(url_for("results.evaluation", evaluation_id=ev.id))


@bp.route("/evaluations/<int:evaluation_id>/publish", methods=["GET", "POST"])
def publish(evaluation_id):
    ev = get_or_404(Evaluation, evaluation_id)
    require("publish", "evaluation")
    if request.method == "GET":
        return _confirm_page(ev, "publish", publishing.publish_problem(ev))
    if not Form().validate_on_submit():
        abort(400)
    try:
        opened = publishing.publish(current_membership(), ev)
    except publishing.PublishProblem as e:
        db.session.rollback()
        return _confirm_page(ev, "publish", e.message, 409)
    db.session.commit()
    from ..fees import holdback_jobs  # lazy: fees is another area
    from ..publicity import evaluation_board  # lazy: publicity is another area
    holdback_jobs.submit(ev, "publish", current_user)   # the 质量保证金 release: a job after the commit
    evaluation_board.submit(ev, current_user)           # each compound's result on its board: another
    flash(f"已发布“{ev.name}”的考核结果，申诉截止 {ev.appeal_until:%Y-%m-%d}；"
          f"{'已生成 %d 条约谈/退出等待办。' % opened if opened else '无需生成待办。'}"
          "质量保证金正在按结果释放（见“质量保证金”页），各小区公示栏正在发布考核结果。", "success")
    return redirect(url_for("results.evaluation", evaluation_id=ev.id))


# --- one assessment's result --------------------------------------------------------------------

def _assessment_page(a: Assessment, form: AppealForm | None = None, status: int = 200):
    m = current_membership()
    ev = a.evaluation
    scores = db.session.execute(
        select(ItemScore).join(StandardItem, StandardItem.id == ItemScore.item_id)
        .where(ItemScore.assessment_id == a.id, policy.visible(m, ItemScore))
        .options(selectinload(ItemScore.item).selectinload(StandardItem.category))
        .order_by(StandardItem.sort, StandardItem.id)).scalars().all()
    reviewer_ids = {s.reviewer_id for s in scores if s.reviewer_id}
    reviewers = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(reviewer_ids))).all()) \
        if reviewer_ids else {}
    appeals = db.session.execute(select(Appeal).where(Appeal.assessment_id == a.id, policy.visible(m, Appeal))
                                 .options(joinedload(Appeal.item)).order_by(Appeal.id.desc())).scalars().all()
    may_appeal = publishing.can_appeal(m, a)
    if may_appeal:
        form = form or AppealForm(formdata=None)
        form.item_id.choices = [("", "请选择…")] + [(str(i.id), i.name) for i in publishing.appealable_items(a)]
    count = _total_of(ev)
    return render("evaluation/results/assessment.html", **_ctx(
        a=a, ev=ev, scores=scores, reviewers=reviewers, appeals=appeals, form=form, may_appeal=may_appeal,
        shown=_shown(m, ev), count=count, methods=METHODS, scorers=SCORERS, appeal_statuses=APPEAL_STATUSES,
        internal=m.role != "committee_member", window=publishing.appeal_window_problem(a),
        no_data=set((a.breakdown or {}).get("no_data", [])),
        survey_rules=(a.breakdown or {}).get("survey_rules", {}),
        committee_unscored=set((a.breakdown or {}).get("committee_unscored", [])))), status


@bp.route("/results/assessments/<int:assessment_id>")
def assessment(assessment_id):
    return _assessment_page(get_or_404(Assessment, assessment_id))


@bp.route("/results/assessments/<int:assessment_id>/appeal", methods=["POST"])
def file_appeal(assessment_id):
    a = get_or_404(Assessment, assessment_id)
    require("file", "appeal")
    form = AppealForm()
    if form.validate_on_submit():
        try:
            appeal = publishing.file_appeal(current_membership(), a, form.item_id.data, form.reason.data)
        except publishing.PublishProblem as e:
            db.session.rollback()
            if publishing.can_appeal(current_membership(), a):
                attach_errors(form, {e.field: e.message})
            else:
                flash(e.message, "danger")
        else:
            db.session.commit()
            flash("申诉已提交，等待区里裁定。", "success")
            return redirect(url_for("results.appeal", appeal_id=appeal.id))
    elif not publishing.can_appeal(current_membership(), a):
        flash(publishing.appeal_window_problem(a) or "您不能对该考核结果申诉。", "danger")
    return _assessment_page(a, form, 422)


# --- a firm's history, the committee's view -----------------------------------------------------

@bp.route("/results/firm")
def firm():
    m = current_membership()
    if m.role in FIRM_ROLES:
        firm_id = m.firm_id
    elif m.role in RANKING_VIEWERS:
        raw = request.args.get("firm", "")
        firm_id = record_id(raw)
    else:
        abort(403)
    the_firm = get_or_404(Firm, firm_id) if firm_id else None
    firms = [] if m.role in FIRM_ROLES else db.session.execute(
        select(Firm.id, Firm.name).where(policy.visible(m, Firm)).order_by(Firm.name)).all()
    rows, sizes = [], {}
    if the_firm is not None:
        rows = db.session.execute(
            select(Assessment).join(Evaluation, Evaluation.id == Assessment.evaluation_id)
            .where(Assessment.firm_id == the_firm.id, policy.visible(m, Assessment))
            .options(joinedload(Assessment.evaluation), joinedload(Assessment.compound))
            .order_by(Evaluation.period_end.desc(), Evaluation.id.desc(), Assessment.compound_id)).scalars().all()
        ev_ids = list({a.evaluation_id for a in rows})
        if ev_ids:
            sizes = dict(db.session.execute(select(Assessment.evaluation_id, func.count())
                                            .where(Assessment.evaluation_id.in_(ev_ids))
                                            .group_by(Assessment.evaluation_id)).all())
    shown = {a.id: _shown(m, a.evaluation) for a in rows}
    trend = [(a.evaluation.name + (f" · {a.compound.name}" if a.compound else ""), float(a.total))
             for a in reversed(rows) if shown[a.id] and a.total is not None]
    return render("evaluation/results/firm.html", **_ctx(firm=the_firm, firms=firms, rows=rows, sizes=sizes,
                                                         shown=shown, trend=trend[-12:]))


@bp.route("/results/compound")
def compound():
    m = current_membership()
    if m.role != "committee_member":
        abort(403)
    rows = db.session.execute(
        select(Assessment).join(Evaluation, Evaluation.id == Assessment.evaluation_id)
        .where(policy.visible(m, Assessment), Evaluation.status == "published")
        .options(joinedload(Assessment.evaluation), joinedload(Assessment.firm), joinedload(Assessment.compound))
        .order_by(Evaluation.published_at.desc(), Assessment.id)).scalars().all()
    ev_ids = list({a.evaluation_id for a in rows})
    sizes = dict(db.session.execute(select(Assessment.evaluation_id, func.count())
                                    .where(Assessment.evaluation_id.in_(ev_ids))
                                    .group_by(Assessment.evaluation_id)).all()) if ev_ids else {}
    compound_obj = db.session.get(Compound, m.compound_id) if m.compound_id else None
    # The credit grade of the firm serving the compound today, beside its results.
    from ..credit.grading import standings  # lazy: credit is another area
    firms = db.session.execute(select(Firm).where(policy.visible(m, Firm)).order_by(Firm.name)).scalars().all()
    credit = standings(today(), [f.id for f in firms]) if firms else {}
    return render("evaluation/results/compound.html", **_ctx(rows=rows, sizes=sizes, compound=compound_obj,
                                                             firms=firms, credit=credit))


# --- appeals ------------------------------------------------------------------------------------

@bp.route("/appeals/")
def appeals():
    m = current_membership()
    args = request.args
    ev_raw = args.get("evaluation", "")
    stmt = publishing.appeals_select(m, args.get("status", ""), record_id(ev_raw))
    stmt = stmt.options(joinedload(Appeal.item), joinedload(Appeal.assessment).joinedload(Assessment.firm),
                        joinedload(Appeal.assessment).joinedload(Assessment.compound),
                        joinedload(Appeal.assessment).joinedload(Assessment.evaluation))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    return render("evaluation/results/appeals.html", "evaluation/results/_appeals.html", **_ctx(
        page=page, args=args, statuses=APPEAL_STATUSES, filtered=any(args.get(k) for k in ("status", "evaluation"))))


def _appeal_page(appeal: Appeal, form: DecideAppealForm | None = None, status: int = 200):
    m = current_membership()
    a = appeal.assessment
    score = db.session.execute(select(ItemScore).where(ItemScore.assessment_id == a.id,
                                                       ItemScore.item_id == appeal.item_id)).scalar_one_or_none()
    names = {}
    ids = {i for i in (appeal.created_by_id, appeal.decided_by_id) if i}
    if ids:
        names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    may_decide = appeal.status == "open" and policy.can(m, "decide", "appeal_decide")
    return render("evaluation/results/appeal.html", **_ctx(
        appeal=appeal, a=a, ev=a.evaluation, item=appeal.item, score=score, names=names, may_decide=may_decide,
        form=form or DecideAppealForm(formdata=None), statuses=APPEAL_STATUSES, methods=METHODS,
        job=_job(a.evaluation))), status


@bp.route("/appeals/<int:appeal_id>")
def appeal(appeal_id):
    return _appeal_page(get_or_404(Appeal, appeal_id))


@bp.route("/appeals/<int:appeal_id>/decide", methods=["POST"])
def decide_appeal(appeal_id):
    appeal = get_or_404(Appeal, appeal_id)
    require("decide", "appeal_decide")
    form = DecideAppealForm()
    if form.validate_on_submit():
        uphold = form.outcome.data == "uphold"
        try:
            recompute = publishing.decide_appeal(current_membership(), appeal, uphold, form.decision.data,
                                                 points=form.points.data, occurrences=form.occurrences.data)
        except publishing.PublishProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field if e.field in form else "decision": e.message})
        else:
            db.session.commit()
            if recompute:
                results.submit(appeal.assessment.evaluation, current_user, "申诉成立，重新计算考核结果")
                flash("申诉成立，已改定分值并开始重新计算考核结果。", "success")
            else:
                flash("已驳回申诉。", "success")
            return redirect(url_for("results.appeal", appeal_id=appeal.id))
    return _appeal_page(appeal, form, 422)
