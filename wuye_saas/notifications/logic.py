"""The inbox of one membership: counts, the list, marking read; preferences. Plain functions
(flush only; the caller commits). An inbox is its owner's alone — every function takes the
membership and filters by it (the district admin does not read other people's inboxes)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import bindparam, case, func, select, update
from werkzeug.routing import BuildError

from .. import policy
from ..auth.models import Membership
from ..extensions import db
from ..tenancy import kept
from ..timeutil import now
from .models import InboxItem, NotifyPreference
from .templates import INBOX_KINDS

# The record an item opens: subject → (endpoint, id argument).
LINKS = {"demand": ("demands.detail", "demand_id"), "publication": ("checks.publication", "publication_id"),
         "objection": ("checks.objection", "objection_id"), "vote": ("votes.detail", "owner_vote_id"),
         "credit_record": ("credit.record", "credit_record_id"), "evaluation": ("evaluations.detail", "evaluation_id"),
         "credit_objection": ("credit.objection", "credit_objection_id")}
# Reminders without a record of their own open a list.
LIST_LINKS = {"reminder.publication": ("checks.compliance", {})}

# One indexed count per page (ix_inbox_item_unread), built once.
_UNREAD = kept(select(func.count(InboxItem.id)).where(InboxItem.membership_id == bindparam("mid"),
                                                      InboxItem.read_at.is_(None)))


class InboxProblem(ValueError):
    def __init__(self, message: str, field: str = "sms_kinds"):
        super().__init__(message)
        self.message = message
        self.field = field


def unread_count(m: Membership) -> int:
    # No autoflush: the bell is on every page, error pages too, where the session may hold the
    # refused change that led there (flushing it would raise again inside the error handler).
    with db.session.no_autoflush:
        return db.session.execute(_UNREAD, {"mid": m.id}).scalar_one()


def items_select(m: Membership, show: str = "all"):
    stmt = select(InboxItem).where(policy.visible(m, InboxItem))
    if show == "unread":
        stmt = stmt.where(InboxItem.read_at.is_(None))
    return stmt.order_by(case((InboxItem.read_at.is_(None), 0), else_=1), InboxItem.created_at.desc(),
                         InboxItem.id.desc())


def own_item(m: Membership, item_id: int) -> InboxItem | None:
    return db.session.execute(select(InboxItem).where(InboxItem.id == item_id, policy.visible(m, InboxItem))
                              ).scalar_one_or_none()


def link(item: InboxItem) -> str | None:
    try:
        if item.subject in LINKS and item.subject_id:
            endpoint, arg = LINKS[item.subject]
            return url_for(endpoint, **{arg: item.subject_id})
        if item.kind in LIST_LINKS:
            endpoint, args = LIST_LINKS[item.kind]
            return url_for(endpoint, **args)
    except BuildError:
        return None
    return None


def mark_read(item: InboxItem) -> None:
    if item.read_at is None:
        item.read_at = now()
        db.session.flush()


def mark_all_read(m: Membership) -> int:
    return db.session.execute(update(InboxItem).where(InboxItem.membership_id == m.id, InboxItem.read_at.is_(None))
                              .values(read_at=now()).execution_options(synchronize_session=False)).rowcount


def preference(m: Membership) -> NotifyPreference | None:
    return db.session.execute(select(NotifyPreference).where(NotifyPreference.membership_id == m.id)
                              ).scalar_one_or_none()


def save_preference(m: Membership, sms_kinds: list[str], wechat_kinds: list[str], phone: str,
                    openid: str) -> NotifyPreference:
    bad = [k for k in list(sms_kinds) + list(wechat_kinds) if k not in INBOX_KINDS]
    if bad:
        raise InboxProblem("请选择列出的提醒类型。")
    phone, openid = (phone or "").strip(), (openid or "").strip()
    from .handlers import PHONE
    if phone and not PHONE.match(phone):
        raise InboxProblem("请填写 11 位手机号码，或留空使用账号登记的手机号。", "phone")
    if sms_kinds and not (phone or (m.user.phone and PHONE.match(m.user.phone))):
        raise InboxProblem("选择短信提醒需要手机号码：请填写接收短信的手机号。", "phone")
    if wechat_kinds and not openid:
        raise InboxProblem("选择微信提醒需要填写微信 OpenID（关注公众号后由管理员提供）。", "wechat_openid")
    pref = preference(m) or NotifyPreference(membership_id=m.id)
    pref.sms_kinds, pref.wechat_kinds = sorted(set(sms_kinds)), sorted(set(wechat_kinds))
    pref.phone, pref.wechat_openid = phone, openid[:64]
    db.session.add(pref)
    db.session.flush()
    return pref
