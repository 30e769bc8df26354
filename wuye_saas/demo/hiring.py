"""The demo district's 选聘: a tender in progress for a compound of the demo community whose
committee cannot act (the community acts for it — 代行): its notice on the board, a panel of five,
a firm of the published 季测评's 红榜 that applied with the district's bonus, a plain firm that
applied, and the district's barred firms (grade C, 黑名单, 黑榜) listed with their reasons — one of
them tried and was refused (nothing is written for a refusal; the page shows why); and a selection
by owners' vote in the demo committee's compound, its candidates compared, one proposed and its
vote filed with the community and publicized (voting opens after the 15 days' notice).
The demo firm has not applied, so its landing page offers the open tender."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership, User
from ..extensions import db
from ..committees import logic as committees
from ..hiring import logic
from ..matters import logic as matters
from ..org.models import Compound, Contract, Firm
from ..tenancy import tenant_scope
from ..votes import logic as votes
from ..timeutil import today

REQUIREMENTS = ("保洁：楼道每日清扫、每周拖洗，垃圾日产日清；秩序维护：门岗 24 小时值守，夜间巡查每 2 小时一次；"
                "共用设施设备：电梯、二次供水、消防设施按规定维保；项目经理具有五年以上住宅项目管理经验；"
                "投标企业应建立党组织或接受派驻党建指导员。")
ACTING_REASON = "业委会多名委员辞任，连续三个月未召开会议，经业主大会决定由社区居委会代行职责，街道组织换届。"
PANEL = [("王建国", "业主代表"), ("李秀英", "业主代表"), ("赵明", "物业管理专家"), ("钱立新", "物业管理专家"),
         ("孙丽", "社区党委")]
PROPOSALS = {"red": "驻场 14 人（含党员 4 人），设“红色物业”服务站，报修 30 分钟响应，每季度业主座谈。",
             "plain": "驻场 12 人，报修 2 小时响应，每半年业主满意度调查。"}


def _term(compound_id: int, earliest):
    """The new term: from the day after the current contract ends (not before `earliest`), three years."""
    end = db.session.execute(select(Contract.end_date).where(Contract.compound_id == compound_id,
                                                             Contract.in_force(today()))
                             .order_by(Contract.end_date.desc()).limit(1)).scalar()
    start = max(earliest, end + timedelta(days=1)) if end else earliest
    return start, start.replace(year=start.year + 3) - timedelta(days=1)


def seed_hiring(tenant_id: int, demo_compound_id: int | None, demo_firm_id: int | None) -> dict:
    counts = {"selections": 0, "tender_applications": 0}
    day = today()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        community = db.session.execute(select(Membership).where(Membership.role == "community_staff")
                                       .order_by(Membership.id).limit(1)).scalar_one_or_none()
        committee = db.session.execute(select(Membership).where(Membership.role == "committee_member")
                                       .order_by(Membership.id).limit(1)).scalar_one_or_none()
        if community is None or committee is None or demo_compound_id is None:
            return counts
        barred = {f.id for f, _ in logic.barred_firms(day)}
        firms = db.session.execute(select(Firm).order_by(Firm.id)).scalars().all()
        standing = logic.standings([f.id for f in firms], day)
        red = next((f for f in firms if standing[f.id].bonus > 0 and f.id not in barred and f.id != demo_firm_id), None)
        plain = next((f for f in firms if f.id not in barred and f.id not in (demo_firm_id, getattr(red, "id", None))
                      and standing[f.id].bonus == 0), None)

        # --- the tender, run by the community for a compound without a committee able to act ----------
        others = db.session.execute(select(Compound).where(
            Compound.community_id == community.community_id, Compound.id != demo_compound_id)
            .order_by(Compound.id)).scalars().all()
        target = next((c for c in others if logic.acting_party(c.id, day) == "community"), None)
        if target is None and others:
            # Every committee of the community can act: one stopped working, the 居委会 acts for it.
            target = others[0]
            committee_row = committees.latest_committee(target.id)
            if committee_row is not None and committees.open_supervision_of(committee_row.id) is None:
                committees.start_supervision(committee_row, "acting", ACTING_REASON, None, day)
        if target is not None:
            user = db.session.get(User, community.user_id)
            deadline = day + timedelta(days=12)
            start, end = _term(target.id, deadline + timedelta(days=30))
            sel, problems = logic.open_selection(community, target, "tender", "二级", "包干制", Decimal("1.20"),
                                                 start, end, REQUIREMENTS, deadline, user=user)
            if sel is not None and not logic.publish_tender(sel, user=user):
                for name, unit in PANEL:
                    logic.add_panel_member(sel, name, unit)
                for key, firm, rate in (("red", red, "1.15"), ("plain", plain, "1.08")):
                    if firm is not None and logic.apply(sel, firm, Decimal(rate), PROPOSALS[key])[0] is not None:
                        counts["tender_applications"] += 1
                counts["selections"] += 1

        # --- by owners' vote in the demo committee's compound ------------------------------------------
        compound = db.session.get(Compound, demo_compound_id)
        if logic.acting_party(compound.id, day) == "committee" and logic.active_selection(compound.id) is None:
            start, end = _term(compound.id, day + timedelta(days=60))
            sel, problems = logic.open_selection(committee, compound, "vote", "一级", "包干制", Decimal("1.50"),
                                                 start, end, "", None, user=db.session.get(User, committee.user_id))
            if sel is not None:
                candidates = [f for f in (red, plain) if f is not None]
                if demo_firm_id is not None:
                    candidates.insert(0, db.session.get(Firm, demo_firm_id))
                for i, firm in enumerate(candidates):
                    logic.add_candidate(sel, firm, Decimal("1.45") - Decimal("0.05") * i,
                                        "现服务企业，续聘" if firm.id == demo_firm_id else "服务方案完整，报价较低")
                if sel.candidates:
                    # The committee files the vote with the community and publishes its notice today;
                    # voting opens after the 15 days' notice (votes.logic, as on the vote's page).
                    vote, _ = logic.propose(sel, sel.candidates[0])
                    if vote is not None and not votes.file_vote(vote):
                        opens = day + timedelta(days=votes.NOTICE_DAYS)
                        votes.publicize_vote(vote, opens, opens + timedelta(days=14),
                                             user=db.session.get(User, committee.user_id))
                        # Filed with the street and reported to the community party
                        # organisation: waiting for the street's acknowledgement (签收).
                        filing, _ = matters.file_matter(vote, f"拟通过业主表决选聘{sel.candidates[0].firm.name}为本小区物业服务企业，"
                                                              "选聘方案及候选企业报价已随本报备提交。",
                                                        user=db.session.get(User, committee.user_id))
                        if filing is not None:
                            matters.note_party_report(filing)
                counts["selections"] += 1
        db.session.commit()
    return counts

