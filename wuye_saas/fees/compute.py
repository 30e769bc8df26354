"""How one month's fee of a household splits into government, firm and resident parts.

Plain values in, plain values out (no ORM, no request), so simulation, billing and the
million-household benchmark share exactly this code.

The rounding rule (the only one):
1. base = legal floor area × rate, rounded half up to 分 (or the flat 分 per household);
2. exact shares: government by the policy (never above the base; all of it during the
   先尝后买 months), firm = (base − government) × the household's concession percent (the
   highest of its classes that month), resident = the rest;
3. the three exact shares are turned into 分 by largest remainder (money.allocate): none is
   negative and they add up to the base exactly. When the policy caps the government part of a
   compound's month, the cap is first shared over the households by largest remainder in
   proportion to their exact government shares.
4. The cap holds for the compound's month whatever the order bills are issued in. A
   household billed after others of its month (registered late) gets its exact government
   share only out of what is left of the cap: the cap less the government part of the
   month's bills already issued for the compound, net of credit notes on them (what the
   government finally owes, as claimed). When several households are billed together they
   share what is left as in 3; when nothing is left they get no government part and pay the
   rest as in 2. A run never splits a compound, so a compound billed in one run (or resumed
   after a crash) gets exactly what one pass over all its households gives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..money import allocate, to_fen

HUNDRED = Decimal(100)
MEMO_MAX = 50_000  # splits a memo keeps (compound_month) before it starts again


class PricingProblem(ValueError):
    """A compound cannot be billed under the policy (reason in Chinese)."""


@dataclass(frozen=True)
class GradePrice:
    rate: Decimal | None = None          # 元/㎡·月
    flat_fen: int | None = None          # 分/户·月
    float_percent: Decimal | None = None  # 政府指导价: actual price within rate ± this %


@dataclass(frozen=True)
class Terms:
    """A policy version as plain values."""
    policy_id: int
    basis: str = "per_m2"
    regime: str = "市场调节价"
    grades: dict = field(default_factory=dict)          # grade → GradePrice
    gov_mode: str = "none"
    gov_percent: Decimal | None = None
    gov_per_m2: Decimal | None = None
    gov_schedule: tuple = ()                            # 元/㎡·月 for contract year 1, 2, …
    gov_trial_months: int = 0
    gov_cap_fen: int | None = None
    holdback_percent: Decimal | None = None
    concessions: dict = field(default_factory=dict)     # household_class_id → percent


@dataclass(frozen=True)
class ContractTerms:
    firm_id: int | None
    grade: str
    rate: Decimal | None   # the firm's actual price (元/㎡·月)
    start: date


@dataclass(frozen=True)
class Parts:
    rate: Decimal
    base: int
    gov: int
    firm: int
    resident: int
    holdback: int


def terms_of(policy) -> Terms:
    """Terms from a FeePolicy row (with its grades and concessions loaded)."""
    return Terms(
        policy_id=policy.id, basis=policy.basis, regime=policy.price_regime,
        grades={g.grade: GradePrice(g.rate, g.flat_fen, g.float_percent) for g in policy.grades},
        gov_mode=policy.gov_mode, gov_percent=policy.gov_percent, gov_per_m2=policy.gov_per_m2,
        gov_schedule=tuple(Decimal(str(x)) for x in (policy.gov_schedule or [])),
        gov_trial_months=policy.gov_trial_months or 0, gov_cap_fen=policy.gov_cap_fen,
        holdback_percent=policy.holdback_percent,
        concessions={c.household_class_id: c.percent for c in policy.concessions})


def month_index(start: date, month: date) -> int:
    """0 for the contract's first month (the month it starts in), 1 for the next, …"""
    return (month.year - start.year) * 12 + month.month - start.month


