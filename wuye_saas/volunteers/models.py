"""Volunteers of a community: who they are (在职党员 reporting to the community, the building they
look after), their teams, the tasks they claim and finish, and the points they exchange."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Building, Community, Compound
from ..tenancy import TenantScoped
from ..timeutil import now

TASK_KINDS = {"task": "志愿服务任务", "project": "服务项目", "demand": "党员接单"}
TASK_STATES = {"open": "待认领", "claimed": "已认领", "done": "已完成"}
LEADER_ROLES = {"building": "楼栋长", "unit": "单元长", "party_household": "党员中心户"}


class VolunteerTeam(TenantScoped, db.Model):
    """志愿服务队 of a community (党员志愿服务队, 青少年服务队 …)."""

    __tablename__ = "volunteer_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    leader: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    __table_args__ = (UniqueConstraint("tenant_id", "community_id", "name"),)

    community: Mapped[Community] = relationship()


class Volunteer(TenantScoped, db.Model):
    """A party member or volunteer registered with a community. 在职党员 report (双报到) to the
    community where they live with a date; a member may look after a building (包楼道)."""

    __tablename__ = "volunteer"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    organisation: Mapped[str] = mapped_column(String(100), default="")   # 工作单位 / 所在党组织
    is_party_member: Mapped[bool] = mapped_column(default=False)
    reported_on: Mapped[date | None]          # 在职党员到社区报到
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True)
    area_note: Mapped[str] = mapped_column(String(60), default="")      # 楼道、单元
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    community: Mapped[Community] = relationship()
    team: Mapped[VolunteerTeam | None] = relationship()
    building: Mapped[Building | None] = relationship()

    @property
    def phone_masked(self) -> str:
        p = self.phone or ""
        return p[:3] + "****" + p[-4:] if len(p) >= 11 else p


class VolunteerTask(TenantScoped, db.Model):
    """A task or project of the community that a volunteer (or a team) claims (认领) and finishes;
    a demand dispatched to a volunteer (党员接单) is one too. Hours in tenths, points whole."""

    __tablename__ = "volunteer_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="task")
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demand.id", ondelete="SET NULL"))
    claimed_on: Mapped[date | None]
    done_on: Mapped[date | None]
    hours_tenths: Mapped[int] = mapped_column(default=0)
    points: Mapped[int] = mapped_column(default=0)
    result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "demand_id"),)

    community: Mapped[Community] = relationship()
    compound: Mapped[Compound | None] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship()
    team: Mapped[VolunteerTeam | None] = relationship()

    @property
    def audit_label(self):
        return self.title


class PointExchange(TenantScoped, db.Model):
    """积分兑换: points a volunteer spent, on what, recorded by community staff."""

    __tablename__ = "point_exchange"
    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"), index=True)
    points: Mapped[int]
    item: Mapped[str] = mapped_column(String(100))
    on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=now)

    volunteer: Mapped[Volunteer] = relationship()

    @property
    def audit_label(self):
        return self.item


class BuildingLeader(TenantScoped, db.Model):
    """楼栋长、单元长、党员中心户 of a building (000, 001): who residents of a stairwell turn to.
    Kept by the community; the committee of the compound sees them."""

    __tablename__ = "building_leader"
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)   # the building's
    role: Mapped[str] = mapped_column(String(20))
    unit_no: Mapped[str] = mapped_column(String(20), default="")        # 单元 for 单元长 / 党员中心户
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20), default="")
    is_party_member: Mapped[bool] = mapped_column(default=False)
    since: Mapped[date | None]

    building: Mapped[Building] = relationship()
    compound: Mapped[Compound] = relationship()

    @property
    def phone_masked(self) -> str:
        p = self.phone or ""
        return p[:3] + "****" + p[-4:] if len(p) >= 11 else p
