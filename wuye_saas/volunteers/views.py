"""党员志愿者 (/volunteers/…): the register and its counts by community, a volunteer's record
(tasks, demands handled, points and exchanges), teams, tasks to claim and finish. Thin views over
logic.py."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..demands.models import Demand
from ..extensions import db
from ..formutil import record_id
from ..org import pickers
from ..org.models import Building, Compound
from ..web import current_membership, get_or_404, page_arg, render, require, save, tenant_blueprint
from . import logic
from .forms import ClaimForm, ExchangeForm, FinishForm, LeaderForm, TaskForm, TeamForm, VolunteerForm
from .models import (
    LEADER_ROLES, TASK_KINDS, TASK_STATES, BuildingLeader, PointExchange, Volunteer, VolunteerTask, VolunteerTeam,
)

bp = tenant_blueprint("volunteers", __name__, "/volunteers")
REFUSALS = (logic.VolunteerProblem,)


@bp.app_context_processor
def _nav():
    mem = g.get("membership")
    if mem is None:
        return {"volunteer_nav": []}
    items = [("volunteers.index", "person-hearts", "党员志愿者", policy.reaches(mem, Volunteer)),
             ("volunteers.tasks", "clipboard-check", "志愿服务认领", policy.reaches(mem, VolunteerTask)),
             ("volunteers.leaders", "person-lines-fill", "楼栋长与党员中心户", policy.reaches(mem, BuildingLeader))]
    return {"volunteer_nav": [(e, icon, label) for e, icon, label, shown in items if shown]}


def _community_choices(form, m):
    pickers.community_choices(form, m)
    if request.method == "GET" and form.community_id.data is None and m.role == "community_staff":
        form.community_id.data = m.community_id


@bp.route("/")
def index():
    m, args = current_membership(), request.args
    community_id, team_id = record_id(args.get("community_id")), record_id(args.get("team_id"))
    stmt = select(Volunteer).where(policy.visible(m, Volunteer)).options(
        joinedload(Volunteer.community), joinedload(Volunteer.team), joinedload(Volunteer.building))
    if community_id:
        stmt = stmt.where(Volunteer.community_id == community_id)
    if team_id:
        stmt = stmt.where(Volunteer.team_id == team_id)
    if args.get("party") == "1":
        stmt = stmt.where(Volunteer.is_party_member.is_(True))
    if args.get("reported") == "1":
        stmt = stmt.where(Volunteer.reported_on.is_not(None))
    if args.get("inactive") != "1":
        stmt = stmt.where(Volunteer.active.is_(True))
    q = (args.get("q") or "").strip()[:40]
    if q:
        stmt = stmt.where(or_(Volunteer.name.contains(q, autoescape=True),
                              Volunteer.organisation.contains(q, autoescape=True)))
    page = db.paginate(stmt.order_by(Volunteer.community_id, Volunteer.name, Volunteer.id), page=page_arg(),
                       per_page=20, error_out=False)
    ids = [v.id for v in page.items]
    earned = dict(db.session.execute(select(VolunteerTask.volunteer_id, func.sum(VolunteerTask.points)).where(
        VolunteerTask.volunteer_id.in_(ids), VolunteerTask.state == "done").group_by(VolunteerTask.volunteer_id)).all())
    spent = dict(db.session.execute(select(PointExchange.volunteer_id, func.sum(PointExchange.points)).where(
        PointExchange.volunteer_id.in_(ids)).group_by(PointExchange.volunteer_id)).all())
    balances = {i: int(earned.get(i) or 0) - int(spent.get(i) or 0) for i in ids}
    teams = db.session.execute(select(VolunteerTeam).where(policy.visible(m, VolunteerTeam))
                               .options(joinedload(VolunteerTeam.community))
                               .order_by(VolunteerTeam.community_id, VolunteerTeam.name)).scalars().all()
    communities = pickers.communities(m)
    return render("volunteers/index.html", "volunteers/_table.html", page=page, args=args, balances=balances,
                  teams=teams, communities=communities, counts=logic.counts_by_community(m),
                  community_id=community_id, may_keep=logic.may_keep(m),
                  filtered=any(args.get(n) for n in ("community_id", "team_id", "party", "reported", "q")))


def _volunteer_choices(form: VolunteerForm, m) -> None:
    _community_choices(form, m)
    teams = db.session.execute(select(VolunteerTeam).where(policy.visible(m, VolunteerTeam))
                               .order_by(VolunteerTeam.name)).scalars()
    form.team_id.choices = [(None, "—")] + [(t.id, t.name) for t in teams]
    buildings = db.session.execute(select(Building, Compound.name).join(Compound, Compound.id == Building.compound_id)
                                   .where(policy.visible(m, Building)).order_by(Compound.name, Building.name_key)
                                   .limit(3000)).all()
    form.building_id.choices = [(None, "—")] + [(b.id, f"{cname} {b.name}") for b, cname in buildings]


def _volunteer_data(form: VolunteerForm) -> logic.VolunteerData:
    return logic.VolunteerData(form.community_id.data, form.name.data or "", form.organisation.data or "",
                               form.is_party_member.data, form.reported_on.data, form.team_id.data,
                               form.building_id.data, form.area_note.data or "", form.phone.data or "",
                               form.active.data)


@bp.route("/new", methods=["GET", "POST"])
def new():
    m = current_membership()
    require("manage", "volunteers")
    form = VolunteerForm()
    _volunteer_choices(form, m)
    done = save(form, lambda: logic.save_volunteer(m, _volunteer_data(form)), lambda v: f"已登记：{v.name}",
                lambda v: url_for("volunteers.detail", volunteer_id=v.id), REFUSALS)
    return done or (render("volunteers/form.html", form=form, v=None, title="登记志愿者"),
                    422 if request.method == "POST" else 200)


@bp.route("/<int:volunteer_id>/edit", methods=["GET", "POST"])
def edit(volunteer_id):
    m = current_membership()
    v = get_or_404(Volunteer, volunteer_id)
    require("manage", "volunteers")
    form = VolunteerForm(obj=v)
    _volunteer_choices(form, m)
    done = save(form, lambda: logic.save_volunteer(m, _volunteer_data(form), v), f"已保存：{v.name}",
                url_for("volunteers.detail", volunteer_id=v.id), REFUSALS)
    return done or (render("volunteers/form.html", form=form, v=v, title=f"修改：{v.name}"),
                    422 if request.method == "POST" else 200)


def _detail(v: Volunteer, form: ExchangeForm, status: int = 200):
    m = current_membership()
    tasks = db.session.execute(select(VolunteerTask).where(VolunteerTask.volunteer_id == v.id)
                               .order_by(VolunteerTask.id.desc())).scalars().all()
    exchanges = db.session.execute(select(PointExchange).where(PointExchange.volunteer_id == v.id)
                                   .order_by(PointExchange.id.desc())).scalars().all()
    return render("volunteers/detail.html", v=v, tasks=tasks, exchanges=exchanges, form=form,
                  balance=logic.balance(v.id), kinds=TASK_KINDS, states=TASK_STATES,
                  hours=sum(t.hours_tenths for t in tasks if t.state == "done") / 10,
                  may_keep=logic.may_keep(m, v.community_id)), status


@bp.route("/<int:volunteer_id>")
def detail(volunteer_id):
    return _detail(get_or_404(Volunteer, volunteer_id), ExchangeForm(formdata=None))


@bp.route("/<int:volunteer_id>/exchange", methods=["POST"])
def exchange(volunteer_id):
    m = current_membership()
    v = get_or_404(Volunteer, volunteer_id)
    require("manage", "volunteers")
    form = ExchangeForm()
    done = save(form, lambda: logic.exchange(m, v, form.points.data, form.item.data),
                lambda e: f"已兑换 {e.points} 分：{e.item}", url_for("volunteers.detail", volunteer_id=v.id), REFUSALS)
    return done or _detail(v, form, 422)


@bp.route("/teams/new", methods=["GET", "POST"])
def new_team():
    m = current_membership()
    require("manage", "volunteers")
    form = TeamForm()
    _community_choices(form, m)
    done = save(form, lambda: logic.add_team(m, form.community_id.data, form.name.data, form.leader.data or "",
                                             form.note.data or ""),
                lambda t: f"已建立：{t.name}", url_for("volunteers.index"), REFUSALS)
    return done or (render("volunteers/form.html", form=form, v=None, title="建立志愿服务队"),
                    422 if request.method == "POST" else 200)


@bp.route("/tasks/")
def tasks():
    m, args = current_membership(), request.args
    state = args.get("state") if args.get("state") in TASK_STATES else "open"
    stmt = (select(VolunteerTask).where(policy.visible(m, VolunteerTask), VolunteerTask.state == state)
            .options(joinedload(VolunteerTask.community), joinedload(VolunteerTask.volunteer),
                     joinedload(VolunteerTask.team), joinedload(VolunteerTask.compound))
            .order_by(VolunteerTask.id.desc()))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    counts = dict(db.session.execute(select(VolunteerTask.state, func.count()).where(
        policy.visible(m, VolunteerTask)).group_by(VolunteerTask.state)).all())
    return render("volunteers/tasks.html", "volunteers/_tasks.html", page=page, args=args, state=state,
                  states=TASK_STATES, kinds=TASK_KINDS, counts=counts, may_keep=logic.may_keep(m))


@bp.route("/tasks/new", methods=["GET", "POST"])
def new_task():
    m = current_membership()
    require("manage", "volunteers")
    form = TaskForm()
    _community_choices(form, m)
    done = save(form, lambda: logic.add_task(m, form.community_id.data, form.title.data, form.detail.data or "",
                                             form.kind.data, form.compound_id.data),
                lambda t: f"已发布：{t.title}", lambda t: url_for("volunteers.task", volunteer_task_id=t.id), REFUSALS)
    return done or (render("volunteers/form.html", form=form, v=None, title="发布志愿服务任务"),
                    422 if request.method == "POST" else 200)


def _task_page(t: VolunteerTask, forms: dict | None = None, status: int = 200):
    m = current_membership()
    forms = {"claim": ClaimForm(formdata=None), "finish": FinishForm(formdata=None), **(forms or {})}
    vols = db.session.execute(select(Volunteer).where(Volunteer.community_id == t.community_id,
                                                      Volunteer.active.is_(True)).order_by(Volunteer.name)).scalars()
    forms["claim"].volunteer_id.choices = [(None, "—")] + [(v.id, v.name) for v in vols]
    teams = db.session.execute(select(VolunteerTeam).where(VolunteerTeam.community_id == t.community_id)
                               .order_by(VolunteerTeam.name)).scalars()
    forms["claim"].team_id.choices = [(None, "—")] + [(x.id, x.name) for x in teams]
    demand = None
    if t.demand_id:
        demand = db.session.get(Demand, t.demand_id)
    return render("volunteers/task.html", t=t, forms=forms, kinds=TASK_KINDS, states=TASK_STATES, demand=demand,
                  may_keep=logic.may_keep(m, t.community_id)), status


def _resolved(t: VolunteerTask) -> bool:
    if not t.demand_id:
        return True
    return db.session.get(Demand, t.demand_id).status in ("resolved", "closed")


@bp.route("/tasks/<int:volunteer_task_id>")
def task(volunteer_task_id):
    return _task_page(get_or_404(VolunteerTask, volunteer_task_id))


@bp.route("/tasks/<int:volunteer_task_id>/claim", methods=["POST"])
def claim(volunteer_task_id):
    m = current_membership()
    t = get_or_404(VolunteerTask, volunteer_task_id)
    require("manage", "volunteers")
    form = ClaimForm()
    done = save(form, lambda: logic.claim(m, t, form.volunteer_id.data, form.team_id.data), f"已认领：{t.title}",
                url_for("volunteers.task", volunteer_task_id=t.id), REFUSALS)
    return done or _task_page(t, {"claim": form}, 422)


@bp.route("/tasks/<int:volunteer_task_id>/finish", methods=["POST"])
def finish(volunteer_task_id):
    m = current_membership()
    t = get_or_404(VolunteerTask, volunteer_task_id)
    require("manage", "volunteers")
    form = FinishForm()
    done = save(form, lambda: logic.finish(m, t, form.hours.data, form.points.data, form.result.data, _resolved(t)),
                f"已登记完成：{t.title}", url_for("volunteers.task", volunteer_task_id=t.id), REFUSALS)
    return done or _task_page(t, {"finish": form}, 422)


def _leader_form(m, form: LeaderForm) -> None:
    buildings = db.session.execute(select(Building, Compound.name).join(Compound, Compound.id == Building.compound_id)
                                   .where(policy.visible(m, Building)).order_by(Compound.name, Building.name_key)
                                   .limit(3000)).all()
    form.building_id.choices = [(None, "请选择楼栋")] + [(b.id, f"{cname} {b.name}") for b, cname in buildings]


@bp.route("/leaders/", methods=["GET", "POST"])
def leaders():
    """楼栋长、单元长、党员中心户 by compound and building; staff add them here."""
    m, args = current_membership(), request.args
    compound_id = record_id(args.get("compound_id"))
    form = LeaderForm()
    keeps = logic.may_keep(m)
    if request.method == "POST":
        require("manage", "volunteers")
    _leader_form(m, form)
    if request.method == "GET" and compound_id:
        form.building_id.data = None
    done = save(form, lambda: logic.add_leader(m, form.building_id.data, form.role.data, form.unit_no.data,
                                               form.name.data, form.phone.data, form.is_party_member.data,
                                               form.since.data),
                lambda x: f"已登记{LEADER_ROLES[x.role]}：{x.name}",
                lambda x: url_for("volunteers.leaders", compound_id=x.compound_id), REFUSALS)
    if done:
        return done
    stmt = (select(BuildingLeader).where(policy.visible(m, BuildingLeader))
            .options(joinedload(BuildingLeader.building), joinedload(BuildingLeader.compound))
            .join(Building, Building.id == BuildingLeader.building_id)
            .order_by(BuildingLeader.compound_id, Building.name_key, BuildingLeader.role, BuildingLeader.unit_no))
    if compound_id:
        stmt = stmt.where(BuildingLeader.compound_id == compound_id)
    page = db.paginate(stmt, page=page_arg(), per_page=50, error_out=False)
    compounds = db.session.execute(select(Compound).where(
        Compound.id.in_(select(BuildingLeader.compound_id).where(policy.visible(m, BuildingLeader))))
        .order_by(Compound.name)).scalars().all()
    return render("volunteers/leaders.html", page=page, args=args, form=form, roles=LEADER_ROLES,
                  compounds=compounds, compound_id=compound_id, may_keep=keeps), (
        422 if request.method == "POST" else 200)


@bp.route("/leaders/<int:building_leader_id>/remove", methods=["POST"])
def remove_leader(building_leader_id):
    m = current_membership()
    leader = get_or_404(BuildingLeader, building_leader_id)
    require("manage", "volunteers")
    try:
        logic.remove_leader(m, leader)
    except logic.VolunteerProblem as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("volunteers.leaders", compound_id=leader.compound_id))
    db.session.commit()
    flash(f"已移除{LEADER_ROLES[leader.role]}：{leader.name}", "success")
    return redirect(url_for("volunteers.leaders", compound_id=leader.compound_id))
