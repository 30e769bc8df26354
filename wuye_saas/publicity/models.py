"""Accounts and publicity (账目与公示): append-only ledgers per compound, tamper-evident
publications in a per-compound hash chain, committee checks and objections (质询), and the
district's publicity schedule."""
from __future__ import annotations

from datetime import date, datetime

from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound
from ..tenancy import TenantScoped
from ..timeutil import now

LEDGER_KINDS = {"public_revenue": "公共收益", "maintenance_fund": "专项维修资金", "fee_account": "物业费收支"}
KEEPERS = {"firm": "物业服务企业", "committee": "业委会/物管会"}
PUBLICATION_KINDS = {
    "standing_notice": "收费公示（明码标价）",
    "disclosure": "物业服务信息公开（民法典第943条）",
    "ledger_statement": "账目公示",
    "fund_use": "维修资金使用公示",
    "vote_notice": "业主表决事项公示",
    "vote_result": "业主表决结果公示",
    "meeting_minutes": "联席会议纪要",
    "tender_notice": "物业选聘招标公告",
    "hiring_result": "物业选聘结果公示",
    "committee_news": "业委会工作动态",
    "committee_rules": "管理规约与议事规则",
    "committee_fees": "业委会委员缴费情况",
    "annual_budget": "酬金制年度预算",
    "annual_account": "酬金制年度决算",
    "evaluation_result": "考核结果公示",
}
FREQUENCIES = {"monthly": "每月", "quarterly": "每季度", "half_yearly": "每半年", "yearly": "每年",
               "standing": "长期公示"}
OBJECTION_STATUSES = {"open": "待答复", "answered": "已答复", "accepted": "已认可",
                      "escalated": "已提交社区", "decided": "社区已裁决"}


class LedgerKeeper(TenantScoped, db.Model):
    """Who keeps each kind of ledger in this district (firm or committee)."""

    __tablename__ = "ledger_keeper"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    keeper: Mapped[str] = mapped_column(String(10))
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)


class LedgerEntry(TenantScoped, db.Model):
    """One line of a compound's ledger: signed integer 分, never edited or deleted; a correction
    is a reversing entry that points at the original."""

    __tablename__ = "ledger_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    kind: Mapped[str] = mapped_column(String(20))
    entry_date: Mapped[date]
    category: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # + income / deposit, − spending / withdrawal
    counterparty: Mapped[str] = mapped_column(String(100), default="")
    voucher_no: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (Index("ix_ledger_entry_compound_kind_date", "compound_id", "kind", "entry_date"),)

    compound: Mapped[Compound] = relationship()
    reverses: Mapped["LedgerEntry | None"] = relationship(remote_side=[id])
    vouchers: Mapped[list["LedgerVoucher"]] = relationship(back_populates="entry")

    @property
    def audit_label(self):
        return f"{LEDGER_KINDS.get(self.kind, self.kind)} {self.category}"


class LedgerVoucher(TenantScoped, db.Model):
    """A voucher file of an entry, stored outside static/ and served only to those allowed."""

    __tablename__ = "ledger_voucher"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]

    entry: Mapped[LedgerEntry] = relationship(back_populates="vouchers")


