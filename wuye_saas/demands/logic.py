"""Demands (诉求): categories, intake, dispatch, handling, return visit, lists and the on-time
rule. Plain functions with no Flask request: they flush (the view commits) or raise
DemandProblem, having written nothing.

The life cycle: new (待派单) → dispatched (已派单) → accepted (处理中) → resolved (已办结待回访)
→ closed; an unsatisfied return visit reopens it (back to dispatched, same assignee, a fresh
deadline). Every step appends a DemandEvent; the Demand row holds the current state.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import DateTime, and_, bindparam, case, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import events, policy
from ..auth.models import Membership
from ..extensions import db, kept_row
from ..org import pickers
from ..org.models import Compound, Contract, Department, Firm, Household
from ..tenancy import current_tenant_id
from ..timeutil import day_start_utc, local, now, today
from ..volunteers import logic as volunteer_logic
from .models import (
    ASSIGNEE_KINDS, CHANNELS, HOTLINE_12345, ONLINE, SATISFACTION, STATUSES, URGENCIES, Demand, DemandCategory,
    DemandChannel, DemandEvent, DemandPhoto,
)

# The built-in channels staff enter demands from; "online" is the residents' own form. The
# district's own channels and its on/off settings live in DemandChannel (see channels()).
STAFF_CHANNELS = {k: v for k, v in CHANNELS.items() if k != ONLINE}
HOTLINE_MONTHS = 12      # the dashboard's 12345 热线诉求量: this month and the 11 before
OPEN = ("new", "dispatched", "accepted")          # not yet resolved
DONE = ("resolved", "closed")

# Default categories with (一般, 紧急) deadlines in hours. 中物协《普通住宅小区物业管理服务等级
# 标准》一级: 投诉 2 日内答复, 急修 30 分钟内到场, 一般维修 24 小时内完成 — a deadline here is for
# the demand to be resolved, so repairs get 3 days (1 day urgent), safety hazards a day (urgent:
# 4 hours, the same shift). Fee disputes need the contract and bills checked (5 days / 2 days);
# 加装电梯 needs owners' consent and the departments (15 days / 5 days). The district adjusts them.
DEFAULT_CATEGORIES = [("维修", 72, 24), ("环境卫生", 48, 12), ("停车", 72, 24), ("安全隐患", 24, 4),
                      ("收费争议", 120, 48), ("文明养犬", 72, 24), ("加装电梯", 360, 120), ("其他", 72, 24)]
MAX_HOURS = 24 * 90

PHOTO_MAX = 5 * 1024 * 1024
PHOTO_LIMIT = 5
# Type by content (magic bytes), not by the file name or the browser's claim.
PHOTO_TYPES = {b"\x89PNG\r\n\x1a\n": ("png", "image/png"), b"\xff\xd8\xff": ("jpg", "image/jpeg")}
PHOTO_EXTS = {".png", ".jpg", ".jpeg"}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")

TABS = {"all": "全部", "new": "待派单", "handling": "处理中", "resolved": "待回访", "closed": "已关闭",
        "overdue": "已逾期", "escalated": "已升级街道"}
# A firm never dispatches: its own work is to accept (接单) and then to resolve, so its list
# splits 处理中 into those two steps, as its landing cards count them.
FIRM_TABS = {"all": "全部", "dispatched": "待接单", "accepted": "处理中", "resolved": "待回访", "closed": "已关闭",
             "overdue": "已逾期", "escalated": "已升级街道"}


class DemandProblem(ValueError):
    """A refused step. `status`: 422 bad input, 409 a step out of turn, 403 not this person's step."""

    def __init__(self, message: str, field: str = "note", status: int = 422):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


class NumberTaken(Exception):
    """A concurrent intake took the same 诉求编号; the caller rolls back and tries again."""


# --- on time, overdue (shared with the dashboard) ------------------------------------------

def on_time(d: Demand) -> bool:
    """Resolved by its deadline. A demand resolved late, or not resolved, is not on time."""
    return d.resolved_at is not None and d.resolved_at <= d.deadline_at


def is_overdue(d: Demand, at: datetime | None = None) -> bool:
    """Deadline passed and not resolved (a resolved one was either on time or late, not overdue)."""
    return d.status in OPEN and d.deadline_at < (at or now())


