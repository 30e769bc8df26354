"""One assessment: the score sheet, the firm's self-report with evidence, the community review,
the street confirmation and the assessor's items; one item's page; evidence files (thin views
over workflow.py). Whoever may act now gets the inputs of their step; everyone else reads."""
from __future__ import annotations

import re
from decimal import Decimal

from flask import abort, current_app, flash, redirect, request, send_file, url_for

from ..extensions import db
from ..formutil import Form
from ..web import current_membership, get_or_404, render, require, tenant_blueprint
from . import workflow
from .cycle_forms import NoteForm
from .models import (
    ASSESSMENT_STATUSES, EVALUATION_STATUSES, ITEM_KINDS, METHODS, SCORERS, VETO_EFFECTS, Assessment, Evidence,
    ItemScore,
)
from .rules import CENT

bp = tenant_blueprint("assessments", __name__)

FIELD = re.compile(r"^s(\d+)-(points|occ|note|reason|veto|files)$")
# The policy area each step writes in, and what its buttons say when done.
STEP_AREAS = {"self": "self_report", "review": "review", "confirm": "confirm", "assess": "assess",
              "committee": "committee_score"}
LEVEL_OF_STEP = {"review": "community", "confirm": "street", "assess": "assessor", "committee": "committee"}


def norm(value) -> str:
    """Points in the two-place form the inputs submit (compares a level with a stored score)."""
    if value is None or str(value).strip() == "":
        return ""
    try:
        return str(Decimal(str(value)).quantize(CENT))
    except ArithmeticError:
        return str(value)


def _groups(scores: list[ItemScore]):
    """The sheet's sections: each category's regular items, then bonus, then veto items."""
    cats: dict = {}
    for s in scores:
        if s.item.kind == "regular":
            key = (s.item.category.sort if s.item.category else 0, s.item.category_id or 0)
            cats.setdefault(key, (s.item.category.name if s.item.category else "基本项", []))[1].append(s)
    out = [(name, "regular", rows) for _, (name, rows) in sorted(cats.items())]
    bonus = [s for s in scores if s.item.kind == "bonus"]
    veto = [s for s in scores if s.item.kind == "veto"]
    if bonus:
        out.append(("加分项", "bonus", bonus))
    if veto:
        out.append(("一票否决项", "veto", veto))
    return out


def _page(a: Assessment, *, errors: dict | None = None, posted=None, status: int = 200, notes: dict | None = None):
    m = current_membership()
    scores = workflow.scores_of(m, a)
    step = workflow.mode(m, a)
    editable = {s.id for s in scores if _editable(step, s)}
    # Never both on one page (review vs confirmation step), so no field prefixes.
    notes = {"return": NoteForm(formdata=None), "back": NoteForm(formdata=None), **(notes or {})}
    return render("evaluation/assessments/detail.html", a=a, ev=a.evaluation, scores=scores, groups=_groups(scores),
                  step=step, editable=editable, errors=errors or {}, posted=posted, notes=notes, form=Form(),
                  statuses=ASSESSMENT_STATUSES, ev_statuses=EVALUATION_STATUSES, methods=METHODS, scorers=SCORERS,
                  kinds=ITEM_KINDS, veto_effects=VETO_EFFECTS, pending=workflow.pending_counts(a), norm=norm,
                  level_of=workflow.level_of, self_scorable=workflow.self_scorable,
                  closed_reason=workflow.self_report_closed(a) if workflow.is_firm_of(m, a) else None,
                  is_firm=workflow.is_firm_of(m, a), confirm=request.args.get("confirm")), status


def _editable(step: str | None, s: ItemScore) -> bool:
    if step == "self":
        return workflow.self_scorable(s.item)
    if step in LEVEL_OF_STEP:
        return workflow.level_of(s.item) == LEVEL_OF_STEP[step]
    return False


@bp.route("/assessments/<int:assessment_id>")
def detail(assessment_id):
    return _page(get_or_404(Assessment, assessment_id))


def _entries(scores: list[ItemScore], text_part: str) -> dict[int, workflow.Entry]:
    f = request.form
    return {s.id: workflow.Entry(points=f.get(f"s{s.id}-points"), occurrences=f.get(f"s{s.id}-occ"),
                                 text=f.get(f"s{s.id}-{text_part}", ""), veto=f.get(f"s{s.id}-veto"))
            for s in scores}


def _posted_ids() -> set[int]:
    ids = set()
    for key in list(request.form) + list(request.files):
        hit = FIELD.match(key)
        if hit:
            ids.add(int(hit.group(1)))
    return ids


def _step(assessment_id: int, step: str, run, done: str):
    """The shared shape of the scoring steps: scope → role → the rows this membership may see
    (a posted row outside them is 404) → logic → commit, or the sheet again with the messages."""
    a = get_or_404(Assessment, assessment_id)
    require("write", STEP_AREAS[step])
    if not Form().validate_on_submit():
        abort(400)
    m = current_membership()
    visible = {s.id: s for s in workflow.scores_of(m, a)}
    if _posted_ids() - set(visible):
        abort(404)   # another item's id: it does not exist for this membership
    rows = [s for s in visible.values() if _editable(step, s)]
    try:
        outcome = run(m, a, rows)
    except workflow.WorkflowProblem as e:
        db.session.rollback()
        return _page(a, errors=e.errors, posted=request.form, status=e.status)
    try:
        db.session.commit()
    except Exception:
        for path in getattr(outcome, "stored", []):
            path.unlink(missing_ok=True)   # no row points at them
        raise
    flash(done, "success")
    return redirect(url_for("assessments.detail", assessment_id=a.id))


