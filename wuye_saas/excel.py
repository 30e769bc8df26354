"""Cells of the Excel exports that are numbers stay numbers: a rate is its fraction shown with a
percent format, money is 元 shown with a 元 format, so a district can sum, sort and chart them
in Excel. Text like "52.0%" or "1,234.50" would only look right."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PERCENT = "0.0%"             # the pages' one decimal: 0.52 → 52.0%
YUAN = '#,##0.00"元"'


@dataclass(frozen=True)
class Num:
    """A value with the number format its cell gets."""
    value: object
    format: str


def pct(num: int, den: int) -> Num:
    """num/den rounded as the pages round (0.1 %, half up); empty when there is nothing to measure."""
    if den <= 0:
        return Num(None, PERCENT)
    return Num(float((Decimal(num) / Decimal(den)).quantize(Decimal("0.001"), ROUND_HALF_UP)), PERCENT)


def yuan(fen: int) -> Num:
    return Num((Decimal(int(fen)) / 100).quantize(Decimal("0.01")), YUAN)


def append(ws, values) -> None:
    """ws.append with each Num's value, and its format on its cell."""
    ws.append([v.value if isinstance(v, Num) else v for v in values])
    for cell, v in zip(ws[ws.max_row], values):
        if isinstance(v, Num):
            cell.number_format = v.format
