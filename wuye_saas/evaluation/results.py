"""Results of an evaluation: item points → category totals → total with the bonus cap and
vetoes → stars → list → rank, for every assessment at once.

Set-based: whatever the number of firms, `compute` reads the standard, the assessments and all
item scores of the evaluation in a fixed number of queries, computes in Python with Decimal
(Fraction for means), and writes with one executemany per table. The rules, in order:

1. Item points. Regular and bonus items scored by people (self, community, street, assessor,
   committee): the review points when a reviewer (assessor, committee) entered them, else the
   self points, else 0 (nothing entered earns nothing; an unscored committee item counts 0 and
   the result page says so). Computed items: `rules.computed_points` with
   `indicators.computed.COMPUTED[key]` over the evaluation period, by compound (per-compound
   assessments) or by firm (firm-wide ones); no data (a rate of None: no demands to measure)
   earns FULL points, flagged "无可计量数据": a data gap the firm does not control must not
   cost it a star.
   Items scored by the resident survey: `rules.computed_points` with the compound's rate when
   its survey is valid (`surveys`: ≥ 70% of households answered). Without a valid survey (none
   opened, too few answers, no households) the item's `no_survey_rule` decides, and the result
   page says which rule applied and why the survey was not valid:
     zero      → 0 points (the default: a valid survey is the firm's duty — 中物协一级 asks
                 for at least one a year with ≥ 80% satisfied; a missing one proves nothing);
     gathered  → the satisfaction of the answers gathered so far (no answers: 0);
     last      → the rate of the compound's most recent valid survey in an earlier evaluation
                 (one whose period starts before this one's; none: 0);
     full      → full points (the old behaviour, now a deliberate choice).
   A firm-wide assessment takes the mean rate of its compounds with a valid survey; when none
   has one, the mean of its compounds' rates under the rule (no surveyed compound at all: 0,
   or 1 under "full").
2. Category totals: Σ regular items of the category. Base total = Σ regular items.
   Bonus = min(Σ bonus items, standard.bonus_cap). Total = base + bonus, capped at
   total_points + bonus_cap.
3. Veto (一票否决): a veto item marked as occurred applies its effect — zero_black: total 0,
   0 stars, black list; black: black list; zero: total 0 (stars then follow the bands).
   Several vetoes combine (the union of their effects).
4. Stars: the first band (highest first) whose `min` the total reaches; none → 0 stars.
5. Ranks: total desc, then base total desc, then the first category's points desc. Assessments
   equal on all three share a rank, the next rank skips (standard competition ranking
   1, 2, 2, 4); within a shared rank the table lists firms by name, then compound name.
6. Lists: a veto whose effect includes the black list puts the assessment on 黑榜 whatever its
   score. Otherwise every list rule of the standard is checked and, when several lists match,
   the worse one wins: 黑榜 before 黄榜 before 红榜 (a warning is never hidden by an honour).
   Rank rules count positions with ties: top_rank n = fewer than n assessments strictly better;
   bottom_rank n = fewer than n strictly worse (tied last places are all "bottom").
7. Annual evaluations (kind annual) also compute their own sheet as above; the result of each
   unit (firm × compound, or firm) is then the weighted mean of: the mean total of the year's
   monthly cycles, the mean total of its quarterly cycles, and its own annual total, with
   `standard.cycle_weights` ({"monthly": 40, "quarterly": 60, "annual": 0}). Only finalized or
   published cycles with computed results lying inside the annual period count. Weights are
   renormalised per unit over the kinds that have a value for it (a kind with weight 0 or no
   cycle for the unit drops out); keys other than monthly/quarterly/annual are ignored. A
   firm-wide annual assessment takes, in each cycle, the mean of all the firm's assessments in
   that cycle. Vetoes of the year's cycles carry into the annual result. With no weight and no
   cycle at all the own total is the result. The parts and weights are kept in `breakdown`.

Recomputing writes only what changed for item points; a changed total, star or list of an
assessment that already had a result is audited with its before and after.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import bindparam, insert, select, text, update

from ..audit import AuditEvent, _actor
from ..extensions import db
from ..jobs import create_run, job, start
from ..org.models import Contract
from ..tenancy import current_tenant_id
from ..timeutil import now
from .models import (
    CYCLE_KINDS, LISTS, NO_SURVEY_RULES, Assessment, Evaluation, ItemScore, Standard, StandardCategory, StandardItem,
)
from .rules import CENT, computed_points

ZERO = Decimal("0.00")
LIST_PRIORITY = ("black", "yellow", "red")          # the worse list wins
RESULT_STATUSES = ("finalized", "published")         # cycles whose results an annual may use
JOB_KIND = "evaluation_results"


class ResultProblem(ValueError):
    def __init__(self, message: str, field: str = "evaluation"):
        super().__init__(message)
        self.message = message
        self.field = field


def _dec(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _round(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def _pct(value: Fraction, floor: bool = False) -> str:
    """A share as a percent with at most one decimal; `floor` never shows more than there is
    (a coverage of 69.96% is not "70%")."""
    exact = Decimal(value.numerator * 100) / Decimal(value.denominator)
    shown = exact.quantize(Decimal("0.1"), rounding="ROUND_FLOOR" if floor else ROUND_HALF_UP)
    return f"{shown.normalize():f}%"


@dataclass(frozen=True)
class SurveyRate:
    """A survey item's rate for one unit; `note` (without a valid survey) says which rule gave it."""
    rate: Fraction
    note: str = ""