@bp.route("/assessments/<int:assessment_id>/self", methods=["POST"])
def self_report(assessment_id):
    submit = request.form.get("action") == "submit"

    def run(m, a, rows):
        if not workflow.is_firm_of(m, a):
            abort(403)
        uploads = {}
        for s in rows:
            files = [workflow.Upload(f.filename, f.read()) for f in request.files.getlist(f"s{s.id}-files")
                     if f.filename]
            if files:
                uploads[s.id] = files
        return workflow.save_self_report(m, a, _entries(rows, "note"), uploads, current_app.config["UPLOAD_FOLDER"],
                                         submit=submit)
    return _step(assessment_id, "self", run,
                 "自评已提交，等待社区审核；提交后不能再修改。" if submit else "自评草稿已保存。")


@bp.route("/assessments/<int:assessment_id>/review", methods=["POST"])
def review(assessment_id):
    finish = request.form.get("action") == "finish"

    def run(m, a, rows):
        if not workflow.is_reviewer(m, a):
            abort(403)
        workflow.save_review(m, a, _entries(rows, "reason"), finish=finish)
    return _step(assessment_id, "review", run, "社区审核已完成，等待街道确认。" if finish else "审核评分已保存。")


@bp.route("/assessments/<int:assessment_id>/confirm", methods=["POST"])
def confirm(assessment_id):
    finish = request.form.get("action") == "finish"

    def run(m, a, rows):
        if not workflow.is_confirmer(m, a):
            abort(403)
        workflow.save_confirmation(m, a, _entries(rows, "reason"), finish=finish)
    return _step(assessment_id, "confirm", run, "街道已确认，等待区级定稿。" if finish else "街道评分已保存。")


@bp.route("/assessments/<int:assessment_id>/assess", methods=["POST"])
def assess(assessment_id):
    def run(m, a, rows):
        workflow.save_assessor_scores(m, a, _entries(rows, "reason"))
    return _step(assessment_id, "assess", run, "测评打分已保存。")


@bp.route("/assessments/<int:assessment_id>/committee", methods=["POST"])
def committee(assessment_id):
    def run(m, a, rows):
        workflow.save_committee_scores(m, a, _entries(rows, "reason"))
    return _step(assessment_id, "committee", run, "业委会评价已保存；社区审核前仍可修改。")


def _note_step(assessment_id: int, area: str, prefix: str, check, run, done: str):
    a = get_or_404(Assessment, assessment_id)
    require("write", area)
    m = current_membership()
    if not check(m, a):
        abort(403)
    form = NoteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(a, notes={prefix: form}, status=422)
    try:
        run(m, a, form.note.data)
    except workflow.WorkflowProblem as e:
        db.session.rollback()
        form.note.errors = [e.message]
        return _page(a, notes={prefix: form}, status=e.status)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("assessments.detail", assessment_id=a.id))


@bp.route("/assessments/<int:assessment_id>/return", methods=["POST"])
def return_to_firm(assessment_id):
    return _note_step(assessment_id, "review", "return", workflow.is_reviewer, workflow.return_to_firm,
                      "已退回企业修改。")


@bp.route("/assessments/<int:assessment_id>/send-back", methods=["POST"])
def send_back(assessment_id):
    return _note_step(assessment_id, "confirm", "back", workflow.is_confirmer, workflow.send_back,
                      "已退回社区重新审核。")


# --- one item, evidence files ----------------------------------------------------------------------

@bp.route("/scores/<int:item_score_id>")
def score(item_score_id):
    s = get_or_404(ItemScore, item_score_id)
    a = s.assessment
    m = current_membership()
    return render("evaluation/assessments/score.html", s=s, a=a, ev=a.evaluation, item=s.item,
                  statuses=ASSESSMENT_STATUSES, methods=METHODS, scorers=SCORERS, kinds=ITEM_KINDS,
                  veto_effects=VETO_EFFECTS, level=workflow.level_of(s.item),
                  may_delete=workflow.is_firm_of(m, a) and workflow.self_report_closed(a) is None)


@bp.route("/evidence/<int:evidence_id>")
def evidence(evidence_id):
    """An evidence file, only to those who see its item (scope via the policy)."""
    ev = get_or_404(Evidence, evidence_id)
    path = workflow.evidence_path(current_app.config["UPLOAD_FOLDER"], ev.stored_name)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=ev.content_type, download_name=ev.filename,
                     as_attachment=ev.content_type == "application/pdf")


@bp.route("/evidence/<int:evidence_id>/delete", methods=["GET", "POST"])
def delete_evidence(evidence_id):
    """A confirmation page, then the delete (the audit trail keeps what it was)."""
    ev = get_or_404(Evidence, evidence_id)
    require("write", "self_report")
    m = current_membership()
    s = ev.score
    a = s.assessment
    if not workflow.is_firm_of(m, a):
        abort(403)
    form = Form()
    status = 200
    problem = workflow.self_report_closed(a)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            path = workflow.delete_evidence(m, ev, current_app.config["UPLOAD_FOLDER"])
        except workflow.WorkflowProblem as e:
            db.session.rollback()
            problem, status = e.message, e.status
        else:
            db.session.commit()
            path.unlink(missing_ok=True)
            flash(f"已删除证明材料“{ev.filename}”。", "success")
            return redirect(url_for("assessments.detail", assessment_id=a.id) + f"#s{s.id}")
    return render("evaluation/assessments/evidence_delete.html", e=ev, s=s, a=a, form=form, problem=problem), status
