"""The maintenance fund's rules (专项维修资金, 建设部/财政部令165 and 北京市物业管理条例):
- first deposit (首期): per ㎡, 5%–8% of the local construction cost per ㎡ (令165 第七条), both
  set by the district (FundRule); a household's first deposit is that × its floor area;
- low fund: the balance is below 30% of the first deposit (北京 第83条; 令165 第十七条 续交).
  "Below" is strict: exactly 30% is not low. The first deposit is what was posted as 首期交存;
- public revenue (北京 第74条, where the district adopts it): while the fund is low, each
  public-revenue income moves at least half of it (the district's percentage, rounded up to
  the 分) into the fund, as a pair of entries in the same transaction.
Plain functions: they flush, the caller commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select, true

from .. import audit, policy
from ..extensions import db
from ..money import fmt_yuan
from ..org.models import Building, Compound, Household
from . import ledger, subaccounts
from .models import FundRule, LedgerEntry

KIND = subaccounts.KIND
FIRST = subaccounts.FIRST
LOW_PERCENT = 30
RATE_MIN, RATE_MAX = Decimal(5), Decimal(8)
COST_MAX_FEN = 10_000_000          # 10 万元/㎡: no construction cost comes near it
REVENUE_IN = "公共收益转入"          # the fund's side of the 北京 第74条 pair
REVENUE_OUT = "补充维修资金"         # the public revenue's side
DEPOSIT_CATEGORIES = [FIRST, "续筹"]


class FundProblem(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


def rule() -> FundRule | None:
    return db.session.execute(select(FundRule)).scalar_one_or_none()


def set_rule(cost_fen: int | None, rate: Decimal | None, revenue_rule: bool,
             revenue_percent: Decimal | None) -> FundRule:
    """Store the district's settings; FundProblem ({field: message}) and nothing written when bad."""
    errors = {}
    if cost_fen is None or cost_fen <= 0:
        errors["cost"] = "请填写本地住宅建筑安装工程每平方米造价（大于 0 元）。"
    elif cost_fen > COST_MAX_FEN:
        errors["cost"] = "每平方米造价不能超过 100,000 元。"
    if rate is None:
        errors["rate"] = "请填写首期交存比例。"
    elif not RATE_MIN <= rate <= RATE_MAX:
        errors["rate"] = "首期交存比例应在 5% 至 8% 之间（《住宅专项维修资金管理办法》第七条）。"
    if revenue_percent is None:
        errors["revenue_percent"] = "请填写公共收益补充维修资金的比例。"
    elif not Decimal(50) <= revenue_percent <= Decimal(100):
        errors["revenue_percent"] = "补充比例应在 50% 至 100% 之间（《北京市物业管理条例》第七十四条：百分之五十以上）。"
    if errors:
        raise FundProblem(errors)
    r = rule() or FundRule()
    r.cost_fen_per_m2, r.rate_percent = cost_fen, rate
    r.revenue_rule, r.revenue_percent = bool(revenue_rule), revenue_percent
    db.session.add(r)
    db.session.flush()
    return r


def per_m2_fen(r: FundRule) -> Decimal:
    """The first deposit per ㎡ in 分 (not rounded: a household's amount is rounded once)."""
    return Decimal(r.cost_fen_per_m2) * Decimal(r.rate_percent) / 100


def standard_amounts(compound_id: int, r: FundRule) -> dict[int, int]:
    """household id → its first deposit at the district's standard, half up to the 分."""
    per = per_m2_fen(r)
    rows = db.session.execute(select(Household.id, Household.floor_area).where(Household.compound_id == compound_id))
    out = {hid: int((per * Decimal(area or 0)).quantize(Decimal(1), ROUND_HALF_UP)) for hid, area in rows}
    return {hid: fen for hid, fen in out.items() if fen > 0}


# --- the 30% rule ------------------------------------------------------------------------------

def is_low(balance: int, first: int) -> bool:
    """Strictly below 30% of the first deposit (integers: no rounding at the boundary)."""
    return first > 0 and balance * 100 < first * LOW_PERCENT