def _no_survey_reason(stats) -> str:
    if stats is None:
        return "未开展满意度测评"
    if not stats.households:
        return "小区没有登记住户，测评无效"
    from .surveys import VALID_COVERAGE
    return f"未达有效测评（覆盖率 {_pct(stats.coverage, floor=True)}，需 ≥ {_pct(VALID_COVERAGE)}）"


def survey_fallback(rule: str, stats, last) -> SurveyRate:
    """The rate a compound without a valid survey gets under `rule`; `last` is (rate,
    evaluation) of its most recent earlier valid survey or None."""
    why = _no_survey_reason(stats)
    if rule == "full":
        return SurveyRate(Fraction(1), f"{why}：按规则计满分")
    if rule == "gathered":
        if stats is not None and stats.satisfaction is not None:
            return SurveyRate(stats.satisfaction, f"{why}：按规则按已收 {stats.responses} 份答卷的满意率 "
                                                  f"{_pct(stats.satisfaction)} 计分")
        return SurveyRate(Fraction(0), f"{why}：按规则按已收答卷的满意率计分，尚无答卷，计 0 分")
    if rule == "last":
        if last is not None:
            return SurveyRate(last[0], f"{why}：按规则沿用上次有效测评（{last[1].name}）的满意率 {_pct(last[0])}")
        return SurveyRate(Fraction(0), f"{why}：按规则沿用上次有效测评的满意率，此前没有有效测评，计 0 分")
    return SurveyRate(Fraction(0), f"{why}：按规则计 0 分")


# --- one assessment's sheet (pure) -------------------------------------------------------------

@dataclass
class Sheet:
    """What the computation needs of a standard, read once."""
    items: list                       # StandardItem rows, in order
    first_category: int | None
    bonus_cap: Decimal
    cap: Decimal                      # total_points + bonus_cap
    star_bands: list                  # [(min Decimal, stars)] highest min first
    list_rules: list

    @classmethod
    def of(cls, std: Standard, items, categories) -> "Sheet":
        bands = sorted(((_dec(b["min"]), int(b["stars"])) for b in std.star_bands or []), reverse=True)
        bonus_cap = _dec(std.bonus_cap or 0)
        return cls(items=list(items), first_category=categories[0].id if categories else None,
                   bonus_cap=bonus_cap, cap=_dec(std.total_points or 0) + bonus_cap, star_bands=bands,
                   list_rules=list(std.list_rules or []))

    def stars(self, total: Decimal) -> int:
        for minimum, stars in self.star_bands:
            if total >= minimum:
                return stars
        return 0


