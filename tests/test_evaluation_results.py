"""Evaluation results: exact, hand-computed totals, stars, lists, ranks and annual weighting;
the statement count of the computation; who sees which results."""
from __future__ import annotations

import sys
import types
from datetime import date
from decimal import Decimal as D
from fractions import Fraction
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.evaluation import results
from wuye_saas.evaluation.models import (
    Assessment, Evaluation, ItemScore, Standard, StandardCategory, StandardItem,
)
from wuye_saas.evaluation.results import Result, Sheet, rank_and_list, score_sheet
from wuye_saas.evaluation.rules import item_points
from wuye_saas.extensions import db
from wuye_saas.org import models as org
from wuye_saas.tenancy import tenant_scope

from .factories import credit_code
from .helpers import login

BANDS = [{"stars": 5, "min": "85"}, {"stars": 4, "min": "80"}, {"stars": 3, "min": "70"},
         {"stars": 2, "min": "60"}, {"stars": 1, "min": "0"}]
RULES = [{"list": "red", "rule": "stars_at_least", "value": 5},
         {"list": "yellow", "rule": "score_below", "value": "75"},
         {"list": "black", "rule": "stars_at_most", "value": 2},
         {"list": "black", "rule": "veto"}]
CONSEQUENCES = {"red": ["优先续约"], "yellow": ["约谈", "加大抽查频次"], "black": ["约谈", "启动退出程序"]}
GRADED_15 = [{"label": "差", "points": "5"}, {"label": "中", "points": "10"}, {"label": "好", "points": "15"}]
GRADED_20 = [{"label": "无", "points": "0"}, {"label": "差", "points": "10"}, {"label": "中", "points": "15"},
             {"label": "好", "points": "20"}]
BONUS_LEVELS = [{"label": "无", "points": "0"}, {"label": "区级", "points": "1"}, {"label": "市级", "points": "3"}]
# The 100-point sheet most tests use: 党建 25, 基础服务 55 (incl. a computed 5), 满意度 20 (survey).
SHEET_100 = [
    dict(key="a1", cat="党建引领", method="graded", scorer="community", max="15", levels=GRADED_15),
    dict(key="a2", cat="党建引领", method="yesno", scorer="self", max="10"),
    dict(key="b1", cat="基础服务", method="deduction", scorer="community", max="30", per="2"),
    dict(key="b2", cat="基础服务", method="graded", scorer="street", max="20", levels=GRADED_20),
    dict(key="d1", cat="基础服务", method="computed", scorer="system", max="5", computed_key="demand_on_time_rate"),
    dict(key="c1", cat="居民满意度", method="computed", scorer="survey", max="20"),
    dict(key="x1", kind="bonus", method="graded", scorer="self", max="3", levels=BONUS_LEVELS),
    dict(key="x2", kind="bonus", method="graded", scorer="self", max="3", levels=BONUS_LEVELS),
    dict(key="v1", kind="veto", method="yesno", scorer="community", max="0", veto_effect="zero_black"),
    dict(key="v2", kind="veto", method="yesno", scorer="community", max="0", veto_effect="black"),
    dict(key="v3", kind="veto", method="yesno", scorer="community", max="0", veto_effect="zero"),
]
COMPUTED_KEYS = ("demand_on_time_rate", "demand_satisfaction_rate", "collection_rate", "publicity_compliance_rate")


# --- factory: a standard, cycles and entries written directly ----------------------------------

def make_standard(spec=SHEET_100, *, name="测试标准", bonus_cap="5", weights=None, rules=RULES, bands=BANDS,
                  consequences=CONSEQUENCES, total="100") -> SimpleNamespace:
    std = Standard(name=name, version=1, status="active", unit="compound", total_points=D(total),
                   bonus_cap=D(bonus_cap), star_bands=bands, list_rules=rules, consequences=consequences,
                   cycle_weights=weights or {"monthly": 40, "quarterly": 60, "annual": 0})
    db.session.add(std)
    db.session.flush()
    cats, items = {}, {}
    for n, s in enumerate(spec):
        if s.get("cat") and s["cat"] not in cats:
            c = StandardCategory(standard_id=std.id, name=s["cat"], sort=len(cats))
            db.session.add(c)
            db.session.flush()
            cats[s["cat"]] = c.id
        it = StandardItem(standard_id=std.id, category_id=cats.get(s.get("cat")), kind=s.get("kind", "regular"),
                          name=f"项目{s['key']}", max_points=D(s["max"]), method=s["method"], scorer=s["scorer"],
                          levels=s.get("levels", []), deduction_per=D(s["per"]) if s.get("per") else None,
                          computed_key=s.get("computed_key"), veto_effect=s.get("veto_effect"), sort=n)
        db.session.add(it)
        db.session.flush()
        items[s["key"]] = it.id
    return SimpleNamespace(id=std.id, items=items, cats=cats)


