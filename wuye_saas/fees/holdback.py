"""质量保证金: the holdback of the firm's income on each bill, released by its evaluation result
(湖州 第34条, 绍兴 第37条). Plain functions; they flush, the caller commits.

The rules:
1. What is withheld: per compound, month, firm and policy version, the sum of its bills'
   holdback. A bill with credit notes holds back its policy's percent of its firm income net
   of them (government + resident part less what the notes took off), rounded half up to 分
   as on the bill (compute.split).
2. Which result releases it: the published evaluation of the kind the bill's policy version
   names (default 季测评) whose period covers the month (bill months from the month the
   period starts in to its end), the firm's assessment for that compound (a firm-wide
   assessment covers all its compounds). A month released by one evaluation is not released
   again by another of the same kind.
3. The rate: the policy's bands by stars or by total score; the highest band the result
   reaches gives the percent released, below every band 0 %. An assessment without that
   result (no stars computed) releases nothing until it has one.
4. The split, in whole 分: released = withheld × percent rounded down (the firm is never paid
   a 分 the result did not earn), kept = withheld − released, so the parts add up exactly.
5. Where the kept part goes: the compound's 公共收益 ledger (民法典 第282条: the owners'),
   category 质量保证金留存, one entry per posting, voucher "质量保证金留存 YYYY-MM".
6. Idempotent and append-only: each run computes the month's target and posts only the
   difference from what earlier rows of this evaluation hold (publishing again posts nothing;
   an appeal that changes the stars, a late bill or a credit note posts the change as a new
   row, and the kept change as a further ledger entry, negative when less is kept). Neither
   rows nor entries are ever edited.
It runs when the evaluation is published and after its results are computed again (the
consequence follows the published result with no step to forget); the district runs it again
from the release page after bills for covered months were issued late or credited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import and_, func, insert, select

from .. import policy
from ..audit import AuditEvent, _actor, plain
from ..evaluation.models import CYCLE_KINDS, Assessment, Evaluation
from ..extensions import db
from ..money import to_fen
from ..org.models import Compound, Firm
from ..publicity.models import LEDGER_KINDS, LedgerEntry
from ..tenancy import current_tenant_id
from ..timeutil import now, today
from .models import DEFAULT_HOLDBACK_BANDS, HOLDBACK_BASES, Bill, CreditNote, FeePolicy, HoldbackRelease

HUNDRED = Decimal(100)
LEDGER_KIND = "public_revenue"
CATEGORY = "质量保证金留存"
REASONS = {"publish": "考核结果发布", "appeal": "申诉改判后重新计算", "rerun": "按补开或冲减后的账单重新核算"}


def pct_text(x: Decimal) -> str:
    """90.00 → "90", 12.50 → "12.5"."""
    return f"{Decimal(x).normalize():f}"


def voucher_of(month: date) -> str:
    return f"{CATEGORY} {month:%Y-%m}"


def bands_of(p: FeePolicy) -> list[dict]:
    """The policy's bands, highest first ({"min": Decimal, "percent": Decimal})."""
    raw = p.holdback_bands if p.holdback_bands is not None else DEFAULT_HOLDBACK_BANDS
    bands = [{"min": Decimal(str(b["min"])), "percent": Decimal(str(b["percent"]))} for b in raw]
    return sorted(bands, key=lambda b: b["min"], reverse=True)


def release_percent(p: FeePolicy, stars: int | None, total: Decimal | None) -> Decimal | None:
    """Rule 3: the percent released for a result, or None when the result lacks the basis."""
    value = stars if p.holdback_basis == "stars" else total
    if value is None:
        return None
    return next((b["percent"] for b in bands_of(p) if Decimal(value) >= b["min"]), Decimal(0))


def split(withheld: int, percent: Decimal) -> tuple[int, int]:
    """Rule 4: (released, kept) in 分; released rounded down, the two add up to withheld."""
    released = int((Decimal(withheld) * percent / HUNDRED).to_integral_value(ROUND_FLOOR))
    return released, withheld - released


def rule_text(p: FeePolicy) -> str:
    """The rule in words, for the policy page and the release page."""
    unit = "星" if p.holdback_basis == "stars" else "分"
    parts = [f"{pct_text(b['min'])}{unit}及以上返还 {pct_text(b['percent'])}%" for b in bands_of(p)]
    return (f"依据{CYCLE_KINDS.get(p.holdback_kind, p.holdback_kind)}结果{HOLDBACK_BASES.get(p.holdback_basis, '')}："
            + "，".join(parts) + "，其余不返还；未返还部分计入小区公共收益")


