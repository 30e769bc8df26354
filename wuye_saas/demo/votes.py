"""The demo compound's owner votes (民法典 第278条), so the vote pages have something to show:
one counted last quarter (利用共有部分经营, a 3/4 matter, passed, its result published) and one
in progress now (使用维修资金, ballots being recorded). Each went through its steps in order:
filed with the community, filed with the street and acknowledged (重大事项报备), the notice published, voting opened no sooner than 15 days later,
ballots inside the voting period, the count after it closed.

`plan_votes` writes the votes and ballots and returns their publications as items of the
publicity demo's plan, so they enter the compound's chain in date order among the others."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select

from .. import audit
from ..extensions import db
from ..matters.models import MatterFiling
from ..org.models import Household
from ..publicity import chain
from ..tenancy import current_tenant_id
from ..timeutil import SHANGHAI
from ..votes import logic, roll
from ..votes.models import Ballot, BallotChoice, OwnerVote, VoteItem

# (matter, title, description, days before today: filed, notice, opens, closes; share voting, share agreeing)
VOTES = [
    ("change_use", "利用东侧闲置场地增设电动自行车充电棚",
     "在小区东侧围墙内闲置场地（约 120 ㎡）建设电动自行车集中充电棚，设充电口 60 个，由物业服务企业"
     "代为运营；充电服务收入扣除电费和维护成本后作为公共收益，纳入本小区公共收益账目并按季度公示。",
     (75, 72, 55, 41), 0.82, 0.88),
    ("use_fund", "使用专项维修资金更换二次供水水泵",
     "1号、2号加压泵房水泵运行已超过 12 年，近三个月故障停水 4 次。拟使用专项维修资金更换水泵 2 台及控制柜，"
     "预算 86,400.00 元（三家报价，取最低价），施工期间分时段停水并提前三日公告。",
     (24, 21, 5, -9), 0.46, 0.8),
]


def _at(day: date, rng: random.Random, at_now: datetime, hour: int = 9) -> datetime:
    """A moment of office hours (Shanghai) on the day, as naive UTC, never after now."""
    loc = datetime.combine(day, time(hour), SHANGHAI) + timedelta(minutes=rng.uniform(0, 480))
    return min(loc.astimezone(timezone.utc).replace(tzinfo=None), at_now - timedelta(minutes=rng.uniform(1, 30)))


def plan_votes(rng: random.Random, compound_id: int, chair, on: date, at_now: datetime) -> list[tuple]:
    """Write the votes and their ballots; return their publications as plan items
    (compound id, moment, publish function, …) for the publicity demo."""
    if db.session.execute(select(OwnerVote.id).where(OwnerVote.compound_id == compound_id).limit(1)).first():
        return []
    units = db.session.execute(select(Household).where(Household.compound_id == compound_id)
                               .order_by(Household.id)).scalars().all()
    plan = []
    for matter, title, description, (filed, notice, opens, closes), turnout, agree in VOTES:
        filed_on, notice_on = on - timedelta(days=filed), on - timedelta(days=notice)
        opens_on, closes_on = on - timedelta(days=opens), on - timedelta(days=closes)
        counted = closes_on < on
        vote = OwnerVote(compound_id=compound_id, matter=matter, title=title, description=description,
                         status="closed" if counted else "open",
                         created_at=_at(filed_on - timedelta(days=3), rng, at_now),
                         filed_at=_at(filed_on, rng, at_now), publicized_on=notice_on, opens_on=opens_on,
                         closes_on=closes_on)
        db.session.add(vote)
        db.session.flush()
        item = VoteItem(vote_id=vote.id, position=1, title=title)
        # 重大事项报备: filed in writing with the street the day after the community, reported to
        # the community party organisation that day, acknowledged by the street the day after.
        db.session.add_all([item, MatterFiling(
            compound_id=compound_id, vote_id=vote.id, matter=matter, title=title, summary=description,
            status="acknowledged", filed_at=_at(filed_on + timedelta(days=1), rng, at_now, hour=8),
            party_reported_at=_at(filed_on + timedelta(days=1), rng, at_now, hour=17),
            decided_at=_at(filed_on + timedelta(days=2), rng, at_now))])
        roll.fix_roll(vote, opens_on)    # the owners as the register had them when voting opened
        last_day = min(closes_on, on)
        span = (last_day - opens_on).days
        rows = []
        for h in units:
            if rng.random() >= turnout:
                continue
            day = opens_on + timedelta(days=rng.randint(0, span))
            choice = "agree" if rng.random() < agree else rng.choice(["disagree", "abstain"])
            rows.append({"tenant_id": current_tenant_id(), "vote_id": vote.id, "household_id": h.id,
                         "choice": choice, "area_centi": logic.area_centi(h), "owner_key": h.owner_name,
                         "developer": h.developer_held, "recorded_at": _at(day, rng, at_now)})
        if rows:
            ballot_ids = db.session.execute(insert(Ballot).returning(Ballot.id, sort_by_parameter_order=True),
                                            rows).scalars().all()
            db.session.execute(insert(BallotChoice), [
                {"tenant_id": r["tenant_id"], "ballot_id": bid, "item_id": item.id, "choice": r["choice"]}
                for bid, r in zip(ballot_ids, rows)])
        audit.record_event("create", "owner_vote", title, {"ballots": len(rows)}, entity_id=vote.id)
        plan.append((compound_id, _at(notice_on, rng, at_now), _notice(vote, chair), None, None, None, "", chair))
        if counted:
            counted_on = closes_on + timedelta(days=1)
            plan.append((compound_id, _at(counted_on, rng, at_now, hour=10), _result(vote, counted_on, chair),
                         None, None, None, "", chair))
    db.session.flush()
    return plan


def _publish(vote: OwnerVote, kind: str, title: str, content: dict, user, at: datetime):
    pub = chain.publish(vote.compound_id, kind, title, content, user=user, at=at)
    audit.record_event("create", "publication", title, entity_id=pub.id)
    return pub


def _notice(vote: OwnerVote, chair):
    return lambda at: _publish(vote, "vote_notice", f"业主表决事项公示：{vote.title}", logic.notice_content(vote),
                               chair, at)


def _result(vote: OwnerVote, counted_on: date, chair):
    def publish(at: datetime):
        decision = logic.tally(vote)
        vote.result, vote.passed = decision.as_dict(), decision.passed
        for item, d in logic.tally_items(vote):
            item.result, item.passed = d.as_dict(), d.passed
        vote.total_area_centi, vote.total_heads = decision.total_area, decision.total_heads
        return _publish(vote, "vote_result", f"业主表决结果公示：{vote.title}",
                        logic.result_content(vote, decision, counted_on), chair, at)
    return publish
