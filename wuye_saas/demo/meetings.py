"""The demo district's joint meetings, run through the same logic the pages use: last month's
联席会议 of the demo compound with its minutes published on the board (one item escalated to the
street, action items done, overdue and open), a 板凳会议 held last week in another compound of
the demo community, a 三方项目推进组 meeting planned for next week; the street's joint meeting
that took the escalated parking matter and passed it on to the district (提交区联席会议), the
district's 全区物业管理联席会议 (002) that settled it and dispatched it to departments for 联合执法
(one of them the demo's department account), and a street meeting planned for next week."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership, User
from ..extensions import db
from ..meetings import logic
from ..meetings.models import Meeting
from ..org.models import Community, Compound, Department, Street
from ..tenancy import tenant_scope
from ..timeutil import today
from .seed import DEMO_DEPARTMENT

# The 全区物业管理联席会议's member units at the demo meeting (002), by department name.
DISTRICT_MEMBERS = ["区物业管理服务中心", "区住建局", "区城管局", "区市场监管局", "交警大队", "消防救援站"]


def _member(role: str, **scope) -> tuple[Membership, User] | None:
    stmt = select(Membership, User).join(User, User.id == Membership.user_id).where(Membership.role == role)
    for key, value in scope.items():
        stmt = stmt.where(getattr(Membership, key) == value)
    row = db.session.execute(stmt.limit(1)).first()
    return (row[0], row[1]) if row else None


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time, as the forms take it."""
    return datetime.combine(day, time(hour, minute))


def _people(meeting: Meeting, staff_name: str, extra: list[tuple[str, str, str]]) -> None:
    logic.add_attendee(meeting, "community", staff_name, f"{meeting.community.name}党委")
    # From the quick-add suggestions: the committee's first two seats, the firm, the party orgs.
    taken = {"committee": 0}
    for s in logic.suggestions(meeting):
        if not s["name"] or (s["party"] == "committee" and taken["committee"] >= 2):
            continue
        taken["committee"] += s["party"] == "committee"
        logic.add_attendee(meeting, s["party"], s["name"], s["organisation"])
    for party, name, org in extra:
        logic.add_attendee(meeting, party, name, org)


