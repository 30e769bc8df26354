"""The content of three publications built from the data, in the shape of templates_content
(lines with stable keys; amounts also kept as integer 分):

- 酬金制 年度预算 / 年度决算: under a 酬金制 contract the fees are the owners' and the firm takes
  a 酬金; it reports each year's budget and, after the year, its final account (上海 第48条,
  北京 第70条（四）, 物业服务收费管理办法). Income by source, expenses by item, the 酬金, and the
  balance carried over (上年结转 + 收入 − 支出 − 酬金). A final account is computed from the
  物业费收支 ledger when that year has entries (its statement is kept with it, so the re-check
  compares it with the ledger later), else entered.
- 业委会委员缴费情况 (北京 第44条（八）): each member's property fees of the half-year, from the
  bills and payments of the unit linked to the member; names masked.
- 考核结果公示: a compound's own result of a published district evaluation (score, stars, list,
  rank), generated from the stored result — published when the evaluation is (evaluation_board).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..money import fmt_yuan
from ..org.models import Committee, CommitteeMember, Contract
from .accounts import CATEGORIES
from .models import LedgerEntry
from .templates_content import ContentProblem, _cn, _snapshot, line

FEE_KIND = "fee_account"
REMUNERATION = "物业服务酬金"
# The form's amount fields: (field name, ledger category, direction). Categories as the 物业费收支
# ledger keeps them (accounts.CATEGORIES), so an entered account and a computed one read alike.
INCOME_ITEMS = [("fee_income", "物业费收入"), ("other_income", "其他收入")]
SPENDING_ITEMS = [("staff", "人员费用"), ("facilities", "公共设施设备运行维护"), ("cleaning", "清洁卫生"),
                  ("greening", "绿化养护"), ("security", "秩序维护"), ("office", "办公费用"),
                  ("other_spending", "其他支出")]
assert [c for _, c in INCOME_ITEMS] == CATEGORIES[FEE_KIND]["income"]
assert {c for _, c in SPENDING_ITEMS} | {REMUNERATION} == set(CATEGORIES[FEE_KIND]["spending"])


@dataclass(frozen=True)
class Figures:
    """One year's 酬金制 account in 分: (category, amount) pairs in the ledger's order."""
    carried_in: int
    income: list
    spending: list          # without the 酬金
    remuneration: int

    @property
    def income_total(self) -> int:
        return sum(a for _, a in self.income)

    @property
    def spending_total(self) -> int:
        return sum(a for _, a in self.spending) + self.remuneration

    @property
    def carried_over(self) -> int:
        return self.carried_in + self.income_total - self.spending_total

    def as_dict(self) -> dict:
        return {"carried_in": self.carried_in, "income": [list(x) for x in self.income],
                "spending": [list(x) for x in self.spending], "remuneration": self.remuneration,
                "income_total": self.income_total, "spending_total": self.spending_total,
                "carried_over": self.carried_over}


def year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def remunerated_contract(compound_id: int, year: int) -> Contract | None:
    """The 酬金制 contract serving the compound in that year (the latest to start)."""
    start, end = year_span(year)
    return db.session.execute(select(Contract).where(
        Contract.compound_id == compound_id, Contract.in_force(start, end), Contract.fee_mode == "酬金制")
        .order_by(Contract.start_date.desc(), Contract.id.desc()).limit(1)).scalar_one_or_none()


def entered(amounts: dict[str, int], carried_in: int) -> Figures:
    """Figures from the form: {field name: 分} (a missing or empty field is 0)."""
    for name, fen in amounts.items():
        if fen < 0:
            raise ContentProblem("金额不能为负数", name)
    income = [(c, amounts.get(n) or 0) for n, c in INCOME_ITEMS]
    if not any(a for _, a in income):
        raise ContentProblem("请至少填写一项收入", INCOME_ITEMS[0][0])
    spending = [(c, amounts.get(n) or 0) for n, c in SPENDING_ITEMS]
    return Figures(carried_in, [x for x in income if x[1]], [x for x in spending if x[1]],
                   amounts.get("remuneration") or 0)


def from_ledger(compound_id: int, year: int) -> tuple[Figures, dict]:
    """A year's figures from the 物业费收支 ledger, and the statement snapshot they come from.
    Per category the net amount (a reversing entry reduces its own category), so the balance
    carried over is the ledger's closing balance."""
    start, end = year_span(year)
    has_entries = db.session.execute(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.compound_id == compound_id, LedgerEntry.kind == FEE_KIND,
        LedgerEntry.entry_date >= start, LedgerEntry.entry_date <= end)).scalar_one()
    if not has_entries:
        raise ContentProblem(f"{year} 年物业费收支账没有分录，不能由账目生成；请选择“手工填写”", "source")
    snap = _snapshot(compound_id, FEE_KIND, start, end)
    incomes = set(CATEGORIES[FEE_KIND]["income"])
    income, spending, remuneration = [], [], 0
    for category, inc, sp in snap["by_category"]:
        net = inc - sp
        if category in incomes or (category not in CATEGORIES[FEE_KIND]["spending"] and net > 0):
            if net:
                income.append((category, net))
        elif category == REMUNERATION:
            remuneration += -net
        elif net:
            spending.append((category, -net))
    figures = Figures(snap["opening"], income, spending, remuneration)
    assert figures.carried_over == snap["closing"]
    return figures, snap