class Publication(TenantScoped, db.Model):
    """公示: an immutable snapshot. `content_hash` is the SHA-256 of the canonical form
    (`hash_version`, see chain.py) of everything it shows; `prev_hash` the hash of the
    compound's previous publication (a chain); `signature` the district key's Ed25519
    signature of that chain head (publicity/keys.py), `key_id` the key that made it."""

    __tablename__ = "publication"
    __audit__ = False  # immutable; its creation is recorded by record_event, a change by the chain
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    seq: Mapped[int]                                # 1, 2, 3 … within the compound
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    content: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    published_at: Mapped[datetime] = mapped_column(default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    publisher: Mapped[str] = mapped_column(String(100), default="")
    hash_version: Mapped[int] = mapped_column(server_default="1")   # rows before signing are v1
    key_id: Mapped[str | None] = mapped_column(String(40))
    signature: Mapped[str | None] = mapped_column(String(128))       # hex, 64 bytes
    __table_args__ = (UniqueConstraint("tenant_id", "compound_id", "seq"),)

    compound: Mapped[Compound] = relationship()


class PublicationCheck(TenantScoped, db.Model):
    """A committee member marked a publication as checked (已核对)."""

    __tablename__ = "publication_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    checked_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("publication_id", "user_id"),)


class Objection(TenantScoped, db.Model):
    """质询 on one line of a publication: question → keeper's answer → the committee accepts or
    escalates → the community decides."""

    __tablename__ = "objection"
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"), index=True)
    line: Mapped[str] = mapped_column(String(200))          # which line of the publication
    question: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(default=now)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="open")
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]

    publication: Mapped[Publication] = relationship()

    @property
    def audit_label(self):
        return self.line[:60]


class PublicityRequirement(TenantScoped, db.Model):
    """The district's schedule: this kind of publication (for this ledger kind) is due this often."""

    __tablename__ = "publicity_requirement"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ledger_kind: Mapped[str | None] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(12))
    grace_days: Mapped[int] = mapped_column(default=15)
    management_mode: Mapped[str | None] = mapped_column(String(20))  # None: every compound
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "ledger_kind", "management_mode"),)


# --- the maintenance fund's household sub-accounts (分户账) -------------------------------------

FUND_PARTS = {"first": "首期交存", "deposit": "续筹及补充", "use": "使用支出", "interest": "利息"}
FUND_BASES = {"area": "按全体业主专有面积分摊", "buildings": "按所选楼栋业主专有面积分摊",
              "standard": "按本区首期交存标准逐户计算", "balance": "按各户分户账余额分配",
              "reversal": "按原分录各户金额冲回"}


class FundRule(TenantScoped, db.Model):
    """The district's maintenance-fund settings: the first deposit per ㎡ is `rate_percent` of
    the local construction cost per ㎡ (令165 第七条: 5%–8%); and whether it adopts 北京 第74条
    (while the fund is below 30% of its first deposit, at least `revenue_percent` ≥ 50% of each
    public-revenue income goes into the fund)."""

    __tablename__ = "fund_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    cost_fen_per_m2: Mapped[int] = mapped_column(BigInteger)
    rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    revenue_rule: Mapped[bool] = mapped_column(default=False)
    revenue_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(50))
    __table_args__ = (UniqueConstraint("tenant_id"),)


class FundAllocation(TenantScoped, db.Model):
    """How one maintenance-fund entry was split over the household sub-accounts: its basis,
    the buildings it concerned, how many households got a part. The parts are FundShare rows."""

    __tablename__ = "fund_allocation"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    basis: Mapped[str] = mapped_column(String(10))
    building_ids: Mapped[list | None] = mapped_column(JSON)
    households: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=now)

    entry: Mapped[LedgerEntry] = relationship()

    @property
    def audit_label(self):
        return FUND_BASES.get(self.basis, self.basis)


class FundShare(TenantScoped, db.Model):
    """One household's part of one fund entry, in signed 分; the parts of an entry add up to it
    exactly. Written in bulk with its FundAllocation (whose audit event covers them) and never
    changed; date and part are copied from the entry so a sub-account statement is one grouped
    read of this table."""

    __tablename__ = "fund_share"
    __audit__ = False   # derived from the entry and its allocation, both audited
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    entry_date: Mapped[date]
    part: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # A compound's statement reads by compound; a page of sub-accounts or one household's by unit.
    __table_args__ = (Index("ix_fund_share_compound_date", "compound_id", "entry_date"),
                      Index("ix_fund_share_household_date", "household_id", "entry_date"))

    entry: Mapped[LedgerEntry] = relationship(viewonly=True)
