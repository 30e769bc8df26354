"""Owner votes (业主表决, 民法典 第278条) and maintenance-fund applications (维修资金使用申请)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Household
from ..tenancy import TenantScoped
from ..timeutil import now

# Matters of 民法典 第278条; the three needing ≥ 3/4 of participating area and headcount.
MATTERS = {
    "rules": "制定和修改业主大会议事规则",
    "covenant": "制定和修改管理规约",
    "committee": "选举业主委员会或者更换业主委员会成员",
    "hire_firm": "选聘和解聘物业服务企业或者其他管理人",
    "use_fund": "使用建筑物及其附属设施的维修资金",
    "raise_fund": "筹集建筑物及其附属设施的维修资金",
    "rebuild": "改建、重建建筑物及其附属设施",
    "change_use": "改变共有部分的用途或者利用共有部分从事经营活动",
    "other": "有关共有和共同管理权利的其他重大事项",
}
SUPERMAJORITY = {"raise_fund", "rebuild", "change_use"}
VOTE_STATUSES = {"draft": "草稿", "filed": "已报备社区", "publicized": "已公示", "open": "表决中",
                 "closed": "已计票"}
CHOICES = {"agree": "同意", "disagree": "反对", "abstain": "弃权"}
FUND_STATUSES = {"draft": "草稿", "voting": "业主表决中", "community": "社区审核中", "street": "街道审核中",
                 "district": "区物管中心审核中", "approved": "已批准", "returned": "已退回",
                 "rejected": "表决未通过"}
REVIEW_LEVELS = {"community": "社区", "street": "街道", "district": "区物管中心"}


class OwnerVote(TenantScoped, db.Model):
    __tablename__ = "owner_vote"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    matter: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    filed_at: Mapped[datetime | None]           # 重大事项报备 with the community
    publicized_on: Mapped[date | None]
    opens_on: Mapped[date | None]
    closes_on: Mapped[date | None]
    # The count when closed, kept as exact integers (area in 0.01 ㎡) so fractions stay exact.
    total_area_centi: Mapped[int | None]
    total_heads: Mapped[int | None]
    result: Mapped[dict | None] = mapped_column(db.JSON)
    passed: Mapped[bool | None]
    # 表决权登记: the day the roll of units and their owners was fixed (when voting opened).
    roll_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    compound: Mapped[Compound] = relationship()
    ballots: Mapped[list["Ballot"]] = relationship(back_populates="vote")
    items: Mapped[list["VoteItem"]] = relationship(back_populates="vote", order_by="VoteItem.position",
                                                   cascade="all, delete-orphan")


class VoteItem(TenantScoped, db.Model):
    """One question (议题) of a vote, counted on its own with the vote's thresholds: a
    single-question vote has one; a committee election has one per candidate."""

    __tablename__ = "vote_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("owner_vote.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id", ondelete="SET NULL"))
    result: Mapped[dict | None] = mapped_column(db.JSON)
    passed: Mapped[bool | None]
    __table_args__ = (UniqueConstraint("vote_id", "position"),)

    vote: Mapped[OwnerVote] = relationship(back_populates="items")

    @property
    def audit_label(self):
        return self.title


class VoteRoll(TenantScoped, db.Model):
    """The vote's roll, fixed when voting opens: every unit with its area and its owner for
    headcount (`head`: "dev" for the developer's units, "p:<person id>" for an owner group of
    persons linked by ownership, "u:<household id>" for a unit with no owner on record)."""

    __tablename__ = "vote_roll"
    __audit__ = False    # written in bulk at opening; the vote's own row records the opening
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("owner_vote.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    area_centi: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(String(24))
    __table_args__ = (UniqueConstraint("vote_id", "household_id"),)


class Ballot(TenantScoped, db.Model):
    """One exclusive unit's vote. `owner_key` and `developer` record the register's name and
    flag at the time for display; headcount comes from the vote's roll (VoteRoll), by person."""

    __tablename__ = "ballot"
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("owner_vote.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    choice: Mapped[str] = mapped_column(String(10))
    area_centi: Mapped[int]                       # floor area in 0.01 ㎡ (exact)
    owner_key: Mapped[str] = mapped_column(String(60))
    developer: Mapped[bool] = mapped_column(default=False)
    recorded_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("vote_id", "household_id"),)

    vote: Mapped[OwnerVote] = relationship(back_populates="ballots")
    household: Mapped[Household] = relationship()
    choices: Mapped[list["BallotChoice"]] = relationship(back_populates="ballot", cascade="all, delete-orphan")


class BallotChoice(TenantScoped, db.Model):
    """A unit's choice on one item of the vote (`Ballot.choice` keeps the first item's)."""

    __tablename__ = "ballot_choice"
    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("vote_item.id"))
    choice: Mapped[str] = mapped_column(String(10))
    # With the district: every query carries its filter, and an index without it loses to the
    # district's own in SQLite's planner (the count would read the district's every choice).
    __table_args__ = (UniqueConstraint("ballot_id", "item_id"),
                      Index("ix_ballot_choice_ballot", "ballot_id", "tenant_id"),
                      Index("ix_ballot_choice_item", "item_id", "tenant_id"))

    ballot: Mapped[Ballot] = relationship(back_populates="choices")
    item: Mapped[VoteItem] = relationship()


class FundApplication(TenantScoped, db.Model):
    __tablename__ = "fund_application"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    applicant: Mapped[str] = mapped_column(String(10))     # firm / committee
    item: Mapped[str] = mapped_column(String(200))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    contractor: Mapped[str] = mapped_column(String(100), default="")
    quotes: Mapped[str] = mapped_column(Text, default="")
    emergency: Mapped[bool] = mapped_column(default=False)
    # Who shares the cost (民法典 第283条, by area): None = every household of the compound; else
    # the households of these buildings (a lift, a roof of one building).
    building_ids: Mapped[list | None] = mapped_column(db.JSON)
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("owner_vote.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    approved_fen: Mapped[int | None] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    compound: Mapped[Compound] = relationship()
    vote: Mapped[OwnerVote | None] = relationship()
    reviews: Mapped[list["FundReview"]] = relationship(back_populates="application", order_by="FundReview.id")

    @property
    def audit_label(self):
        return self.item


class FundReview(TenantScoped, db.Model):
    __tablename__ = "fund_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("fund_application.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    approve: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(300), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime] = mapped_column(default=now)

    application: Mapped[FundApplication] = relationship(back_populates="reviews")
