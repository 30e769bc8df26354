"""Joint meetings (联席会议 / 板凳会议 / 三方项目推进组): plain functions that flush (the view
commits) or raise MeetingProblem, having written nothing.

Flow (襄城's "1+3+N": small matters settled by the three parties, hard ones to the street):
community staff schedule a meeting → attendees and agenda (free text, open demands of the
meeting's scope) → the meeting is recorded as held (who was present, minutes) → each item is
settled with a decision, or escalated: a pending item is created for the street, which a street
meeting takes on its agenda → action items with owners and deadlines → the minutes are
published on the compound's public board (the publicity hash chain). Street staff run street
meetings the same way; what a street meeting cannot settle goes on to the district (提交区联席会议).
The district admin runs the 全区物业管理联席会议 (002 潞州: 区物管中心、住建、市场监管、司法、
公安、环保、消防、市容、街道为成员): it takes the streets' items on its agenda and settles them,
typically by dispatching action items to departments (联合执法) with deadlines; it escalates
nothing further.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import case, func, select

from .. import policy
from ..auth.models import Membership
from ..demands.models import Demand, DemandEvent
from ..extensions import db
from ..org.models import Committee, CommitteeMember, Community, Compound, Contract, Department, Firm, PartyOrg
from ..publicity import publications
from ..publicity.models import Publication
from ..timeutil import SHANGHAI, local, now, today
from .models import (
    KINDS, LEVELS, PARTIES, UP, UP_LABELS, ActionItem, AgendaItem, Meeting, MeetingAttendee, outcome_label,
)

# How many open demands the agenda picker offers (the most urgent first).
DEMAND_PICK_LIMIT = 200


class MeetingProblem(ValueError):
    def __init__(self, message: str, field: str = "title"):
        super().__init__(message)
        self.message = message
        self.field = field


# --- time -------------------------------------------------------------------------------------

def from_local(dt: datetime) -> datetime:
    """A Shanghai wall-clock time typed into a form → naive UTC, the storage convention."""
    return dt.replace(tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


def local_naive(dt: datetime | None) -> datetime | None:
    """Stored UTC → Shanghai wall-clock, as a form field shows it."""
    loc = local(dt)
    return loc.replace(tzinfo=None) if loc else None


def local_date(dt: datetime) -> date:
    return local(dt).date()


# --- who may do what --------------------------------------------------------------------------

def may_schedule(m: Membership | None) -> bool:
    if not policy.can(m, "write", "meeting"):
        return False
    return (m.role == "community_staff" and m.community_id is not None) or (
        m.role == "street_staff" and m.street_id is not None) or m.role == policy.DISTRICT


def may_change(m: Membership | None, meeting: Meeting) -> bool:
    """Community meetings are their community's staff's; street meetings their street's; the
    district's joint meeting the district admin's."""
    if not policy.can(m, "write", "meeting"):
        return False
    if meeting.level == "community":
        return m.role == "community_staff" and m.community_id == meeting.community_id
    if meeting.level == "district":
        return m.role == policy.DISTRICT
    return m.role == "street_staff" and m.street_id == meeting.street_id


def may_complete(m: Membership | None, meeting: Meeting, action: ActionItem) -> bool:
    """Who marks an action item done: a department's item its own accounts; others (and a
    department's, recorded on its behalf) whoever runs the meeting."""
    if not policy.can(m, "write", "action_done"):
        return False
    if m.role == policy.DEPARTMENT:
        return action.department_id is not None and action.department_id == m.department_id
    return may_change(m, meeting)


def departments() -> list[Department]:
    """The district's active departments, the ones work can be given to."""
    return db.session.execute(select(Department).where(Department.active)
                              .order_by(Department.name)).scalars().all()


# --- scheduling -------------------------------------------------------------------------------

def compound_choices(level: str, street_id: int | None, community_id: int | None) -> list[tuple[int, str]]:
    """The compounds a meeting may be about: its community's, its street's, or the district's."""
    stmt = select(Compound.id, Compound.name).order_by(Compound.name, Compound.id)
    if level == "community":
        stmt = stmt.where(Compound.community_id == community_id)
    elif level == "district":
        pass
    else:
        stmt = stmt.where(Compound.community_id.in_(select(Community.id).where(Community.street_id == street_id)))
    return [tuple(r) for r in db.session.execute(stmt).all()]


