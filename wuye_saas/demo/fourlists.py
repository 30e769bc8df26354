"""The demo community's 四项清单 for this year, made through the same logic the pages use: needs
taken from the demo compound's demands and last month's joint meeting, what units offer, the
services promised and who answers for what (1+3+N), three 为民服务项目 with progress reports, one
item done, one overdue."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from .. import audit
from ..demands.models import Demand
from ..extensions import db
from ..fourlists import logic
from ..meetings.models import AgendaItem
from ..org.models import Compound
from ..tenancy import tenant_scope
from ..timeutil import today
from .meetings import _member


def seed_fourlists(tenant_id: int, demo_compound_id: int, demo_firm_id: int) -> dict:
    on = today()
    year = on.year
    end = date(year, 12, 31)
    with tenant_scope(tenant_id):
        compound = db.session.get(Compound, demo_compound_id)
        staff = _member("community_staff", community_id=compound.community_id)
        if staff is None:
            return {"four_list_items": 0}
        m, user = staff
        author = f"{user.display_name}（社区工作人员）"
        cid = compound.community_id
        n = 0

        def add(kind, title, owner_kind, owner_name="", due=None, firm=None, compound_id=None, detail="",
                priority=False, **source):
            nonlocal n
            n += 1
            return logic.create_item(m, logic.ItemData(cid, year, kind, title, detail, owner_kind, owner_name,
                                                       firm, compound_id, due, priority), user.id, **source)

        def progress(item, state, pct, note, days_ago):
            u = logic.report(m, item, state, pct, note, user.id, author)
            u.at = u.at - timedelta(days=days_ago)

        with audit.acting_as(user.id, user.display_name):
            demand = db.session.execute(select(Demand).where(Demand.compound_id == demo_compound_id)
                                        .order_by(Demand.id).limit(1)).scalar_one_or_none()
            if demand is not None:
                item = add("need", demand.title, "firm", firm=demo_firm_id, compound_id=demo_compound_id,
                           due=min(end, on + timedelta(days=20)), detail=demand.description, demand=demand)
                progress(item, "doing", 30, "物业已上门查看，材料已订购。", 3)
            agenda = db.session.execute(select(AgendaItem).where(AgendaItem.compound_id == demo_compound_id,
                                                                 AgendaItem.title == "地下车库照明和排水改造")
                                        ).scalar_one_or_none()
            if agenda is not None:
                garage = add("need", agenda.title, "firm", firm=demo_firm_id, compound_id=demo_compound_id,
                             due=min(end, on + timedelta(days=60)), detail=agenda.detail, priority=True,
                             agenda_item=agenda)
                progress(garage, "doing", 20, "方案和预算已报业委会审核。", 10)
                progress(garage, "doing", 45, "业委会审核通过，公示七日无异议，施工单位已进场。", 2)
            lift = add("need", "老旧楼栋加装电梯意愿摸底", "residents", "社区居委会", due=min(end, on + timedelta(days=45)),
                       compound_id=demo_compound_id, priority=True,
                       detail="对 1990 年前建成的 6 层楼栋逐户走访，统计加装电梯意愿和出资意向。")
            progress(lift, "doing", 60, "已走访 12 个单元中的 7 个，同意率 71%。", 5)
            # Overdue: the deadline passed last week with the work unfinished.
            late = add("duty", "小区消防通道占用整治", "department", "区消防救援大队",
                       due=max(date(year, 1, 1), on - timedelta(days=7)), compound_id=demo_compound_id,
                       detail="联合物业清理消防通道停放车辆，施划禁停标线。")
            progress(late, "doing", 50, "标线已施划，夜间占道停车仍有反复。", 9)
            add("duty", "物业服务质量月度自查并公示", "firm", firm=demo_firm_id, due=end,
                detail="每月 5 日前公示上月服务事项完成情况。")
            add("duty", "党员中心户联系楼栋居民", "party", "社区党委", due=end,
                detail="每名党员中心户联系 10–15 户，每月走访一次。")
            add("resource", "社区党群服务中心会议室（每周二、四下午）", "residents", "社区居委会",
                detail="供业委会、楼栋议事会免费使用，提前一天预约。")
            add("resource", "区人民医院每月一次义诊", "unit", "区人民医院",
                detail="每月第二个周六上午，社区广场。")
            add("resource", "在职党员志愿服务队 32 人", "volunteers", "社区在职党员志愿服务队")
            service = add("service", "独居老人每周探访", "volunteers", "社区在职党员志愿服务队", due=end, priority=True,
                          detail="对 45 户独居、空巢老人每周上门或电话探访一次，建立台账。")
            progress(service, "doing", 70, "45 户已全部建档，本月探访 176 人次。", 4)
            done = add("service", "夏季高温送清凉", "firm", firm=demo_firm_id,
                       due=max(date(year, 1, 1), min(end, on - timedelta(days=30))),
                       detail="为环卫、保安、快递一线人员送防暑用品。")
            progress(done, "done", 100, "7 月 15 日完成，发放防暑包 120 份。", 40)
        return {"four_list_items": n}
