"""The party-building and committee registry lists (台账) the district acts on. Each list is a plain
function returning a select of labelled rows in the membership's scope, so the page, its counts
and its Excel export read the same query.

Definitions (kept consistent with the 三率 in wuye_saas/indicators):
- a committee is *in term* on a day when term_start ≤ day ≤ term_end;
- a compound's *current* committee is its latest one (by term start); lists of committees show
  current ones only, so a committee replaced at 换届 is history, not "expired";
- a committee is *not working* while a supervision (责令整改 / 居委会代行职责) is open;
- a firm *has a party organisation* when its register status says 单独建立党组织 or 联合党支部, or
  a PartyOrg names it; it *has an instructor* when an Instructor is posted to it on the day
  (assigned_on ≤ day, not ended before it). A firm whose status says 派驻党建指导员 with no
  instructor actually posted counts as having none (the register is what can be checked).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from .. import excel, policy
from ..auth.models import Membership
from ..extensions import db
from ..fees.payments import rate_text
from ..org.models import (
    APPOINTMENT_DIRECTIONS, MANAGEMENT_MODES, Committee, CommitteeMember, Community, Compound, Contract,
    CrossAppointment, Firm, Instructor, PartyOrg, Street,
)
from .logic import in_term
from .models import SUPERVISION_KINDS, CommitteeSupervision, Formation
from ..formutil import record_id

EXPIRING_DAYS = 90
ORG_STATUSES = ("单独建立党组织", "联合党支部")


def _latest():
    """No later committee of the same compound: the compound's current committee."""
    later = aliased(Committee)
    return ~exists().where(later.compound_id == Committee.compound_id,
                           or_(later.term_start > Committee.term_start,
                               and_(later.term_start == Committee.term_start, later.id > Committee.id)))


def _open_supervision():
    return (select(CommitteeSupervision.kind).where(CommitteeSupervision.committee_id == Committee.id,
                                                    CommitteeSupervision.ended_on.is_(None))
            .order_by(CommitteeSupervision.id.desc()).limit(1).scalar_subquery())


def _committee_base(m: Membership):
    return (select(Committee.id.label("committee_id"), Committee.name.label("committee"),
                   Committee.kind.label("kind"), Compound.id.label("compound_id"), Compound.name.label("compound"),
                   Community.name.label("community"), Committee.term_start.label("term_start"),
                   Committee.term_end.label("term_end"), Committee.filing_status.label("filing_status"))
            .join(Compound, Compound.id == Committee.compound_id).join(Community, Community.id == Compound.community_id)
            .where(policy.visible(m, Committee), _latest()))


def _community_filter(stmt, community: str):
    return stmt.where(Compound.community_id == record_id(community)) if record_id(community) else stmt


# --- committees and their terms -----------------------------------------------------------------

def committees_select(m: Membership, day: date, state: str = "", community: str = "", q: str = ""):
    sup = _open_supervision()
    stmt = _committee_base(m).add_columns(sup.label("supervision"))
    if state == "in_term":
        stmt = stmt.where(in_term(day))
    elif state == "expired":
        stmt = stmt.where(Committee.term_end < day)
    elif state == "expiring":
        stmt = stmt.where(Committee.term_end >= day, Committee.term_end <= day + timedelta(days=EXPIRING_DAYS))
    elif state == "not_working":
        stmt = stmt.where(sup.is_not(None))
    if q.strip():
        stmt = stmt.where(or_(Compound.name.contains(q.strip()), Committee.name.contains(q.strip())))
    return _community_filter(stmt, community).order_by(Committee.term_end, Compound.name)


