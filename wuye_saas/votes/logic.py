"""Owner votes and maintenance-fund applications: the workflows, as plain functions.

A vote carries one or more items (议题), each counted on its own with the vote's thresholds; a
single-question vote has one item titled as the vote. When voting opens the roll of units and
owners is fixed (roll.py says why) and every count is by person from that roll.

Every function flushes and never commits (the view commits once). Refusals are returned as
{field: message} and write nothing. Publications go through `chain.publish` only.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import audit, events, policy, timeutil
from ..extensions import db
from ..money import fmt_yuan
from ..org.models import Building, Compound, Household
from ..publicity import chain, ledger
from ..publicity.models import PUBLICATION_KINDS
from ..publicity.templates_content import line
from . import counting, roll
from .models import (
    CHOICES, FUND_STATUSES, MATTERS, REVIEW_LEVELS, VOTE_STATUSES, Ballot, BallotChoice, FundApplication,
    FundReview, OwnerVote, VoteItem,
)

MAX_ITEMS = 30                   # items of one vote (an election: one per candidate)

NOTICE_DAYS = 15                 # 物业管理条例 第14条: the meeting is announced 15 days ahead
# The fast path of RULES.md: these emergencies may skip the owner vote, never the reviews.
EMERGENCIES = ["电梯", "屋面渗漏", "水泵", "外墙", "排水", "消防"]
# Which role reviews at which level, and the level after it.
REVIEWER = {"community": "community_staff", "street": "street_staff", "district": policy.DISTRICT}
NEXT_LEVEL = {"community": "street", "street": "district", "district": "approved"}


def today() -> date:
    return timeutil.today()


def _publish(compound_id: int, kind: str, title: str, content: dict, user):
    pub = chain.publish(compound_id, kind, title, content, user=user)
    audit.record_event("create", "publication", title, entity_id=pub.id)
    return pub


# --- votes ----------------------------------------------------------------------------------

def votes_select(m, q: str = "", status: str | None = None, matter: str | None = None):
    stmt = (select(OwnerVote).where(policy.visible(m, OwnerVote))
            .options(joinedload(OwnerVote.compound)))
    if q:
        stmt = stmt.where(OwnerVote.title.contains(q))
    if status in VOTE_STATUSES:
        stmt = stmt.where(OwnerVote.status == status)
    if matter in MATTERS:
        stmt = stmt.where(OwnerVote.matter == matter)
    return stmt.order_by(OwnerVote.created_at.desc(), OwnerVote.id.desc())


def create_vote(compound_id: int, matter: str, title: str, description: str,
                items: list[str | tuple[str, int | None]] | None = None) -> tuple[OwnerVote | None, dict]:
    """A draft vote. `items`: its questions (a title, or (title, candidate id) for an election);
    none → one item, the vote's own title."""
    if matter not in MATTERS:
        return None, {"matter": "请选择表决事项。"}
    if not title.strip():
        return None, {"title": "请填写表决标题。"}
    specs = [(i, None) if isinstance(i, str) else i for i in (items or [])]
    specs = [(t.strip(), c) for t, c in specs]
    if any(not t or len(t) > 200 for t, _ in specs):
        return None, {"items": "每个议题须有标题，且不超过 200 个字。"}
    if len(specs) > MAX_ITEMS:
        return None, {"items": f"一次表决最多 {MAX_ITEMS} 个议题。"}
    vote = OwnerVote(compound_id=compound_id, matter=matter, title=title.strip(),
                     description=description.strip(), status="draft")
    db.session.add(vote)
    db.session.flush()
    for n, (t, cid) in enumerate(specs or [(vote.title, None)], start=1):
        db.session.add(VoteItem(vote_id=vote.id, position=n, title=t, candidate_id=cid))
    db.session.flush()
    return vote, {}


def items_of(vote: OwnerVote) -> list[VoteItem]:
    """The vote's items in order; a vote written without any (older code paths) gets its one."""
    items = db.session.execute(select(VoteItem).where(VoteItem.vote_id == vote.id)
                               .order_by(VoteItem.position)).scalars().all()
    if not items:
        item = VoteItem(vote_id=vote.id, position=1, title=vote.title)
        db.session.add(item)
        db.session.flush()
        items = [item]
    return list(items)


