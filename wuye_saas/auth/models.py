"""People and what they may act as: a User holds Memberships (tenant, role, scope)."""
from __future__ import annotations

from datetime import datetime
from hashlib import sha256

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

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

    def get_id(self) -> str:
        return session_value(self.id, self.password_hash)

    def set_password(self, password: str) -> None:
        # werkzeug's default is scrypt, a memory-hard KDF.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Membership(TenantScoped, db.Model):
    __tablename__ = "membership"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    is_chair: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    user: Mapped[User] = relationship(backref="memberships")
    tenant: Mapped[Tenant] = relationship()
    street = relationship("Street")
    community = relationship("Community")
    firm = relationship("Firm")
    compound = relationship("Compound")

    @property
    def role_label(self) -> str:
        label = ROLE_LABELS.get(self.role, self.role)
        return label + ("（主任）" if self.role == "committee_member" and self.is_chair else "")

    @property
    def scope_label(self) -> str:
        scope = self.street or self.community or self.firm or self.compound
        return scope.name if scope is not None else "全区"

    @property
    def audit_label(self):
        # Only already-loaded relationships: a lazy load in the middle of a flush is unsafe.
        for kind, label in (("street", "街道"), ("community", "社区"), ("firm", "物业企业"), ("compound", "小区")):
            scope_id = getattr(self, f"{kind}_id")
            if scope_id:
                scope = self.__dict__.get(kind)
                return f"{self.role_label} · {scope.name if scope is not None else f'{label}#{scope_id}'}"
        return f"{self.role_label} · 全区"


def session_value(user_id: int, password_hash: str) -> str:
    """What the session remembers of its user: the id and a fingerprint of the password, so
    changing the password ends every other session of this person (see session_user_id)."""
    return f"{user_id}:{sha256(password_hash.encode()).hexdigest()[:16]}"


def session_user_id(value) -> int | None:
    """The user id in a session's Flask-Login value ("<id>:<fingerprint>"), None if malformed."""
    head = str(value or "").partition(":")[0]
    return int(head) if head.isdigit() else None


def scope_loaded():
    """Loader options so a membership's district and scope need no later (tenant-filtered)
    lazy load: memberships of several districts are shown side by side."""
    from sqlalchemy.orm import joinedload
    return [joinedload(Membership.tenant), joinedload(Membership.street),
            joinedload(Membership.community), joinedload(Membership.firm),
            joinedload(Membership.compound)]


class LoginAttempt(db.Model):
    """Failed logins, for rate limiting per username and per address."""

    __tablename__ = "login_attempt"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=now)

    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),
                      Index("ix_login_attempt_ip_at", "ip", "at"))
