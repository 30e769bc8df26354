"""The indicators' definitions and their set-based computation for one day, per compound.

三率 and 无物业小区清零, for a day D (a Shanghai date):

- 业委会(物管会)组建率 = compounds with a committee (业委会 or 物管会) whose term covers D
  (term_start ≤ D ≤ term_end) ÷ all compounds. An expired term does not count: the compound
  has to re-elect (换届) to count again.
- 物业服务覆盖率 = compounds with 物业服务 on D ÷ all compounds. Covered: an active contract with
  a firm on D (start_date ≤ D ≤ end_date), or management mode 自管 or 国资托管. Self-management
  and the state custodian's 兜底 service are 物业服务 as the districts report it (潞州 counts its
  504 专业物业 + 520 自管 compounds as managed and sets out to clear (清零) the 127 无人管理 ones);
  a 无人管理 compound counts only once it has a contract.
- 党的组织覆盖率 = compounds where a party organisation covers the compound ÷ all compounds:
  the serving firm (active contract on D) has its own or a joint party organisation
  (party_status 单独建立党组织 / 联合党支部, or a PartyOrg row of that firm), or the compound
  has a 小区党支部 or 楼栋党小组 of its own. A firm with only a 派驻党建指导员 gives 党的工作覆盖
  (party_work_covered), not 组织覆盖.
- 党的工作覆盖 = 组织覆盖, or the serving firm has a 党建指导员 assigned on D.
- 无物业小区 = 无人管理 compounds without an active contract on D; 清零进度 = (baseline − now) ÷
  baseline, the baseline being the count in the earliest snapshot kept.

Demands, for a month M (Shanghai calendar month), by the demand's compound:
- received = received_at in M; due = deadline_at in M and already passed when counted;
  on time = due and resolved_at ≤ deadline_at; overdue = due and (unresolved or resolved
  late); visited = received in M with a return-visit satisfaction; satisfied = visited and
  满意 or 基本满意. 按时办结率 = on time ÷ due; 满意率 = satisfied ÷ visited.

缴费率, for a month M: the bills of M (by compound); billed = the resident part after credit notes,
collected = payments capped at what is due per bill (fees.payments' definition); rate =
collected ÷ billed.

公示按时率, on D: the district's publicity schedule (publicity.schedule): for each requirement that
applies to the compound, the latest period due by D; due = those pairs, on time = published by
the deadline. Rate = on time ÷ due.

Every figure is computed for all compounds at once with grouped queries: the number of
statements does not depend on the number of compounds.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, or_, select

from ..extensions import db
from ..fees.models import Bill
from ..fees.payments import balance_select
from ..org.models import (
    Building, Committee, CommitteeMember, Community, Compound, Contract, Firm, Household, Instructor, PartyOrg,
)
from ..timeutil import SHANGHAI

COVERED_MODES = ("自管", "国资托管")   # 物业服务 without a contract: self-managed, state custodian
NO_SERVICE_MODE = "无人管理"
FIRM_PARTY_STATUSES = ("单独建立党组织", "联合党支部")
COMPOUND_PARTY_KINDS = ("小区党支部", "楼栋党小组")
SATISFIED = ("satisfied", "basically")

# Shown on the dashboard ("口径说明") and in the Excel export.
DEFINITIONS = {
    "committee_rate": ("业委会(物管会)组建率",
                       "有业委会或物管会且其任期覆盖统计日（任期开始 ≤ 统计日 ≤ 任期届满）的小区数 ÷ 小区总数；"
                       "任期已届满未换届的不计入。"),
    "service_rate": ("物业服务覆盖率",
                     "统计日有有效物业服务合同的小区，加上自管、国资托管（兜底）小区，÷ 小区总数；"
                     "无人管理且无合同的小区不计入。"),
    "party_rate": ("党的组织覆盖率",
                   "服务企业（统计日有效合同）单独建立党组织或参加联合党支部，或小区有自己的小区党支部、"
                   "楼栋党小组的小区数 ÷ 小区总数；仅派驻党建指导员的计入“党的工作覆盖”，不计入组织覆盖。"),
    "no_service": ("无物业小区清零",
                   "无人管理且统计日无有效物业服务合同的小区数；清零进度 =（最早快照的数量 − 当前数量）÷ 最早快照的数量。"),
    "demands": ("诉求办理",
                "受理 = 当月受理的诉求；按时办结率 = 当月到期（办理时限在当月且已过）并在时限内办结的 ÷ 当月到期的；"
                "逾期 = 当月到期而未办结或超时办结的；满意率 = 当月受理并已回访的诉求中“满意”“基本满意”的比例。"),
    "collection": ("缴费率",
                   "当月账单居民应缴部分（扣除冲减后）中已收回的金额（每张账单最多计到应缴额）÷ 当月账单居民应缴部分总额。"),
    "publicity": ("公示按时率",
                  "按本区公示要求，统计日已到期的最近一期公示中，在截止日前发布的 (小区, 公示要求) 数 ÷ 应公示的数。"),
}


# --- time helpers ------------------------------------------------------------------------------

def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Naive UTC [start, end) of the Shanghai dates first … last (inclusive)."""
    def utc(d):
        return datetime.combine(d, time(0), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
    return utc(first), utc(last + timedelta(days=1))


# --- the compounds and their 三率 on a day -----------------------------------------------------

def compounds_base() -> list:
    """Every compound with its community, street and mode; one query."""
    return db.session.execute(
        select(Compound.id, Compound.community_id, Community.street_id, Compound.management_mode)
        .join(Community, Community.id == Compound.community_id).order_by(Compound.id)).all()


def households_by_compound() -> dict[int, int]:
    return dict(db.session.execute(select(Household.compound_id, func.count(Household.id))
                                   .group_by(Household.compound_id)).all())


def committees_on(day: date) -> dict[int, tuple[int, int]]:
    """compound id → (members, party members) of its committees whose term covers the day."""
    in_term = and_(Committee.term_start <= day, Committee.term_end >= day)
    rows = db.session.execute(
        select(Committee.compound_id, func.count(CommitteeMember.id),
               func.coalesce(func.sum(case((CommitteeMember.is_party_member.is_(True), 1), else_=0)), 0))
        .select_from(Committee).outerjoin(CommitteeMember, CommitteeMember.committee_id == Committee.id)
        .where(in_term).group_by(Committee.compound_id)).all()
    return {cid: (int(n), int(p)) for cid, n, p in rows}


def serving_firms_on(day: date) -> dict[int, int]:
    """compound id → the firm of its active contract on the day (the latest-starting one when
    contracts overlap, e.g. the handover days of a 接管)."""
    rows = db.session.execute(
        select(Contract.compound_id, Contract.firm_id)
        .where(Contract.in_force(day))
        .order_by(Contract.compound_id, Contract.start_date, Contract.id)).all()
    return {cid: fid for cid, fid in rows}   # later rows win: the latest start


def firms_with_party_org() -> set[int]:
    own = select(Firm.id).where(Firm.party_status.in_(FIRM_PARTY_STATUSES))
    org = select(PartyOrg.firm_id).where(PartyOrg.firm_id.is_not(None))
    return set(db.session.execute(own.union(org)).scalars())


def firms_with_instructor(day: date) -> set[int]:
    return set(db.session.execute(select(Instructor.firm_id).where(
        Instructor.assigned_on <= day, or_(Instructor.ended_on.is_(None), Instructor.ended_on >= day))).scalars())


def compounds_with_party_org() -> set[int]:
    """Compounds with a 小区党支部 or 楼栋党小组 (the group's compound may come from its building)."""
    cid = func.coalesce(PartyOrg.compound_id, Building.compound_id)
    return set(db.session.execute(
        select(cid).select_from(PartyOrg).outerjoin(Building, Building.id == PartyOrg.building_id)
        .where(PartyOrg.kind.in_(COMPOUND_PARTY_KINDS), cid.is_not(None))).scalars())


def coverage_on(day: date) -> dict[int, dict]:
    """compound id → its register figures on the day (the 三率 columns of CompoundMonth)."""
    committees, firms = committees_on(day), serving_firms_on(day)
    party_firms, instructed = firms_with_party_org(), firms_with_instructor(day)
    party_compounds, households = compounds_with_party_org(), households_by_compound()
    out = {}
    for cid, community_id, street_id, mode in compounds_base():
        firm = firms.get(cid)
        members, party_members = committees.get(cid, (0, 0))
        org = (firm is not None and firm in party_firms) or cid in party_compounds
        out[cid] = {
            "compound_id": cid, "community_id": community_id, "street_id": street_id, "management_mode": mode,
            "households": households.get(cid, 0),
            "has_committee": cid in committees, "committee_members": members,
            "committee_party_members": party_members,
            "service_covered": firm is not None or mode in COVERED_MODES, "firm_id": firm,
            "party_org_covered": org, "party_work_covered": org or (firm is not None and firm in instructed),
        }
    return out


def no_service(row: dict) -> bool:
    """A 无物业小区 (the 清零 target): 无人管理 and no contract on the day."""
    return row["management_mode"] == NO_SERVICE_MODE and not row["service_covered"]


# --- demands, collection, publicity of a month ------------------------------------------------

def demand_counts(month: date, at: datetime, key: str = "compound") -> dict[int, dict]:
    """compound (or firm) id → received, due, on time, overdue, visited, satisfied in the month,
    as they stand at `at` (naive UTC)."""
    from ..demands.models import Demand  # lazy: demands is a sibling area read here

    start, end = utc_bounds(month, month_end(month))
    col = Demand.compound_id if key == "compound" else Demand.firm_id
    received = and_(Demand.received_at >= start, Demand.received_at < end)
    due = and_(Demand.deadline_at >= start, Demand.deadline_at < end, Demand.deadline_at <= at)
    on_time = and_(due, Demand.resolved_at.is_not(None), Demand.resolved_at <= Demand.deadline_at)
    visited = and_(received, Demand.satisfaction.is_not(None))

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    rows = db.session.execute(
        select(col, n(received), n(due), n(on_time), n(and_(due, ~on_time)), n(visited),
               n(and_(visited, Demand.satisfaction.in_(SATISFIED))))
        .where(col.is_not(None), or_(received, due)).group_by(col)).all()
    names = ("demands_received", "demands_due", "demands_on_time", "demands_overdue", "demands_visited",
             "demands_satisfied")
    return {r[0]: dict(zip(names, map(int, r[1:]))) for r in rows}


def collection_counts(first_month: date, last_month: date, key: str = "compound") -> dict[int, tuple[int, int]]:
    """compound (or firm) id → (collected, billed) in 分 of the bills of those months."""
    col = Bill.compound_id if key == "compound" else Bill.firm_id
    b = balance_select(None, Bill.month >= first_month, Bill.month <= last_month).add_columns(
        col.label("key")).subquery("b")
    collected = func.sum(case((b.c.paid > b.c.due, b.c.due), else_=b.c.paid))
    rows = db.session.execute(select(b.c.key, collected, func.sum(b.c.due))
                              .where(b.c.key.is_not(None)).group_by(b.c.key)).all()
    return {k: (int(c or 0), int(bl or 0)) for k, c, bl in rows}


def publicity_counts(compound_ids, day: date) -> dict[int, tuple[int, int]]:
    """compound id → (due, on time) per the publicity schedule on the day."""
    from ..publicity import schedule  # lazy: publicity reads fees and org; keep imports one way

    out: dict[int, list[int]] = {}
    for row in schedule.compliance(compound_ids, day):
        cell = out.setdefault(row.compound_id, [0, 0])
        cell[0] += 1
        cell[1] += row.status == "ok"
    return {k: (v[0], v[1]) for k, v in out.items()}
