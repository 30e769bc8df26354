from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from ..timeutil import now


class CompoundMonth(TenantScoped, db.Model):
    """One compound's figures for one month, as they stood when taken. Past months are never
    recomputed by the schedule, so history does not change when today's data does; the current
    month is refreshed until it ends. The street/community are copied in, so the history keeps
    the tree as it was."""

    __tablename__ = "compound_month"
    __audit__ = False   # derived figures; the snapshot run itself is audited
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    management_mode: Mapped[str] = mapped_column(String(20))
    households: Mapped[int] = mapped_column(default=0)
    # 三率
    has_committee: Mapped[bool] = mapped_column(default=False)       # a committee whose term covers the day
    committee_members: Mapped[int] = mapped_column(default=0)
    committee_party_members: Mapped[int] = mapped_column(default=0)
    service_covered: Mapped[bool] = mapped_column(default=False)     # 物业服务覆盖
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"))   # serving firm on the day
    party_org_covered: Mapped[bool] = mapped_column(default=False)   # 党的组织覆盖
    party_work_covered: Mapped[bool] = mapped_column(default=False)  # 党的工作覆盖 (incl. instructors)
    # demands received in the month, and those due in it
    demands_received: Mapped[int] = mapped_column(default=0)
    demands_due: Mapped[int] = mapped_column(default=0)
    demands_on_time: Mapped[int] = mapped_column(default=0)
    demands_overdue: Mapped[int] = mapped_column(default=0)
    demands_visited: Mapped[int] = mapped_column(default=0)
    demands_satisfied: Mapped[int] = mapped_column(default=0)
    # bills of the month: resident part due and collected, in 分
    billed_fen: Mapped[int] = mapped_column(BigInteger, default=0)   # sums of a compound's month: BIGINT
    collected_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # publications due in the month and published on time
    publicity_due: Mapped[int] = mapped_column(default=0)
    publicity_on_time: Mapped[int] = mapped_column(default=0)
    # latest published evaluation result on the day (filled once evaluations exist)
    stars: Mapped[int | None]
    list_kind: Mapped[str | None] = mapped_column(String(10))
    taken_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "month", "compound_id"),
                      Index("ix_compound_month_tenant_month_street", "tenant_id", "month", "street_id"))


class NodeMonth(TenantScoped, db.Model):
    """The CompoundMonth rows of one month summed for one node — the district (node_id 0), a
    street or a community (rollup.py writes them with each snapshot; the dashboard reads them).
    The columns are the dashboard's sums; `distribution` counts the compounds by 管理模式, stars
    and list ({"modes": {mode: n}, "stars": {"5": n}, "lists": {"red": n}})."""

    __tablename__ = "node_month"
    __audit__ = False   # derived figures, as CompoundMonth
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    level: Mapped[str] = mapped_column(String(10))       # district, street, community
    node_id: Mapped[int]                                 # street or community id; 0 for the district
    street_id: Mapped[int | None]                        # a street's own id, a community's street
    compounds: Mapped[int] = mapped_column(default=0)
    committee: Mapped[int] = mapped_column(default=0)
    service: Mapped[int] = mapped_column(default=0)
    party: Mapped[int] = mapped_column(default=0)
    party_work: Mapped[int] = mapped_column(default=0)
    no_service: Mapped[int] = mapped_column(default=0)
    households: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)
    due: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    visited: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    billed: Mapped[int] = mapped_column(BigInteger, default=0)
    collected: Mapped[int] = mapped_column(BigInteger, default=0)
    pub_due: Mapped[int] = mapped_column(default=0)
    pub_on_time: Mapped[int] = mapped_column(default=0)
    distribution: Mapped[dict] = mapped_column(JSON, default=dict)
    taken_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("tenant_id", "level", "node_id", "month"),
                      Index("ix_node_month_tenant_month_level_street", "tenant_id", "month", "level", "street_id"))