@dataclass
class Result:
    finals: dict = field(default_factory=dict)       # item id → Decimal | None (veto items)
    no_data: list = field(default_factory=list)       # item ids scored full for lack of data
    survey_rules: dict = field(default_factory=dict)  # item id → the no-valid-survey rule that applied
    committee_unscored: list = field(default_factory=list)  # committee items it did not score: 0
    categories: dict = field(default_factory=dict)    # category id → Decimal
    base: Decimal = ZERO
    bonus_raw: Decimal = ZERO
    bonus: Decimal = ZERO
    total: Decimal = ZERO
    effects: set = field(default_factory=set)         # veto effects that occurred
    vetoed_items: list = field(default_factory=list)
    stars: int = 0
    list_kind: str | None = None
    rank: int | None = None
    better: int = 0                                   # assessments strictly better / worse
    worse: int = 0
    extra: dict = field(default_factory=dict)         # annual parts, kept in breakdown
    first_category: int | None = None                 # the rank's third key

    @property
    def vetoed(self) -> bool:
        return bool(self.effects)

    def apply_vetoes(self, sheet: Sheet) -> None:
        if self.effects & {"zero", "zero_black"}:
            self.total = ZERO
        self.stars = 0 if "zero_black" in self.effects else sheet.stars(self.total)

    @property
    def rank_key(self) -> tuple:
        return (self.total, self.base, self.categories.get(self.first_category, ZERO))


def score_sheet(sheet: Sheet, entries: dict, rate_of) -> Result:
    """One assessment. `entries`: item id → (self_points, review_points, vetoed);
    `rate_of(item)`: the item's rate (Fraction | None) for data-scored items."""
    res = Result(first_category=sheet.first_category)
    bonus = ZERO
    for item in sheet.items:
        self_pts, review_pts, vetoed = entries.get(item.id, (None, None, False))
        if item.kind == "veto":
            res.finals[item.id] = None
            if vetoed:
                res.effects.add(item.veto_effect or "zero_black")
                res.vetoed_items.append(item.name)
            continue
        if item.scorer == "survey" or item.method == "computed":
            rate = rate_of(item)
            if isinstance(rate, SurveyRate):
                if rate.note:
                    res.survey_rules[str(item.id)] = rate.note
                rate = rate.rate
            pts = computed_points(item, rate)
            if pts is None:
                pts = _dec(item.max_points)
                res.no_data.append(item.id)
        elif review_pts is not None:
            pts = _dec(review_pts)
        elif item.scorer == "committee":
            pts = ZERO
            res.committee_unscored.append(item.id)
        elif self_pts is not None:
            pts = _dec(self_pts)
        else:
            pts = ZERO
        res.finals[item.id] = pts
        if item.kind == "bonus":
            bonus += pts
        else:
            res.base += pts
            if item.category_id is not None:
                res.categories[item.category_id] = res.categories.get(item.category_id, ZERO) + pts
    res.bonus_raw = bonus
    res.bonus = min(bonus, sheet.bonus_cap)
    res.total = min(res.base + res.bonus, sheet.cap)
    res.apply_vetoes(sheet)
    return res


def rank_and_list(sheet: Sheet, results: list[Result]) -> None:
    """Competition ranks on (total, base, first category) and each result's list."""
    ordered = sorted(results, key=lambda r: r.rank_key, reverse=True)
    n = len(ordered)
    i = 0
    while i < n:
        j = i
        while j < n and ordered[j].rank_key == ordered[i].rank_key:
            j += 1
        for r in ordered[i:j]:
            r.rank, r.better, r.worse = i + 1, i, n - j
        i = j
    for r in results:
        r.list_kind = list_for(sheet, r)


def _matches(rule: dict, r: Result) -> bool:
    kind, value = rule.get("rule"), rule.get("value")
    if kind == "veto":
        return r.vetoed
    if kind in ("stars_at_least", "stars_at_most"):
        return r.stars >= int(value) if kind == "stars_at_least" else r.stars <= int(value)
    if kind == "score_below":
        return r.total < _dec(value)
    if kind == "score_at_least":
        return r.total >= _dec(value)
    if kind == "top_rank":
        return r.better < int(value)
    if kind == "bottom_rank":
        return r.worse < int(value)
    return False


