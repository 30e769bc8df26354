"""The demo district's demands (诉求): the default categories, and two months of demands in the
demo community (and a few elsewhere in its street) in every state — closed after a satisfied
return visit, reopened after an unsatisfied one, in hand, waiting for dispatch, and overdue
ones already escalated to the street — so every list tab, badge and count has something."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership, User
from ..demands import logic
from ..demands.models import Demand, DemandEvent
from ..extensions import db
from ..org.models import Community, Compound, Household
from ..tenancy import tenant_scope
from ..timeutil import now

TITLES = {
    "维修": ["楼道感应灯不亮", "单元门禁损坏", "屋面漏雨", "二次供水水压低", "下水道堵塞"],
    "环境卫生": ["垃圾清运不及时", "楼道堆放杂物", "绿化带杂草丛生"],
    "停车": ["消防通道被占用", "外来车辆占用车位", "非机动车乱停放"],
    "安全隐患": ["电动车楼道充电", "外墙瓷砖脱落", "消防栓无水"],
    "收费争议": ["物业费计费面积有误", "停车费收费标准不清"],
    "文明养犬": ["遛狗不牵绳", "犬只夜间吠叫扰民"],
    "加装电梯": ["加装电梯意见征集", "加装电梯低层业主补偿协调"],
    "其他": ["小区公示栏内容未更新", "快递柜占用公共区域"],
}
NAMES = ["李女士", "王先生", "张阿姨", "刘先生", "陈女士", "杨大爷", "赵先生", "孙女士"]
VOLUNTEERS = ["党员志愿者 郝建国", "党员志愿者 申秀英"]
DEPARTMENTS = ["区住建局", "区城管局", "街道综合执法队", "供电所"]


def _staff(role: str, **scope):
    stmt = (select(User.id, User.display_name).join(Membership, Membership.user_id == User.id)
            .where(Membership.role == role))
    for key, value in scope.items():
        stmt = stmt.where(getattr(Membership, key) == value)
    return db.session.execute(stmt.limit(1)).first()


def seed_demands(tenant_id: int, demo_compound_id: int, demo_firm_id: int, seed: int = 12345) -> dict:
    rng, at_now = random.Random(seed), now()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        logic.ensure_default_categories()
        cats = {c.name: c for c in logic.categories(active_only=True)}
        demo = db.session.get(Compound, demo_compound_id)
        street_id = db.session.get(Community, demo.community_id).street_id
        community_compounds = list(db.session.execute(select(Compound.id).where(
            Compound.community_id == demo.community_id).order_by(Compound.id)).scalars())
        street_compounds = list(db.session.execute(select(Compound.id).join(Community).where(
            Community.street_id == street_id, Compound.community_id != demo.community_id)
            .order_by(Compound.id).limit(6)).scalars())
        staff = _staff("community_staff", community_id=demo.community_id) or (None, "社区工作人员")
        firm_user = _staff("firm_manager", firm_id=demo_firm_id)
        counts = {"demands": 0}
        # Oldest first so the daily numbers run in order; the demo compound gets the most.
        plan = ([demo_compound_id] * 30 + community_compounds * 3 + street_compounds * 2)
        rng.shuffle(plan)
        days = sorted((rng.uniform(0.2, 60) for _ in plan), reverse=True)
        for compound_id, age in zip(plan, days):
            received = at_now - timedelta(days=age)
            _one(rng, compound_id, received, at_now, cats, staff, firm_user, demo_firm_id)
            counts["demands"] += 1
        db.session.flush()
    return counts


def _one(rng, compound_id, received, at_now, cats, staff, firm_user, demo_firm_id):
    name = rng.choice(list(TITLES))
    cat = cats[name]
    urgency = "urgent" if name == "安全隐患" or rng.random() < 0.1 else "normal"
    channel = rng.choice(["online", "online", "hotline_12345", "hotline_12345", "visit", "patrol", "petition"])
    household = db.session.execute(select(Household).where(Household.compound_id == compound_id)
                                   .order_by(Household.id).offset(rng.randint(0, 40)).limit(1)).scalar_one_or_none()
    d = Demand(number=logic.next_number(received), compound_id=compound_id, category_id=cat.id, channel=channel,
               urgency=urgency, title=rng.choice(TITLES[name]), description="居民反映情况属实，请尽快处理。",
               household_id=household.id if household else None, contact_name=rng.choice(NAMES),
               contact_phone=f"139{rng.randint(10000000, 99999999)}", status="new", received_at=received,
               deadline_at=logic.deadline_for(cat, urgency, received), created_by_id=None)
    db.session.add(d)
    db.session.flush()
    staff_id, staff_name = staff
    ev = lambda kind, at, actor, uid=None, note="", data=None: db.session.add(  # noqa: E731
        DemandEvent(demand_id=d.id, kind=kind, at=at, user_id=uid, actor=actor, note=note, data=data or {}))
    ev("submitted", received, "居民（网上提交）" if channel == "online" else staff_name,
       None if channel == "online" else staff_id, f"{logic.CHANNELS[channel]}受理", {"channel": channel})
    hours = (d.deadline_at - received).total_seconds() / 3600
    fate = rng.random()
    if (at_now - received) < timedelta(hours=6) or fate < 0.08:
        _escalate_if_due(d, at_now, ev)
        return  # still waiting for dispatch
    firms = logic.dispatch_firms(compound_id)
    t = received + timedelta(hours=rng.uniform(0.5, 4))
    if firms and rng.random() < 0.8:
        d.assignee_kind, d.firm_id, d.assignee_name = "firm", firms[0].id, firms[0].name
        handler = (firm_user if firms[0].id == demo_firm_id and firm_user else (None, firms[0].name))
    else:
        d.assignee_kind = rng.choice(["volunteer", "department"])
        d.assignee_name = rng.choice(VOLUNTEERS if d.assignee_kind == "volunteer" else DEPARTMENTS)
        handler = (staff_id, f"{d.assignee_name}（{staff_name}代为登记）")
    d.status, d.dispatched_at = "dispatched", t
    ev("dispatched", t, staff_name, staff_id, "", {"assignee_kind": d.assignee_kind, "assignee": d.assignee_name,
                                                  "firm_id": d.firm_id, "again": False, "level": "community"})
    if fate < 0.18 and t + timedelta(hours=2) < at_now:
        _escalate_if_due(d, at_now, ev)
        return  # dispatched, not accepted yet
    t += timedelta(hours=rng.uniform(0.5, 3))
    d.status, d.accepted_at = "accepted", t
    ev("accepted", t, handler[1], handler[0])
    # Most are resolved within the deadline; some late, some still in hand.
    late = rng.random() < 0.15
    t_res = t + timedelta(hours=hours * (rng.uniform(1.05, 1.6) if late else rng.uniform(0.1, 0.8)))
    if fate < 0.3 or t_res > at_now:
        _escalate_if_due(d, at_now, ev)
        return
    _escalate_if_due(d, t_res, ev)
    d.status, d.resolved_at, d.resolution = "resolved", t_res, "已安排人员到场处理完毕，现场已恢复正常。"
    ev("resolved", t_res, handler[1], handler[0], d.resolution, {"on_time": t_res <= d.deadline_at})
    t_visit = t_res + timedelta(hours=rng.uniform(4, 30))
    if t_visit > at_now or fate < 0.4:
        return  # waiting for the return visit
    sat = rng.choices(["satisfied", "basically", "unsatisfied"], [70, 20, 10])[0]
    d.satisfaction = sat
    ev("visited", t_visit, staff_name, staff_id, "电话回访居民", {"satisfaction": sat})
    if sat == "unsatisfied":
        d.status, d.reopen_count, d.dispatched_at = "dispatched", 1, t_visit
        d.accepted_at, d.resolved_at, d.resolution = None, None, ""
        d.deadline_at = logic.deadline_for(d.category, d.urgency, t_visit)
        ev("reopened", t_visit, staff_name, staff_id, f"回访不满意，退回{d.assignee_name}重新办理",
           {"deadline_at": d.deadline_at.isoformat(), "reopen_count": 1})
        _escalate_if_due(d, at_now, ev)
        return
    d.status, d.closed_at = "closed", t_visit
    ev("closed", t_visit, staff_name, staff_id, "", {"satisfaction": sat})


def _escalate_if_due(d: Demand, until, ev) -> None:
    """What the scheduled job would have done by `until` (it runs every 10 minutes)."""
    at = d.deadline_at + timedelta(minutes=10)
    if d.escalated_at is None and at <= until:
        d.escalated_at = at
        ev("escalated", at, "系统", None, "超过办理时限未办结，自动升级街道督办")
