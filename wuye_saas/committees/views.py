"""Committee formation and 换届, the vetting checklist, committee supervision (/committees/…) and
the party-building registry lists (/registry/…): thin views over logic.py and registry.py.

/committees/ itself, /committees/new and /committees/<id> are the register's (org) pages, so this
area's pages sit beside them: /committees/formations/…, /committees/vetting…,
/committees/<id>/supervision."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..followups.models import FollowUp
from ..formutil import Form, attach_errors, record_id
from ..org.models import (
    APPOINTMENT_DIRECTIONS, COMMITTEE_POSITIONS, MANAGEMENT_MODES, Building, Committee, CommitteeMember, Community,
    Household, household_label,
)
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import logic, registry
from .forms import (
    CancelForm, CandidateForm, CriterionEditForm, CriterionForm, ElectionForm, EndSupervisionForm, FileForm,
    FormationForm, SupervisionForm,
)
from ..exits.models import FirmExit
from .models import (
    CANDIDATE_STATUSES, FORMATION_KINDS, FORMATION_STATUSES, SUPERVISION_KINDS, VETTING_GROUPS, VETTING_RESULTS,
    Candidate, CommitteeSupervision, Formation, VettingCriterion,
)

bp = tenant_blueprint("committees", __name__, "/committees")
registry_bp = tenant_blueprint("registry", __name__, "/registry")

OVERSEERS = {"district_admin", "street_staff", "community_staff"}


@bp.app_context_processor
def _governance_nav():
    """The 基层治理 menu items of this area, for the acting membership: only what it may use."""
    mem = g.get("membership")
    if mem is None:
        return {"governance_nav": []}
    items = [("committees.formations", "people", "业委会组建换届", policy.reaches(mem, Formation)),
             ("registry.index", "card-list", "党建与业委会台账", mem.role in OVERSEERS),
             ("followups.index", "bell", "待办督办", policy.reaches(mem, FollowUp)),
             ("exits.index", "box-arrow-right", "退出与交接", policy.reaches(mem, FirmExit)),
             ("committees.vetting", "list-check", "候选人联审清单", policy.can(mem, "manage", "vetting_config"))]
    return {"governance_nav": [(e, icon, label) for e, icon, label, shown in items if shown]}


def _filtered(args, *names):
    return any(args.get(n) for n in names)


def _may_run(f: Formation) -> bool:
    """Community staff run a formation of their community (the scope already brought it here)."""
    return policy.can(current_membership(), "act", "formation") and f.status in logic.ACTIVE_STATUSES


# --- formations ----------------------------------------------------------------------------------

@bp.route("/formations/")
def formations():
    m, args = current_membership(), request.args
    stmt = logic.formations_select(m, args.get("status", ""), args.get("kind", ""), args.get("q", ""))
    page = db.paginate(stmt.options(joinedload(Formation.compound)), page=page_arg(), per_page=20, error_out=False)
    return render("committees/formations/index.html", "committees/formations/_table.html", page=page, args=args,
                  counts=logic.candidate_counts([f.id for f in page.items]), statuses=FORMATION_STATUSES,
                  filing_due=logic.filing_due, today=today(),
                  kinds=FORMATION_KINDS, may_open=policy.can(m, "open", "formation"),
                  filtered=_filtered(args, "status", "kind", "q"))


def _compound_choices(m, day):
    """Every compound in scope, eligible ones marked: picking another gets the logic's reason."""
    options = logic.compound_options(m, day)
    rows = [(c, k) for c, k, _ in options if k]
    return rows, [("", "请选择…")] + [(c.id, f"{c.name}（可{FORMATION_KINDS[k]}）" if k else f"{c.name}（{note}）")
                                      for c, k, note in options]


@bp.route("/formations/new", methods=["GET", "POST"])
def new_formation():
    require("open", "formation")
    m, day = current_membership(), today()
    rows, choices = _compound_choices(m, day)
    form = FormationForm()
    form.compound_id.choices = choices
    if request.method == "GET":
        preset = request.args.get("compound_id", "")
        kinds = {c.id: k for c, k in rows}
        if record_id(preset) in kinds:
            form.compound_id.data, form.kind.data = record_id(preset), kinds[record_id(preset)]
    if form.validate_on_submit():
        try:
            f = logic.open_formation(m, form.compound_id.data, form.kind.data, form.committee_kind.data,
                                     form.seats.data, day, user_id=current_user.id)
        except logic.FormationProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field if e.field in form else "compound_id": e.message})
        else:
            db.session.commit()
            flash(f"已发起{f.compound.name}{f.committee_kind}{FORMATION_KINDS[f.kind]}，请登记候选人。", "success")
            return redirect(url_for("committees.formation", formation_id=f.id))
    return render("committees/formations/new.html", form=form, rows=rows, kinds=FORMATION_KINDS,
                  seats=logic.SEATS), (422 if form.errors else 200)


