"""A community's 四项清单 for a year: each item with its owner (a unit of the 1+3+N), deadline and
state, and the progress reports that moved it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Community, Compound, Firm
from ..tenancy import TenantScoped
from ..timeutil import now

KINDS = {"need": "需求清单", "resource": "资源清单", "service": "服务清单", "duty": "责任清单"}
STATES = {"planned": "未开始", "doing": "推进中", "done": "已完成", "dropped": "已取消"}
OPEN_STATES = ("planned", "doing")
# 1+3+N: the community party organisation; 居委会, 业委会 and the firm; and the N others.
OWNER_KINDS = {"party": "社区党组织", "residents": "社区居委会", "committee": "业委会（物管会）",
               "firm": "物业服务企业", "department": "职能部门", "unit": "驻区单位",
               "volunteers": "志愿服务队", "social": "社会组织", "other": "其他"}


class FourListItem(TenantScoped, db.Model):
    """One item of a community's 四项清单 for a year. A 需求 item may come from a demand or a
    meeting's agenda item (once each); `priority` marks the year's 为民服务项目 / 攻坚项目."""

    __tablename__ = "four_list_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    owner_kind: Mapped[str] = mapped_column(String(12))
    owner_name: Mapped[str] = mapped_column(String(100))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    due_on: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(10), default="planned", index=True)
    progress: Mapped[int] = mapped_column(default=0)          # per cent, 0–100
    priority: Mapped[bool] = mapped_column(default=False)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demand.id", ondelete="SET NULL"))
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    __table_args__ = (UniqueConstraint("tenant_id", "demand_id"), UniqueConstraint("tenant_id", "agenda_item_id"))

    community: Mapped[Community] = relationship()
    compound: Mapped[Compound | None] = relationship()
    firm: Mapped[Firm | None] = relationship()
    updates: Mapped[list["FourListUpdate"]] = relationship(
        back_populates="item", order_by="FourListUpdate.id.desc()", cascade="all, delete-orphan")

    @property
    def audit_label(self):
        return self.title

    def overdue(self, day: date) -> bool:
        return self.state in OPEN_STATES and self.due_on is not None and self.due_on < day


class FourListUpdate(TenantScoped, db.Model):
    """A progress report: who said what, and the state and per cent it left the item in."""

    __tablename__ = "four_list_update"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("four_list_item.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    progress: Mapped[int]
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(100), default="")   # name and unit as shown

    item: Mapped[FourListItem] = relationship(back_populates="updates")
