"""How one item turns an entry into points — the one place every score passes through (the
self-report, the review, the assessor, the results job).

- graded:    the points must be one of the item's levels.
- deduction: a count of occurrences; points = max − count × per occurrence, never below zero.
- yesno:     full points or zero.
- points:    any points from 0 to max (an opinion, e.g. the owners' committee's).
- computed:  max × rate, rounded half-up to 0.01; the rate comes from data (indicators or the
             resident survey), never typed in.
Points are Decimal with two places.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ..formutil import POINTS, parse_decimal
from .models import StandardItem

CENT = Decimal("0.01")


class ScoreProblem(ValueError):
    def __init__(self, message: str, field: str = "points"):
        super().__init__(message)
        self.message = message
        self.field = field


def to_points(value) -> Decimal:
    """A typed number as points with two places; ScoreProblem for anything else."""
    d = parse_decimal(value)
    if d is None:
        raise ScoreProblem("请填写数字分值")
    if d != d.quantize(CENT):
        raise ScoreProblem("分值最多保留两位小数")
    if abs(d) > POINTS[1]:
        raise ScoreProblem(f"分值不能超过 {POINTS[1]:,} 分")
    return d.quantize(CENT)


def level_points(item: StandardItem) -> list[Decimal]:
    return [to_points(level["points"]) for level in item.levels or []]


def item_points(item: StandardItem, *, points=None, occurrences=None) -> Decimal:
    """The points an entry earns on `item`, or ScoreProblem with a Chinese message."""
    top = Decimal(item.max_points).quantize(CENT)
    if item.method == "computed":
        raise ScoreProblem(f"“{item.name}”由系统数据计算，不能手工打分")
    if item.method == "deduction":
        if occurrences is None or str(occurrences).strip() == "":
            raise ScoreProblem(f"请填写“{item.name}”的扣分次数", "occurrences")
        try:
            n = int(str(occurrences).strip())
        except ValueError:
            raise ScoreProblem("扣分次数须为整数", "occurrences") from None
        if n < 0:
            raise ScoreProblem("扣分次数不能为负数", "occurrences")
        return max(Decimal("0.00"), top - n * Decimal(item.deduction_per or 0)).quantize(CENT)
    if points is None or str(points).strip() == "":
        raise ScoreProblem(f"请为“{item.name}”打分")
    p = to_points(points)
    if item.method == "yesno":
        if p not in (Decimal("0.00"), top):
            raise ScoreProblem(f"“{item.name}”为是/否项，只能得 {top} 分或 0 分")
        return p
    if item.method == "points":
        if p < 0 or p > top:
            raise ScoreProblem(f"“{item.name}”的得分须在 0 到 {top} 分之间")
        return p
    # graded
    allowed = level_points(item)
    if p not in allowed:
        raise ScoreProblem(f"“{item.name}”只能按档次得分：" + "、".join(str(a) for a in allowed))
    return p


def computed_points(item: StandardItem, rate: Fraction | None) -> Decimal | None:
    """max × rate rounded half-up; None when there is no rate to score with."""
    if rate is None:
        return None
    rate = min(max(Fraction(rate), Fraction(0)), Fraction(1))
    exact = Fraction(Decimal(item.max_points)) * rate
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)
