"""Checks on register data that forms and imports share."""
from __future__ import annotations

from decimal import Decimal

from ..formutil import AREA_M2, parse_decimal

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet (no I, O, Z, S, V).
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code_problem(code: str) -> str | None:
    """None if `code` is a valid 统一社会信用代码, else the reason in Chinese."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return "统一社会信用代码应为 18 位"
    bad = [c for c in code if c not in _CODE_CHARS]
    if bad:
        return f"统一社会信用代码含有无效字符“{bad[0]}”"
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(code[:17], _WEIGHTS))
    expected = _CODE_CHARS[(31 - total % 31) % 31]
    if code[17] != expected:
        return "统一社会信用代码校验位不正确"
    return None


def credit_code_check_char(first17: str) -> str:
    """The check character for 17 leading characters (used to make valid demo codes)."""
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CODE_CHARS[(31 - total % 31) % 31]


def area_problem(value, bounds=AREA_M2) -> str | None:
    """None for a positive area with at most two decimals within bounds (a household's by
    default, formutil.COMPOUND_AREA_M2 for a compound), else the reason."""
    d = parse_decimal(value)
    if d is None:
        return "面积应为数字"
    low, high = bounds
    if d < low:
        return "面积必须大于 0"
    if d != d.quantize(Decimal("0.01")):
        return "面积最多保留两位小数"
    if d > high:
        return f"面积不能超过 {high:,} ㎡"
    return None