def on_time_clause():
    """SQL form of on_time(), for counts over many demands."""
    return and_(Demand.resolved_at.is_not(None), Demand.resolved_at <= Demand.deadline_at)


def overdue_clause(at: datetime):
    """SQL form of is_overdue()."""
    return and_(Demand.status.in_(OPEN), Demand.deadline_at < at)


# --- categories -------------------------------------------------------------------------------

def categories(active_only: bool = False) -> list[DemandCategory]:
    stmt = select(DemandCategory).order_by(DemandCategory.sort, DemandCategory.id)
    if active_only:
        stmt = stmt.where(DemandCategory.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def ensure_default_categories() -> int:
    """Add the default categories the district lacks (by name) and reactivate inactive ones
    among them; how many were added or reactivated. Flushes."""
    existing = {c.name: c for c in categories()}
    changed = 0
    for sort, (name, hours, urgent) in enumerate(DEFAULT_CATEGORIES, start=1):
        cat = existing.get(name)
        if cat is None:
            db.session.add(DemandCategory(name=name, deadline_hours=hours, urgent_deadline_hours=urgent,
                                          sort=sort * 10, active=True))
            changed += 1
        elif not cat.active:
            cat.active = True
            changed += 1
    db.session.flush()
    return changed


def save_category(cat: DemandCategory | None, name: str, hours: int | None, urgent_hours: int | None,
                  active: bool, sort: int | None) -> DemandCategory:
    name = (name or "").strip()
    if not name:
        raise DemandProblem("请填写分类名称。", "name")
    if len(name) > 30:
        raise DemandProblem("分类名称不能超过 30 个字。", "name")
    for field, value, label in (("deadline_hours", hours, "一般诉求办理时限"),
                                ("urgent_deadline_hours", urgent_hours, "紧急诉求办理时限")):
        if value is None or not 1 <= value <= MAX_HOURS:
            raise DemandProblem(f"{label}应在 1 到 {MAX_HOURS} 小时之间。", field)
    if urgent_hours > hours:
        raise DemandProblem("紧急诉求的时限不能长于一般诉求。", "urgent_deadline_hours")
    clash = select(DemandCategory.id).where(func.lower(DemandCategory.name) == name.lower())
    if cat is not None:
        clash = clash.where(DemandCategory.id != cat.id)
    if db.session.execute(clash).first():
        raise DemandProblem("已有同名分类。", "name")
    if cat is None:
        cat = DemandCategory()
        db.session.add(cat)
    cat.name, cat.deadline_hours, cat.urgent_deadline_hours = name, hours, urgent_hours
    cat.active, cat.sort = bool(active), sort or 0
    db.session.flush()
    return cat


def category_used(cat: DemandCategory) -> bool:
    return db.session.execute(select(Demand.id).where(Demand.category_id == cat.id).limit(1)).first() is not None


def delete_category(cat: DemandCategory) -> None:
    if category_used(cat):
        raise DemandProblem("该分类已有诉求使用，不能删除；请改为停用。", "name", 409)
    db.session.delete(cat)
    db.session.flush()


# --- channels ---------------------------------------------------------------------------------

@dataclass
class Channel:
    code: str
    name: str
    active: bool
    sort: int
    builtin: bool
    row: DemandChannel | None     # the district's row (its own channel, or a built-in's setting)


def channels() -> list[Channel]:
    """Every channel of the district, in its order: the built-ins (on unless the district
    switched them off) and the district's own, active or not."""
    rows = {r.code: r for r in db.session.execute(select(DemandChannel)).scalars()}
    out = []
    for i, (code, name) in enumerate(CHANNELS.items(), start=1):
        r = rows.pop(code, None)
        out.append(Channel(code, name, r.active if r else True, r.sort if r else i * 10, True, r))
    out += [Channel(r.code, r.name, r.active, r.sort, False, r) for r in rows.values()]
    return sorted(out, key=lambda c: (c.sort, not c.builtin, c.row.id if c.row else 0))


def channel_labels() -> dict[str, str]:
    """The district's {code: name} of every channel, switched off or not: what lists, the detail,
    the export, the filter and the audit log show for a demand's channel."""
    return {c.code: c.name for c in channels()}


def staff_channels() -> dict[str, str]:
    """The channels the intake form offers: active ones other than the residents' own."""
    return {c.code: c.name for c in channels() if c.active and c.code != ONLINE}


def save_channel(row: DemandChannel | None, name: str, active: bool, sort: int | None) -> DemandChannel:
    """Add the district's own channel (row None) or edit one; a built-in's name stays fixed."""
    name = (name or "").strip()
    if row is not None and row.builtin:
        name = CHANNELS[row.code]
    if not name:
        raise DemandProblem("请填写渠道名称。", "name")
    if len(name) > 30:
        raise DemandProblem("渠道名称不能超过 30 个字。", "name")
    if sort is not None and not 0 <= sort <= 9999:
        raise DemandProblem("排序应在 0 到 9999 之间。", "sort")
    if row is not None and row.code == ONLINE and not active:
        raise DemandProblem("“网上（居民自助）”是居民自助提交的渠道，不能停用。", "active", 409)
    if name.lower() in {n.lower() for c, n in channel_labels().items() if row is None or c != row.code}:
        raise DemandProblem("已有同名渠道。", "name")
    if row is None:
        # A placeholder code until the id is known: custom codes are "c<id>", stable for good.
        row = DemandChannel(code=f"new-{uuid.uuid4().hex[:12]}", name=name)
        db.session.add(row)
        db.session.flush()
        row.code = f"c{row.id}"
    row.name, row.active, row.sort = name, bool(active), sort or 0
    db.session.flush()
    return row


def set_builtin_active(code: str, active: bool) -> DemandChannel:
    """Switch a built-in staff channel on or off (its setting row made on first use)."""
    if code not in CHANNELS:
        raise DemandProblem("没有这个渠道。", "code", 404)
    if code == ONLINE and not active:
        raise DemandProblem("“网上（居民自助）”是居民自助提交的渠道，不能停用。", "code", 409)
    row = db.session.execute(select(DemandChannel).where(DemandChannel.code == code)).scalar_one_or_none()
    if row is None:
        row = DemandChannel(code=code, name=CHANNELS[code], sort=(list(CHANNELS).index(code) + 1) * 10)
        db.session.add(row)
    row.active = bool(active)
    db.session.flush()
    return row


def month_starts(at: datetime, n: int = HOTLINE_MONTHS) -> list[date]:
    """The first days (Shanghai) of the n months ending with the month of `at`, oldest first."""
    d = local(at).date().replace(day=1)
    out = [d]
    for _ in range(n - 1):
        d = (d - timedelta(days=1)).replace(day=1)
        out.append(d)
    return out[::-1]


def hotline_by_month(scope, at: datetime, n: int = HOTLINE_MONTHS) -> list[tuple[date, int]]:
    """12345 热线诉求量 per month (received in the Shanghai month) over the demands `scope` sees
    (a membership or a dashboard node): one row of n counts whatever the months or compounds.

    The district's is a range of the channel index, with the plan made once. A street's or a
    community's count is read through its compounds (index compound, channel,
    received_at: ten probes a compound), planned for its values each time: left to itself,
    PostgreSQL switched after five runs to a plan made once that read the whole district's
    volume and kept the street's (4.7 ms at 1,000 compounds, growing with the district; 0.7 ms
    planned for the street, docs/benchmarks.md, session 17)."""
    months = month_starts(at, n)

    def build():   # once per scope and months (policy.built)
        bounds = [day_start_utc(m) for m in months]
        nxt = months[-1] + timedelta(days=32)
        bounds.append(day_start_utc(nxt.replace(day=1)))
        counts = [func.count().filter(Demand.received_at >= lo, Demand.received_at < hi)
                  for lo, hi in zip(bounds, bounds[1:])]
        return select(*counts).where(Demand.channel == HOTLINE_12345, Demand.received_at >= bounds[0],
                                     Demand.received_at < bounds[-1], policy.visible(scope, Demand))
    stmt = policy.built("hotline_by_month", scope, build, tuple(months))
    # The district's is a range of its channel index whatever the values: the plan made once.
    row = kept_row(stmt, custom=scope.role != policy.DISTRICT)
    return [(m, int(c or 0)) for m, c in zip(months, row)]


# --- intake -----------------------------------------------------------------------------------

@dataclass
class Intake:
    category_id: int | None
    title: str
    description: str
    contact_name: str
    contact_phone: str
    household_code: str = ""
    urgency: str = "normal"
    channel: str = "online"


def normalise_phone(phone: str) -> str:
    return re.sub(r"[\s（）()]", "", phone or "")


def phone_ok(phone: str) -> bool:
    p = normalise_phone(phone)
    return bool(MOBILE.match(p) or LANDLINE.match(p))


def household_in(compound_id: int, code: str) -> Household | None:
    """The household of a code (case-insensitive) if it belongs to that compound."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return db.session.execute(select(Household).where(
        func.upper(Household.household_code) == code, Household.compound_id == compound_id)).scalar_one_or_none()


def deadline_for(cat: DemandCategory, urgency: str, received_at: datetime) -> datetime:
    hours = cat.urgent_deadline_hours if urgency == "urgent" else cat.deadline_hours
    return received_at + timedelta(hours=hours)


# The next sequence of a district's day, at least :n (past the numbers written without the counter:
# imports, the demo's history, demands from before it existed).
_TAKE = text("INSERT INTO demand_counter (tenant_id, day, last) VALUES (:t, :d, :n) "
             "ON CONFLICT (tenant_id, day) DO UPDATE SET last = GREATEST(demand_counter.last + 1, :n) "
             "RETURNING last")


def next_number(at: datetime) -> str:
    """SQ + the Shanghai date + '-' + the district's 4-digit sequence of that day."""
    prefix = f"SQ{local(at):%Y%m%d}-"
    last = db.session.execute(select(func.max(Demand.number)).where(Demand.number.like(prefix + "%"))).scalar()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    if db.engine.dialect.name == "postgresql":
        # Taken and committed at once on a connection of its own: the counter's row is locked
        # for one statement, not for the rest of the intake (SQLite has one writer anyway).
        with db.engine.connect() as conn:
            seq = conn.execute(_TAKE, {"t": current_tenant_id(), "d": local(at).date(), "n": seq}).scalar_one()
            conn.commit()
    return f"{prefix}{seq:04d}"


def _check_intake(compound_id: int, data: Intake, household_required: bool) -> tuple[DemandCategory, Household | None]:
    cat = db.session.get(DemandCategory, data.category_id) if data.category_id else None
    if cat is None or not cat.active:
        raise DemandProblem("请选择诉求分类。", "category_id")
    title = (data.title or "").strip()
    if not title:
        raise DemandProblem("请填写诉求标题。", "title")
    if len(title) > 100:
        raise DemandProblem("标题不能超过 100 个字。", "title")
    if len(data.description or "") > 2000:
        raise DemandProblem("诉求内容不能超过 2000 个字。", "description")
    if data.urgency not in URGENCIES:
        raise DemandProblem("请选择紧急程度。", "urgency")
    household = None
    if (data.household_code or "").strip() or household_required:
        household = household_in(compound_id, data.household_code)
        if household is None:
            raise DemandProblem("户码与本小区不符，请核对物业或社区发放的户码。", "household_code")
    name = (data.contact_name or "").strip()
    if not name:
        raise DemandProblem("请填写联系人。", "contact_name")
    if len(name) > 40:
        raise DemandProblem("联系人不能超过 40 个字。", "contact_name")
    if not phone_ok(data.contact_phone):
        raise DemandProblem("请填写 11 位手机号或带区号的固定电话，例如 13912345678 或 0355-2021234。",
                            "contact_phone")
    return cat, household


def _create(compound_id: int, data: Intake, cat: DemandCategory, household: Household | None,
            actor: str, user_id: int | None) -> Demand:
    at = now()
    d = Demand(number=next_number(at), compound_id=compound_id, category_id=cat.id, channel=data.channel,
               urgency=data.urgency, title=data.title.strip(), description=(data.description or "").strip(),
               household_id=household.id if household else None, contact_name=data.contact_name.strip(),
               contact_phone=normalise_phone(data.contact_phone), status="new", received_at=at,
               deadline_at=deadline_for(cat, data.urgency, at), created_by_id=user_id)
    db.session.add(d)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise NumberTaken() from exc
    _event(d, "submitted", actor, user_id, f"{channel_labels().get(data.channel, data.channel)}受理", {"channel": data.channel})
    return d


def submit_public(compound: Compound, data: Intake) -> Demand:
    """A resident's own submission on the compound's public page: the household code is required."""
    data.channel, data.urgency = "online", "normal"
    cat, household = _check_intake(compound.id, data, household_required=True)
    return _create(compound.id, data, cat, household, "居民（网上提交）", None)


def intake(m: Membership, compound_id: int | None, data: Intake) -> Demand:
    """Staff enter a demand received by hotline, petition, visit or patrol, for a compound in scope."""
    if not policy.can(m, "intake", "demand_intake"):
        raise DemandProblem("您的角色不能登记诉求。", "compound_id", 403)
    in_scope = compound_id and db.session.execute(select(Compound.id).where(
        Compound.id == compound_id, policy.visible(m, Compound))).first()
    if not in_scope:
        raise DemandProblem("请选择您辖区内的小区。", "compound_id")
    if data.channel not in staff_channels():
        raise DemandProblem("请选择受理渠道（只能选择本区启用的渠道）。", "channel")
    cat, household = _check_intake(compound_id, data, household_required=False)
    return _create(compound_id, data, cat, household, m.user.display_name, m.user_id)


# --- who acts -------------------------------------------------------------------------------

def _street_of(d: Demand) -> int:
    return d.compound.community.street_id


def is_community_of(m: Membership, d: Demand) -> bool:
    return m.active and m.role == "community_staff" and m.community_id == d.compound.community_id


def is_street_of(m: Membership, d: Demand) -> bool:
    return m.active and m.role == "street_staff" and m.street_id == _street_of(d)


def may_dispatch(m: Membership, d: Demand) -> bool:
    """The compound's community dispatches; its street too once the demand was escalated."""
    return is_community_of(m, d) or (is_street_of(m, d) and d.escalated_at is not None)


def is_department_of(m: Membership, d: Demand) -> bool:
    return (m.active and m.role == policy.DEPARTMENT and d.department_id is not None
            and m.department_id == d.department_id)


def is_handler(m: Membership, d: Demand) -> bool:
    """Who records acceptance and resolution: the assignee firm itself; a department's own
    accounts; for a volunteer (and a department that has no account yet or cannot log in), the
    staff who may dispatch it record on the assignee's behalf."""
    if d.assignee_kind == "firm":
        return m.active and m.role in policy.FIRM_ROLES and m.firm_id == d.firm_id
    if d.assignee_kind == "department" and is_department_of(m, d):
        return True
    return d.assignee_kind is not None and may_dispatch(m, d)


def next_steps(m: Membership, d: Demand) -> list[str]:
    """The steps this membership may take on the demand now, in the order the page shows them."""
    steps = []
    if d.status == "dispatched" and is_handler(m, d):
        steps.append("accept")
    if d.status == "accepted" and is_handler(m, d):
        steps.append("resolve")
    if d.status in OPEN and may_dispatch(m, d):
        steps.append("dispatch")
    if d.status == "resolved" and is_community_of(m, d):
        steps.append("visit")
    if d.status != "closed" and is_street_of(m, d):
        steps.append("supervise")
    return steps


def _turn(d: Demand, allowed: tuple[str, ...], step: str) -> None:
    if d.status not in allowed:
        raise DemandProblem(f"该诉求当前为“{STATUSES[d.status]}”，不能{step}。", "note", 409)


def _actor(m: Membership, d: Demand | None = None) -> str:
    name = m.user.display_name
    if m.role == policy.DEPARTMENT:
        return f"{d.assignee_name}（{name}）" if d is not None else name
    if d is not None and d.assignee_kind in ("volunteer", "department") and m.role not in policy.FIRM_ROLES:
        return f"{d.assignee_name}（{name}代为登记）"
    return name


def _event(d: Demand, kind: str, actor: str, user_id: int | None, note: str = "", data: dict | None = None,
           at: datetime | None = None) -> DemandEvent:
    ev = DemandEvent(demand_id=d.id, kind=kind, at=at or now(), user_id=user_id, actor=actor[:80],
                     note=note, data=data or {})
    db.session.add(ev)
    db.session.flush()
    events.emit(f"demand.{kind}", "demand", d.id, compound_id=d.compound_id, at=ev.at,
                data={"number": d.number, "status": d.status})
    return ev


# --- the steps --------------------------------------------------------------------------------

def dispatch_firms(compound_id: int) -> list[Firm]:
    """The firms with a contract on the compound today: the only firms a demand can go to."""
    d = today()
    rows = db.session.execute(select(Firm).join(Contract, Contract.firm_id == Firm.id).where(
        Contract.compound_id == compound_id, Contract.in_force(d))
        .order_by(Contract.start_date.desc(), Firm.id)).scalars()
    return list(dict.fromkeys(rows))  # the latest contract's firm first, each firm once


def dispatch_departments() -> list[Department]:
    """The district's active departments: the only departments a demand can go to."""
    return db.session.execute(select(Department).where(Department.active)
                              .order_by(Department.name)).scalars().all()


def dispatch(d: Demand, m: Membership, kind: str, firm_id: int | None, note: str = "",
             volunteer_id: int | None = None, department_id: int | None = None) -> None:
    if not may_dispatch(m, d):
        raise DemandProblem("只有小区所在社区可以派单；逾期升级后，街道也可以派单。", "assignee_kind", 403)
    _turn(d, OPEN, "派单")
    if kind not in ASSIGNEE_KINDS:
        raise DemandProblem("请选择承办方。", "assignee_kind")
    firm = volunteer = department = None
    if kind == "firm":
        firm = next((f for f in dispatch_firms(d.compound_id) if f.id == firm_id), None)
        if firm is None:
            raise DemandProblem("只能派给与本小区有有效服务合同的物业服务企业。", "firm_id")
        name = firm.name
    elif kind == "volunteer":
        # 党员接单: a registered volunteer of the community, never a typed name.
        volunteer = next((v for v in volunteer_logic.dispatch_volunteers(d.compound_id) if v.id == volunteer_id), None)
        if volunteer is None:
            raise DemandProblem("请选择本社区在册的党员志愿者（在“党员志愿者”中登记）。", "volunteer_id")
        name = volunteer.name
    else:
        # A department of the district's register: its own accounts accept and resolve.
        department = next((x for x in dispatch_departments() if x.id == department_id), None)
        if department is None:
            raise DemandProblem("请选择本区在册的职能部门（在“组织架构 · 职能部门”中登记）。", "department_id")
        name = department.name
    again = d.assignee_kind is not None
    d.assignee_kind, d.firm_id, d.assignee_name = kind, firm.id if firm else None, name
    d.department_id = department.id if department else None
    d.status, d.dispatched_at, d.accepted_at = "dispatched", now(), None
    db.session.flush()
    volunteer_logic.on_dispatch(d, volunteer if kind == "volunteer" else None)
    _event(d, "dispatched", m.user.display_name, m.user_id, (note or "").strip(),
           {"assignee_kind": kind, "assignee": name, "firm_id": d.firm_id, "department_id": d.department_id,
            "again": again,
            "level": "street" if m.role == "street_staff" else "community"})


def accept(d: Demand, m: Membership, note: str = "") -> None:
    if not is_handler(m, d):
        raise DemandProblem("只有承办方可以接单。", "note", 403)
    _turn(d, ("dispatched",), "接单")
    d.status, d.accepted_at = "accepted", now()
    db.session.flush()
    _event(d, "accepted", _actor(m, d), m.user_id, (note or "").strip())


@dataclass
class Upload:
    filename: str
    data: bytes


def _sniff(data: bytes):
    return next((v for magic, v in PHOTO_TYPES.items() if data.startswith(magic)), None)


def photo_problem(up: Upload) -> str | None:
    if Path(up.filename).suffix.lower() not in PHOTO_EXTS:
        return f"“{up.filename}”不是 JPG 或 PNG 图片"
    if not up.data:
        return f"“{up.filename}”是空文件"
    if len(up.data) > PHOTO_MAX:
        return f"“{up.filename}”超过 5 MB"
    if _sniff(up.data) is None:
        return f"“{up.filename}”的内容不是 JPG 或 PNG 图片"
    return None


def photo_path(folder: str, stored_name: str) -> Path:
    return Path(folder) / "demands" / stored_name


def resolve(d: Demand, m: Membership, note: str, uploads: list[Upload], folder: str) -> DemandEvent:
    if not is_handler(m, d):
        raise DemandProblem("只有承办方可以办结。", "note", 403)
    _turn(d, ("accepted",), "办结（请先接单）" if d.status == "dispatched" else "办结")
    note = (note or "").strip()
    if not note:
        raise DemandProblem("请填写办理结果。", "note")
    if len(note) > 2000:
        raise DemandProblem("办理结果不能超过 2000 个字。", "note")
    if len(uploads) > PHOTO_LIMIT:
        raise DemandProblem(f"最多上传 {PHOTO_LIMIT} 张照片。", "photos")
    problems = [p for p in (photo_problem(u) for u in uploads) if p]
    if problems:
        raise DemandProblem("；".join(problems) + "。", "photos")
    at = now()
    d.status, d.resolved_at, d.resolution = "resolved", at, note
    db.session.flush()
    ev = _event(d, "resolved", _actor(m, d), m.user_id, note, {"on_time": at <= d.deadline_at}, at=at)
    for up in uploads:
        ext, ctype = _sniff(up.data)
        stored = f"{uuid.uuid4().hex}.{ext}"   # random: the stored name never comes from the user
        path = photo_path(folder, stored)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(up.data)
        db.session.add(DemandPhoto(event_id=ev.id, filename=Path(up.filename).name[:200], stored_name=stored,
                                   content_type=ctype, size=len(up.data)))
    db.session.flush()
    return ev


def visit(d: Demand, m: Membership, satisfaction: str, note: str, close_anyway: bool = False,
          reason: str = "") -> str:
    """The return visit (回访) by the community: 'closed' or 'reopened'."""
    if not is_community_of(m, d):
        raise DemandProblem("只有小区所在社区可以回访。", "satisfaction", 403)
    _turn(d, ("resolved",), "回访")
    if satisfaction not in SATISFACTION:
        raise DemandProblem("请选择回访满意度。", "satisfaction")
    note, reason = (note or "").strip(), (reason or "").strip()
    unsatisfied = satisfaction == "unsatisfied"
    if unsatisfied and close_anyway and not reason:
        raise DemandProblem("不满意但仍关闭时，请说明理由。", "reason")
    actor, at = m.user.display_name, now()
    d.satisfaction = satisfaction
    _event(d, "visited", actor, m.user_id, note, {"satisfaction": satisfaction}, at=at)
    if unsatisfied and not close_anyway:
        cat = d.category
        d.status, d.reopen_count = "dispatched", d.reopen_count + 1
        d.accepted_at, d.resolved_at, d.resolution = None, None, ""
        d.deadline_at = deadline_for(cat, d.urgency, at)
        d.dispatched_at = at
        db.session.flush()
        _event(d, "reopened", actor, m.user_id, f"回访不满意，退回{d.assignee_name}重新办理",
               {"deadline_at": d.deadline_at.isoformat(), "reopen_count": d.reopen_count}, at=at)
        return "reopened"
    d.status, d.closed_at = "closed", at
    db.session.flush()
    _event(d, "closed", actor, m.user_id, reason if unsatisfied else "", {"satisfaction": satisfaction}, at=at)
    return "closed"


def supervise(d: Demand, m: Membership, note: str) -> None:
    """A street's 督办 note on a demand of its street."""
    if not is_street_of(m, d):
        raise DemandProblem("只有小区所在街道可以督办。", "note", 403)
    _turn(d, OPEN + ("resolved",), "督办")
    note = (note or "").strip()
    if not note:
        raise DemandProblem("请填写督办意见。", "note")
    if len(note) > 2000:
        raise DemandProblem("督办意见不能超过 2000 个字。", "note")
    _event(d, "supervised", m.user.display_name, m.user_id, note)


# --- lists ----------------------------------------------------------------------------------

@dataclass
class Filters:
    tab: str = "all"
    category_id: int | None = None
    channel: str = ""
    compound_id: int | None = None
    q: str = ""
    status: str = ""        # one state of STATUSES, e.g. a firm's 已派单 (to accept) alone
    compound_name: str = ""  # part of a compound's name (a large district's filter: pickers.name_pick)


def tabs(m: Membership) -> dict[str, str]:
    # A department works like a firm: what was dispatched to it, to accept and resolve.
    return FIRM_TABS if m.role in policy.FIRM_ROLES or m.role == policy.DEPARTMENT else TABS


def default_tab(m: Membership) -> str:
    return "escalated" if m.role == "street_staff" else "all"


def _tab_clause(tab: str, at: datetime):
    return {"new": Demand.status == "new",
            "handling": Demand.status.in_(("dispatched", "accepted")),
            "dispatched": Demand.status == "dispatched",
            "accepted": Demand.status == "accepted",
            "resolved": Demand.status == "resolved",
            "closed": Demand.status == "closed",
            "overdue": overdue_clause(at),
            "escalated": and_(Demand.escalated_at.is_not(None), Demand.status != "closed")}.get(tab)


def _filtered(m: Membership, f: Filters):
    stmt = select(Demand).where(policy.visible(m, Demand))
    if f.category_id:
        stmt = stmt.where(Demand.category_id == f.category_id)
    if f.channel and f.channel in channel_labels():
        stmt = stmt.where(Demand.channel == f.channel)
    if f.compound_id:
        stmt = stmt.where(Demand.compound_id == f.compound_id)
    if f.compound_name:
        stmt = stmt.where(Demand.compound_id.in_(pickers.named(Compound, f.compound_name)))
    if f.status in STATUSES:
        stmt = stmt.where(Demand.status == f.status)
    q = f.q.strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Demand.number.ilike(like), Demand.title.like(like)))
    return stmt


