"""The decision of an owner vote at its exact boundaries (民法典 第278条, 解释 第9条, 第1259条)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from wuye_saas.votes.counting import Unit, decide
from wuye_saas.votes.models import MATTERS, SUPERMAJORITY

SIMPLE = sorted(set(MATTERS) - SUPERMAJORITY)
SUPER = sorted(SUPERMAJORITY)


def build(*specs):
    """specs: (area ㎡ as text, choice or None[, owner_key[, developer]]) → (units, ballots)."""
    units, ballots = [], {}
    for i, spec in enumerate(specs, start=1):
        area, choice, owner, dev = (list(spec) + ["", False])[:4]
        units.append(Unit(i, int(Decimal(area) * 100), owner, dev))
        if choice:
            ballots[i] = choice
    return units, ballots


def run(matter, *specs):
    return decide(matter, *build(*specs))


# --- participation: ≥ 2/3 of area AND ≥ 2/3 of heads, for every matter --------------------

@pytest.mark.parametrize("matter", sorted(MATTERS))
def test_participation_area_exactly_two_thirds_passes_one_centi_below_fails(matter):
    # Five agreeing voters hold exactly 200.00 of 300.00 ㎡ (heads 5/6, well above).
    at = run(matter, *[("40.00", "agree")] * 5, ("100.00", None))
    assert (at.part_area, at.total_area) == (20000, 30000)
    assert at.tests[0].ratio == Fraction(2, 3) and at.participation_ok and at.passed
    below = run(matter, *[("40.00", "agree")] * 4, ("39.99", "agree"), ("100.01", None))
    assert below.tests[0].ratio == Fraction(19999, 30000)
    assert below.tests[1].ok  # heads still 5/6: only the area fails
    assert not below.participation_ok and not below.passed


@pytest.mark.parametrize("matter", sorted(MATTERS))
def test_participation_heads_exactly_two_thirds_passes_one_head_below_fails(matter):
    # 9 owners; the 6 voters hold nearly all the area, so only the headcount is at stake.
    at = run(matter, *[("100.00", "agree")] * 6, *[("0.01", None)] * 3)
    assert (at.part_heads, at.total_heads) == (6, 9)
    assert at.participation_ok and at.passed
    below = run(matter, *[("100.00", "agree")] * 5, *[("0.01", None)] * 4)
    assert (below.part_heads, below.total_heads) == (5, 9)
    assert below.tests[0].ok and not below.tests[1].ok
    assert not below.passed


# --- approval of ordinary matters: more than half (exactly half fails) ---------------------

@pytest.mark.parametrize("matter", SIMPLE)
def test_simple_matter_area_exactly_half_fails_just_above_passes(matter):
    half = run(matter, ("100.00", "agree"), ("50.00", "agree"), ("150.00", "disagree"))
    assert half.tests[2].ratio == Fraction(1, 2) and half.tests[3].ratio == Fraction(2, 3)
    assert not half.tests[2].ok and not half.passed
    above = run(matter, ("100.01", "agree"), ("50.00", "agree"), ("150.00", "disagree"))
    assert above.tests[2].ratio == Fraction(15001, 30001) and above.passed


@pytest.mark.parametrize("matter", SIMPLE)
def test_simple_matter_heads_exactly_half_fails_one_more_passes(matter):
    half = run(matter, ("100.00", "agree"), ("100.00", "agree"), ("10.00", "disagree"), ("10.00", "disagree"))
    assert half.tests[3].ratio == Fraction(1, 2) and half.tests[2].ok
    assert not half.passed
    above = run(matter, ("100.00", "agree"), ("100.00", "agree"), ("0.01", "agree"),
                ("10.00", "disagree"), ("10.00", "disagree"))
    assert above.tests[3].ratio == Fraction(3, 5) and above.passed


@pytest.mark.parametrize("matter", SIMPLE)
def test_simple_matter_passes_with_two_thirds_agreeing(matter):
    assert run(matter, ("100.00", "agree"), ("100.00", "agree"), ("100.00", "disagree")).passed


# --- approval of 筹集维修资金, 改建重建, 改变共有部分用途: at least three quarters -------------

@pytest.mark.parametrize("matter", SUPER)
def test_supermajority_exactly_three_quarters_passes(matter):
    d = run(matter, *[("100.00", "agree")] * 3, ("100.00", "disagree"))
    assert d.tests[2].ratio == Fraction(3, 4) and d.tests[3].ratio == Fraction(3, 4)
    assert d.passed


@pytest.mark.parametrize("matter", SUPER)
def test_supermajority_area_one_centi_below_three_quarters_fails(matter):
    d = run(matter, ("100.00", "agree"), ("100.00", "agree"), ("99.99", "agree"), ("100.01", "disagree"))
    assert d.tests[2].ratio == Fraction(29999, 40000) and d.tests[3].ok
    assert not d.passed


@pytest.mark.parametrize("matter", SUPER)
def test_supermajority_heads_one_below_three_quarters_fails(matter):
    # 8 participants: 6 agreeing is exactly 3/4, 5 is one head below (area stays far above).
    at = run(matter, *[("100.00", "agree")] * 6, ("0.01", "disagree"), ("0.01", "disagree"))
    assert at.tests[3].ratio == Fraction(3, 4) and at.passed
    below = run(matter, *[("100.00", "agree")] * 5, ("0.01", "disagree"), ("0.01", "disagree"), ("0.01", "abstain"))
    assert below.tests[3].ratio == Fraction(5, 8) and below.tests[2].ok
    assert not below.passed


@pytest.mark.parametrize("matter", SUPER)
def test_supermajority_fails_with_two_thirds_that_would_pass_an_ordinary_matter(matter):
    specs = (("100.00", "agree"), ("100.00", "agree"), ("100.00", "disagree"))
    assert not run(matter, *specs).passed
    assert run("use_fund", *specs).passed


# --- headcount of 解释 第9条 ----------------------------------------------------------------

def test_owner_of_several_units_counts_once():
    d = run("use_fund", *[("90.00", "agree", "王五")] * 4, ("90.00", None, "赵六"), ("90.00", None, "钱七"))
    assert (d.total_heads, d.part_heads, d.agree_heads) == (3, 1, 1)
    # Two thirds of the area takes part, but only one of three owners: not enough.
    assert d.tests[0].ok and not d.tests[1].ok and not d.passed


def test_developer_units_count_as_one_together():
    d = run("use_fund", *[("100.00", "agree", f"开发商{i}", True) for i in range(4)],
            ("80.00", "disagree", "甲"), ("80.00", None, "乙"))
    assert (d.total_heads, d.part_heads, d.agree_heads) == (3, 2, 1)
    assert d.total_area == 56000 and d.agree_area == 40000
    assert not d.passed  # agree heads 1/2 is not more than half


def test_units_without_owner_key_count_one_each():
    d = run("use_fund", ("50.00", "agree"), ("50.00", "agree"))
    assert d.total_heads == 2


def test_owner_with_mixed_choices_counts_area_per_unit_and_agrees_only_if_all_units_agree():
    d = run("use_fund", ("100.00", "agree", "王五"), ("50.00", "disagree", "王五"), ("60.00", "agree", "赵六"))
    assert d.agree_area == 16000 and d.part_area == 21000
    assert (d.part_heads, d.agree_heads) == (2, 1)


def test_abstentions_take_part_but_do_not_agree():
    d = run("use_fund", ("100.00", "agree"), ("100.00", "abstain"), ("100.00", "abstain"))
    assert d.participation_ok and d.tests[2].ratio == Fraction(1, 3)
    assert not d.passed
    assert "未通过" in d.summary


def test_nobody_voting_fails_without_dividing_by_zero():
    d = run("use_fund", ("100.00", None), ("100.00", None))
    assert not d.passed and d.tests[2].ratio == 0 and "不成立" in d.summary


# --- explanation and exactness -------------------------------------------------------------

def test_explanation_lines_are_exact_chinese_sentences():
    d = run("use_fund", ("6667.00", "agree"), ("3333.00", None, "", False))
    assert d.lines[0] == "参与表决面积 6,667.00㎡ / 10,000.00㎡ = 66.67% ≥ 2/3 ✓"
    assert d.lines[1] == "参与表决人数 1人 / 2人 = 50.00% < 2/3 ✗"
    assert d.lines[2] == "同意面积（占参与表决面积） 6,667.00㎡ / 6,667.00㎡ = 100.00% > 1/2 ✓"
    half = run("use_fund", ("1.00", "agree"), ("1.00", "disagree"))
    assert half.lines[2].endswith("= 50.00% ≤ 1/2 ✗")


def test_ratios_are_fractions_and_stored_as_exact_strings():
    d = run("raise_fund", ("1.00", "agree"), ("2.00", "agree"), ("3.00", None))
    assert all(isinstance(t.ratio, Fraction) for t in d.tests)
    stored = d.as_dict()
    assert stored["tests"][0]["ratio"] == "1/2" and stored["tests"][0]["threshold"] == "2/3"
    assert stored["supermajority"] is True and stored["passed"] is False
