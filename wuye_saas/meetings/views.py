"""Joint meetings: lists, scheduling, the meeting page with attendees, agenda, outcomes, action
items and minutes, publishing the minutes, and the 待上会事项 of the street and of the district's
joint meeting (thin views over logic.py)."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..extensions import db
from ..formutil import Form, attach_errors, record_id
from ..org.models import Community, Compound, Street
from ..publicity.models import Publication
from ..timeutil import today
from ..web import current_membership, get_or_404, page_arg, render, require, save, tenant_blueprint
from . import cadence, logic
from .forms import (
    ActionForm, AgendaForm, AttachForm, AttendeeForm, CadenceForm, DoneForm, MeetingForm, OutcomeForm, RecordForm,
)
from .models import (
    EVERY, KINDS, LEVELS, OUTCOMES, PARTIES, STATUSES, UP_LABELS, ActionItem, AgendaItem, Meeting, MeetingAttendee,
    MeetingCadence, outcome_label,
)

bp = tenant_blueprint("meetings", __name__, "/meetings")

STAFF = {"district_admin", "street_staff", "community_staff"}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return record_id(value)


@bp.route("/")
def index():
    m = current_membership()
    args = request.args
    tab = args.get("tab") if args.get("tab") in logic.TABS else "all"
    q = args.get("q", "").strip()
    stmt = logic.meetings_select(m, tab, q, args.get("kind"), args.get("level"), _int_arg("community"))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    communities = []
    if m.role in ("district_admin", "street_staff"):
        communities = db.session.execute(select(Community.id, Community.name).where(policy.visible(m, Community))
                                         .order_by(Community.name)).all()
    return render("meetings/index.html", "meetings/_table.html", page=page, args=args, tab=tab,
                  tabs=logic.TABS, counts=logic.tab_counts(m), stats=logic.row_stats([x.id for x in page.items]),
                  kinds=KINDS, levels=LEVELS, statuses=STATUSES, communities=communities,
                  may_schedule=logic.may_schedule(m),
                  filtered=any(args.get(k) for k in ("q", "kind", "level", "community")))


@bp.route("/pending")
def pending():
    """待上会事项: matters community meetings escalated to the street; the district's: matters
    street meetings escalated to the 全区物业管理联席会议 (streets and communities follow theirs
    there with ?level=district)."""
    m = current_membership()
    if m.role not in STAFF:
        abort(403)
    args = request.args
    level = logic.escalation_level(m, args.get("level"))
    states = logic.escalation_states(level)
    state = args.get("state") if args.get("state") in states else "pending"
    page = db.paginate(logic.escalations_select(m, state, args.get("q", "").strip(), level), page=page_arg(),
                       per_page=20, error_out=False)
    items = page.items
    # The meetings items are on, as m sees them (a street does not see the district's meeting).
    meetings = {mt.id: mt for mt in db.session.execute(select(Meeting).where(
        Meeting.id.in_({i.meeting_id for i in items if i.meeting_id}), policy.visible(m, Meeting))).scalars()}
    street_meetings = []
    if m.role == "street_staff" and level == "street":
        street_meetings = db.session.execute(select(Meeting).where(
            Meeting.level == "street", Meeting.street_id == m.street_id, Meeting.status == "planned")
            .order_by(Meeting.scheduled_at)).scalars().all()
    elif m.role == policy.DISTRICT:
        street_meetings = db.session.execute(select(Meeting).where(
            Meeting.level == "district", Meeting.status == "planned")
            .order_by(Meeting.scheduled_at)).scalars().all()
    return render("meetings/pending.html", "meetings/_pending_table.html", page=page, args=args, state=state,
                  level=level, states=states, origins=logic.origin_meetings(items, m), meetings=meetings,
                  followups=logic.followups(items, m), actions_of=logic.district_actions(items, m),
                  outcome_label=outcome_label,
                  compounds=logic.names_of(Compound, [i.compound_id for i in items]),
                  communities=logic.names_of(Community, [i.community_id for i in items]),
                  streets=logic.names_of(Street, [i.street_id for i in items]),
                  demand_numbers=logic.demand_numbers(m, [i.demand_id for i in items]),
                  street_meetings=street_meetings, outcomes=OUTCOMES, filtered=bool(args.get("q")))


@bp.route("/actions")
def actions():
    """落实事项: the action items of the meetings in scope; a department's own, to close."""
    m = current_membership()
    if not policy.reaches(m, ActionItem):
        abort(403)
    args = request.args
    state = args.get("state") if args.get("state") in logic.ACTION_STATES else "open"
    page = db.paginate(logic.actions_select(m, state, args.get("q", "").strip()).options(
        selectinload(ActionItem.meeting), selectinload(ActionItem.department)),
        page=page_arg(), per_page=20, error_out=False)
    on = today()
    return render("meetings/actions.html", "meetings/_actions_table.html", page=page, args=args, state=state,
                  states=logic.ACTION_STATES, parties=PARTIES, overdue={a.id: logic.overdue_days(a, on) for a in page.items},
                  completable={a.id for a in page.items if logic.may_complete(m, a.meeting, a)},
                  filtered=bool(args.get("q")))