def make_evaluation(std, units, *, kind="quarterly", start=date(2026, 1, 1), end=date(2026, 3, 31),
                    status="finalized", name=None, appeal_days=7) -> SimpleNamespace:
    """An evaluation with one assessment per (firm, compound) and an empty score per item."""
    ev = Evaluation(standard_id=std.id, kind=kind, name=name or f"{kind}{start:%Y%m}", period_start=start,
                    period_end=end, status=status, self_report_due=end, review_due=end, appeal_days=appeal_days)
    db.session.add(ev)
    db.session.flush()
    out = {}
    for firm_id, compound_id in units:
        a = Assessment(evaluation_id=ev.id, firm_id=firm_id, compound_id=compound_id,
                       status="finalized" if status in ("finalized", "published") else "confirmed")
        db.session.add(a)
        db.session.flush()
        for item_id in std.items.values():
            db.session.add(ItemScore(assessment_id=a.id, item_id=item_id))
        out[(firm_id, compound_id)] = a.id
    db.session.flush()
    return SimpleNamespace(id=ev.id, a=out)


def enter(std, assessment_id, key, *, self=None, review=None, self_occ=None, review_occ=None, vetoed=False):
    """Entries the way the workflow stores them: points through rules.item_points."""
    item = db.session.get(StandardItem, std.items[key])
    s = db.session.execute(select(ItemScore).where(ItemScore.assessment_id == assessment_id,
                                                   ItemScore.item_id == item.id)).scalar_one()
    if self is not None or self_occ is not None:
        s.self_points = item_points(item, points=self, occurrences=self_occ)
        s.self_occurrences = self_occ
    if review is not None or review_occ is not None:
        s.review_points = item_points(item, points=review, occurrences=review_occ)
        s.review_occurrences = review_occ
        s.review_reason = "现场检查不符"
    s.vetoed = vetoed
    db.session.flush()


@pytest.fixture
def rates(monkeypatch):
    """The data behind computed and survey items, set by the test: computed[(key, by)] =
    {unit id: Fraction}; survey = {compound id: Fraction | None}."""
    data = SimpleNamespace(computed={}, survey={})

    def make(key):
        return lambda start, end, by: dict(data.computed.get((key, by), {}))
    try:
        import wuye_saas.indicators.computed as real
        for key in COMPUTED_KEYS:
            monkeypatch.setitem(real.COMPUTED, key, make(key))
    except ImportError:  # the indicators helper's module is not there yet: stand in for it
        fake = types.ModuleType("wuye_saas.indicators.computed")
        fake.COMPUTED = {key: make(key) for key in COMPUTED_KEYS}
        monkeypatch.setitem(sys.modules, "wuye_saas.indicators.computed", fake)
    from wuye_saas.evaluation import surveys

    def standings(evaluation_id):
        # A valid survey whose answers give exactly the rate; None: no survey opened.
        return {cid: None if r is None else surveys.Stats(0, date(2026, 1, 1), date(2026, 1, 31), r.denominator,
                                                          r.denominator, r.denominator, r.numerator)
                for cid, r in data.survey.items()}
    monkeypatch.setattr(surveys, "standings", standings)
    return data


def compute(app, tenant_id, evaluation_id):
    with app.app_context(), tenant_scope(tenant_id), acting_as(None, "测试"):
        out = results.compute(evaluation_id)
        db.session.commit()
        return out


def assessment(app, tenant_id, assessment_id) -> dict:
    with app.app_context(), tenant_scope(tenant_id):
        a = db.session.get(Assessment, assessment_id)
        finals = {s.item_id: s.final_points for s in a.scores}
        return {"base": a.base_total, "bonus": a.bonus_total, "total": a.total, "stars": a.stars,
                "list": a.list_kind, "rank": a.rank, "vetoed": a.vetoed, "breakdown": a.breakdown, "finals": finals}