def file_vote(vote: OwnerVote) -> dict:
    """重大事项报备: the committee files the matter with the community before anything else."""
    if vote.status != "draft":
        return {"action": "只有草稿状态的表决可以报备社区。"}
    vote.status, vote.filed_at = "filed", timeutil.now()
    db.session.flush()
    return {}


def publicize_vote(vote: OwnerVote, opens_on: date | None, closes_on: date | None, user=None) -> dict:
    """Publish the notice today; voting may open no earlier than 15 days later."""
    if vote.status != "filed":
        return {"action": "表决事项须先报备社区，才能公示。"}
    if opens_on is None:
        return {"opens_on": "请填写表决开始日期。"}
    if closes_on is None:
        return {"closes_on": "请填写表决截止日期。"}
    earliest = today() + timedelta(days=NOTICE_DAYS)
    if opens_on < earliest:
        return {"opens_on": f"表决须提前 {NOTICE_DAYS} 日公示（物业管理条例第十四条），"
                            f"开始日期不得早于 {earliest:%Y-%m-%d}。"}
    if closes_on < opens_on:
        return {"closes_on": "截止日期不能早于开始日期。"}
    vote.status, vote.publicized_on, vote.opens_on, vote.closes_on = "publicized", today(), opens_on, closes_on
    _publish(vote.compound_id, "vote_notice", f"业主表决事项公示：{vote.title}", notice_content(vote), user)
    db.session.flush()
    return {}


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def notice_content(vote: OwnerVote) -> dict:
    """What the 15-day notice says (and so what its hash covers): the matter, its description,
    the options, the voting period, who may vote — the compound's units as registered today —
    and the matter's legal pass conditions."""
    areas = db.session.execute(select(Household.floor_area)
                               .where(Household.compound_id == vote.compound_id)).scalars().all()
    units, area = len(areas), sum((Decimal(a) for a in areas), Decimal(0))
    eligible = (f"本小区全体业主（专有部分所有权人）。现登记专有部分 {units} 户，"
                f"总面积 {area:,.2f} ㎡。\n"
                "面积按专有部分登记面积计算；人数按专有部分计，同一业主拥有多个专有部分按一人计算，"
                "建设单位未出售或未交付的专有部分合计按一人计算（建筑物区分所有权解释第八、九条）。")
    items = items_of(vote)
    several = len(items) > 1
    lines = [
        line("matter", f"{MATTERS[vote.matter]}（民法典第二百七十八条）", "表决事项"),
        line("title", vote.title, "事项名称"),
        line("description", vote.description or "（无）", "事项说明"),
    ]
    if several:
        lines.append(line("items", "\n".join(f"{i.position}. {i.title}" for i in items),
                          f"表决议题（共 {len(items)} 项，逐项表决、分别计票）"))
    lines += [
        line("options", "、".join(CHOICES.values()) + ("（每个议题每户选其一）" if several else "（每户选其一）"),
             "表决选项"),
        line("period", f"{_cn(vote.opens_on)} 至 {_cn(vote.closes_on)}", "表决期间"),
        line("eligible", eligible, "表决资格"),
        line("conditions", "\n".join(counting.conditions(vote.matter)), "通过条件"),
        line("filed", timeutil.fmt_datetime(vote.filed_at), "报备社区"),
        line("publicized", f"{_cn(vote.publicized_on)}（表决开始前至少提前 {NOTICE_DAYS} 日公示）", "公示日期"),
    ]
    return {"matter": vote.matter, "matter_label": MATTERS[vote.matter], "title": vote.title,
            "description": vote.description, "filed_at": timeutil.fmt_datetime(vote.filed_at),
            "publicized_on": vote.publicized_on.isoformat(), "opens_on": vote.opens_on.isoformat(),
            "closes_on": vote.closes_on.isoformat(), "supermajority": vote.matter in counting.SUPERMAJORITY,
            "eligible_units": units, "eligible_area": f"{area:.2f}", "lines": lines,
            **({"items": [i.title for i in items]} if several else {})}


