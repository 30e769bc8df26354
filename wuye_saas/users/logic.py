"""A district's accounts and memberships: plain functions, no request in them.

Functions only flush; the caller commits once (one transaction per user action). Every check
that matters for safety (scope belongs to this district, username free, password strength)
lives here, so a form posted without JavaScript or by hand is held to the same rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..audit import record_event
from ..auth import sessions
from ..auth.logic import password_problem
from ..auth.models import ROLE_LABELS, ROLE_SCOPE, Membership, User, scope_loaded
from ..extensions import db
from ..org.models import Community, Compound, Department, Firm, Grid, Street
from ..tenancy import system_scope

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,60}$")

# The order a district admin meets the roles in: most accounts are street/community/firm staff.
ROLE_ORDER = ["street_staff", "community_staff", "grid_worker", "firm_manager", "firm_staff", "committee_member",
              "department_staff", "assessor", "district_admin"]


@dataclass(frozen=True)
class ScopeKind:
    model: type
    field: str   # Membership column and form field
    noun: str    # 街道 / 社区 / 物业企业 / 小区


SCOPES = {
    "street": ScopeKind(Street, "street_id", "街道"),
    "community": ScopeKind(Community, "community_id", "社区"),
    "firm": ScopeKind(Firm, "firm_id", "物业企业"),
    "compound": ScopeKind(Compound, "compound_id", "小区"),
    "grid": ScopeKind(Grid, "grid_id", "网格"),
    "department": ScopeKind(Department, "department_id", "职能部门"),
}
SCOPE_FIELDS = [k.field for k in SCOPES.values()]


def scope_kind(role: str | None) -> ScopeKind | None:
    kind = ROLE_SCOPE.get(role or "")
    return SCOPES[kind] if kind else None


# --- lookups -----------------------------------------------------------------------------

def find_user(username: str) -> User | None:
    """Usernames are unique regardless of case (`Zhang` and `zhang` would confuse people)."""
    name = (username or "").strip().lower()
    return db.session.execute(select(User).where(func.lower(User.username) == name)).scalar_one_or_none()


def user_in_tenant(user_id: int, tenant_id: int, where=None) -> User | None:
    """The user if they hold a membership in this district (and match `where`, a scope filter)."""
    here = select(Membership.user_id).where(Membership.tenant_id == tenant_id)
    stmt = select(User).where(User.id == user_id, User.id.in_(here))
    if where is not None:
        stmt = stmt.where(where)
    return db.session.execute(stmt).scalar_one_or_none()


def _with_scope(stmt):
    return stmt.options(*scope_loaded())


def memberships_here(user_ids: list[int], tenant_id: int) -> dict[int, list[Membership]]:
    """{user_id: memberships in this district}, one query for a whole page of users."""
    stmt = _with_scope(select(Membership).where(Membership.user_id.in_(user_ids),
                                                 Membership.tenant_id == tenant_id)
                       .order_by(Membership.id))
    out: dict[int, list[Membership]] = {uid: [] for uid in user_ids}
    for m in db.session.execute(stmt).scalars():
        out[m.user_id].append(m)
    return out


def has_other_districts(user_id: int, tenant_id: int) -> bool:
    """Whether the account is shared with another district (looks across tenants on purpose)."""
    with system_scope():
        stmt = select(Membership.id).where(Membership.user_id == user_id, Membership.tenant_id != tenant_id)
        return db.session.execute(stmt.limit(1)).first() is not None


def user_list_query(tenant_id: int, q: str = "", role: str = "", status: str = ""):
    """People with a membership in this district, searched and filtered."""
    here = select(Membership.user_id).where(Membership.tenant_id == tenant_id)
    stmt = select(User).where(User.id.in_(here))
    if role in ROLE_LABELS:
        stmt = stmt.where(User.id.in_(here.where(Membership.role == role)))
    active_here = here.where(Membership.active)
    if status == "active":
        stmt = stmt.where(User.active, User.id.in_(active_here))
    elif status == "disabled":
        stmt = stmt.where(or_(~User.active, User.id.not_in(active_here)))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like), User.phone.ilike(like)))
    return stmt.order_by(User.id.desc())


def status_label(user: User, memberships: list[Membership]) -> str:
    if not user.active:
        return "账号已停用"
    return "正常" if any(m.active for m in memberships) else "已停用"


def scope_options(role: str | None, tenant_id: int) -> list[tuple[int, str]]:
    """[(id, label)] of this district's records the role can be scoped to."""
    kind = scope_kind(role)
    if kind is None:
        return []
    if kind.model is Community:
        stmt = (select(Community).join(Street).where(Community.tenant_id == tenant_id)
                .options(joinedload(Community.street)).order_by(Street.name, Community.name))
        return [(c.id, f"{c.street.name} · {c.name}") for c in db.session.execute(stmt).scalars()]
    if kind.model is Compound:
        stmt = (select(Compound).join(Community).where(Compound.tenant_id == tenant_id)
                .options(joinedload(Compound.community)).order_by(Community.name, Compound.name))
        return [(c.id, f"{c.community.name} · {c.name}") for c in db.session.execute(stmt).scalars()]
    if kind.model is Grid:
        stmt = (select(Grid).join(Community).where(Grid.tenant_id == tenant_id)
                .options(joinedload(Grid.community)).order_by(Community.name, Grid.name))
        return [(g.id, f"{g.community.name} · {g.name}") for g in db.session.execute(stmt).scalars()]
    model = kind.model
    stmt = select(model).where(model.tenant_id == tenant_id).order_by(model.name)
    return [(o.id, o.name) for o in db.session.execute(stmt).scalars()]


# --- checks ------------------------------------------------------------------------------

