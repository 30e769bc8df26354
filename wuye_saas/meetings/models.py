"""Meetings of a community, a street or the district (区级 全区物业管理联席会议), their agenda
items and action items.

An agenda item the meeting cannot settle is escalated one level up: a new item is created at the
next level (`level` "street" or "district", `meeting_id` empty, `escalated_from_id` pointing
back) and waits in that level's 待上会事项 until a meeting of that level takes it on its agenda.
A district item escalated by a street keeps the street (`street_id`), so the street follows it;
a district meeting and the district's own items have no street."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Community, Compound, Department, Street
from ..tenancy import TenantScoped
from ..timeutil import now

KINDS = {"joint": "联席会议", "bench": "板凳会议", "tripartite": "三方项目推进组",
         # 003: 周民情恳谈会、月问题协调会、季工作评监会
         "talk": "民情恳谈会", "coordination": "问题协调会", "review": "工作评监会"}
EVERY = {"week": "每周", "month": "每月", "quarter": "每季度"}
LEVELS = {"community": "社区", "street": "街道", "district": "区级"}
# Where an item goes when a meeting of the level cannot settle it (提交上一级).
UP = {"community": "street", "street": "district"}
UP_LABELS = {"community": "提交街道", "street": "提交区联席会议"}
STATUSES = {"planned": "已安排", "held": "已召开", "published": "纪要已公示"}
PARTIES = {"community": "社区", "committee": "业委会/物管会", "firm": "物业服务企业",
           "party": "党组织/党员", "department": "职能部门", "resident": "居民代表", "other": "其他"}
OUTCOMES = {"pending": "待议", "settled": "已议定", "escalated": "提交街道"}


def outcome_label(item) -> str:
    """The outcome as the item's level says it: a street item escalated goes to the district."""
    if item.outcome == "escalated":
        return UP_LABELS.get(item.level, OUTCOMES["escalated"])
    return OUTCOMES.get(item.outcome, item.outcome)


class Meeting(TenantScoped, db.Model):
    __tablename__ = "meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(10), default="community")
    kind: Mapped[str] = mapped_column(String(12), default="joint")
    title: Mapped[str] = mapped_column(String(100))
    # Empty for a district meeting only (the CHECK below).
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    scheduled_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(10), default="planned")
    minutes: Mapped[str] = mapped_column(Text, default="")
    held_at: Mapped[datetime | None]
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    street: Mapped[Street | None] = relationship()
    community: Mapped[Community | None] = relationship()
    compound: Mapped[Compound | None] = relationship()
    __table_args__ = (CheckConstraint("level = 'district' OR street_id IS NOT NULL", name="ck_meeting_street"),)
    attendees: Mapped[list["MeetingAttendee"]] = relationship(back_populates="meeting",
                                                               order_by="MeetingAttendee.id")
    agenda: Mapped[list["AgendaItem"]] = relationship(back_populates="meeting", order_by="AgendaItem.id",
                                                      foreign_keys="AgendaItem.meeting_id")
    actions: Mapped[list["ActionItem"]] = relationship(back_populates="meeting", order_by="ActionItem.id")

    @property
    def audit_label(self):
        return self.title

    @property
    def convener(self) -> str:
        """Who calls it: the community, the street, or the district's joint meeting."""
        if self.community is not None:
            return self.community.name
        if self.street is not None:
            return self.street.name
        return "区物业管理联席会议"


class MeetingAttendee(TenantScoped, db.Model):
    __tablename__ = "meeting_attendee"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    party: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(40))
    organisation: Mapped[str] = mapped_column(String(100), default="")
    present: Mapped[bool | None]

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")


class AgendaItem(TenantScoped, db.Model):
    __tablename__ = "agenda_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    # The level of the meeting it is (or waits to be) on: community, street or district.
    level: Mapped[str] = mapped_column(String(10), default="community", server_default="community")
    # The street it came from; empty only for the district's own items.
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demand.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    decision: Mapped[str] = mapped_column(Text, default="")
    escalated_from_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), unique=True)

    meeting: Mapped[Meeting | None] = relationship(back_populates="agenda", foreign_keys=[meeting_id])
    escalated_from: Mapped["AgendaItem | None"] = relationship(remote_side=[id])
    __table_args__ = (CheckConstraint("level = 'district' OR street_id IS NOT NULL", name="ck_agenda_item_street"),)

    @property
    def audit_label(self):
        return self.title


class ActionItem(TenantScoped, db.Model):
    __tablename__ = "action_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    task: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(60))
    owner_party: Mapped[str] = mapped_column(String(12), default="other")
    # An action item of a department (owner_party "department") names it: its accounts close it.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    due_on: Mapped[date]
    done_on: Mapped[date | None]
    done_note: Mapped[str] = mapped_column(Text, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="actions")
    department: Mapped[Department | None] = relationship()

    @property
    def audit_label(self):
        return self.task


class MeetingCadence(TenantScoped, db.Model):
    """How often a kind of meeting must be held at a level (001: 社区 1+3+N 联席会议 每月, 街道
    每季度; 003: 周民情恳谈会、月问题协调会、季工作评监会). meetings/cadence.py measures it."""

    __tablename__ = "meeting_cadence"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    every: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    __table_args__ = (UniqueConstraint("tenant_id", "level", "kind"),)

    @property
    def audit_label(self):
        return f"{LEVELS.get(self.level, self.level)}{KINDS.get(self.kind, self.kind)}{EVERY.get(self.every, '')}"
