"""Finalizing and publishing an evaluation, its consequences, and appeals (申诉): plain functions
that flush (the caller commits) or raise PublishProblem having written nothing.

- finalize: the district, once every assessment is confirmed by its street → the assessments
  and the evaluation become 已定稿; the view then starts the results job.
- publish: the district, once results are computed → 已发布, published_at, the appeal window
  (appeal_until = today + appeal_days, inclusive: an appeal is accepted until the end of that
  day, Shanghai time), and the consequences of each list as follow-ups.
- consequences: each list's (and the veto's) consequences as follow-ups and flags on the firm
  (credit/consequences.py has the rules; running it again writes nothing twice); and
  the lists' and vetoes' records in each firm's credit file (credit/records.py). The holdback
  of the months it covers is released by the fee policy's rule in a job the view starts after
  the commit (fees/holdback_jobs.py; holdback.py rule 7).
- appeals: the firm manager, on an item of its own published assessment, within the window,
  with a reason, one open appeal per item. The district upholds (new points through
  rules.item_points; a veto item: the veto is lifted) or rejects, with a decision note. An
  upheld appeal changes the review entry and the view recomputes the results (job); the
  computation audits the old and new totals.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from .. import events, policy
from ..auth.models import Membership
from ..extensions import db
from ..timeutil import now, today
from .models import (
    ASSESSMENT_STATUSES, EVALUATION_STATUSES, Appeal, Assessment, Evaluation, ItemScore, StandardItem,
)
from .rules import ScoreProblem, item_points



class PublishProblem(ValueError):
    def __init__(self, message: str, field: str = "evaluation"):
        super().__init__(message)
        self.message = message
        self.field = field


def _status(ev: Evaluation) -> str:
    return EVALUATION_STATUSES.get(ev.status, ev.status)


def _district(m: Membership, what: str) -> None:
    if not (m.active and m.role == policy.DISTRICT):
        raise PublishProblem(f"只有区级管理员可以{what}。")


# --- finalize and publish -----------------------------------------------------------------------

def status_counts(ev: Evaluation) -> dict[str, int]:
    rows = db.session.execute(select(Assessment.status, func.count()).where(Assessment.evaluation_id == ev.id)
                              .group_by(Assessment.status)).all()
    return {s: n for s, n in rows}


def finalize_problem(ev: Evaluation) -> str | None:
    """Why the evaluation cannot be finalized now (None: it can)."""
    if ev.status not in ("open", "reviewing"):
        return f"该考核当前“{_status(ev)}”，不能定稿。"
    counts = status_counts(ev)
    total = sum(counts.values())
    if not total:
        return "该考核没有参评对象，不能定稿。"
    waiting = total - counts.get("confirmed", 0)
    if waiting:
        parts = "、".join(f"{ASSESSMENT_STATUSES.get(s, s)} {n} 个" for s, n in sorted(counts.items())
                         if s != "confirmed")
        return f"还有 {waiting} 个考核对象未经街道确认（{parts}），全部确认后才能定稿。"
    return None


def finalize(m: Membership, ev: Evaluation) -> None:
    _district(m, "定稿考核")
    problem = finalize_problem(ev)
    if problem:
        raise PublishProblem(problem)
    at = now()
    for a in db.session.execute(select(Assessment).where(Assessment.evaluation_id == ev.id)).scalars():
        a.status, a.finalized_at = "finalized", at
    ev.status = "finalized"
    ev.results_at = None   # results are computed from the finalized scores, by the job
    db.session.flush()


def publish_problem(ev: Evaluation) -> str | None:
    if ev.status != "finalized":
        return f"该考核当前“{_status(ev)}”，定稿并计算结果后才能发布。"
    if ev.results_at is None:
        return "考核结果尚未计算完成，请等待计算结束后再发布。"
    return None


def publish(m: Membership, ev: Evaluation) -> int:
    """Publish; the number of follow-ups opened for the lists' consequences."""
    _district(m, "发布考核结果")
    problem = publish_problem(ev)
    if problem:
        raise PublishProblem(problem)
    ev.status = "published"
    ev.published_at = now()
    ev.appeal_until = today() + timedelta(days=ev.appeal_days)
    db.session.flush()
    from ..credit.records import sync_evaluation  # lazy: credit is another area
    sync_evaluation(ev)
    events.emit("evaluation.published", "evaluation", ev.id, data={"name": ev.name})
    return open_consequences(ev)


def open_consequences(ev: Evaluation) -> int:
    """The lists' consequences (credit/consequences.py: follow-ups and flags, idempotent); the
    number of follow-ups opened."""
    from ..credit.consequences import apply_evaluation  # lazy: credit is another area
    return apply_evaluation(ev).follow_ups


# --- appeals ------------------------------------------------------------------------------------

