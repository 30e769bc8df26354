"""选聘 pages: thin views over logic.py (load in scope → check who acts → call → commit once)."""
from __future__ import annotations

from flask import abort, g, request, url_for
from flask_login import current_user

from .. import policy
from ..extensions import db
from ..org.models import Firm
from ..web import (
    Refusal, accepted, current_membership, get_or_404, page_arg, render, require, save, tenant_blueprint,
)
from . import logic
from .forms import (
    ApplyForm, AwardForm, CandidateForm, PanelForm, ReasonForm, RuleForm, SelectionForm, score_form,
)
from .models import ACTING, CANDIDATE_OUTCOMES, MODES, STATUSES, PanelMember, Selection, SelectionCandidate, TenderApplication

bp = tenant_blueprint("hiring", __name__, "/hiring")


@bp.app_context_processor
def _hiring_nav():
    m = g.get("membership")
    if m is None:
        return {"hiring_nav": []}
    items = [("hiring.index", "briefcase", "物业选聘", policy.reaches(m, Selection)),
             ("hiring.settings", "sliders", "招投标规则", policy.can(m, "manage", "hiring_config"))]
    return {"hiring_nav": [(e, icon, label) for e, icon, label, shown in items if shown]}


@bp.route("/")
def index():
    m = current_membership()
    if not policy.reaches(m, Selection):
        abort(403)
    args = request.args
    tabs = logic.tabs_for(m)
    tab = args.get("tab", "") if args.get("tab", "") in tabs else ""
    stmt = logic.selections_select(m, tab, args.get("q", "").strip(), args.get("mode", ""))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    barred = (logic.eligibility(db.session.get(Firm, m.firm_id), logic.today())
              if tab == "apply" and m.firm_id else None)
    return render("hiring/index.html", "hiring/_table.html", page=page, args=args, tabs=tabs, tab=tab, barred=barred,
                  modes=MODES, on=logic.today(), stage=logic.stage,
                  may_open=bool(logic.openable_compounds(m, logic.today())),
                  filtered=any(v for k, v in args.items() if k != "page"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    require("run", "selection")
    m = current_membership()
    choices = logic.openable_compounds(m, logic.today())
    form = SelectionForm()
    form.compound_id.choices = [("", "请选择小区")] + [(c.id, c.name) for c in choices]

    def open_it():
        compound = next((c for c in choices if c.id == form.compound_id.data), None)
        if compound is None:
            raise Refusal({"compound_id": "您当前不能代表该小区业主发起选聘。"})
        return accepted(logic.open_selection(
            m, compound, form.mode.data, form.service_grade.data, form.fee_mode.data, form.fee_rate.data,
            form.term_start.data, form.term_end.data, form.requirements.data or "", form.deadline.data,
            user=current_user))
    done = save(form, open_it, lambda sel: "选聘已发起。" + (
        "下一步：添加候选企业并提名。" if sel.mode == "vote" else "下一步：发布招标公告。"), _selection_page)
    return done or (render("hiring/new.html", form=form, choices=choices), (422 if form.errors else 200))


def _detail(sel: Selection, errors=None, forms=None, status=200):
    m = current_membership()
    on = logic.today()
    forms = forms or {}
    runs = logic.may_act(m, sel.compound, on)
    firm_ids = [c.firm_id for c in sel.candidates] + [a.firm_id for a in sel.applications]
    standing = logic.standings(firm_ids, on) if runs or m.role == policy.DISTRICT or m.role not in policy.FIRM_ROLES else {}
    cand_form = forms.get("candidate")
    if runs and sel.mode == "vote" and sel.status in ("draft", "vote_failed"):
        cand_form = cand_form or CandidateForm()
        cand_form.firm_id.choices = [("", "请选择企业")] + [(f.id, f.name) for f in logic.candidate_firms(sel)]
    panel_form = forms.get("panel") or (PanelForm() if runs and sel.mode == "tender"
                                         and sel.status in ("draft", "open") else None)
    award_form = None
    if runs and logic.scoring_open(sel, on):
        award_form = forms.get("award") or AwardForm()
        award_form.application_id.choices = [(a.id, f"{a.firm.name}（总分 {a.total}）")
                                             for a in sel.applications if a.rank == 1]
    own = logic.application_of(sel, m.firm_id) if m.role in policy.FIRM_ROLES else None
    confirm = request.args.get("confirm", "")
    # The owners' side and staff see which firms the rule keeps out of an open tender, and why.
    barred = logic.barred_firms(on) if (sel.mode == "tender" and sel.status in ("draft", "open")
                                        and m.role not in policy.FIRM_ROLES) else []
    return render("hiring/detail.html", barred=barred, sel=sel, runs=runs, standing=standing, on=on, errors=errors or {},
                  cand_form=cand_form, panel_form=panel_form, award_form=award_form,
                  cancel_form=forms.get("cancel") or ReasonForm(),
                  confirm=confirm if confirm in ("cancel", "award") else "",
                  own=own, sign_side=logic.signing_side(m, sel), statuses=STATUSES, modes=MODES, acting=ACTING,
                  outcomes=CANDIDATE_OUTCOMES, stage=logic.stage(sel, on),
                  applications_open=logic.applications_open(sel, on), scoring_open=logic.scoring_open(sel, on),
                  award_problem=logic.award_problem(sel) if logic.scoring_open(sel, on) else None,
                  scores={(s.application_id, s.member_id): s.points for a in sel.applications for s in a.scores},
                  sees_scores=m.role not in policy.FIRM_ROLES, panel_min=logic.PANEL_MIN,
                  may_apply=(m.role == "firm_manager" and policy.can(m, "apply", "tender_apply")
                             and logic.applications_open(sel, on) and own is None),
                  waiting=logic.WAITING_HANDOVER), status


@bp.route("/<int:selection_id>")
def detail(selection_id):
    return _detail(get_or_404(Selection, selection_id))


def _runnable(selection_id: int, *others) -> Selection:
    """The selection in scope (else 404), run by the acting membership (else 403). `others` are
    (model, id) of the route's other records: loaded in scope first, so a record out of reach is a
    404 before any role check."""
    sel = get_or_404(Selection, selection_id)
    for model, record_id in others:
        get_or_404(model, record_id)
    require("run", "selection")
    if not logic.may_act(current_membership(), sel.compound, logic.today()):
        abort(403)
    return sel


def _selection_page(sel: Selection) -> str:
    return url_for("hiring.detail", selection_id=sel.id)


def _step(sel: Selection, act, done, form=None, name: str = ""):
    """web.save for a step on the selection's page: back to it, or the page again (422) with the
    refusals and the form (`name` in _detail's forms)."""
    def refused(problems):
        db.session.refresh(sel)
        return _detail(sel, errors=problems, forms={name: form} if form else None, status=422)
    return save(form, act, done, _selection_page(sel), refused=refused)


@bp.route("/<int:selection_id>/candidates", methods=["POST"])
def add_candidate(selection_id):
    sel = _runnable(selection_id)
    form = CandidateForm()
    form.firm_id.choices = [(f.id, f.name) for f in logic.candidate_firms(sel)]

    def add():
        firm = db.session.get(Firm, form.firm_id.data)
        accepted(logic.add_candidate(sel, firm, form.quoted_rate.data, form.note.data or ""))
        return firm
    return _step(sel, add, lambda firm: f"已添加候选企业：{firm.name}。", form, "candidate")


@bp.route("/<int:selection_id>/candidates/<int:selection_candidate_id>/<any(propose, remove):step>",
          methods=["POST"])
def candidate_step(selection_id, selection_candidate_id, step):
    sel = _runnable(selection_id, (SelectionCandidate, selection_candidate_id))
    cand = get_or_404(SelectionCandidate, selection_candidate_id)
    if cand.selection_id != sel.id:
        abort(404)
    if step == "remove":
        return _step(sel, lambda: accepted(logic.remove_candidate(sel, cand)), "已移除候选企业。")
    return _step(sel, lambda: accepted(logic.propose(sel, cand)),
                 "已创建业主表决草稿（选聘物业服务企业）。下一步：在表决页报备社区、公示、表决、计票。")


@bp.route("/<int:selection_id>/<any(publish):step>", methods=["POST"])
def step(selection_id, step):
    sel = _runnable(selection_id)
    return _step(sel, lambda: accepted(logic.publish_tender(sel, user=current_user)),
                 "招标公告已发布，并已写入本小区公示链。")


@bp.route("/<int:selection_id>/cancel", methods=["POST"])
def cancel(selection_id):
    sel = _runnable(selection_id)
    form = ReasonForm()
    return _step(sel, lambda: accepted(logic.cancel(sel, form.reason.data)), "选聘已终止。", form, "cancel")


@bp.route("/<int:selection_id>/panel", methods=["POST"])
def add_panel_member(selection_id):
    sel = _runnable(selection_id)
    form = PanelForm()
    return _step(sel, lambda: accepted(logic.add_panel_member(sel, form.name.data, form.unit.data or "")),
                 lambda _: f"已加入评委：{form.name.data.strip()}。", form, "panel")


@bp.route("/<int:selection_id>/panel/<int:panel_member_id>/remove", methods=["POST"])
def remove_panel_member(selection_id, panel_member_id):
    sel = _runnable(selection_id, (PanelMember, panel_member_id))
    member = get_or_404(PanelMember, panel_member_id)
    if member.selection_id != sel.id:
        abort(404)
    return _step(sel, lambda: accepted(logic.remove_panel_member(sel, member)), "已移除评委。")


def _score_form(sel: Selection):
    members = sel.panel
    return score_form([mb.id for mb in members], {mb.id: mb.name for mb in members})


@bp.route("/<int:selection_id>/applications/<int:tender_application_id>", methods=["GET", "POST"])
def application(selection_id, tender_application_id):
    """An application: the firm's own (read), or the panel's score sheet for it (the owners' side)."""
    sel = get_or_404(Selection, selection_id)
    app = get_or_404(TenderApplication, tender_application_id)
    if app.selection_id != sel.id:
        abort(404)
    m = current_membership()
    runs = logic.may_act(m, sel.compound, logic.today())
    form_cls = _score_form(sel)
    form = form_cls(data={f"m{s.member_id}": s.points for s in app.scores})

    def page(problems):
        on = logic.today()
        return render("hiring/application.html", sel=sel, a=app, form=form, problems=problems,
                      may_score=runs and logic.scoring_open(sel, on) and bool(sel.panel),
                      sees_scores=m.role not in policy.FIRM_ROLES,
                      scores={s.member_id: s.points for s in app.scores}), 422 if (form.errors or problems) else 200
    if request.method != "POST":
        return page({})
    require("run", "selection")
    if not runs:
        abort(403)
    form = form_cls()

    def refused(problems):
        db.session.refresh(app)
        return page(problems)
    return save(form, lambda: accepted(logic.record_scores(sel, app, {mb.id: form[f"m{mb.id}"].data
                                                                     for mb in sel.panel})),
                lambda _: f"已录入{app.firm.name}的评分：平均分 {app.average}，红榜加分 {app.bonus}，总分 {app.total}。",
                _selection_page(sel), refused=refused)


@bp.route("/<int:selection_id>/award", methods=["POST"])
def award(selection_id):
    sel = _runnable(selection_id)
    form = AwardForm()
    form.application_id.choices = [(a.id, a.firm.name) for a in sel.applications]

    def award_it():
        app = next(a for a in sel.applications if a.id == form.application_id.data)
        accepted(logic.award(sel, app, user=current_user))
        return app
    return _step(sel, award_it, lambda app: f"已确定中标企业：{app.firm.name}。评标结果已公示，合同草稿已生成。",
                 form, "award")


@bp.route("/<int:selection_id>/apply", methods=["GET", "POST"])
def apply(selection_id):
    sel = get_or_404(Selection, selection_id)
    require("apply", "tender_apply")
    m = current_membership()
    firm = db.session.get(Firm, m.firm_id)
    on = logic.today()
    reason = logic.eligibility(firm, on)
    form = ApplyForm()

    def page(problems):
        return render("hiring/apply.html", sel=sel, firm=firm, form=form, reason=reason,
                      standing=logic.standings([firm.id], on)[firm.id], problems=problems,
                      open_=logic.applications_open(sel, on), own=logic.application_of(sel, firm.id)), \
            422 if (form.errors or problems) else 200
    return save(form, lambda: accepted(logic.apply(sel, firm, form.quoted_rate.data, form.proposal.data,
                                                   user=current_user)),
                lambda _: f"已报名：{sel.title}。", _selection_page(sel), refused=page)


@bp.route("/<int:selection_id>/sign", methods=["POST"])
def sign(selection_id):
    sel = get_or_404(Selection, selection_id)
    require("sign", "contract_sign")
    return _step(sel, lambda: accepted(logic.sign(current_membership(), sel)), lambda message: "已签订合同。" + message)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    m = current_membership()
    if not policy.reaches(m, Selection) and not policy.can(m, "manage", "hiring_config"):
        abort(403)
    r = logic.rule()
    editable = policy.can(m, "manage", "hiring_config")
    form = RuleForm(data={"barred_grades": list(r.barred_grades or []), "bar_black_list": r.bar_black_list}
                    if request.method == "GET" else None)
    form.barred_grades.choices = [(x, x) for x in logic.GRADES]
    if request.method == "POST":
        require("manage", "hiring_config")
        done = save(form, lambda: accepted(logic.save_rule(form.barred_grades.data or [], form.bar_black_list.data)),
                    "招投标规则已保存。", url_for("hiring.settings"))
        if done:
            return done
    return render("hiring/settings.html", form=form, editable=editable, r=r, panel_min=logic.PANEL_MIN), \
        (422 if form.errors else 200)

