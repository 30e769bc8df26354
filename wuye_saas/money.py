"""Money is integer 分 everywhere it is stored; this module shows, rounds and splits it."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def fmt_yuan(fen: int | None) -> str:
    """12345 → '¥123.45', with thousands separators and a sign for negatives."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"



def allocate(total: int, weights: list[Decimal]) -> list[int]:
    """Split `total` 分 in proportion to `weights` (largest remainder): the parts are
    non-negative integers that add up to `total` exactly; ties go to the earlier weight."""
    if total < 0:
        raise ValueError("total must not be negative")
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum <= 0:
        return [total] + [0] * (len(weights) - 1) if total else [0] * len(weights)
    exact = [Decimal(total) * w / weight_sum for w in weights]
    parts = [int(e) for e in exact]  # floor: exact shares are never negative here
    short = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:short]:
        parts[i] += 1
    return parts


def to_fen(yuan: Decimal) -> int:
    """Decimal 元 → integer 分, half up (the rounding of a single amount)."""
    return int((yuan * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