def demands_select(m: Membership, f: Filters, at: datetime):
    stmt = _filtered(m, f)
    clause = _tab_clause(f.tab, at)
    if clause is not None:
        stmt = stmt.where(clause)
    return (stmt.options(joinedload(Demand.compound), joinedload(Demand.category), joinedload(Demand.firm))
            .order_by(Demand.received_at.desc(), Demand.id.desc()))


def tab_counts(m: Membership, f: Filters, at: datetime) -> dict[str, int]:
    """The count of every tab under the other filters, in one query, built once per scope and
    filters (`policy.built`; the time is the bound `tabs_at`): building its clauses anew was a
    tenth of the list's time."""
    def build():
        at_ = bindparam("tabs_at", type_=DateTime)
        cols = [func.count(Demand.id).label("all")]
        for tab in tabs(m):
            if tab != "all":
                cols.append(func.coalesce(func.sum(case((_tab_clause(tab, at_), 1), else_=0)), 0).label(tab))
        return _filtered(m, f).with_only_columns(*cols)
    channel = f.channel if f.channel and f.channel in channel_labels() else ""
    stmt = policy.built("demands.tab_counts", m, build, f.category_id, channel, f.compound_id, f.compound_name, f.q,
                        f.status)
    row = db.session.execute(stmt, {"tabs_at": at}).one()
    return {tab: int(getattr(row, tab) or 0) for tab in tabs(m)}


