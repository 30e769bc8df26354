"""Tenancy: the district (Tenant), the current-tenant scope and the ORM safety net.

Every tenant-owned model mixes in `TenantScoped`. While a tenant scope is active every ORM
query gets `tenant_id = <current>` added centrally, so a view cannot forget the filter.
Outside a tenant scope, a query that touches a tenant-owned model raises unless the caller
opened `system_scope()` on purpose (platform admin, login, CLI). A flush stamps new rows
with the current tenant and refuses rows of another tenant.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ForeignKey, Integer, String, bindparam, event, literal_column, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

from .extensions import db
from .timeutil import now


class TenantScopeError(RuntimeError):
    """A tenant-owned table was touched without a tenant or an explicit system scope."""


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None
    system: bool = False


_scope: ContextVar[Scope] = ContextVar("wuye_tenant_scope", default=Scope(None))


class Tenant(db.Model):
    """A district (区/县) running the product; its slug appears in every URL."""

    __tablename__ = "tenant"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped after every committed write in the district; keys the kept pages (pagecache.py).
    data_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped by every monthly snapshot (indicators/snapshots.py); keys the dashboard's kept figures.
    snapshot_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=now)

    def __repr__(self):
        return f"<Tenant {self.slug}>"


class TenantScoped:
    """Mixin for every tenant-owned model: a non-null, indexed tenant_id."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id"), index=True, nullable=False)


def current_tenant_id() -> int | None:
    return _scope.get().tenant_id


def current_scope() -> Scope:
    return _scope.get()


def enter(tenant_id: int | None, system: bool = False):
    """Set the scope; returns a token for `leave`. Used by the request cycle."""
    return _scope.set(Scope(tenant_id, system))


def leave(token) -> None:
    _scope.reset(token)


@contextmanager
def tenant_scope(tenant_id: int):
    """Act for one tenant outside a request (CLI, jobs)."""
    token = enter(tenant_id)
    try:
        yield
    finally:
        leave(token)


@contextmanager
def system_scope():
    """Deliberately see across tenants (platform admin, login, seeding)."""
    token = _scope.set(Scope(_scope.get().tenant_id, True))
    try:
        yield
    finally:
        _scope.reset(token)


def _is_tenant_model(mapper) -> bool:
    return issubclass(mapper.class_, TenantScoped)


@event.listens_for(Session, "do_orm_execute")
def _apply_tenant_filter(state):
    if not (state.is_select or state.is_update or state.is_delete):
        return
    scope = _scope.get()
    if scope.system and scope.tenant_id is None:
        return
    if scope.tenant_id is None:
        if any(_is_tenant_model(m) for m in state.all_mappers):
            raise TenantScopeError("tenant-owned data queried without a tenant scope")
        return
    if scope.system:
        return
    tid = scope.tenant_id
    if state.execution_options.get(KEPT):
        state.statement = kept_filtered(state.statement, tid)
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    )


# Statements built once and run on every request (`kept`, policy.built): their filtered form is
# kept per district too. Filtering anew costs more than running such a statement: a new cache key
# over the whole statement, and the bound district cloned into each of its tables (a landing page's
# counts name over a hundred) and matched up again on every run. The district is a literal here,
# so each district's filtered statement is its own cache entry, with nothing of it bound.
KEPT = "wuye_kept"
_filtered: dict = {}


def kept(stmt):
    """Mark a statement that is built once and run many times."""
    return stmt.execution_options(**{KEPT: True})


def kept_filtered(stmt, tid: int):
    """A kept statement with the district's filter (the same object for the same statement and district)."""
    key = (stmt, tid)
    got = _filtered.get(key)
    if got is None:
        if len(_filtered) >= 2048:
            _filtered.clear()
        district = literal_column(str(int(tid)), Integer)
        got = _filtered[key] = stmt.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == district, include_aliases=True))
    return got


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session, flush_context, instances):
    scope = _scope.get()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if scope.tenant_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} without a tenant")
            obj.tenant_id = scope.tenant_id
        elif scope.tenant_id is not None and obj.tenant_id != scope.tenant_id and not scope.system:
            raise TenantScopeError(f"{type(obj).__name__} of another tenant in this scope")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and scope.tenant_id is not None and not scope.system:
            if obj.tenant_id != scope.tenant_id:
                raise TenantScopeError(f"{type(obj).__name__} of another tenant in this scope")


class TenantRef(NamedTuple):
    """The district of a request's address as read when the request started (`g.tenant`)."""
    id: int
    slug: str
    name: str
    active: bool
    data_version: int


_TENANT_REF = (select(Tenant.id, Tenant.slug, Tenant.name, Tenant.active, Tenant.data_version)
               .where(Tenant.slug == bindparam("slug")))


def tenant_ref(slug: str) -> TenantRef | None:
    row = db.session.connection().execute(_TENANT_REF, {"slug": slug}).one_or_none()
    return TenantRef(*row) if row is not None else None


def tenant_by_slug(slug: str) -> Tenant | None:
    return db.session.execute(db.select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
