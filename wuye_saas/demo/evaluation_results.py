"""The demo district's results: last quarter's 季测评 (left confirmed by the workflow demo, with
survey answers from the surveys demo) is finalized, computed and published the way the district
would — so the rankings, the public 红黑榜, the consequences' follow-ups and flags, the quarter's
质量保证金 released and kept, and a firm's history have content — and the demo firm has one appeal waiting for the district's decision."""
from __future__ import annotations

from sqlalchemy import func, select

from .. import audit
from ..auth.models import Membership
from ..credit.models import FirmFlag
from ..evaluation import publishing, results
from ..evaluation.models import Assessment, Evaluation, ItemScore
from ..extensions import db
from ..fees.holdback import release_evaluation
from ..fees.models import HoldbackRelease
from ..tenancy import tenant_scope

APPEAL_REASON = "社区抽查当日楼道堆物系业主装修临时堆放，我司已于次日清运并有照片为证，请求复核该项扣分。"


def seed_results(tenant_id: int, demo_firm_id: int | None) -> dict:
    counts = {"published_evaluations": 0, "consequence_follow_ups": 0, "consequence_flags": 0, "appeals": 0,
              "holdback_releases": 0}
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        ev = db.session.execute(select(Evaluation).where(Evaluation.kind == "quarterly",
                                                         Evaluation.status.in_(("open", "reviewing")))
                                .order_by(Evaluation.id).limit(1)).scalar_one_or_none()
        district = db.session.execute(select(Membership).where(Membership.role == "district_admin")
                                      .order_by(Membership.id).limit(1)).scalar_one_or_none()
        if ev is None or district is None or publishing.finalize_problem(ev):
            return counts
        publishing.finalize(district, ev)
        results.compute(ev.id)
        counts["consequence_follow_ups"] = publishing.publish(district, ev)
        counts["published_evaluations"] = 1
        # The standard's 上榜后果 (credit/consequences.py): 红榜 优先续约 and 招投标加分, 黑榜 限制参加
        # 招投标 … — flags on the listed firms.
        counts["consequence_flags"] = db.session.execute(
            select(func.count()).select_from(FirmFlag).where(FirmFlag.evaluation_id == ev.id)).scalar()
        # The release the publish page starts as a job (fees/holdback_jobs.py), run here directly;
        # so are the results on the compounds' boards (publicity/evaluation_board.py).
        release_evaluation(ev, "publish", district.user)
        from ..publicity.evaluation_board import publish_results
        publish_results(ev)
        # The quarter's 质量保证金 released (fees/holdback.py): count the compound months.
        counts["holdback_releases"] = db.session.execute(
            select(func.count()).select_from(HoldbackRelease).where(HoldbackRelease.evaluation_id == ev.id)).scalar()
        manager = db.session.execute(select(Membership).where(Membership.role == "firm_manager",
                                                              Membership.firm_id == demo_firm_id)
                                     .order_by(Membership.id).limit(1)).scalar_one_or_none()
        if manager is None:
            return counts
        # The demo firm contests an item the community scored below its self-report.
        contested = db.session.execute(
            select(ItemScore.assessment_id, ItemScore.item_id).join(Assessment, Assessment.id == ItemScore.assessment_id)
            .where(Assessment.evaluation_id == ev.id, Assessment.firm_id == demo_firm_id,
                   ItemScore.review_points.is_not(None), ItemScore.review_points < ItemScore.self_points)
            .order_by(ItemScore.id).limit(1)).first()
        if contested:
            publishing.file_appeal(manager, db.session.get(Assessment, contested.assessment_id), contested.item_id,
                                   APPEAL_REASON)
            counts["appeals"] = 1
    return counts