def seed_meetings(tenant_id: int, demo_compound_id: int, demo_firm_id: int) -> dict:
    on = today()
    with tenant_scope(tenant_id):
        compound = db.session.get(Compound, demo_compound_id)
        community = db.session.get(Community, compound.community_id)
        staff = _member("community_staff", community_id=community.id)
        street = _member("street_staff", street_id=community.street_id)
        if staff is None or street is None:
            return {"meetings": 0}
        m, user = staff
        name = user.display_name.split("（")[0]
        counts = {"meetings": 0, "meeting_minutes": 0}
        with audit.acting_as(user.id, user.display_name):
            # Last month's joint meeting of the demo compound, minutes published.
            held_day = on - timedelta(days=20)
            joint = logic.schedule(m, "joint", f"{compound.name}物业管理联席会议", compound.id, _at(held_day, 15),
                                   "社区党群服务中心二楼会议室")
            joint.created_at = logic.from_local(_at(held_day - timedelta(days=10), 10))   # called ahead
            _people(joint, name, [("resident", "张秀兰", "3号楼居民代表"), ("party", "郝建国", "在职党员志愿者")])
            demands = logic.open_demands(joint, m)
            settled = []
            if demands:
                settled.append(logic.add_item(joint, m, "", "", demands[0].id))
            settled.append(logic.add_item(joint, m, "地下车库照明和排水改造", "车库照明不足、雨季积水，居民多次反映。", None))
            parking = logic.add_item(joint, m, "小区周边道路停车难", "小区车位缺口约 120 个，周边道路夜间占道停车，"
                                     "需协调交警划设夜间临时停车泊位。", None)
            logic.record(joint, _at(held_day, 15, 10), [a.id for a in joint.attendees if a.party != "resident"],
                         "会议由社区党委书记主持。三方通报了近一个月居民诉求办理情况，"
                         "对车库改造的资金来源和施工时间达成一致；停车问题涉及交警和城管，提请街道联席会议协调。")
            logic.settle(joint, settled[-1], "使用公共收益实施车库照明和排水改造，物业出具方案和预算，业委会审核后公示。",
                         user)
            if len(settled) > 1:
                logic.settle(joint, settled[0], "物业三日内上门处理，社区网格员跟踪回访。", user)
            street_parking = logic.escalate(joint, parking, "社区无法协调交警和城管划设泊位，提请街道联席会议会商。", user)
            firm_name = next((a.name for a in joint.attendees if a.party == "firm"), "物业项目经理")
            chair = next((a.name for a in joint.attendees if a.party == "committee"), "业委会主任")
            done = logic.add_action(joint, "出具车库改造方案和预算", firm_name, "firm", held_day + timedelta(days=7),
                                    settled[-1].id)
            logic.complete_action(joint, done, "方案和预算已提交业委会，业委会已审核同意。")
            logic.add_action(joint, "公示车库改造方案和费用", chair, "committee", on - timedelta(days=5), settled[-1].id)
            logic.add_action(joint, "完成车库照明和排水改造施工", firm_name, "firm", on + timedelta(days=25),
                             settled[-1].id)
            # Given to the department with the demo's department account (its 交办事项).
            department = db.session.execute(select(Department).where(Department.name == DEMO_DEPARTMENT)
                                            ).scalar_one_or_none()
            if department is not None:
                logic.add_action(joint, "清理小区南门占道经营摊点，纳入日常巡查", "周建军", "department",
                                 on + timedelta(days=3), None, department.id)
            logic.publish_minutes(joint, user)
            counts["meetings"] += 1
            counts["meeting_minutes"] += 1

            # A bench meeting held last week in another compound of the community, not yet published.
            other = db.session.execute(select(Compound).where(Compound.community_id == community.id,
                                                              Compound.id != compound.id)
                                       .order_by(Compound.id).limit(1)).scalar_one_or_none()
            if other is not None:
                bench_day = on - timedelta(days=6)
                bench = logic.schedule(m, "bench", f"{other.name}板凳会议：文明养犬", other.id, _at(bench_day, 19, 30),
                                       "小区中心花园")
                bench.created_at = logic.from_local(_at(bench_day - timedelta(days=3), 16))
                _people(bench, name, [("resident", "李桂芳", "居民代表"), ("resident", "王建军", "养犬居民")])
                dogs = logic.add_item(bench, m, "遛狗不牵绳、犬只夜间吠叫", "", None)
                logic.record(bench, _at(bench_day, 19, 40), [a.id for a in bench.attendees], "")
                logic.settle(bench, dogs, "制定小区文明养犬公约，物业在主要出入口设置提示牌，党员志愿者晚间劝导。", user)
                logic.add_action(bench, "起草文明养犬公约并征求意见", "李桂芳", "resident", on + timedelta(days=10),
                                 dogs.id)
                counts["meetings"] += 1

            # Next week: the project group on adding lifts.
            lift = logic.schedule(m, "tripartite", "加装电梯三方项目推进会", compound.id,
                                  _at(on + timedelta(days=6), 9, 30), "物业服务中心会议室")
            _people(lift, name, [])
            logic.add_item(lift, m, "1号楼加装电梯低层业主补偿方案", "", None)
            logic.add_item(lift, m, "加装电梯施工期间的通行和安全", "", None)
            counts["meetings"] += 1

        sm, suser = street
        street_name = db.session.get(Street, community.street_id).name
        departments = {d.name: d for d in logic.departments()}
        with audit.acting_as(suser.id, suser.display_name):
            # The street's joint meeting takes the parking matter; it needs 交警 and 城管 at district
            # level, so the street passes it on to the 全区物业管理联席会议.
            street_day = on - timedelta(days=12)
            sj = logic.schedule(sm, "joint", "街道物业管理联席会议", None, _at(street_day, 14, 30), "街道办事处三楼会议室")
            sj.created_at = logic.from_local(_at(street_day - timedelta(days=5), 9))
            logic.add_attendee(sj, "community", suser.display_name.split("（")[0], f"{street_name}党工委")
            logic.add_attendee(sj, "community", name, f"{community.name}党委")
            logic.add_attendee(sj, "department", "街道综合执法队队长", "街道综合执法队")
            logic.attach(sj, street_parking)
            logic.record(sj, _at(street_day, 14, 40), [a.id for a in sj.attendees],
                         "街道党工委主持。停车泊位需交警划设、占道需城管联合执法，街道无权协调，提请区联席会议研究。")
            district_parking = logic.escalate(sj, street_parking,
                                              "夜间临时泊位须交警大队审批划设，占道经营须城管执法，街道协调未果，"
                                              "提请区物业管理联席会议联合执法。", suser)
            counts["meetings"] += 1
            logic.schedule(sm, "joint", "街道党建联席会议（月度）", None, _at(on + timedelta(days=9), 14, 30),
                           "街道办事处三楼会议室")
            counts["meetings"] += 1

        admin = _member("district_admin")
        if admin is not None:
            am, auser = admin
            with audit.acting_as(auser.id, auser.display_name):
                # 002: the district's joint meeting settles it and dispatches it to departments.
                d_day = on - timedelta(days=5)
                dj = logic.schedule(am, "joint", "全区物业管理联席会议", compound.id, _at(d_day, 9, 30),
                                    "区政务中心五楼会议室")
                dj.created_at = logic.from_local(_at(d_day - timedelta(days=7), 10))
                logic.add_attendee(dj, "other", auser.display_name.split("（")[0], "区物业管理服务中心")
                for s in logic.suggestions(dj):
                    if s["party"] == "department" and s["organisation"] in DISTRICT_MEMBERS[1:]:
                        logic.add_attendee(dj, s["party"], s["name"], s["organisation"])
                logic.add_attendee(dj, "department", "街道分管领导", street_name)
                logic.attach(dj, district_parking)
                fire = logic.add_item(dj, am, "高层小区消防通道被占、私搭乱建排查",
                                      "各街道反映高层小区消防通道停车、楼顶私搭乱建问题，需消防、城管、住建联合排查。", None)
                logic.record(dj, _at(d_day, 9, 40), [a.id for a in dj.attendees],
                             "区物管中心主持，各成员单位通报跨部门问题。议定停车泊位由交警大队划设、占道经营由区城管局"
                             "联合街道执法；消防通道和私搭乱建开展为期一个月的联合排查。")
                logic.settle(dj, district_parking, "交警大队划设夜间临时泊位；区城管局会同街道综合执法队清理占道经营，"
                                                   "一个月内完成并向街道反馈。", auser)
                logic.settle(dj, fire, "消防救援站牵头，区城管局、区住建局参加，一个月内完成高层小区联合排查。", auser)
                if "交警大队" in departments:
                    logic.add_action(dj, "划设小区周边道路夜间临时停车泊位", "交警大队值班领导", "department",
                                     on + timedelta(days=20), district_parking.id, departments["交警大队"].id)
                if DEMO_DEPARTMENT in departments:
                    logic.add_action(dj, "联合街道综合执法队清理小区周边占道经营", "周建军", "department",
                                     on + timedelta(days=10), district_parking.id, departments[DEMO_DEPARTMENT].id)
                if "消防救援站" in departments:
                    done = logic.add_action(dj, "高层小区消防通道联合排查（第一批）", "消防救援站站长", "department",
                                            on - timedelta(days=1), fire.id, departments["消防救援站"].id)
                    logic.complete_action(dj, done, "第一批 12 个高层小区已排查，清理占道车辆 36 辆，拆除楼顶违建 2 处。")
                logic.publish_minutes(dj, auser)
                counts["meetings"] += 1
                counts["meeting_minutes"] += 1
        # The district has adopted 001's cadence (社区每月、街道每季度联席会议): communities that did not
        # meet last month show on the 会议召开情况 page and in their 待办.
        from ..meetings import cadence
        with audit.acting_as(None, "演示数据初始化"):
            cadence.adopt_defaults()
            # 002: the district's joint meeting meets every quarter.
            cadence.save_cadence("district", "joint", "quarter")
        db.session.flush()
    return counts