def result_content(vote: OwnerVote, decision: counting.Decision, counted_on: date,
                   counted: list[tuple[VoteItem, counting.Decision]] | None = None) -> dict:
    """The published count: each legal test with its exact figures, and the outcome — per item
    when the vote has several."""
    lines = [line("matter", MATTERS[vote.matter], "表决事项"),
             line("period", f"{_cn(vote.opens_on)} 至 {_cn(vote.closes_on)}", "表决期间"),
             line("counted", _cn(counted_on), "计票日期")]
    if counted and len(counted) > 1:
        for item, d in counted:
            lines.append(line(f"item{item.position}", "\n".join(d.lines + [d.summary]),
                              f"议题 {item.position}：{item.title}"))
        result = multi_result(vote, counted)
    else:
        lines += [line(f"test{i}", t.figures(), t.label) for i, t in enumerate(decision.tests)]
        result = decision.as_dict()
    lines += [line("conditions", "\n".join(counting.conditions(vote.matter)), "通过条件"),
              line("outcome", result["summary"], "表决结果")]
    return {"title": vote.title, "result": result, "opens_on": vote.opens_on.isoformat(),
            "closes_on": vote.closes_on.isoformat(), "counted_on": counted_on.isoformat(), "lines": lines}


def multi_result(vote: OwnerVote, counted: list[tuple[VoteItem, counting.Decision]]) -> dict:
    """A vote of several items as stored: the shared totals and each item's own count. The vote
    as a whole "passed" when it took effect (participation met) and at least one item passed;
    what was decided is read item by item (an election's members, for one)."""
    first = counted[0][1]
    passed = [item.title for item, d in counted if d.passed]
    summary = (f"共 {len(counted)} 个议题，通过 {len(passed)} 个" + (f"：{'、'.join(passed)}。" if passed else "。")
               if any(d.participation_ok for _, d in counted)
               else "参与表决的专有部分面积或人数未达到三分之二以上，表决不成立。")
    return {"matter": vote.matter, "matter_label": MATTERS.get(vote.matter, vote.matter),
            "supermajority": vote.matter in counting.SUPERMAJORITY, "passed": bool(passed),
            "total_area_centi": first.total_area, "total_heads": first.total_heads,
            "part_area_centi": first.part_area, "part_heads": first.part_heads,
            "items": [{"position": item.position, "title": item.title, "candidate_id": item.candidate_id,
                       **d.as_dict()} for item, d in counted],
            "lines": [f"议题 {item.position}（{item.title}）：{d.summary}" for item, d in counted],
            "tests": [], "summary": summary}


def open_vote(vote: OwnerVote) -> dict:
    """Voting opens — only on a street-acknowledged 重大事项报备 (matters.gate) — and the roll of
    units and owners is fixed as the register has it today."""
    if vote.status != "publicized":
        return {"action": "只有已公示的表决可以开始。"}
    if today() < vote.opens_on:
        return {"action": f"公示的表决开始日期是 {vote.opens_on:%Y-%m-%d}，尚未到期。"}
    from ..matters import logic as matters     # the filing builds on votes, not the reverse
    refused = matters.gate(vote)
    if refused:
        return {"action": refused}
    vote.status = "open"
    items_of(vote)
    roll.fix_roll(vote, today())
    db.session.flush()
    events.emit("vote.opened", "vote", vote.id, compound_id=vote.compound_id, data={"title": vote.title})
    return {}


def ensure_roll(vote: OwnerVote) -> None:
    """A vote opened before rolls existed gets its roll from the register when first needed."""
    if vote.roll_on is None and vote.status in ("open", "closed"):
        roll.fix_roll(vote, today())


