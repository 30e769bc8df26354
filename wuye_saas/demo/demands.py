"""The demo district's demands (诉求): the default categories; two months of hand-written demands
in the demo community (and a few elsewhere in its street) in every state — closed after a
satisfied return visit, reopened after an unsatisfied one, in hand, waiting for dispatch, and
overdue ones already escalated to the street — which the demo accounts work on; and a year of
district-wide history (`_history`), inserted in bulk, so the dashboard's monthly figures have
a realistic volume, seasons, on-time and satisfaction rates."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select, update

from .. import audit
from ..auth.models import Membership, User
from ..demands import logic
from ..demands.models import Demand, DemandEvent
from ..extensions import db
from ..org.models import Community, Compound, Contract, Department, Firm, Household, Street
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import SHANGHAI, local, now
from .seed import DEMO_DEPARTMENT, GIVEN, MOBILE_PREFIXES, SURNAMES

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
# What a resident adds when reporting (in the resident's words, not an official's).
DETAILS = {
    "维修": ["已经好几天了，打过物业电话还没人来看。", "家里有老人，晚上上下楼很不方便，希望尽快修好。",
             "之前报过一次，修完没几天又坏了。"],
    "环境卫生": ["味道很大，夏天招蚊虫，希望按时清理。", "说过好几次了，一直没有改善。"],
    "停车": ["晚上下班回来经常没地方停，救护车都进不来。", "希望物业加强管理，划好车位。"],
    "安全隐患": ["担心出事，希望尽快排查处理。", "楼里住着好几户老人孩子，太危险了。"],
    "收费争议": ["和房产证上的面积对不上，想请物业核对一下。", "不清楚是按什么标准收的，希望公示明细。"],
    "文明养犬": ["孩子在小区里玩很害怕，希望物业提醒一下养犬户。", "晚上影响休息，沟通过没有效果。"],
    "加装电梯": ["单元里大多数住户同意，想问问下一步怎么办。", "低层住户有顾虑，希望社区出面协调。"],
    "其他": ["希望物业尽快处理。", "麻烦社区帮忙协调一下。"],
}
NAMES = ["李女士", "王先生", "张阿姨", "刘先生", "陈女士", "杨大爷", "赵先生", "孙女士"]
VOLUNTEERS = ["郝建国", "申秀英"]
DEPARTMENTS = ["区住建局", "区城管局", "街道综合执法队", "供电所"]
HAND_DAYS = 60  # the hand-written demands' window, days back from now
CHUNK = 1000


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
        # The district's own intake channels (003's 400 党员热线, its weekly 民情恳谈会).
        have = set(logic.channel_labels().values())
        for sort, name in ((60, "400 党员热线"), (70, "民情恳谈会")):
            if name not in have:
                logic.save_channel(None, name, True, sort)
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
        days = sorted((rng.uniform(0.2, HAND_DAYS) for _ in plan), reverse=True)
        for compound_id, age in zip(plan, days):
            received = at_now - timedelta(days=age)
            _one(rng, compound_id, received, at_now, cats, staff, firm_user, demo_firm_id)
            counts["demands"] += 1
        db.session.flush()
        # The rest of the district's year; the hand-written compounds' last two months are above.
        accounts = {"community": {demo.community_id: staff} if staff[0] else {},
                    "street": {street_id: _staff("street_staff", street_id=street_id)},
                    "firm": {demo_firm_id: firm_user}}
        made, events = _history(random.Random(seed + 1), at_now, cats, set(plan), accounts)
        counts["demands"] += made
        counts["demand_events"] = events
        # Every department the demands name is one of the district's registered departments.
        db.session.execute(update(Demand).where(Demand.assignee_kind == "department").values(
            department_id=select(Department.id).where(Department.name == Demand.assignee_name,
                                                      Department.tenant_id == tenant_id).scalar_subquery()))
        counts["demands"] += _for_department(demo, cats)
    return counts


def _for_department(demo: Compound, cats: dict) -> int:
    """Two of the demo compound's demands given to the department that has the demo account, by
    the workflow itself: one it accepted and is handling, one waiting for it to accept."""
    staff = db.session.execute(select(Membership).where(
        Membership.role == "community_staff", Membership.community_id == demo.community_id)).scalars().first()
    department = db.session.execute(select(Department).where(Department.name == DEMO_DEPARTMENT)).scalar_one_or_none()
    own = department and db.session.execute(select(Membership).where(
        Membership.role == "department_staff", Membership.department_id == department.id)).scalars().first()
    if staff is None or not own:
        return 0
    cases = (("小区南门占道经营，早晚高峰堵塞", "流动摊贩在南门口摆摊，车辆进出困难。", "已安排执法中队到场劝离，设置提示牌。"),
             ("底商夜间烧烤油烟扰民", "楼下烧烤店油烟直排，晚上十点后仍在营业。", None))
    for title, detail, accepted in cases:
        d = logic.intake(staff, demo.id, logic.Intake(cats["环境卫生"].id, title, detail, "李女士", "13903551234",
                                                      channel="hotline_12345"))
        logic.dispatch(d, staff, "department", None, "属城管执法事项，请区城管局到场处置。",
                       department_id=department.id)
        if accepted:
            logic.accept(d, own, accepted)
    return len(cases)


def _detail(category: str, compound_id: int, received) -> str:
    # Chosen without drawing from rng: the rest of the demo stays what it was.
    options = DETAILS[category]
    return options[(compound_id + received.day) % len(options)]


def _one(rng, compound_id, received, at_now, cats, staff, firm_user, demo_firm_id):
    name = rng.choice(list(TITLES))
    cat = cats[name]
    urgency = "urgent" if name == "安全隐患" or rng.random() < 0.1 else "normal"
    channel = rng.choice(["online", "online", "hotline_12345", "hotline_12345", "visit", "patrol", "petition"])
    household = db.session.execute(select(Household).where(Household.compound_id == compound_id)
                                   .order_by(Household.id).offset(rng.randint(0, 40)).limit(1)).scalar_one_or_none()
    d = Demand(number=logic.next_number(received), compound_id=compound_id, category_id=cat.id, channel=channel,
               urgency=urgency, title=rng.choice(TITLES[name]), description=_detail(name, compound_id, received),
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


# --- the district's year (bulk) -------------------------------------------------------------
# Shares of the categories in 物业 complaints, and their seasons (factor by calendar month, Jan
# first): repairs peak in the heating season (radiators, frozen pipes) and the summer rains
# (leaking roofs, flooded basements), sanitation in the hot months, dogs in warm evenings, fee
# disputes when the yearly fees are collected.
SHARES = {"维修": 30, "环境卫生": 16, "停车": 14, "安全隐患": 8, "收费争议": 9, "文明养犬": 7, "加装电梯": 4,
          "其他": 12}
SEASON = {
    "维修": (1.6, 1.3, 0.8, 0.75, 0.8, 1.2, 1.5, 1.4, 0.9, 0.8, 1.5, 1.6),
    "环境卫生": (0.8, 0.9, 0.9, 1.0, 1.1, 1.4, 1.5, 1.5, 1.2, 0.9, 0.8, 0.8),
    "停车": (1.2, 1.3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.0, 1.1),
    "安全隐患": (1.3, 1.2, 0.9, 0.9, 0.9, 1.0, 1.2, 1.1, 0.9, 0.9, 1.2, 1.3),
    "收费争议": (1.4, 1.1, 1.0, 1.0, 1.0, 1.2, 1.1, 1.0, 1.0, 1.0, 1.0, 1.3),
    "文明养犬": (0.7, 0.7, 0.9, 1.1, 1.3, 1.3, 1.3, 1.2, 1.1, 1.0, 0.8, 0.7),
    "加装电梯": (0.6, 0.6, 1.1, 1.3, 1.3, 1.1, 1.0, 1.0, 1.2, 1.2, 1.0, 0.7),
    "其他": (1.0,) * 12,
}
WINTER, SUMMER = (11, 12, 1, 2), (6, 7, 8)
# Demands per compound per month on average (0.4–0.8 in 潞州-sized districts), then by size and
# mode: unmanaged compounds have nobody to fix things, so residents call more.
RATE = 0.55
MODE_FACTOR = {"专业物业": 0.9, "自管": 1.1, "国资托管": 1.15, "无人管理": 1.35}
# 潞州 receives them by 12345, 信访, 网络 and 上门 (seeds/002), and the grid finds some on patrol.
CHANNEL_SHARES = {"hotline_12345": 38, "online": 24, "visit": 18, "patrol": 15, "petition": 5}
HOUR_SHARES = {7: 1, 8: 4, 9: 8, 10: 8, 11: 6, 12: 3, 13: 3, 14: 6, 15: 7, 16: 7, 17: 5, 18: 3, 19: 3, 20: 3,
               21: 2, 22: 1}
BULK_TITLES = {
    "维修": {"winter": ["暖气不热", "暖气管道漏水", "楼道窗户破损漏风", "室外水管冻裂"],
             "summer": ["屋面漏雨", "雨后地下室积水", "外墙渗水", "二次供水水压低"],
             "any": ["楼道感应灯不亮", "单元门禁损坏", "电梯故障停运", "下水道堵塞", "单元门闭门器损坏"]},
    "环境卫生": {"summer": ["垃圾桶异味大、蚊蝇多", "绿化带杂草丛生", "化粪池外溢"],
                 "any": ["垃圾清运不及时", "楼道堆放杂物", "小广告乱贴乱画", "公共区域清扫不到位"]},
    "停车": {"any": ["消防通道被占用", "外来车辆占用车位", "非机动车乱停放", "僵尸车长期占用车位"]},
    "安全隐患": {"winter": ["楼道私拉电线取暖"],
                 "any": ["电动车楼道充电", "外墙瓷砖脱落", "消防栓无水", "井盖破损"]},
    "收费争议": {"any": ["物业费计费面积有误", "停车费收费标准不清", "公共收益去向不明", "催缴物业费方式不当"]},
    "文明养犬": {"any": ["遛狗不牵绳", "犬只夜间吠叫扰民", "犬只粪便无人清理"]},
    "加装电梯": {"any": ["加装电梯意见征集", "加装电梯低层业主补偿协调", "加装电梯施工噪音扰民"]},
    "其他": {"any": ["小区公示栏内容未更新", "快递柜占用公共区域", "广场舞音响扰民", "小区监控无人值守"]},
}
DESCRIPTIONS = ["{t}，请尽快安排处理。", "居民反映{t}，已持续多日，希望尽快解决。",
                "{t}，影响居民正常生活，请相关单位处理。", "{t}，此前已向物业口头反映，至今未处理。"]
RESOLUTIONS = {
    "维修": ["已安排维修人员到场更换损坏部件，试用正常。", "维修班组已到场处理，现场已恢复正常使用。"],
    "暖气": ["已对管道排气并调整阀门，复测室温达 18℃ 以上。", "已更换漏水管件并恢复供暖，入户测温正常。"],
    "环境卫生": ["已组织保洁人员集中清理，并增加清运频次。", "已清理完毕，张贴提示并纳入每日巡查。"],
    "停车": ["已联系车主挪车，通道已恢复畅通，增设禁停标识。", "已规范停放并张贴告知，纳入秩序维护巡查。"],
    "安全隐患": ["已现场排除隐患，设置警示标识并复查。", "已会同相关部门整改到位，隐患已消除。"],
    "收费争议": ["已核对合同和账单并向居民解释，计费有误部分已更正。", "已公示收费依据，当面向居民说明。"],
    "文明养犬": ["已上门劝导犬主文明养犬，签订文明养犬承诺书。", "已联合社区民警开展宣传劝导，持续跟踪。"],
    "加装电梯": ["已组织楼栋业主协商，形成书面意见，按程序推进。", "已协调施工方调整作业时间，现场已整改。"],
    "其他": ["已按居民意见处理完毕，并向居民反馈。", "已协调相关方整改，现场已恢复正常。"],
}
DEPARTMENTS_FOR = {"维修": ["区住建局", "供电所", "市自来水公司"], "环境卫生": ["区城管局", "街道环卫所"],
                   "停车": ["街道综合执法队", "交警大队"], "安全隐患": ["街道综合执法队", "消防救援站", "供电所"],
                   "收费争议": ["区物业管理服务中心", "区市场监管局"], "文明养犬": ["辖区派出所", "街道综合执法队"],
                   "加装电梯": ["区住建局"], "其他": ["区物业管理服务中心", "街道综合执法队"]}
VISIT_NOTES = {"satisfied": "电话回访居民，对处理结果表示满意", "basically": "电话回访居民，基本满意，希望加强日常巡查",
               "unsatisfied": "电话回访居民，对处理结果不满意"}
CLOSE_REASONS = ["诉求涉及业主专有部分，已向居民解释并提供维修渠道", "已按政策和合同处理到位，居民诉求超出规定标准，已做解释",
                 "经现场核实已整改完毕，居民仍有异议，已告知其他反映渠道"]
SUPERVISE_NOTES = ["已电话督促承办方，今日内办结并反馈。", "请承办方说明逾期原因，限期办结。",
                   "街道已到现场督办，承办方承诺两日内处理完毕。"]
SEQ_WIDTH = 4


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small means here."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _utc(local_dt: datetime) -> datetime:
    return local_dt.replace(tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


def _office(at: datetime, rng: random.Random) -> datetime:
    """The first office-hours moment (08:00–18:00 Shanghai) at or after `at`."""
    loc = local(at).replace(tzinfo=None)
    if 8 <= loc.hour < 18:
        return at
    day = loc.date() + timedelta(days=1 if loc.hour >= 18 else 0)
    return _utc(datetime.combine(day, time(8)) + timedelta(minutes=rng.uniform(0, 90)))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _firm_on(contracts: list[tuple], day: date) -> tuple[int, str] | None:
    """The firm of the latest-starting contract valid on the day (what dispatch offers first)."""
    valid = [(start, fid, name) for start, end, fid, name in contracts if start <= day <= end]
    return max(valid)[1:] if valid else None


def _history(rng: random.Random, at_now: datetime, cats: dict, skip_recent: set[int],
             accounts: dict) -> tuple[int, int]:
    """A year of demands in every compound, in bulk: (demands, events). Each follows the real
    workflow as it would have stood now; the compounds in `skip_recent` have their last
    HAND_DAYS days from the hand-written demands."""
    comps = db.session.execute(
        select(Compound.id, Compound.community_id, Compound.management_mode, Compound.compound_type,
               Community.name.label("community_name"), Community.street_id, Street.name.label("street_name"))
        .join(Community, Community.id == Compound.community_id).join(Street, Street.id == Community.street_id)
        .order_by(Compound.id)).all()
    homes: dict[int, list[int]] = {}
    for cid, hid in db.session.execute(select(Household.compound_id, Household.id).order_by(Household.id)):
        homes.setdefault(cid, []).append(hid)
    contracts: dict[int, list[tuple]] = {}
    for row in db.session.execute(select(Contract.compound_id, Contract.start_date, Contract.end_date, Firm.id,
                                         Firm.name).join(Firm, Firm.id == Contract.firm_id)):
        contracts.setdefault(row[0], []).append(tuple(row[1:]))
    # Who acts: the demo accounts in their own branch, named staff elsewhere (no login).
    community_staff = {c.community_id: accounts["community"].get(c.community_id)
                       or (None, f"{_person(rng)}（{c.community_name}）") for c in comps}
    street_staff = {c.street_id: accounts["street"].get(c.street_id) or (None, f"{_person(rng)}（{c.street_name}）")
                    for c in comps}
    volunteers = {cid: [_person(rng) for _ in range(3)] for cid in community_staff}
    firm_late = {}  # firm id → its share of demands resolved late
    mean_homes = sum(len(v) for v in homes.values()) / max(1, len(comps))
    rates = {c.id: RATE * MODE_FACTOR.get(c.management_mode, 1.0) * ((len(homes.get(c.id, [])) or mean_homes)
                                                                    / mean_homes) ** 0.6 for c in comps}
    scale = len(comps) * RATE / sum(rates.values())  # keep the district's mean at RATE
    season_mean = sum(sum(SHARES[k] * SEASON[k][m] for k in SHARES) for m in range(12)) / 12

    now_local = local(at_now).replace(tzinfo=None)
    this_month = now_local.date().replace(day=1)
    recent = at_now - timedelta(days=HAND_DAYS)
    rows, plans = [], []
    for back in range(11, -1, -1):
        first = _add_months(this_month, -back)
        last = min(_add_months(first, 1) - timedelta(days=1), now_local.date())
        days = (last - first).days + 1
        share = days / ((_add_months(first, 1) - first).days)
        weights = {k: SHARES[k] * SEASON[k][first.month - 1] for k in SHARES}
        month_factor = sum(weights.values()) / season_mean
        for c in comps:
            for _ in range(_poisson(rng, rates[c.id] * scale * month_factor * share)):
                channel = rng.choices(list(CHANNEL_SHARES), list(CHANNEL_SHARES.values()))[0]
                hours = (list(HOUR_SHARES) if channel in ("hotline_12345", "online")
                         else [h for h in HOUR_SHARES if 8 <= h <= 17])
                hour = rng.choices(hours, [HOUR_SHARES[h] for h in hours])[0]
                at = _utc(datetime.combine(first + timedelta(days=rng.randrange(days)), time(hour))
                          + timedelta(minutes=rng.uniform(0, 60)))
                if at >= at_now - timedelta(minutes=5):
                    at = at_now - timedelta(minutes=rng.uniform(5, 240))
                if c.id in skip_recent and at > recent:
                    continue
                cat_w = dict(weights)
                if c.compound_type not in ("老旧小区", "单位房改房", "安置房"):
                    cat_w["加装电梯"] = 0  # new-built compounds have lifts
                if c.management_mode in ("自管", "无人管理"):
                    cat_w["收费争议"] *= 0.3  # little or no 物业费
                name = rng.choices(list(cat_w), list(cat_w.values()))[0]
                plans.append((at, c, channel, name))
    plans.sort(key=lambda p: p[0])

    numbers = _numbers_taken()
    all_events = []
    for at, c, channel, name in plans:
        firm = _firm_on(contracts.get(c.id, []), local(at).date())
        if firm and firm[0] not in firm_late:
            firm_late[firm[0]] = 0.04 if firm[0] in accounts["firm"] else rng.uniform(0.02, 0.11)
        day = f"{local(at):%Y%m%d}"
        numbers[day] = numbers.get(day, 0) + 1
        row, events = _bulk_one(rng, at, at_now, c, channel, cats[name], name, firm, homes.get(c.id, []),
                                community_staff[c.community_id], street_staff[c.street_id],
                                volunteers[c.community_id], accounts["firm"], firm_late)
        row["number"] = f"SQ{day}-{numbers[day]:0{SEQ_WIDTH}d}"
        rows.append(row)
        all_events.append(events)

    tenant_id = current_tenant_id()
    stmt = insert(Demand).returning(Demand.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for i in range(0, len(rows), CHUNK):
        ids += db.session.execute(stmt, [{**r, "tenant_id": tenant_id} for r in rows[i:i + CHUNK]]).scalars().all()
    flat = [{**e, "tenant_id": tenant_id, "demand_id": did} for did, events in zip(ids, all_events) for e in events]
    for i in range(0, len(flat), CHUNK):
        db.session.execute(insert(DemandEvent), flat[i:i + CHUNK])
    # The bulk writes bypass the ORM unit of work: one summary audit event.
    audit.record_event("create", "demand", f"演示诉求 {len(rows)} 件（近 12 个月，全区）",
                       changes={"demands": len(rows), "events": len(flat)})
    db.session.flush()
    return len(rows), len(flat)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def _numbers_taken() -> dict[str, int]:
    """Shanghai day (YYYYMMDD) → the last daily sequence number used (the hand-written ones)."""
    out: dict[str, int] = {}
    for number in db.session.execute(select(Demand.number)).scalars():
        day, _, seq = number.removeprefix("SQ").partition("-")
        out[day] = max(out.get(day, 0), int(seq))
    return out


def _bulk_one(rng, received, at_now, c, channel, cat, name, firm, homes, staff, street, volunteers, firm_accounts,
              firm_late) -> tuple[dict, list[dict]]:
    """One demand's row and timeline as they stand at `at_now`."""
    month = local(received).month
    season = "winter" if month in WINTER else "summer" if month in SUMMER else "any"
    titles = BULK_TITLES[name]
    pool = titles.get(season) if season in titles and rng.random() < 0.6 else titles["any"]
    title = rng.choice(pool)
    urgent = (name == "安全隐患" and rng.random() < 0.7) or rng.random() < 0.06
    urgency = "urgent" if urgent else "normal"
    if channel == "online":
        urgency, urgent = "normal", False   # residents' own submissions come in as 一般
    deadline = logic.deadline_for(cat, urgency, received)
    hours = (deadline - received).total_seconds() / 3600
    staff_id, staff_name = staff
    household = rng.choice(homes) if homes and (channel == "online" or rng.random() < 0.6) else None
    d = {"compound_id": c.id, "category_id": cat.id, "channel": channel, "urgency": urgency, "title": title,
         "description": rng.choice(DESCRIPTIONS).format(t=title), "household_id": household,
         "contact_name": rng.choice(SURNAMES) + rng.choice(["女士", "先生", "阿姨", "大爷", "师傅"]),
         "contact_phone": f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}", "status": "new",
         "received_at": received, "deadline_at": deadline, "assignee_kind": None, "firm_id": None,
         "assignee_name": "", "dispatched_at": None, "accepted_at": None, "resolved_at": None, "resolution": "",
         "closed_at": None, "satisfaction": None, "escalated_at": None, "reopen_count": 0,
         "created_by_id": None if channel == "online" else staff_id}
    events: list[dict] = []

    def ev(kind, at, actor, uid=None, note="", data=None):
        events.append({"kind": kind, "at": at, "user_id": uid, "actor": actor[:80], "note": note, "data": data or {}})

    def escalate_until(until):
        """What the 10-minute escalation job did before `until`; the street often follows up."""
        if d["escalated_at"] is None and d["deadline_at"] < until:
            at = d["deadline_at"] + timedelta(minutes=rng.uniform(1, 10))
            d["escalated_at"] = at
            ev("escalated", at, "系统", None, "超过办理时限未办结，自动升级街道督办")
            sup = _office(at + timedelta(hours=rng.uniform(1, 8)), rng)
            if rng.random() < 0.6 and sup < until:
                ev("supervised", sup, street[1], street[0], rng.choice(SUPERVISE_NOTES))

    def finish():
        events.sort(key=lambda e: e["at"])  # stable: same-moment steps keep their order
        return d, events

    ev("submitted", received, "居民（网上提交）" if channel == "online" else staff_name,
       None if channel == "online" else staff_id, f"{logic.CHANNELS[channel]}受理", {"channel": channel})
    # Dispatch by the community in office hours; urgent ones by the duty staff at once.
    t = received + timedelta(hours=rng.uniform(0.2, 1.0) if urgent else rng.uniform(0.3, 3.0))
    if not urgent:
        t = _office(t, rng)
    if t >= at_now:
        escalate_until(at_now)
        return finish()
    if name == "加装电梯":
        kind, assignee = "department", "区住建局"
    elif firm and rng.random() < (0.7 if name == "安全隐患" else 0.88):
        kind, assignee = "firm", firm[1]
    elif c.management_mode == "自管" and rng.random() < 0.6:
        kind, assignee = "volunteer", rng.choice(volunteers)
    else:
        kind, assignee = "department", rng.choice(DEPARTMENTS_FOR[name])
    d.update(assignee_kind=kind, firm_id=firm[0] if kind == "firm" else None, assignee_name=assignee,
             status="dispatched", dispatched_at=t)
    ev("dispatched", t, staff_name, staff_id, "", {"assignee_kind": kind, "assignee": assignee,
                                                  "firm_id": d["firm_id"], "again": False, "level": "community"})
    if kind == "firm":
        handler = firm_accounts.get(firm[0]) or (None, firm[1])
        late_p = firm_late[firm[0]]
    else:
        handler = (staff_id, f"{assignee}（{staff_name}代为登记）")
        late_p = 0.12 if kind == "department" else 0.06
    late_p += 0.12 if name == "加装电梯" else 0.04 if urgent else 0

    for round_ in (0, 1):
        t += timedelta(hours=rng.uniform(0.1, 0.6) if urgent else rng.uniform(0.3, 2.5))
        if t >= at_now:
            escalate_until(at_now)
            return finish()
        d.update(status="accepted", accepted_at=t)
        ev("accepted", t, handler[1], handler[0])
        start = d["dispatched_at"] if round_ else received
        span = (d["deadline_at"] - start).total_seconds() / 3600
        late = rng.random() < (late_p if round_ == 0 else late_p / 2)
        t_res = max(start + timedelta(hours=span * (rng.uniform(1.05, 1.7) if late else rng.uniform(0.15, 0.85))),
                    t + timedelta(minutes=30))
        escalate_until(min(t_res, at_now))
        if t_res >= at_now:
            return finish()
        note = rng.choice(RESOLUTIONS["暖气" if title.startswith("暖气") else name])
        d.update(status="resolved", resolved_at=t_res, resolution=note)
        ev("resolved", t_res, handler[1], handler[0], note, {"on_time": t_res <= d["deadline_at"]})
        t_visit = _office(t_res + timedelta(hours=rng.uniform(3, 40)), rng)
        if t_visit >= at_now:
            return finish()
        sat = rng.choices(["satisfied", "basically", "unsatisfied"], [64, 20, 16] if round_ == 0 else [40, 48, 12])[0]
        d["satisfaction"] = sat
        ev("visited", t_visit, staff_name, staff_id, VISIT_NOTES[sat], {"satisfaction": sat})
        if sat == "unsatisfied" and round_ == 0 and rng.random() < 0.45:
            d.update(status="dispatched", reopen_count=1, dispatched_at=t_visit, accepted_at=None, resolved_at=None,
                     resolution="", deadline_at=logic.deadline_for(cat, urgency, t_visit))
            ev("reopened", t_visit, staff_name, staff_id, f"回访不满意，退回{assignee}重新办理",
               {"deadline_at": d["deadline_at"].isoformat(), "reopen_count": 1})
            t = t_visit
            continue
        reason = rng.choice(CLOSE_REASONS) if sat == "unsatisfied" else ""
        d.update(status="closed", closed_at=t_visit)
        ev("closed", t_visit, staff_name, staff_id, reason, {"satisfaction": sat})
        return finish()
    return finish()
