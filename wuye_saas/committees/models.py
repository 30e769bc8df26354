"""Formation / re-election of a compound's 业委会 or 物管会, candidates and their vetting, and
supervision records of a committee."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Committee, Compound
from ..tenancy import TenantScoped
from ..timeutil import now

FORMATION_KINDS = {"formation": "组建", "reelection": "换届"}
FORMATION_STATUSES = {"open": "候选人登记", "vetting": "联审中", "elected": "已选举", "filed": "已备案成立",
                      "cancelled": "已终止"}
VETTING_GROUPS = {"must_not": "五不能", "should_not": "六不宜", "other": "其他"}
VETTING_RESULTS = {"pass": "符合", "fail": "不符合"}
CANDIDATE_STATUSES = {"pending": "待联审", "passed": "联审通过", "rejected": "联审未通过"}
SUPERVISION_KINDS = {"correction": "责令整改", "revocation": "撤销决定", "acting": "居委会代行职责"}


class VettingCriterion(TenantScoped, db.Model):
    """One line of the district's candidate checklist (合肥笔架山 五不能、六不宜 by default)."""

    __tablename__ = "vetting_criterion"
    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(String(200))
    checked_by: Mapped[str] = mapped_column(String(60), default="社区党委")  # who verifies it
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(default=0)

    @property
    def audit_label(self):
        return self.text


class Formation(TenantScoped, db.Model):
    __tablename__ = "formation"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    committee_kind: Mapped[str] = mapped_column(String(10))          # 业委会 / 物管会
    previous_committee_id: Mapped[int | None] = mapped_column(ForeignKey("committee.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_on: Mapped[date]
    seats: Mapped[int] = mapped_column(default=5)
    election_on: Mapped[date | None]
    result_note: Mapped[str] = mapped_column(Text, default="")
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committee.id"))   # the filed one
    # The owners' election (选举业主委员会, 民法典 第278条) with the vetted candidates as items.
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("owner_vote.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    compound: Mapped[Compound] = relationship()
    previous_committee: Mapped[Committee | None] = relationship(foreign_keys=[previous_committee_id])
    committee: Mapped[Committee | None] = relationship(foreign_keys=[committee_id])
    candidates: Mapped[list["Candidate"]] = relationship(back_populates="formation", order_by="Candidate.id")

    @property
    def audit_label(self):
        return f"{FORMATION_KINDS.get(self.kind, self.kind)} {self.committee_kind}"


class Candidate(TenantScoped, db.Model):
    __tablename__ = "candidate"
    id: Mapped[int] = mapped_column(primary_key=True)
    formation_id: Mapped[int] = mapped_column(ForeignKey("formation.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"))
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    is_party_member: Mapped[bool] = mapped_column(default=False)
    is_cross_appointed: Mapped[bool] = mapped_column(default=False)
    recommended_by: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    elected: Mapped[bool] = mapped_column(default=False)
    position: Mapped[str] = mapped_column(String(10), default="委员")

    formation: Mapped[Formation] = relationship(back_populates="candidates")
    checks: Mapped[list["VettingCheck"]] = relationship(back_populates="candidate", order_by="VettingCheck.id")

    @property
    def audit_label(self):
        return self.name


class VettingCheck(TenantScoped, db.Model):
    """The joint review's finding on one criterion for one candidate, by a named unit."""

    __tablename__ = "vetting_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("vetting_criterion.id"), index=True)
    result: Mapped[str] = mapped_column(String(6))
    unit: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("candidate_id", "criterion_id"),)

    candidate: Mapped[Candidate] = relationship(back_populates="checks")
    criterion: Mapped[VettingCriterion] = relationship()


class CommitteeSupervision(TenantScoped, db.Model):
    """A committee put under correction, or the 居委会 acting for it; open until ended."""

    __tablename__ = "committee_supervision"
    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    started_on: Mapped[date]
    due_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    end_note: Mapped[str] = mapped_column(Text, default="")

    committee: Mapped[Committee] = relationship()

    @property
    def audit_label(self):
        return SUPERVISION_KINDS.get(self.kind, self.kind)
