"""API clients: a district's machine accounts. The secret is shown once and kept only as a hash;
a client acts inside its district, its scopes and (optionally) one firm."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from ..timeutil import now

SCOPES = {
    "demands:write": "登记诉求（12345 工单转入）",
    "demands:read": "查询诉求状态与办理过程",
    "register:read": "读取基础信息（小区、物业企业、业委会、住户）",
    "indicators:read": "读取三率等统计指标",
    "evaluation:read": "读取已发布的考核结果与红黑榜",
    "fees:write": "登记缴费（仅所代表企业服务的小区）",
}


class ApiClient(TenantScoped, db.Model):
    __tablename__ = "api_client"
    __audit_exclude__ = {"secret_hash"}
    __audit_derived__ = {"last_used_at"}   # bumped by every call; the calls themselves are audited
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)  # acts for this firm
    key_id: Mapped[str] = mapped_column(String(32), unique=True)    # public half of the token
    secret_hash: Mapped[str] = mapped_column(String(128))           # sha256 of the random secret
    rate_per_minute: Mapped[int] = mapped_column(default=120)
    created_at: Mapped[datetime] = mapped_column(default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    rotated_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    firm = relationship("Firm")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiRequest(TenantScoped, db.Model):
    """A write an API client asked for under its own key (a 12345 work-order number, a receipt
    number) and the record it made: a repeat of the key answers with that record. The unique
    key makes two concurrent calls with the same key create one record."""

    __tablename__ = "api_request"
    __audit__ = False   # written with the audited demand or payment it points to
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id"))
    kind: Mapped[str] = mapped_column(String(20))          # "demand", "payment"
    key: Mapped[str] = mapped_column(String(60))           # the caller's number
    object_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "client_id", "kind", "key"),)
