"""Login, rate limiting and membership choice: plain functions, no request in them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..tenancy import Tenant, system_scope
from ..timeutil import now
from .models import LoginLock, Membership, User, needs_rehash, scope_loaded, spend_check_time


def count_attempt(username: str, lock_minutes: int) -> int:
    """Count a login attempt for the username before its password is checked, in one atomic
    statement; the attempts in its window, this one included. A window starts at the first
    attempt and lasts `lock_minutes`. Committed at once, so concurrent attempts each see the
    others: 30 wrong passwords at the same moment get no more checks than 30 one after another."""
    at = now()
    stale = LoginLock.since < at - timedelta(minutes=lock_minutes)
    insert = (postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)(LoginLock)
    stmt = (insert.values(username=username, failures=1, since=at)
            .on_conflict_do_update(index_elements=[LoginLock.username], set_={
                "failures": case((stale, 1), else_=LoginLock.failures + 1),
                "since": case((stale, at), else_=LoginLock.since)})
            .returning(LoginLock.failures))
    n = db.session.execute(stmt).scalar_one()
    db.session.commit()
    return n


def authenticate(username: str, password: str, max_failures: int, lock_minutes: int,
                 address_flooding: bool = False):
    """(user, error message). At most `max_failures` wrong passwords per username in
    `lock_minutes`. An address that has already failed too often (`address_flooding`, counted
    by the caller) never stops a right password: its wrong password locks the username at once,
    so it cannot go on guessing across many usernames."""
    username = username.strip()
    if count_attempt(username, lock_minutes) > max_failures:
        return None, f"登录失败次数过多，请 {lock_minutes} 分钟后再试。"
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        # Spend the same KDF time as a real check: response time must not reveal usernames.
        spend_check_time(password)
    if user is None or not user.check_password(password):
        if address_flooding:
            db.session.execute(update(LoginLock).where(LoginLock.username == username)
                               .values(failures=max_failures))
            db.session.commit()
        return None, "用户名或密码错误。"
    # This username starts afresh; windows that have passed (guessed usernames too) are dropped.
    db.session.execute(delete(LoginLock).where(
        (LoginLock.username == username) | (LoginLock.since < now() - timedelta(minutes=lock_minutes))))
    if not user.active:
        return None, "该账号已停用，请联系区级管理员。"
    if needs_rehash(user.password_hash):
        # An older hash (werkzeug's pbkdf2/scrypt, weaker parameters) becomes today's; the
        # login sessions do not depend on it, so nobody is logged out.
        user.set_password(password)
    user.last_login_at = now()
    return user, None


def usable_memberships(user: User) -> list[Membership]:
    """Active memberships in active districts, across tenants (hence the system scope)."""
    with system_scope():
        stmt = (select(Membership).options(*scope_loaded())
                .join(Tenant, Tenant.id == Membership.tenant_id)
                .where(Membership.user_id == user.id, Membership.active, Tenant.active)
                .order_by(Tenant.name, Membership.id))
        return list(db.session.execute(stmt).scalars())


def password_problem(password: str) -> str | None:
    if len(password) < 8:
        return "密码至少 8 位。"
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        return "密码需同时包含字母和数字。"
    return None