def list_for(sheet: Sheet, r: Result) -> str | None:
    hits = {"black"} if r.effects & {"black", "zero_black"} else set()
    hits |= {rule.get("list") for rule in sheet.list_rules if _matches(rule, r)}
    return next((k for k in LIST_PRIORITY if k in hits), None)


def combine_annual(sheet: Sheet, own: Result, weights: dict, parts: dict, base_parts: dict,
                   carried: set) -> None:
    """Turn the annual's own result into the weighted result. `parts`/`base_parts`: kind →
    Fraction (the mean total / base total of that kind's cycles for this unit; "annual" is
    the own result); `carried`: veto effects of the year's cycles."""
    used = {k: Fraction(str(weights.get(k, 0) or 0)) for k in CYCLE_KINDS if k in parts}
    used = {k: w for k, w in used.items() if w > 0}
    own_total, own_base = own.total, own.base
    if used:
        wsum = sum(used.values())
        total = sum(w * parts[k] for k, w in used.items()) / wsum
        base = sum(w * base_parts[k] for k, w in used.items()) / wsum
        own.total, own.base = _round(total), _round(base)
        own.bonus = own.total - own.base
    own.effects |= carried
    own.extra = {"annual": {
        "parts": {k: str(_round(v)) for k, v in parts.items()},
        "weights": {k: str(_round(w * 100 / sum(used.values()))) for k, w in used.items()} if used else {},
        "own_total": str(own_total), "own_base": str(own_base),
    }}
    own.apply_vetoes(sheet)


# --- reading and writing ----------------------------------------------------------------------

def _rates(ev: Evaluation, items: list, units: list[tuple[int, int, int | None]]) -> dict:
    """(item id, unit id) → rate, for the data-scored items: one call per computed key and
    unit kind, one to the surveys, one contracts query for firm-wide survey means."""
    out: dict = {}
    by_compound = any(c is not None for _, _, c in units)
    by_firm = any(c is None for _, _, c in units)
    computed = [i for i in items if i.kind != "veto" and i.scorer != "survey" and i.method == "computed"]
    surveyed = [i for i in items if i.kind != "veto" and i.scorer == "survey"]
    if computed:
        from ..indicators.computed import COMPUTED  # lazy: indicators read every area
        for key in sorted({i.computed_key for i in computed}):
            fn = COMPUTED.get(key)
            if fn is None:
                raise ResultProblem(f"计算指标“{key}”不存在，请检查评分标准")
            for unit, wanted in (("compound", by_compound), ("firm", by_firm)):
                if wanted:
                    values = fn(ev.period_start, ev.period_end, by=unit)
                    for i in computed:
                        if i.computed_key == key:
                            out[(i.id, unit)] = values
    if surveyed:
        out.update(_survey_rates(ev, surveyed, {f for _, f, c in units if c is None}))
    return out


def _survey_rates(ev: Evaluation, surveyed: list, firm_units: set[int]) -> dict:
    """(item id, unit kind) → {unit id: SurveyRate} under each item's no-valid-survey rule."""
    from . import surveys  # lazy: the surveys helper's module
    standings = surveys.standings(ev.id)
    lacking = [cid for cid, st in standings.items() if st is None or st.rate is None]
    wanted = {i.no_survey_rule for i in surveyed}
    last = surveys.last_valid_rates(ev, lacking) if "last" in wanted and lacking else {}
    per_rule = {rule: {cid: SurveyRate(st.rate) if st is not None and st.rate is not None
                       else survey_fallback(rule, st, last.get(cid)) for cid, st in standings.items()}
                for rule in wanted}
    served = {f: set() for f in firm_units}
    if firm_units:
        for firm_id, compound_id in db.session.execute(select(Contract.firm_id, Contract.compound_id).where(
                Contract.in_force(ev.period_start, ev.period_end))).all():
            if firm_id in served and compound_id in standings:
                served[firm_id].add(compound_id)
    out = {}
    for i in surveyed:
        rule = i.no_survey_rule
        compound_rates = per_rule[rule]
        out[(i.id, "compound")] = compound_rates
        firm_rates = {}
        for firm_id, cids in served.items():
            valid = [compound_rates[c].rate for c in cids if not compound_rates[c].note]
            if valid:
                firm_rates[firm_id] = SurveyRate(sum(valid, Fraction(0)) / len(valid))
            elif not cids:
                firm_rates[firm_id] = SurveyRate(Fraction(1 if rule == "full" else 0),
                                                 f"名下小区均未开展满意度测评：按规则{NO_SURVEY_RULES[rule]}")
            else:
                firm_rates[firm_id] = SurveyRate(sum((compound_rates[c].rate for c in cids), Fraction(0)) / len(cids),
                                                 f"名下小区均无有效测评：按规则{NO_SURVEY_RULES[rule]}（各小区平均）")
        out[(i.id, "firm")] = firm_rates
    return out