def _meeting_form_page(form: MeetingForm, meeting: Meeting | None, status: int = 200):
    return render("meetings/form.html", form=form, meeting=meeting), status


def _compound_choices(form: MeetingForm, level: str, street_id: int | None, community_id: int | None) -> None:
    form.compound_id.choices = [("", "（不限于一个小区）")] + [
        (str(cid), name) for cid, name in logic.compound_choices(level, street_id, community_id)]


@bp.route("/new", methods=["GET", "POST"])
def new():
    m = current_membership()
    require("write", "meeting")
    if not logic.may_schedule(m):
        abort(403)
    form = MeetingForm()
    _compound_choices(form, *logic.scope_of(m))
    if request.method == "GET" and record_id(request.args.get("compound")):
        form.compound_id.data = record_id(request.args["compound"])
    if form.validate_on_submit():
        try:
            meeting = logic.schedule(m, form.kind.data, form.title.data, form.compound_id.data,
                                     form.scheduled_at.data, form.location.data)
        except logic.MeetingProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash("会议已安排。下一步：登记参会人员和议题。", "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return _meeting_form_page(form, None, 422 if form.errors else 200)


def _changeable(meeting_id: int) -> Meeting:
    """The meeting, if in scope (else 404) and this membership runs it (else 403)."""
    meeting = get_or_404(Meeting, meeting_id)
    require("write", "meeting")
    if not logic.may_change(current_membership(), meeting):
        abort(403)
    return meeting


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit(meeting_id):
    meeting = _changeable(meeting_id)
    if meeting.status != "planned":
        flash("会议已召开，不能再修改会议安排。", "warning")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    if request.method == "GET":
        form = MeetingForm(formdata=None, obj=meeting)
        form.scheduled_at.data = logic.local_naive(meeting.scheduled_at)
    else:
        form = MeetingForm()
    _compound_choices(form, meeting.level, meeting.street_id, meeting.community_id)
    if form.validate_on_submit():
        try:
            logic.update(meeting, form.kind.data, form.title.data, form.compound_id.data, form.scheduled_at.data,
                         form.location.data)
        except logic.MeetingProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash("会议安排已修改。", "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return _meeting_form_page(form, meeting, 422 if form.errors else 200)


# --- the meeting page -------------------------------------------------------------------------

def _prepare(meeting: Meeting, forms: dict) -> dict:
    """Every form of the page with its choices (the ones passed in keep their input and errors)."""
    m = current_membership()
    may = logic.may_change(m, meeting)
    if "record" not in forms:
        held = meeting.held_at or meeting.scheduled_at
        present = [a.id for a in meeting.attendees if a.present] if meeting.status != "planned" else \
            [a.id for a in meeting.attendees]
        forms["record"] = RecordForm(formdata=None, data={"held_at": logic.local_naive(held), "present": present,
                                                          "minutes": meeting.minutes})
    defaults = {"attendee": AttendeeForm, "agenda": AgendaForm, "attach": AttachForm, "outcome": OutcomeForm,
                "action": ActionForm, "done": DoneForm}
    for name, cls in defaults.items():
        forms.setdefault(name, cls(formdata=None))
    numbered = list(enumerate(meeting.agenda, start=1))
    forms["action"].agenda_item_id.choices = [("", "（不对应具体议题）")] + [
        (str(i.id), f"议题{n}：{i.title}") for n, i in numbered]
    forms["record"].present.choices = [(a.id, a.name) for a in meeting.attendees]
    if may:
        forms["action"].department_id.choices = [("", "（责任方不是职能部门）")] + [
            (str(d.id), d.name) for d in logic.departments()]
    demands, pending = [], []
    if may and meeting.status != "published":
        demands = logic.open_demands(meeting, m)
        forms["agenda"].demand_id.choices = [("", "（不关联诉求，填写议题）")] + [
            (str(d.id), f"{d.number} {d.title}") for d in demands]
        if meeting.level in ("street", "district"):
            pending = db.session.execute(logic.pending_escalations(meeting.street_id, meeting.level)).scalars().all()
            forms["attach"].agenda_item_id.choices = [("", "请选择…")] + [
                (str(i.id), i.title) for i in pending]
            if meeting.level == "district":
                forms["attach"].agenda_item_id.label.text = "街道提交的事项"
    completable = {a.id for a in meeting.actions if logic.may_complete(m, meeting, a)}
    return {"may_change": may, "demands": demands, "pending": pending, "completable": completable}


def _detail(meeting: Meeting, forms: dict | None = None, errors: dict | None = None, status: int = 200,
            focus: dict | None = None):
    m = current_membership()
    forms = dict(forms or {})
    ctx = _prepare(meeting, forms)
    publication = db.session.get(Publication, meeting.publication_id) if meeting.publication_id else None
    confirm = request.args.get("confirm", "") if ctx["may_change"] else ""
    on = today()
    return render(
        "meetings/detail.html", meeting=meeting, forms=forms, errors=errors or {}, focus=focus or {},
        suggestions=logic.suggestions(meeting) if ctx["may_change"] and meeting.status != "published" else [],
        followups=logic.followups(meeting.agenda, m), origins=logic.origin_meetings(meeting.agenda, m),
        demand_numbers=logic.demand_numbers(m, [i.demand_id for i in meeting.agenda]),
        demand_link="demands.detail" in current_app.view_functions,
        overdue={a.id: logic.overdue_days(a, on) for a in meeting.actions},
        numbers={i.id: n for n, i in enumerate(meeting.agenda, start=1)},
        publication=publication, confirm=confirm, kinds=KINDS, levels=LEVELS, statuses=STATUSES,
        parties=PARTIES, outcomes=OUTCOMES, outcome_label=outcome_label, up_labels=UP_LABELS, **ctx), status


@bp.route("/<int:meeting_id>")
def detail(meeting_id):
    return _detail(get_or_404(Meeting, meeting_id))


def _step(meeting: Meeting, form, name: str, run, done: str, focus: dict | None = None):
    """parse → logic → commit → back to the meeting; or the page again with the message (422)."""
    if form.validate_on_submit():
        try:
            run(form)
        except logic.MeetingProblem as e:
            db.session.rollback()
            if e.field in form:
                attach_errors(form, {e.field: e.message})
            else:
                return _detail(meeting, {name: form}, {e.field: e.message}, 422, focus)
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id) + f"#{name}")
    return _detail(meeting, {name: form}, None, 422, focus)