def scope_of(m: Membership) -> tuple[str, int | None, int | None]:
    """(level, street_id, community_id) of a meeting this membership schedules."""
    if m.role == "community_staff":
        community = db.session.get(Community, m.community_id)
        return "community", community.street_id, community.id
    if m.role == policy.DISTRICT:
        return "district", None, None
    return "street", m.street_id, None


def _check_fields(level: str, street_id: int | None, community_id: int | None, kind: str, title: str,
                  compound_id: int | None, scheduled_local: datetime | None, location: str) -> dict:
    title, location = (title or "").strip(), (location or "").strip()
    if not title:
        raise MeetingProblem("请填写会议名称。", "title")
    if len(title) > 100:
        raise MeetingProblem("会议名称不能超过 100 个字。", "title")
    if kind not in KINDS:
        raise MeetingProblem("请选择会议类型。", "kind")
    if compound_id is not None and compound_id not in dict(compound_choices(level, street_id, community_id)):
        raise MeetingProblem({"street": "请选择本社区（街道）的小区。", "district": "请选择本区的小区。"}.get(
            level, "请选择本社区的小区。"), "compound_id")
    if scheduled_local is None:
        raise MeetingProblem("请填写会议时间。", "scheduled_at")
    if len(location) > 100:
        raise MeetingProblem("会议地点不能超过 100 个字。", "location")
    return {"kind": kind, "title": title, "compound_id": compound_id,
            "scheduled_at": from_local(scheduled_local), "location": location}


def schedule(m: Membership, kind: str, title: str, compound_id: int | None, scheduled_local: datetime | None,
             location: str) -> Meeting:
    if not may_schedule(m):
        raise MeetingProblem("只有社区、街道工作人员或区管理员可以安排会议。", "title")
    level, street_id, community_id = scope_of(m)
    values = _check_fields(level, street_id, community_id, kind, title, compound_id, scheduled_local, location)
    meeting = Meeting(level=level, street_id=street_id, community_id=community_id, status="planned",
                      created_by_id=m.user_id, **values)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def update(meeting: Meeting, kind: str, title: str, compound_id: int | None, scheduled_local: datetime | None,
           location: str) -> None:
    if meeting.status != "planned":
        raise MeetingProblem("会议已召开，不能再修改会议安排。", "title")
    values = _check_fields(meeting.level, meeting.street_id, meeting.community_id, kind, title, compound_id,
                           scheduled_local, location)
    if compound_id is not None:
        other = [i for i in meeting.agenda if i.compound_id is not None and i.compound_id != compound_id]
        if other:
            raise MeetingProblem(f"议程中已有其他小区的议题（{other[0].title}），不能把会议改为该小区的会议。",
                                 "compound_id")
    for key, value in values.items():
        setattr(meeting, key, value)
    db.session.flush()


def delete(meeting: Meeting) -> None:
    """Cancel a planned meeting: escalated items taken on its agenda go back to their level's list."""
    if meeting.status != "planned":
        raise MeetingProblem("已召开的会议不能删除。", "delete")
    for item in list(meeting.agenda):
        meeting.agenda.remove(item)  # an escalated item goes back to its level's pending list
        if item.escalated_from_id is None:
            db.session.delete(item)
    for a in list(meeting.attendees):
        db.session.delete(a)
    for a in list(meeting.actions):
        db.session.delete(a)
    db.session.flush()
    db.session.delete(meeting)
    db.session.flush()


# A refusal about the meeting's state belongs to no form field: the page shows it on top.
def _not_published(meeting: Meeting) -> None:
    if meeting.status == "published":
        raise MeetingProblem("会议纪要已公示，会议记录不能再修改。", "state")


def _held(meeting: Meeting) -> None:
    _not_published(meeting)
    if meeting.status != "held":
        raise MeetingProblem("会议尚未召开：请先在“会议记录”中记录会议召开。", "state")


# --- attendees --------------------------------------------------------------------------------

def add_attendee(meeting: Meeting, party: str, name: str, organisation: str) -> MeetingAttendee:
    _not_published(meeting)
    name, organisation = (name or "").strip(), (organisation or "").strip()
    if party not in PARTIES:
        raise MeetingProblem("请选择参会方。", "party")
    if not name:
        raise MeetingProblem("请填写参会人员姓名。", "name")
    if len(name) > 40:
        raise MeetingProblem("姓名不能超过 40 个字。", "name")
    if len(organisation) > 100:
        raise MeetingProblem("单位不能超过 100 个字。", "organisation")
    if any(a.name == name and a.organisation == organisation for a in meeting.attendees):
        raise MeetingProblem(f"{name}（{organisation or '未填单位'}）已在参会名单中。", "name")
    a = MeetingAttendee(party=party, name=name, organisation=organisation)
    meeting.attendees.append(a)
    db.session.flush()
    return a


