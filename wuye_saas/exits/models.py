"""退出与交接: a firm's exit from a compound (民法典 第946–950条) and the handover checklist the
incoming side signs, line by line. The district's rule holds the grace after the exit's
effective date before a firm that has not handed over gets its credit record."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db
from ..org.models import Compound, Contract, Firm
from ..tenancy import TenantScoped
from ..timeutil import now

# Where an exit comes from.
SOURCES = {"dismissal": "业主大会解聘", "expiry": "合同期满不续聘", "evaluation": "考核结果启动退出程序"}
# Who takes over: a new firm (专业物业), the owners themselves (自管), or the 兜底 takeover that
# the community arranges with the state custodian firm (国资托管).
INCOMING_KINDS = {"firm": "新物业服务企业", "self": "业主自行管理", "state": "社区兜底托管"}
STATUSES = {"open": "交接中", "done": "已完成交接"}
# The handover lines of 第949条/第950条, in the order they are signed.
ITEM_KINDS = {
    "documents": "物业服务所必需的相关资料",
    "common_parts": "共用部位、共用设施设备",
    "service_rooms": "物业服务用房",
    "prepaid_fees": "预收物业费",
    "public_revenue": "公共收益余额",
    "maintenance_fund": "专项维修资金余额",
    "open_demands": "未办结诉求",
}
ITEM_STATUSES = {"pending": "待签收", "signed": "已签收", "disputed": "有争议"}
SIDES = {"firm": "接管企业", "committee": "业委会/物管会", "community": "社区"}


class ExitRule(TenantScoped, db.Model):
    """The district's exit rule (one row per district; the defaults apply without one)."""

    __tablename__ = "exit_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    grace_days: Mapped[int] = mapped_column(default=0)
    record_refusal: Mapped[bool] = mapped_column(default=True)
    __table_args__ = (UniqueConstraint("tenant_id"),)

    @property
    def audit_label(self):
        return "退出交接规则"


class FirmExit(TenantScoped, db.Model):
    """One firm leaving one compound. The dates are computed when it starts (logic.periods);
    `deadline_on` is the effective date plus the district's grace then."""

    __tablename__ = "firm_exit"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))
    # Idempotency of start_exit from other areas (an evaluation's consequence): one exit per key.
    source_key: Mapped[str | None] = mapped_column(String(80))
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("owner_vote.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    notice_on: Mapped[date]
    effective_on: Mapped[date]
    notice_late: Mapped[bool] = mapped_column(default=False)
    deadline_on: Mapped[date] = mapped_column(index=True)
    # The outgoing contract still served when the exit started: it keeps serving until the
    # handover. A firm already gone (a lapsed contract, 弃管) is not brought back.
    outgoing_serving: Mapped[bool] = mapped_column(default=True)
    incoming_kind: Mapped[str | None] = mapped_column(String(8))
    incoming_contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    handover_on: Mapped[date | None]
    refusal_recorded_on: Mapped[date | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("tenant_id", "source_key"),)

    compound: Mapped[Compound] = relationship()
    firm: Mapped[Firm] = relationship()
    contract: Mapped[Contract] = relationship(foreign_keys=[contract_id])
    incoming_contract: Mapped[Contract | None] = relationship(foreign_keys=[incoming_contract_id])
    items: Mapped[list["HandoverItem"]] = relationship(back_populates="exit", order_by="HandoverItem.sort")

    @property
    def audit_label(self):
        return f"{self.firm.name if self.firm else ''}退出{self.compound.name if self.compound else ''}"


class HandoverItem(TenantScoped, db.Model):
    """One line of the handover. Amounts (分) and counts are those at signing: the balances move
    until the incoming side takes them over."""

    __tablename__ = "handover_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    exit_id: Mapped[int] = mapped_column(ForeignKey("firm_exit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sort: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    count: Mapped[int | None]
    side: Mapped[str | None] = mapped_column(String(10))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    disputed_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("exit_id", "kind"),)

    exit: Mapped[FirmExit] = relationship(back_populates="items")
    signed_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return ITEM_KINDS.get(self.kind, self.kind)

    @property
    def audit_label(self):
        return self.label
