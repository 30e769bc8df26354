"""Login, rate limiting and membership choice: plain functions, no request in them."""
from __future__ import annotations

from datetime import timedelta
from functools import cache

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..tenancy import Tenant, system_scope
from ..timeutil import now
from .models import LoginAttempt, Membership, User, scope_loaded


def _failures(column, value, minutes: int) -> int:
    since = now() - timedelta(minutes=minutes)
    stmt = select(func.count(LoginAttempt.id)).where(column == value, LoginAttempt.at >= since)
    return db.session.execute(stmt).scalar_one()


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such user")


def authenticate(username: str, password: str, ip: str, max_failures: int, lock_minutes: int):
    """(user, error message). Failures are limited per username, and more widely per
    address (a district office shares one outgoing address)."""
    username = username.strip()
    if (_failures(LoginAttempt.username, username, lock_minutes) >= max_failures
            or _failures(LoginAttempt.ip, ip, lock_minutes) >= max_failures * 4):
        return None, f"登录失败次数过多，请 {lock_minutes} 分钟后再试。"
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        # Spend the same KDF time as a real check: response time must not reveal usernames.
        check_password_hash(_dummy_hash(), password)
    if user is None or not user.check_password(password):
        db.session.add(LoginAttempt(username=username, ip=ip))
        db.session.commit()
        return None, "用户名或密码错误。"
    if not user.active:
        return None, "该账号已停用，请联系区级管理员。"
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
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
