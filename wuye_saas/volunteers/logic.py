"""Party members and volunteers at work (双报到、认领、党员接单、积分兑换): plain functions that flush,
never commit, and refuse with VolunteerProblem having written nothing.

Rules (000 合肥 志愿服务队; 004 在职党员主动认领…包一个楼道; 001 积分可兑换; 003 党员“接单”):
1. A community's staff keep its register (street staff their street's communities'). A volunteer
   belongs to one community; a team too; a volunteer's team and building lie in that community.
2. 在职党员 report to the community (双报到) on a date, never in the future; only a party member
   has such a date.
3. A task is claimed by one volunteer or one team of its community (认领), then finished with the
   hours (0–24 a day's task, to 0.1 h) and the points earned (0–100), recorded by staff.
4. 党员接单: a demand dispatched to a volunteer names a registered, active volunteer of the
   demand's community — the dispatch makes it a claimed task of kind 党员接单 (moved if the
   demand is dispatched again); it is finished like any task once the demand is resolved.
5. A volunteer's balance is the points of finished tasks less the points exchanged; an exchange
   never takes the balance below zero.
6. A building's leaders (楼栋长 one per building, 单元长 one per unit, 党员中心户 any number, each
   naming its unit) are kept by the community's staff; the compound's committee sees them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from .. import policy
from ..auth.models import Membership
from ..extensions import db
from ..org.models import Building, Community, Compound
from ..tenancy import kept
from ..timeutil import today
from .models import LEADER_ROLES, BuildingLeader, PointExchange, Volunteer, VolunteerTask, VolunteerTeam

HOURS_MAX = Decimal("24")
POINTS_MAX = 100
EXCHANGE_MAX = 10000


class VolunteerProblem(ValueError):
    def __init__(self, message: str, field: str = "name"):
        super().__init__(message)
        self.message = message
        self.field = field


def _in_scope(m: Membership, model, record_id):
    if not record_id:
        return None
    return db.session.execute(select(model).where(model.id == record_id, policy.visible(m, model))).scalar_one_or_none()


def may_keep(m: Membership, community_id: int | None = None) -> bool:
    if not policy.can(m, "manage", "volunteers"):
        return False
    return community_id is None or _in_scope(m, Community, community_id) is not None


def _community(m: Membership, community_id) -> Community:
    c = _in_scope(m, Community, community_id)
    if c is None or not may_keep(m, c.id):
        raise VolunteerProblem("请选择你所在（或所辖）的社区。", "community_id")
    return c


@dataclass
class VolunteerData:
    community_id: int | None
    name: str
    organisation: str
    is_party_member: bool
    reported_on: date | None
    team_id: int | None
    building_id: int | None
    area_note: str
    phone: str
    active: bool = True


def save_volunteer(m: Membership, d: VolunteerData, v: Volunteer | None = None) -> Volunteer:
    community = _community(m, d.community_id)
    name = (d.name or "").strip()
    if not name:
        raise VolunteerProblem("请填写姓名。", "name")
    if d.reported_on is not None:
        if not d.is_party_member:
            raise VolunteerProblem("只有党员登记到社区报到的日期。", "reported_on")
        if d.reported_on > today():
            raise VolunteerProblem("报到日期不能晚于今天。", "reported_on")
    team = _in_scope(m, VolunteerTeam, d.team_id)
    if d.team_id and (team is None or team.community_id != community.id):
        raise VolunteerProblem("所选服务队不在该社区。", "team_id")
    building = _in_scope(m, Building, d.building_id)
    if d.building_id and (building is None or db.session.get(Compound, building.compound_id).community_id
                          != community.id):
        raise VolunteerProblem("所选楼栋不在该社区。", "building_id")
    phone = (d.phone or "").strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise VolunteerProblem("联系电话应为 7–12 位数字。", "phone")
    if v is None:
        v = Volunteer()
        db.session.add(v)
    v.community_id, v.name, v.organisation = community.id, name, (d.organisation or "").strip()
    v.is_party_member, v.reported_on = bool(d.is_party_member), d.reported_on
    v.team_id, v.building_id = team.id if team else None, building.id if building else None
    v.area_note, v.phone, v.active = (d.area_note or "").strip(), phone, bool(d.active)
    db.session.flush()
    return v


def add_team(m: Membership, community_id, name: str, leader: str, note: str) -> VolunteerTeam:
    community = _community(m, community_id)
    name = (name or "").strip()
    if not name:
        raise VolunteerProblem("请填写服务队名称。", "name")
    if db.session.execute(select(VolunteerTeam.id).where(VolunteerTeam.community_id == community.id,
                                                         VolunteerTeam.name == name)).first():
        raise VolunteerProblem(f"本社区已有“{name}”。", "name")
    t = VolunteerTeam(community_id=community.id, name=name, leader=(leader or "").strip(), note=(note or "").strip())
    db.session.add(t)
    db.session.flush()
    return t


def add_task(m: Membership, community_id, title: str, detail: str, kind: str = "task",
             compound_id: int | None = None) -> VolunteerTask:
    community = _community(m, community_id)
    title = (title or "").strip()
    if not title:
        raise VolunteerProblem("请填写任务名称。", "title")
    if kind not in ("task", "project"):
        raise VolunteerProblem("请选择类型。", "kind")
    compound = _in_scope(m, Compound, compound_id)
    if compound_id and (compound is None or compound.community_id != community.id):
        raise VolunteerProblem("所选小区不在该社区。", "compound_id")
    t = VolunteerTask(community_id=community.id, compound_id=compound.id if compound else None, kind=kind,
                      title=title, detail=(detail or "").strip(), state="open")
    db.session.add(t)
    db.session.flush()
    return t


def claim(m: Membership, t: VolunteerTask, volunteer_id: int | None, team_id: int | None) -> None:
    """Rule 3: one volunteer or one team of the task's community claims it."""
    if not may_keep(m, t.community_id):
        raise VolunteerProblem("只有该社区或其街道的工作人员可以登记认领。", "volunteer_id")
    if t.state != "open":
        raise VolunteerProblem("该任务已被认领。", "volunteer_id")
    if bool(volunteer_id) == bool(team_id):
        raise VolunteerProblem("请选择认领的志愿者或服务队（二选一）。", "volunteer_id")
    if volunteer_id:
        v = _in_scope(m, Volunteer, volunteer_id)
        if v is None or v.community_id != t.community_id or not v.active:
            raise VolunteerProblem("请选择本社区在册的志愿者。", "volunteer_id")
        t.volunteer_id = v.id
    else:
        team = _in_scope(m, VolunteerTeam, team_id)
        if team is None or team.community_id != t.community_id:
            raise VolunteerProblem("请选择本社区的服务队。", "team_id")
        t.team_id = team.id
    t.state, t.claimed_on = "claimed", today()
    db.session.flush()