def _month_floor(d: date) -> date:
    return d.replace(day=1)


@dataclass
class Outcome:
    rows: int = 0             # postings written
    released: int = 0         # 分 released by them (net)
    kept: int = 0             # 分 kept by them (net)
    no_result: int = 0        # compound-months waiting for a result the rule needs
    other_evaluation: int = 0  # compound-months already released by another evaluation

    def as_dict(self) -> dict:
        return dict(vars(self))


def withheld(ev: Evaluation, kind_policies: set[int]) -> dict[tuple, int]:
    """Rule 1: (compound, firm, month, policy) → 分 withheld, for the bills the evaluation covers
    (the firms it assesses, its months, the policy versions released by its kind)."""
    if not kind_policies:
        return {}
    covered = and_(Bill.month >= _month_floor(ev.period_start), Bill.month <= ev.period_end,
                   Bill.policy_id.in_(kind_policies),
                   Bill.firm_id.in_(select(Assessment.firm_id).where(Assessment.evaluation_id == ev.id)))
    key = (Bill.compound_id, Bill.firm_id, Bill.month, Bill.policy_id)
    out = {tuple(r[:4]): int(r[4]) for r in db.session.execute(
        select(*key, func.sum(Bill.holdback_fen)).where(covered).group_by(*key))}
    # Bills with credit notes: their holdback on the net firm income replaces the stored one.
    noted = db.session.execute(
        select(*key, Bill.holdback_fen, Bill.gov_fen + Bill.resident_fen, FeePolicy.holdback_percent,
               func.sum(CreditNote.gov_fen + CreditNote.resident_fen))
        .join(CreditNote, CreditNote.bill_id == Bill.id).join(FeePolicy, FeePolicy.id == Bill.policy_id)
        .where(covered).group_by(Bill.id, *key, Bill.holdback_fen, Bill.gov_fen, Bill.resident_fen,
                                 FeePolicy.holdback_percent)).all()
    for cid, fid, month, pid, stored, income, pct, taken in noted:
        net = max(int(income) - int(taken or 0), 0)
        # As compute.split: the percent of the 分 amount, as 元, rounded half up to 分.
        out[(cid, fid, month, pid)] += to_fen(Decimal(net) * (pct or 0) / HUNDRED / HUNDRED) - int(stored)
    return out


def release_evaluation(ev: Evaluation, source: str = "publish", user=None) -> Outcome:
    """Post the evaluation's holdback releases (rules 2–6); what was posted."""
    out = Outcome()
    if ev.status != "published":
        return out
    # One release at a time per evaluation: the publish request and a results job may meet.
    db.session.execute(select(Evaluation.id).where(Evaluation.id == ev.id).with_for_update())
    policies = {p.id: p for p in db.session.execute(
        select(FeePolicy).where(FeePolicy.holdback_kind == ev.kind, FeePolicy.holdback_percent > 0)).scalars()}
    amounts = withheld(ev, set(policies))
    if not amounts:
        return out
    assessments = db.session.execute(
        select(Assessment).where(Assessment.evaluation_id == ev.id)).scalars().all()
    by_compound = {(a.firm_id, a.compound_id): a for a in assessments}
    posted: dict[tuple, list[int]] = {}
    elsewhere: set[tuple] = set()
    months = {k[2] for k in amounts}
    for r in db.session.execute(
            select(HoldbackRelease.evaluation_id, HoldbackRelease.compound_id, HoldbackRelease.firm_id,
                   HoldbackRelease.month, HoldbackRelease.policy_id,
                   func.sum(HoldbackRelease.withheld_fen), func.sum(HoldbackRelease.released_fen),
                   func.sum(HoldbackRelease.kept_fen))
            .join(Evaluation, Evaluation.id == HoldbackRelease.evaluation_id)
            .where(Evaluation.kind == ev.kind, HoldbackRelease.month.in_(months))
            .group_by(HoldbackRelease.evaluation_id, HoldbackRelease.compound_id, HoldbackRelease.firm_id,
                      HoldbackRelease.month, HoldbackRelease.policy_id)):
        key = (r[1], r[2], r[3], r[4])
        if r[0] == ev.id:
            posted[key] = [int(r[5]), int(r[6]), int(r[7])]
        else:
            elsewhere.add(key[:3])
    firms = dict(db.session.execute(select(Firm.id, Firm.name).where(
        Firm.id.in_({k[1] for k in amounts}))).all())
    day, reason = today(), REASONS.get(source, source)
    rows: list[dict] = []
    entries: list[dict | None] = []
    for key in sorted(amounts):
        cid, fid, month, pid = key
        if (cid, fid, month) in elsewhere:
            out.other_evaluation += 1
            continue
        a = by_compound.get((fid, cid)) or by_compound.get((fid, None))
        if a is None:
            continue
        p = policies[pid]
        percent = release_percent(p, a.stars, a.total)
        if percent is None:
            out.no_result += 1
            continue
        target_w = amounts[key]
        target_r, target_k = split(target_w, percent)
        done_w, done_r, done_k = posted.get(key, (0, 0, 0))
        dw, dr, dk = target_w - done_w, target_r - done_r, target_k - done_k
        if dw == dr == dk == 0:
            continue
        entries.append({"compound_id": cid, "amount_fen": dk, "counterparty": firms.get(fid, "")[:100],
                         "voucher_no": voucher_of(month),
                         "note": f"{ev.name}：{_result_text(p, a)}，返还 {pct_text(percent)}%；{reason}"[:200]}
                        if dk else None)
        rows.append({"evaluation_id": ev.id, "assessment_id": a.id, "compound_id": cid, "firm_id": fid,
                     "policy_id": pid, "month": month, "basis": p.holdback_basis, "stars": a.stars, "total": a.total,
                     "percent": percent, "withheld_fen": dw, "released_fen": dr, "kept_fen": dk,
                     "reason": reason if key not in posted else f"{reason}（差额）"})
        out.rows += 1
        out.released += dr
        out.kept += dk
    _write(rows, entries, day, user)
    return out