def unit_price(terms: Terms, contract: ContractTerms) -> tuple[Decimal, int | None]:
    """(rate 元/㎡·月 or 元/户·月, flat 分 per household or None) for the contract's grade."""
    price = terms.grades.get(contract.grade)
    if price is None:
        raise PricingProblem(f"收费政策未设置{contract.grade}服务的价格")
    if terms.basis == "per_household":
        if price.flat_fen is None:
            raise PricingProblem(f"收费政策未设置{contract.grade}服务的每户收费")
        return Decimal(price.flat_fen) / HUNDRED, price.flat_fen
    if price.rate is None:
        raise PricingProblem(f"收费政策未设置{contract.grade}服务的单价")
    if terms.regime == "政府指导价":
        spread = price.float_percent or Decimal(0)
        low = price.rate * (HUNDRED - spread) / HUNDRED
        high = price.rate * (HUNDRED + spread) / HUNDRED
        actual = contract.rate
        if actual is None or not (low <= actual <= high):
            raise PricingProblem(f"合同实际收费 {actual} 元/㎡·月 超出指导价 {price.rate}±{spread}% 的范围")
        return actual, None
    return price.rate, None


def base_fen(terms: Terms, rate: Decimal, flat: int | None, area: Decimal) -> int:
    return flat if flat is not None else to_fen(area * rate)


def gov_exact(terms: Terms, contract: ContractTerms, month: date, area: Decimal, base: int) -> Decimal:
    """The government's exact share in 分 (a Decimal), never above the base."""
    idx = month_index(contract.start, month)
    if 0 <= idx < terms.gov_trial_months:
        return Decimal(base)
    if terms.gov_mode == "percent":
        share = Decimal(base) * (terms.gov_percent or 0) / HUNDRED
    elif terms.gov_mode == "per_m2":
        share = area * (terms.gov_per_m2 or 0) * HUNDRED
    elif terms.gov_mode == "declining":
        year = max(idx, 0) // 12
        amount = terms.gov_schedule[year] if year < len(terms.gov_schedule) else Decimal(0)
        share = area * amount * HUNDRED
    else:
        share = Decimal(0)
    return min(max(share, Decimal(0)), Decimal(base))


def concession_percent(terms: Terms, class_ids) -> Decimal:
    return max((terms.concessions.get(c, Decimal(0)) for c in class_ids), default=Decimal(0))


def split(terms: Terms, rate: Decimal, base: int, gov: Decimal, class_ids) -> Parts:
    firm = (Decimal(base) - gov) * concession_percent(terms, class_ids) / HUNDRED
    resident = Decimal(base) - gov - firm
    g, f, r = allocate(base, [gov, firm, resident])
    hold = to_fen(Decimal(g + r) * (terms.holdback_percent or 0) / HUNDRED / HUNDRED)
    return Parts(rate=rate, base=base, gov=g, firm=f, resident=r, holdback=hold)


def compound_month(terms: Terms, contract: ContractTerms, month: date, households,
                   gov_issued: int = 0, memo: dict | None = None) -> list[Parts]:
    """Parts for each (area, class_ids) of one compound's month still to bill, the cap
    applied; `gov_issued` is the government part its month's issued bills already hold
    (after credit notes): only the rest of the cap is shared (rule 4).

    `memo` keeps the splits already made under these terms (a billing run passes one per policy
    version across its compounds): a split depends only on its price, base, exact government
    share and classes, and flats of one layout share all four — most of a run's households."""
    rate, flat = unit_price(terms, contract)
    bases = [base_fen(terms, rate, flat, area) for area, _ in households]
    govs = [gov_exact(terms, contract, month, area, b) for (area, _), b in zip(households, bases)]
    if terms.gov_cap_fen is not None:
        left = max(terms.gov_cap_fen - gov_issued, 0)
        if sum(govs) > left:
            govs = [Decimal(x) for x in allocate(left, govs)]
    if memo is None:
        return [split(terms, rate, b, g, classes) for (_, classes), b, g in zip(households, bases, govs)]
    if len(memo) > MEMO_MAX:
        memo.clear()  # a district whose every flat differs would keep a split per household
    parts = []
    for (_, classes), b, g in zip(households, bases, govs):
        key = (rate, b, g, frozenset(classes))
        p = memo.get(key)
        if p is None:
            p = memo[key] = split(terms, rate, b, g, classes)
        parts.append(p)
    return parts