def hours_tenths(hours: Decimal | None) -> int:
    if hours is None or hours < 0 or hours > HOURS_MAX:
        raise VolunteerProblem(f"服务时长应在 0–{HOURS_MAX} 小时之间。", "hours")
    return int((hours * 10).quantize(Decimal("1"), ROUND_HALF_UP))


def finish(m: Membership, t: VolunteerTask, hours: Decimal | None, points: int | None, result: str,
           demand_resolved: bool = True) -> None:
    if not may_keep(m, t.community_id):
        raise VolunteerProblem("只有该社区或其街道的工作人员可以登记完成情况。", "result")
    if t.state != "claimed":
        raise VolunteerProblem("任务认领后才能登记完成。", "result")
    if t.kind == "demand" and not demand_resolved:
        raise VolunteerProblem("诉求办结后才能登记这次接单的时长和积分。", "result")
    tenths = hours_tenths(hours)
    if points is None or not 0 <= points <= POINTS_MAX:
        raise VolunteerProblem(f"积分应为 0–{POINTS_MAX} 的整数。", "points")
    result = (result or "").strip()
    if not result:
        raise VolunteerProblem("请填写完成情况。", "result")
    t.state, t.done_on, t.hours_tenths, t.points, t.result = "done", today(), tenths, points, result
    db.session.flush()