def remove_attendee(meeting: Meeting, attendee: MeetingAttendee) -> None:
    _not_published(meeting)
    if attendee.meeting_id != meeting.id:
        raise MeetingProblem("该人员不在本次会议的名单中。", "name")
    meeting.attendees.remove(attendee)
    db.session.delete(attendee)
    db.session.flush()


def suggestions(meeting: Meeting) -> list[dict]:
    """Quick-add rows not yet on the list: the compound's committee members (current term), the
    firm serving it (active contract), the compound's and community's party organisations."""
    out: list[dict] = []
    on = today()
    if meeting.compound_id is not None:
        committee = db.session.execute(
            select(Committee).where(Committee.compound_id == meeting.compound_id, Committee.term_start <= on,
                                    Committee.term_end >= on)
            .order_by(Committee.term_start.desc()).limit(1)).scalar_one_or_none()
        if committee is not None:
            members = db.session.execute(select(CommitteeMember).where(CommitteeMember.committee_id == committee.id)
                                         .order_by(CommitteeMember.id)).scalars()
            out += [{"party": "committee", "name": cm.name, "organisation": committee.name,
                     "note": cm.position} for cm in members]
        firms = db.session.execute(
            select(Firm).join(Contract, Contract.firm_id == Firm.id)
            .where(Contract.compound_id == meeting.compound_id, Contract.in_force(on))
            .order_by(Contract.start_date.desc())).scalars().unique()
        out += [{"party": "firm", "name": f.legal_rep, "organisation": f.name, "note": "在管物业服务企业"}
                for f in firms]
    orgs = select(PartyOrg).order_by(PartyOrg.id)
    if meeting.compound_id is not None:
        orgs = orgs.where((PartyOrg.compound_id == meeting.compound_id)
                          | ((PartyOrg.community_id == meeting.community_id) & (PartyOrg.kind == "社区党委")))
    elif meeting.community_id is not None:
        orgs = orgs.where(PartyOrg.community_id == meeting.community_id, PartyOrg.kind == "社区党委")
    else:
        orgs = None
    if orgs is not None:
        out += [{"party": "party", "name": o.secretary, "organisation": o.name, "note": f"{o.kind}书记"}
                for o in db.session.execute(orgs).scalars() if o.secretary]
    if meeting.level == "district":
        # 002: the joint meeting's member units — the district's departments (职能部门).
        out += [{"party": "department", "name": d.contact or f"{d.name}负责人", "organisation": d.name,
                 "note": "职能部门"} for d in departments()]
    have = {(a.name, a.organisation) for a in meeting.attendees}
    return [s for s in out if (s["name"], s["organisation"]) not in have]


# --- agenda -----------------------------------------------------------------------------------

def _scope_compounds(meeting: Meeting):
    if meeting.compound_id is not None:
        return select(Compound.id).where(Compound.id == meeting.compound_id)
    if meeting.community_id is not None:
        return select(Compound.id).where(Compound.community_id == meeting.community_id)
    if meeting.level == "district":
        return select(Compound.id)
    return select(Compound.id).where(Compound.community_id.in_(
        select(Community.id).where(Community.street_id == meeting.street_id)))


def open_demands(meeting: Meeting, m: Membership) -> list[Demand]:
    """Demands not closed, of the meeting's compound (or community, or street), that the acting
    membership sees and that are not on this meeting's agenda yet; the earliest deadline first."""
    taken = select(AgendaItem.demand_id).where(AgendaItem.meeting_id == meeting.id,
                                               AgendaItem.demand_id.is_not(None))
    stmt = (select(Demand).where(policy.visible(m, Demand), Demand.status != "closed",
                                 Demand.compound_id.in_(_scope_compounds(meeting)), Demand.id.not_in(taken))
            .order_by(Demand.deadline_at, Demand.id).limit(DEMAND_PICK_LIMIT))
    return list(db.session.execute(stmt).scalars())