def _households(f: Formation):
    rows = db.session.execute(select(Household.id, Building.name, Household.room)
                              .join(Building, Building.id == Household.building_id)
                              .where(Household.compound_id == f.compound_id)
                              .order_by(Building.name_key, Household.room_key)).all()
    return [("", "（不关联住户）")] + [(hid, household_label(b, room)) for hid, b, room in rows]


def _formation_page(f: Formation, forms: dict | None = None, errors: list | None = None, status: int = 200,
                    confirm: str | None = None):
    day = today()
    active = logic.active_criterion_ids()
    outcomes = {c.id: logic.outcome(c.checks, active) for c in f.candidates}
    checked = {c.id: sum(1 for ch in c.checks if ch.criterion_id in active) for c in f.candidates}
    forms = forms or {}
    cand = forms.get("candidate") or CandidateForm(formdata=None)
    if f.status == "open":
        cand.household_id.choices = _households(f)
    households = {hid: household_label(b, room) for hid, b, room in db.session.execute(
        select(Household.id, Building.name, Household.room).join(Building, Building.id == Household.building_id)
        .where(Household.id.in_([c.household_id for c in f.candidates if c.household_id])))}
    elected = [c for c in f.candidates if c.elected]
    confirm = confirm or request.args.get("confirm", "")
    remove = None
    if confirm == "remove" and record_id(request.args.get("candidate")):
        remove = next((c for c in f.candidates if c.id == record_id(request.args["candidate"])), None)
    return render(
        "committees/formations/detail.html", f=f, may_run=_may_run(f), outcomes=outcomes, checked=checked,
        n_active=len(active), households=households, elected=elected,
        passed=[c for c in f.candidates if outcomes[c.id] == "passed"],
        elected_share=logic.party_share(elected), passed_share=logic.party_share(
            c for c in f.candidates if outcomes[c.id] == "passed"),
        over_half=logic.over_half, candidate_form=cand,
        election_form=forms.get("election") or ElectionForm(formdata=None),
        due=logic.filing_due(f), overdue=bool(logic.filing_due(f) and logic.filing_due(f) < day),
        file_form=forms.get("file") or FileForm(formdata=None, data={"filed_on": day}),
        cancel_form=forms.get("cancel") or CancelForm(formdata=None), action_form=Form(),
        chosen=forms.get("chosen") or {c.id: c.position for c in elected},
        errors=errors or [], confirm=confirm if confirm in ("cancel", "remove") else "", remove=remove,
        statuses=FORMATION_STATUSES, kinds=FORMATION_KINDS, cstatuses=CANDIDATE_STATUSES,
        positions=COMMITTEE_POSITIONS, term_years=logic.TERM_YEARS), status


@bp.route("/formations/<int:formation_id>")
def formation(formation_id):
    return _formation_page(get_or_404(Formation, formation_id))


def _act(formation_id):
    """The shared start of a formation step: the record (404 before 403), then the permission."""
    f = get_or_404(Formation, formation_id)
    require("act", "formation")
    return f


@bp.route("/formations/<int:formation_id>/candidates", methods=["POST"])
def add_candidate(formation_id):
    f = _act(formation_id)
    form = CandidateForm()
    form.household_id.choices = _households(f)
    if form.validate_on_submit():
        try:
            c = logic.add_candidate(f, form.name.data, form.is_party_member.data, form.is_cross_appointed.data,
                                    form.recommended_by.data, form.household_id.data, form.phone.data or "")
        except logic.FormationProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field if e.field in form else "name": e.message})
        else:
            db.session.commit()
            flash(f"已登记候选人{c.name}。", "success")
            return redirect(url_for("committees.formation", formation_id=f.id) + "#candidates")
    return _formation_page(f, {"candidate": form}, status=422)


def _step(f: Formation, run, done: str, anchor: str = ""):
    if not Form().validate_on_submit():
        abort(400)
    try:
        run()
    except logic.FormationProblem as e:
        db.session.rollback()
        return _formation_page(f, errors=[e.message], status=422)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("committees.formation", formation_id=f.id) + anchor)


