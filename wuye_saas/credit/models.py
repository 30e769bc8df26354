"""信用档案 (诚信台账): the kinds of credit records a district keeps, its grading rule, each
firm's records (append-only), their evidence files, the firm's objections (异议) and the
quarterly grade snapshots. Points are Decimal with two places, like evaluation points."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Firm
from ..tenancy import TenantScoped
from ..timeutil import now

POINTS = Numeric(7, 2)

NATURES = {"good": "优良", "bad": "不良"}
SOURCES = {"evaluation": "考核结果", "appeal": "申诉改判", "publicity": "公示检查", "demands": "诉求办理",
           "exit": "退出交接", "staff": "人工登记"}
# What a consequence flag marks on a firm (credit/consequences.py writes them from the lists).
FLAG_KINDS = {"more_spot_checks": "加大抽查频次", "exit_procedure": "启动退出程序", "restrict_tender": "限制参加招投标",
              "restrict_award": "限制评优", "priority_renewal": "优先续约", "tender_bonus": "招投标加分"}


def flag_label(kind: str, points) -> str:
    name = FLAG_KINDS.get(kind, kind)
    return f"{name} {points.normalize():f} 分" if kind == "tender_bonus" and points else name


OBJECTION_STATUSES = {"open": "待裁定", "upheld": "异议成立", "rejected": "异议驳回"}
BLACKLIST = "黑名单"


class CreditRecordKind(TenantScoped, db.Model):
    """A kind of record the district keeps: its points, how long a record of it counts, and
    whether it is serious (a valid serious record puts the firm on the 黑名单)."""

    __tablename__ = "credit_record_kind"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(60))
    nature: Mapped[str] = mapped_column(String(4))
    points: Mapped[Decimal] = mapped_column(POINTS)          # magnitude; the nature gives the sign
    validity_days: Mapped[int] = mapped_column(default=365)
    serious: Mapped[bool] = mapped_column(default=False)
    basis: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(default=0)
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    @property
    def automatic(self) -> bool:
        """Written from published evaluations only (records.sync_evaluation), never by hand."""
        return self.code.startswith("eval_")

    @property
    def audit_label(self):
        return self.name


class CreditRule(TenantScoped, db.Model):
    """The district's grading rule (one row per district)."""

    __tablename__ = "credit_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    base_source: Mapped[str] = mapped_column(String(10), default="evaluation")   # "evaluation" | "fixed"
    base_points: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("80"))
    # [{"grade": "AAA", "min": "85"}, …] highest first; below the last band: C.
    bands: Mapped[list] = mapped_column(JSON, default=list)
    objection_days: Mapped[int] = mapped_column(default=15)
    warning_bad_count: Mapped[int] = mapped_column(default=3)
    # The evaluation cycle kinds whose published lists create records.
    evaluation_kinds: Mapped[list] = mapped_column(JSON, default=list)
    # How long a list's consequence flag (限制参加招投标, 优先续约 …) counts from publication.
    consequence_days: Mapped[int] = mapped_column(default=365, server_default="365")
    # Demands escalated for one firm in one calendar month that make one bad record.
    overdue_demands_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    __table_args__ = (UniqueConstraint("tenant_id"),)

    @property
    def audit_label(self):
        return "信用评价规则"


class CreditRecord(TenantScoped, db.Model):
    """信用记录. Append-only: only the revocation may be set, once. Points are signed (good +,
    bad −) and, like nature and seriousness, copied from the kind when written, so a later
    change of the kind does not rewrite the record. `source_ref` (NULL for staff records) is
    unique with the kind: automatic creation runs any number of times and writes once."""

    __tablename__ = "credit_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("credit_record_kind.id"), index=True)
    nature: Mapped[str] = mapped_column(String(4))
    points: Mapped[Decimal] = mapped_column(POINTS)
    serious: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(200))
    occurred_on: Mapped[date] = mapped_column(index=True)
    valid_until: Mapped[date]                          # the first day it no longer counts
    source: Mapped[str] = mapped_column(String(12))
    source_ref: Mapped[str | None] = mapped_column(String(80))
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]
    revoked_on: Mapped[date | None]                    # Shanghai date: it stops counting that day
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (UniqueConstraint("tenant_id", "source_ref", "kind_id"),)

    firm: Mapped[Firm] = relationship()
    kind: Mapped[CreditRecordKind] = relationship()
    files: Mapped[list["CreditEvidence"]] = relationship(back_populates="record")
    objection: Mapped["CreditObjection | None"] = relationship(back_populates="record", uselist=False)

    def valid_on(self, day: date) -> bool:
        return (self.occurred_on <= day < self.valid_until
                and (self.revoked_on is None or self.revoked_on > day))

    def state_on(self, day: date) -> str:
        if self.revoked_on is not None and self.revoked_on <= day:
            return "revoked"
        if day >= self.valid_until:
            return "expired"
        return "valid" if self.occurred_on <= day else "pending"

    @property
    def audit_label(self):
        return self.title


