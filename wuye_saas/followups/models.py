from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Community, Compound, Firm
from ..tenancy import TenantScoped
from ..timeutil import now

KINDS = {"term_expiry": "业委会任期届满提醒", "interview": "约谈提醒", "exit": "启动退出程序",
         "supervision": "加大抽查频次", "other": "其他"}


class FollowUp(TenantScoped, db.Model):
    """Who must act is the community (or street) of its compound, or the district when none.
    `key` makes creation by jobs idempotent (one follow-up per subject and occasion)."""

    __tablename__ = "follow_up"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committee.id"), index=True)
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    close_note: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    community: Mapped[Community | None] = relationship()
    compound: Mapped[Compound | None] = relationship()
    firm: Mapped[Firm | None] = relationship()

    @property
    def audit_label(self):
        return self.title