def two_firm_cycle(app, world, **kw):
    """The 100-point standard and a finalized quarterly cycle of alpha's two firm × compound pairs."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id):
        std = make_standard(**kw)
        ev = make_evaluation(std, [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)])
        db.session.commit()
    return ns, std, ev


def standard_entries(std, a1, a2):
    """firm 1: graded reviewed down, yes/no, deduction reviewed (3 × 2), bonus over the cap;
    firm 2: a deduction past zero (floored), one bonus point."""
    enter(std, a1, "a1", self="15", review="10")
    enter(std, a1, "a2", self="10")
    enter(std, a1, "b1", self_occ=1, review_occ=3)
    enter(std, a1, "b2", self="20", review="15")
    enter(std, a1, "x1", self="3")
    enter(std, a1, "x2", self="3")
    enter(std, a2, "a1", self="15")
    enter(std, a2, "a2", self="0")
    enter(std, a2, "b1", self_occ=20)
    enter(std, a2, "b2", self="20", review="20")
    enter(std, a2, "x1", self="3", review="1")


# --- exact results ---------------------------------------------------------------------------

def test_exact_totals_stars_lists_and_ranks(app, world, rates):
    ns, std, ev = two_firm_cycle(app, world)
    a1, a2 = ev.a[(ns.firm1, ns.compound1)], ev.a[(ns.firm2, ns.compound2)]
    with app.app_context(), tenant_scope(ns.tenant_id):
        standard_entries(std, a1, a2)
        db.session.commit()
    rates.survey = {ns.compound1: Fraction(3, 4), ns.compound2: None}       # compound 2: no valid survey
    rates.computed[("demand_on_time_rate", "compound")] = {ns.compound1: Fraction(2, 3), ns.compound2: Fraction(1)}
    out = compute(app, ns.tenant_id, ev.id)
    assert out["assessments"] == 2 and out["lists"] == {"red": 0, "yellow": 0, "black": 1}

    r1 = assessment(app, ns.tenant_id, a1)
    i = std.items
    # a1 10 (review beats self 15) + a2 10 + b1 30 − 3×2 = 24 + b2 15 + d1 5 × 2/3 = 3.33 + c1 20 × 3/4 = 15
    assert r1["finals"][i["a1"]] == D("10.00") and r1["finals"][i["b1"]] == D("24.00")
    assert r1["finals"][i["d1"]] == D("3.33") and r1["finals"][i["c1"]] == D("15.00")
    assert r1["finals"][i["v1"]] is None
    assert r1["base"] == D("77.33")
    assert r1["bonus"] == D("5.00") and r1["breakdown"]["bonus_raw"] == "6.00"   # 3 + 3 capped at 5
    assert r1["total"] == D("82.33") and r1["stars"] == 4 and r1["list"] is None and r1["rank"] == 1
    assert [(c["name"], c["points"]) for c in r1["breakdown"]["categories"]] == [
        ("党建引领", "20.00"), ("基础服务", "42.33"), ("居民满意度", "15.00")]

    r2 = assessment(app, ns.tenant_id, a2)
    # a1 15 + a2 0 + b1 30 − 20×2 floored at 0 + b2 20 + d1 5 + c1 no survey → 0 (the default rule)
    assert r2["finals"][i["b1"]] == D("0.00")
    assert r2["finals"][i["c1"]] == D("0.00") and r2["breakdown"]["no_data"] == []
    assert r2["breakdown"]["survey_rules"] == {str(i["c1"]): "未开展满意度测评：按规则计 0 分"}
    assert r2["base"] == D("40.00") and r2["bonus"] == D("1.00") and r2["total"] == D("41.00")
    # 1 star: on the black list (≤ 2★) and below 75 (yellow) — black wins.
    assert r2["stars"] == 1 and r2["list"] == "black" and r2["rank"] == 2


def test_zero_black_veto_forces_zero_no_stars_and_black(app, world, rates):
    ns, std, ev = two_firm_cycle(app, world)
    a1, a2 = ev.a[(ns.firm1, ns.compound1)], ev.a[(ns.firm2, ns.compound2)]
    with app.app_context(), tenant_scope(ns.tenant_id):
        standard_entries(std, a1, a2)
        enter(std, a1, "v1", vetoed=True)
        db.session.commit()
    rates.survey = {ns.compound1: Fraction(3, 4), ns.compound2: None}
    rates.computed[("demand_on_time_rate", "compound")] = {ns.compound1: Fraction(2, 3), ns.compound2: Fraction(1)}
    compute(app, ns.tenant_id, ev.id)
    r1 = assessment(app, ns.tenant_id, a1)
    assert (r1["total"], r1["stars"], r1["list"], r1["vetoed"], r1["rank"]) == (D("0.00"), 0, "black", True, 2)
    assert r1["base"] == D("77.33")            # the sheet is kept; the veto zeroes the total
    assert r1["breakdown"]["vetoed_items"] == ["项目v1"]
    assert assessment(app, ns.tenant_id, a2)["rank"] == 1


def test_missing_entries_earn_nothing_and_computed_without_data_earns_full(app, world, rates):
    ns, std, ev = two_firm_cycle(app, world)
    rates.survey = {ns.compound1: None, ns.compound2: None}
    compute(app, ns.tenant_id, ev.id)        # nothing entered; no demand data, no survey at all
    r = assessment(app, ns.tenant_id, ev.a[(ns.firm1, ns.compound1)])
    assert r["total"] == D("5.00")            # d1 5 "无可计量数据"; c1 no survey → 0 by default
    assert r["breakdown"]["no_data"] == [std.items["d1"]]
    assert r["stars"] == 1 and r["list"] == "black"    # 1★ ≤ 2★ (also < 75: black before yellow)


# --- pure rules: veto effects, star boundaries, ties, list priority ---------------------------

def _item(i, kind="regular", cat=1, max_points="100", veto_effect=None):
    return SimpleNamespace(id=i, name=f"项{i}", kind=kind, category_id=cat, method="graded", scorer="community",
                           max_points=D(max_points), veto_effect=veto_effect, computed_key=None)


def _sheet(items, rules=RULES, bonus_cap="5"):
    return Sheet(items=items, first_category=1, bonus_cap=D(bonus_cap), cap=D("100") + D(bonus_cap),
                 star_bands=sorted(((D(b["min"]), b["stars"]) for b in BANDS), reverse=True), list_rules=rules)


ITEMS = [_item(1), _item(2, kind="veto", cat=None, max_points="0", veto_effect="black"),
         _item(3, kind="veto", cat=None, max_points="0", veto_effect="zero"),
         _item(4, kind="veto", cat=None, max_points="0", veto_effect="zero_black")]


def _one(points, vetoes=(), rules=RULES):
    sheet = _sheet(ITEMS, rules)
    entries = {1: (None, D(points), False), **{v: (None, None, True) for v in vetoes}}
    r = score_sheet(sheet, entries, lambda item: None)
    rank_and_list(sheet, [r])
    return r


def test_star_boundaries():
    assert _one("85.00").stars == 5 and _one("85.00").list_kind == "red"
    assert _one("84.99").stars == 4 and _one("84.99").list_kind is None
    assert _one("80.00").stars == 4 and _one("79.99").stars == 3
    assert _one("60.00").stars == 2 and _one("60.00").list_kind == "black"
    assert _one("0.00").stars == 1


def test_each_veto_effect():
    black = _one("90.00", vetoes=[2])
    assert (black.total, black.stars, black.list_kind) == (D("90.00"), 5, "black")     # score kept, listed black
    zero = _one("90.00", vetoes=[3], rules=[{"list": "yellow", "rule": "score_below", "value": "75"}])
    assert (zero.total, zero.stars, zero.list_kind) == (D("0.00"), 1, "yellow")        # zero, stars by the bands
    zb = _one("90.00", vetoes=[4], rules=[])
    assert (zb.total, zb.stars, zb.list_kind, zb.vetoed) == (D("0.00"), 0, "black", True)
    both = _one("90.00", vetoes=[2, 3], rules=[])
    assert (both.total, both.list_kind) == (D("0.00"), "black")                        # effects combine


def _ranked(rows, rules=()):
    """rows: (total, base, first category points) → the results ranked."""
    sheet = _sheet([], list(rules))
    out = []
    for total, base, first in rows:
        r = Result(total=D(total), base=D(base), first_category=1)
        r.categories = {1: D(first)}
        out.append(r)
    rank_and_list(sheet, out)
    return out


def test_ties_share_a_rank_and_the_next_rank_skips():
    rs = _ranked([("90", "90", "20"), ("85", "85", "20"), ("85", "85", "20"), ("80", "80", "20")])
    assert [r.rank for r in rs] == [1, 2, 2, 4]


def test_ties_broken_by_base_then_first_category():
    rs = _ranked([("85", "82", "25"), ("85", "85", "10"), ("85", "85", "12")])
    # equal totals: the higher base (less bonus) first; equal base: the higher first category
    assert [r.rank for r in rs] == [3, 2, 1]


def test_list_priority_black_then_yellow_then_red():
    rules = [{"list": "red", "rule": "top_rank", "value": 1}, {"list": "yellow", "rule": "score_below", "value": "90"},
             {"list": "black", "rule": "score_below", "value": "60"}]
    top, mid, low = _ranked([("95", "95", "0"), ("89", "89", "0"), ("50", "50", "0")], rules)
    assert (top.list_kind, mid.list_kind, low.list_kind) == ("red", "yellow", "black")
    alone = _ranked([("50", "50", "0")], rules)[0]          # rank 1 (red) and < 60 (black): black
    assert alone.rank == 1 and alone.list_kind == "black"
    honoured = _ranked([("89", "89", "0")], rules)[0]       # rank 1 (red) and < 90 (yellow): yellow
    assert honoured.list_kind == "yellow"


def test_bottom_rank_counts_ties():
    rs = _ranked([("90", "90", "0"), ("70", "70", "0"), ("70", "70", "0")],
                 [{"list": "black", "rule": "bottom_rank", "value": 1}])
    assert [r.list_kind for r in rs] == [None, "black", "black"]


# --- annual weighting ---------------------------------------------------------------------------

SIMPLE = [dict(key="s", cat="综合", method="graded", scorer="community", max="100",
               levels=[{"label": str(p), "points": str(p)} for p in (60, 70, 80, 90, 100)])]


def test_annual_weights_monthly_and_quarterly_means(app, world):
    ns = world["alpha"]
    u1, u2 = (ns.firm1, ns.compound1), (ns.firm2, ns.compound2)
    with app.app_context(), tenant_scope(ns.tenant_id):
        std = make_standard(SIMPLE, bonus_cap="0", weights={"monthly": 40, "quarterly": 60, "annual": 0})
        m1 = make_evaluation(std, [u1], kind="monthly", start=date(2026, 1, 1), end=date(2026, 1, 31))
        m2 = make_evaluation(std, [u1], kind="monthly", start=date(2026, 2, 1), end=date(2026, 2, 28))
        q1 = make_evaluation(std, [u1, u2], kind="quarterly", start=date(2026, 1, 1), end=date(2026, 3, 31))
        # Not counted: a cycle still under review, and one of the previous year.
        m3 = make_evaluation(std, [u1], kind="monthly", start=date(2026, 3, 1), end=date(2026, 3, 31),
                             status="reviewing")
        old = make_evaluation(std, [u1], kind="monthly", start=date(2025, 12, 1), end=date(2025, 12, 31))
        year = make_evaluation(std, [u1, u2], kind="annual", start=date(2026, 1, 1), end=date(2026, 12, 31))
        for ev, a, pts in ((m1, u1, "80"), (m2, u1, "90"), (q1, u1, "70"), (q1, u2, "90"), (m3, u1, "60"),
                           (old, u1, "60")):
            enter(std, ev.a[a], "s", review=pts)
        db.session.commit()
    for ev in (m1, m2, q1, m3, old):
        compute(app, ns.tenant_id, ev.id)
    compute(app, ns.tenant_id, year.id)
    r1 = assessment(app, ns.tenant_id, year.a[u1])
    # (80 + 90) / 2 = 85 × 40% + 70 × 60% = 34 + 42
    assert r1["total"] == D("76.00") and r1["stars"] == 3 and r1["rank"] == 2
    annual = r1["breakdown"]["annual"]
    assert annual["parts"] == {"monthly": "85.00", "quarterly": "70.00", "annual": "0.00"}
    assert annual["weights"] == {"monthly": "40.00", "quarterly": "60.00"} and annual["cycles"] == 3
    # Firm 2 had no monthly spot check: the quarterly mean carries all the weight.
    r2 = assessment(app, ns.tenant_id, year.a[u2])
    assert r2["total"] == D("90.00") and r2["breakdown"]["annual"]["weights"] == {"quarterly": "100.00"}
    assert r2["rank"] == 1 and r2["stars"] == 5


def test_annual_carries_a_cycle_veto(app, world):
    ns = world["alpha"]
    u1 = (ns.firm1, ns.compound1)
    spec = SIMPLE + [dict(key="v", kind="veto", method="yesno", scorer="community", max="0", veto_effect="zero_black")]
    with app.app_context(), tenant_scope(ns.tenant_id):
        std = make_standard(spec, bonus_cap="0", weights={"quarterly": 100})
        q1 = make_evaluation(std, [u1], start=date(2026, 1, 1), end=date(2026, 3, 31))
        q2 = make_evaluation(std, [u1], start=date(2026, 4, 1), end=date(2026, 6, 30))
        year = make_evaluation(std, [u1], kind="annual", start=date(2026, 1, 1), end=date(2026, 12, 31))
        enter(std, q1.a[u1], "s", review="90")
        enter(std, q2.a[u1], "s", review="90")
        enter(std, q2.a[u1], "v", vetoed=True)
        db.session.commit()
    for ev in (q1, q2, year):
        compute(app, ns.tenant_id, ev.id)
    r = assessment(app, ns.tenant_id, year.a[u1])
    assert r["breakdown"]["annual"]["parts"]["quarterly"] == "45.00"     # (90 + 0) / 2
    assert (r["total"], r["stars"], r["list"], r["vetoed"]) == (D("0.00"), 0, "black", True)


# --- set-based: the statement count does not grow with the assessments --------------------------

def _extra_units(ns, n):
    comm = db.session.get(org.Compound, ns.compound1).community_id
    units = []
    for k in range(n):
        firm = org.Firm(name=f"加测物业{k:02d}", credit_code=credit_code(9000 + k), party_status="无")
        comp = org.Compound(community_id=comm, name=f"加测小区{k:02d}", compound_type="商品房小区",
                            management_mode="专业物业")
        db.session.add_all([firm, comp])
        db.session.flush()
        db.session.add(org.Contract(firm_id=firm.id, compound_id=comp.id, start_date=date(2024, 1, 1),
                                    end_date=date(2030, 12, 31), service_grade="二级", fee_mode="包干制",
                                    fee_rate=D("0.85")))
        units.append((firm.id, comp.id))
    db.session.flush()
    return units


def _statements(app, tenant_id, evaluation_id) -> int:
    count = []

    def listener(*args, **kwargs):
        count.append(1)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            compute(app, tenant_id, evaluation_id)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return len(count)


def test_statement_count_does_not_grow_with_assessments(app, world, rates):
    ns = world["alpha"]
    rates.survey = {}
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        std = make_standard()
        small = make_evaluation(std, [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)], name="小")
        big = make_evaluation(std, [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)] + _extra_units(ns, 12),
                              name="大")
        for ev in (small, big):
            for aid in ev.a.values():
                enter(std, aid, "a1", self="10")
        db.session.commit()
    first_small, first_big = _statements(app, ns.tenant_id, small.id), _statements(app, ns.tenant_id, big.id)
    assert first_small == first_big
    # A recompute with nothing changed writes no item points: one statement fewer.
    assert _statements(app, ns.tenant_id, big.id) == first_big - 1
    with app.app_context(), tenant_scope(ns.tenant_id):
        ranks = db.session.execute(select(Assessment.rank).where(Assessment.evaluation_id == big.id)).scalars().all()
        assert ranks == [1] * 14     # all equal: one shared rank


def test_recompute_audits_changed_totals(app, world, rates):
    ns, std, ev = two_firm_cycle(app, world)
    a1 = ev.a[(ns.firm1, ns.compound1)]
    rates.survey = {ns.compound1: Fraction(1), ns.compound2: Fraction(1)}
    rates.computed[("demand_on_time_rate", "compound")] = {ns.compound1: Fraction(1), ns.compound2: Fraction(1)}
    with app.app_context(), tenant_scope(ns.tenant_id):
        enter(std, a1, "a1", self="15")
        db.session.commit()
    compute(app, ns.tenant_id, ev.id)
    with app.app_context(), tenant_scope(ns.tenant_id):
        enter(std, a1, "a1", self="15", review="5")
        db.session.commit()
    compute(app, ns.tenant_id, ev.id)
    with app.app_context(), tenant_scope(ns.tenant_id):
        events = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "assessment",
                                                             AuditEvent.entity_id == a1,
                                                             AuditEvent.label.like("重新计算%"))).scalars().all()
        assert [e.changes["total"] for e in events] == [{"before": "40.00", "after": "30.00"}]
        summaries = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "evaluation",
                                                                AuditEvent.entity_id == ev.id,
                                                                AuditEvent.label.like("计算考核结果%"))
                                       .order_by(AuditEvent.id)).scalars().all()
        assert [s.changes["changed_results"] for s in summaries] == [0, 1]


# --- who sees which results ---------------------------------------------------------------------

def _computed_pair(app, world, rates):
    ns, std, ev = two_firm_cycle(app, world)
    a1, a2 = ev.a[(ns.firm1, ns.compound1)], ev.a[(ns.firm2, ns.compound2)]
    with app.app_context(), tenant_scope(ns.tenant_id):
        standard_entries(std, a1, a2)
        db.session.commit()
    rates.survey = {ns.compound1: Fraction(3, 4), ns.compound2: None}
    rates.computed[("demand_on_time_rate", "compound")] = {ns.compound1: Fraction(2, 3), ns.compound2: Fraction(1)}
    compute(app, ns.tenant_id, ev.id)
    return ns, ev, a1, a2


def _publish(app, ns, ev_id):
    from wuye_saas.timeutil import now, today
    with app.app_context(), tenant_scope(ns.tenant_id):
        e = db.session.get(Evaluation, ev_id)
        e.status, e.published_at, e.appeal_until = "published", now(), today()
        db.session.commit()


def test_firm_sees_only_its_own_results_and_only_once_published(app, world, client, rates):
    ns, ev, a1, a2 = _computed_pair(app, world, rates)
    login(client, "alpha-firm")          # the manager of firm 1
    base = "/d/alpha/results/assessments"
    before = client.get(f"{base}/{a1}").get_data(as_text=True)
    assert "考核结果尚未发布" in before and "82.33" not in before
    assert client.get(f"{base}/{a2}").status_code == 404          # another firm's: does not exist for it
    assert client.get(f"/d/alpha/evaluations/{ev.id}/results").status_code == 403
    history = client.get("/d/alpha/results/firm").get_data(as_text=True)
    assert "待发布" in history and "82.33" not in history and "第2物业公司" not in history
    _publish(app, ns, ev.id)
    page = client.get(f"{base}/{a1}").get_data(as_text=True)
    assert 'data-testid="total">82.33<' in page and "现场检查不符" in page      # with the reviewer's reason
    assert client.get(f"{base}/{a2}").status_code == 404          # still not another firm's
    history = client.get("/d/alpha/results/firm").get_data(as_text=True)
    assert "82.33" in history and "1 / 2" in history and "41.00" not in history


def test_committee_sees_only_its_firms_published_result(app, world, client, rates):
    ns, ev, a1, a2 = _computed_pair(app, world, rates)
    login(client, "alpha-committee")     # committee of compound 1 (served by firm 1)
    assert client.get(f"/d/alpha/results/assessments/{a1}").status_code == 404     # not yet published
    assert "还没有已发布" in client.get("/d/alpha/results/compound").get_data(as_text=True)
    _publish(app, ns, ev.id)
    page = client.get("/d/alpha/results/compound").get_data(as_text=True)
    assert "甲区第1物业公司" in page and "82.33" in page
    assert "甲区第2物业公司" not in page and "41.00" not in page
    detail = client.get(f"/d/alpha/results/assessments/{a1}").get_data(as_text=True)
    assert "82.33" in detail and "现场检查不符" not in detail       # no reviewers' notes for the committee
    assert client.get(f"/d/alpha/results/assessments/{a2}").status_code == 404


def _ranking_rows(html: str) -> str:
    return html.split('data-testid="ranking"', 1)[1] if 'data-testid="ranking"' in html else ""


def test_rankings_filters_and_excel_for_district_and_street(app, world, client, rates):
    from io import BytesIO

    from openpyxl import load_workbook
    ns, ev, a1, a2 = _computed_pair(app, world, rates)
    login(client, "alpha-district")
    url = f"/d/alpha/evaluations/{ev.id}/results"
    page = _ranking_rows(client.get(url).get_data(as_text=True))
    assert "82.33" in page and "41.00" in page
    black = _ranking_rows(client.get(f"{url}?list=black").get_data(as_text=True))
    assert "41.00" in black and "82.33" not in black
    four = _ranking_rows(client.get(f"{url}?stars=4").get_data(as_text=True))
    assert "82.33" in four and "41.00" not in four
    street2 = _ranking_rows(client.get(f"{url}?street={ns.street2}").get_data(as_text=True))
    assert "41.00" in street2 and "82.33" not in street2
    resp = client.get(f"/d/alpha/evaluations/{ev.id}/results.xlsx")
    assert resp.status_code == 200
    rows = list(load_workbook(BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert rows[0][:10] == ("排名", "物业企业", "小区", "街道", "社区", "基础分", "加分", "总分", "星级", "榜单")
    assert [(r[0], r[1], float(r[7]), r[8], r[9]) for r in rows[1:]] == [
        (1, "甲区第1物业公司", 82.33, 4, None), (2, "甲区第2物业公司", 41.0, 1, "黑榜")]
    # The street of branch 1 sees its own compound's row only (ranks stay district-wide).
    client.post("/logout")
    login(client, "alpha-street")
    street = _ranking_rows(client.get(url).get_data(as_text=True))
    assert "82.33" in street and "41.00" not in street


# --- survey items without a valid survey ---------------------------------------------------------

RULE_SHEET = [dict(key=f"s_{rule}", cat="居民满意度", method="computed", scorer="survey", max="10", rule=rule)
              for rule in ("zero", "gathered", "last", "full")]


def _households_to(ns, compound: str, n: int) -> list[int]:
    from wuye_saas.org.models import Household
    cid, bid = getattr(ns, compound), getattr(ns, "building" + compound[-1])
    have = db.session.execute(select(Household.id).where(Household.compound_id == cid)).scalars().all()
    for k in range(len(have), n):
        db.session.add(Household(compound_id=cid, building_id=bid, room=f"3{k:02d}", floor=3,
                                 floor_area=D("60.00"), owner_name="王五",
                                 household_code=f"{ns.slug[:2].upper()}{compound[-1]}R{k:03d}"))
    db.session.flush()
    return db.session.execute(select(Household.id).where(Household.compound_id == cid)
                              .order_by(Household.id)).scalars().all()


def _survey(std, ev_id, compound_id, households, answers: list[str]):
    """A survey of the compound in the evaluation; household k answers every item with answers[k]."""
    from wuye_saas.evaluation.models import Survey, SurveyResponse
    s = Survey(evaluation_id=ev_id, compound_id=compound_id, opens_on=date(2025, 1, 1), closes_on=date(2026, 12, 31))
    db.session.add(s)
    db.session.flush()
    for hid, answer in zip(households, answers):
        db.session.add(SurveyResponse(survey_id=s.id, household_id=hid,
                                      answers={str(i): answer for i in std.items.values()}))
    db.session.flush()


def _rule_standard():
    std = make_standard(RULE_SHEET, rules=[], bonus_cap="0", total="40")
    for spec in RULE_SHEET:
        db.session.get(StandardItem, std.items[spec["key"]]).no_survey_rule = spec["rule"]
    db.session.flush()
    return std


def test_each_rule_for_a_compound_without_a_valid_survey(app, world):
    """Compound 2 has 10 households and 5 answers (coverage 50% < 70%): each item follows its
    own rule. Compound 1's valid survey scores every item the same, whatever the rule."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        std = _rule_standard()
        hh1, hh2 = _households_to(ns, "compound1", 4), _households_to(ns, "compound2", 10)
        units = [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)]
        older = make_evaluation(std, units, start=date(2025, 7, 1), end=date(2025, 9, 30), name="2025年第三季度")
        prev = make_evaluation(std, units, start=date(2025, 10, 1), end=date(2025, 12, 31), name="2025年第四季度")
        ev = make_evaluation(std, units)                                      # 2026 Q1
        later = make_evaluation(std, units, start=date(2026, 4, 1), end=date(2026, 6, 30), name="2026年第二季度")
        # Compound 2's history: Q3 all satisfied (rate 1), Q4 6 of 7 satisfied (valid, 6/7), Q2
        # after the cycle all satisfied — the most recent EARLIER valid survey is Q4's.
        _survey(std, older.id, ns.compound2, hh2, ["satisfied"] * 7)
        _survey(std, prev.id, ns.compound2, hh2, ["satisfied"] * 5 + ["basically", "unsatisfied"])
        _survey(std, later.id, ns.compound2, hh2, ["satisfied"] * 8)
        # This cycle: compound 1 valid (4 of 4 households, 3 satisfied: 3/4); compound 2 5 of 10
        # households, 4 basically satisfied and 1 not (gathered 16 of 20 answers: 4/5).
        _survey(std, ev.id, ns.compound1, hh1, ["satisfied"] * 3 + ["unsatisfied"])
        _survey(std, ev.id, ns.compound2, hh2, ["basically"] * 4 + ["unsatisfied"])
        db.session.commit()
    compute(app, ns.tenant_id, ev.id)
    i = {spec["rule"]: std.items[spec["key"]] for spec in RULE_SHEET}
    r2 = assessment(app, ns.tenant_id, ev.a[(ns.firm2, ns.compound2)])
    # zero 0; gathered 10 × 4/5 = 8; last 10 × 6/7 = 8.571… → 8.57; full 10.
    assert [r2["finals"][i[k]] for k in ("zero", "gathered", "last", "full")] == [
        D("0.00"), D("8.00"), D("8.57"), D("10.00")]
    assert r2["total"] == D("26.57")
    why = "未达有效测评（覆盖率 50%，需 ≥ 70%）"
    assert r2["breakdown"]["survey_rules"] == {
        str(i["zero"]): f"{why}：按规则计 0 分",
        str(i["gathered"]): f"{why}：按规则按已收 5 份答卷的满意率 80% 计分",
        str(i["last"]): f"{why}：按规则沿用上次有效测评（2025年第四季度）的满意率 85.7%",
        str(i["full"]): f"{why}：按规则计满分"}
    r1 = assessment(app, ns.tenant_id, ev.a[(ns.firm1, ns.compound1)])
    assert [r1["finals"][i[k]] for k in ("zero", "gathered", "last", "full")] == [D("7.50")] * 4
    assert r1["total"] == D("30.00") and r1["breakdown"]["survey_rules"] == {}


