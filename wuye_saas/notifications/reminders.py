"""Deadline reminders, added by a periodic job (jobs/schedule.py "notifications.reminders").

The same reminder is never added twice: its key (kind, record, deadline) is unique per
membership in the inbox. The sets are those of the dashboard's to-do cards where they exist
(dashboard/todo.py's self_report_open / review_open clauses)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..dashboard import todo
from ..evaluation.models import Assessment, Evaluation
from ..extensions import db
from ..org.models import Compound
from ..publicity import checks as pchecks
from ..publicity import schedule as pschedule
from ..publicity.models import FREQUENCIES, LEDGER_KINDS, PUBLICATION_KINDS, Publication
from ..timeutil import local
from . import handlers

SELF_REPORT_DAYS = 3     # remind this many days before 自评截止 (and on the day)
REVIEW_DAYS = 3
PUBLICATION_DAYS = 7


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def self_report(on: date) -> int:
    """Firms with a draft assessment in an open cycle whose 自评截止 is within SELF_REPORT_DAYS."""
    rows = db.session.execute(
        select(Evaluation.id, Evaluation.name, Evaluation.self_report_due, Assessment.firm_id)
        .join(Assessment, Assessment.evaluation_id == Evaluation.id)
        .where(todo.self_report_open(on), Assessment.status == "draft",
               Evaluation.self_report_due <= on + timedelta(days=SELF_REPORT_DAYS))
        .group_by(Evaluation.id, Evaluation.name, Evaluation.self_report_due, Assessment.firm_id)).all()
    n = 0
    for ev_id, name, due, firm_id in rows:
        n += len(handlers.notify(handlers.firm_members(firm_id), "reminder.self_report",
                                 f"reminder.self_report:{ev_id}:{due.isoformat()}",
                                 {"title": name, "due": _day(due)}, subject="evaluation", subject_id=ev_id))
    return n


def review(on: date) -> int:
    """Reviewers (the compound's community; the district for firm-wide assessments) with
    assessments waiting in a cycle whose 审核截止 is within REVIEW_DAYS."""
    rows = db.session.execute(
        select(Evaluation.id, Evaluation.name, Evaluation.review_due, Compound.community_id, func.count(Assessment.id))
        .join(Assessment, Assessment.evaluation_id == Evaluation.id)
        .outerjoin(Compound, Compound.id == Assessment.compound_id)
        .where(todo.review_open(on), Evaluation.review_due >= on,
               Evaluation.review_due <= on + timedelta(days=REVIEW_DAYS))
        .group_by(Evaluation.id, Evaluation.name, Evaluation.review_due, Compound.community_id)).all()
    n = 0
    for ev_id, name, due, community_id, count in rows:
        members = handlers.community_staff(community_id) if community_id else handlers.district_admins()
        n += len(handlers.notify(members, "reminder.review", f"reminder.review:{ev_id}:{due.isoformat()}",
                                 {"title": name, "due": _day(due), "count": count},
                                 subject="evaluation", subject_id=ev_id))
    return n


def upcoming_period(frequency: str, grace_days: int, on: date) -> tuple[date, date, date]:
    """(start, end, deadline) of the earliest period whose deadline is on or after `on`."""
    start, end = pschedule.period_containing(on, frequency)
    while True:
        ps, pe = pschedule.period_containing(start - timedelta(days=1), frequency)
        if pe + timedelta(days=grace_days) < on:
            break
        start, end = ps, pe
    return start, end, end + timedelta(days=grace_days)


def publications(on: date) -> int:
    """Compounds whose periodic publication (the district's schedule) is due within
    PUBLICATION_DAYS and not yet published: its keeper (firm or committee) is reminded."""
    reqs = [r for r in db.session.execute(pschedule.requirements_select()).scalars() if r.frequency in pschedule.MONTHS]
    if not reqs:
        return 0
    compounds = db.session.execute(select(Compound)).scalars().all()
    # Requirements that bind only some compounds (酬金制, a committee in office): the schedule's rule.
    bound = pschedule._bound(reqs, [c.id for c in compounds], on)
    keepers = pchecks.ledger_keepers()
    n = 0
    for req in reqs:
        start, end, deadline = upcoming_period(req.frequency, req.grace_days, on)
        if deadline > on + timedelta(days=PUBLICATION_DAYS) or end >= on:
            continue    # not near, or the period is still running
        start, end = pschedule.covered(req.kind, req.frequency, start, end)   # a budget: the coming year
        for c in compounds:
            if req.management_mode is not None and req.management_mode != c.management_mode:
                continue
            if req.id in bound and c.id not in bound[req.id]:
                continue
            pubs = db.session.execute(select(Publication).where(
                Publication.compound_id == c.id, Publication.kind == req.kind,
                Publication.period_start <= start, Publication.period_end >= end)).scalars().all()
            if any(req.ledger_kind is None or pchecks.ledger_kind_of(p) == req.ledger_kind for p in pubs):
                continue
            who = keepers.get(req.ledger_kind) if req.ledger_kind else pchecks.KIND_KEEPER.get(req.kind, "firm")
            if who == "committee":
                members = handlers.committee_members(c.id)
            else:
                members = [m for f in handlers.serving_firms(c.id) for m in handlers.firm_members(f)]
            label = PUBLICATION_KINDS.get(req.kind, req.kind)
            if req.ledger_kind:
                label += f"（{LEDGER_KINDS.get(req.ledger_kind, req.ledger_kind)}）"
            n += len(handlers.notify(members, "reminder.publication",
                                     f"reminder.publication:{c.id}:{req.id}:{end.isoformat()}",
                                     {"title": label, "compound": c.name, "due": _day(deadline),
                                      "period": f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}，{FREQUENCIES[req.frequency]}"}))
    return n


def run_all(at: datetime) -> dict:
    on = local(at).date()
    return {"self_report": self_report(on), "review": review(on), "publication": publications(on)}

