"""Resident satisfaction surveys (thin views over surveys.py): the staff list where the district
(or community staff for their compounds) opens an evaluation's surveys, a survey's numbers and
dates, the printable A4 poster with its QR code, and the residents' public answer page."""
from __future__ import annotations

from datetime import timedelta

import segno
from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..extensions import db
from ..formutil import attach_errors, record_id
from ..org.models import Compound
from ..publicity.check_views import ListPage
from ..ratelimit import WRONG_SURVEY_CODES, limiter
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, public_blueprint, render, require, tenant_blueprint
from . import surveys
from .models import CYCLE_KINDS, EVALUATION_STATUSES, SURVEY_ANSWERS, Evaluation, Survey
from .survey_forms import DatesForm, OpenForm, answer_form

bp = tenant_blueprint("surveys", __name__, "/surveys")
public_bp = public_blueprint("survey_public", __name__)

LABELS = {"answers": SURVEY_ANSWERS, "states": surveys.STATES, "cycle_kinds": CYCLE_KINDS,
          "evaluation_statuses": EVALUATION_STATUSES, "closed_statuses": surveys.CLOSED_EVALUATION}
FILTERS = {"": "全部小区", "none": "未开启", "open": "进行中", "upcoming": "未开始", "closed": "已结束",
           "valid": "有效（覆盖≥70%）", "invalid": "覆盖未达 70%"}


@bp.app_context_processor
def _survey_nav():
    """The 考核评价 menu's survey item: for the staff who see surveys at all."""
    mem = g.get("membership")
    if mem is None or not policy.reaches(mem, Survey):
        return {"survey_nav": []}
    return {"survey_nav": [("surveys.index", "emoji-smile", "居民满意度测评")]}


def _reach():
    m = current_membership()
    if not policy.reaches(m, Survey):
        abort(403)
    return m


def _chosen(m, evs: list[Evaluation], raw) -> Evaluation | None:
    raw = str(raw or "")
    if raw.isascii() and raw.isdigit():
        return next((e for e in evs if e.id == record_id(raw)), None) or abort(404)
    return evs[0] if evs else None


def _matches(row: surveys.Row, status: str, on, ev_closed: bool) -> bool:
    s = row.stats
    if not status:
        return True
    if status == "none":
        return s is None
    if s is None:
        return False
    if status in ("valid", "invalid"):
        return s.valid == (status == "valid")
    return ("closed" if ev_closed else s.state(on)) == status


def _index(form: OpenForm | None = None, status_code: int = 200, ev_id=None, problem: str = ""):
    m = _reach()
    args = request.args
    evs = surveys.evaluations(m)
    ev = _chosen(m, evs, ev_id if ev_id is not None else args.get("evaluation"))
    ctx = {"evs": evs, "ev": ev, "args": args, "filters": FILTERS, "on": today(), "problem": problem, **LABELS}
    if ev is not None:
        all_rows = surveys.rows(m, ev.id, args.get("q", ""))
        ev_closed = ev.status in surveys.CLOSED_EVALUATION
        status = args.get("status", "") if args.get("status", "") in FILTERS else ""
        shown = [r for r in all_rows if _matches(r, status, ctx["on"], ev_closed)]
        unopened = [r for r in all_rows if r.stats is None] if not args.get("q") else [
            r for r in surveys.rows(m, ev.id) if r.stats is None]
        opened = [r.stats for r in all_rows if r.stats]
        writable = policy.can(m, "open", "survey") and not ev_closed
        if form is None:
            opens = max(today(), ev.period_start)
            form = OpenForm(formdata=None, evaluation_id=ev.id, opens_on=opens, closes_on=opens + timedelta(days=14))
        form.compound_id.choices = [(0, "请选择…")] + [(r.compound_id, r.compound) for r in unopened]
        ctx.update(page=ListPage(shown, page_arg(), 20), items=surveys.survey_items(ev.standard_id),
                   unopened=len(unopened), opened=len(opened), valid=sum(1 for s in opened if s.valid),
                   responses=sum(s.responses for s in opened), form=form, writable=writable, ev_closed=ev_closed,
                   filtered=bool(args.get("q") or status))
    return render("evaluation/surveys/index.html", "evaluation/surveys/_list.html", **ctx), status_code


@bp.route("/")
def index():
    return _index()


@bp.route("/open", methods=["POST"])
def open_surveys():
    m = current_membership()
    form = OpenForm()
    ev = get_or_404(Evaluation, form.evaluation_id.data) if form.evaluation_id.data else None
    require("open", "survey")
    if ev is None:
        abort(400)
    problem = ""
    if form.validate_on_submit():
        bulk = request.form.get("scope") == "all"
        if not bulk and not form.compound_id.data:
            attach_errors(form, {"compound_id": "请选择小区，或点“为全部小区开启”。"})
        else:
            try:
                opened = surveys.open_surveys(m, ev, None if bulk else form.compound_id.data,
                                              form.opens_on.data, form.closes_on.data)
            except surveys.SurveyProblem as e:
                db.session.rollback()
                if e.field in form:
                    attach_errors(form, {e.field: e.message})
                else:
                    problem = e.message
            else:
                db.session.commit()
                flash(f"已为 {len(opened)} 个小区开启满意度测评（{form.opens_on.data} 至 {form.closes_on.data}）。"
                      "可打印各小区的二维码海报张贴。", "success")
                return redirect(url_for("surveys.index", evaluation=ev.id))
    return _index(form, 422, ev_id=ev.id, problem=problem)