def annual_report(compound_id: int, template: str, year: int, today: date, figures: Figures | None,
                  source: str) -> dict:
    """年度预算 (`annual_budget`) or 年度决算 (`annual_account`). `figures` are the entered ones;
    a final account with source "ledger" is computed from the ledger instead."""
    if template == "annual_budget" and not today.year <= year <= today.year + 1:
        raise ContentProblem(f"预算年度应为 {today.year} 年或 {today.year + 1} 年", "year")
    if template == "annual_account" and not 2000 <= year < today.year:
        raise ContentProblem(f"决算在年度结束后公示：年度应为 {today.year - 1} 年或以前", "year")
    contract = remunerated_contract(compound_id, year)
    if contract is None:
        raise ContentProblem(f"该小区 {year} 年没有酬金制物业服务合同", "year")
    snap = None
    if template == "annual_account" and source == "ledger":
        figures, snap = from_ledger(compound_id, year)
    if figures is None:
        raise ContentProblem("请填写各项金额", INCOME_ITEMS[0][0])
    budget = template == "annual_budget"
    word = "预计" if budget else ""
    lines = [line("年度", f"{year}年度（{_cn(date(year, 1, 1))}至{_cn(date(year, 12, 31))}）"),
             line("物业服务企业", contract.firm.name),
             line("收费方式", "酬金制（物业服务资金属于全体业主，物业服务企业按约定提取酬金）"),
             line("数据来源", "物业费收支账（按类目汇总）" if snap else ("物业服务企业编制" if budget else "物业服务企业填报")),
             line("上年结转", fmt_yuan(figures.carried_in), fen=figures.carried_in)]
    lines += [line(f"收入:{c}", fmt_yuan(a), f"{word}收入 · {c}", fen=a) for c, a in figures.income]
    lines.append(line("收入合计", fmt_yuan(figures.income_total), f"{word}收入合计", fen=figures.income_total))
    lines += [line(f"支出:{c}", fmt_yuan(a), f"{word}支出 · {c}", fen=a) for c, a in figures.spending]
    lines.append(line(REMUNERATION, fmt_yuan(figures.remuneration), f"{word}{REMUNERATION}", fen=figures.remuneration))
    lines.append(line("支出合计", fmt_yuan(figures.spending_total), f"{word}支出合计（含酬金）",
                      fen=figures.spending_total))
    lines.append(line("结转下年", fmt_yuan(figures.carried_over), f"{word}结余（结转下年）", fen=figures.carried_over))
    content = {"template": template, "year": year, "source": "ledger" if snap else "entered",
               "figures": figures.as_dict(), "lines": lines}
    if snap:
        content["statements"] = [snap]
    return content


# --- 业委会委员缴费情况 ----------------------------------------------------------------------------

HALVES = {1: "上半年", 2: "下半年"}
FEE_COLUMNS = ["职务", "姓名", "本人房屋", "应缴物业费", "已缴", "欠缴", "缴费情况"]
POSITION_ORDER = {"主任": 0, "副主任": 1, "委员": 2}


def half_span(year: int, half: int) -> tuple[date, date]:
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


def committee_in_office(compound_id: int, on: date) -> Committee | None:
    return db.session.execute(select(Committee).where(
        Committee.compound_id == compound_id, Committee.term_start <= on, Committee.term_end >= on)
        .order_by(Committee.term_start.desc(), Committee.id.desc()).limit(1)).scalar_one_or_none()


