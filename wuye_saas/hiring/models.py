"""选聘: a compound's selection of a property-service firm, by owners' vote or by tender
(招投标), the district's tender rule, and the contract draft the chosen firm gets."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Contract, Firm
from ..tenancy import TenantScoped
from ..timeutil import now
from ..votes.models import OwnerVote

POINTS = Numeric(6, 2)
MODES = {"vote": "业主表决选聘", "tender": "招投标选聘"}
STATUSES = {"draft": "筹备中", "voting": "业主表决中", "vote_failed": "表决未通过", "open": "招标中",
            "awarded": "已选定", "cancelled": "已终止"}
# Who acts for the owners: the committee, or the community in its place (代行).
ACTING = {"committee": "业委会/物管会", "community": "社区居委会（代行）"}
CANDIDATE_OUTCOMES = {"": "待提名", "proposed": "已提交表决", "passed": "表决通过", "failed": "表决未通过"}


class HiringRule(TenantScoped, db.Model):
    """The district's tender rule (one row per district; defaults in logic.py when none)."""

    __tablename__ = "hiring_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    barred_grades: Mapped[list] = mapped_column(JSON, default=list)      # credit grades that may not bid
    bar_black_list: Mapped[bool] = mapped_column(default=True)           # 黑榜 firms may not bid
    __table_args__ = (UniqueConstraint("tenant_id"),)

    @property
    def audit_label(self):
        return "招投标规则"


class Selection(TenantScoped, db.Model):
    """One selection of a firm for a compound, with the terms the contract draft will carry."""

    __tablename__ = "selection"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    acting: Mapped[str] = mapped_column(String(10), default="committee")
    title: Mapped[str] = mapped_column(String(200))
    service_grade: Mapped[str] = mapped_column(String(10))
    fee_mode: Mapped[str] = mapped_column(String(10))
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(8, 4))             # 元/㎡·月 ceiling offered
    term_start: Mapped[date]
    term_end: Mapped[date]
    requirements: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None]                                        # last day to apply (tender)
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("owner_vote.id"), index=True)
    winner_firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"))
    notice_publication_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"))
    result_publication_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    firm_signed_at: Mapped[datetime | None]
    owners_signed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    compound: Mapped[Compound] = relationship()
    vote: Mapped[OwnerVote | None] = relationship()
    winner_firm: Mapped[Firm | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    candidates: Mapped[list["SelectionCandidate"]] = relationship(back_populates="selection",
                                                                  order_by="SelectionCandidate.id")
    applications: Mapped[list["TenderApplication"]] = relationship(back_populates="selection",
                                                                   order_by="TenderApplication.id")
    panel: Mapped[list["PanelMember"]] = relationship(back_populates="selection", order_by="PanelMember.id")

    @property
    def audit_label(self):
        return self.title


class SelectionCandidate(TenantScoped, db.Model):
    """A firm the committee compares before proposing one to the owners' vote."""

    __tablename__ = "selection_candidate"
    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selection.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    quoted_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    note: Mapped[str] = mapped_column(String(300), default="")
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("owner_vote.id"))
    outcome: Mapped[str] = mapped_column(String(10), default="")
    __table_args__ = (UniqueConstraint("selection_id", "firm_id"),)

    selection: Mapped[Selection] = relationship(back_populates="candidates")
    firm: Mapped[Firm] = relationship()

    @property
    def audit_label(self):
        return self.firm.name if self.firm else ""


class TenderApplication(TenantScoped, db.Model):
    """A firm's application (投标) to a tender: its standing when it applied, the district's bonus,
    and the panel's result."""

    __tablename__ = "tender_application"
    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selection.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    quoted_rate: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    proposal: Mapped[str] = mapped_column(Text, default="")
    grade: Mapped[str] = mapped_column(String(10), default="")           # credit grade when applying
    lists: Mapped[str] = mapped_column(String(40), default="")           # e.g. "红榜" (latest evaluation)
    bonus: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("0"))
    average: Mapped[Decimal | None] = mapped_column(POINTS)
    total: Mapped[Decimal | None] = mapped_column(POINTS)
    rank: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("selection_id", "firm_id"),)

    selection: Mapped[Selection] = relationship(back_populates="applications")
    firm: Mapped[Firm] = relationship()
    scores: Mapped[list["PanelScore"]] = relationship(back_populates="application")

    @property
    def audit_label(self):
        return self.firm.name if self.firm else ""


class PanelMember(TenantScoped, db.Model):
    """A member of the tender's evaluation panel (评标委员会)."""

    __tablename__ = "panel_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selection.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(60), default="")

    selection: Mapped[Selection] = relationship(back_populates="panel")

    @property
    def audit_label(self):
        return self.name


class PanelScore(TenantScoped, db.Model):
    __tablename__ = "panel_score"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("tender_application.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id"), index=True)
    points: Mapped[Decimal] = mapped_column(POINTS)
    __table_args__ = (UniqueConstraint("application_id", "member_id"),)

    application: Mapped[TenderApplication] = relationship(back_populates="scores")
    member: Mapped[PanelMember] = relationship()
