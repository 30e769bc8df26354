"""Fees and cost sharing — "政府投一点、企业让一点、居民交一点".

A FeePolicy is one version of a district's fee policy family (`family_id` = the first
version's id); versions of a family do not overlap in validity, and a version that has billed
is frozen (editing makes the next version). Compounds are assigned to a family for a period.
Bills are issued per household and month with base = government + firm + resident, in 分.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Firm, Household, HouseholdClass
from ..tenancy import TenantScoped
from ..timeutil import now

BASES = {"per_m2": "按建筑面积（元/㎡·月）", "per_household": "按户（元/户·月）"}
PRICE_REGIMES = ["市场调节价", "政府指导价"]
GOV_MODES = {"none": "政府不承担", "percent": "按比例", "per_m2": "按面积定额（元/㎡·月）",
             "declining": "按合同年度递减（元/㎡·月）"}
POLICY_STATUSES = {"draft": "草稿", "active": "已生效", "retired": "已停用"}
PAYMENT_METHODS = ["现金", "微信", "支付宝", "银行转账", "POS刷卡"]
CLAIM_STATUSES = {"submitted": "待审核", "approved": "已核准", "rejected": "已退回"}
# What the share of the holdback released to the firm follows (fees/holdback.py).
HOLDBACK_BASES = {"stars": "按星级", "score": "按总分"}
# Where the part not released goes (the issue: "the compound's 公共收益 ledger, or a credit to
# owners' next bills"); fees/holdback.py rule 5.
HOLDBACK_DESTINATIONS = {"ledger": "计入小区公共收益", "bills": "返还业主"}
# 湖州 第34条 / 绍兴 第37条 style default: the firm gets back more the better it scored.
DEFAULT_HOLDBACK_BANDS = [{"min": "5", "percent": "100"}, {"min": "4", "percent": "90"},
                          {"min": "3", "percent": "70"}]


class FeePolicy(TenantScoped, db.Model):
    __tablename__ = "fee_policy"
    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("fee_policy.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    frozen: Mapped[bool] = mapped_column(default=False)  # has billed: never edited again
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    basis: Mapped[str] = mapped_column(String(20), default="per_m2")
    price_regime: Mapped[str] = mapped_column(String(10), default="市场调节价")
    fee_mode: Mapped[str] = mapped_column(String(10), default="包干制")
    gov_mode: Mapped[str] = mapped_column(String(20), default="none")
    gov_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))      # 0–100
    gov_per_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))       # 元/㎡·月
    gov_schedule: Mapped[list | None] = mapped_column(JSON)                 # ["0.30","0.20","0.10"] 元/㎡·月 by contract year
    gov_trial_months: Mapped[int] = mapped_column(default=0)                # 先尝后买: all of it for N months
    gov_cap_fen: Mapped[int | None]                                         # per compound per month
    holdback_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # of the firm's income
    # The release rule: the evaluation kind whose published result releases it, what the rate
    # follows, and the bands [{"min": "4", "percent": "90"}, …] (below every band: 0 %).
    holdback_kind: Mapped[str] = mapped_column(String(10), default="quarterly", server_default="quarterly")
    holdback_basis: Mapped[str] = mapped_column(String(10), default="stars", server_default="stars")
    holdback_bands: Mapped[list | None] = mapped_column(JSON)
    holdback_kept_to: Mapped[str] = mapped_column(String(10), default="ledger", server_default="ledger")
    for_compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)  # an override
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)

    grades: Mapped[list["FeePolicyGrade"]] = relationship(back_populates="policy", cascade="all, delete-orphan",
                                                          order_by="FeePolicyGrade.id")
    concessions: Mapped[list["FeeConcession"]] = relationship(back_populates="policy",
                                                              cascade="all, delete-orphan")
    for_compound: Mapped[Compound | None] = relationship()
    # A name is one family per district (policies.name_taken); its versions share it.
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version"),)

    @property
    def audit_label(self):
        return f"{self.name} v{self.version}"


class FeePolicyGrade(TenantScoped, db.Model):
    """The price of one service grade: a rate per m² or a flat amount per household; under
    政府指导价 the rate is the base price and the firm's actual price must lie within ± float."""

    __tablename__ = "fee_policy_grade"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("fee_policy.id"), index=True)
    grade: Mapped[str] = mapped_column(String(10))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))           # 元/㎡·月
    flat_fen: Mapped[int | None]                                          # 分/户·月
    float_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # 政府指导价 ± %
    __table_args__ = (UniqueConstraint("policy_id", "grade"),)

    policy: Mapped[FeePolicy] = relationship(back_populates="grades")


class FeeConcession(TenantScoped, db.Model):
    """企业让一点: the firm waives this percent of what a household of the class would pay."""

    __tablename__ = "fee_concession"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("fee_policy.id"), index=True)
    household_class_id: Mapped[int] = mapped_column(ForeignKey("household_class.id"), index=True)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    __table_args__ = (UniqueConstraint("policy_id", "household_class_id"),)

    policy: Mapped[FeePolicy] = relationship(back_populates="concessions")
    household_class: Mapped[HouseholdClass] = relationship()


