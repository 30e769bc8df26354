"""Platform administration: districts (tenants) and their administrators. Plain functions that
only flush; the caller commits. They read across tenants, so callers hold a system scope."""
from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..auth.logic import password_problem
from ..auth.models import ROLE_LABELS, Membership
from ..extensions import db
from ..tenancy import Tenant, tenant_scope
from ..users import logic as users

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
# Words a district slug may not take: they read as system pages in URLs, logs and support calls.
RESERVED_SLUGS = {"admin", "administrator", "api", "app", "assets", "d", "p", "login", "logout",
                  "static", "system", "platform", "root", "www", "mail", "help", "support",
                  "account", "choose", "new", "public", "jobs", "audit"}
STATUSES = {"active": "正常", "suspended": "已停用"}


def normalise_slug(slug: str) -> str:
    return (slug or "").strip().lower()


def slug_problem(slug: str) -> str | None:
    slug = normalise_slug(slug)
    if not SLUG_RE.match(slug):
        return "标识为 2–40 位小写英文字母、数字或连字符，且以字母开头，例如 luzhou"
    if slug in RESERVED_SLUGS:
        return f"“{slug}”是系统保留字，请换一个"
    if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).first():
        return "该标识已被其他区县使用"
    return None


def tenant_query(q: str = "", status: str = ""):
    stmt = select(Tenant)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Tenant.name.ilike(like), Tenant.slug.ilike(like), Tenant.region.ilike(like)))
    if status in STATUSES:
        stmt = stmt.where(Tenant.active == (status == "active"))
    return stmt.order_by(Tenant.active.desc(), Tenant.id.desc())


def user_counts(tenant_ids: list[int]) -> dict[int, int]:
    """{tenant_id: people holding a membership there}, one query for a page of districts."""
    stmt = (select(Membership.tenant_id, func.count(func.distinct(Membership.user_id)))
            .where(Membership.tenant_id.in_(tenant_ids)).group_by(Membership.tenant_id))
    counts = dict(db.session.execute(stmt).all())
    return {tid: counts.get(tid, 0) for tid in tenant_ids}


def role_counts(tenant_id: int) -> list[tuple[str, int, int]]:
    """[(role label, active memberships, all memberships)] of one district."""
    stmt = (select(Membership.role, Membership.active, func.count(Membership.id))
            .where(Membership.tenant_id == tenant_id).group_by(Membership.role, Membership.active))
    totals: dict[str, list[int]] = {}
    for role, active, n in db.session.execute(stmt).all():
        t = totals.setdefault(role, [0, 0])
        t[1] += n
        if active:
            t[0] += n
    return [(ROLE_LABELS[r], *totals[r]) for r in users.ROLE_ORDER if r in totals]


def district_admins(tenant_id: int) -> list[Membership]:
    stmt = (select(Membership).where(Membership.tenant_id == tenant_id, Membership.role == "district_admin")
            .options(joinedload(Membership.user)).order_by(Membership.id))
    return list(db.session.execute(stmt).scalars())


def account_problems(username: str, display_name: str, password: str) -> dict[str, str]:
    errors = {}
    for field, problem in (("admin_username", users.username_problem(username)),
                           ("admin_display_name", None if (display_name or "").strip() else "请填写姓名"),
                           ("admin_password", password_problem(password or ""))):
        if problem:
            errors[field] = problem
    return errors


def add_district_admin(tenant: Tenant, *, username: str, display_name: str, password: str, phone: str = ""):
    """A new district_admin account for `tenant`. (user, {}) or (None, {field: message})."""
    errors = account_problems(username, display_name, password)
    if errors:
        return None, errors
    # Inside the district's scope, so the account's own audit event belongs to that district too.
    with tenant_scope(tenant.id):
        user, errs = users.create_account(tenant.id, username=username, display_name=display_name,
                                          password=password, phone=phone, role="district_admin")
    return user, {f"admin_{k}": v for k, v in errs.items()}


def district_problems(*, name: str, slug: str, username: str, display_name: str, password: str) -> dict[str, str]:
    """{field: message} for everything wrong with a new district and its first admin."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = "请填写区县名称"
    problem = slug_problem(slug)
    if problem:
        errors["slug"] = problem
    errors.update(account_problems(username, display_name, password))
    return errors


def create_district(*, name: str, slug: str, region: str, username: str, display_name: str,
                    password: str, phone: str = ""):
    """A district with its first administrator, in one unit of work.
    (tenant, {}) or (None, {field: message}); on errors nothing is added to the session."""
    errors = district_problems(name=name, slug=slug, username=username, display_name=display_name,
                               password=password)
    if errors:
        return None, errors
    tenant = Tenant(name=name.strip(), slug=normalise_slug(slug), region=(region or "").strip())
    db.session.add(tenant)
    db.session.flush()  # the id the membership needs
    user, errors = add_district_admin(tenant, username=username, display_name=display_name,
                                      password=password, phone=phone)
    if user is None:  # checked above; only a race could get here
        db.session.rollback()
        return None, errors
    from ..credit.defaults import seed_defaults  # lazy: credit is another area
    with tenant_scope(tenant.id):
        seed_defaults()    # the kinds of credit records and the grading rule the district starts with
    return tenant, {}


def set_tenant_active(tenant: Tenant, active: bool) -> None:
    """Suspend or reactivate a district. Suspension blocks its logins and pages, deletes nothing."""
    tenant.active = active
    db.session.flush()