def _plain_step(meeting: Meeting, run, done: str, anchor: str = ""):
    """A button with no fields (CSRF only): the problem is shown above the page."""
    if not Form().validate_on_submit():
        abort(400)
    try:
        run()
    except logic.MeetingProblem as e:
        db.session.rollback()
        return _detail(meeting, errors={e.field: e.message}, status=422)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id) + anchor)


@bp.route("/<int:meeting_id>/delete", methods=["POST"])
def delete(meeting_id):
    meeting = _changeable(meeting_id)
    if not Form().validate_on_submit():
        abort(400)
    title = meeting.title
    try:
        logic.delete(meeting)
    except logic.MeetingProblem as e:
        db.session.rollback()
        return _detail(meeting, errors={e.field: e.message}, status=422)
    db.session.commit()
    flash(f"已取消会议“{title}”。", "success")
    return redirect(url_for("meetings.index"))


@bp.route("/<int:meeting_id>/attendees", methods=["POST"])
def add_attendee(meeting_id):
    meeting = _changeable(meeting_id)
    form = AttendeeForm()
    return _step(meeting, form, "attendee",
                 lambda f: logic.add_attendee(meeting, f.party.data, f.name.data, f.organisation.data or ""),
                 f"已添加参会人员：{(form.name.data or '').strip()}。")