class FeeAssignment(TenantScoped, db.Model):
    """A compound billed under a policy family for a period (no overlaps per compound)."""

    __tablename__ = "fee_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("fee_policy.id"), index=True)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    compound: Mapped[Compound] = relationship()
    family: Mapped[FeePolicy] = relationship()

    @property
    def audit_label(self):
        return f"{self.valid_from:%Y-%m-%d}起"


class BillingRun(TenantScoped, db.Model):
    __tablename__ = "billing_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]                        # first day of the billed month
    scope_kind: Mapped[str] = mapped_column(String(10))   # district / street / compound / firm
    scope_id: Mapped[int | None]
    scope_label: Mapped[str] = mapped_column(String(100), default="")
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"))
    issued: Mapped[int] = mapped_column(default=0)     # bills written by this run
    existing: Mapped[int] = mapped_column(default=0)   # households already billed for the month
    skipped: Mapped[dict] = mapped_column(JSON, default=dict)  # reason → count
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def audit_label(self):
        return f"{self.month:%Y年%m月} · {self.scope_label}"

    @property
    def scope_value(self) -> str:
        """The new-run form's scope value naming this run's scope (to run it again)."""
        return self.scope_kind if self.scope_kind in ("district", "firm") else f"{self.scope_kind}:{self.scope_id}"


class Bill(TenantScoped, db.Model):
    """One household's fee for one month. Issued once, never edited (corrections: CreditNote)."""

    __tablename__ = "bill"
    __audit__ = False  # bills are written in bulk; the run records one audit event
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("fee_policy.id"), index=True)
    billing_run_id: Mapped[int] = mapped_column(ForeignKey("billing_run.id"), index=True)
    month: Mapped[date]
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    rate: Mapped[Decimal] = mapped_column(Numeric(8, 4))   # 元/㎡·月 (per_m2) or 元/户·月
    base_fen: Mapped[int]
    gov_fen: Mapped[int]
    firm_fen: Mapped[int]
    resident_fen: Mapped[int]
    holdback_fen: Mapped[int] = mapped_column(default=0)
    classes: Mapped[str] = mapped_column(String(60), default="")  # household classes that month
    issued_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "household_id", "month"),
                      Index("ix_bill_tenant_id_month", "tenant_id", "month"))

    household: Mapped[Household] = relationship()
    compound: Mapped[Compound] = relationship()
    firm: Mapped[Firm | None] = relationship()
    policy: Mapped[FeePolicy] = relationship()



# The bill list's order (newest month first), so a page reads 20 rows.
Index("ix_bill_list_order", Bill.tenant_id, Bill.month.desc(), Bill.compound_id, Bill.household_id)

class BillSum(TenantScoped, db.Model):
    """The bills of one compound, month and firm summed: what the bill list's totals and the
    缴费率 read instead of every bill of the district. Derived, never edited: fees/sums.py
    recomputes a compound-month's rows from its bills in the same transaction as every write
    that changes them (a billing run, a payment, a credit note), so it always equals the sum
    of the bills (tests compare it with the computed value)."""

    __tablename__ = "bill_sum"
    __audit__ = False  # derived figures; the writes that change them are audited
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    month: Mapped[date]
    bills: Mapped[int]
    base_fen: Mapped[int] = mapped_column(BigInteger)
    gov_fen: Mapped[int] = mapped_column(BigInteger)
    firm_fen: Mapped[int] = mapped_column(BigInteger)
    resident_fen: Mapped[int] = mapped_column(BigInteger)
    credited_fen: Mapped[int] = mapped_column(BigInteger)   # credit notes' and 返还 credits' resident part
    paid_fen: Mapped[int] = mapped_column(BigInteger)       # Σ payments
    collected_fen: Mapped[int] = mapped_column(BigInteger)  # Σ per bill of min(paid, due): the 缴费率's numerator
    __table_args__ = (Index("ix_bill_sum_tenant_id_month", "tenant_id", "month"),
                      Index("ix_bill_sum_compound_id_month", "compound_id", "month"))

    @property
    def due_fen(self) -> int:
        return self.resident_fen - self.credited_fen


class OwedBill(TenantScoped, db.Model):
    """A bill whose resident part is not paid in full, with what is still owed on it: the
    arrears page reads these (and HouseholdOwed) instead of every bill of the district with
    its payments and credit notes. Derived like BillSum, by the same refresh (fees/sums.py),
    in the transaction of every write that changes what is owed. No foreign keys, tenant_id's
    included: the rows copy the bill's own (checked on the bill), and a district's billing run
    writes a million at a time (a row-by-row check of tenant_id alone cost 4 s of them). No index
    of tenant_id alone either: the (tenant_id, …) ones serve the district's reads and its policy."""

    __tablename__ = "owed_bill"
    __audit__ = False  # derived figures; the writes that change them are audited
    tenant_id: Mapped[int] = mapped_column(nullable=False)  # not TenantScoped's: no foreign key, no index
    # Keyed as the bill is within its district (one per household and month; household ids are
    # unique across districts): the key's index is also the per-household one the reads take.
    household_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[date] = mapped_column(primary_key=True)
    compound_id: Mapped[int]
    firm_id: Mapped[int | None]
    owed_fen: Mapped[int]  # resident part − credits − payments, > 0
    __table_args__ = (Index("ix_owed_bill_compound_id_month", "compound_id", "month"),
                      Index("ix_owed_bill_firm_id_household_id", "firm_id", "household_id"),
                      Index("ix_owed_bill_tenant_id_month", "tenant_id", "month"))