def _write(rows: list[dict], entries: list[dict | None], day: date, user) -> None:
    """The postings and their ledger entries by bulk insert (batched multi-row statements; the
    ORM would send one or more per row), each with its own audit event, as the session's audit
    hook would write it (docs/benchmarks.md: 质量保证金)."""
    if not rows:
        return
    tid, at = current_tenant_id(), now()
    user_id, actor = _actor.get()
    audits = []
    wanted = [e for e in entries if e is not None]
    if wanted:
        values = [{"tenant_id": tid, "kind": LEDGER_KIND, "entry_date": day, "category": CATEGORY,
                   "user_id": getattr(user, "id", None), "created_at": at, **e} for e in wanted]
        ids = db.session.execute(insert(LedgerEntry).returning(LedgerEntry.id, sort_by_parameter_order=True),
                                 values).scalars().all()
        for e, v, i in zip(wanted, values, ids):
            e["id"] = i
            audits.append(_audit(tid, at, user_id, actor, "ledger_entry", i, f"{LEDGER_KINDS[LEDGER_KIND]} {CATEGORY}",
                                 {**v, "id": i}))
    values = [{"tenant_id": tid, "created_at": at, "ledger_entry_id": e["id"] if e else None, **r}
              for r, e in zip(rows, entries)]
    ids = db.session.execute(insert(HoldbackRelease).returning(HoldbackRelease.id, sort_by_parameter_order=True),
                             values).scalars().all()
    for v, i in zip(values, ids):
        audits.append(_audit(tid, at, user_id, actor, "holdback_release", i, f"{v['month']:%Y年%m月} 质量保证金",
                             {**v, "id": i}))
    db.session.execute(insert(AuditEvent.__table__), audits)


def _audit(tid, at, user_id, actor, entity, entity_id, label, values) -> dict:
    return {"tenant_id": tid, "at": at, "user_id": user_id, "actor": actor, "action": "create", "entity": entity,
            "entity_id": entity_id, "label": label[:200], "changes": {k: plain(v) for k, v in values.items()}}


def _result_text(p: FeePolicy, a: Assessment) -> str:
    return f"{a.stars or 0} 星" if p.holdback_basis == "stars" else f"总分 {a.total}"


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    evaluation_id: int | None = None
    compound_id: int | None = None
    month: date | None = None


def _where(m, f: Filters):
    clauses = [policy.visible(m, HoldbackRelease)]
    if f.evaluation_id:
        clauses.append(HoldbackRelease.evaluation_id == f.evaluation_id)
    if f.compound_id:
        clauses.append(HoldbackRelease.compound_id == f.compound_id)
    if f.month:
        clauses.append(HoldbackRelease.month == f.month)
    return and_(*clauses)


@dataclass(frozen=True)
class MonthRow:
    """A compound's month under one evaluation: the sums of its postings."""
    evaluation_id: int
    evaluation: str
    compound_id: int
    compound: str
    firm: str
    month: date
    percent: Decimal      # the latest posting's
    withheld: int
    released: int
    kept: int
    postings: int
    last_id: int          # the latest posting (its page shows the history)