def committee_counts(m: Membership, day: date) -> dict[str, int]:
    sup = exists().where(CommitteeSupervision.committee_id == Committee.id, CommitteeSupervision.ended_on.is_(None))
    soon = and_(Committee.term_end >= day, Committee.term_end <= day + timedelta(days=EXPIRING_DAYS))
    row = _one(select(func.count(Committee.id),
                      func.coalesce(func.sum(case((in_term(day), 1), else_=0)), 0),
                      func.coalesce(func.sum(case((Committee.term_end < day, 1), else_=0)), 0),
                      func.coalesce(func.sum(case((soon, 1), else_=0)), 0),
                      func.coalesce(func.sum(case((sup, 1), else_=0)), 0))
               .where(policy.visible(m, Committee), _latest()))
    return dict(zip(("total", "in_term", "expired", "expiring", "not_working"), row))


# --- party members on the committees in term ------------------------------------------------------

def _member_counts():
    return (select(CommitteeMember.committee_id.label("cid"), func.count(CommitteeMember.id).label("members"),
                      func.sum(case((CommitteeMember.is_party_member.is_(True), 1), else_=0)).label("party"),
                      func.sum(case((CommitteeMember.is_cross_appointed.is_(True), 1), else_=0)).label("cross"))
            .group_by(CommitteeMember.committee_id).subquery())


def party_select(m: Membership, day: date, flag: str = "", community: str = "", q: str = ""):
    """Committees in term with members, party members, their share; flag: under_half / none."""
    mc = _member_counts()
    members, party = func.coalesce(mc.c.members, 0), func.coalesce(mc.c.party, 0)
    stmt = (_committee_base(m).add_columns(members.label("members"), party.label("party"),
                                           func.coalesce(mc.c.cross, 0).label("cross"))
            .outerjoin(mc, mc.c.cid == Committee.id).where(in_term(day)))
    if flag == "under_half":
        stmt = stmt.where(party * 2 <= members)
    elif flag == "none":
        stmt = stmt.where(party == 0)
    elif flag == "over_half":
        stmt = stmt.where(party * 2 > members)
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()))
    return _community_filter(stmt, community).order_by(Compound.name)


def party_counts(m: Membership, day: date) -> dict[str, int]:
    rows = _all(party_select(m, day))
    return {"total": len(rows), "over_half": sum(1 for r in rows if r.members and r.party * 2 > r.members),
            "under_half": sum(1 for r in rows if r.party * 2 <= r.members),
            "none": sum(1 for r in rows if r.party == 0),
            "members": sum(r.members for r in rows), "party": sum(r.party for r in rows)}


def no_party_select(m: Membership, day: date, community: str = "", q: str = ""):
    return party_select(m, day, "none", community, q)


# --- firms' party organisation and instructors -------------------------------------------------

def has_party_org():
    return or_(Firm.party_status.in_(ORG_STATUSES), exists().where(PartyOrg.firm_id == Firm.id))


def has_instructor(day: date):
    return exists().where(Instructor.firm_id == Firm.id, Instructor.assigned_on <= day,
                          or_(Instructor.ended_on.is_(None), Instructor.ended_on >= day))


def _firm_base(m: Membership, day: date):
    served = (select(func.count(func.distinct(Contract.compound_id))).where(
        Contract.firm_id == Firm.id, Contract.in_force(day))
        .correlate(Firm).scalar_subquery())
    return select(Firm.id.label("firm_id"), Firm.name.label("firm"), Firm.credit_code.label("credit_code"),
                  Firm.party_status.label("party_status"), Firm.party_members.label("party_members"),
                  Firm.staff_count.label("staff_count"), served.label("compounds")).where(policy.visible(m, Firm))


def firms_without_org_select(m: Membership, day: date, q: str = ""):
    """Firms with no party organisation and no instructor posted: where 党建指导员 must go first."""
    stmt = _firm_base(m, day).where(~has_party_org(), ~has_instructor(day))
    if q.strip():
        stmt = stmt.where(Firm.name.contains(q.strip()))
    return stmt.order_by(Firm.party_members.desc(), Firm.name)