def _load(evaluation_id: int):
    ev = db.session.get(Evaluation, evaluation_id)
    if ev is None:
        raise ResultProblem("考核不存在")
    std = db.session.get(Standard, ev.standard_id)
    items = db.session.execute(select(StandardItem).where(StandardItem.standard_id == std.id)
                               .order_by(StandardItem.sort, StandardItem.id)).scalars().all()
    cats = db.session.execute(select(StandardCategory).where(StandardCategory.standard_id == std.id)
                              .order_by(StandardCategory.sort, StandardCategory.id)).scalars().all()
    return ev, std, items, cats


def compute(evaluation_id: int, report=None) -> dict:
    """Compute and store the results of every assessment of the evaluation; a summary."""
    report = report or (lambda done, total, message="": None)
    ev, std, items, cats = _load(evaluation_id)
    sheet = Sheet.of(std, items, cats)
    units = db.session.execute(
        select(Assessment.id, Assessment.firm_id, Assessment.compound_id, Assessment.total, Assessment.stars,
               Assessment.list_kind).where(Assessment.evaluation_id == ev.id).order_by(Assessment.id)).all()
    if not units:
        raise ResultProblem("该考核没有参评对象，无法计算结果")
    report(1, 5, "读取评分")
    entries: dict[int, dict] = defaultdict(dict)
    stored: dict[tuple[int, int], tuple[int, Decimal | None]] = {}
    for sid, aid, iid, self_pts, review_pts, final_pts, vetoed in db.session.execute(
            select(ItemScore.id, ItemScore.assessment_id, ItemScore.item_id, ItemScore.self_points,
                   ItemScore.review_points, ItemScore.final_points, ItemScore.vetoed)
            .join(Assessment, Assessment.id == ItemScore.assessment_id)
            .where(Assessment.evaluation_id == ev.id)):
        entries[aid][iid] = (self_pts, review_pts, vetoed)
        stored[(aid, iid)] = (sid, final_pts)
    rates = _rates(ev, items, [(u.id, u.firm_id, u.compound_id) for u in units])
    report(2, 5, "计算得分")

    results: dict[int, Result] = {}
    for u in units:
        unit_kind, unit_id = ("compound", u.compound_id) if u.compound_id is not None else ("firm", u.firm_id)

        def rate_of(item, unit_kind=unit_kind, unit_id=unit_id):
            return rates.get((item.id, unit_kind), {}).get(unit_id)
        results[u.id] = score_sheet(sheet, entries.get(u.id, {}), rate_of)
    if ev.kind == "annual":
        _combine_year(ev, std, sheet, units, results)
    rank_and_list(sheet, list(results.values()))
    report(3, 5, "写入结果")
    _write(ev, sheet, cats, units, results, stored)
    report(5, 5, "完成")
    counts = {k: sum(1 for r in results.values() if r.list_kind == k) for k in LISTS}
    summary = (f"已计算 {len(results)} 个参评对象：红榜 {counts['red']}，黄榜 {counts['yellow']}，"
               f"黑榜 {counts['black']}，一票否决 {sum(1 for r in results.values() if r.vetoed)}。")
    return {"assessments": len(results), "lists": counts, "summary": summary}