def month_rows(m, f: Filters) -> list[MonthRow]:
    """One row per evaluation, compound, firm and month in scope, newest month first."""
    latest = (select(func.max(HoldbackRelease.id)).where(_where(m, f))
              .group_by(HoldbackRelease.evaluation_id, HoldbackRelease.compound_id, HoldbackRelease.firm_id,
                        HoldbackRelease.month))
    percents = dict(db.session.execute(
        select(HoldbackRelease.id, HoldbackRelease.percent).where(HoldbackRelease.id.in_(latest))).all())
    rows = db.session.execute(
        select(HoldbackRelease.evaluation_id, Evaluation.name, HoldbackRelease.compound_id, Compound.name,
               Firm.name, HoldbackRelease.month, func.sum(HoldbackRelease.withheld_fen),
               func.sum(HoldbackRelease.released_fen), func.sum(HoldbackRelease.kept_fen),
               func.count(HoldbackRelease.id), func.max(HoldbackRelease.id))
        .join(Evaluation, Evaluation.id == HoldbackRelease.evaluation_id)
        .join(Compound, Compound.id == HoldbackRelease.compound_id)
        .join(Firm, Firm.id == HoldbackRelease.firm_id)
        .where(_where(m, f))
        .group_by(HoldbackRelease.evaluation_id, Evaluation.name, HoldbackRelease.compound_id, Compound.name,
                  HoldbackRelease.firm_id, Firm.name, HoldbackRelease.month)
        .order_by(HoldbackRelease.month.desc(), Compound.name, HoldbackRelease.evaluation_id.desc())).all()
    return [MonthRow(r[0], r[1], r[2], r[3], r[4], r[5], percents.get(r[10], Decimal(0)), int(r[6]), int(r[7]),
                     int(r[8]), int(r[9]), r[10]) for r in rows]


def totals(rows: list[MonthRow]) -> dict[str, int]:
    return {"withheld": sum(r.withheld for r in rows), "released": sum(r.released for r in rows),
            "kept": sum(r.kept for r in rows)}


def history(row: HoldbackRelease) -> list[HoldbackRelease]:
    """Every posting of the row's evaluation, compound, firm and month, oldest first."""
    return db.session.execute(select(HoldbackRelease).where(
        HoldbackRelease.evaluation_id == row.evaluation_id, HoldbackRelease.compound_id == row.compound_id,
        HoldbackRelease.firm_id == row.firm_id, HoldbackRelease.month == row.month)
        .order_by(HoldbackRelease.id)).scalars().all()


def choices(m) -> tuple[list, list, list]:
    """(evaluations, compounds, months) with postings in scope, for the filters."""
    seen = _where(m, Filters())
    evs = db.session.execute(select(Evaluation.id, Evaluation.name).where(
        Evaluation.id.in_(select(HoldbackRelease.evaluation_id).where(seen))).order_by(Evaluation.id.desc())).all()
    comps = db.session.execute(select(Compound.id, Compound.name).where(
        Compound.id.in_(select(HoldbackRelease.compound_id).where(seen))).order_by(Compound.name)).all()
    months = db.session.execute(select(HoldbackRelease.month).where(seen).distinct()
                                .order_by(HoldbackRelease.month.desc())).scalars().all()
    return evs, comps, months


def workbook(rows: list[MonthRow], f_text: str):
    """The finance office's sheet: one line per compound month, amounts in 元 (numbers)."""
    from openpyxl import Workbook

    from ..excel import append, yuan
    wb = Workbook()
    ws = wb.active
    ws.title = "质量保证金释放"
    ws.append(["考核", "小区", "物业服务企业", "月份", "返还比例（%）", "暂扣（元）", "返还企业（元）",
               "留存公共收益（元）", "记账笔数"])
    for r in rows:
        append(ws, [r.evaluation, r.compound, r.firm, f"{r.month:%Y-%m}", float(r.percent), yuan(r.withheld),
                    yuan(r.released), yuan(r.kept), r.postings])
    t = totals(rows)
    append(ws, ["合计", "", "", "", None, yuan(t["withheld"]), yuan(t["released"]), yuan(t["kept"]),
                sum(r.postings for r in rows)])
    ws.append([f_text])
    for col, width in zip("ABCDEFGHI", (24, 18, 22, 10, 12, 14, 14, 16, 10)):
        ws.column_dimensions[col].width = width
    return wb