@bp.route("/formations/<int:formation_id>/candidates/<int:candidate_id>/remove", methods=["POST"])
def remove_candidate(formation_id, candidate_id):
    f = _act(formation_id)
    c = get_or_404(Candidate, candidate_id)
    if c.formation_id != f.id:
        abort(404)
    name = c.name
    return _step(f, lambda: logic.remove_candidate(f, c), f"已移除候选人{name}。", "#candidates")


@bp.route("/formations/<int:formation_id>/vetting", methods=["POST"])
def start_vetting(formation_id):
    f = _act(formation_id)
    return _step(f, lambda: logic.start_vetting(f), "候选人名单已提交联审，请逐人记录各单位的审查结论。", "#candidates")


@bp.route("/formations/<int:formation_id>/candidates/<int:candidate_id>", methods=["GET", "POST"])
def candidate(formation_id, candidate_id):
    f = get_or_404(Formation, formation_id)
    c = get_or_404(Candidate, candidate_id)
    if c.formation_id != f.id:
        abort(404)
    errors, status, posted = [], 200, None
    if request.method == "POST":
        require("act", "formation")
        if not Form().validate_on_submit():
            abort(400)
        posted = request.form
        entries = [{"criterion_id": int(k.split("_", 1)[1]), "result": v,
                    "unit": request.form.get(f"unit_{k.split('_', 1)[1]}", ""),
                    "note": request.form.get(f"note_{k.split('_', 1)[1]}", "")}
                   for k, v in request.form.items() if k.startswith("result_") and k.split("_", 1)[1].isdigit()]
        try:
            result = logic.record_checks(f, c, entries, user_id=current_user.id)
        except logic.FormationProblem as e:
            db.session.rollback()
            errors, status = [e.message], 422
        else:
            db.session.commit()
            flash(f"已记录{c.name}的联审结论：{CANDIDATE_STATUSES[result]}。",
                  {"passed": "success", "rejected": "warning"}.get(result, "info"))
            return redirect(url_for("committees.formation", formation_id=f.id) + "#candidates")
    criteria = db.session.execute(logic.criteria_select(active_only=True)).scalars().all()
    checks = {ch.criterion_id: ch for ch in c.checks}
    return render("committees/formations/candidate.html", f=f, c=c, criteria=criteria, checks=checks,
                  form=Form(), errors=errors, posted=posted, groups=VETTING_GROUPS, results=VETTING_RESULTS,
                  may_run=_may_run(f) and f.status == "vetting", cstatuses=CANDIDATE_STATUSES,
                  outcome=logic.outcome(c.checks, {cr.id for cr in criteria})), status


@bp.route("/formations/<int:formation_id>/election/start", methods=["POST"])
def start_election(formation_id):
    f = _act(formation_id)
    return _step(f, lambda: logic.start_election(f),
                 "已发起业主投票选举（表决草稿），请报备社区、公示满 15 日后开始表决。")


@bp.route("/formations/<int:formation_id>/election", methods=["POST"])
def election(formation_id):
    """The positions of the members the count elected (one 主任)."""
    f = _act(formation_id)
    form = ElectionForm()
    chosen = {c.id: request.form.get(f"position_{c.id}", "") for c in f.candidates if c.elected}
    if form.validate_on_submit():
        try:
            logic.record_election(f, chosen, form.note.data or "")
        except logic.FormationProblem as e:
            db.session.rollback()
            return _formation_page(f, {"election": form, "chosen": chosen}, errors=[e.message], status=422)
        db.session.commit()
        party, total = logic.party_share(c for c in f.candidates if c.elected)
        flash(f"已确定当选委员职务：当选 {total} 人，其中党员 {party} 人。", "success")
        if not logic.over_half(party, total):
            flash("当选委员中党员未过半（目标为党员过半），请在备案前报社区党组织研究。", "warning")
        return redirect(url_for("committees.formation", formation_id=f.id))
    return _formation_page(f, {"election": form, "chosen": chosen}, status=422)


@bp.route("/formations/<int:formation_id>/file", methods=["POST"])
def file(formation_id):
    f = _act(formation_id)
    form = FileForm()
    if form.validate_on_submit():
        try:
            committee = logic.file_committee(f, form.filed_on.data)
        except logic.FormationProblem as e:
            db.session.rollback()
            if f.status != "elected":   # no filing form on the page: the refusal shows on top
                return _formation_page(f, {"file": form}, errors=[e.message], status=422)
            attach_errors(form, {"filed_on": e.message})
        else:
            db.session.commit()
            flash(f"{committee.name}已备案成立，任期 {committee.term_start:%Y-%m-%d} 至 {committee.term_end:%Y-%m-%d}。",
                  "success")
            return redirect(url_for("committees.committee", committee_id=committee.id))
    return _formation_page(f, {"file": form}, status=422)