class HouseholdOwed(TenantScoped, db.Model):
    """What a household owes over all its OwedBill rows (households owing nothing have no
    row): the district's arrears list in its order (owed desc), from an index."""

    __tablename__ = "household_owed"
    __audit__ = False  # derived, as OwedBill
    tenant_id: Mapped[int] = mapped_column(nullable=False)  # as OwedBill's
    household_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    compound_id: Mapped[int] = mapped_column(index=True)  # the least of its OwedBill rows' (where CompoundOwed counts it)
    owed_fen: Mapped[int]


class CompoundOwed(TenantScoped, db.Model):
    """How many HouseholdOwed rows name each compound: the district's arrears count is the sum
    over its compounds, not a count over its owing households."""

    __tablename__ = "compound_owed"
    __audit__ = False  # derived, as OwedBill
    compound_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    households: Mapped[int]


Index("ix_household_owed_order", HouseholdOwed.tenant_id, HouseholdOwed.owed_fen.desc(), HouseholdOwed.household_id)


class CreditNote(TenantScoped, db.Model):
    """A correction of an issued bill: amounts taken off each part (non-negative)."""

    __tablename__ = "credit_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    gov_fen: Mapped[int] = mapped_column(default=0)
    firm_fen: Mapped[int] = mapped_column(default=0)
    resident_fen: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)

    bill: Mapped[Bill] = relationship()


class Payment(TenantScoped, db.Model):
    """A resident's payment against a bill (full or partial)."""

    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    amount_fen: Mapped[int]
    method: Mapped[str] = mapped_column(String(10))
    receipt_no: Mapped[str] = mapped_column(String(40))
    paid_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "receipt_no"),)

    bill: Mapped[Bill] = relationship()

    @property
    def audit_label(self):
        return self.receipt_no


class SubsidyClaim(TenantScoped, db.Model):
    """The government part of a compound's month, claimed by the firm from the district."""

    __tablename__ = "subsidy_claim"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    month: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # a compound-month sum: BIGINT
    bill_count: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    reason: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    decided_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("tenant_id", "compound_id", "month"),)

    compound: Mapped[Compound] = relationship()
    firm: Mapped[Firm] = relationship()

    @property
    def audit_label(self):
        return f"{self.month:%Y年%m月}"


class HoldbackRelease(TenantScoped, db.Model):
    """质量保证金释放: one posting for a compound's month of one firm's bills under one policy
    version, by a published evaluation. Append-only: a later change (an appeal, a late bill, a
    credit note) posts the difference as a further row; the month's figures are the sums."""

    __tablename__ = "holdback_release"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("fee_policy.id"), index=True)
    month: Mapped[date]
    basis: Mapped[str] = mapped_column(String(10))
    stars: Mapped[int | None]
    total: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))     # released share of the month
    withheld_fen: Mapped[int] = mapped_column(BigInteger)       # this posting's change of each
    released_fen: Mapped[int] = mapped_column(BigInteger)
    kept_fen: Mapped[int] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (Index("ix_holdback_release_key", "tenant_id", "compound_id", "firm_id", "month"),)

    evaluation: Mapped["Evaluation"] = relationship()  # noqa: F821  (evaluation.models, by name)
    compound: Mapped[Compound] = relationship()
    firm: Mapped[Firm] = relationship()
    policy: Mapped[FeePolicy] = relationship()
    ledger_entry: Mapped["LedgerEntry | None"] = relationship()  # noqa: F821  (publicity.models)

    @property
    def audit_label(self):
        return f"{self.month:%Y年%m月} 质量保证金"


class HoldbackCredit(TenantScoped, db.Model):
    """质量保证金返还: a household's share of the part of a compound month's holdback that was
    not released, under a policy whose kept part goes to the owners' next bills (holdback.py
    rule 5). Written with its posting (a negative one takes back part of an earlier credit after
    an appeal); `bill_id` is set when the household's next bill is issued (billing.bill_chunk),
    and that bill's resident due is reduced by it. Never edited otherwise."""

    __tablename__ = "holdback_credit"
    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("holdback_release.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    month: Mapped[date]                                       # the month whose holdback it returns
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    release: Mapped[HoldbackRelease] = relationship()
    household: Mapped[Household] = relationship()

    @property
    def audit_label(self):
        return f"{self.month:%Y年%m月} 质量保证金返还"
