"""Resident satisfaction surveys (满意度测评): plain functions that flush (the caller commits) or
raise SurveyProblem, having written nothing.

A survey belongs to one compound in one evaluation. Its questions are the evaluation standard's
items scored by the resident survey (scorer "survey"); a household answers each with 满意,
基本满意 or 不满意, once per survey, verified by its household code.

Definitions (what the results use):
- coverage  = responses ÷ households registered for the compound;
- valid     = coverage ≥ 70% — the default district configuration says "调查覆盖>=70%户为有效"
              (from 前期物业服务等级标准一级); a compound with no households is never valid;
- rate      = satisfied answers ÷ all answers, over every survey item of every response, where
              满意 and 基本满意 count as satisfied; None when the survey is not valid or missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import joinedload
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..auth.models import Membership
from ..extensions import db
from ..formutil import too_long
from ..org.models import Community, Compound, Firm, Household
from ..timeutil import local, today
from .models import SURVEY_ANSWERS, Assessment, Evaluation, StandardItem, Survey, SurveyResponse

SATISFIED = ("satisfied", "basically")
VALID_COVERAGE = Fraction(7, 10)
# Once results are being fixed, a survey no longer changes (no new surveys, answers or dates).
CLOSED_EVALUATION = ("finalized", "published")
STATES = {"upcoming": "未开始", "open": "进行中", "closed": "已结束"}
COMMENT_MAX = 1000  # a resident's comment: refused above this, never cut


class SurveyProblem(ValueError):
    def __init__(self, message: str, field: str = "survey"):
        super().__init__(message)
        self.message = message
        self.field = field


# --- questions and scope -------------------------------------------------------------------

def survey_items(standard_id: int) -> list[StandardItem]:
    """The questions of a survey: the standard's items scored by residents, in sheet order."""
    return list(db.session.execute(
        select(StandardItem).where(StandardItem.standard_id == standard_id, StandardItem.scorer == "survey")
        .order_by(StandardItem.sort, StandardItem.id)).scalars())


def evaluation_compounds(m: Membership, evaluation_id: int):
    """SELECT of the compounds the evaluation assesses (its per-compound assessments) that `m` reaches."""
    return (select(Assessment.compound_id).where(Assessment.evaluation_id == evaluation_id,
                                                 Assessment.compound_id.is_not(None))
            .where(Assessment.compound_id.in_(select(Compound.id).where(policy.visible(m, Compound))))
            .distinct())


def evaluations(m: Membership) -> list[Evaluation]:
    """The evaluations the membership sees, newest period first (the list page's choice)."""
    return list(db.session.execute(select(Evaluation).where(policy.visible(m, Evaluation))
                                   .order_by(Evaluation.period_start.desc(), Evaluation.id.desc())).scalars())


def state(survey: Survey, on: date | None = None) -> str:
    on = on or today()
    if on < survey.opens_on:
        return "upcoming"
    if on > survey.closes_on or survey.evaluation.status in CLOSED_EVALUATION:
        return "closed"
    return "open"


# --- counting ------------------------------------------------------------------------------

@dataclass
class Stats:
    """One compound's survey in numbers."""
    survey_id: int
    opens_on: date
    closes_on: date
    households: int
    responses: int
    answers: int      # answers to survey items, over all responses
    satisfied: int    # of which 满意 or 基本满意

    @property
    def coverage(self) -> Fraction | None:
        return Fraction(self.responses, self.households) if self.households else None

    @property
    def valid(self) -> bool:
        return bool(self.households) and Fraction(self.responses, self.households) >= VALID_COVERAGE

    @property
    def satisfaction(self) -> Fraction | None:
        """The satisfied share of the answers given so far, valid or not (for display)."""
        return Fraction(self.satisfied, self.answers) if self.answers else None

    @property
    def rate(self) -> Fraction | None:
        """What the results score with: the satisfaction of a valid survey, else None."""
        return self.satisfaction if self.valid else None

    def state(self, on: date | None = None) -> str:
        on = on or today()
        return "upcoming" if on < self.opens_on else "closed" if on > self.closes_on else "open"


def _answer(item_id: int):
    return SurveyResponse.answers[str(item_id)].as_string()