# Columns of a record that may be written after its creation, each only once (from empty).
REVOCATION = ("revoked_at", "revoked_on", "revoked_by_id", "revoke_reason")


class CreditRecordChanged(RuntimeError):
    """A credit record was edited other than by its one revocation."""


@event.listens_for(Session, "before_flush")
def _append_only(session, flush_context, instances):
    for obj in session.dirty:
        if not isinstance(obj, CreditRecord):
            continue
        state = db.inspect(obj)
        for attr in state.mapper.column_attrs:
            hist = state.attrs[attr.key].history
            if not hist.has_changes():
                continue
            if attr.key not in REVOCATION or any(old not in (None, "") for old in hist.deleted):
                raise CreditRecordChanged(f"信用记录只能撤销，不能修改（{attr.key}）")
    for obj in session.deleted:
        if isinstance(obj, CreditRecord):
            raise CreditRecordChanged("信用记录不能删除，只能撤销")


class CreditEvidence(TenantScoped, db.Model):
    """An evidence file of a record, stored outside static/ and served only to those allowed."""

    __tablename__ = "credit_evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_record.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]

    record: Mapped[CreditRecord] = relationship(back_populates="files")


class CreditObjection(TenantScoped, db.Model):
    """异议: the firm's one objection to a record, and the district's decision."""

    __tablename__ = "credit_objection"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_record.id"), unique=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    filed_at: Mapped[datetime] = mapped_column(default=now)
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]

    record: Mapped[CreditRecord] = relationship(back_populates="objection")
    firm: Mapped[Firm] = relationship()

    @property
    def audit_label(self):
        return f"异议：{self.record.title}" if self.record else "异议"


class CreditGrade(TenantScoped, db.Model):
    """信用等级 of a firm at a quarter's end, kept as computed then (history does not move)."""

    __tablename__ = "credit_grade"
    __audit__ = False   # derived figures, written in bulk; the snapshot itself is audited
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    quarter_end: Mapped[date]
    base: Mapped[Decimal] = mapped_column(POINTS)
    good: Mapped[Decimal] = mapped_column(POINTS)
    bad: Mapped[Decimal] = mapped_column(POINTS)      # positive: the points taken off
    score: Mapped[Decimal] = mapped_column(POINTS)
    grade: Mapped[str] = mapped_column(String(6))     # AAA … C, or 黑名单
    taken_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "firm_id", "quarter_end"),)

    firm: Mapped[Firm] = relationship()


class FirmFlag(TenantScoped, db.Model):
    """上榜后果: a mark a published list put on a firm (or on a firm in one compound, for
    启动退出程序) for a period, read by the rest of the product through credit/consequences.py
    (tender eligibility and bonus, renewal, exit, the next 月抽查). Written once per source key;
    an appeal that takes the firm off the list revokes it (the row stays, with the reason)."""

    __tablename__ = "firm_flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    points: Mapped[Decimal | None] = mapped_column(POINTS)          # 招投标加分 only
    valid_from: Mapped[date]
    valid_until: Mapped[date]                                       # the first day it no longer counts
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    list_kind: Mapped[str] = mapped_column(String(10), default="")
    source_key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]
    revoked_on: Mapped[date | None]                                 # Shanghai date: it stops counting that day
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (UniqueConstraint("tenant_id", "source_key"),)

    firm: Mapped[Firm] = relationship()
    compound: Mapped[Compound | None] = relationship()

    def valid_on(self, day: date) -> bool:
        return (self.valid_from <= day < self.valid_until
                and (self.revoked_on is None or self.revoked_on > day))

    @property
    def label(self) -> str:
        return flag_label(self.kind, self.points)

    @property
    def audit_label(self):
        return self.title