def _combine_year(ev, std, sheet, units, results) -> None:
    cycles = db.session.execute(select(Evaluation.id, Evaluation.kind, Evaluation.name).where(
        Evaluation.kind.in_(("monthly", "quarterly")), Evaluation.status.in_(RESULT_STATUSES),
        Evaluation.results_at.is_not(None), Evaluation.period_start >= ev.period_start,
        Evaluation.period_end <= ev.period_end, Evaluation.id != ev.id)).all()
    kind_of = {c.id: c.kind for c in cycles}
    # firm → cycle → [(compound, total, base, effects)]
    rows: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    if cycles:
        for eid, firm_id, compound_id, total, base, breakdown in db.session.execute(
                select(Assessment.evaluation_id, Assessment.firm_id, Assessment.compound_id, Assessment.total,
                       Assessment.base_total, Assessment.breakdown)
                .where(Assessment.evaluation_id.in_(list(kind_of)), Assessment.total.is_not(None))):
            effects = set((breakdown or {}).get("veto_effects", []))
            rows[firm_id][eid].append((compound_id, Fraction(total), Fraction(base or 0), effects))
    weights = std.cycle_weights or {}
    for u in units:
        own = results[u.id]
        per_kind_totals, per_kind_bases, carried, used = defaultdict(list), defaultdict(list), set(), 0
        for eid, found in rows.get(u.firm_id, {}).items():
            mine = found if u.compound_id is None else [r for r in found if r[0] == u.compound_id]
            if not mine:
                continue
            used += 1
            per_kind_totals[kind_of[eid]].append(sum(r[1] for r in mine) / len(mine))
            per_kind_bases[kind_of[eid]].append(sum(r[2] for r in mine) / len(mine))
            for r in mine:
                carried |= r[3]
        parts = {k: sum(v) / len(v) for k, v in per_kind_totals.items()}
        base_parts = {k: sum(v) / len(v) for k, v in per_kind_bases.items()}
        parts["annual"], base_parts["annual"] = Fraction(own.total), Fraction(own.base)
        combine_annual(sheet, own, weights, parts, base_parts, carried)
        own.extra["annual"]["cycles"] = used


def _write_finals(conn, score_t, tid: int, rows: list[tuple[int, Decimal | None]]) -> None:
    """Item points that changed. Many rows on PostgreSQL: COPY into a temporary table and one
    UPDATE … FROM (an executemany of 48,000 updates takes seconds there); otherwise one
    executemany. Either way a fixed number of statements."""
    if not rows:
        return
    if conn.dialect.name != "postgresql" or len(rows) < 2000:
        conn.execute(update(score_t).where(score_t.c.id == bindparam("b_id"), score_t.c.tenant_id == tid)
                     .values(final_points=bindparam("b_final")), [{"b_id": i, "b_final": p} for i, p in rows])
        return
    conn.exec_driver_sql("CREATE TEMP TABLE final_points_load (id integer PRIMARY KEY, final_points numeric(7, 2))"
                         " ON COMMIT DROP")
    with conn.connection.driver_connection.cursor() as cur:
        with cur.copy("COPY final_points_load (id, final_points) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    conn.execute(text("UPDATE item_score SET final_points = l.final_points FROM final_points_load l"
                      " WHERE item_score.id = l.id AND item_score.tenant_id = :t"), {"t": tid})
    conn.exec_driver_sql("DROP TABLE final_points_load")  # a second computation in the same transaction