def add_item(meeting: Meeting, m: Membership, title: str, detail: str, demand_id: int | None) -> AgendaItem:
    _not_published(meeting)
    title, detail = (title or "").strip(), (detail or "").strip()
    compound_id = meeting.compound_id
    if demand_id is not None:
        demand = next((d for d in open_demands(meeting, m) if d.id == demand_id), None)
        if demand is None:
            raise MeetingProblem("请选择本次会议范围内未关闭、且尚未列入议程的诉求。", "demand_id")
        title = title or demand.title
        detail = detail or f"诉求 {demand.number}：{demand.description}".strip("：")
        compound_id = demand.compound_id
    if not title:
        raise MeetingProblem("请填写议题，或选择一件诉求。", "title")
    if len(title) > 200:
        raise MeetingProblem("议题不能超过 200 个字。", "title")
    item = AgendaItem(level=meeting.level, street_id=meeting.street_id, community_id=meeting.community_id,
                      compound_id=compound_id, demand_id=demand_id, title=title, detail=detail)
    meeting.agenda.append(item)
    db.session.flush()
    return item


def pending_escalations(street_id: int | None, level: str = "street"):
    """A level's 待上会事项, not on a meeting yet: the street's (escalated by its community
    meetings) or the district's (escalated by street meetings; `street_id` unused)."""
    stmt = select(AgendaItem).where(AgendaItem.level == level, AgendaItem.meeting_id.is_(None),
                                    AgendaItem.escalated_from_id.is_not(None))
    if level == "street":
        stmt = stmt.where(AgendaItem.street_id == street_id)
    return stmt.order_by(AgendaItem.id)


ATTACH_PROBLEM = {"street": "请选择本街道待上会的事项。", "district": "请选择街道提交区联席会议的待上会事项。"}


def attach(meeting: Meeting, item: AgendaItem) -> None:
    """A street meeting takes its street's pending escalated item on its agenda; the district's
    joint meeting an item a street escalated to the district."""
    _not_published(meeting)
    if meeting.level not in ATTACH_PROBLEM:
        raise MeetingProblem("只有街道会议和区联席会议可以接收下级提交的事项。", "agenda_item_id")
    if (item.level != meeting.level or item.escalated_from_id is None or item.meeting_id is not None
            or (meeting.level == "street" and item.street_id != meeting.street_id)):
        raise MeetingProblem(ATTACH_PROBLEM[meeting.level], "agenda_item_id")
    meeting.agenda.append(item)
    db.session.flush()


def remove_item(meeting: Meeting, item: AgendaItem) -> None:
    """Off the agenda: a street's escalated item goes back to its pending list, others are deleted."""
    _not_published(meeting)
    if item.meeting_id != meeting.id:
        raise MeetingProblem("该议题不在本次会议的议程中。", "title")
    if item.outcome != "pending":
        raise MeetingProblem(f"该议题{outcome_label(item)}，不能移出议程。", "title")
    if any(a.agenda_item_id == item.id for a in meeting.actions):
        raise MeetingProblem("该议题已有落实事项，不能移出议程。", "title")
    meeting.agenda.remove(item)  # the street's escalated item: back to its pending list
    if item.escalated_from_id is None:
        db.session.delete(item)
    db.session.flush()


def _demand_note(item: AgendaItem, meeting: Meeting, text: str, user) -> None:
    """The decision on a demand's item joins the demand's timeline (a note step)."""
    if item.demand_id is None:
        return
    db.session.add(DemandEvent(demand_id=item.demand_id, kind="note", user_id=getattr(user, "id", None),
                               actor=getattr(user, "display_name", "") or "", note=text,
                               data={"meeting_id": meeting.id, "agenda_item_id": item.id}))


def _decidable(meeting: Meeting, item: AgendaItem, field: str) -> None:
    _held(meeting)
    if item.meeting_id != meeting.id:
        raise MeetingProblem("该议题不在本次会议的议程中。", field)
    if item.outcome != "pending":
        raise MeetingProblem(f"该议题{outcome_label(item)}，不能再次处理。", field)


def settle(meeting: Meeting, item: AgendaItem, decision: str, user=None) -> None:
    _decidable(meeting, item, "decision")
    decision = (decision or "").strip()
    if not decision:
        raise MeetingProblem("请填写议定结果。", "decision")
    item.outcome, item.decision = "settled", decision
    _demand_note(item, meeting, f"{KINDS[meeting.kind]}议定：{decision}", user)
    db.session.flush()