def firms_instructor_only_select(m: Membership, day: date, q: str = ""):
    """Firms covered by an instructor only (派驻党建指导员, no organisation of their own yet)."""
    posted = (select(func.min(Instructor.name)).where(
        Instructor.firm_id == Firm.id, Instructor.assigned_on <= day,
        or_(Instructor.ended_on.is_(None), Instructor.ended_on >= day)).correlate(Firm).scalar_subquery())
    stmt = _firm_base(m, day).add_columns(posted.label("instructor")).where(~has_party_org(), has_instructor(day))
    if q.strip():
        stmt = stmt.where(Firm.name.contains(q.strip()))
    return stmt.order_by(Firm.party_members.desc(), Firm.name)


def firm_counts(m: Membership, day: date) -> dict[str, int]:
    org, instr = has_party_org(), has_instructor(day)
    row = _one(select(func.count(Firm.id),
                      func.coalesce(func.sum(case((org, 1), else_=0)), 0),
                      func.coalesce(func.sum(case((and_(~org, instr), 1), else_=0)), 0),
                      func.coalesce(func.sum(case((and_(~org, ~instr), 1), else_=0)), 0))
               .where(policy.visible(m, Firm)))
    return dict(zip(("total", "with_org", "instructor_only", "neither"), row))


# --- compounds without a committee in term -----------------------------------------------------

def compounds_without_select(m: Membership, day: date, mode: str = "", community: str = "", q: str = ""):
    in_term_exists = exists().where(Committee.compound_id == Compound.id, in_term(day))
    last_end = (select(func.max(Committee.term_end)).where(Committee.compound_id == Compound.id)
                .correlate(Compound).scalar_subquery())
    under_way = (select(func.min(Formation.kind)).where(Formation.compound_id == Compound.id,
                                                        Formation.status.in_(("open", "vetting", "elected")))
                 .correlate(Compound).scalar_subquery())
    stmt = (select(Compound.id.label("compound_id"), Compound.name.label("compound"),
                   Community.name.label("community"), Street.name.label("street"),
                   Compound.management_mode.label("management_mode"), Compound.compound_type.label("compound_type"),
                   last_end.label("last_term_end"), under_way.label("formation"))
            .join(Community, Community.id == Compound.community_id).join(Street, Street.id == Community.street_id)
            .where(policy.visible(m, Compound), ~in_term_exists))
    if mode in MANAGEMENT_MODES:
        stmt = stmt.where(Compound.management_mode == mode)
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()))
    return _community_filter(stmt, community).order_by(Street.name, Community.name, Compound.name)


def compound_counts(m: Membership, day: date) -> dict[str, int]:
    in_term_exists = exists().where(Committee.compound_id == Compound.id, in_term(day))
    total, without = _one(select(func.count(Compound.id),
                                 func.coalesce(func.sum(case((~in_term_exists, 1), else_=0)), 0))
                          .where(policy.visible(m, Compound)))
    by_mode = dict(_all(select(Compound.management_mode, func.count(Compound.id))
                        .where(policy.visible(m, Compound), ~in_term_exists).group_by(Compound.management_mode)))
    return {"total": total, "without": without, **{f"mode:{k}": by_mode.get(k, 0) for k in MANAGEMENT_MODES}}


# --- cross-appointments (双向进入、交叉任职) ---------------------------------------------------------

def _current_cross(day: date):
    return and_(CrossAppointment.start_date <= day,
                or_(CrossAppointment.end_date.is_(None), CrossAppointment.end_date >= day))


