"""Webhooks: an API client's subscriptions to domain events and the deliveries made for them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from ..timeutil import now

DELIVERY_STATUSES = {"pending": "待发送", "sending": "发送中", "succeeded": "成功", "retry": "等待重试",
                     "failed": "已放弃"}


class WebhookSubscription(TenantScoped, db.Model):
    __tablename__ = "webhook_subscription"
    __audit_exclude__ = {"secret"}
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    # The signing secret: HMAC needs it, so it is kept (not hashed), shown once, never again.
    secret: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    client = relationship("ApiClient")


class WebhookDelivery(TenantScoped, db.Model):
    """One event for one subscription. The body is fixed when it is created, so every attempt
    sends (and signs) the same bytes; `uid` is the X-Wuye-Delivery header receivers dedupe on."""

    __tablename__ = "webhook_delivery"
    __audit__ = False   # written with the audited change; the sender's bookkeeping
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("domain_event.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]
    response_code: Mapped[int | None]
    response_excerpt: Mapped[str] = mapped_column(String(300), default="")
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    delivered_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),
                      Index("ix_webhook_delivery_due", "status", "next_at"),
                      Index("ix_webhook_delivery_sub", "subscription_id", "id"))

    subscription = relationship("WebhookSubscription")

    @property
    def status_label(self) -> str:
        return DELIVERY_STATUSES.get(self.status, self.status)