def escalate(meeting: Meeting, item: AgendaItem, note: str, user=None) -> AgendaItem:
    """提交上一级: a community meeting's item goes to its street (提交街道), a street meeting's to
    the district's joint meeting (提交区联席会议). The meeting's view is kept on its item; the
    next level gets a pending copy (keeping the community and street it came from)."""
    _decidable(meeting, item, "decision")
    up = UP.get(meeting.level)
    if up is None:
        raise MeetingProblem("区联席会议的议题须在本次会议议定（可交办职能部门联合执法），不能再上交。", "decision")
    unit = "社区" if meeting.level == "community" else "街道"
    note = (note or "").strip()
    if not note:
        raise MeetingProblem(f"请填写{unit}意见（{UP_LABELS[meeting.level]}的理由和建议）。", "decision")
    if db.session.execute(select(AgendaItem.id).where(AgendaItem.escalated_from_id == item.id)).first():
        raise MeetingProblem(f"该议题已{UP_LABELS[meeting.level]}。", "decision")
    item.outcome, item.decision = "escalated", note
    detail = "\n".join(x for x in (item.detail, f"{meeting.convener}{KINDS[meeting.kind]}"
                                   f"（{local(meeting.held_at):%Y-%m-%d}）意见：{note}") if x)
    copy = AgendaItem(level=up, street_id=meeting.street_id, community_id=item.community_id,
                      compound_id=item.compound_id, demand_id=item.demand_id, title=item.title,
                      detail=detail, escalated_from_id=item.id)
    db.session.add(copy)
    _demand_note(item, meeting, f"{KINDS[meeting.kind]}{UP_LABELS[meeting.level]}：{note}", user)
    db.session.flush()
    return copy


def followups(items: list[AgendaItem], m: Membership) -> dict[int, list[AgendaItem]]:
    """For escalated items: the copies up the chain as m sees them — the street's (pending, on a
    meeting, settled or escalated on), then the district's — so a community follows its item to
    the street, the district and the outcome."""
    out: dict[int, list[AgendaItem]] = {}
    start = {i.id: i.id for i in items if i.outcome == "escalated"}   # the copy's source → the item
    while start:
        rows = db.session.execute(select(AgendaItem).where(AgendaItem.escalated_from_id.in_(list(start)),
                                                           policy.visible(m, AgendaItem))).scalars().all()
        nxt = {}
        for r in rows:
            out.setdefault(start[r.escalated_from_id], []).append(r)
            if r.outcome == "escalated":
                nxt[r.id] = start[r.escalated_from_id]
        start = nxt
    return out


def district_actions(items: list[AgendaItem], m: Membership) -> dict[int, list[ActionItem]]:
    """The action items a meeting gave on these items, as m sees them (a department its own)."""
    ids = [i.id for i in items if i.meeting_id is not None]
    if not ids:
        return {}
    out: dict[int, list[ActionItem]] = {}
    for a in db.session.execute(select(ActionItem).where(ActionItem.agenda_item_id.in_(ids),
                                                         policy.visible(m, ActionItem))
                                .order_by(ActionItem.id)).scalars():
        out.setdefault(a.agenda_item_id, []).append(a)
    return out


# --- the meeting held -------------------------------------------------------------------------

def record(meeting: Meeting, held_local: datetime | None, present_ids: list[int], minutes: str) -> None:
    """Record the meeting as held (or correct the record before the minutes are published):
    when, who was present, the minutes text."""
    _not_published(meeting)
    if held_local is None:
        raise MeetingProblem("请填写召开时间。", "held_at")
    held_at = from_local(held_local)
    if held_at > now():
        raise MeetingProblem("召开时间不能晚于现在：会议开过之后再记录。", "held_at")
    if not meeting.attendees:
        raise MeetingProblem("请先登记参会人员，再记录会议召开。", "present")
    ids = {a.id for a in meeting.attendees}
    chosen = set(present_ids or [])
    if not chosen:
        raise MeetingProblem("请勾选出席会议的人员。", "present")
    if not chosen <= ids:
        raise MeetingProblem("出席人员须是本次会议名单中的人员。", "present")
    minutes = (minutes or "").strip()
    if len(minutes) > 20000:
        raise MeetingProblem("会议纪要不能超过 20000 个字。", "minutes")
    for a in meeting.attendees:
        a.present = a.id in chosen
    meeting.held_at, meeting.minutes, meeting.status = held_at, minutes, "held"
    db.session.flush()