def username_problem(username: str) -> str | None:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        return "用户名为 3–60 位英文字母、数字或 - _ . 符号"
    if find_user(username) is not None:
        return "该用户名已被使用，请换一个"
    return None


def role_problem(role: str | None) -> str | None:
    return None if role in ROLE_LABELS else "请选择有效的角色"


def scope_problem(role: str, scope_id: int | None, tenant_id: int) -> str | None:
    """A role that needs a scope must name a record of THIS district (ids are guessable)."""
    kind = scope_kind(role)
    if kind is None:
        return None
    if not scope_id:
        return f"请选择所属{kind.noun}"
    model = kind.model
    found = db.session.execute(select(model.id).where(model.id == scope_id, model.tenant_id == tenant_id)).first()
    return None if found else f"所选{kind.noun}不存在或不属于本区"


def _membership_problems(tenant_id: int, role: str, scope_id: int | None) -> dict[str, str]:
    problem = role_problem(role)
    if problem:
        return {"role": problem}
    problem = scope_problem(role, scope_id, tenant_id)
    return {scope_kind(role).field: problem} if problem else {}


def _new_membership(user_id: int, tenant_id: int, role: str, scope_id: int | None, is_chair: bool) -> Membership:
    m = Membership(user_id=user_id, tenant_id=tenant_id, role=role,
                   is_chair=role == "committee_member" and bool(is_chair))
    kind = scope_kind(role)
    if kind is not None:
        setattr(m, kind.field, scope_id)
    db.session.add(m)
    return m


# --- operations --------------------------------------------------------------------------

def account_problems(tenant_id: int, *, username: str, display_name: str, password: str, role: str,
                     scope_id: int | None) -> dict[str, str]:
    """{field: message} for everything wrong with a new account and its first membership."""
    errors = {}
    for field, problem in (("username", username_problem(username)),
                           ("display_name", None if (display_name or "").strip() else "请填写姓名"),
                           ("password", password_problem(password or ""))):
        if problem:
            errors[field] = problem
    errors.update(_membership_problems(tenant_id, role, scope_id))
    return errors


def membership_problems(tenant_id: int, *, username: str, role: str, scope_id: int | None) -> dict[str, str]:
    """{field: message} for a role given to an existing account (before it is written)."""
    user = find_user(username)
    errors = {}
    if user is None:
        errors["username"] = "没有该用户名的账号；新人员请使用“新建账号”"
    elif not user.active:
        errors["username"] = "该账号已被平台停用，不能添加角色"
    errors.update(_membership_problems(tenant_id, role, scope_id))
    if errors or user is None:
        return errors
    kind = scope_kind(role)
    same = select(Membership).where(Membership.user_id == user.id, Membership.tenant_id == tenant_id,
                                    Membership.role == role)
    if kind is not None:
        same = same.where(getattr(Membership, kind.field) == scope_id)
    existing = db.session.execute(same.limit(1)).scalar_one_or_none()
    if existing is not None:
        errors["role"] = "该账号在本区已有相同的角色" + ("" if existing.active else "（已停用，可在账号详情中启用）")
    return errors


def create_account(tenant_id: int, *, username: str, display_name: str, password: str, role: str,
                   scope_id: int | None = None, is_chair: bool = False, phone: str = ""):
    """(user, {}) or (None, {field: message}); on errors nothing is added to the session."""
    errors = account_problems(tenant_id, username=username, display_name=display_name,
                              password=password, role=role, scope_id=scope_id)
    if errors:
        return None, errors
    user = User(username=username.strip(), display_name=display_name.strip(), phone=(phone or "").strip())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()  # the id the membership needs
    _new_membership(user.id, tenant_id, role, scope_id, is_chair)
    db.session.flush()
    return user, {}


def add_membership(tenant_id: int, *, username: str, role: str, scope_id: int | None = None,
                   is_chair: bool = False):
    """Give an existing account a (further) role in this district; its password is untouched.
    (membership, {}) or (None, {field: message})."""
    errors = membership_problems(tenant_id, username=username, role=role, scope_id=scope_id)
    if errors:
        return None, errors
    m = _new_membership(find_user(username).id, tenant_id, role, scope_id, is_chair)
    db.session.flush()
    return m, {}


def set_membership_active(membership: Membership, active: bool, acting_membership_id: int | None) -> str | None:
    """Enable or disable one membership (never delete: its history stays). Error or None."""
    if not active and membership.id == acting_membership_id:
        return "不能停用您当前正在使用的身份，请由其他区级管理员操作"
    membership.active = active
    db.session.flush()
    return None


def reset_refusal(user: User, tenant_id: int) -> str | None:
    """Why this district may not reset the user's password, or None when it may."""
    if user.is_platform_admin:
        return "这是平台管理员账号，不能由区县重置密码"
    if has_other_districts(user.id, tenant_id):
        return "该账号同时在其他区县任职，为避免影响其他区县，不能由本区重置密码，请联系平台管理员"
    return None


def reset_password(user: User, tenant_id: int, password: str) -> dict[str, str]:
    """Set a new initial password; {} on success, else {field: message}."""
    refusal = reset_refusal(user, tenant_id)
    if refusal:
        return {"password": refusal}
    problem = password_problem(password or "")
    if problem:
        return {"password": problem}
    user.set_password(password)
    sessions.revoke(user.id)   # whoever knew the old password is out
    db.session.flush()
    return {}


def sign_out_everywhere(user: User) -> int:
    """End every open session of the user (a lost phone, a shared computer): how many. Audited,
    since the login sessions themselves are not."""
    n = sessions.revoke(user.id)
    record_event("update", "user", f"退出全部登录：{user.audit_label}", {"sessions_ended": n}, entity_id=user.id)
    return n