@bp.route("/formations/<int:formation_id>/cancel", methods=["POST"])
def cancel(formation_id):
    f = _act(formation_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            logic.cancel_formation(f, form.reason.data)
        except logic.FormationProblem as e:
            db.session.rollback()
            return _formation_page(f, errors=[e.message], status=422)
        db.session.commit()
        flash(f"已终止{f.compound.name}的{FORMATION_KINDS[f.kind]}。", "success")
        return redirect(url_for("committees.formation", formation_id=f.id))
    # The confirmation again, with the message next to the reason.
    return _formation_page(f, {"cancel": form}, status=422, confirm="cancel")


# --- the vetting checklist (district) -------------------------------------------------------------

def _vetting_page(form, status=200):
    criteria = db.session.execute(logic.criteria_select()).scalars().all()
    return render("committees/vetting/index.html", criteria=criteria, form=form, seed_form=Form(),
                  groups=VETTING_GROUPS, may_edit=policy.can(current_membership(), "manage", "vetting_config"),
                  defaults=len(logic.DEFAULT_CRITERIA)), status


@bp.route("/vetting", methods=["GET", "POST"])
def vetting():
    form = CriterionForm()
    if request.method == "POST":
        require("manage", "vetting_config")
        if form.validate_on_submit():
            try:
                c = logic.add_criterion(form.group.data, form.text.data, form.checked_by.data, form.sort.data)
            except logic.FormationProblem as e:
                db.session.rollback()
                attach_errors(form, {e.field: e.message})
            else:
                db.session.commit()
                flash(f"已添加审查项：{c.text}", "success")
                return redirect(url_for("committees.vetting"))
        return _vetting_page(form, 422)
    return _vetting_page(CriterionForm(formdata=None))


@bp.route("/vetting/seed", methods=["POST"])
def vetting_seed():
    require("manage", "vetting_config")
    if not Form().validate_on_submit():
        abort(400)
    added = logic.seed_default_criteria()
    db.session.commit()
    flash(f"已采用默认清单（五不能、六不宜），新增 {added} 项。" if added else "默认清单各项都已存在，未重复添加。",
          "success" if added else "info")
    return redirect(url_for("committees.vetting"))


@bp.route("/vetting/<int:vetting_criterion_id>/edit", methods=["GET", "POST"])
def vetting_edit(vetting_criterion_id):
    c = get_or_404(VettingCriterion, vetting_criterion_id)
    require("manage", "vetting_config")
    form = CriterionEditForm(obj=c)
    if form.validate_on_submit():
        try:
            logic.update_criterion(c, form.group.data, form.text.data, form.checked_by.data, form.sort.data,
                                   form.active.data)
        except logic.FormationProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash("已保存审查项。", "success")
            return redirect(url_for("committees.vetting"))
    return render("committees/vetting/edit.html", c=c, form=form), (422 if form.errors else 200)


# --- a committee and its supervision ------------------------------------------------------------

def _committee_page(committee: Committee, forms: dict | None = None, status: int = 200):
    m, day = current_membership(), today()
    members = db.session.execute(select(CommitteeMember).where(CommitteeMember.committee_id == committee.id)
                                 .order_by(CommitteeMember.id)).scalars().all()
    order = {p: i for i, p in enumerate(COMMITTEE_POSITIONS)}
    members.sort(key=lambda x: (order.get(x.position, 9), x.id))
    sups = db.session.execute(select(CommitteeSupervision).where(
        CommitteeSupervision.committee_id == committee.id, policy.visible(m, CommitteeSupervision))
        .order_by(CommitteeSupervision.started_on.desc(), CommitteeSupervision.id.desc())).scalars().all()
    current = next((s for s in sups if s.ended_on is None), None)
    formation = db.session.execute(select(Formation).where(
        Formation.committee_id == committee.id, policy.visible(m, Formation))).scalars().first()
    forms = forms or {}
    early = (logic.early_reason(committee, day) if committee.term_start <= day <= committee.term_end
             and logic.active_formation(committee.compound_id) is None else None)
    return render("committees/committee.html", committee=committee, members=members, sups=sups, current=current,
                  share=logic.party_share(members), over_half=logic.over_half, day=day,
                  in_term=committee.term_start <= day <= committee.term_end,
                  days_left=(committee.term_end - day).days, formation=formation,
                  may_supervise=policy.can(m, "act", "supervision"),
                  sup_form=forms.get("sup") or SupervisionForm(formdata=None),
                  end_form=forms.get("end") or EndSupervisionForm(formdata=None), kinds=SUPERVISION_KINDS,
                  fkinds=FORMATION_KINDS, early=early, may_open=policy.can(m, "open", "formation")), status


@bp.route("/<int:committee_id>/supervision")
def committee(committee_id):
    return _committee_page(get_or_404(Committee, committee_id))


@bp.route("/<int:committee_id>/supervisions", methods=["POST"])
def supervise(committee_id):
    committee = get_or_404(Committee, committee_id)
    require("act", "supervision")
    form = SupervisionForm()
    if form.validate_on_submit():
        try:
            s = logic.start_supervision(committee, form.kind.data, form.reason.data, form.due_on.data, today())
        except logic.FormationProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field if e.field in form else "kind": e.message})
        else:
            db.session.commit()
            flash(f"已登记：{committee.name}{SUPERVISION_KINDS[s.kind]}。", "success")
            return redirect(url_for("committees.committee", committee_id=committee.id))
    return _committee_page(committee, {"sup": form}, 422)