def summary(evaluation_id: int, compound_ids=None) -> dict[int, Stats]:
    """{compound_id: Stats} for the evaluation's surveys (optionally only these compounds): three
    queries whatever the number of compounds — the questions, the answers, the households."""
    ev = db.session.get(Evaluation, evaluation_id)
    if ev is None:
        return {}
    items = [i.id for i in survey_items(ev.standard_id)]
    zero = literal(0)
    satisfied = sum((case((_answer(i).in_(SATISFIED), 1), else_=0) for i in items), start=zero)
    answered = sum((case((_answer(i).in_(tuple(SURVEY_ANSWERS)), 1), else_=0) for i in items), start=zero)
    stmt = (select(Survey.id, Survey.compound_id, Survey.opens_on, Survey.closes_on,
                   func.count(SurveyResponse.id),
                   func.coalesce(func.sum(answered), 0), func.coalesce(func.sum(satisfied), 0))
            .outerjoin(SurveyResponse, SurveyResponse.survey_id == Survey.id)
            .where(Survey.evaluation_id == evaluation_id)
            .group_by(Survey.id, Survey.compound_id, Survey.opens_on, Survey.closes_on))
    if compound_ids is not None:
        stmt = stmt.where(Survey.compound_id.in_(compound_ids))
    rows = db.session.execute(stmt).all()
    households = dict(db.session.execute(
        select(Household.compound_id, func.count(Household.id))
        .where(Household.compound_id.in_(select(Survey.compound_id).where(Survey.evaluation_id == evaluation_id)))
        .group_by(Household.compound_id)).all())
    return {cid: Stats(sid, opens, closes, households.get(cid, 0), int(n), int(a), int(s))
            for sid, cid, opens, closes, n, a, s in rows}


def rates(evaluation_id: int) -> dict[int, Fraction | None]:
    """{compound_id: satisfaction rate} for every compound the evaluation assesses (and any with a
    survey): None when it has no survey or its survey covers fewer than 70% of households."""
    assessed = db.session.execute(select(Assessment.compound_id).where(
        Assessment.evaluation_id == evaluation_id, Assessment.compound_id.is_not(None)).distinct()).scalars()
    out: dict[int, Fraction | None] = dict.fromkeys(assessed)
    out.update({cid: s.rate for cid, s in summary(evaluation_id).items()})
    return out


def standings(evaluation_id: int) -> dict[int, Stats | None]:
    """{compound_id: Stats} for every compound the evaluation assesses; None: no survey opened."""
    assessed = db.session.execute(select(Assessment.compound_id).where(
        Assessment.evaluation_id == evaluation_id, Assessment.compound_id.is_not(None)).distinct()).scalars()
    out: dict[int, Stats | None] = dict.fromkeys(assessed)
    out.update(summary(evaluation_id))
    return out


def last_valid_rates(ev: Evaluation, compound_ids) -> dict[int, tuple[Fraction, Evaluation]]:
    """{compound_id: (rate, evaluation)} of each compound's most recent valid survey in an earlier
    evaluation (one whose period starts before `ev`'s), newest period first. One summary per
    earlier evaluation with surveys of these compounds, stopping once every compound has one."""
    wanted = set(compound_ids)
    out: dict[int, tuple[Fraction, Evaluation]] = {}
    if not wanted:
        return out
    earlier = db.session.execute(
        select(Evaluation).where(Evaluation.period_start < ev.period_start, Evaluation.id != ev.id,
                                 Evaluation.id.in_(select(Survey.evaluation_id)
                                                   .where(Survey.compound_id.in_(wanted))))
        .order_by(Evaluation.period_end.desc(), Evaluation.id.desc())).scalars().all()
    for prev in earlier:
        missing = wanted - set(out)
        if not missing:
            break
        for cid, stats in summary(prev.id, list(missing)).items():
            if stats.rate is not None:
                out[cid] = (stats.rate, prev)
    return out


