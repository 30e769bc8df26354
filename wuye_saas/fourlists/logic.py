"""四项清单: plain functions that flush, never commit, and refuse with FourListProblem having
written nothing.

Rules (000 合肥: 列出需求、资源、服务、责任四项清单; 003: 为民服务项目清单):
1. A list belongs to one community and one year; staff keep the lists of the communities they
   reach (community staff their own, street staff their street's).
2. Every item names its owner: a unit of the 1+3+N (社区党组织; 居委会、业委会、物业企业; the N
   others). An item owned by a firm names the firm, which then sees it and reports on it.
3. 需求, 服务 and 责任 items carry a deadline; a 资源 item (what a unit offers) may have none. A
   deadline lies in the list's year or later, never before it.
4. An open item (未开始, 推进中) past its deadline is overdue (Asia/Shanghai day).
5. Progress is reported, never edited in place: each report says what was done (required), and
   leaves the item in a state with a per cent; 已完成 is 100 %, 已取消 keeps the last per cent
   and needs the reason. A firm reports only on open items it owns.
6. A demand or a meeting's agenda item enters the 需求清单 once: a second try finds the first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from .. import policy
from ..auth.models import Membership
from ..demands.models import Demand
from ..extensions import db
from ..meetings.models import AgendaItem
from ..org.models import Community, Compound, Firm
from ..timeutil import today
from .models import KINDS, OPEN_STATES, OWNER_KINDS, STATES, FourListItem, FourListUpdate

YEAR_MIN, YEAR_MAX = 2000, 2100
NEEDS_DEADLINE = ("need", "service", "duty")
NOTE_MAX = 2000


class FourListProblem(ValueError):
    def __init__(self, message: str, field: str = "title"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class ItemData:
    community_id: int | None
    year: int | None
    kind: str
    title: str
    detail: str
    owner_kind: str
    owner_name: str
    firm_id: int | None
    compound_id: int | None
    due_on: date | None
    priority: bool


def _in_scope(m: Membership, model, record_id: int | None):
    if record_id is None:
        return None
    return db.session.execute(select(model).where(model.id == record_id, policy.visible(m, model))).scalar_one_or_none()


def _checked(m: Membership, d: ItemData) -> dict:
    """The column values of an item, or FourListProblem naming the field at fault."""
    community = _in_scope(m, Community, d.community_id)
    if community is None:
        raise FourListProblem("请选择社区。", "community_id")
    if d.year is None or not YEAR_MIN <= d.year <= YEAR_MAX:
        raise FourListProblem(f"年度应在 {YEAR_MIN}–{YEAR_MAX} 之间。", "year")
    if d.kind not in KINDS:
        raise FourListProblem("请选择清单类别。", "kind")
    title = (d.title or "").strip()
    if not title:
        raise FourListProblem("请填写事项。", "title")
    if d.owner_kind not in OWNER_KINDS:
        raise FourListProblem("请选择责任主体类别。", "owner_kind")
    owner_name = (d.owner_name or "").strip()
    firm = None
    if d.owner_kind == "firm":
        firm = _in_scope(m, Firm, d.firm_id)
        if firm is None:
            raise FourListProblem("责任主体是物业服务企业时，请选择企业。", "firm_id")
        owner_name = firm.name
    elif d.firm_id:
        raise FourListProblem("只有责任主体是物业服务企业时才选择企业。", "firm_id")
    if not owner_name:
        raise FourListProblem("请填写责任单位或责任人。", "owner_name")
    compound = None
    if d.compound_id:
        compound = _in_scope(m, Compound, d.compound_id)
        if compound is None or compound.community_id != community.id:
            raise FourListProblem("所选小区不在该社区。", "compound_id")
    if d.kind in NEEDS_DEADLINE and d.due_on is None:
        raise FourListProblem(f"{KINDS[d.kind]}的事项须有完成时限。", "due_on")
    if d.due_on is not None and d.due_on < date(d.year, 1, 1):
        raise FourListProblem(f"完成时限不能早于清单年度（{d.year} 年）。", "due_on")
    return {"community_id": community.id, "year": d.year, "kind": d.kind, "title": title,
            "detail": (d.detail or "").strip(), "owner_kind": d.owner_kind, "owner_name": owner_name,
            "firm_id": firm.id if firm else None, "compound_id": compound.id if compound else None,
            "due_on": d.due_on, "priority": bool(d.priority)}


def may_keep(m: Membership, community_id: int | None = None) -> bool:
    """Staff who keep lists (rule 1); with a community, only one they reach."""
    if not policy.can(m, "manage", "fourlist"):
        return False
    return community_id is None or _in_scope(m, Community, community_id) is not None


def create_item(m: Membership, d: ItemData, user_id: int | None, *, demand: Demand | None = None,
                agenda_item: AgendaItem | None = None) -> FourListItem:
    values = _checked(m, d)
    if not may_keep(m, values["community_id"]):
        raise FourListProblem("只有该社区或其街道的工作人员可以维护四项清单。", "community_id")
    if demand is not None or agenda_item is not None:
        if values["kind"] != "need":
            raise FourListProblem("来自诉求或会议议题的事项列入需求清单。", "kind")
        existing = listed_from(demand=demand, agenda_item=agenda_item)
        if existing is not None:
            raise FourListProblem(f"已列入 {existing.year} 年需求清单：{existing.title}", "title")
    item = FourListItem(**values, state="planned", progress=0, created_by_id=user_id,
                        demand_id=demand.id if demand else None,
                        agenda_item_id=agenda_item.id if agenda_item else None)
    db.session.add(item)
    db.session.flush()
    return item


def edit_item(m: Membership, item: FourListItem, d: ItemData) -> None:
    values = _checked(m, d)
    if not may_keep(m, item.community_id) or not may_keep(m, values["community_id"]):
        raise FourListProblem("只有该社区或其街道的工作人员可以维护四项清单。", "community_id")
    if (item.demand_id or item.agenda_item_id) and values["kind"] != "need":
        raise FourListProblem("来自诉求或会议议题的事项列入需求清单。", "kind")
    for key, value in values.items():
        setattr(item, key, value)
    db.session.flush()


def may_report(m: Membership, item: FourListItem) -> bool:
    if not policy.can(m, "report", "fourlist_report"):
        return False
    if m.role in policy.FIRM_ROLES:
        return item.firm_id == m.firm_id and item.state in OPEN_STATES
    return may_keep(m, item.community_id)


def report(m: Membership, item: FourListItem, state: str, progress: int | None, note: str,
           user_id: int | None, author: str) -> FourListUpdate:
    """Rule 5: a progress report moves the item."""
    if not may_report(m, item):
        raise FourListProblem("你不能报告这项事项的进展。", "note")
    if state not in STATES:
        raise FourListProblem("请选择状态。", "state")
    note = (note or "").strip()
    if not note:
        raise FourListProblem("请写明进展情况。" if state != "dropped" else "请写明取消的原因。", "note")
    if len(note) > NOTE_MAX:
        raise FourListProblem(f"进展情况不能超过 {NOTE_MAX} 个字。", "note")
    if state == "done":
        progress = 100
    elif state == "dropped":
        progress = item.progress
    elif progress is None or not 0 <= progress <= 100:
        raise FourListProblem("完成进度应在 0–100 之间。", "progress")
    elif progress == 100:
        raise FourListProblem("进度为 100% 时请选择“已完成”。", "state")
    if state == "planned" and progress > 0:
        state = "doing"
    u = FourListUpdate(item=item, state=state, progress=progress, note=note, user_id=user_id, author=author[:100])
    item.state, item.progress = state, progress
    db.session.add(u)
    db.session.flush()
    return u


def listed_from(*, demand: Demand | None = None, agenda_item: AgendaItem | None = None) -> FourListItem | None:
    """Rule 6: the item a demand or agenda item already became, if any."""
    if demand is not None:
        return db.session.execute(select(FourListItem).where(FourListItem.demand_id == demand.id)).scalar_one_or_none()
    if agenda_item is not None:
        return db.session.execute(
            select(FourListItem).where(FourListItem.agenda_item_id == agenda_item.id)).scalar_one_or_none()
    return None


def items_select(m: Membership, year: int | None, community_id: int | None, kind: str = "", state: str = "",
                 q: str = "", overdue: bool = False, priority: bool = False):
    stmt = select(FourListItem).where(policy.visible(m, FourListItem))
    if year:
        stmt = stmt.where(FourListItem.year == year)
    if community_id:
        stmt = stmt.where(FourListItem.community_id == community_id)
    if kind in KINDS:
        stmt = stmt.where(FourListItem.kind == kind)
    if state in STATES:
        stmt = stmt.where(FourListItem.state == state)
    if q:
        stmt = stmt.where(FourListItem.title.contains(q, autoescape=True))
    if overdue:
        stmt = stmt.where(FourListItem.state.in_(OPEN_STATES), FourListItem.due_on < today())
    if priority:
        stmt = stmt.where(FourListItem.priority.is_(True))
    return stmt.order_by(FourListItem.kind, FourListItem.due_on.is_(None), FourListItem.due_on, FourListItem.id)


def summary(m: Membership, year: int | None, community_id: int | None) -> dict[str, dict[str, int]]:
    """{kind: {total, done, open, overdue}} over what `m` sees, one query."""
    day = today()
    is_open = FourListItem.state.in_(OPEN_STATES)
    stmt = select(FourListItem.kind, func.count(),
                  func.sum(case((FourListItem.state == "done", 1), else_=0)),
                  func.sum(case((is_open, 1), else_=0)),
                  func.sum(case((is_open & (FourListItem.due_on < day), 1), else_=0))
                  ).where(policy.visible(m, FourListItem)).group_by(FourListItem.kind)
    if year:
        stmt = stmt.where(FourListItem.year == year)
    if community_id:
        stmt = stmt.where(FourListItem.community_id == community_id)
    out = {k: {"total": 0, "done": 0, "open": 0, "overdue": 0} for k in KINDS}
    for kind, total, done, open_, overdue in db.session.execute(stmt).all():
        if kind in out:
            out[kind] = {"total": total, "done": int(done or 0), "open": int(open_ or 0), "overdue": int(overdue or 0)}
    return out
