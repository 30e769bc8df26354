"""Follow-ups (待办督办): things someone must act on, opened by jobs or by other areas (the
evaluation's 约谈 / 退出 consequences) and closed with a note. Plain functions: they flush, never
commit, and refuse with FollowUpProblem having written nothing."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from .. import policy
from ..auth.models import Membership
from ..committees.models import Formation
from ..extensions import db
from ..org.models import Committee, Community, Compound
from ..timeutil import now
from .models import KINDS, FollowUp

# How far ahead a committee's term end is put on the community's list (see jobs.py).
TERM_REMINDER_DAYS = 90
SCOPE_FIELDS = ("detail", "street_id", "community_id", "compound_id", "firm_id", "committee_id", "due_on")


class FollowUpProblem(ValueError):
    def __init__(self, message: str, field: str = "note"):
        super().__init__(message)
        self.message = message
        self.field = field


def open_follow_up(kind: str, key: str, title: str, **scope) -> FollowUp:
    """The follow-up with this key, created when there is none (idempotent: a job or a
    consequence run twice opens it once). `scope`: detail, street_id, community_id, compound_id,
    firm_id, committee_id, due_on. The community and street are filled in from the compound, the
    street from the community, so the right staff see it."""
    if kind not in KINDS:
        raise FollowUpProblem(f"未知的待办类型：{kind}", "kind")
    key, title = (key or "").strip(), (title or "").strip()
    if not key or len(key) > 80:
        raise FollowUpProblem("待办标识不能为空，且不超过 80 个字符。", "key")
    if not title:
        raise FollowUpProblem("请填写待办事项。", "title")
    unknown = set(scope) - set(SCOPE_FIELDS)
    if unknown:
        raise FollowUpProblem(f"未知的待办字段：{', '.join(sorted(unknown))}", "key")
    existing = db.session.execute(select(FollowUp).where(FollowUp.key == key)).scalar_one_or_none()
    if existing is not None:
        return existing
    values = dict(scope)
    if values.get("compound_id") and not values.get("community_id"):
        values["community_id"] = db.session.execute(
            select(Compound.community_id).where(Compound.id == values["compound_id"])).scalar_one_or_none()
    if values.get("community_id") and not values.get("street_id"):
        values["street_id"] = db.session.execute(
            select(Community.street_id).where(Community.id == values["community_id"])).scalar_one_or_none()
    f = FollowUp(kind=kind, key=key, title=title[:200], status="open", **values)
    db.session.add(f)
    db.session.flush()
    return f


def close_follow_up(f: FollowUp, note: str, user_id: int | None) -> None:
    if f.status != "open":
        raise FollowUpProblem("该待办已办结。")
    note = (note or "").strip()
    if not note:
        raise FollowUpProblem("请填写办理情况。")
    if len(note) > 2000:
        raise FollowUpProblem("办理情况不能超过 2000 个字。")
    f.status, f.close_note, f.closed_at, f.closed_by_id = "closed", note, now(), user_id
    db.session.flush()


def follow_ups_select(m: Membership, status: str = "open", kind: str = "", q: str = ""):
    stmt = select(FollowUp).where(policy.visible(m, FollowUp))
    if status in ("open", "closed"):
        stmt = stmt.where(FollowUp.status == status)
    if kind in KINDS:
        stmt = stmt.where(FollowUp.kind == kind)
    if q.strip():
        stmt = stmt.where(or_(FollowUp.title.contains(q.strip()), FollowUp.detail.contains(q.strip())))
    if status == "closed":
        return stmt.order_by(FollowUp.closed_at.desc(), FollowUp.id.desc())
    # Open ones: the most urgent first (no due date last).
    return stmt.order_by(FollowUp.due_on.is_(None), FollowUp.due_on, FollowUp.id)


def expiring_committees(day: date, days: int = TERM_REMINDER_DAYS):
    """Committees whose term ends within `days` of `day` (or has ended) and are still their
    compound's current committee, with no 换届 under way for them."""
    later = aliased(Committee)
    return (select(Committee).where(
        Committee.term_end <= day + timedelta(days=days), Committee.term_start <= day,
        ~exists().where(later.compound_id == Committee.compound_id, later.term_start > Committee.term_start),
        ~exists().where(Formation.previous_committee_id == Committee.id,
                        Formation.status.in_(("open", "vetting", "elected", "filed"))))
        .order_by(Committee.term_end, Committee.id))


def remind_term(c: Committee, day: date) -> tuple[FollowUp, bool]:
    """The term-expiry follow-up of one committee's term; (follow-up, created?)."""
    key = f"term_expiry:{c.id}:{c.term_end:%Y-%m-%d}"
    had = db.session.execute(select(FollowUp.id).where(FollowUp.key == key)).first() is not None
    left = (c.term_end - day).days
    when = f"已于 {c.term_end:%Y-%m-%d} 届满" if left < 0 else f"将于 {c.term_end:%Y-%m-%d} 届满（还有 {left} 天）"
    f = open_follow_up(
        "term_expiry", key, f"{c.name}任期{when}",
        detail=(f"{c.compound.name}{c.kind}任期 {c.term_start:%Y-%m-%d} 至 {c.term_end:%Y-%m-%d}。"
                "请社区党组织指导组建换届小组、推荐候选人并开展联审，按时完成换届。"),
        compound_id=c.compound_id, committee_id=c.id, due_on=c.term_end)
    return f, not had