def households_select(vote: OwnerVote, q: str = "", voted: str = ""):
    """The compound's units for the ballot sheet, searchable, filtered by voted or not."""
    stmt = (select(Household).join(Building, Household.building_id == Building.id)
            .options(joinedload(Household.building)).where(Household.compound_id == vote.compound_id))
    if q:
        stmt = stmt.where(or_(Household.room.contains(q), Household.owner_name.contains(q),
                              Building.name.contains(q)))
    voted_ids = select(Ballot.household_id).where(Ballot.vote_id == vote.id)
    if voted == "yes":
        stmt = stmt.where(Household.id.in_(voted_ids))
    elif voted == "no":
        stmt = stmt.where(Household.id.not_in(voted_ids))
    return stmt.order_by(Building.name_key, Household.room_key)


def ballots_of(vote: OwnerVote, household_ids=None) -> dict[int, Ballot]:
    stmt = select(Ballot).where(Ballot.vote_id == vote.id)
    if household_ids is not None:
        stmt = stmt.where(Ballot.household_id.in_(household_ids))
    return {b.household_id: b for b in db.session.execute(stmt).scalars()}


def area_centi(h: Household) -> int:
    return int(Decimal(h.floor_area) * 100)


def record_ballot(vote: OwnerVote, household: Household, choice: str = "", owner_key: str = "",
                  developer: bool = False, choices: dict[int, str] | None = None) -> tuple[Ballot | None, dict]:
    """Record (or change, or with no choice at all withdraw) one unit's vote while it is open.

    `choice` is the choice on a single-question vote; `choices` (item id → choice, "" for none)
    the choices on the items of a vote with several. Who the unit's owner is comes from the
    vote's roll (the register), never from the sheet: `owner_key` and `developer` remain for
    callers of the earlier signature and are not used for the count."""
    if vote.status != "open":
        return None, {"choice": "表决未在进行中，不能登记表决票。"}
    if household.compound_id != vote.compound_id:
        return None, {"choice": "该户不属于本小区。"}
    items = items_of(vote)
    if choices is None:
        if len(items) > 1 and choice:
            return None, {"choice": "本次表决有多个议题，请逐项选择表决意见。"}
        choices = {items[0].id: choice or ""}
    ids = {i.id for i in items}
    if set(choices) - ids:
        return None, {"choice": "议题不属于本次表决，请刷新页面后重试。"}
    if any(c and c not in CHOICES for c in choices.values()):
        return None, {"choice": "请选择同意、反对或弃权。"}
    ensure_roll(vote)
    if roll.on_roll(vote, household.id) is None:
        return None, {"choice": f"该户不在本次表决的表决权登记名册中（名册于 {vote.roll_on:%Y-%m-%d} 表决开始时确定）。"}
    ballot = db.session.execute(select(Ballot).where(
        Ballot.vote_id == vote.id, Ballot.household_id == household.id)).scalar_one_or_none()
    kept = {} if ballot is None else {c.item_id: c for c in ballot.choices}
    wanted = {iid: c for iid, c in ((i.id, choices.get(i.id, kept[i.id].choice if i.id in kept else ""))
                                    for i in items) if c}
    if not wanted:
        if ballot is not None:
            db.session.delete(ballot)
            db.session.flush()
        return None, {}
    if ballot is None:
        ballot = Ballot(vote_id=vote.id, household_id=household.id)
        db.session.add(ballot)
    ballot.choice = wanted.get(items[0].id, "")
    ballot.owner_key, ballot.developer = household.owner_name, household.developer_held
    ballot.area_centi, ballot.recorded_at = area_centi(household), timeutil.now()
    for iid, c in kept.items():
        if iid not in wanted:
            ballot.choices.remove(c)
    for iid, c in wanted.items():
        if iid in kept:
            kept[iid].choice = c
        else:
            ballot.choices.append(BallotChoice(item_id=iid, choice=c))
    db.session.flush()
    return ballot, {}


def choices_of(vote: OwnerVote, household_ids=None) -> dict[int, dict[int, str]]:
    """household id → {item id → choice} of the recorded ballots (one statement)."""
    stmt = (select(Ballot.household_id, BallotChoice.item_id, BallotChoice.choice)
            .join(BallotChoice, BallotChoice.ballot_id == Ballot.id).where(Ballot.vote_id == vote.id))
    if household_ids is not None:
        stmt = stmt.where(Ballot.household_id.in_(household_ids))
    out: dict[int, dict[int, str]] = {}
    for hid, iid, c in db.session.execute(stmt):
        out.setdefault(hid, {})[iid] = c
    return out