@dataclass(frozen=True)
class Status:
    balance: int
    first: int

    @property
    def low(self) -> bool:
        return is_low(self.balance, self.first)

    @property
    def percent(self) -> str:
        """The balance as a share of the first deposit, two decimals, rounded down (29.999% is
        shown as 29.99%, never as the 30.00% that would not warn)."""
        if self.first <= 0:
            return "—"
        pct = (Decimal(self.balance) * 100 / Decimal(self.first)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
        return f"{pct}%"

    @property
    def top_up(self) -> int:
        """What brings the balance back to 30% of the first deposit (rounded up to the 分)."""
        need = -(-(self.first * LOW_PERCENT) // 100) - self.balance
        return max(need, 0)


def _sums():
    e = LedgerEntry
    return (func.coalesce(func.sum(e.amount_fen), 0),
            func.coalesce(func.sum(case((e.category == FIRST, e.amount_fen), else_=0)), 0))


def status(compound_id: int) -> Status:
    bal, first = db.session.execute(select(*_sums()).where(LedgerEntry.compound_id == compound_id,
                                                           LedgerEntry.kind == KIND)).one()
    return Status(int(bal), int(first))


def statuses(compound_ids: list[int]) -> dict[int, Status]:
    rows = db.session.execute(select(LedgerEntry.compound_id, *_sums()).where(
        LedgerEntry.compound_id.in_(compound_ids), LedgerEntry.kind == KIND).group_by(LedgerEntry.compound_id))
    return {cid: Status(int(b), int(f)) for cid, b, f in rows}


def low_compounds(m=None):
    """A select of the compound ids whose fund is below 30% of its first deposit; given a
    membership, of its compounds only (summed through the ledger's compound index, not the whole
    district's ledger and then narrowed: a community's to-do card read every compound's entries)."""
    bal, first = _sums()
    stmt = select(LedgerEntry.compound_id).where(LedgerEntry.kind == KIND)
    if m is not None and policy.visible(m, Compound) is not true():
        stmt = stmt.where(LedgerEntry.compound_id.in_(select(Compound.id).where(policy.visible(m, Compound))))
    return stmt.group_by(LedgerEntry.compound_id).having(first > 0, bal * 100 < first * LOW_PERCENT)


def compounds_select(m, q: str = "", low: bool = False):
    """The compounds in the membership's scope, for the fund overview (optionally the low ones)."""
    stmt = select(Compound).where(policy.visible(m, Compound)).order_by(Compound.name, Compound.id)
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()))
    if low:
        stmt = stmt.where(Compound.id.in_(low_compounds(m)))
    return stmt


# --- writes --------------------------------------------------------------------------------------

@dataclass
class Posting:
    entry_date: date
    counterparty: str = ""
    voucher_no: str = ""
    note: str = ""


def _check_date(p: Posting, today: date) -> dict:
    return {"entry_date": "记账日期不能晚于今天"} if p.entry_date > today else {}


def deposit_standard(compound_id: int, p: Posting, today: date, user=None) -> LedgerEntry:
    """首期交存 of every household at the district's standard (one entry, its parts per household)."""
    errors = _check_date(p, today)
    r = rule()
    if r is None:
        errors["mode"] = "本区尚未设置首期交存标准（每平方米造价和交存比例），请联系区物业管理部门。"
    amounts = standard_amounts(compound_id, r) if r else {}
    if r and not amounts:
        errors["mode"] = "该小区尚未登记房屋面积，无法逐户计算首期交存额。"
    if errors:
        raise FundProblem(errors)
    return _post(compound_id, FIRST, sum(amounts.values()), p, user,
                 {"basis": "standard", "amounts": amounts},
                 p.note or f"首期交存：{fmt_yuan(r.cost_fen_per_m2)}/㎡ × {r.rate_percent.normalize():f}%，逐户按面积计算")


