"""合同备案: a firm files a contract of a compound it serves or is to serve; the community, the
street and the district review it in turn (三级联审), each step with a deadline; the district's
approval gives the filing number. The rules live in `filing.py`."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Contract, Firm
from ..tenancy import TenantScoped
from ..timeutil import now

CONTRACT_KINDS = {"early": "前期物业服务合同", "elected": "业主大会选聘合同"}
# The review steps in turn, then the two ends a filing can rest at.
LEVELS = {"community": "社区", "street": "街道", "district": "区物业管理服务中心"}
FILING_STATUSES = {"community": "社区审核中", "street": "街道审核中", "district": "区级审核中",
                   "returned": "已退回", "filed": "已备案"}
REVIEWER = {"community": "community_staff", "street": "street_staff", "district": "district_admin"}
NEXT_LEVEL = {"community": "street", "street": "district", "district": "filed"}


class FilingRule(TenantScoped, db.Model):
    """The district's filing settings (one row; absent → the defaults in filing.py)."""

    __tablename__ = "filing_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Working days each step may take after the one it arrived on; 0 = the same working day (当日办结).
    community_days: Mapped[int] = mapped_column(default=0)
    street_days: Mapped[int] = mapped_column(default=0)
    district_days: Mapped[int] = mapped_column(default=0)
    expiring_days: Mapped[int] = mapped_column(default=90)   # 民法典 第947条: 90 days' notice
    number_prefix: Mapped[str] = mapped_column(String(10))   # 潞物备 → 潞物备〔2026〕0001号
    __table_args__ = (UniqueConstraint("tenant_id"),)

    @property
    def audit_label(self):
        return "合同备案设置"


class ContractFiling(TenantScoped, db.Model):
    """One filing of one contract: the filed terms, where it is in the review, its number."""

    __tablename__ = "contract_filing"
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    service_grade: Mapped[str] = mapped_column(String(10))
    fee_mode: Mapped[str] = mapped_column(String(10))
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(8, 4))     # 元/㎡·月
    start_date: Mapped[date]
    end_date: Mapped[date]
    # True when the filing entered the contract itself: the district's approval puts it in force.
    # A draft of another workflow (选聘, 交接) stays that workflow's to put in force.
    activates: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="community", index=True)
    step_since: Mapped[datetime] = mapped_column(default=now)    # the current step arrived (UTC)
    due_on: Mapped[date | None]                                  # its last day (Shanghai)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    number: Mapped[str | None] = mapped_column(String(40))
    number_year: Mapped[int | None]
    number_seq: Mapped[int | None]
    filed_at: Mapped[datetime | None]
    filed_on: Mapped[date | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    __table_args__ = (UniqueConstraint("tenant_id", "number"),
                      UniqueConstraint("tenant_id", "number_year", "number_seq"))

    contract: Mapped[Contract] = relationship()
    firm: Mapped[Firm] = relationship()
    compound: Mapped[Compound] = relationship()
    filed_by: Mapped["User | None"] = relationship(foreign_keys=[filed_by_id])  # noqa: F821
    approved_by: Mapped["User | None"] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    reviews: Mapped[list["FilingReview"]] = relationship(back_populates="filing", order_by="FilingReview.id")
    files: Mapped[list["FilingFile"]] = relationship(back_populates="filing", order_by="FilingFile.id")

    @property
    def audit_label(self):
        return self.number or f"{CONTRACT_KINDS.get(self.kind, '')}备案"


class FilingReview(TenantScoped, db.Model):
    """One step's decision: approved, or returned with the reason; late when after its due day."""

    __tablename__ = "filing_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("contract_filing.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    approve: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(300), default="")
    due_on: Mapped[date | None]
    late: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime] = mapped_column(default=now)

    filing: Mapped[ContractFiling] = relationship(back_populates="reviews")
    user: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def audit_label(self):
        return f"{LEVELS.get(self.level, self.level)}{'通过' if self.approve else '退回'}"


class FilingFile(TenantScoped, db.Model):
    """An attachment (the signed contract scan …), stored outside static/, served by scope."""

    __tablename__ = "filing_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("contract_filing.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=now)

    filing: Mapped[ContractFiling] = relationship(back_populates="files")

    @property
    def audit_label(self):
        return self.filename
