"""The demo district's accounts and publicity: the publicity schedule from RULES.md, two
years of 专项维修资金 and 公共收益 entries for the compounds with a committee, the standing fee
notice (明码标价) of every compound the demo firm serves, last quarter's 公共收益 statement of
the demo compound, and one objection (质询) on it that the firm has answered."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from .. import audit
from ..auth.models import Membership, User
from ..extensions import db
from ..org.models import Committee, Compound, Contract
from ..publicity import checks, publications, schedule
from ..publicity import templates_content as tc
from ..publicity.models import LedgerEntry, LedgerKeeper
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import today

NOTICE_TEXTS = {"payer": "本小区全体业主（物业使用人按约定代缴）",
                "service_content": "公共区域保洁、秩序维护、绿化养护、共用设施设备日常维修养护、装修管理服务",
                "items": "物业服务费（不含专项维修资金、停车服务费）",
                "basis_text": "《物业服务收费管理办法》、本区物业服务收费政策及物业服务合同"}
REVENUE = [("停车费", 180_000, 420_000), ("广告费", 30_000, 120_000), ("场地租赁", 20_000, 60_000),
           ("快递柜", 5_000, 15_000)]
SPENDING = [("公共设施维修", 20_000, 150_000), ("补充维修资金", 50_000, 200_000)]


def _quarter_before(d: date) -> tuple[date, date]:
    first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    end = first - timedelta(days=1)
    return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end


def seed_publicity(tenant_id: int, demo_compound_id: int, demo_firm_id: int, seed: int = 1151) -> dict:
    rng, now = random.Random(seed), today()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        counts = {"requirements": schedule.seed_defaults()}
        # Here the firms collect and keep the common parts' income (代收代管) and the committees
        # check it — so an objection goes from the committee to the firm.
        db.session.add(LedgerKeeper(kind="public_revenue", keeper="firm"))
        with_committee = db.session.execute(select(Committee.compound_id).distinct()).scalars().all()
        areas = dict(db.session.execute(select(Compound.id, Compound.area_m2)
                                        .where(Compound.id.in_(with_committee))).all())
        rows = []
        for cid in with_committee:
            area = areas.get(cid) or Decimal("20000")
            # 首期交存: ≈ 100 元/㎡ (5–8% of the construction cost, 令165), then yearly interest.
            deposit = int(area * 100 * 100)
            start = now - timedelta(days=730)
            rows.append(_entry(cid, "maintenance_fund", start, "首期交存", deposit, "全体业主"))
            rows.append(_entry(cid, "maintenance_fund", start + timedelta(days=365), "利息", deposit // 70, "开户银行"))
            for month in range(24):
                day = start + timedelta(days=30 * month + rng.randint(0, 25))
                if day >= now:
                    break
                for category, lo, hi in REVENUE[:2 if rng.random() < 0.5 else 4]:
                    rows.append(_entry(cid, "public_revenue", day, category, rng.randint(lo, hi) // 10 * 10,
                                       "物业服务企业代收"))
                if rng.random() < 0.3:
                    category, lo, hi = rng.choice(SPENDING)
                    rows.append(_entry(cid, "public_revenue", day, category, -rng.randint(lo, hi) // 10 * 10,
                                       "施工单位"))
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(LedgerEntry), rows[i:i + 5000])
        audit.record_event("create", "ledger_entry", f"演示账目 {len(rows)} 笔", changes={"entries": len(rows)})
        counts["ledger_entries"] = len(rows)

        firm_compounds = db.session.execute(select(Compound).join(Contract, Contract.compound_id == Compound.id)
                                            .where(Contract.firm_id == demo_firm_id, Contract.start_date <= now,
                                                   Contract.end_date >= now)).scalars().all()
        firm_user = _user_of("firm_manager", firm_id=demo_firm_id)
        for c in firm_compounds:
            publications.publish(c, "standing_notice", tc.standing_notice(c.id, now, NOTICE_TEXTS),
                                 tc.title_for("standing_notice", c), user=firm_user)
        compound = db.session.get(Compound, demo_compound_id)
        start, end = _quarter_before(now)
        chair = _user_of("committee_member", compound_id=demo_compound_id)
        statement = publications.publish(
            compound, "ledger_statement", tc.ledger_statement(compound.id, "public_revenue", start, end),
            tc.title_for("ledger_statement", compound, "public_revenue", start, end), user=firm_user,
            start=start, end=end)
        counts["publications"] = len(firm_compounds) + 1
        _objection(statement, chair, firm_user)
        db.session.flush()
    return counts


def _entry(cid, kind, day, category, amount, counterparty) -> dict:
    return {"tenant_id": current_tenant_id(), "compound_id": cid, "kind": kind, "entry_date": day,
            "category": category, "amount_fen": amount, "counterparty": counterparty,
            "voucher_no": "", "note": ""}


def _user_of(role: str, **scope) -> User | None:
    stmt = select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == role)
    for key, value in scope.items():
        stmt = stmt.where(getattr(Membership, key) == value)
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def _objection(p, chair: User | None, firm_user: User | None) -> None:
    """The chair asks about the parking income line; the firm, keeper of 公共收益 here, answers."""
    if chair is None or firm_user is None:
        return
    lines = checks.lines(p)
    target = next((ln for ln in lines if "停车" in ln.get("label", "") + ln.get("key", "")), lines[0] if lines else None)
    if target is None:
        return
    def membership(user):
        return db.session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()

    with audit.acting_as(chair.id, chair.display_name):
        obj = checks.raise_objection(p, membership(chair), target["key"],
                                     "停车收入较上季度减少，请说明原因并附停车场收费明细。")
    with audit.acting_as(firm_user.id, firm_user.display_name):
        checks.answer(obj, membership(firm_user),
                      "本季度地下车库改造，部分车位停用两个月，收费明细已张贴于物业服务中心公示栏。")