def deposit_lump(compound_id: int, category: str, amount_fen: int | None, p: Posting, today: date,
                 user=None) -> LedgerEntry:
    """A deposit of a total amount spread over the households by floor area."""
    errors = _check_date(p, today)
    if category not in DEPOSIT_CATEGORIES:
        errors["category"] = "请选择首期交存或续筹。"
    if not amount_fen or amount_fen <= 0:
        errors["amount"] = "请填写交存总额（大于 0 元）。"
    if errors:
        raise FundProblem(errors)
    return _post(compound_id, category, amount_fen, p, user, {"basis": "area"}, p.note)


def use(compound_id: int, amount_fen: int | None, building_ids: list[int] | None, p: Posting, today: date,
        user=None) -> LedgerEntry:
    """A use of the fund shared by the area of the households it concerns: the whole compound
    (`building_ids` None) or the chosen buildings of it."""
    errors = _check_date(p, today)
    if not amount_fen or amount_fen <= 0:
        errors["amount"] = "请填写使用金额（大于 0 元）。"
    if not p.counterparty.strip():
        errors["counterparty"] = "请填写施工单位或收款人。"
    if building_ids is not None:
        own = set(db.session.execute(select(Building.id).where(Building.compound_id == compound_id)).scalars())
        if not building_ids or not set(building_ids) <= own:
            errors["buildings"] = "请选择本小区中本次使用涉及的楼栋。"
    balance = ledger.balance(compound_id, KIND)
    if amount_fen and amount_fen > balance and "amount" not in errors:
        errors["amount"] = f"维修资金余额 {fmt_yuan(balance)}，不足以支出 {fmt_yuan(amount_fen)}。"
    if errors:
        raise FundProblem(errors)
    shares = {"basis": "buildings", "building_ids": building_ids} if building_ids is not None else {"basis": "area"}
    return _post(compound_id, "使用支出", -amount_fen, p, user, shares, p.note)


def _post(compound_id, category, amount_fen, p: Posting, user, shares, note) -> LedgerEntry:
    try:
        return ledger.add_entry(compound_id, KIND, p.entry_date, category, amount_fen, counterparty=p.counterparty,
                                voucher_no=p.voucher_no, note=note, user=user, shares=shares)
    except ledger.LedgerProblem as exc:
        raise FundProblem({exc.field if exc.field in ("amount", "buildings") else "mode": str(exc)}) from exc


def revenue_transfer(income: LedgerEntry, user=None) -> tuple[LedgerEntry, LedgerEntry] | None:
    """北京 第74条 on a public-revenue income just posted: while the fund is below 30% of its
    first deposit (before this income), the district's share of it, rounded up to the 分, leaves
    the public revenue and enters the fund — both entries visible in their ledgers, in the same
    transaction as the income. None when the district has not adopted the rule or the fund is
    not low."""
    r = rule()
    if r is None or not r.revenue_rule or income.kind != "public_revenue" or income.amount_fen <= 0:
        return None
    st = status(income.compound_id)
    if not st.low:
        return None
    amount = int((Decimal(income.amount_fen) * Decimal(r.revenue_percent) / 100).to_integral_value(ROUND_CEILING))
    pct = f"{Decimal(r.revenue_percent).normalize():f}%"
    note = (f"依《北京市物业管理条例》第七十四条：维修资金余额 {fmt_yuan(st.balance)} 不足首期交存额 "
            f"{fmt_yuan(st.first)} 的 30%，本笔公共收益（#{income.id}）的 {pct} 补充维修资金")
    out = ledger.add_entry(income.compound_id, "public_revenue", income.entry_date, REVENUE_OUT, -amount,
                           counterparty="专项维修资金", voucher_no=income.voucher_no, note=note[:200], user=user)
    into = ledger.add_entry(income.compound_id, KIND, income.entry_date, REVENUE_IN, amount,
                            counterparty="公共收益", voucher_no=income.voucher_no, note=note[:200], user=user)
    audit.record_event("create", "ledger_entry", f"公共收益补充维修资金 {fmt_yuan(amount)}",
                       changes={"income": income.id, "out": out.id, "into": into.id, "percent": pct,
                                "fund_balance": st.balance, "first_deposit": st.first})
    return out, into
