"""The content of each publication template, built from the data.

A content dict is {"lines": [{"key", "label", "value"}], …}: every line has a stable key so an
objection (质询) can point at it. Ledger figures are also kept as numbers under "statements"
(one snapshot per ledger used), so a later re-check can compare them with the ledger.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..fees.models import BASES, FeeAssignment, FeePolicy
from ..money import fmt_yuan
from ..org.models import Compound
from ..fees.payments import mask_name
from . import ledger, subaccounts
from .accounts import current_contract
from .models import LEDGER_KINDS, FundAllocation

HOTLINE = "12358"  # 全国价格举报电话 (明码标价规定 第六条)

TEMPLATES = {"standing_notice": "收费公示（明码标价）", "disclosure": "物业服务信息公开（民法典第943条）",
             "ledger_statement": "账目收支公示", "committee_news": "业委会工作动态",
             "committee_rules": "管理规约与议事规则", "committee_fees": "业委会委员缴费情况",
             "annual_budget": "酬金制年度预算", "annual_account": "酬金制年度决算"}
# Published by the compound's committee (业委会/物管会), not by the firm.
COMMITTEE_TEMPLATES = ("committee_news", "committee_rules", "committee_fees")
# Published by the firm of the compound's current 酬金制 contract (reports.annual_report).
REMUNERATED_TEMPLATES = ("annual_budget", "annual_account")

# Defaults the firm may change before publishing.
STANDING_DEFAULTS = {
    "payer": "本小区全体业主及物业使用人",
    "items": "物业服务费",
    "basis_text": "《物业服务收费管理办法》《物业服务收费明码标价规定》、物业服务合同及本区物业服务收费政策",
}


class ContentProblem(ValueError):
    """The data a template needs is missing or a period is wrong (message in Chinese; `field`
    names the form field it belongs to, None for the compound's data)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def line(key: str, value: str, label: str | None = None, **extra) -> dict:
    return {"key": key, "label": label or key, "value": value, **extra}


def _num(d: Decimal) -> str:
    """Decimal('0.8500') → '0.85'; Decimal('1') → '1.00'."""
    s = format(Decimal(d).normalize(), "f")
    whole, _, frac = s.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _cn(d: date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def fee_policy_of(compound_id: int, on: date) -> FeePolicy | None:
    """The active version of the fee policy family assigned to the compound on that day."""
    a = db.session.execute(select(FeeAssignment).where(
        FeeAssignment.compound_id == compound_id, FeeAssignment.valid_from <= on,
        or_(FeeAssignment.valid_to.is_(None), FeeAssignment.valid_to >= on))
        .order_by(FeeAssignment.valid_from.desc()).limit(1)).scalar_one_or_none()
    if a is None:
        return None
    family = func.coalesce(FeePolicy.family_id, FeePolicy.id)
    return db.session.execute(select(FeePolicy).where(
        family == a.family_id, FeePolicy.status == "active", FeePolicy.valid_from <= on,
        or_(FeePolicy.valid_to.is_(None), FeePolicy.valid_to >= on))
        .options(selectinload(FeePolicy.grades)).order_by(FeePolicy.valid_from.desc()).limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class Price:
    regime: str
    basis: str
    standard: str                # the fee standard actually charged, as text
    base: str | None = None      # 政府指导价: base price
    spread: str | None = None    # 政府指导价: float range
    rate: Decimal | None = None  # what billing charges: 元/㎡·月 …
    flat_fen: int | None = None  # … or 分 per household

    def key(self) -> dict:
        """The billed price as plain values, kept in the notice so billing can compare."""
        return {"rate": _num(self.rate) if self.rate is not None else None, "flat_fen": self.flat_fen}


def price_of(compound_id: int, on: date) -> Price:
    """The price from the contract and the compound's fee policy (as billing reads it)."""
    c = current_contract(compound_id, on)
    if c is None:
        raise ContentProblem("该小区当前没有有效的物业服务合同")
    p = fee_policy_of(compound_id, on)
    g = next((x for x in (p.grades if p else []) if x.grade == c.service_grade), None)
    if p is None or g is None:
        # No district policy for this compound: the contract's rate is the market price.
        return Price("市场调节价", BASES["per_m2"], f"{_num(c.fee_rate)} 元/㎡·月", rate=c.fee_rate)
    if p.basis == "per_household" and g.flat_fen is not None:
        return Price(p.price_regime, BASES[p.basis], f"{fmt_yuan(g.flat_fen).lstrip('¥')} 元/户·月",
                     flat_fen=g.flat_fen)
    if p.price_regime == "政府指导价":
        spread = g.float_percent or Decimal(0)
        return Price(p.price_regime, BASES[p.basis], f"{_num(c.fee_rate)} 元/㎡·月",
                     base=f"{_num(g.rate)} 元/㎡·月", spread=f"上下浮动不超过 {_num(spread)}%", rate=c.fee_rate)
    return Price(p.price_regime, BASES[p.basis], f"{_num(g.rate)} 元/㎡·月", rate=g.rate)


def standing_notice(compound_id: int, on: date, texts: dict, applies_from: date | None = None) -> dict:
    """明码标价规定 第六条: the eleven items, and under 政府指导价 base price, float range and
    actual price. `texts`: payer, service_content, items, basis_text (the firm's wording).
    `applies_from` (a later day): a changed price noticed ahead — posted at least a month before
    it applies, which billing checks (fees/billing.py, PRICE_NOTICE_MONTHS)."""
    applies_from = applies_from or on
    if applies_from < on:
        raise ContentProblem("执行日期不能早于今天", "applies_from")
    c = current_contract(compound_id, applies_from)
    if c is None:
        raise ContentProblem("该小区在执行日期没有有效的物业服务合同", "applies_from" if applies_from > on else None)
    price = price_of(compound_id, applies_from)
    lines = [
        line("企业名称", c.firm.name),
        line("收费对象", texts["payer"]),
        line("服务内容", texts["service_content"]),
        line("服务标准", f"物业服务合同约定的{c.service_grade}物业服务标准"),
        line("计费方式", f"{price.basis}，按月计收（{c.fee_mode}）"),
        line("计费起始时间", _cn(c.start_date)),
        line("收费项目", texts["items"]),
        line("收费标准", price.standard),
        line("价格管理形式", price.regime),
        line("收费依据", texts["basis_text"]),
        line("价格举报电话", HOTLINE),
    ]
    if price.regime == "政府指导价":
        lines += [line("基准价", price.base), line("浮动幅度", price.spread),
                  line("实际收费标准", price.standard)]
    lines.append(line("执行日期", _cn(applies_from)))
    return {"template": "standing_notice", "lines": lines, "applies_from": applies_from.isoformat(),
            "price": price.key()}


def _snapshot(compound_id: int, kind: str, start: date, end: date) -> dict:
    st = ledger.statement(compound_id, kind, start, end)
    return {"kind": kind, "start": start.isoformat(), "end": end.isoformat(), "opening": st.opening,
            "income": st.income, "spending": st.spending, "closing": st.closing,
            "by_category": [list(r) for r in st.by_category]}


def statement_lines(s: dict) -> list[dict]:
    """The lines of a statement snapshot: opening, income and spending by category, totals."""
    out = [line("期初余额", fmt_yuan(s["opening"]), fen=s["opening"])]
    out += [line(f"收入:{c}", fmt_yuan(i), f"收入 · {c}", fen=i) for c, i, _ in s["by_category"] if i]
    out += [line(f"支出:{c}", fmt_yuan(sp), f"支出 · {c}", fen=sp) for c, _, sp in s["by_category"] if sp]
    out += [line("本期收入合计", fmt_yuan(s["income"]), fen=s["income"]),
            line("本期支出合计", fmt_yuan(s["spending"]), fen=s["spending"]),
            line("期末余额", fmt_yuan(s["closing"]), fen=s["closing"])]
    return out


def ledger_statement(compound_id: int, kind: str, start: date, end: date) -> dict:
    if start > end:
        raise ContentProblem("开始日期不能晚于结束日期", "end")
    s = _snapshot(compound_id, kind, start, end)
    content = {"template": "ledger_statement", "ledger_kind": kind, "ledger": LEDGER_KINDS[kind],
               "lines": statement_lines(s), "statements": [s]}
    if kind == subaccounts.KIND and db.session.execute(
            select(FundAllocation.id).where(FundAllocation.compound_id == compound_id).limit(1)).first():
        _add_subaccounts(content, compound_id, start, end)
    return content


SUBACCOUNT_COLUMNS = ["房屋", "业主", "面积（㎡）", "期初余额", "本期交存", "本期使用", "本期利息", "期末余额"]


def _add_subaccounts(content: dict, compound_id: int, start: date, end: date) -> None:
    """上海 第66条 按户核算, 令165: the yearly statement shows every household's sub-account (owner
    names masked). Amounts in 分; the rows are part of the content, so hashed and signed with it."""
    rows = subaccounts.rows(compound_id, start, end)
    total = sum(r.closing for r in rows)
    content["subaccounts"] = {
        "columns": SUBACCOUNT_COLUMNS,
        "rows": [[f"{r.building} {r.room}", mask_name(r.owner_name), _num(r.area), r.opening, r.deposits, r.uses,
                  r.interest, r.closing] for r in rows],
        "total": total}
    content["lines"].append(line("分户账合计", f"{len(rows)} 户，期末余额合计 {fmt_yuan(total)}", fen=total))
    unallocated = content["statements"][0]["closing"] - total
    if unallocated:
        content["lines"].append(line("未分户金额", f"{fmt_yuan(unallocated)}（尚未记入分户账的分录）", fen=unallocated))


def _summary(s: dict, spend_word: str) -> str:
    cats = "、".join(f"{c} {fmt_yuan(i)}" for c, i, _ in s["by_category"] if i)
    spent = "、".join(f"{c} {fmt_yuan(sp)}" for c, _, sp in s["by_category"] if sp)
    return (f"期初余额 {fmt_yuan(s['opening'])}；本期收入 {fmt_yuan(s['income'])}"
            + (f"（{cats}）" if cats else "")
            + f"；本期{spend_word} {fmt_yuan(s['spending'])}" + (f"（{spent}）" if spent else "")
            + f"；期末余额 {fmt_yuan(s['closing'])}")


def disclosure(compound_id: int, start: date, end: date, texts: dict) -> dict:
    """民法典 第943条: services, staff, quality, fee items and standards, performance,
    maintenance-fund use, common parts' operation and income. `texts`: services, staff,
    quality, performance (the firm's wording); the rest comes from the contract and ledgers."""
    if start > end:
        raise ContentProblem("开始日期不能晚于结束日期", "end")
    c = current_contract(compound_id, end)
    if c is None:
        raise ContentProblem("该小区在公示期末没有有效的物业服务合同")
    price = price_of(compound_id, end)
    fund = _snapshot(compound_id, "maintenance_fund", start, end)
    revenue = _snapshot(compound_id, "public_revenue", start, end)
    lines = [
        line("服务事项", texts["services"]),
        line("负责人员", texts["staff"]),
        line("质量要求", texts["quality"]),
        line("收费项目和标准", f"物业服务费 {price.standard}（{price.regime}，{c.fee_mode}）"),
        line("履行情况", texts["performance"]),
        line("维修资金使用情况", _summary(fund, "使用")),
        line("共有部分经营与收益情况", _summary(revenue, "支出")),
    ]
    return {"template": "disclosure", "lines": lines, "statements": [fund, revenue]}


def committee_news(start: date, end: date, work: str, decisions: str) -> dict:
    """北京 第44条（八）, 第45条: the committee's report of its work, and what its meetings decided."""
    if start > end:
        raise ContentProblem("开始日期不能早于结束日期", "end")
    lines = [line("通报期间", f"{_cn(start)}至{_cn(end)}"), line("工作情况", work.strip())]
    if decisions.strip():
        lines.append(line("会议确定事项", decisions.strip()))
    return {"template": "committee_news", "lines": lines}


def committee_rules(compound_id: int, doc: str, adopted_on: date, vote_id: int | None, body: str,
                    today: date) -> dict:
    """管理规约 / 业主大会议事规则 as adopted; a vote counted in the product is named with its
    result (its own publication holds the count)."""
    from ..votes.models import OwnerVote   # votes build on publicity, not the reverse

    if adopted_on > today:
        raise ContentProblem("通过日期不能晚于今天", "adopted_on")
    lines = [line("文件名称", doc), line("业主大会通过日期", _cn(adopted_on))]
    if vote_id:
        vote = db.session.get(OwnerVote, vote_id)
        if vote is None or vote.compound_id != compound_id or vote.status != "closed":
            raise ContentProblem("请选择本小区已计票的业主表决", "vote_id")
        if not vote.passed:
            raise ContentProblem("所选表决未通过，不能作为通过依据", "vote_id")
        summary = (vote.result or {}).get("summary", "")
        lines.append(line("业主表决", f"{vote.title}（{summary}）" if summary else vote.title))
    lines.append(line("正文", body.strip()))
    return {"template": "committee_rules", "doc": doc, "adopted_on": adopted_on.isoformat(),
            "vote_id": vote_id, "lines": lines}


def title_for(template: str, compound: Compound, kind: str | None = None, start: date | None = None,
              end: date | None = None, doc: str | None = None) -> str:
    period = f"（{start.isoformat()}至{end.isoformat()}）" if start and end else ""
    if template == "committee_fees":
        half = "上半年" if start.month == 1 else "下半年"
        return f"{compound.name}业委会委员缴费情况（{start.year}年{half}）"
    if template in REMUNERATED_TEMPLATES:
        return f"{compound.name}{start.year}年度物业服务{'收支预算' if template == 'annual_budget' else '收支决算'}"
    if template == "committee_news":
        return f"{compound.name}业委会工作动态{period}"
    if template == "committee_rules":
        return f"{compound.name}{doc}"
    if template == "standing_notice":
        return f"{compound.name}物业服务收费公示"
    if template == "disclosure":
        return f"{compound.name}物业服务信息公开{period}"
    label = LEDGER_KINDS[kind]
    return f"{compound.name}{label}{'' if label.endswith('收支') else '收支'}公示{period}"