def cross_select(m: Membership, day: date, direction: str = "", state: str = "current", community: str = "",
                 q: str = ""):
    stmt = (select(CrossAppointment.id.label("cross_id"), CrossAppointment.person_name.label("person"),
                   CrossAppointment.direction.label("direction"), CrossAppointment.home_role.label("home_role"),
                   CrossAppointment.appointed_role.label("appointed_role"), Community.name.label("community"),
                   Compound.name.label("compound"), Firm.name.label("firm"),
                   CrossAppointment.start_date.label("start_date"), CrossAppointment.end_date.label("end_date"))
            .join(Community, Community.id == CrossAppointment.community_id)
            .outerjoin(Compound, Compound.id == CrossAppointment.compound_id)
            .outerjoin(Firm, Firm.id == CrossAppointment.firm_id)
            .where(policy.visible(m, CrossAppointment)))
    if direction in APPOINTMENT_DIRECTIONS:
        stmt = stmt.where(CrossAppointment.direction == direction)
    if state == "current":
        stmt = stmt.where(_current_cross(day))
    elif state == "ended":
        stmt = stmt.where(CrossAppointment.end_date < day)
    if record_id(community):
        stmt = stmt.where(CrossAppointment.community_id == record_id(community))
    if q.strip():
        stmt = stmt.where(CrossAppointment.person_name.contains(q.strip()))
    return stmt.order_by(Community.name, CrossAppointment.direction, CrossAppointment.person_name)


def cross_counts(m: Membership, day: date) -> dict[str, int]:
    rows = dict(_all(select(CrossAppointment.direction, func.count(CrossAppointment.id))
                     .where(policy.visible(m, CrossAppointment), _current_cross(day))
                     .group_by(CrossAppointment.direction)))
    return {"current": sum(rows.values()), **{f"dir:{d}": rows.get(d, 0) for d in APPOINTMENT_DIRECTIONS}}


# --- the lists as the pages and exports present them --------------------------------------------

def _one(stmt):
    return tuple(int(v or 0) for v in db.session.execute(stmt).one())


def _all(stmt):
    return db.session.execute(stmt).all()


def share_text(party: int, members: int) -> str:
    """As every rate is shown (half up, one decimal), so the page and the export's number agree."""
    return rate_text(party, members)


def days_left(term_end: date, day: date) -> int:
    return (term_end - day).days


@dataclass
class Column:
    header: str
    value: Callable           # (row, day) -> shown / exported value
    link: str | None = None   # "committee" / "compound" / "firm": the page the cell links to
    width: int = 14
    number: Callable | None = None   # (row, day) -> the export's excel.Num, when the shown value is a rate


@dataclass
class RegistryList:
    key: str
    title: str
    icon: str
    explain: str
    build: Callable           # (m, day, args) -> select
    columns: list[Column]
    counts: Callable          # (m, day) -> [(label, value, args-to-filter or None)]
    filters: list[str] = field(default_factory=list)   # which filter controls the page shows
    empty: str = "没有符合条件的记录。"


def _state(r, day):
    if r.term_end < day:
        return "已届满"
    if r.term_start > day:
        return "未开始"
    return f"{EXPIRING_DAYS}天内届满" if days_left(r.term_end, day) <= EXPIRING_DAYS else "任期内"


def _committee_counts(m, day):
    c = committee_counts(m, day)
    return [("业委会/物管会", c["total"], {}), ("任期内", c["in_term"], {"state": "in_term"}),
            ("已届满", c["expired"], {"state": "expired"}),
            (f"{EXPIRING_DAYS}天内届满", c["expiring"], {"state": "expiring"}),
            ("未正常运行（整改/代行）", c["not_working"], {"state": "not_working"})]


def _party_counts(m, day):
    c = party_counts(m, day)
    return [("任期内业委会/物管会", c["total"], {}), ("党员过半", c["over_half"], {"flag": "over_half"}),
            ("党员未过半", c["under_half"], {"flag": "under_half"}), ("无党员", c["none"], {"flag": "none"}),
            ("委员中党员占比", share_text(c["party"], c["members"]), None)]


def _no_party_counts(m, day):
    c = party_counts(m, day)
    return [("任期内业委会/物管会", c["total"], None), ("无党员委员", c["none"], None)]


def _firm_counts(m, day):
    c = firm_counts(m, day)
    return [("物业企业", c["total"], None), ("有党组织", c["with_org"], None),
            ("仅派驻党建指导员", c["instructor_only"], None), ("无党组织且无指导员", c["neither"], None)]


