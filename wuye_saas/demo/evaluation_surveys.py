"""The demo district's resident satisfaction surveys: every compound of the finished 季测评 had
its survey in the last weeks of the quarter, answered by most households (a few compounds fall
short of the 70% coverage and are invalid); the demo compound's survey of the open 月抽查 is
running now, with its first answers, so the public page and the poster have something live."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select

from .. import audit
from ..evaluation import surveys
from ..evaluation.models import Assessment, Evaluation, Survey, SurveyResponse
from ..extensions import db
from ..org.models import Household
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import SHANGHAI, now, today

COMMENTS = ["楼道灯坏了好几天，希望及时修理。", "保洁阿姨很负责，点赞！", "地下车库积水，请尽快处理。",
            "门岗对外来车辆管理不严。", "电梯经常停运，维保要跟上。", "绿化修剪及时，小区环境不错。",
            "希望公示栏按月更新收支情况。", "报修后响应很快，满意。", "垃圾分类点气味大，建议增加清运次数。"]
CHUNK = 1000


def _at(rng: random.Random, first: date, last: date) -> datetime:
    """A moment between 08:00 and 22:00 Shanghai time on a day in first..last (never later than
    now), as naive UTC."""
    day = first + timedelta(days=rng.randint(0, max((last - first).days, 0)))
    local = datetime.combine(day, time(8), SHANGHAI) + timedelta(minutes=rng.randint(0, 14 * 60))
    return min(local.astimezone(timezone.utc).replace(tzinfo=None), now())


def _answers(rng: random.Random, items: list[int], p: float) -> dict:
    out = {}
    for i in items:
        x = rng.random()
        out[str(i)] = "satisfied" if x < p * 0.7 else "basically" if x < p else "unsatisfied"
    return out


def _respond(rng: random.Random, survey_id: int, households: list[int], n: int, items: list[int], p: float,
             first: date, last: date) -> list[dict]:
    tid = current_tenant_id()
    return [{"tenant_id": tid, "survey_id": survey_id, "household_id": hid, "answers": _answers(rng, items, p),
             "comment": rng.choice(COMMENTS) if rng.random() < 0.06 else "", "created_at": _at(rng, first, last)}
            for hid in rng.sample(households, min(n, len(households)))]


def _insert(rows: list[dict]) -> None:
    for k in range(0, len(rows), CHUNK):
        db.session.execute(insert(SurveyResponse), rows[k:k + CHUNK])


def _compounds(evaluation_id: int) -> list[int]:
    return list(db.session.execute(select(Assessment.compound_id).where(
        Assessment.evaluation_id == evaluation_id, Assessment.compound_id.is_not(None))
        .distinct().order_by(Assessment.compound_id)).scalars())


def _households(compound_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for cid, hid in db.session.execute(select(Household.compound_id, Household.id)
                                       .where(Household.compound_id.in_(compound_ids)).order_by(Household.id)):
        out.setdefault(cid, []).append(hid)
    return out


def _finished_quarterly() -> Evaluation | None:
    return db.session.execute(select(Evaluation).where(Evaluation.kind == "quarterly", Evaluation.period_end < today())
                              .order_by(Evaluation.period_end.desc(), Evaluation.id.desc()).limit(1)).scalar()


def _open_monthly() -> Evaluation | None:
    return db.session.execute(select(Evaluation).where(Evaluation.kind == "monthly", Evaluation.status == "open")
                              .order_by(Evaluation.period_end.desc(), Evaluation.id.desc()).limit(1)).scalar()


def seed_surveys(tenant_id: int, demo_compound_id: int | None = None, evaluation_id: int | None = None,
                 seed: int = 70) -> dict:
    """Surveys and answers for the finished 季测评 (`evaluation_id`, else the latest quarterly
    cycle whose period has ended) and a live one for the demo compound in the open 月抽查.
    Does nothing when there is no such cycle (the evaluation demo has not run)."""
    rng = random.Random(seed)
    counts = {"surveys": 0, "survey_responses": 0}
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        ev = db.session.get(Evaluation, evaluation_id) if evaluation_id else _finished_quarterly()
        if ev is not None and surveys.survey_items(ev.standard_id):
            items = [i.id for i in surveys.survey_items(ev.standard_id)]
            # The last three weeks of the quarter and ten days after it (inside or after the period).
            opens = max(ev.period_start, ev.period_end - timedelta(days=20))
            closes = min(ev.period_end + timedelta(days=10), today() - timedelta(days=1))
            compounds = _compounds(ev.id)
            have = set(db.session.execute(select(Survey.compound_id).where(Survey.evaluation_id == ev.id)).scalars())
            new = [Survey(evaluation_id=ev.id, compound_id=cid, opens_on=opens, closes_on=closes)
                   for cid in compounds if cid not in have]
            db.session.add_all(new)
            db.session.flush()
            households = _households([s.compound_id for s in new])
            rows = []
            for s in new:
                hh = households.get(s.compound_id, [])
                # Most compounds reach the 70% coverage; about one in seven falls short.
                coverage = rng.uniform(0.45, 0.68) if rng.random() < 0.15 else rng.uniform(0.72, 0.96)
                rows += _respond(rng, s.id, hh, round(len(hh) * coverage), items, rng.uniform(0.62, 0.97),
                                 opens, closes)
            _insert(rows)
            counts["surveys"] += len(new)
            counts["survey_responses"] += len(rows)
            if rows:
                audit.record_event("create", "survey_response", f"{ev.name}：{len(rows)} 份居民满意度答卷",
                                   {"evaluation_id": ev.id, "surveys": len(new), "responses": len(rows)},
                                   entity_id=ev.id)
        live = _open_monthly()
        if live is not None and demo_compound_id in _compounds(live.id) and surveys.survey_items(live.standard_id) \
                and db.session.execute(select(Survey.id).where(Survey.evaluation_id == live.id,
                                                               Survey.compound_id == demo_compound_id)).first() is None:
            items = [i.id for i in surveys.survey_items(live.standard_id)]
            opens = max(live.period_start, today() - timedelta(days=3))
            s = Survey(evaluation_id=live.id, compound_id=demo_compound_id, opens_on=opens,
                       closes_on=today() + timedelta(days=11))
            db.session.add(s)
            db.session.flush()
            hh = _households([demo_compound_id]).get(demo_compound_id, [])
            rows = _respond(rng, s.id, hh, max(len(hh) // 4, 1), items, 0.85, opens, today())
            _insert(rows)
            counts["surveys"] += 1
            counts["survey_responses"] += len(rows)
            audit.record_event("create", "survey_response", f"{live.name}：{len(rows)} 份居民满意度答卷",
                               {"evaluation_id": live.id, "surveys": 1, "responses": len(rows)}, entity_id=live.id)
    return counts
