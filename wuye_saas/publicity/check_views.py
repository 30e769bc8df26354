"""Committee checks, objections (质询), the publicity schedule and its compliance list (thin views
over checks.py and schedule.py)."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..formutil import Form, attach_errors, record_id
from ..org.models import Community, Compound
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import checks, schedule
from .check_forms import AnswerForm, DecideForm, ObjectionForm, RequirementForm, RespondForm
from .models import (
    FREQUENCIES, LEDGER_KINDS, OBJECTION_STATUSES, PUBLICATION_KINDS, Objection, Publication, PublicityRequirement,
)

bp = tenant_blueprint("checks", __name__, "/checks")

# Staff who oversee publicity in their area (the compliance list).
OVERSEERS = {"district_admin", "street_staff", "community_staff"}


def _filtered(*names):
    return any(request.args.get(n) for n in names)


@bp.route("/")
def index():
    m = current_membership()
    args = request.args
    view = args.get("view") or ("publications" if m.role == "committee_member" else "objections")
    q = args.get("q", "")
    if view == "publications":
        page = db.paginate(checks.publications_select(m, args.get("state"), q), page=page_arg(), per_page=20,
                           error_out=False)
        ctx = {"marks": checks.publication_marks(m, [p.id for p in page.items])}
    else:
        view = "objections"
        # Those who act on objections start from their to-do list; overseers from all of them.
        scope = args.get("scope") or ("all" if m.role in ("district_admin", "street_staff", "assessor") else "todo")
        page = db.paginate(checks.objections_select(m, args.get("status"), q, todo=scope == "todo"),
                           page=page_arg(), per_page=20, error_out=False)
        who = checks.context(m)
        ctx = {"scope": scope, "steps": {o.id: checks.next_step(o, m, who) for o in page.items}}
    return render("publicity/checks/index.html", "publicity/checks/_results.html", view=view, page=page, args=args,
                  statuses=OBJECTION_STATUSES, kinds=PUBLICATION_KINDS,
                  filtered=_filtered("q", "state", "status"), **ctx)


def _publication_page(p: Publication, form: ObjectionForm, status: int = 200):
    m = current_membership()
    form.line.choices = [("", "请选择…")] + [(str(ln["key"]), f"{ln.get('label', ln['key'])}：{ln.get('value', '')}")
                                           for ln in checks.lines(p)]
    objections = db.session.execute(select(Objection).where(Objection.publication_id == p.id)
                                    .order_by(Objection.id)).scalars().all()
    return render("publicity/checks/publication.html", p=p, form=form, check_form=Form(),
                  lines=checks.lines(p), objections=objections, statuses=OBJECTION_STATUSES,
                  kinds=PUBLICATION_KINDS, marks=checks.publication_marks(m, [p.id])[p.id],
                  committee=checks.is_committee_of(m, p)), status


@bp.route("/publications/<int:publication_id>")
def publication(publication_id):
    return _publication_page(get_or_404(Publication, publication_id), ObjectionForm(formdata=None))


@bp.route("/publications/<int:publication_id>/check", methods=["POST"])
def check(publication_id):
    p = get_or_404(Publication, publication_id)  # 404 before 403: never confirm it exists
    require("check", "objection")
    if not Form().validate_on_submit():
        abort(400)
    try:
        checks.mark_checked(p, current_membership())
    except checks.CheckProblem as e:
        db.session.rollback()
        flash(e.message, "danger")
        return redirect(url_for("checks.publication", publication_id=p.id))
    db.session.commit()
    flash(f"已核对公示“{p.title}”。", "success")
    return redirect(url_for("checks.publication", publication_id=p.id))


@bp.route("/publications/<int:publication_id>/objections", methods=["POST"])
def raise_objection(publication_id):
    p = get_or_404(Publication, publication_id)
    require("raise", "objection")
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            obj = checks.raise_objection(p, current_membership(), form.line.data, form.question.data)
        except checks.CheckProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash("已提出质询，等待记账方答复。", "success")
            return redirect(url_for("checks.objection", objection_id=obj.id))
    return _publication_page(p, form, 422)


def _objection_page(obj: Objection, forms: dict | None = None, status: int = 200):
    m = current_membership()
    forms = {"answer": AnswerForm(formdata=None), "respond": RespondForm(formdata=None),
             "decide": DecideForm(formdata=None), **(forms or {})}
    return render("publicity/checks/objection.html", obj=obj, p=obj.publication, step=checks.next_step(obj, m),
                  forms=forms, timeline=checks.timeline(obj), statuses=OBJECTION_STATUSES,
                  kinds=PUBLICATION_KINDS, keeper=checks.keeper_of(obj.publication)), status


@bp.route("/objections/<int:objection_id>")
def objection(objection_id):
    return _objection_page(get_or_404(Objection, objection_id))


def _step(objection_id, form, area: str, name: str, run, done: str):
    """The shared shape of the three steps: parse → logic → commit, or the page with the message."""
    obj = get_or_404(Objection, objection_id)
    require("act", area)
    if form.validate_on_submit():
        try:
            run(obj, current_membership(), form)
        except checks.CheckProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("checks.objection", objection_id=obj.id))
    return _objection_page(obj, {name: form}, 422)


@bp.route("/objections/<int:objection_id>/answer", methods=["POST"])
def answer(objection_id):
    return _step(objection_id, AnswerForm(), "publish", "answer",
                 lambda o, m, f: checks.answer(o, m, f.answer.data), "已答复质询。")


@bp.route("/objections/<int:objection_id>/respond", methods=["POST"])
def respond(objection_id):
    form = RespondForm()
    return _step(objection_id, form, "objection", "respond",
                 lambda o, m, f: checks.respond(o, m, f.outcome.data == "accept", f.note.data),
                 "已认可答复。" if form.outcome.data == "accept" else "已提交社区裁决。")


@bp.route("/objections/<int:objection_id>/decide", methods=["POST"])
def decide(objection_id):
    return _step(objection_id, DecideForm(), "objection_decide", "decide",
                 lambda o, m, f: checks.decide(o, m, f.decision.data), "已作出裁决。")


# --- the publicity schedule (district) ---------------------------------------------------------

def _schedule_page(form: RequirementForm, status: int = 200):
    reqs = db.session.execute(schedule.requirements_select()).scalars().all()
    return render("publicity/schedule/index.html", form=form, reqs=reqs, seed_form=Form(), kinds=PUBLICATION_KINDS,
                  ledger_kinds=LEDGER_KINDS, frequencies=FREQUENCIES, source_of=schedule.source_of,
                  defaults=schedule.DEFAULTS), status


@bp.route("/schedule", methods=["GET", "POST"], endpoint="schedule")
def schedule_index():
    require("configure", "publicity_config")
    form = RequirementForm()
    if form.validate_on_submit():
        try:
            req = schedule.add_requirement(form.kind.data, form.ledger_kind.data, form.frequency.data,
                                           form.grace_days.data, form.management_mode.data)
        except schedule.ScheduleProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(f"已新增公示要求：{PUBLICATION_KINDS[req.kind]}，{FREQUENCIES[req.frequency]}。", "success")
            return redirect(url_for("checks.schedule"))
    return _schedule_page(form, 422 if form.errors else 200)



@bp.route("/schedule/seed", methods=["POST"])
def schedule_seed():
    require("configure", "publicity_config")
    if not Form().validate_on_submit():
        abort(400)
    added = schedule.seed_defaults()
    db.session.commit()
    flash(f"已按法规和地方规定添加 {added} 项默认公示要求。" if added else "默认公示要求都已存在，未重复添加。",
          "success" if added else "info")
    return redirect(url_for("checks.schedule"))


@bp.route("/schedule/<int:publicity_requirement_id>/delete", methods=["GET", "POST"])
def schedule_delete(publicity_requirement_id):
    """A confirmation page, then the delete (the audit trail keeps what it was)."""
    req = get_or_404(PublicityRequirement, publicity_requirement_id)
    require("configure", "publicity_config")
    form = Form()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        db.session.delete(req)
        db.session.commit()
        flash("已删除该公示要求。", "success")
        return redirect(url_for("checks.schedule"))
    return render("publicity/schedule/delete.html", req=req, form=form, kinds=PUBLICATION_KINDS,
                  ledger_kinds=LEDGER_KINDS, frequencies=FREQUENCIES)


# --- compliance: late and missing publications -------------------------------------------------

class ListPage(Pagination):
    """db.paginate's page object over rows computed in Python (the flags are not SQL)."""

    def __init__(self, rows: list, page: int, per_page: int):
        self._rows = rows
        super().__init__(page=page, per_page=per_page, error_out=False)

    def _query_items(self):
        return self._rows[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self):
        return len(self._rows)


