"""Notifications: the inbox (one row per membership and thing waiting), each person's channel
preferences, the district's message templates and provider settings, and the outbox the job
queue sends from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from ..timeutil import now

CHANNELS = {"sms": "短信", "wechat": "微信模板消息"}
PROVIDERS = {"log": "仅记录（不实际发送）", "aliyun": "阿里云短信", "wechat": "微信公众号模板消息"}
OUTBOX_STATUSES = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "retry": "等待重试",
                   "failed": "发送失败", "uncertain": "状态不明（未自动重发）"}


class InboxItem(TenantScoped, db.Model):
    """Something waiting for one membership. `key` is unique per membership: the same event or
    reminder never lands twice."""

    __tablename__ = "inbox_item"
    __audit__ = False   # derived from an audited change (or a reminder), written with it
    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(String(30), default="")
    subject_id: Mapped[int | None]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("domain_event.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    read_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("membership_id", "key"),
                      Index("ix_inbox_item_unread", "membership_id", "read_at"))

    membership = relationship("Membership")


class NotifyPreference(TenantScoped, db.Model):
    """Which kinds of inbox items also go to this membership by SMS or WeChat."""

    __tablename__ = "notify_preference"
    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"), unique=True)
    sms_kinds: Mapped[list] = mapped_column(JSON, default=list)
    wechat_kinds: Mapped[list] = mapped_column(JSON, default=list)
    phone: Mapped[str] = mapped_column(String(20), default="")        # empty: the account's phone
    wechat_openid: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class MessageTemplate(TenantScoped, db.Model):
    """A district's wording of one kind of message (defaults in notifications.templates)."""

    __tablename__ = "message_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    sms_template_code: Mapped[str] = mapped_column(String(40), default="")   # Aliyun TemplateCode
    wechat_template_id: Mapped[str] = mapped_column(String(64), default="")
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)


class ProviderConfig(TenantScoped, db.Model):
    """How a district sends one channel: the provider, its endpoint and keys (the secret is
    kept server-side and never shown back in full), the rate limit and the quiet hours."""

    __tablename__ = "provider_config"
    __audit_exclude__ = {"secret"}
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    provider: Mapped[str] = mapped_column(String(10), default="log")
    endpoint: Mapped[str] = mapped_column(String(300), default="")
    key_id: Mapped[str] = mapped_column(String(100), default="")       # AccessKeyId / AppID
    secret: Mapped[str] = mapped_column(String(200), default="")       # AccessKeySecret / AppSecret
    sign_name: Mapped[str] = mapped_column(String(40), default="")     # 短信签名
    rate_per_minute: Mapped[int] = mapped_column(default=60)
    quiet_start: Mapped[int] = mapped_column(default=22)    # hour, Asia/Shanghai
    quiet_end: Mapped[int] = mapped_column(default=8)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    __table_args__ = (UniqueConstraint("tenant_id", "channel"),)

    @property
    def secret_hint(self) -> str:
        s = self.secret or ""
        return f"已保存（尾号 {s[-4:]}）" if len(s) >= 8 else ("已保存" if s else "未设置")


class OutboxMessage(TenantScoped, db.Model):
    """One message to send. `idem_key` is unique per district: a message is never written twice.
    The sender marks a row `sending` (committed) before it calls the provider; a row left in
    `sending` by a crash becomes `uncertain` and is not sent again by itself (at most once)."""

    __tablename__ = "outbox_message"
    __audit__ = False   # written with the audited change; the sender's bookkeeping
    id: Mapped[int] = mapped_column(primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(String(500))
    urgent: Mapped[bool] = mapped_column(default=False)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider: Mapped[str] = mapped_column(String(10), default="")
    provider_ref: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "idem_key"),
                      Index("ix_outbox_message_due", "status", "next_at"))

    @property
    def status_label(self) -> str:
        return OUTBOX_STATUSES.get(self.status, self.status)