def add_action(meeting: Meeting, task: str, owner: str, owner_party: str, due_on: date | None,
               agenda_item_id: int | None, department_id: int | None = None) -> ActionItem:
    _held(meeting)
    task, owner = (task or "").strip(), (owner or "").strip()
    if not task:
        raise MeetingProblem("请填写落实事项。", "task")
    if len(task) > 200:
        raise MeetingProblem("落实事项不能超过 200 个字。", "task")
    if not owner:
        raise MeetingProblem("请填写责任人。", "owner")
    if len(owner) > 60:
        raise MeetingProblem("责任人不能超过 60 个字。", "owner")
    if owner_party not in PARTIES:
        raise MeetingProblem("请选择责任方。", "owner_party")
    department = None
    if owner_party == "department":
        # A department is a register entry with its own accounts, never a typed name.
        department = next((d for d in departments() if d.id == department_id), None)
        if department is None:
            raise MeetingProblem("请选择本区在册的职能部门（在“组织架构 · 职能部门”中登记）。", "department_id")
    if due_on is None:
        raise MeetingProblem("请填写完成时限。", "due_on")
    held_on = local_date(meeting.held_at)
    if due_on < held_on:
        raise MeetingProblem(f"完成时限不能早于会议召开日期（{held_on:%Y-%m-%d}）。", "due_on")
    if agenda_item_id is not None and agenda_item_id not in {i.id for i in meeting.agenda}:
        raise MeetingProblem("请选择本次会议的议题。", "agenda_item_id")
    action = ActionItem(task=task, owner=owner, owner_party=owner_party, due_on=due_on,
                        agenda_item_id=agenda_item_id, department=department)
    meeting.actions.append(action)
    db.session.flush()
    return action


def complete_action(meeting: Meeting, action: ActionItem, note: str) -> None:
    """Mark an action item done (also after the minutes are published: it is follow-up work)."""
    if action.meeting_id != meeting.id:
        raise MeetingProblem("该事项不属于本次会议。", "done_note")
    if meeting.status == "planned":
        raise MeetingProblem("会议尚未召开。", "done_note")
    if action.done_on is not None:
        raise MeetingProblem(f"该事项已于 {action.done_on:%Y-%m-%d} 完成。", "done_note")
    note = (note or "").strip()
    if not note:
        raise MeetingProblem("请填写完成情况。", "done_note")
    action.done_on, action.done_note = today(), note
    db.session.flush()


def overdue_days(action: ActionItem, on: date | None = None) -> int:
    """Days past the deadline of an unfinished action item (0 when on time or done)."""
    if action.done_on is not None:
        return 0
    return max(((on or today()) - action.due_on).days, 0)


# --- publishing the minutes -------------------------------------------------------------------