@bp.route("/compliance")
def compliance():
    m = current_membership()
    if m.role not in OVERSEERS:
        abort(403)
    args = request.args
    try:
        on = date.fromisoformat(args.get("on", "")) if args.get("on") else today()
    except ValueError:
        on = today()
    comps = select(Compound.id).where(policy.visible(m, Compound))
    community = args.get("community", "")
    if record_id(community):
        comps = comps.where(Compound.community_id == record_id(community))
    if args.get("q", "").strip():
        comps = comps.where(Compound.name.contains(args["q"].strip()))
    rows = schedule.compliance(db.session.execute(comps).scalars().all(), on)
    rate = schedule.rate_of(rows)
    status = args.get("status", "")
    shown = [r for r in rows if (r.status == status if status in schedule.STATUSES else r.status != "ok")]
    req = args.get("req", "")
    if record_id(req):
        shown = [r for r in shown if r.requirement_id == record_id(req)]
    page = ListPage(shown, page_arg(), 20)
    communities = db.session.execute(select(Community.id, Community.name).where(policy.visible(m, Community))
                                     .order_by(Community.name)).all()
    reqs = db.session.execute(schedule.requirements_select()).scalars().all()
    return render("publicity/schedule/compliance.html", "publicity/schedule/_compliance_table.html", page=page,
                  args=args, on=on, rate=rate, total=len(rows), flagged=sum(1 for r in rows if r.status != "ok"),
                  statuses=schedule.STATUSES, communities=communities, reqs=reqs, kinds=PUBLICATION_KINDS,
                  ledger_kinds=LEDGER_KINDS, frequencies=FREQUENCIES,
                  filtered=_filtered("q", "status", "req", "community"))