@bp.route("/<int:meeting_id>/attendees/<int:meeting_attendee_id>/delete", methods=["POST"])
def remove_attendee(meeting_id, meeting_attendee_id):
    meeting = _changeable(meeting_id)
    attendee = get_or_404(MeetingAttendee, meeting_attendee_id)
    if attendee.meeting_id != meeting.id:
        abort(404)
    name = attendee.name
    return _plain_step(meeting, lambda: logic.remove_attendee(meeting, attendee), f"已将 {name} 移出参会名单。",
                       "#attendees")


@bp.route("/<int:meeting_id>/agenda", methods=["POST"])
def add_item(meeting_id):
    meeting = _changeable(meeting_id)
    m = current_membership()
    return _step(meeting, AgendaForm(), "agenda",
                 lambda f: logic.add_item(meeting, m, f.title.data, f.detail.data, f.demand_id.data),
                 "议题已列入议程。")


@bp.route("/<int:meeting_id>/agenda/attach", methods=["POST"])
def attach(meeting_id):
    meeting = _changeable(meeting_id)
    form = AttachForm()

    def run(f):
        item = db.session.execute(select(AgendaItem).where(
            AgendaItem.id == f.agenda_item_id.data, policy.visible(current_membership(), AgendaItem))).scalar()
        if item is None:
            raise logic.MeetingProblem(logic.ATTACH_PROBLEM.get(meeting.level, "请选择待上会的事项。"),
                                       "agenda_item_id")
        logic.attach(meeting, item)
    done = "已将街道提交的事项列入本次会议议程。" if meeting.level == "district" else "已将社区提交的事项列入本次会议议程。"
    return _step(meeting, form, "attach", run, done)


def _item_of(meeting: Meeting, agenda_item_id: int) -> AgendaItem:
    item = get_or_404(AgendaItem, agenda_item_id)
    if item.meeting_id != meeting.id:
        abort(404)
    return item


@bp.route("/<int:meeting_id>/agenda/<int:agenda_item_id>/delete", methods=["POST"])
def remove_item(meeting_id, agenda_item_id):
    meeting = _changeable(meeting_id)
    item = _item_of(meeting, agenda_item_id)
    back = (f"已移出议程，退回{'区联席会议' if meeting.level == 'district' else '街道'}待上会事项。"
            if item.escalated_from_id else "已删除该议题。")
    return _plain_step(meeting, lambda: logic.remove_item(meeting, item), back, "#agenda")


@bp.route("/<int:meeting_id>/agenda/<int:agenda_item_id>/outcome", methods=["POST"])
def outcome(meeting_id, agenda_item_id):
    meeting = _changeable(meeting_id)
    item = _item_of(meeting, agenda_item_id)
    form = OutcomeForm()

    def run(f):
        if f.outcome.data == "escalated":
            logic.escalate(meeting, item, f.decision.data, current_user)
        else:
            logic.settle(meeting, item, f.decision.data, current_user)
    done = ("已提交区联席会议，列入全区待上会事项。" if meeting.level == "street" else "已提交街道，列入街道待上会事项。") \
        if form.outcome.data == "escalated" else "已记录议定结果。"
    return _step(meeting, form, "outcome", run, done, focus={"item": item.id})


@bp.route("/<int:meeting_id>/record", methods=["POST"])
def record(meeting_id):
    meeting = _changeable(meeting_id)
    form = RecordForm()
    first = meeting.status == "planned"
    return _step(meeting, form, "record",
                 lambda f: logic.record(meeting, f.held_at.data, f.present.data or [], f.minutes.data),
                 "已记录会议召开。下一步：逐项记录议定结果和落实事项。" if first else "会议记录已保存。")


@bp.route("/<int:meeting_id>/actions", methods=["POST"])
def add_action(meeting_id):
    meeting = _changeable(meeting_id)
    return _step(meeting, ActionForm(), "action",
                 lambda f: logic.add_action(meeting, f.task.data, f.owner.data, f.owner_party.data, f.due_on.data,
                                            f.agenda_item_id.data, f.department_id.data),
                 "已添加落实事项。")