def member_fees(compound_id: int, year: int, half: int, today: date) -> dict:
    """北京 第44条（八）: every half year the committee publishes its members' payments of the
    property fee. Per member: the resident part due on the unit's bills of the half-year's
    months (less credit notes), what was paid on them by the day of publication, what is owed."""
    from ..fees.models import Bill
    from ..fees.payments import balance_select, mask_name   # fees build on the register, as we do

    if half not in HALVES:
        raise ContentProblem("请选择上半年或下半年", "half")
    start, end = half_span(year, half)
    if end >= today:
        raise ContentProblem(f"{year}年{HALVES[half]}尚未结束，结束后再公示", "half")
    committee = committee_in_office(compound_id, end)
    if committee is None:
        raise ContentProblem(f"该小区在 {end.isoformat()} 没有在任的业委会（物管会）", "half")
    members = db.session.execute(select(CommitteeMember).where(CommitteeMember.committee_id == committee.id)
                                 .order_by(CommitteeMember.id)).scalars().all()
    members.sort(key=lambda mb: (POSITION_ORDER.get(mb.position, 9), mb.id))
    if not members:
        raise ContentProblem("该业委会（物管会）没有登记委员", "half")
    units = {mb.household_id for mb in members if mb.household_id}
    sums: dict[int, tuple[int, int]] = {}
    if units:
        b = balance_select(None, Bill.household_id.in_(units), Bill.month >= start, Bill.month <= end).subquery()
        for hid, due, paid in db.session.execute(
                select(Bill.household_id, func.sum(b.c.due), func.sum(b.c.paid)).join(b, b.c.bill_id == Bill.id)
                .group_by(Bill.household_id)).all():
            sums[hid] = (int(due), int(paid))
    rows, clear, unclear, unlinked = [], 0, 0, 0
    for mb in members:
        if mb.household is None or mb.household.compound_id != compound_id:
            rows.append([mb.position, mask_name(mb.name), "未登记", None, None, None, "未登记本人房屋，无法核对"])
            unlinked += 1
            continue
        due, paid = sums.get(mb.household_id, (0, 0))
        owed = max(due - paid, 0)
        if due == 0:
            status = "本期无物业费账单"
        elif owed == 0:
            status, clear = "已缴清", clear + 1
        else:
            status, unclear = ("未缴" if paid == 0 else "部分缴纳"), unclear + 1
        rows.append([mb.position, mask_name(mb.name), mb.household.label, due, paid, owed, status])
    lines = [line("公示期间", f"{year}年{HALVES[half]}（{_cn(start)}至{_cn(end)}）"),
             line("业委会", committee.name),
             line("委员人数", f"{len(members)} 人"),
             line("缴费情况", f"已缴清 {clear} 人，未缴清 {unclear} 人"
                  + (f"，未登记本人房屋 {unlinked} 人" if unlinked else "")),
             line("说明", f"按各委员本人房屋{year}年{HALVES[half]}各月物业费账单计算，已缴金额截至{_cn(today)}；"
                  "姓名已部分隐去。停车费不在本系统中收取，未列入。")]
    return {"template": "committee_fees", "year": year, "half": half, "committee_id": committee.id,
            "lines": lines, "table": {"title": "委员、候补委员交纳物业费情况", "columns": FEE_COLUMNS,
                                      "money": [3, 4, 5], "rows": rows}}


# --- 考核结果公示 ------------------------------------------------------------------------------------

def evaluation_result(assessment, ranked: int) -> dict:
    """A compound's own result of a published evaluation, from the stored assessment; `ranked`:
    how many assessments the evaluation ranked."""
    from ..evaluation.models import CYCLE_KINDS, LISTS   # evaluation publishes into publicity

    ev = assessment.evaluation
    std = ev.standard
    total = assessment.total
    result = {"total": None if total is None else f"{total:.2f}", "stars": assessment.stars,
              "list": assessment.list_kind, "rank": assessment.rank, "ranked": ranked,
              "vetoed": bool(assessment.vetoed)}
    lines = [line("考核名称", ev.name), line("考核类别", CYCLE_KINDS.get(ev.kind, ev.kind)),
             line("考核期间", f"{_cn(ev.period_start)}至{_cn(ev.period_end)}"),
             line("物业服务企业", assessment.firm.name),
             line("考核得分", f"{result['total'] or '—'} 分（满分 {std.total_points:.2f} 分"
                  + (f"，加分上限 {std.bonus_cap:.2f} 分）" if std.bonus_cap else "）")),
             line("星级", f"{assessment.stars} 星" if assessment.stars else "未达星级"),
             line("榜单", LISTS.get(assessment.list_kind, "未列入红黄黑榜") if assessment.list_kind else "未列入红黄黑榜")]
    if assessment.rank:
        lines.append(line("排名", f"第 {assessment.rank} 名（共 {ranked} 个参评项目）"))
    if assessment.vetoed:
        lines.append(line("一票否决", "是"))
    if ev.appeal_until:
        lines.append(line("申诉期限", f"物业服务企业可于{_cn(ev.appeal_until)}前对本结果申诉"))
    return {"template": "evaluation_result", "evaluation_id": ev.id, "assessment_id": assessment.id,
            "result": result, "lines": lines}