def balance(volunteer_id: int) -> int:
    """Rule 5."""
    earned = db.session.scalar(select(func.coalesce(func.sum(VolunteerTask.points), 0)).where(
        VolunteerTask.volunteer_id == volunteer_id, VolunteerTask.state == "done"))
    spent = db.session.scalar(select(func.coalesce(func.sum(PointExchange.points), 0)).where(
        PointExchange.volunteer_id == volunteer_id))
    return int(earned) - int(spent)


def exchange(m: Membership, v: Volunteer, points: int | None, item: str) -> PointExchange:
    if not may_keep(m, v.community_id):
        raise VolunteerProblem("只有该社区或其街道的工作人员可以登记积分兑换。", "points")
    item = (item or "").strip()
    if points is None or not 1 <= points <= EXCHANGE_MAX:
        raise VolunteerProblem(f"兑换积分应为 1–{EXCHANGE_MAX} 的整数。", "points")
    if not item:
        raise VolunteerProblem("请填写兑换的物品或服务。", "item")
    # Lock the volunteer's row so two exchanges at once cannot both spend the same points.
    db.session.execute(select(Volunteer.id).where(Volunteer.id == v.id).with_for_update())
    left = balance(v.id)
    if points > left:
        raise VolunteerProblem(f"积分余额不足：现有 {left} 分。", "points")
    e = PointExchange(volunteer_id=v.id, points=points, item=item, on=today())
    db.session.add(e)
    db.session.flush()
    return e


# --- 党员接单 (called by demands.logic.dispatch) ---------------------------------------------

def dispatch_volunteers(compound_id: int) -> list[Volunteer]:
    """The registered, active volunteers of the compound's community: whom a demand can go to."""
    community_id = select(Compound.community_id).where(Compound.id == compound_id).scalar_subquery()
    return list(db.session.execute(select(Volunteer).where(
        Volunteer.community_id == community_id, Volunteer.active.is_(True))
        .order_by(Volunteer.is_party_member.desc(), Volunteer.name, Volunteer.id)).scalars())


def on_dispatch(demand, volunteer: Volunteer | None) -> None:
    """Rule 4: the demand's 党员接单 task follows its assignee (none when not a volunteer)."""
    task = db.session.execute(select(VolunteerTask).where(VolunteerTask.demand_id == demand.id)).scalar_one_or_none()
    if volunteer is None:
        if task is not None and task.state != "done":
            db.session.delete(task)
        db.session.flush()
        return
    if task is None:
        task = VolunteerTask(community_id=volunteer.community_id, compound_id=demand.compound_id, kind="demand",
                             title=f"诉求 {demand.number}：{demand.title}"[:200], demand_id=demand.id)
        db.session.add(task)
    task.volunteer_id, task.team_id, task.state, task.claimed_on = volunteer.id, None, "claimed", today()
    db.session.flush()


def _grouped(m: Membership, node, by: str):
    """The two grouped selects of counts_by_community, keyed `key` (built, not run)."""
    def where(model):
        return [policy.visible(m, model)] + ([policy.visible(node, model)] if node is not None else [])

    def grouped(model, *columns):
        key = Community.street_id if by == "street" else model.community_id
        stmt = select(key.label("key"), *columns).where(*where(model)).group_by(key)
        return stmt.join(Community, Community.id == model.community_id) if by == "street" else stmt

    return (grouped(Volunteer, func.count().label("volunteers"), func.count(Volunteer.reported_on).label("reported"))
            .where(Volunteer.active.is_(True)),
            grouped(VolunteerTask, func.count().label("done"),
                    func.coalesce(func.sum(VolunteerTask.hours_tenths), 0).label("hours_tenths"),
                    func.coalesce(func.sum(VolunteerTask.points), 0).label("points"))
            .where(VolunteerTask.state == "done"))