def _write(ev, sheet, cats, units, results, stored) -> None:
    conn = db.session.connection()
    tid = current_tenant_id()
    score_t, assess_t = ItemScore.__table__, Assessment.__table__
    changed_scores = []
    for (aid, iid), (sid, old) in stored.items():
        new = results[aid].finals.get(iid) if aid in results else None
        if new != old or (new is None) != (old is None):
            changed_scores.append((sid, new))
    _write_finals(conn, score_t, tid, changed_scores)
    at = now()
    names = {c.id: c.name for c in cats}
    rows, audits = [], []
    user_id, actor = _actor.get()
    for u in units:
        r = results[u.id]
        breakdown = {
            "categories": [{"id": cid, "name": names[cid], "points": str(r.categories.get(cid, ZERO))}
                           for cid in names],
            "bonus_raw": str(r.bonus_raw), "no_data": r.no_data, "survey_rules": r.survey_rules,
            "committee_unscored": r.committee_unscored,
            "veto_effects": sorted(r.effects), "vetoed_items": r.vetoed_items, **r.extra,
        }
        rows.append({"b_id": u.id, "b_base": r.base, "b_bonus": r.bonus, "b_total": r.total, "b_vetoed": r.vetoed,
                     "b_stars": r.stars, "b_list": r.list_kind, "b_rank": r.rank, "b_breakdown": breakdown,
                     "b_at": at})
        if u.total is not None and (u.total != r.total or u.stars != r.stars or u.list_kind != r.list_kind):
            changes = {"total": {"before": str(u.total), "after": str(r.total)}}
            if u.stars != r.stars:
                changes["stars"] = {"before": u.stars, "after": r.stars}
            if u.list_kind != r.list_kind:
                changes["list_kind"] = {"before": u.list_kind, "after": r.list_kind}
            audits.append({"tenant_id": tid, "at": at, "user_id": user_id, "actor": actor, "action": "update",
                           "entity": "assessment", "entity_id": u.id, "label": f"重新计算考核结果：{ev.name}"[:200],
                           "changes": changes})
    conn.execute(update(assess_t).where(assess_t.c.id == bindparam("b_id"), assess_t.c.tenant_id == tid)
                 .values(base_total=bindparam("b_base"), bonus_total=bindparam("b_bonus"),
                         total=bindparam("b_total"), vetoed=bindparam("b_vetoed"), stars=bindparam("b_stars"),
                         list_kind=bindparam("b_list"), rank=bindparam("b_rank"),
                         breakdown=bindparam("b_breakdown", type_=assess_t.c.breakdown.type),
                         computed_at=bindparam("b_at")), rows)
    audits.append({"tenant_id": tid, "at": at, "user_id": user_id, "actor": actor, "action": "update",
                   "entity": "evaluation", "entity_id": ev.id, "label": f"计算考核结果：{ev.name}"[:200],
                   "changes": {"assessments": len(rows), "changed_results": len(audits),
                               "changed_item_points": len(changed_scores)}})
    conn.execute(insert(AuditEvent.__table__), audits)
    ev.results_at = at
    db.session.flush()
    # The bulk writes bypassed the session: what it holds of these rows is stale now.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (Assessment, ItemScore)):
            db.session.expire(obj)


# --- the job ----------------------------------------------------------------------------------

@job(queue="default", timeout=3600)
def compute_results(run, evaluation_id: int) -> None:
    outcome = compute(evaluation_id, run.report)
    ev = db.session.get(Evaluation, evaluation_id)
    if ev.status == "published":
        # Results changed after publication (an upheld appeal): new list consequences too.
        from ..credit.consequences import apply_evaluation  # lazy: credit is another area
        from ..credit.records import sync_evaluation
        outcome.update(apply_evaluation(ev).as_dict())
        outcome["credit_records"], outcome["credit_revoked"] = sync_evaluation(ev, "appeal")
        # Each compound's board: a 更正 where its published result changed.
        from ..publicity.evaluation_board import publish_results  # lazy: publicity is another area
        outcome["result_publications"] = publish_results(ev)
        # The holdback follows the changed result in its own job, which must read the new
        # results: commit them first (starting a job may also roll back on a lost lock race).
        from ..auth.models import User
        from ..fees import holdback_jobs  # lazy: fees is another area
        db.session.commit()
        started = holdback_jobs.submit(ev, "appeal", db.session.get(User, run.user_id) if run.user_id else None)
        outcome["holdback_job"] = started.id if started else None
    run.result = outcome
    run.message = f"已写入 {outcome['assessments']} 个参评对象的结果。"


def submit(ev: Evaluation, user, why: str = "计算考核结果"):
    """A JobRun computing the evaluation's results, started after the caller's writes commit."""
    run = create_run(compute_results, f"{why}：{ev.name}"[:200], ev.id, user=user, kind=f"{JOB_KIND}:{ev.id}")
    start(run)
    return run


def latest_run(ev: Evaluation):
    from ..jobs import JobRun
    return db.session.execute(select(JobRun).where(JobRun.kind == f"{JOB_KIND}:{ev.id}")
                              .order_by(JobRun.id.desc()).limit(1)).scalar_one_or_none()


def results_ready(ev: Evaluation) -> bool:
    return ev.results_at is not None


