"""From domain events to inbox items: who each event waits for (plain rules at the top), one item
per membership, and the SMS/WeChat copies each person chose. Runs inside the emitting
transaction (events.handler): writes rows, never commits.

Who is told:
- demand.dispatched → the assignee: its firm's firm_manager/firm_staff, or its department's staff;
- demand.resolved   → the compound's community staff (a return visit is due), and the grid worker
                      who took it in on patrol (their report was handled);
- demand.escalated  → the street's staff (the street supervises it now);
- objection.raised  → the publication's keeper (publicity.checks.keeper_of: the firm serving the
                      compound, or its committee);
- publication.issued → the compound's committee members (a publication to check), not the one who
                      published it;
- vote.opened       → the compound's committee members;
- credit.recorded   → the firm's managers, for a bad record (one they may object to);
- credit.objected   → the district admins (they decide objections);
- evaluation.assigned → the assessor given items to score.
Residents who left a phone number with a demand get an SMS when it is resolved and closed."""
from __future__ import annotations

import re

from sqlalchemy import select

from .. import events
from ..auth.models import Membership, User
from ..extensions import db
from ..org.models import Community, Compound
from ..timeutil import now
from . import outbox
from .models import InboxItem, NotifyPreference
from .templates import render, own

FIRM_ROLES = ("firm_manager", "firm_staff")
PHONE = re.compile(r"^1[3-9]\d{9}$")


def _members(*where) -> list[Membership]:
    return list(db.session.execute(select(Membership).join(User, User.id == Membership.user_id)
                                   .where(Membership.active.is_(True), User.active.is_(True), *where)
                                   .order_by(Membership.id)).scalars())


def firm_members(firm_id: int | None, roles=FIRM_ROLES) -> list[Membership]:
    if firm_id is None:
        return []
    return _members(Membership.role.in_(roles), Membership.firm_id == firm_id)


def committee_members(compound_id: int | None) -> list[Membership]:
    return _members(Membership.role == "committee_member", Membership.compound_id == compound_id)


def community_staff(community_id: int | None) -> list[Membership]:
    return _members(Membership.role == "community_staff", Membership.community_id == community_id)


def street_staff(street_id: int | None) -> list[Membership]:
    return _members(Membership.role == "street_staff", Membership.street_id == street_id)


def department_staff(department_id: int | None) -> list[Membership]:
    return _members(Membership.role == "department_staff", Membership.department_id == department_id)


def district_admins() -> list[Membership]:
    return _members(Membership.role == "district_admin")


def serving_firms(compound_id: int) -> list[int]:
    from ..demands.logic import dispatch_firms
    return [f.id for f in dispatch_firms(compound_id)]


# --- one item ---------------------------------------------------------------------------------------

def add_item(m: Membership, kind: str, key: str, values: dict, *, subject: str = "", subject_id: int | None = None,
             event_id: int | None = None, body: str = "", urgent: bool = False, at=None) -> InboxItem | None:
    """The item (flushed) and the SMS/WeChat copies the person chose; None when this membership
    has the key already (the same event or reminder never lands twice)."""
    if db.session.execute(select(InboxItem.id).where(InboxItem.membership_id == m.id,
                                                     InboxItem.key == key)).first():
        return None
    item = InboxItem(membership_id=m.id, kind=kind, key=key[:120], title=render(kind, values, own(kind))[:200],
                     body=body[:500], subject=subject, subject_id=subject_id, event_id=event_id, created_at=at or now())
    db.session.add(item)
    db.session.flush()
    pref = db.session.execute(select(NotifyPreference).where(NotifyPreference.membership_id == m.id)
                              ).scalar_one_or_none()
    if pref is not None:
        phone = pref.phone or (m.user.phone if m.user else "")
        if kind in (pref.sms_kinds or []) and phone and PHONE.match(phone):
            outbox.queue("sms", kind, phone, values, key=f"inbox:{item.id}:sms", urgent=urgent, membership_id=m.id)
        if kind in (pref.wechat_kinds or []) and pref.wechat_openid:
            outbox.queue("wechat", kind, pref.wechat_openid, values, key=f"inbox:{item.id}:wechat",
                         urgent=urgent, membership_id=m.id)
    return item


def notify(members, kind: str, key: str, values: dict, **kw) -> list[InboxItem]:
    got = []
    for m in dict((m.id, m) for m in members).values():
        item = add_item(m, kind, key, values, **kw)
        if item is not None:
            got.append(item)
    return got


# --- the events ---------------------------------------------------------------------------------------

def _demand(ev):
    from ..demands.models import Demand
    d = db.session.get(Demand, ev.subject_id)
    if d is None:
        return None, {}
    assignee = d.firm.name if d.firm is not None else (d.assignee_name or "承办单位")
    return d, {"number": d.number, "title": d.title, "compound": d.compound.name, "assignee": assignee}


