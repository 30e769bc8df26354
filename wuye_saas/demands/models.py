"""Demands and their timelines. Every step is a DemandEvent; the Demand row holds the current
state so lists and the dashboard read one table."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Department, Firm, Household
from ..tenancy import TenantScoped
from ..timeutil import now

# The built-in channels: their codes are data (stored on demands), their names fixed. The district
# adds its own (DemandChannel, code "c<id>") and may switch built-in staff channels off.
CHANNELS = {"hotline_12345": "12345 热线", "petition": "信访", "online": "网上（居民自助）",
            "visit": "上门", "patrol": "网格巡查"}
ONLINE = "online"                  # the residents' self-service form: never switched off
HOTLINE_12345 = "hotline_12345"    # the channel whose monthly volume the dashboard shows
URGENCIES = {"normal": "一般", "urgent": "紧急"}
STATUSES = {"new": "待派单", "dispatched": "已派单", "accepted": "处理中", "resolved": "已办结待回访",
            "closed": "已关闭"}
ASSIGNEE_KINDS = {"firm": "物业服务企业", "volunteer": "党员志愿者", "department": "职能部门"}
SATISFACTION = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
EVENT_KINDS = {"submitted": "受理", "dispatched": "派单", "accepted": "接单", "resolved": "办结",
               "visited": "回访", "reopened": "重新办理", "closed": "关闭", "escalated": "逾期升级街道",
               "supervised": "街道督办", "note": "备注"}


class DemandCategory(TenantScoped, db.Model):
    """A district-configured category with its deadline (hours) for normal and urgent demands."""

    __tablename__ = "demand_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    deadline_hours: Mapped[int] = mapped_column(default=72)
    urgent_deadline_hours: Mapped[int] = mapped_column(default=24)
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(default=0)
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    @property
    def audit_label(self):
        return self.name


class DemandChannel(TenantScoped, db.Model):
    """A channel of the district: its own (code "c<id>", name set by the district) or the
    district's setting of a built-in one (code of CHANNELS, fixed name, on or off)."""

    __tablename__ = "demand_channel"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(default=0)
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    @property
    def builtin(self) -> bool:
        return self.code in CHANNELS

    @property
    def audit_label(self):
        return self.name


class Demand(TenantScoped, db.Model):
    """One resident need or complaint (诉求). `deadline_at` is fixed at intake from the category's
    SLA; `escalated_at` is set once by the scheduled job when the deadline passes unresolved."""

    __tablename__ = "demand"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))            # 诉求编号 SQ20261124-0001
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("demand_category.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"), index=True)
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    received_at: Mapped[datetime] = mapped_column(default=now)
    deadline_at: Mapped[datetime]
    assignee_kind: Mapped[str | None] = mapped_column(String(12))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    assignee_name: Mapped[str] = mapped_column(String(60), default="")   # volunteer / department
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[str | None] = mapped_column(String(12))
    escalated_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    __table_args__ = (UniqueConstraint("tenant_id", "number"),
                      Index("ix_demand_open_deadline", "status", "deadline_at"),
                      # the dashboard's 12345 volume per month: a range of this index, not every demand
                      Index("ix_demand_channel_received_at", "tenant_id", "channel", "received_at"),
                      # a street's or a community's: a range per compound (and a compound's demands)
                      Index("ix_demand_compound_channel_received_at", "compound_id", "channel", "received_at"),
                      # the list's newest first: twenty read from the index's end, not the district sorted
                      Index("ix_demand_tenant_received_at", "tenant_id", "received_at", "id"),
                      # a street's escalated demands (its to-do card): a few a compound, not every demand
                      Index("ix_demand_escalated", "compound_id", postgresql_where=text("escalated_at IS NOT NULL"),
                            sqlite_where=text("escalated_at IS NOT NULL")))

    compound: Mapped[Compound] = relationship()
    category: Mapped[DemandCategory] = relationship()
    firm: Mapped[Firm | None] = relationship()
    department: Mapped[Department | None] = relationship()
    household: Mapped[Household | None] = relationship()
    events: Mapped[list["DemandEvent"]] = relationship(back_populates="demand", order_by="DemandEvent.id")

    @property
    def audit_label(self):
        return f"{self.number} {self.title}"


class DemandEvent(TenantScoped, db.Model):
    """One step on a demand's timeline; never edited."""

    __tablename__ = "demand_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demand.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    demand: Mapped[Demand] = relationship(back_populates="events")
    photos: Mapped[list["DemandPhoto"]] = relationship(back_populates="event")


class DemandPhoto(TenantScoped, db.Model):
    """A photo of a step (the resolution's evidence), stored outside static/."""

    __tablename__ = "demand_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("demand_event.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]

    event: Mapped[DemandEvent] = relationship(back_populates="photos")


class DemandCounter(TenantScoped, db.Model):
    """The last 诉求编号 sequence given out per district and day. On PostgreSQL `next_number` takes
    the next one in a short transaction of its own, so concurrent intakes (12345 through the API,
    staff on the pages) do not wait for each other's whole transaction; a number whose intake then
    fails is not given again (a gap, as a hotline's own numbering has)."""

    __tablename__ = "demand_counter"
    __audit__ = False   # derived: the demand that took the number is audited
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    last: Mapped[int]
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)
