"""The demo district's party-member volunteers: everyone the year of demands sent a demand to
(党员接单) is registered with their community, each such demand is their task (finished with
hours and points once resolved); the demo community also has a team, 在职党员 who reported and
look after buildings, open and claimed tasks, and an exchange of points."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from .. import audit
from ..demands.models import Demand
from ..extensions import db
from ..org.models import Building, Compound
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import local, today
from ..volunteers import logic
from ..volunteers.models import Volunteer, VolunteerTask, VolunteerTeam
from .meetings import _member

ORGANISATIONS = ["区住建局机关党支部", "区教育局党委", "区人民医院党总支", "街道办事处机关党支部", "区税务局党支部",
                 "社区退休党员", "区供电公司党支部", "市第二中学党支部"]
CHUNK = 1000


def seed_volunteers(tenant_id: int, demo_compound_id: int, seed: int = 2468) -> dict:
    rng = random.Random(seed)
    on = today()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        tid = current_tenant_id()
        rows = db.session.execute(select(Demand.id, Demand.number, Demand.title, Demand.compound_id, Demand.status,
                                         Demand.assignee_name, Demand.dispatched_at, Demand.resolved_at,
                                         Compound.community_id)
                                  .join(Compound, Compound.id == Demand.compound_id)
                                  .where(Demand.assignee_kind == "volunteer").order_by(Demand.id)).all()
        people = sorted({(r.community_id, r.assignee_name) for r in rows})
        ids = db.session.execute(insert(Volunteer).returning(Volunteer.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "community_id": cid, "name": name, "organisation": rng.choice(ORGANISATIONS),
             "is_party_member": True, "reported_on": on - timedelta(days=rng.randint(60, 900)), "area_note": "",
             "phone": f"139{rng.randint(0, 99999999):08d}", "active": True}
            for cid, name in people]).scalars().all() if people else []
        who = dict(zip(people, ids))
        tasks = []
        for r in rows:
            done = r.status in ("resolved", "closed") and r.resolved_at is not None
            tasks.append({"tenant_id": tid, "community_id": r.community_id, "compound_id": r.compound_id,
                          "kind": "demand", "title": f"诉求 {r.number}：{r.title}"[:200], "detail": "",
                          "state": "done" if done else "claimed", "volunteer_id": who[(r.community_id, r.assignee_name)],
                          "demand_id": r.id, "claimed_on": local(r.dispatched_at).date() if r.dispatched_at else on,
                          "done_on": local(r.resolved_at).date() if done else None,
                          "hours_tenths": rng.choice([5, 10, 15, 20, 30]) if done else 0,
                          "points": rng.choice([2, 3, 5]) if done else 0,
                          "result": "已协调处理，居民满意。" if done else ""})
        for i in range(0, len(tasks), CHUNK):
            db.session.execute(insert(VolunteerTask), tasks[i:i + CHUNK])
        audit.record_event("create", "volunteer", f"演示党员志愿者 {len(people)} 人、党员接单 {len(tasks)} 件",
                           changes={"volunteers": len(people), "tasks": len(tasks)})
        counts = {"volunteers": len(people), "volunteer_tasks": len(tasks)}

        # The demo community, through the logic the pages use.
        compound = db.session.get(Compound, demo_compound_id)
        staff = _member("community_staff", community_id=compound.community_id)
        if staff is None:
            return counts
        m, user = staff
        cid = compound.community_id
        with audit.acting_as(user.id, user.display_name):
            team = logic.add_team(m, cid, "红色轻骑兵志愿服务队", "郝建国", "在职党员和退休党员组成，周末开展志愿服务。")
            buildings = db.session.execute(select(Building.id).where(Building.compound_id == demo_compound_id)
                                           .order_by(Building.name_key).limit(4)).scalars().all()
            members = []
            for n, name in enumerate(["李卫东", "张丽华", "王海涛", "刘佳", "陈志强", "赵敏"]):
                members.append(logic.save_volunteer(m, logic.VolunteerData(
                    cid, name, ORGANISATIONS[n % len(ORGANISATIONS)], n != 5,
                    None if n == 5 else on - timedelta(days=30 + 40 * n), team.id if n < 4 else None,
                    buildings[n % len(buildings)] if buildings and n < 4 else None,
                    f"{n % 2 + 1}单元" if n < 4 else "", f"1380000{n:04d}")))
            stair = logic.add_task(m, cid, "楼道杂物清理（包楼道）", "每月第一个周六，清理包片楼道的堆放杂物。",
                                   "task", demo_compound_id)
            logic.claim(m, stair, members[0].id, None)
            logic.finish(m, stair, Decimal("3"), 10, "清理 4 个单元楼道，劝离堆放杂物 6 处。")
            visit = logic.add_task(m, cid, "独居老人每周探访", "对 45 户独居、空巢老人每周上门或电话探访。",
                                   "project", None)
            logic.claim(m, visit, None, team.id)
            logic.add_task(m, cid, "垃圾分类桶边督导（早高峰）", "每天 7:00–8:30 在 2 号投放点值守。", "task",
                           demo_compound_id)
            logic.add_task(m, cid, "防汛沙袋搬运", "雨季前把沙袋运到地下车库入口。", "task", demo_compound_id)
            logic.exchange(m, members[0], 6, "社区超市洗衣液两瓶")
            for n, b in enumerate(buildings):
                logic.add_leader(m, b, "building", "", members[n % 4].name, members[n % 4].phone, True,
                                 on - timedelta(days=400))
                logic.add_leader(m, b, "party_household", "1单元", ["吴桂兰", "郑国庆", "冯淑珍", "褚建华"][n % 4],
                                 f"1370000{n:04d}", True, on - timedelta(days=200))
            counts["building_leaders"] = 2 * len(buildings)
        counts["volunteers"] += len(members)
        counts["volunteer_tasks"] += 4
        return counts