def units_and_ballots(vote: OwnerVote) -> tuple[list[counting.Unit], dict[int, str]]:
    """The roll as plain units (owner key = the owner's head) and the first item's choices,
    for the plain rule in counting.decide."""
    ensure_roll(vote)
    first = items_of(vote)[0].id
    ballots = {hid: cs[first] for hid, cs in choices_of(vote).items() if first in cs}
    return roll.roll_units(vote), ballots


def tally_items(vote: OwnerVote) -> list[tuple[VoteItem, counting.Decision]]:
    """Every item's count from the roll, in SQL: the same few statements for any compound."""
    ensure_roll(vote)
    return roll.count(vote, items_of(vote))


def tally(vote: OwnerVote) -> counting.Decision:
    """The count of the vote's (first) item — the whole vote for a single question."""
    return tally_items(vote)[0][1]


def close_vote(vote: OwnerVote, user=None) -> tuple[counting.Decision | None, dict]:
    """Count, store the result, publish it, and move linked fund applications (and an
    election's formation) on."""
    if vote.status != "open":
        return None, {"action": "只有表决中的表决可以计票。"}
    if today() < vote.closes_on:
        return None, {"action": f"公示的表决截止日期是 {vote.closes_on:%Y-%m-%d}，尚未到期，不能提前计票。"}
    counted = tally_items(vote)
    decision = counted[0][1]
    for item, d in counted:
        item.result, item.passed = d.as_dict(), d.passed
    result = decision.as_dict() if len(counted) == 1 else multi_result(vote, counted)
    vote.status, vote.result, vote.passed = "closed", result, result["passed"]
    vote.total_area_centi, vote.total_heads = decision.total_area, decision.total_heads
    _publish(vote.compound_id, "vote_result", f"业主表决结果公示：{vote.title}",
             result_content(vote, decision, today(), counted), user)
    for app in db.session.execute(select(FundApplication).where(
            FundApplication.vote_id == vote.id, FundApplication.status == "voting")).scalars():
        app.status = "community" if decision.passed else "rejected"
    if vote.matter == "committee":
        from ..committees import logic as committees   # committees builds on votes, not the reverse
        committees.election_counted(vote, counted, today())
    db.session.flush()
    return decision, {}


# --- fund applications ---------------------------------------------------------------------

def applicant_kind(m) -> str | None:
    if m.role in policy.FIRM_ROLES:
        return "firm"
    if m.role == "committee_member":
        return "committee"
    return None


def is_applicant(m, app: FundApplication) -> bool:
    return policy.can(m, "apply", "fund_apply") and applicant_kind(m) == app.applicant


def applications_select(m, q: str = "", status: str | None = None):
    stmt = (select(FundApplication).where(policy.visible(m, FundApplication))
            .options(joinedload(FundApplication.compound)))
    if q:
        stmt = stmt.where(or_(FundApplication.item.contains(q), FundApplication.contractor.contains(q)))
    if status in FUND_STATUSES:
        stmt = stmt.where(FundApplication.status == status)
    return stmt.order_by(FundApplication.created_at.desc(), FundApplication.id.desc())


def visible_compounds(m) -> list[tuple[int, str]]:
    stmt = select(Compound.id, Compound.name).where(policy.visible(m, Compound)).order_by(Compound.name)
    return [(r.id, r.name) for r in db.session.execute(stmt)]


def linkable_votes(compound_ids: list[int]) -> list[OwnerVote]:
    """The compounds' 使用维修资金 votes not yet tied to an application and not failed."""
    taken = select(FundApplication.vote_id).where(FundApplication.vote_id.is_not(None))
    stmt = (select(OwnerVote).options(joinedload(OwnerVote.compound))
            .where(OwnerVote.compound_id.in_(compound_ids), OwnerVote.matter == "use_fund",
                                    OwnerVote.id.not_in(taken), or_(OwnerVote.passed.is_(None), OwnerVote.passed))
            .order_by(OwnerVote.id.desc()))
    return list(db.session.execute(stmt).scalars())