def by_number(number: str, code: str) -> Demand | None:
    """The demand of a 诉求编号 if the household code is the one it was submitted with."""
    number, code = (number or "").strip().upper(), (code or "").strip().upper()
    if not number or not code:
        return None
    d = db.session.execute(select(Demand).where(func.upper(Demand.number) == number)
                           .options(joinedload(Demand.household), joinedload(Demand.compound))).scalar_one_or_none()
    if d is None or d.household is None or d.household.household_code.upper() != code:
        return None
    return d


# What residents see of each step: never staff names or internal notes.
PUBLIC_STEPS = {"submitted": "诉求已受理", "dispatched": "已派单", "accepted": "承办方已接单",
                "resolved": "已办结", "visited": "社区已回访", "reopened": "回访不满意，重新办理",
                "closed": "诉求已关闭", "escalated": "逾期未办结，已升级街道督办", "supervised": "街道督办"}


@dataclass
class PublicStep:
    at: datetime
    title: str
    text: str


def public_timeline(d: Demand) -> list[PublicStep]:
    steps = []
    for ev in sorted(d.events, key=lambda e: (e.at, e.id)):
        if ev.kind not in PUBLIC_STEPS:
            continue
        text = ""
        if ev.kind == "dispatched":
            text = f"承办方：{ASSIGNEE_KINDS.get((ev.data or {}).get('assignee_kind'), '')}"
        elif ev.kind == "resolved":
            text = ev.note
        elif ev.kind == "visited":
            text = f"满意度：{SATISFACTION.get((ev.data or {}).get('satisfaction'), '')}"
        steps.append(PublicStep(ev.at, PUBLIC_STEPS[ev.kind], text))
    return steps


def compounds_for_intake(m: Membership) -> list[tuple[int, str]]:
    return [(cid, name) for cid, name in db.session.execute(
        select(Compound.id, Compound.name).where(policy.visible(m, Compound)).order_by(Compound.name, Compound.id))]
