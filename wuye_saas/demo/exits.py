"""The demo district's exit: a firm of the demo community leaving one of its compounds after the
evaluation started the exit procedure (启动退出程序), the demo firm taking over by a draft
contract, and half the handover checklist signed (one line disputed) — the demo firm's manager
signs the rest."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership
from ..exits import logic
from ..extensions import db
from ..org.models import Compound, Contract
from ..tenancy import tenant_scope
from ..timeutil import today

SIGNED = [("documents", "移交竣工图纸、设备台账、业主名册等资料 36 册，已清点"),
          ("common_parts", "共用部位及电梯、水泵、消防设施设备逐项查验，状态良好"),
          ("service_rooms", "物业服务用房 2 间、钥匙 1 套已移交")]
DISPUTED = ("public_revenue", "2025 年第四季度停车收益未入账，需原企业补充凭证后再签收")


def seed_exits(tenant_id: int, demo_compound_id: int | None, demo_firm_id: int | None) -> dict:
    counts = {"exits": 0}
    d = today()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        compound = db.session.get(Compound, demo_compound_id) if demo_compound_id else None
        manager = db.session.execute(select(Membership).where(
            Membership.role == "firm_manager", Membership.firm_id == demo_firm_id).limit(1)).scalar_one_or_none()
        if compound is None or manager is None:
            return counts
        # Another firm's compound in the demo community: the demo firm takes it over.
        contract = db.session.execute(
            select(Contract).join(Compound, Compound.id == Contract.compound_id)
            .where(Compound.community_id == compound.community_id, Contract.firm_id != demo_firm_id,
                   Contract.in_force(d), Compound.management_mode == "专业物业")
            .order_by(Compound.id, Contract.id).limit(1)).scalar_one_or_none()
        if contract is None:
            return counts
        # The notice went out 40 days ago, or when the contract began if that is later.
        notice_on = max(d - timedelta(days=40), contract.start_date)
        x = logic.start_exit(contract, "年度考核列入黑榜，整改不到位，社区党委研究启动退出程序。",
                             f"demo:exit:{contract.id}", notice_on=notice_on)
        draft = Contract(firm_id=demo_firm_id, compound_id=contract.compound_id, start_date=x.effective_on,
                         end_date=x.effective_on.replace(year=x.effective_on.year + 3) - timedelta(days=1),
                         service_grade=contract.service_grade, fee_mode=contract.fee_mode,
                         fee_rate=contract.fee_rate or Decimal("1.00"), status="draft")
        db.session.add(draft)
        db.session.flush()
        logic.set_incoming(x, "firm", draft.id)
        items = {i.kind: i for i in x.items}
        for kind, note in SIGNED:
            logic.sign(manager, items[kind], note)
        logic.dispute(manager, items[DISPUTED[0]], DISPUTED[1])
        counts["exits"] = 1
    return counts
