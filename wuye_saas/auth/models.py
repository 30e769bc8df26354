"""People and what they may act as: a User holds Memberships (tenant, role, scope)."""
from __future__ import annotations

from datetime import datetime
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash

from ..extensions import db
from ..tenancy import Tenant, TenantScoped
from ..timeutil import now

ROLE_LABELS = {
    "district_admin": "区级管理员",
    "street_staff": "街道工作人员",
    "community_staff": "社区工作人员",
    "firm_manager": "物业企业负责人",
    "firm_staff": "物业企业员工",
    "committee_member": "业委会成员",
    "assessor": "第三方测评机构",
    "grid_worker": "网格员",
    "department_staff": "职能部门工作人员",
}

# Which scope each role must carry (None: the whole district).
ROLE_SCOPE = {
    "district_admin": None,
    "street_staff": "street",
    "community_staff": "community",
    "firm_manager": "firm",
    "firm_staff": "firm",
    "committee_member": "compound",
    "assessor": None,
    "grid_worker": "grid",
    "department_staff": "department",
}


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __audit_exclude__ = {"password_hash"}
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_login_at: Mapped[datetime | None]

    @property
    def audit_label(self):
        return f"{self.display_name}（{self.username}）"

    @property
    def is_active(self):  # Flask-Login: a disabled user cannot log in
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)


# Passwords: argon2id with OWASP's parameters (Password Storage Cheat Sheet: 19 MiB, 2
# passes, 1 lane), set by ARGON2_* in config.py. Hashes of other parameters or of werkzeug's
# pbkdf2/scrypt (before argon2id) still verify and are rehashed at the next login (needs_rehash).

@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher_for(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    if stored.startswith("$argon2"):
        try:
            return _hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)   # werkzeug's pbkdf2/scrypt, from before


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no such user")


def spend_check_time(password: str) -> None:
    """A check against a hash of nobody's: an unknown username costs as long as a real one."""
    verify_password(_dummy_hash(_hasher()), password)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith("$argon2") or _hasher().check_needs_rehash(stored)


class Membership(TenantScoped, db.Model):
    __tablename__ = "membership"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    is_chair: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    user: Mapped[User] = relationship(backref="memberships")
    tenant: Mapped[Tenant] = relationship()
    street = relationship("Street")
    community = relationship("Community")
    firm = relationship("Firm")
    compound = relationship("Compound")
    grid = relationship("Grid")
    department = relationship("Department")

    @property
    def role_label(self) -> str:
        label = ROLE_LABELS.get(self.role, self.role)
        return label + ("（主任）" if self.role == "committee_member" and self.is_chair else "")

    @property
    def scope_label(self) -> str:
        if self.__dict__.get("scope_name") is not None:   # read with the request's first statement (web.py)
            return self.__dict__["scope_name"]
        scope = self.street or self.community or self.firm or self.compound or self.grid or self.department
        return scope.name if scope is not None else "全区"

    @property
    def audit_label(self):
        # Only already-loaded relationships: a lazy load in the middle of a flush is unsafe.
        for kind, label in (("street", "街道"), ("community", "社区"), ("firm", "物业企业"), ("compound", "小区"),
                            ("grid", "网格"), ("department", "职能部门")):
            scope_id = getattr(self, f"{kind}_id")
            if scope_id:
                scope = self.__dict__.get(kind)
                return f"{self.role_label} · {scope.name if scope is not None else f'{label}#{scope_id}'}"
        return f"{self.role_label} · 全区"


def scope_loaded():
    """Loader options so a membership's district and scope need no later (tenant-filtered)
    lazy load: memberships of several districts are shown side by side."""
    from sqlalchemy.orm import joinedload
    return [joinedload(Membership.tenant), joinedload(Membership.street),
            joinedload(Membership.community), joinedload(Membership.firm),
            joinedload(Membership.compound), joinedload(Membership.grid), joinedload(Membership.department)]


class LoginLock(db.Model):
    """Login attempts per username in the current window (auth/logic.count_attempt): counted
    before the password is checked, in one atomic statement."""

    __tablename__ = "login_lock"
    __audit__ = False
    username: Mapped[str] = mapped_column(String(60), primary_key=True)
    failures: Mapped[int]
    since: Mapped[datetime]


class LoginSession(db.Model):
    """One login of one browser: its random id is in the signed session cookie, and every
    request checks this row (web._ACTING, auth.views._load_user), so logging out, a password
    change or an admin's 退出全部登录 ends a copied cookie too. Idle time is kept in the cookie
    (web.session_problem): a GET never writes."""

    __tablename__ = "login_session"
    __audit__ = False   # bookkeeping like LoginLock; revocations by others are audited
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]