@bp.route("/supervisions/<int:committee_supervision_id>/end", methods=["POST"])
def end_supervision(committee_supervision_id):
    s = get_or_404(CommitteeSupervision, committee_supervision_id)
    require("act", "supervision")
    form = EndSupervisionForm()
    if form.validate_on_submit():
        try:
            logic.end_supervision(s, form.end_note.data, today())
        except logic.FormationProblem as e:
            db.session.rollback()
            attach_errors(form, {"end_note": e.message})
        else:
            db.session.commit()
            flash(f"已结束{SUPERVISION_KINDS[s.kind]}。", "success")
            return redirect(url_for("committees.committee", committee_id=s.committee_id))
    return _committee_page(s.committee, {"end": form}, 422)


# --- registry lists -----------------------------------------------------------------------------

LIST_KEYS = "committees, party, no_party, firms_without_org, firms_instructor_only, compounds_without, cross"


def _overseer():
    m = current_membership()
    if m.role not in OVERSEERS:
        abort(403)
    return m


class RowsPage(Pagination):
    """db.paginate's page object over a select of labelled columns (db.paginate yields only the
    first column of each row): rows for the page, and a count of the whole select."""

    def __init__(self, stmt, page: int, per_page: int):
        self._stmt = stmt
        super().__init__(page=page, per_page=per_page, error_out=False)

    def _query_items(self):
        return db.session.execute(self._stmt.limit(self.per_page).offset(self._query_offset)).all()

    def _query_count(self):
        return db.session.execute(select(func.count()).select_from(self._stmt.order_by(None).subquery())).scalar_one()


@registry_bp.route("/")
def index():
    m, day = _overseer(), today()
    cards = [(spec, spec.counts(m, day)) for spec in registry.LISTS.values()]
    return render("committees/registry/index.html", cards=cards, day=day)


def _communities(m):
    return db.session.execute(select(Community.id, Community.name).where(policy.visible(m, Community))
                              .order_by(Community.name)).all()


@registry_bp.route(f"/<any({LIST_KEYS}):kind>")
def registry_list(kind):
    m, day, args = _overseer(), today(), request.args
    spec = registry.LISTS[kind]
    page = RowsPage(spec.build(m, day, args), page_arg(), 20)
    return render("committees/registry/list.html", "committees/registry/_table.html", spec=spec, page=page,
                  args=args, day=day, counts=spec.counts(m, day), communities=_communities(m),
                  modes=MANAGEMENT_MODES, directions=APPOINTMENT_DIRECTIONS, lists=registry.LISTS,
                  filtered=_filtered(args, *spec.filters))


@registry_bp.route(f"/<any({LIST_KEYS}):kind>/export.xlsx")
def registry_export(kind):
    m, day = _overseer(), today()
    spec = registry.LISTS[kind]
    rows = db.session.execute(spec.build(m, day, request.args)).all()
    buf = BytesIO()
    registry.workbook(spec, rows, day, spec.counts(m, day)).save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name=f"{spec.title}-{day:%Y%m%d}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