def _cn(d: date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def minutes_content(meeting: Meeting) -> dict:
    """The publication's lines [{key, label, value}]: the meeting, attendees by party and
    organisation (present ones; no phone numbers), each item with its outcome, action items
    with owners and deadlines, the minutes text."""
    held = local(meeting.held_at)
    convener = {"community": f"{meeting.convener}党委", "street": f"{meeting.convener}党工委"}.get(
        meeting.level, "区物业管理联席会议（区物管中心）")
    lines = [
        {"key": "会议", "label": "会议", "value": f"{meeting.title}（{KINDS[meeting.kind]}）"},
        {"key": "召集", "label": "召集单位", "value": convener},
        {"key": "时间", "label": "召开时间", "value": f"{_cn(held.date())} {held:%H:%M}"},
    ]
    if meeting.location:
        lines.append({"key": "地点", "label": "地点", "value": meeting.location})
    for party, label in PARTIES.items():
        people = [a for a in meeting.attendees if a.party == party and a.present]
        if people:
            lines.append({"key": f"参会:{party}", "label": f"参会 · {label}",
                          "value": "、".join(f"{a.name}（{a.organisation}）" if a.organisation else a.name
                                            for a in people)})
    absent = [a for a in meeting.attendees if not a.present]
    if absent:
        lines.append({"key": "缺席", "label": "缺席", "value": "、".join(
            f"{a.name}（{a.organisation or PARTIES[a.party]}）" for a in absent)})
    numbers = {i.id: n for n, i in enumerate(meeting.agenda, start=1)}
    for n, item in enumerate(meeting.agenda, start=1):
        if item.outcome == "settled":
            value = f"已议定：{item.decision}"
        elif item.outcome == "escalated" and meeting.level == "street":
            value = f"提交区物业管理联席会议研究。街道意见：{item.decision}"
        elif item.outcome == "escalated":
            value = f"提交街道联席会议研究。社区意见：{item.decision}"
        else:
            value = "待议"
        lines.append({"key": f"议题{n}", "label": f"议题{n} · {item.title}", "value": value})
    for n, a in enumerate(meeting.actions, start=1):
        about = f"（议题{numbers[a.agenda_item_id]}）" if a.agenda_item_id in numbers else ""
        lines.append({"key": f"落实{n}", "label": f"落实事项{n}",
                      "value": f"{a.task}{about}；责任人：{a.owner}（{a.department.name if a.department else PARTIES.get(a.owner_party, '其他')}）；"
                               f"完成时限：{_cn(a.due_on)}"})
    if meeting.minutes:
        lines.append({"key": "纪要", "label": "会议纪要", "value": meeting.minutes})
    return {"template": "meeting_minutes", "meeting_id": meeting.id, "kind": meeting.kind,
            "level": meeting.level, "lines": lines}


def minutes_title(meeting: Meeting) -> str:
    return f"{meeting.compound.name}{KINDS[meeting.kind]}纪要：{meeting.title}"


def publish_minutes(meeting: Meeting, user=None) -> Publication:
    if meeting.status == "published" or meeting.publication_id is not None:
        raise MeetingProblem("会议纪要已公示，不能重复公示。", "publish")
    if meeting.status != "held":
        raise MeetingProblem("会议尚未召开，不能公示纪要。", "publish")
    if meeting.compound_id is None:
        raise MeetingProblem("该会议没有关联小区，纪要无处公示：公示栏按小区设置。", "publish")
    if not meeting.agenda:
        raise MeetingProblem("会议没有议题，没有可公示的内容。", "publish")
    pending = [i for i in meeting.agenda if i.outcome == "pending"]
    if pending:
        raise MeetingProblem(f"还有 {len(pending)} 个议题未议定或提交上级（{pending[0].title}），"
                             "请先记录结果再公示纪要。", "publish")
    pub = publications.publish(meeting.compound, "meeting_minutes", minutes_content(meeting),
                               minutes_title(meeting), user=user)
    meeting.status, meeting.publication_id = "published", pub.id
    db.session.flush()
    return pub


# --- lists ------------------------------------------------------------------------------------

TABS = {"upcoming": "即将召开", "held": "已召开", "published": "纪要已公示", "all": "全部"}
TAB_STATUS = {"upcoming": "planned", "held": "held", "published": "published"}


def meetings_select(m: Membership, tab: str = "all", q: str = "", kind: str | None = None,
                    level: str | None = None, community_id: int | None = None):
    stmt = select(Meeting).where(policy.visible(m, Meeting))
    if tab in TAB_STATUS:
        stmt = stmt.where(Meeting.status == TAB_STATUS[tab])
    if q:
        stmt = stmt.where(Meeting.title.contains(q))
    if kind in KINDS:
        stmt = stmt.where(Meeting.kind == kind)
    if level in LEVELS:
        stmt = stmt.where(Meeting.level == level)
    if community_id:
        stmt = stmt.where(Meeting.community_id == community_id)
    # Upcoming: the next one first; otherwise the latest first.
    order = Meeting.scheduled_at if tab == "upcoming" else Meeting.scheduled_at.desc()
    return stmt.order_by(order, Meeting.id.desc())


ACTION_STATES = {"open": "待落实", "overdue": "已逾期", "done": "已完成", "all": "全部"}


def actions_select(m: Membership, state: str = "open", q: str = ""):
    """落实事项 in scope across meetings (a department: those given to it), the oldest deadline first."""
    stmt = select(ActionItem).where(policy.visible(m, ActionItem))
    if state == "open":
        stmt = stmt.where(ActionItem.done_on.is_(None))
    elif state == "overdue":
        stmt = stmt.where(ActionItem.done_on.is_(None), ActionItem.due_on < today())
    elif state == "done":
        stmt = stmt.where(ActionItem.done_on.is_not(None))
    if q:
        stmt = stmt.where(ActionItem.task.contains(q))
    return stmt.order_by(ActionItem.due_on, ActionItem.id)


def tab_counts(m: Membership) -> dict[str, int]:
    rows = dict(db.session.execute(select(Meeting.status, func.count(Meeting.id))
                                   .where(policy.visible(m, Meeting)).group_by(Meeting.status)).all())
    out = {tab: rows.get(status, 0) for tab, status in TAB_STATUS.items()}
    out["all"] = sum(rows.values())
    return out


def row_stats(ids: list[int]) -> dict[int, dict]:
    """Per meeting on a list page: agenda items, pending ones, open and overdue action items."""
    out = {i: {"items": 0, "pending": 0, "actions": 0, "overdue": 0} for i in ids}
    if not ids:
        return out
    for mid, outcome, n in db.session.execute(
            select(AgendaItem.meeting_id, AgendaItem.outcome, func.count(AgendaItem.id))
            .where(AgendaItem.meeting_id.in_(ids)).group_by(AgendaItem.meeting_id, AgendaItem.outcome)):
        out[mid]["items"] += n
        if outcome == "pending":
            out[mid]["pending"] += n
    on = today()
    late = func.sum(case((ActionItem.due_on < on, 1), else_=0))
    for mid, n, overdue in db.session.execute(
            select(ActionItem.meeting_id, func.count(ActionItem.id), late)
            .where(ActionItem.meeting_id.in_(ids), ActionItem.done_on.is_(None))
            .group_by(ActionItem.meeting_id)):
        out[mid]["actions"], out[mid]["overdue"] = n, int(overdue or 0)
    return out


ESCALATION_STATES = {"pending": "待上会", "scheduled": "已列入街道会议", "settled": "街道已议定",
                     "escalated": "已提交区联席会议", "all": "全部"}
DISTRICT_STATES = {"pending": "待上会", "scheduled": "已列入区联席会议", "settled": "区联席会议已议定", "all": "全部"}


def escalation_level(m: Membership, asked: str | None = None) -> str:
    """Whose 待上会事项 a list shows: the district's for the district admin; the street's for the
    others, who may also look at what their street escalated on to the district."""
    if m.role == policy.DISTRICT:
        return "district"
    return "district" if asked == "district" else "street"


def escalation_states(level: str) -> dict[str, str]:
    return DISTRICT_STATES if level == "district" else ESCALATION_STATES


def escalations_select(m: Membership, state: str = "pending", q: str = "", level: str = "street"):
    """Escalated items waiting at (or decided at) a level, as m sees them: a street only its own
    items, the district's copies of them included."""
    stmt = select(AgendaItem).where(policy.visible(m, AgendaItem), AgendaItem.escalated_from_id.is_not(None),
                                    AgendaItem.level == level)
    if state == "pending":
        stmt = stmt.where(AgendaItem.meeting_id.is_(None))
    elif state == "scheduled":
        stmt = stmt.where(AgendaItem.meeting_id.is_not(None), AgendaItem.outcome == "pending")
    elif state == "settled":
        stmt = stmt.where(AgendaItem.outcome == "settled")
    elif state == "escalated":
        stmt = stmt.where(AgendaItem.outcome == "escalated")
    if q:
        stmt = stmt.where(AgendaItem.title.contains(q))
    return stmt.order_by(AgendaItem.id.desc())


def names_of(model, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def origin_meetings(items: list[AgendaItem], m: Membership | None = None) -> dict[int, Meeting]:
    """The meeting each escalated item came from (keyed by the copy's id): a street item's
    community meeting, a district item's street meeting — those `m` sees, when given."""
    src = {i.id: i.escalated_from_id for i in items if i.escalated_from_id}
    if not src:
        return {}
    by_item = dict(db.session.execute(select(AgendaItem.id, AgendaItem.meeting_id)
                                      .where(AgendaItem.id.in_(src.values()))).all())
    stmt = select(Meeting).where(Meeting.id.in_([v for v in by_item.values() if v]))
    if m is not None:
        stmt = stmt.where(policy.visible(m, Meeting))
    meetings = {mt.id: mt for mt in db.session.execute(stmt).scalars()}
    return {sid: meetings.get(by_item.get(orig)) for sid, orig in src.items()}


def demand_numbers(m: Membership, ids) -> dict[int, str]:
    """Numbers of the linked demands the acting membership may see."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Demand.id, Demand.number)
                                   .where(Demand.id.in_(ids), policy.visible(m, Demand))).all())