def item_counts(survey: Survey) -> dict[int, dict[str, int]]:
    """{item_id: {answer: count}} of one survey, in one query."""
    items = [i.id for i in survey_items(survey.evaluation.standard_id)]
    if not items:
        return {}
    cols = [func.coalesce(func.sum(case((_answer(i) == a, 1), else_=0)), 0) for i in items for a in SURVEY_ANSWERS]
    row = db.session.execute(select(*cols).where(SurveyResponse.survey_id == survey.id)).one()
    n = len(SURVEY_ANSWERS)
    return {i: dict(zip(SURVEY_ANSWERS, (int(v) for v in row[k * n:(k + 1) * n]))) for k, i in enumerate(items)}


def comments(survey: Survey, limit: int = 50) -> list[tuple]:
    """The latest non-empty comments with their time — never who wrote them."""
    return db.session.execute(
        select(SurveyResponse.comment, SurveyResponse.created_at)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.comment != "")
        .order_by(SurveyResponse.created_at.desc(), SurveyResponse.id.desc()).limit(limit)).all()


@dataclass
class Row:
    """A line of the list page: a compound of the evaluation, its firms and its survey (if any)."""
    compound_id: int
    compound: str
    community: str
    firms: str
    stats: Stats | None


def rows(m: Membership, evaluation_id: int, q: str = "") -> list[Row]:
    """Every compound of the evaluation in `m`'s scope, with its survey numbers (set-based)."""
    comps = evaluation_compounds(m, evaluation_id)
    stmt = (select(Compound.id, Compound.name, Community.name).join(Community, Community.id == Compound.community_id)
            .where(Compound.id.in_(comps)).order_by(Community.name, Compound.name, Compound.id))
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()))
    listed = db.session.execute(stmt).all()
    firms: dict[int, list[str]] = {}
    for cid, name in db.session.execute(
            select(Assessment.compound_id, Firm.name).join(Firm, Firm.id == Assessment.firm_id)
            .where(Assessment.evaluation_id == evaluation_id, Assessment.compound_id.in_(comps))
            .order_by(Firm.name)).all():
        firms.setdefault(cid, []).append(name)
    stats = summary(evaluation_id, comps)
    return [Row(cid, name, community, "、".join(firms.get(cid, [])), stats.get(cid)) for cid, name, community in listed]


# --- opening and dates ---------------------------------------------------------------------

def _check_dates(ev: Evaluation, opens_on: date | None, closes_on: date | None) -> None:
    if opens_on is None:
        raise SurveyProblem("请填写测评开始日期。", "opens_on")
    if closes_on is None:
        raise SurveyProblem("请填写测评截止日期。", "closes_on")
    if opens_on < ev.period_start:
        raise SurveyProblem(f"测评开始日期不能早于考核期间的开始日 {ev.period_start}（测评应在考核期间内或之后进行）。",
                            "opens_on")
    if closes_on < opens_on:
        raise SurveyProblem("截止日期不能早于开始日期。", "closes_on")


def _check_open_evaluation(ev: Evaluation) -> list[StandardItem]:
    if ev.status in CLOSED_EVALUATION:
        raise SurveyProblem(f"“{ev.name}”已定稿，不能再开启或调整满意度测评。")
    items = survey_items(ev.standard_id)
    if not items:
        raise SurveyProblem(f"“{ev.name}”所用的评分标准没有“居民满意度测评”评分的项目，无需开启测评。")
    return items


def open_surveys(m: Membership, ev: Evaluation, compound_id: int | None, opens_on: date | None,
                 closes_on: date | None) -> list[Survey]:
    """Open the survey of one compound of the evaluation, or (compound_id None) of every compound
    in `m`'s scope that has none yet. The compounds are those the evaluation assesses."""
    _check_open_evaluation(ev)
    _check_dates(ev, opens_on, closes_on)
    if closes_on < today():
        raise SurveyProblem("截止日期已过，请选择今天或以后的日期。", "closes_on")
    eligible = set(db.session.execute(evaluation_compounds(m, ev.id)).scalars())
    have = set(db.session.execute(select(Survey.compound_id).where(Survey.evaluation_id == ev.id)).scalars())
    if compound_id is not None:
        if compound_id not in eligible:
            raise SurveyProblem("该小区不在本次考核范围内，或不在您的管辖范围内。", "compound_id")
        if compound_id in have:
            raise SurveyProblem("该小区已开启本次考核的满意度测评。", "compound_id")
        targets = [compound_id]
    else:
        targets = sorted(eligible - have)
        if not targets:
            raise SurveyProblem("本次考核范围内的小区都已开启满意度测评。", "compound_id")
    surveys = [Survey(evaluation_id=ev.id, compound_id=cid, opens_on=opens_on, closes_on=closes_on)
               for cid in targets]
    db.session.add_all(surveys)
    db.session.flush()
    return surveys