def appeal_window_problem(a: Assessment) -> str | None:
    ev = a.evaluation
    if ev.status != "published":
        return "考核结果发布后才能申诉。"
    if ev.appeal_until is None or today() > ev.appeal_until:
        return f"申诉期已于 {ev.appeal_until:%Y-%m-%d} 结束，不能再申诉。" if ev.appeal_until else "该考核不接受申诉。"
    return None


def can_appeal(m: Membership, a: Assessment) -> bool:
    return (m.active and m.role == "firm_manager" and m.firm_id == a.firm_id
            and appeal_window_problem(a) is None)


def appealable_items(a: Assessment) -> list[StandardItem]:
    """Items of the assessment's standard, minus those with an open appeal."""
    open_items = set(db.session.execute(select(Appeal.item_id).where(
        Appeal.assessment_id == a.id, Appeal.status == "open")).scalars())
    items = db.session.execute(select(StandardItem).where(StandardItem.standard_id == a.evaluation.standard_id)
                               .order_by(StandardItem.sort, StandardItem.id)).scalars().all()
    return [i for i in items if i.id not in open_items]


def file_appeal(m: Membership, a: Assessment, item_id, reason: str) -> Appeal:
    if not (m.active and m.role == "firm_manager" and m.firm_id == a.firm_id):
        raise PublishProblem("只有本企业的负责人可以对本企业的考核结果申诉。", "item_id")
    problem = appeal_window_problem(a)
    if problem:
        raise PublishProblem(problem, "item_id")
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise PublishProblem("请选择申诉的考核项目。", "item_id") from None
    score = db.session.execute(select(ItemScore).where(ItemScore.assessment_id == a.id,
                                                       ItemScore.item_id == item_id)).scalar_one_or_none()
    if score is None:
        raise PublishProblem("请选择申诉的考核项目。", "item_id")
    reason = (reason or "").strip()
    if not reason:
        raise PublishProblem("请填写申诉理由。", "reason")
    if len(reason) > 2000:
        raise PublishProblem("申诉理由不能超过 2000 个字。", "reason")
    pending = db.session.execute(select(Appeal.id).where(Appeal.assessment_id == a.id, Appeal.item_id == item_id,
                                                         Appeal.status == "open")).first()
    if pending:
        raise PublishProblem("该项目已有待裁定的申诉，请等待区里裁定。", "item_id")
    appeal = Appeal(assessment_id=a.id, item_id=item_id, reason=reason, status="open",
                    old_points=score.final_points, created_by_id=m.user_id)
    db.session.add(appeal)
    db.session.flush()
    return appeal


def decide_appeal(m: Membership, appeal: Appeal, uphold: bool, decision: str, points=None,
                  occurrences=None) -> bool:
    """Uphold or reject; True when the results must be recomputed."""
    _district(m, "裁定申诉")
    if appeal.status != "open":
        raise PublishProblem("该申诉已裁定，不能再次裁定。", "decision")
    decision = (decision or "").strip()
    if not decision:
        raise PublishProblem("请填写裁定意见。", "decision")
    if len(decision) > 2000:
        raise PublishProblem("裁定意见不能超过 2000 个字。", "decision")
    item = appeal.item
    score = db.session.execute(select(ItemScore).where(ItemScore.assessment_id == appeal.assessment_id,
                                                       ItemScore.item_id == item.id)).scalar_one()
    if uphold:
        if item.kind == "veto":
            if not score.vetoed:
                raise PublishProblem("该一票否决项未被认定，无需改判；请选择驳回。", "decision")
            score.vetoed = False
            score.review_reason = f"申诉成立，撤销一票否决：{decision}"
        else:
            if item.scorer == "survey" or item.method == "computed":
                raise PublishProblem("该项由系统数据或居民测评计算，不能改分；如数据有误，请更正数据后重新计算，"
                                     "本申诉请驳回并说明。", "points")
            try:
                new = item_points(item, points=points, occurrences=occurrences)
            except ScoreProblem as e:
                raise PublishProblem(e.message, e.field) from None
            if appeal.old_points is not None and new == appeal.old_points:
                raise PublishProblem("改定分值与原分值相同；维持原分请选择驳回。", "points")
            score.review_points = new
            if item.method == "deduction":
                score.review_occurrences = int(str(occurrences).strip())
            score.review_reason = f"申诉成立：{decision}"
            score.reviewer_id = m.user_id
            appeal.new_points = new
    appeal.status = "upheld" if uphold else "rejected"
    appeal.decision = decision
    appeal.decided_by_id, appeal.decided_at = m.user_id, now()
    db.session.flush()
    return uphold


def appeals_select(m: Membership, status: str = "", evaluation_id: int | None = None):
    stmt = (select(Appeal).join(Assessment, Assessment.id == Appeal.assessment_id)
            .where(policy.visible(m, Appeal)).order_by(Appeal.status != "open", Appeal.id.desc()))
    if status in ("open", "upheld", "rejected"):
        stmt = stmt.where(Appeal.status == status)
    if evaluation_id:
        stmt = stmt.where(Assessment.evaluation_id == evaluation_id)
    return stmt