def _check_fields(item: str, budget_fen: int | None, contractor: str) -> dict:
    if not item.strip():
        return {"item": "请填写维修项目。"}
    if budget_fen is None or budget_fen <= 0:
        return {"budget": "预算金额必须大于 0。"}
    if not contractor.strip():
        return {"contractor": "请填写施工单位。"}
    return {}


def create_application(compound_id: int, applicant: str, item: str, budget_fen: int | None, contractor: str,
                       quotes: str, emergency: bool, vote_choice: int | None,
                       building_ids: list[int] | None = None) -> tuple[FundApplication | None, dict]:
    """Apply: an emergency goes straight to community review; otherwise the application waits
    for the linked 使用维修资金 vote (`vote_choice` an existing vote id, 0 = create one).
    `building_ids`: the buildings whose households share the cost (None: the whole compound)."""
    problems = _check_fields(item, budget_fen, contractor)
    if not problems and building_ids is not None:
        own = set(db.session.execute(select(Building.id).where(Building.compound_id == compound_id)).scalars())
        if not building_ids or not set(building_ids) <= own:
            problems = {"buildings": "请选择本小区中本次维修涉及的楼栋。"}
    vote = None
    if not problems and not emergency:
        if vote_choice:
            vote = next((v for v in linkable_votes([compound_id]) if v.id == vote_choice), None)
            if vote is None:
                problems = {"vote_id": "所选表决不属于本小区或已被其他申请使用。"}
    if problems:
        return None, problems
    app = FundApplication(compound_id=compound_id, applicant=applicant, item=item.strip(), budget_fen=budget_fen,
                          contractor=contractor.strip(), quotes=quotes.strip(), emergency=emergency,
                          building_ids=building_ids)
    if emergency:
        app.status = "community"
    else:
        if vote is None:
            vote, _ = create_vote(compound_id, "use_fund", f"使用维修资金：{app.item}",
                                  f"预算 {budget_fen / 100:,.2f} 元，施工单位 {app.contractor}。\n{app.quotes}")
        app.vote_id = vote.id
        app.status = _status_after_vote(vote)
    db.session.add(app)
    db.session.flush()
    return app, {}


def _status_after_vote(vote: OwnerVote) -> str:
    if vote.status != "closed":
        return "voting"
    return "community" if vote.passed else "rejected"


def resubmit(app: FundApplication, item: str, budget_fen: int | None, contractor: str, quotes: str) -> dict:
    """A returned application, corrected by its applicant, goes back to community review."""
    if app.status != "returned":
        return {"item": "只有被退回的申请可以修改后重新提交。"}
    problems = _check_fields(item, budget_fen, contractor)
    if problems:
        return problems
    app.item, app.budget_fen, app.contractor, app.quotes = item.strip(), budget_fen, contractor.strip(), quotes.strip()
    app.status = "community"
    db.session.flush()
    return {}


def review_level(m, app: FundApplication) -> str | None:
    """The level this membership may review now, if any."""
    level = app.status if app.status in REVIEW_LEVELS else None
    return level if level and m.role == REVIEWER[level] and policy.can(m, "review", "fund_review") else None