def change_dates(survey: Survey, opens_on: date | None, closes_on: date | None) -> None:
    """Extend or shorten a survey. Once residents have answered, its start stays, and its end
    cannot move before the last answer (it would put counted answers outside the window)."""
    ev = survey.evaluation
    _check_open_evaluation(ev)
    _check_dates(ev, opens_on, closes_on)
    last = db.session.execute(select(func.max(SurveyResponse.created_at))
                              .where(SurveyResponse.survey_id == survey.id)).scalar()
    if last is not None:
        if opens_on != survey.opens_on:
            raise SurveyProblem("已有居民参加测评，开始日期不能再修改。", "opens_on")
        if closes_on < local(last).date():
            raise SurveyProblem(f"最后一份答卷提交于 {local(last).date()}，截止日期不能早于该日。", "closes_on")
    survey.opens_on, survey.closes_on = opens_on, closes_on
    db.session.flush()


# --- the residents' side --------------------------------------------------------------------

def public_surveys(compound_id: int, on: date | None = None) -> tuple[list[Survey], Survey | None, Survey | None]:
    """(open surveys, the next one to open, the last one that closed) of a compound."""
    on = on or today()
    surveys = list(db.session.execute(
        select(Survey).options(joinedload(Survey.evaluation))
        .where(Survey.compound_id == compound_id).order_by(Survey.opens_on.desc(), Survey.id.desc())).scalars())
    current = [s for s in surveys if state(s, on) == "open"]
    upcoming = [s for s in surveys if state(s, on) == "upcoming"]
    closed = [s for s in surveys if state(s, on) == "closed"]
    return current, (upcoming[-1] if upcoming else None), (closed[0] if closed else None)


def household_in(compound_id: int, code: str) -> Household | None:
    """The household of a code, only if it is in this compound (codes are case-insensitive)."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return db.session.execute(select(Household).where(
        func.upper(Household.household_code) == code, Household.compound_id == compound_id)).scalar_one_or_none()


def answered(survey_id: int, household_id: int) -> bool:
    return db.session.execute(select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.household_id == household_id)).first() is not None


def duplicate_problem() -> SurveyProblem:
    return SurveyProblem("该户已参加本次测评，每户只能提交一次。", "household_code")


def respond(survey: Survey, code: str, answers: dict, comment: str = "", on: date | None = None) -> SurveyResponse:
    """Record one household's answers. Refused outside opens..closes, for a code not of the
    survey's compound, for a second answer of the same household, or for missing answers."""
    on = on or today()
    st = state(survey, on)
    if st == "upcoming":
        raise SurveyProblem(f"本次测评将于 {survey.opens_on} 开始，请届时再来。")
    if st == "closed":
        raise SurveyProblem(f"本次测评已于 {survey.closes_on} 结束，不再接收答卷。")
    household = household_in(survey.compound_id, code)
    if household is None:
        raise SurveyProblem("户码与本小区不符，请核对物业或社区发放的户码。", "household_code")
    items = survey_items(survey.evaluation.standard_id)
    clean = {}
    for item in items:
        value = answers.get(item.id) or answers.get(str(item.id))
        if value not in SURVEY_ANSWERS:
            raise SurveyProblem(f"请选择您对“{item.name}”的评价。", f"q{item.id}")
        clean[str(item.id)] = value
    comment = (comment or "").strip()
    if problem := too_long(comment, COMMENT_MAX):
        raise SurveyProblem(f"意见和建议{problem}。", "comment")
    if answered(survey.id, household.id):
        raise duplicate_problem()
    response = SurveyResponse(survey_id=survey.id, household_id=household.id, answers=clean,
                              comment=comment)
    db.session.add(response)
    try:
        db.session.flush()
    except IntegrityError:
        # Two submissions of one household at once: the unique constraint decides; the caller
        # rolls back, so nothing of this attempt is written.
        raise duplicate_problem() from None
    return response
