"""考核结果公示 on each compound's board, published with the district's evaluation.

Who issues it: nobody types it. When the district publishes an evaluation, a job started after
that commit (`submit`, like the 质量保证金 release) appends each assessed compound's own result
(score, stars, list, rank) to the compound's chain, signed by the district like its other
publications. A job, not the publishing transaction: at 475 compounds the boards took 7 s and
5,253 statements (docs/benchmarks.md), too long for the request at a thousand. The result is the district's decision, already public on the 红黑榜; a community
re-issuing it by hand could only add delay or typing errors. When an upheld appeal changes a
published result, the recomputation calls `publish_results` again: a compound whose result
changed gets a 更正 publication, the others nothing (running it twice writes nothing twice).
"""
from __future__ import annotations

from sqlalchemy import func, select

from .. import jobs
from ..extensions import db
from ..tenancy import Tenant, current_tenant_id
from . import publications
from .models import Publication
from .reports import evaluation_result

KIND = "evaluation_result"


def _published(compound_id: int, evaluation_id: int) -> Publication | None:
    """The compound's latest result publication of this evaluation."""
    for p in db.session.execute(select(Publication).where(
            Publication.compound_id == compound_id, Publication.kind == KIND)
            .order_by(Publication.seq.desc())).scalars():
        if (p.content or {}).get("evaluation_id") == evaluation_id:
            return p
    return None


def publish_results(ev) -> int:
    """Each compound assessment's result of a published evaluation on its compound's board,
    unless the same result is there already; how many were published. Firm-wide assessments
    (no compound) have no board of their own."""
    from ..evaluation.models import Assessment   # evaluation publishes into publicity

    if ev.status != "published":
        return 0
    assessments = db.session.execute(select(Assessment).where(
        Assessment.evaluation_id == ev.id, Assessment.compound_id.is_not(None), Assessment.total.is_not(None))
        .order_by(Assessment.compound_id, Assessment.id)).scalars().all()
    ranked = db.session.execute(select(func.count()).select_from(Assessment).where(
        Assessment.evaluation_id == ev.id, Assessment.rank.is_not(None))).scalar_one()
    district = db.session.get(Tenant, current_tenant_id()).name
    made = 0
    for a in assessments:
        content = evaluation_result(a, ranked)
        before = _published(a.compound_id, ev.id)
        if before is not None and before.content.get("result") == content["result"]:
            continue
        title = f"{a.compound.name}{ev.name}考核结果公示" + ("（更正）" if before is not None else "")
        publications.publish(a.compound, KIND, content, title, start=ev.period_start, end=ev.period_end,
                             publisher=district)
        made += 1
    return made


@jobs.job(queue="default", timeout=3600)
def post_results(run, evaluation_id: int) -> None:
    """The job: the published evaluation's results on the boards (idempotent: a re-run adds none)."""
    from ..evaluation.models import Evaluation
    made = publish_results(db.session.get(Evaluation, evaluation_id))
    run = db.session.get(jobs.JobRun, run.id)
    run.result = {"published": made}
    run.message = f"已在 {made} 个小区的公示栏发布考核结果。" if made else "各小区公示栏的考核结果已是最新。"


def submit(ev, user=None) -> jobs.JobRun | None:
    """Start the job after the publishing commit (jobs.start commits first). A run of it already
    queued will see this evaluation as it is now: None then."""
    try:
        run = jobs.create_run(post_results, f"考核结果公示：{ev.name}"[:200], ev.id, user=user,
                              kind=f"{KIND}:{ev.id}", lock_key=f"{KIND}:{ev.id}")
    except jobs.Busy:
        return None
    jobs.start(run)
    return run