def test_no_survey_at_all_and_no_earlier_one(app, world, client):
    """No survey opened and none before: gathered and last have nothing to use and count 0;
    the result page says why next to the item."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        std = _rule_standard()
        _households_to(ns, "compound2", 10)
        ev = make_evaluation(std, [(ns.firm2, ns.compound2)])
        db.session.commit()
    compute(app, ns.tenant_id, ev.id)
    a2 = ev.a[(ns.firm2, ns.compound2)]
    r = assessment(app, ns.tenant_id, a2)
    i = {spec["rule"]: std.items[spec["key"]] for spec in RULE_SHEET}
    assert [r["finals"][i[k]] for k in ("zero", "gathered", "last", "full")] == [
        D("0.00"), D("0.00"), D("0.00"), D("10.00")]
    assert r["breakdown"]["survey_rules"][str(i["gathered"])] == \
        "未开展满意度测评：按规则按已收答卷的满意率计分，尚无答卷，计 0 分"
    assert r["breakdown"]["survey_rules"][str(i["last"])] == \
        "未开展满意度测评：按规则沿用上次有效测评的满意率，此前没有有效测评，计 0 分"
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/results/assessments/{a2}").get_data(as_text=True)
    assert "未开展满意度测评：按规则计 0 分" in page and "未开展满意度测评：按规则计满分" in page