@bp.route("/<int:meeting_id>/actions/<int:action_item_id>/done", methods=["POST"])
def complete_action(meeting_id, action_item_id):
    meeting = get_or_404(Meeting, meeting_id)
    action = get_or_404(ActionItem, action_item_id)
    if action.meeting_id != meeting.id:
        abort(404)
    require("write", "action_done")
    if not logic.may_complete(current_membership(), meeting, action):
        abort(403)
    if request.form.get("back") == "actions":
        # From the 落实事项 list (a department's page): back there, or the list with the message.
        form = DoneForm()
        if form.validate_on_submit():
            try:
                logic.complete_action(meeting, action, form.done_note.data)
            except logic.MeetingProblem as e:
                db.session.rollback()
                flash(e.message, "danger")
            else:
                db.session.commit()
                flash(f"已标记完成：{action.task}。", "success")
        else:
            # The form's own message (empty, too long, an expired page), not a guess at it.
            flash(next(iter(form.errors.values()))[0], "danger")
        return redirect(url_for("meetings.actions"))
    return _step(meeting, DoneForm(), "done", lambda f: logic.complete_action(meeting, action, f.done_note.data),
                 f"已标记完成：{action.task}。", focus={"action": action.id})


@bp.route("/<int:meeting_id>/publish", methods=["POST"])
def publish(meeting_id):
    meeting = _changeable(meeting_id)
    return _plain_step(meeting, lambda: logic.publish_minutes(meeting, current_user),
                       "会议纪要已公示到小区公示栏，并写入公示链。")


@bp.app_context_processor
def _meeting_nav():
    """The 基层治理 menu's meeting items for the acting membership: only what it may use."""
    mem = g.get("membership")
    if mem is None or not policy.reaches(mem, Meeting):
        return {"meeting_nav": []}
    if mem.role == policy.DEPARTMENT:
        return {"meeting_nav": [("meetings.actions", "list-check", "交办事项")]}
    items = [("meetings.index", "people", "联席会议")]
    if policy.reaches(mem, ActionItem):
        items.append(("meetings.actions", "list-check", "落实事项"))
    if mem.role in STAFF:
        items.append(("meetings.pending", "inbox", "待上会事项"))
    if policy.reaches(mem, MeetingCadence):
        items.append(("meetings.cadence_page", "calendar-check", "会议召开情况"))
    return {"meeting_nav": items}


# --- cadence (001/003: how often each level meets) ------------------------------------------------

@bp.route("/cadence")
def cadence_page():
    m = current_membership()
    if not policy.reaches(m, MeetingCadence):
        abort(403)
    tables = [(c, *cadence.compliance(m, c)) for c in cadence.cadences() if cadence.shown(m, c)]
    return render("meetings/cadence.html", tables=tables, form=CadenceForm(formdata=None), levels=LEVELS,
                  kinds=KINDS, every=EVERY, may_config=policy.can(m, "manage", "meeting_cadence"),
                  adopted=cadence.adopted())


@bp.route("/cadence/adopt", methods=["POST"])
def cadence_adopt():
    require("manage", "meeting_cadence")
    cadence.adopt_defaults()
    db.session.commit()
    flash("已采用默认的会议召开频次；各社区、街道未按期召开的会议将在待办中提醒。", "success")
    return redirect(url_for("meetings.cadence_page"))


@bp.route("/cadence/save", methods=["POST"])
def cadence_save():
    require("manage", "meeting_cadence")
    form = CadenceForm()
    done = save(form, lambda: cadence.save_cadence(form.level.data, form.kind.data, form.every.data),
                lambda c: f"已设定：{c.audit_label}", url_for("meetings.cadence_page"), (cadence.CadenceProblem,))
    if done:
        return done
    flash("；".join(e for errs in form.errors.values() for e in errs) or "请检查输入。", "error")
    return redirect(url_for("meetings.cadence_page"))


@bp.route("/cadence/stop", methods=["POST"])
def cadence_stop():
    require("manage", "meeting_cadence")
    form = CadenceForm()
    done = save(form, lambda: cadence.stop_cadence(form.level.data, form.kind.data),
                lambda c: f"已停用：{c.audit_label}", url_for("meetings.cadence_page"), (cadence.CadenceProblem,))
    if done:
        return done
    flash("；".join(e for errs in form.errors.values() for e in errs) or "请检查输入。", "error")
    return redirect(url_for("meetings.cadence_page"))