def _compound_counts(m, day):
    c = compound_counts(m, day)
    return [("小区", c["total"], None), ("无任期内业委会/物管会", c["without"], {})] + [
        (f"其中{k}", c[f"mode:{k}"], {"mode": k}) for k in MANAGEMENT_MODES]


def _cross_counts(m, day):
    c = cross_counts(m, day)
    return [("在任交叉任职", c["current"], {"state": "current"})] + [
        (d, c[f"dir:{d}"], {"direction": d, "state": "current"}) for d in APPOINTMENT_DIRECTIONS]


def _a(args, name, default=""):
    return (args.get(name) or default).strip()


COMMITTEE_COLUMNS = [
    Column("业委会/物管会", lambda r, d: r.committee, "committee", 28), Column("类型", lambda r, d: r.kind, width=8),
    Column("小区", lambda r, d: r.compound, "compound", 20), Column("社区", lambda r, d: r.community, width=16),
]

LISTS: dict[str, RegistryList] = {x.key: x for x in [
    RegistryList(
        "committees", "业委会任期台账", "calendar-range",
        "各小区现任业委会（物管会）的任期与备案情况；已换届的旧届不列入。未正常运行：正处于责令整改或居委会代行职责。",
        lambda m, d, a: committees_select(m, d, _a(a, "state"), _a(a, "community"), _a(a, "q")),
        COMMITTEE_COLUMNS + [
            Column("任期开始", lambda r, d: r.term_start, width=12), Column("任期届满", lambda r, d: r.term_end, width=12),
            Column("距届满天数", lambda r, d: days_left(r.term_end, d), width=10),
            Column("任期状态", _state, width=12), Column("备案", lambda r, d: r.filing_status, width=8),
            Column("运行状态", lambda r, d: SUPERVISION_KINDS.get(r.supervision, "正常") if r.supervision else "正常",
                   width=16)],
        _committee_counts, ["state", "community", "q"], "没有符合条件的业委会（物管会）。"),
    RegistryList(
        "party", "委员党员占比", "star",
        "任期内业委会（物管会）的委员人数、党员人数和占比；目标为党员过半（新成立或换届的业委会党员比例超过50%）。",
        lambda m, d, a: party_select(m, d, _a(a, "flag"), _a(a, "community"), _a(a, "q")),
        COMMITTEE_COLUMNS + [
            Column("委员", lambda r, d: r.members, width=8), Column("党员", lambda r, d: r.party, width=8),
            Column("党员占比", lambda r, d: share_text(r.party, r.members), width=10,
                   number=lambda r, d: excel.pct(r.party, r.members)),
            Column("交叉任职", lambda r, d: r.cross, width=10),
            Column("未过半", lambda r, d: "未过半" if r.party * 2 <= r.members else "", width=8)],
        _party_counts, ["flag", "community", "q"], "没有符合条件的业委会（物管会）。"),
    RegistryList(
        "no_party", "无党员的业委会", "exclamation-octagon",
        "任期内没有一名党员委员的业委会（物管会）：社区党组织应推荐党员参选或在换届时调整委员结构。",
        lambda m, d, a: no_party_select(m, d, _a(a, "community"), _a(a, "q")),
        COMMITTEE_COLUMNS + [Column("委员", lambda r, d: r.members, width=8),
                             Column("任期届满", lambda r, d: r.term_end, width=12)],
        _no_party_counts, ["community", "q"], "任期内的业委会（物管会）都有党员委员。"),
    RegistryList(
        "firms_without_org", "无党组织且无指导员的物业企业", "building-x",
        "既未单独或联合建立党组织、也没有在岗党建指导员的物业企业（登记为“派驻党建指导员”但没有在岗指导员记录的也列入）。",
        lambda m, d, a: firms_without_org_select(m, d, _a(a, "q")),
        [Column("物业企业", lambda r, d: r.firm, "firm", 30), Column("统一社会信用代码", lambda r, d: r.credit_code, width=22),
         Column("登记的党建状态", lambda r, d: r.party_status, width=16), Column("党员人数", lambda r, d: r.party_members, width=10),
         Column("职工人数", lambda r, d: r.staff_count, width=10), Column("服务小区数", lambda r, d: r.compounds, width=10),
         Column("可单独建支部", lambda r, d: "是（≥3名党员）" if r.party_members >= 3 else "", width=14)],
        _firm_counts, ["q"], "所有物业企业都已有党组织或党建指导员。"),
    RegistryList(
        "firms_instructor_only", "仅派驻党建指导员的物业企业", "person-badge",
        "尚无本企业党组织、由党建指导员开展党的工作的物业企业：指导员应做好发展党员、推动成立党组织。",
        lambda m, d, a: firms_instructor_only_select(m, d, _a(a, "q")),
        [Column("物业企业", lambda r, d: r.firm, "firm", 30), Column("党建指导员", lambda r, d: r.instructor, width=12),
         Column("党员人数", lambda r, d: r.party_members, width=10), Column("职工人数", lambda r, d: r.staff_count, width=10),
         Column("服务小区数", lambda r, d: r.compounds, width=10),
         Column("可单独建支部", lambda r, d: "是（≥3名党员）" if r.party_members >= 3 else "", width=14)],
        _firm_counts, ["q"], "没有仅派驻党建指导员的物业企业。"),
    RegistryList(
        "compounds_without", "无业委会（物管会）的小区", "house-dash",
        "没有任期内业委会（物管会）的小区：从未成立，或上一届任期已届满。",
        lambda m, d, a: compounds_without_select(m, d, _a(a, "mode"), _a(a, "community"), _a(a, "q")),
        [Column("小区", lambda r, d: r.compound, "compound", 22), Column("社区", lambda r, d: r.community, width=16),
         Column("街道", lambda r, d: r.street, width=16), Column("管理模式", lambda r, d: r.management_mode, width=10),
         Column("类型", lambda r, d: r.compound_type, width=10),
         Column("上届任期届满", lambda r, d: r.last_term_end or "从未成立", width=14),
         Column("组建/换届", lambda r, d: {"formation": "组建中", "reelection": "换届中"}.get(r.formation, ""), width=10)],
        _compound_counts, ["mode", "community", "q"], "所有小区都有任期内的业委会（物管会）。"),
    RegistryList(
        "cross", "双向进入、交叉任职", "arrow-left-right",
        "社区“两委”成员进入业委会、物业企业，业委会和物业企业负责人担任社区兼职委员的记录。",
        lambda m, d, a: cross_select(m, d, _a(a, "direction"), _a(a, "state", "current"), _a(a, "community"),
                                     _a(a, "q")),
        [Column("姓名", lambda r, d: r.person, width=10), Column("方向", lambda r, d: r.direction, width=14),
         Column("本职", lambda r, d: r.home_role, width=18), Column("兼任职务", lambda r, d: r.appointed_role, width=18),
         Column("社区", lambda r, d: r.community, width=16), Column("小区", lambda r, d: r.compound or "", width=18),
         Column("物业企业", lambda r, d: r.firm or "", width=24), Column("开始", lambda r, d: r.start_date, width=12),
         Column("结束", lambda r, d: r.end_date or "", width=12)],
        _cross_counts, ["direction", "state", "community", "q"], "没有符合条件的交叉任职记录。"),
]}


def workbook(spec: RegistryList, rows, day: date, counts):
    """One list as an Excel workbook: the counts on top, then the rows (dates as dates)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = spec.title[:31]
    ws.append([spec.title, f"统计日：{day:%Y-%m-%d}"])
    ws["A1"].font = Font(bold=True)
    ws.append(["；".join(f"{label} {value}" for label, value, _ in counts)])
    ws.append([])
    ws.append([c.header for c in spec.columns])
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for r in rows:
        excel.append(ws, [(c.number or c.value)(r, day) for c in spec.columns])
    for i, c in enumerate(spec.columns):
        ws.column_dimensions[chr(ord("A") + i)].width = c.width
    return wb

