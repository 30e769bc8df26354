"""The demo district's committee work: the default 五不能、六不宜 checklist, a 组建 in joint
review in the demo community (one candidate turned away on a 不符合), a 换届 registering
candidates for a committee whose term ends soon, a committee under 责令整改, and the term-expiry
follow-ups the daily job would open."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership
from ..committees import logic
from ..committees.models import Formation
from ..extensions import db
from ..followups import logic as followups
from ..org.models import Committee, Compound, Household
from ..publicity import chain
from ..tenancy import tenant_scope
from ..timeutil import today
from ..votes import logic as votes
from ..votes import roll

ELECTION = [("孙丽华", 0.93), ("马志刚", 0.9), ("胡秀兰", 0.86), ("高建军", 0.83), ("林晓燕", 0.8),
            ("何国庆", 0.34), ("罗文斌", 0.28)]   # (candidate, share of voting units agreeing)
NAMES = ["王建国", "李秀英", "张志强", "刘桂兰", "陈明", "杨丽华", "赵国庆", "黄淑芬", "周卫东", "吴玉梅"]


def seed_committees(tenant_id: int, demo_compound_id: int, demo_firm_id: int, seed: int = 621) -> dict:
    rng, day = random.Random(seed), today()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        counts = {"vetting_criteria": logic.seed_default_criteria()}
        staff = Membership(tenant_id=tenant_id, role="district_admin")  # not saved: sees every compound
        community = db.session.execute(select(Compound.community_id).where(Compound.id == demo_compound_id)).scalar_one()
        comps = db.session.execute(select(Compound).where(Compound.community_id == community, Compound.id != demo_compound_id)
                                   .order_by(Compound.id)).scalars().all()
        options = {c.id: kind for c, kind, _ in logic.compound_options(staff, day)}
        criteria = db.session.execute(logic.criteria_select(active_only=True)).scalars().all()
        formations = 0

        # A 组建 in joint review: seven candidates for five seats, one fails the 失信 check.
        # In the demo community when one of its compounds has no committee, else elsewhere.
        new = next((c for c in comps if options.get(c.id) == "formation"), None) or db.session.execute(
            select(Compound).where(Compound.id.in_([i for i, k in options.items() if k == "formation"]))
            .order_by(Compound.id)).scalars().first()
        if new is not None:
            f = logic.open_formation(staff, new.id, "formation", "业委会", 5, day - timedelta(days=20))
            for i, name in enumerate(NAMES[:7]):
                logic.add_candidate(f, name, i < 4, i == 0, logic.RECOMMENDERS[i % 4], phone=f"139{rng.randint(10**7, 10**8 - 1)}")
            logic.start_vetting(f)
            for i, c in enumerate(f.candidates):
                entries = []
                for k, cr in enumerate(criteria):
                    if i == 6 and k > 4:
                        break  # the last one's review is still under way
                    fail = i == 5 and "失信" in cr.text
                    entries.append({"criterion_id": cr.id, "result": "fail" if fail else "pass", "unit": cr.checked_by,
                                    "note": "经法院系统查询，列为失信被执行人" if fail else ""})
                logic.record_checks(f, c, entries)
            formations += 1

        # A 组建 the owners have elected, counted and waiting to be filed (within 30 days).
        elected = next((c for c in comps if options.get(c.id) == "formation" and c.id != getattr(new, "id", None)),
                       None) or db.session.execute(
            select(Compound).where(Compound.id.in_([i for i, k in options.items() if k == "formation"]),
                                   Compound.id != getattr(new, "id", None)).order_by(Compound.id)).scalars().first()
        if elected is not None:
            counted_election(rng, staff, elected, criteria, day)
            formations += 1

        # A 换届 registering candidates: a committee of the community whose term ends in 45 days.
        old = next((c for c in db.session.execute(select(Committee).where(
            Committee.compound_id.in_([x.id for x in comps]), Committee.kind == "业委会",
            Committee.compound_id != getattr(new, "id", None))
            .order_by(Committee.id)).scalars() if options.get(c.compound_id) != "formation"), None)
        if old is not None:
            old.term_end = day + timedelta(days=45)
            db.session.flush()
            f = logic.open_formation(staff, old.compound_id, "reelection", "业委会", 5, day - timedelta(days=3))
            for i, name in enumerate(NAMES[7:]):
                logic.add_candidate(f, name, True, False, "社区党组织推荐")
            formations += 1
        counts["formations"] = formations

        # 责令整改 of another committee of the community.
        watched = db.session.execute(select(Committee).where(
            Committee.compound_id.in_([x.id for x in comps]), Committee.term_start <= day, Committee.term_end >= day,
            Committee.id != getattr(old, "id", None)).order_by(Committee.id.desc())).scalars().first()
        if watched is not None:
            logic.start_supervision(watched, "correction", "公共收益收支连续两个季度未按时公示，业主反映强烈。",
                                    day + timedelta(days=30), day - timedelta(days=5))
        counts["supervisions"] = int(watched is not None)

        # The follow-ups the daily reminder job opens.
        expiring = db.session.execute(followups.expiring_committees(day)).scalars().all()
        counts["follow_ups"] = sum(followups.remind_term(c, day)[1] for c in expiring)
        db.session.commit()
    return counts


def counted_election(rng: random.Random, staff, compound, criteria, day) -> Formation:
    """A 组建 of five seats through to the owners' count: seven candidates, all vetted, elected
    by a 选举业主委员会 vote whose notice and result are on the compound's board. 85% of the units
    vote; each candidate's agreeing share is ELECTION's, so five pass and two do not."""
    f = logic.open_formation(staff, compound.id, "formation", "业委会", 5, day - timedelta(days=75))
    for i, (name, _) in enumerate(ELECTION):
        logic.add_candidate(f, name, i % 3 != 2, i == 0, logic.RECOMMENDERS[i % 4])
    logic.start_vetting(f)
    for c in f.candidates:
        logic.record_checks(f, c, [{"criterion_id": cr.id, "result": "pass", "unit": cr.checked_by, "note": ""}
                                   for cr in criteria])
    vote = logic.start_election(f)
    # Dated as it happened: created and filed 50 days ago, the notice two days later (02:00 UTC is
    # 10:00 in Shanghai), voting from 30 to 12 days ago, counted today.
    vote.status, vote.filed_at = "filed", datetime.combine(day - timedelta(days=50), time(2))
    vote.created_at = vote.filed_at - timedelta(hours=1)
    vote.publicized_on, vote.opens_on, vote.closes_on = (day - timedelta(days=48), day - timedelta(days=30),
                                                         day - timedelta(days=12))
    title = f"业主表决事项公示：{vote.title}"
    pub = chain.publish(vote.compound_id, "vote_notice", title, votes.notice_content(vote),
                        at=datetime.combine(vote.publicized_on, time(2)))
    audit.record_event("create", "publication", title, entity_id=pub.id)
    # Voting opened on the announced day: the roll is the register of that day.
    vote.status = "open"
    roll.fix_roll(vote, vote.opens_on)
    items = votes.items_of(vote)
    share = dict(ELECTION)
    units = db.session.execute(select(Household).where(Household.compound_id == compound.id)
                               .order_by(Household.id)).scalars().all()
    for h in units:
        if rng.random() >= 0.85:
            continue
        picks = {i.id: ("agree" if rng.random() < share[i.title] else rng.choice(["disagree", "abstain"]))
                 for i in items}
        ballot, _ = votes.record_ballot(vote, h, choices=picks)
        span = (vote.closes_on - vote.opens_on).days
        ballot.recorded_at = datetime.combine(vote.opens_on + timedelta(days=rng.randint(0, span)),
                                              time(rng.randint(1, 10)))
    votes.close_vote(vote)
    return f