def counts_by_community(m: Membership, node=None, by: str = "community") -> dict[int, dict[str, int]]:
    """{community (or street, by="street"): volunteers, party members reported, tasks done, hours
    (tenths) and points earned} in the membership's scope and, for a drilled dashboard, the node's
    (a scope the policy understands, dashboard.board.node_scope). Two grouped statements, built
    once per scope, node and day (policy.built)."""
    volunteers, tasks = policy.built("volunteers.counts", m, lambda: tuple(map(kept, _grouped(m, node, by))), by,
                                     policy.scope_key(node) if node is not None else None)
    out: dict[int, dict[str, int]] = {}
    for cid, n, reported in db.session.execute(volunteers):
        out.setdefault(cid, {}).update(volunteers=n, reported=reported)
    for cid, done, hours, points in db.session.execute(tasks):
        out.setdefault(cid, {}).update(done=done, hours_tenths=int(hours), points=int(points))
    return out


FIGURES = ("volunteers", "reported", "done", "hours_tenths", "points")


def counts_by_unit(m: Membership, node, by: str, units, key) -> list[tuple[int, str, dict[str, int]]]:
    """(id, name, figures as counts_by_community's) of each street or community `units` selects
    (id, name), in name order: the units and both counts in one statement (three before, on
    every staff landing page). Built once per scope, `key` and day (policy.built)."""
    def build():
        u = units.subquery()
        volunteers, tasks = (q.subquery() for q in _grouped(m, node, by))
        return (select(u.c.id, u.c.name, *(volunteers.c[k] for k in FIGURES[:2]), *(tasks.c[k] for k in FIGURES[2:]))
                .outerjoin(volunteers, volunteers.c.key == u.c.id).outerjoin(tasks, tasks.c.key == u.c.id)
                .order_by(u.c.name))
    stmt = policy.built("volunteers.by_unit", m, build, by, key)
    return [(uid, name, {k: int(v or 0) for k, v in zip(FIGURES, figures)})
            for uid, name, *figures in db.session.execute(stmt)]


def add_leader(m: Membership, building_id, role: str, unit_no: str, name: str, phone: str, is_party_member: bool,
               since: date | None) -> BuildingLeader:
    """Rule 6."""
    building = _in_scope(m, Building, building_id)
    if building is None:
        raise VolunteerProblem("请选择楼栋。", "building_id")
    compound = db.session.get(Compound, building.compound_id)
    if not may_keep(m, compound.community_id):
        raise VolunteerProblem("只有该社区或其街道的工作人员可以登记楼栋长。", "building_id")
    if role not in LEADER_ROLES:
        raise VolunteerProblem("请选择职责。", "role")
    name, unit_no, phone = (name or "").strip(), (unit_no or "").strip(), (phone or "").strip()
    if not name:
        raise VolunteerProblem("请填写姓名。", "name")
    if role != "building" and not unit_no:
        raise VolunteerProblem(f"{LEADER_ROLES[role]}请写明单元。", "unit_no")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise VolunteerProblem("联系电话应为 7–12 位数字。", "phone")
    if since is not None and since > today():
        raise VolunteerProblem("任职日期不能晚于今天。", "since")
    if role in ("building", "unit"):
        taken = select(BuildingLeader.name).where(BuildingLeader.building_id == building.id,
                                                  BuildingLeader.role == role)
        if role == "unit":
            taken = taken.where(BuildingLeader.unit_no == unit_no)
        holder = db.session.execute(taken).scalar()
        if holder is not None:
            where = f"{building.name}{unit_no if role == 'unit' else ''}"
            raise VolunteerProblem(f"{where}已有{LEADER_ROLES[role]}：{holder}（先移除再登记）。", "role")
    leader = BuildingLeader(building_id=building.id, compound_id=building.compound_id, role=role,
                            unit_no="" if role == "building" else unit_no, name=name, phone=phone,
                            is_party_member=bool(is_party_member), since=since)
    db.session.add(leader)
    db.session.flush()
    return leader


def remove_leader(m: Membership, leader: BuildingLeader) -> None:
    if not may_keep(m, db.session.get(Compound, leader.compound_id).community_id):
        raise VolunteerProblem("只有该社区或其街道的工作人员可以移除楼栋长。", "name")
    db.session.delete(leader)
    db.session.flush()
