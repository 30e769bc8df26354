"""The decision of an owner vote (民法典 第278条), counted in exact fractions — never floats.

Inputs are plain values, so the rule can be tested at its exact boundaries:
- every exclusive unit (专有部分) of the compound: its floor area in 0.01 ㎡ (解释 第8条), its
  owner key and whether it is a developer's unsold/undelivered unit;
- the ballots: household id → "agree" / "disagree" / "abstain".

Headcount (建筑物区分所有权解释 第9条): one person per unit, except that all units with the same
owner key are one person, and all developer units together are one person. A unit with an
empty owner key is its own person.

Thresholds ("以上" includes the number itself, 民法典 第1259条; "过半数" is strictly more):
- participation: participating area ≥ 2/3 of all area AND participating persons ≥ 2/3 of all;
- approval, among the participants: ≥ 3/4 of area AND of persons for 筹集维修资金, 改建重建 and
  改变共有部分用途 (SUPERMAJORITY); otherwise > 1/2 of area AND of persons.
An abstention participates but does not agree.

A person whose units voted differently (conservative reading): each unit's area counts with its
own choice; for the headcount the person participates once and agrees only if every one of
their voting units agreed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .models import MATTERS, SUPERMAJORITY

PARTICIPATION = Fraction(2, 3)
SUPER = Fraction(3, 4)
HALF = Fraction(1, 2)


def approval_words(matter: str) -> str:
    return "四分之三以上（≥ 3/4）" if matter in SUPERMAJORITY else "过半数（> 1/2，须多于一半）"


def conditions(matter: str) -> list[str]:
    """The matter's legal pass conditions in words, as the notice and the vote page state them."""
    need = approval_words(matter)
    return [f"参与表决：参与表决的专有部分面积占全部专有部分面积的三分之二以上（≥ {_frac(PARTICIPATION)}），"
            f"且参与表决人数占总人数的三分之二以上（≥ {_frac(PARTICIPATION)}）",
            f"通过：同意的专有部分面积占参与表决面积的{need}，且同意人数占参与表决人数的{need}；"
            "弃权计入参与表决，不计入同意"]


@dataclass(frozen=True)
class Unit:
    household_id: int
    area_centi: int          # floor area × 100, exact
    owner_key: str = ""
    developer: bool = False

    @property
    def person(self) -> tuple:
        if self.developer:
            return ("developer",)
        if self.owner_key.strip():
            return ("owner", self.owner_key.strip())
        return ("unit", self.household_id)


@dataclass(frozen=True)
class Test:
    label: str
    part: int
    whole: int
    threshold: Fraction
    strict: bool             # "more than" rather than "at least"
    unit: str                # "㎡" or "人"

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.part, self.whole) if self.whole else Fraction(0)

    @property
    def ok(self) -> bool:
        if not self.whole:
            return False     # nobody to count: nothing can pass
        return self.ratio > self.threshold if self.strict else self.ratio >= self.threshold

    def figures(self) -> str:
        sign = (">" if self.strict else "≥") if self.ok else ("≤" if self.strict else "<")
        return (f"{_amount(self.part, self.unit)} / {_amount(self.whole, self.unit)} = "
                f"{_percent(self.ratio)} {sign} {_frac(self.threshold)} {'✓' if self.ok else '✗'}")

    def explain(self) -> str:
        return f"{self.label} {self.figures()}"


@dataclass(frozen=True)
class Decision:
    matter: str
    total_area: int
    part_area: int
    agree_area: int
    total_heads: int
    part_heads: int
    agree_heads: int
    tests: list[Test] = field(default_factory=list)

    @property
    def participation_ok(self) -> bool:
        return all(t.ok for t in self.tests[:2])

    @property
    def approval_ok(self) -> bool:
        return all(t.ok for t in self.tests[2:])

    @property
    def passed(self) -> bool:
        return self.participation_ok and self.approval_ok

    @property
    def lines(self) -> list[str]:
        return [t.explain() for t in self.tests]

    @property
    def summary(self) -> str:
        if not self.participation_ok:
            return "参与表决的专有部分面积或人数未达到三分之二以上，表决不成立。"
        if not self.approval_ok:
            need = "四分之三以上" if self.matter in SUPERMAJORITY else "过半数"
            return f"同意的面积或人数未达到参与表决业主的{need}，事项未通过。"
        return "表决成立，事项通过。"

    def as_dict(self) -> dict:
        """What is stored on the vote and published: exact fractions as "n/d" strings."""
        return {"matter": self.matter, "matter_label": MATTERS.get(self.matter, self.matter),
                "supermajority": self.matter in SUPERMAJORITY, "passed": self.passed,
                "total_area_centi": self.total_area, "part_area_centi": self.part_area,
                "agree_area_centi": self.agree_area, "total_heads": self.total_heads,
                "part_heads": self.part_heads, "agree_heads": self.agree_heads,
                "tests": [{"label": t.label, "ratio": str(t.ratio), "threshold": str(t.threshold),
                           "strict": t.strict, "ok": t.ok} for t in self.tests],
                "lines": self.lines, "summary": self.summary}


def decide(matter: str, units: list[Unit], ballots: dict[int, str]) -> Decision:
    """Count the ballots (household id → choice) over all units of the compound."""
    total_area = sum(u.area_centi for u in units)
    persons: dict[tuple, list[str]] = {}          # person → choices of their voting units
    part_area = agree_area = 0
    for u in units:
        persons.setdefault(u.person, [])
        choice = ballots.get(u.household_id)
        if choice is None:
            continue
        persons[u.person].append(choice)
        part_area += u.area_centi
        if choice == "agree":
            agree_area += u.area_centi
    total_heads = len(persons)
    part_heads = sum(1 for cs in persons.values() if cs)
    agree_heads = sum(1 for cs in persons.values() if cs and all(c == "agree" for c in cs))
    return decision(matter, total_area, part_area, agree_area, total_heads, part_heads, agree_heads)


def decision(matter: str, total_area: int, part_area: int, agree_area: int, total_heads: int, part_heads: int,
             agree_heads: int) -> Decision:
    """The four legal tests on counted figures (the SQL count in roll.py gives them per item)."""
    need, strict = (SUPER, False) if matter in SUPERMAJORITY else (HALF, True)
    tests = [Test("参与表决面积", part_area, total_area, PARTICIPATION, False, "㎡"),
             Test("参与表决人数", part_heads, total_heads, PARTICIPATION, False, "人"),
             Test("同意面积（占参与表决面积）", agree_area, part_area, need, strict, "㎡"),
             Test("同意人数（占参与表决人数）", agree_heads, part_heads, need, strict, "人")]
    return Decision(matter, total_area, part_area, agree_area, total_heads, part_heads, agree_heads, tests)


def _amount(value: int, unit: str) -> str:
    if unit == "㎡":
        return f"{Decimal(value) / 100:,.2f}㎡"
    return f"{value:,}人"


def _percent(r: Fraction) -> str:
    pct = (Decimal(r.numerator) * 100 / Decimal(r.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{pct}%"


def _frac(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"
