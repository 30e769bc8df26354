"""The demo district's joint meetings, run through the same logic the pages use: last month's
联席会议 of the demo compound with its minutes published on the board (one item escalated to the
street, action items done, overdue and open), a 板凳会议 held last week in another compound of
the demo community, a 三方项目推进组 meeting planned for next week, and a street meeting planned
for which the escalated matter waits in the street's 待上会事项."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership, User
from ..extensions import db
from ..meetings import logic
from ..meetings.models import Meeting
from ..org.models import Community, Compound, Department
from ..tenancy import tenant_scope
from ..timeutil import today
from .seed import DEMO_DEPARTMENT


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
            logic.escalate(joint, parking, "社区无法协调交警和城管划设泊位，提请街道联席会议会商。", user)
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
        with audit.acting_as(suser.id, suser.display_name):
            logic.schedule(sm, "joint", "街道党建联席会议（月度）", None, _at(on + timedelta(days=9), 14, 30),
                           "街道办事处三楼会议室")
            counts["meetings"] += 1
        # The district has adopted 001's cadence (社区每月、街道每季度联席会议): communities that did not
        # meet last month show on the 会议召开情况 page and in their 待办.
        from ..meetings import cadence
        with audit.acting_as(None, "演示数据初始化"):
            cadence.adopt_defaults()
        db.session.flush()
    return counts