def _detail(survey: Survey, form: DatesForm | None = None, status: int = 200, problem: str = ""):
    m = current_membership()
    ev = survey.evaluation
    stats = surveys.summary(ev.id, [survey.compound_id]).get(survey.compound_id)
    form = form or DatesForm(formdata=None, opens_on=survey.opens_on, closes_on=survey.closes_on)
    public_url = url_for("survey_public.answer", compound_id=survey.compound_id, _external=True)
    return render("evaluation/surveys/detail.html", s=survey, ev=ev, stats=stats, form=form,
                  items=surveys.survey_items(ev.standard_id), counts=surveys.item_counts(survey),
                  comments=surveys.comments(survey), state=surveys.state(survey), public_url=public_url, problem=problem,
                  writable=policy.can(m, "open", "survey") and ev.status not in surveys.CLOSED_EVALUATION,
                  **LABELS), status


@bp.route("/<int:survey_id>")
def detail(survey_id):
    return _detail(get_or_404(Survey, survey_id))


@bp.route("/<int:survey_id>/dates", methods=["POST"])
def dates(survey_id):
    survey = get_or_404(Survey, survey_id)  # 404 before 403: never confirm it exists
    require("open", "survey")
    form = DatesForm()
    if form.validate_on_submit():
        try:
            surveys.change_dates(survey, form.opens_on.data, form.closes_on.data)
        except surveys.SurveyProblem as e:
            db.session.rollback()
            if e.field in form:
                attach_errors(form, {e.field: e.message})
            else:
                return _detail(survey, form, 422, problem=e.message)
        else:
            db.session.commit()
            flash(f"已将测评时间调整为 {survey.opens_on} 至 {survey.closes_on}。", "success")
            return redirect(url_for("surveys.detail", survey_id=survey.id))
    return _detail(survey, form, 422)


@bp.route("/<int:survey_id>/poster")
def poster(survey_id):
    survey = get_or_404(Survey, survey_id)
    online = url_for("survey_public.answer", compound_id=survey.compound_id, _external=True)
    return render("evaluation/surveys/poster.html", s=survey, ev=survey.evaluation, online=online,
                  items=surveys.survey_items(survey.evaluation.standard_id),
                  qr=segno.make(online, error="m").svg_inline(scale=4, omitsize=True))


# --- residents' pages (no login) -----------------------------------------------------------

def _wrong_code(resp) -> bool:
    # Only wrong household codes count: a whole compound may answer from behind one address.
    return bool(g.get("wrong_household_code"))


def _public_compound(compound_id: int):
    # The tenant filter applies: another district's compound id is a 404 under this slug.
    c = db.session.execute(db.select(Compound).where(Compound.id == compound_id)).scalar_one_or_none()
    if c is None:
        abort(404)
    return c


@public_bp.route("/c/<int:compound_id>/survey", methods=["GET", "POST"])
@limiter.limit(WRONG_SURVEY_CODES, methods=["POST"], deduct_when=_wrong_code)   # codes cannot be guessed
def answer(compound_id):
    c = _public_compound(compound_id)
    current, upcoming, last = surveys.public_surveys(c.id)
    status, problem = 200, ""
    if request.method == "POST":
        raw = request.form.get("survey_id", "")
        survey = db.session.execute(db.select(Survey).where(
            Survey.id == (record_id(raw) or -1), Survey.compound_id == c.id)).scalar_one_or_none()
        if survey is None:
            abort(404)
    else:
        raw = request.args.get("s", "")
        survey = next((s for s in current if str(s.id) == raw), current[0] if current else None)
    items = surveys.survey_items(survey.evaluation.standard_id) if survey else []
    form = answer_form(items)
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            answers = {i.id: form[f"q{i.id}"].data for i in items}
            try:
                surveys.respond(survey, form.household_code.data, answers, form.comment.data or "")
                db.session.commit()
            except surveys.SurveyProblem as e:
                db.session.rollback()
                if e.field == "household_code" and surveys.household_in(c.id, form.household_code.data) is None:
                    g.wrong_household_code = True
                if e.field in form:
                    attach_errors(form, {e.field: e.message})
                else:
                    problem = e.message
            except IntegrityError:
                db.session.rollback()
                attach_errors(form, {"household_code": surveys.duplicate_problem().message})
            else:
                return redirect(url_for("survey_public.thanks", compound_id=c.id))
    form.survey_id.data = str(survey.id) if survey else ""
    return render("evaluation/surveys/public/answer.html", c=c, survey=survey, current=current, upcoming=upcoming,
                  last=last, items=items, form=form, problem=problem,
                  state=surveys.state(survey) if survey else None, **LABELS), status


@public_bp.route("/c/<int:compound_id>/survey/thanks")
def thanks(compound_id):
    return render("evaluation/surveys/public/thanks.html", c=_public_compound(compound_id))
