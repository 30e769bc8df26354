"""Audit trail: every insert, update and delete of an audited model becomes an AuditEvent.

Captured centrally after each flush, so no write path can forget it. The actor is whoever the
request (or CLI/job) declared with `acting_as`. Bulk Core inserts (seeding, large imports)
bypass the ORM and record one summary event with `record_event` instead.
"""
from __future__ import annotations

import enum
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db
from .tenancy import current_tenant_id
from .timeutil import now

_actor: ContextVar[tuple[int | None, str]] = ContextVar("wuye_actor", default=(None, "系统"))

ACTIONS = {"create": "新增", "update": "修改", "delete": "删除"}


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: platform-level events (a tenant created) belong to no district.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    label: Mapped[str] = mapped_column(String(200), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)


@contextmanager
def acting_as(user_id: int | None, name: str):
    token = _actor.set((user_id, name))
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(user_id: int | None, name: str):
    return _actor.set((user_id, name))


def reset_actor(token) -> None:
    _actor.reset(token)


def plain(value):
    """A column value as the audit trail stores it (JSON-safe)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _columns(obj):
    # `__audit_derived__`: columns computed from others the trail already shows (left out).
    derived = getattr(type(obj), "__audit_derived__", ())
    return [a for a in inspect(obj).mapper.column_attrs if a.key not in derived]


def _snapshot(obj, exclude) -> dict:
    return {a.key: plain(getattr(obj, a.key)) for a in _columns(obj) if a.key not in exclude}


def _diff(obj, exclude) -> dict:
    state = inspect(obj)
    out = {}
    for attr in _columns(obj):
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if before == after:
            continue
        if attr.key in exclude:
            out[attr.key] = {"before": "***", "after": "***"}
        else:
            out[attr.key] = {"before": plain(before), "after": plain(after)}
    return out


def _audited_class(cls) -> bool:
    return getattr(cls, "__audit__", True) and hasattr(cls, "__tablename__")


def _audited(obj) -> bool:
    return _audited_class(type(obj))


def _label(obj) -> str:
    return str(getattr(obj, "audit_label", None) or getattr(obj, "name", None) or "")[:200]


def _event(obj, action: str, changes: dict) -> dict:
    user_id, actor = _actor.get()
    return {"tenant_id": getattr(obj, "tenant_id", None) or current_tenant_id(), "at": now(),
            "user_id": user_id, "actor": actor, "action": action, "entity": type(obj).__tablename__,
            "entity_id": getattr(obj, "id", None), "label": _label(obj), "changes": changes}


def _write(session, events: list[dict]) -> None:
    """Events are written at once, on the session's connection, in the tenant scope of the write
    they describe (a later flush may run in another scope, where PostgreSQL's row-level
    security would refuse them), and without RETURNING: an event of no district may be added
    from any scope but read back only in the system scope (migrations/rls.py)."""
    if events:
        session.connection().execute(insert(AuditEvent.__table__).inline(), events)


@event.listens_for(db.Model, "mapper_configured", propagate=True)
def _keep_old_values(mapper, cls):
    # A value set on a record whose loaded values a commit has expired would otherwise have no
    # "before" in its history. A "set" listener with active_history makes SQLAlchemy load the
    # old value first (one SELECT of the expired row), so the trail shows what was replaced.
    if _audited_class(cls):
        for attr in mapper.column_attrs:
            event.listen(getattr(cls, attr.key), "set", _seen, active_history=True)


def _seen(target, value, oldvalue, initiator):
    """Nothing to do: registering it is what loads the old value."""


@event.listens_for(Session, "after_flush")
def _record_changes(session, flush_context):
    events = []
    for obj in session.new:
        if _audited(obj):
            exclude = getattr(type(obj), "__audit_exclude__", set())
            events.append(_event(obj, "create", _snapshot(obj, exclude)))
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            changes = _diff(obj, getattr(type(obj), "__audit_exclude__", set()))
            if changes:
                events.append(_event(obj, "update", changes))
    for obj in session.deleted:
        if _audited(obj):
            exclude = getattr(type(obj), "__audit_exclude__", set())
            events.append(_event(obj, "delete", _snapshot(obj, exclude)))
    _write(session, events)


def record_event(action: str, entity: str, label: str, changes: dict | None = None,
                 entity_id: int | None = None, tenant_id: int | None = None) -> None:
    """A summary event for writes that bypass the ORM unit of work (bulk inserts)."""
    user_id, actor = _actor.get()
    _write(db.session, [{"tenant_id": tenant_id or current_tenant_id(), "at": now(), "user_id": user_id,
                         "actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
                         "label": label[:200], "changes": changes or {}}])
