"""Money is integer 分 everywhere it is stored; this module shows it."""
from __future__ import annotations


def fmt_yuan(fen: int | None) -> str:
    """12345 → '¥123.45', with thousands separators and a sign for negatives."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"