def review(app: FundApplication, m, approve: bool, reason: str, approved_fen: int | None = None,
           user=None) -> dict:
    level = review_level(m, app)
    if level is None:
        return {"decision": "该申请当前不在您的审核环节。"}
    reason = (reason or "").strip()
    if not approve:
        if not reason:
            return {"reason": "退回时必须填写理由。"}
        app.reviews.append(FundReview(level=level, approve=False, reason=reason, user_id=getattr(user, "id", None)))
        app.status = "returned"
        db.session.flush()
        return {}
    if level == "district":
        amount = app.budget_fen if approved_fen is None else approved_fen
        if amount <= 0 or amount > app.budget_fen:
            return {"approved": f"核准金额须大于 0 且不超过预算 {app.budget_fen / 100:,.2f} 元。"}
        available = ledger.balance(app.compound_id, "maintenance_fund")
        if available < amount:
            return {"approved": f"专项维修资金余额 {available / 100:,.2f} 元，不足以支付 {amount / 100:,.2f} 元。"}
    app.reviews.append(FundReview(level=level, approve=True, reason=reason, user_id=getattr(user, "id", None)))
    app.status = NEXT_LEVEL[level]
    db.session.flush()
    if level == "district":
        _pay(app, amount, user)
    return {}


def building_choices(compound_ids: list[int]) -> dict[str, list[tuple[int, str]]]:
    """The buildings of the applicant's compounds, grouped by compound (an <optgroup> each)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for bid, name, compound in db.session.execute(
            select(Building.id, Building.name, Compound.name).join(Compound, Compound.id == Building.compound_id)
            .where(Building.compound_id.in_(compound_ids)).order_by(Compound.name, Building.name_key)):
        out.setdefault(compound, []).append((bid, name))
    return out


def share_text(app: FundApplication) -> str:
    if not app.building_ids:
        return "全体业主按专有部分面积分摊"
    names = db.session.execute(select(Building.name).where(Building.id.in_(app.building_ids))
                               .order_by(Building.name_key)).scalars().all()
    return f"{'、'.join(names)}业主按专有部分面积分摊"


def _pay(app: FundApplication, amount: int, user) -> None:
    """The approved amount leaves the fund, and the use is published with its basis."""
    shares = ({"basis": "buildings", "building_ids": app.building_ids} if app.building_ids
              else {"basis": "area"})
    entry = ledger.add_entry(app.compound_id, "maintenance_fund", today(), "使用支出", -amount,
                             counterparty=app.contractor, note=f"维修资金使用：{app.item}", user=user, shares=shares)
    reviews = [{"level": REVIEW_LEVELS[r.level], "approve": r.approve, "reason": r.reason,
                "at": timeutil.fmt_datetime(r.reviewed_at)} for r in app.reviews]
    vote = app.vote
    vote_text = (f"{vote.title}：{'通过' if vote.passed else '未通过'}" if vote else "应急维修，依规定免于业主表决")
    lines = [line("item", app.item, "维修项目"), line("contractor", app.contractor, "施工单位"),
             line("budget", fmt_yuan(app.budget_fen), "预算金额", fen=app.budget_fen),
             line("approved", fmt_yuan(amount), "核准支出", fen=amount),
             line("quotes", app.quotes or "（无）", "报价情况"), line("vote", vote_text, "业主表决"),
             line("shares", share_text(app), "分摊范围")]
    lines += [line(f"review{i}", " · ".join(x for x in ("同意" if r["approve"] else "退回", r["at"], r["reason"]) if x),
                   f"{r['level']}审核") for i, r in enumerate(reviews)]
    pub = _publish(app.compound_id, "fund_use", f"{PUBLICATION_KINDS['fund_use']}：{app.item}", {
        "item": app.item, "contractor": app.contractor, "budget_fen": app.budget_fen, "approved_fen": amount,
        "emergency": app.emergency, "quotes": app.quotes,
        "vote": ({"title": vote.title, "passed": vote.passed, "lines": (vote.result or {}).get("lines", [])}
                 if vote else "应急维修，依规定免于业主表决"),
        "reviews": reviews, "ledger_entry_id": entry.id, "lines": lines,
    }, user)
    app.approved_fen, app.ledger_entry_id, app.publication_id = amount, entry.id, pub.id
    db.session.flush()


def fund_balance(compound_id: int) -> int:
    return ledger.balance(compound_id, "maintenance_fund")


def ballot_counts(vote: OwnerVote) -> dict[str, int]:
    rows = db.session.execute(select(Ballot.choice, func.count()).where(Ballot.vote_id == vote.id)
                              .group_by(Ballot.choice)).all()
    return {c: int(n) for c, n in rows}
