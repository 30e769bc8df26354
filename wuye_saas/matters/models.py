"""重大事项报备: a committee's major matter, reported to the community party organisation and
filed in writing with the street, acknowledged (签收) before its owner vote may open."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound
from ..tenancy import TenantScoped
from ..timeutil import now
from ..votes.models import OwnerVote

FILING_STATUSES = {"filed": "待街道签收", "acknowledged": "街道已签收", "returned": "街道已退回"}


class MatterFiling(TenantScoped, db.Model):
    """One written filing of a vote's matter with the street. A returned filing stays on record;
    the committee files again. `spending_fen`: the linked fund application's budget at filing
    (a spending matter), so a later, larger budget needs a new filing."""

    __tablename__ = "matter_filing"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("owner_vote.id"), index=True)
    matter: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    spending_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="filed", index=True)
    filed_at: Mapped[datetime] = mapped_column(default=now)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # 已报告社区党组织: recorded by the community's staff.
    party_reported_at: Mapped[datetime | None]
    party_reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    return_reason: Mapped[str] = mapped_column(String(300), default="")

    compound: Mapped[Compound] = relationship()
    vote: Mapped[OwnerVote] = relationship()
    files: Mapped[list[MatterFilingFile]] = relationship(back_populates="filing", order_by="MatterFilingFile.id")

    @property
    def audit_label(self):
        return self.title


class MatterFilingFile(TenantScoped, db.Model):
    """A document of the written filing (the signed and sealed 报备表, minutes of the committee's
    meeting, a quotation), stored outside static/ and served only to those who see the filing.
    Its SHA-256 is kept with it and shown, so the street and the committee can check that the
    file is the one filed."""

    __tablename__ = "matter_filing_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("matter_filing.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    filing: Mapped[MatterFiling] = relationship(back_populates="files")

    @property
    def audit_label(self):
        return self.filename


class MatterRule(TenantScoped, db.Model):
    """The district's filing rule (one row per district; the default in logic.py when none):
    spending above `threshold_fen` is a major matter filed with its amount."""

    __tablename__ = "matter_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    threshold_fen: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("tenant_id"),)

    @property
    def audit_label(self):
        return "重大事项报备标准"
