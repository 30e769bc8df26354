"""Hand-computed bills for every policy shape, and the split's invariants (hypothesis).

Conventions below: base = area × rate rounded half up to 分; exact shares are split into
whole 分 by largest remainder (ties to the earlier part: government, firm, resident).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from wuye_saas.money import to_fen
from wuye_saas.fees.compute import (
    ContractTerms, GradePrice, PricingProblem, Terms, compound_month, month_index,
)

LOW, EXTREME, DISABLED = 1, 2, 3  # household class ids: 低保, 特困, 残疾
START = date(2024, 1, 1)
JUNE = date(2024, 6, 1)


def terms(**kw) -> Terms:
    kw.setdefault("grades", {"二级": GradePrice(rate=D("0.85"))})
    return Terms(policy_id=1, **kw)


def contract(rate="0.85", start=START, grade="二级") -> ContractTerms:
    return ContractTerms(firm_id=7, grade=grade, rate=D(rate), start=start)


def one(t: Terms, area="88.50", classes=(), month=JUNE, c=None):
    [p] = compound_month(t, c or contract(), month, [(D(area), frozenset(classes))])
    return (p.base, p.gov, p.firm, p.resident, p.holdback)


def test_market_rate_per_m2():
    # 88.50 × 0.85 = 75.225 元 = 7522.5 分 → half up 7523; the resident pays it all.
    assert one(terms()) == (7523, 0, 0, 7523, 0)


def test_flat_per_household():
    t = terms(basis="per_household", grades={"二级": GradePrice(flat_fen=3000)})
    [p] = compound_month(t, contract(), JUNE, [(D("150.00"), frozenset())])
    # The area does not matter: 30.00 元/户·月.
    assert (p.rate, p.base, p.gov, p.firm, p.resident) == (D("30"), 3000, 0, 0, 3000)


def test_percent_government():
    # 100 m² × 0.85 = 8500; 30 % → 2550 exactly; resident 5950.
    assert one(terms(gov_mode="percent", gov_percent=D("30")), area="100.00") == (8500, 2550, 0, 5950, 0)
    # 7523 × 30 % = 2256.9, resident 5266.1: floors 2256 + 5266 = 7522, the missing 分 goes to
    # the larger remainder (.9, government).
    assert one(terms(gov_mode="percent", gov_percent=D("30"))) == (7523, 2257, 0, 5266, 0)


def test_rounding_where_naive_rounding_would_not_add_up():
    # 7523 × 50 % = 3761.5 government; 低保 50 % of the other 3761.5 = 1880.75 firm, 1880.75
    # resident. Naive half-up per part: 3762 + 1881 + 1881 = 7524 ≠ 7523. Largest remainder:
    # floors 3761 + 1880 + 1880 = 7521, two 分 short; remainders .5 / .75 / .75 → firm, resident.
    t = terms(gov_mode="percent", gov_percent=D("50"), concessions={LOW: D("50")})
    assert one(t, classes={LOW}) == (7523, 3761, 1881, 1881, 0)
    # A tie of remainders: 低保 50 % of 7523 without government = 3761.5 / 3761.5 → the earlier
    # part (firm) gets the odd 分: 3762 / 3761.
    assert one(terms(concessions={LOW: D("50")}), classes={LOW}) == (7523, 0, 3762, 3761, 0)


def test_per_m2_government():
    # 88.50 × 0.30 元 = 26.55 元 = 2655 分; resident 7523 − 2655 = 4868.
    assert one(terms(gov_mode="per_m2", gov_per_m2=D("0.30"))) == (7523, 2655, 0, 4868, 0)


@pytest.mark.parametrize("month, gov", [
    (date(2024, 1, 1), 3000),    # contract year 1: 100 m² × 0.30 = 30.00 元
    (date(2024, 12, 1), 3000),   # month 12 of year 1
    (date(2025, 1, 1), 2000),    # year 2: × 0.20
    (date(2026, 6, 1), 1000),    # year 3: × 0.10
    (date(2027, 1, 1), 0),       # after the schedule: nothing
])
def test_declining_by_contract_year(month, gov):
    t = terms(gov_mode="declining", gov_schedule=(D("0.30"), D("0.20"), D("0.10")))
    assert one(t, area="100.00", month=month) == (8500, gov, 0, 8500 - gov, 0)


def test_trial_months_then_normal_share():
    # Contract from 15 March: March is month 0, so March–August (6 months) are free.
    c = contract(start=date(2024, 3, 15))
    t = terms(gov_mode="percent", gov_percent=D("30"), gov_trial_months=6, concessions={LOW: D("50")})
    assert month_index(c.start, date(2024, 8, 1)) == 5
    assert one(t, area="100.00", classes={LOW}, month=date(2024, 3, 1), c=c) == (8500, 8500, 0, 0, 0)
    assert one(t, area="100.00", classes={LOW}, month=date(2024, 8, 1), c=c) == (8500, 8500, 0, 0, 0)
    # September: 30 % = 2550; 低保 50 % of the remaining 5950 = 2975 each.
    assert one(t, area="100.00", classes={LOW}, month=date(2024, 9, 1), c=c) == (8500, 2550, 2975, 2975, 0)


def test_cap_per_compound_shared_by_largest_remainder():
    # Three households of 100 m²: 30.00 元 each = 9000 > cap 8000. Shared in proportion:
    # 2666.67 each → floors 7998, the two missing 分 go to the first two (tie → earlier).
    # Naive rounding would give 2667 × 3 = 8001, above the cap.
    t = terms(gov_mode="per_m2", gov_per_m2=D("0.30"), gov_cap_fen=8000)
    parts = compound_month(t, contract(), JUNE, [(D("100.00"), frozenset())] * 3)
    assert [(p.base, p.gov, p.resident) for p in parts] == [(8500, 2667, 5833), (8500, 2667, 5833),
                                                            (8500, 2666, 5834)]
    assert sum(p.gov for p in parts) == 8000
    # Under the cap nothing changes: 2 × 3000 = 6000 ≤ 8000.
    parts = compound_month(t, contract(), JUNE, [(D("100.00"), frozenset())] * 2)
    assert [p.gov for p in parts] == [3000, 3000]


def test_a_late_household_gets_only_what_is_left_of_the_cap():
    # The month: cap 5,000 分, two households of 2,500 already issued (5,000). The
    # third, registered late, gets no government part and pays its whole base.
    t = terms(gov_mode="per_m2", gov_per_m2=D("0.25"), gov_cap_fen=5000)
    first = compound_month(t, contract(), JUNE, [(D("100.00"), frozenset())] * 2)
    assert [p.gov for p in first] == [2500, 2500]
    [late] = compound_month(t, contract(), JUNE, [(D("100.00"), frozenset())], gov_issued=5000)
    assert (late.base, late.gov, late.resident) == (8500, 0, 8500)
    # 1,200 left (a credit note took 1,200 off): two late households share it as rule 3.
    late = compound_month(t, contract(), JUNE, [(D("100.00"), frozenset()), (D("50.00"), frozenset())],
                          gov_issued=3800)
    assert [(p.gov, p.resident) for p in late] == [(800, 7700), (400, 3850)]
    # Below the cap a late household keeps its exact share.
    [late] = compound_month(t, contract(), JUNE, [(D("100.00"), frozenset())], gov_issued=2500)
    assert late.gov == 2500


def test_concessions_by_class():
    t = terms(gov_mode="percent", gov_percent=D("30"), concessions={LOW: D("50"), EXTREME: D("100")})
    # 低保: government 2550, firm 50 % of 5950 = 2975, resident 2975.
    assert one(t, area="100.00", classes={LOW}) == (8500, 2550, 2975, 2975, 0)
    # 特困: the firm waives all the rest.
    assert one(t, area="100.00", classes={EXTREME}) == (8500, 2550, 5950, 0, 0)
    # A class without a concession (残疾) pays like anyone.
    assert one(t, area="100.00", classes={DISABLED}) == (8500, 2550, 0, 5950, 0)


def test_highest_of_several_classes():
    t = terms(concessions={LOW: D("50"), EXTREME: D("100")})
    assert one(t, area="100.00", classes={LOW, EXTREME, DISABLED}) == (8500, 0, 8500, 0, 0)


def test_holdback():
    # 10 % of the firm's income (government + resident): 7523 × 10 % = 752.3 → 752.
    assert one(terms(holdback_percent=D("10"))) == (7523, 0, 0, 7523, 752)
    # With 30 % government: income 2257 + 5266 = 7523 → 752 as well; with 低保 50 %:
    # 2550 + 2975 = 5525 → 552.5 → half up 553.
    t = terms(holdback_percent=D("10"), gov_mode="percent", gov_percent=D("30"), concessions={LOW: D("50")})
    assert one(t, area="100.00", classes={LOW}) == (8500, 2550, 2975, 2975, 553)


def test_government_guided_price():
    t = terms(regime="政府指导价", grades={"二级": GradePrice(rate=D("1.00"), float_percent=D("20"))})
    # Range 0.80–1.20; the contract's actual 0.85 is billed: 88.50 × 0.85 → 7523.
    [p] = compound_month(t, contract("0.85"), JUNE, [(D("88.50"), frozenset())])
    assert (p.rate, p.base) == (D("0.85"), 7523)
    # The upper bound is inside: 100 × 1.20 = 12000.
    assert one(t, area="100.00", c=contract("1.20"))[0] == 12000
    with pytest.raises(PricingProblem, match="超出指导价"):
        compound_month(t, contract("1.30"), JUNE, [(D("88.50"), frozenset())])
    with pytest.raises(PricingProblem, match="超出指导价"):
        compound_month(t, contract("0.79"), JUNE, [(D("88.50"), frozenset())])


def test_grade_without_price():
    with pytest.raises(PricingProblem, match="一级"):
        compound_month(terms(), contract(grade="一级"), JUNE, [(D("88.50"), frozenset())])


# --- properties ------------------------------------------------------------------------------

def decimals(lo: str, hi: str, places: int):
    return st.decimals(min_value=D(lo), max_value=D(hi), places=places, allow_nan=False, allow_infinity=False)


percent = decimals("0", "100", 2)
households = st.lists(st.tuples(decimals("0.01", "999.99", 2),
                                st.frozensets(st.sampled_from([LOW, EXTREME, DISABLED]))),
                      min_size=1, max_size=25)


@st.composite
def policies(draw):
    gov_mode = draw(st.sampled_from(["none", "percent", "per_m2", "declining"]))
    return terms(
        grades={"二级": GradePrice(rate=draw(decimals("0", "5", 4)))},
        gov_mode=gov_mode, gov_percent=draw(percent), gov_per_m2=draw(decimals("0", "6", 4)),
        gov_schedule=tuple(draw(st.lists(decimals("0", "6", 4), max_size=4))),
        gov_trial_months=draw(st.integers(0, 12)),
        gov_cap_fen=draw(st.none() | st.integers(0, 1_000_000)),
        holdback_percent=draw(st.none() | percent),
        concessions=draw(st.dictionaries(st.sampled_from([LOW, EXTREME, DISABLED]), percent)))


@settings(max_examples=300, deadline=None)
@given(t=policies(), homes=households,
       start=st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)),
       offset=st.integers(0, 60))
def test_parts_never_negative_and_add_up(t, homes, start, offset):
    y, m = divmod(start.year * 12 + start.month - 1 + offset, 12)
    month = date(y, m + 1, 1)
    c = ContractTerms(firm_id=1, grade="二级", rate=None, start=start)
    parts = compound_month(t, c, month, homes)
    assert len(parts) == len(homes)
    for (area, _), p in zip(homes, parts):
        assert p.base == to_fen(area * t.grades["二级"].rate)
        assert min(p.gov, p.firm, p.resident, p.holdback) >= 0
        assert p.gov + p.firm + p.resident == p.base
        assert p.holdback <= p.gov + p.resident
    if t.gov_cap_fen is not None:
        assert sum(p.gov for p in parts) <= t.gov_cap_fen


@settings(max_examples=200, deadline=None)
@given(t=policies(), homes=households, cut=st.integers(0, 25))
def test_the_cap_holds_whatever_order_households_are_billed_in(t, homes, cut):
    """Billing some households, then the rest later (rule 4), never exceeds the cap."""
    c = ContractTerms(firm_id=1, grade="二级", rate=None, start=START)
    first = compound_month(t, c, JUNE, homes[:cut])
    issued = sum(p.gov for p in first)
    later = compound_month(t, c, JUNE, homes[cut:], gov_issued=issued)
    if t.gov_cap_fen is not None:
        assert issued + sum(p.gov for p in later) <= t.gov_cap_fen
    for p in later:
        assert min(p.gov, p.firm, p.resident) >= 0 and p.gov + p.firm + p.resident == p.base


@settings(max_examples=200, deadline=None)
@given(t=policies(), homes=households, more=households, rate=decimals("0", "5", 4))
def test_a_run_s_memo_of_splits_gives_what_computing_each_gives(t, homes, more, rate):
    """A billing run keeps the splits it made under a policy version across compounds (two
    compounds here, the second at another contract price): the parts are the same as without."""
    memo = {}
    for c, group in ((ContractTerms(firm_id=1, grade="二级", rate=None, start=START), homes),
                     (ContractTerms(firm_id=2, grade="二级", rate=rate, start=START), more + homes)):
        assert compound_month(t, c, JUNE, group, memo=memo) == compound_month(t, c, JUNE, group)