def on_demand(ev) -> None:
    kind = ev.kind
    if kind not in ("demand.dispatched", "demand.resolved", "demand.escalated", "demand.closed"):
        return
    d, values = _demand(ev)
    if d is None:
        return
    key = f"{kind}:{d.id}:{ev.id}"
    kw = {"subject": "demand", "subject_id": d.id, "event_id": ev.id, "urgent": d.urgency == "urgent", "at": ev.at}
    if kind == "demand.dispatched":
        if d.assignee_kind == "firm":
            notify(firm_members(d.firm_id), kind, key, values, **kw)
        elif d.assignee_kind == "department":
            notify(department_staff(d.department_id), kind, key, values, **kw)
    elif kind == "demand.resolved":
        notify(community_staff(d.compound.community_id), kind, key, values, **kw)
        if d.created_by_id is not None:
            notify(_members(Membership.role == "grid_worker", Membership.user_id == d.created_by_id),
                   "demand.taken_resolved", f"demand.taken_resolved:{d.id}:{ev.id}", values, **kw)
    elif kind == "demand.escalated":
        street = db.session.execute(select(Community.street_id).where(Community.id == d.compound.community_id)
                                    ).scalar_one_or_none()
        notify(street_staff(street), kind, key, values, **kw)
    if kind in ("demand.resolved", "demand.closed") and d.contact_phone and PHONE.match(d.contact_phone):
        resident_kind = "resident.demand_resolved" if kind == "demand.resolved" else "resident.demand_closed"
        outbox.queue("sms", resident_kind, d.contact_phone, {"number": d.number, "title": d.title},
                     key=f"resident:{d.id}:{ev.id}")


def on_objection(ev) -> None:
    from ..publicity import checks
    from ..publicity.models import Objection
    obj = db.session.get(Objection, ev.subject_id)
    if obj is None:
        return
    p = obj.publication
    values = {"title": p.title, "compound": p.compound.name}
    if checks.keeper_of(p) == "committee":
        members = [m for m in committee_members(p.compound_id) if m.user_id != obj.asked_by]
    else:
        members = [m for f in serving_firms(p.compound_id) for m in firm_members(f)]
    notify(members, ev.kind, f"{ev.kind}:{obj.id}", values, subject="objection", subject_id=obj.id,
           event_id=ev.id, at=ev.at)


def on_publication(ev) -> None:
    from ..publicity.models import Publication
    p = db.session.get(Publication, ev.subject_id)
    if p is None:
        return
    members = [m for m in committee_members(p.compound_id) if m.user_id != p.user_id]
    notify(members, ev.kind, f"{ev.kind}:{p.id}", {"title": p.title, "compound": p.compound.name},
           subject="publication", subject_id=p.id, event_id=ev.id, at=p.published_at)


def on_vote(ev) -> None:
    from ..votes.models import OwnerVote
    vote = db.session.get(OwnerVote, ev.subject_id)
    if vote is None:
        return
    compound = db.session.get(Compound, vote.compound_id)
    notify(committee_members(vote.compound_id), ev.kind, f"{ev.kind}:{vote.id}:{ev.id}",
           {"title": vote.title, "compound": compound.name if compound else ""},
           subject="vote", subject_id=vote.id, event_id=ev.id, at=ev.at)


def on_credit(ev) -> None:
    from ..credit.models import NATURES, CreditRecord
    rec = db.session.get(CreditRecord, ev.subject_id)
    if rec is None or rec.nature != "bad":
        return
    notify(firm_members(rec.firm_id, ("firm_manager",)), ev.kind, f"{ev.kind}:{rec.id}",
           {"title": rec.title, "nature": NATURES.get(rec.nature, "")},
           subject="credit_record", subject_id=rec.id, event_id=ev.id, at=ev.at)


def on_credit_objection(ev) -> None:
    from ..credit.models import CreditRecord
    from ..org.models import Firm
    rec = db.session.get(CreditRecord, ev.subject_id)
    if rec is None:
        return
    firm = db.session.get(Firm, rec.firm_id)
    notify(district_admins(), ev.kind, f"{ev.kind}:{ev.data.get('objection_id')}",
           {"title": rec.title, "firm": firm.name if firm else ""},
           subject="credit_objection", subject_id=ev.data.get("objection_id"), event_id=ev.id, at=ev.at)


def on_assignment(ev) -> None:
    from ..evaluation.models import Evaluation
    evaluation = db.session.get(Evaluation, ev.subject_id)
    mid = ev.data.get("membership_id")
    if evaluation is None or mid is None:
        return
    notify(_members(Membership.id == mid, Membership.role == "assessor"), ev.kind, f"{ev.kind}:{ev.id}",
           {"title": evaluation.name, "count": ev.data.get("items", 0)},
           subject="evaluation", subject_id=evaluation.id, event_id=ev.id, at=ev.at)


DISPATCH = {"objection.raised": on_objection, "publication.issued": on_publication, "vote.opened": on_vote,
            "credit.recorded": on_credit, "credit.objected": on_credit_objection, "evaluation.assigned": on_assignment}


@events.handler
def on_event(ev) -> None:
    if ev.kind.startswith("demand."):
        on_demand(ev)
    elif ev.kind in DISPATCH:
        DISPATCH[ev.kind](ev)
