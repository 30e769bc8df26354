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
5. Where the kept part goes, as the policy version says (holdback_kept_to):
   - "ledger" (default): the compound's 公共收益 ledger (民法典 第282条: the owners'), category
     质量保证金留存, one entry per posting that changes the kept part, voucher
     "质量保证金留存 YYYY-MM";
   - "bills": a credit to the compound's households on their next bills (质量保证金返还): the
     kept part of the compound month is split over the households whose bills withheld it, in
     proportion to what each bill withheld (rule 1, per household), by largest remainder
     (money.allocate), so the credits add up to the kept part exactly. A credit waits until the
     household's next bill is issued and reduces what the household owes on it
     (billing.attach_holdback_credits); it never changes the firm's income on that bill.
6. Idempotent and append-only: each run computes the month's target and posts only the
   difference from what earlier rows of this evaluation hold (publishing again posts nothing;
   an appeal that changes the stars, a late bill or a credit note posts the change as a new
   row, and the kept change as a further ledger entry, negative when less is kept, or as
   further household credits, each the household's new share less what it was credited).
   Neither rows, entries nor credits are ever edited.
7. It runs as a background job (fees/holdback_jobs.py), never inside a request: started when
   the evaluation is published, after its results are computed again (an upheld appeal), and
   by the district's re-run from the release page after bills for covered months were issued
   late or credited. One job per evaluation at a time (its lock key); a run started while one
   is running waits on the evaluation's row and posts only what the first left.
8. Set-based: the reads are grouped queries and the writes one INSERT per table, so the number
   of statements does not grow with the number of compounds or months (docs/benchmarks.md);
   the run records one summary audit event (counts and sums), the rows keep their details.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import selectinload

from .. import bulk, policy
from ..audit import AuditEvent, _actor
from ..evaluation.models import CYCLE_KINDS, Assessment, Evaluation
from ..extensions import db
from ..money import allocate, to_fen
from ..org.models import Compound, Firm
from ..publicity.models import LedgerEntry
from ..tenancy import current_tenant_id
from ..timeutil import now, today
from .models import (
    DEFAULT_HOLDBACK_BANDS, HOLDBACK_BASES, Bill, CreditNote, FeePolicy, HoldbackCredit,
    HoldbackRelease,
)

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
            + "，".join(parts) + f"，其余不返还；未返还部分{_destination(p)}")


def _destination(p: FeePolicy) -> str:
    if p.holdback_kept_to == "bills":
        return "按各户暂扣金额比例返还业主，抵扣下期物业费"
    return "计入小区公共收益"


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


def withheld(ev: Evaluation, kind_policies: set[int], by_household: bool = False) -> dict[tuple, int]:
    """Rule 1: (compound, firm, month, policy) → 分 withheld, for the bills the evaluation covers
    (the firms it assesses, its months, the policy versions released by its kind); with
    `by_household` the key ends with the household (rule 5's weights). Two grouped queries."""
    if not kind_policies:
        return {}
    covered = and_(Bill.month >= _month_floor(ev.period_start), Bill.month <= ev.period_end,
                   Bill.policy_id.in_(kind_policies),
                   Bill.firm_id.in_(select(Assessment.firm_id).where(Assessment.evaluation_id == ev.id)))
    key = (Bill.compound_id, Bill.firm_id, Bill.month, Bill.policy_id) + ((Bill.household_id,) if by_household else ())
    width = len(key)
    out = {tuple(r[:width]): int(r[width]) for r in db.session.execute(
        select(*key, func.sum(Bill.holdback_fen)).where(covered).group_by(*key))}
    # Bills with credit notes: their holdback on the net firm income replaces the stored one.
    noted = db.session.execute(
        select(*key, Bill.holdback_fen, Bill.gov_fen + Bill.resident_fen, FeePolicy.holdback_percent,
               func.sum(CreditNote.gov_fen + CreditNote.resident_fen))
        .join(CreditNote, CreditNote.bill_id == Bill.id).join(FeePolicy, FeePolicy.id == Bill.policy_id)
        .where(covered).group_by(Bill.id, *key, Bill.holdback_fen, Bill.gov_fen, Bill.resident_fen,
                                 FeePolicy.holdback_percent)).all()
    for r in noted:
        stored, income, pct, taken = r[width:]
        net = max(int(income) - int(taken or 0), 0)
        # As compute.split: the percent of the 分 amount, as 元, rounded half up to 分.
        out[tuple(r[:width])] += to_fen(Decimal(net) * (pct or 0) / HUNDRED / HUNDRED) - int(stored)
    return out


def _credited(ev: Evaluation) -> dict[tuple, int]:
    """(compound, firm, month, policy, household) → 分 credited to the household by earlier
    postings of this evaluation (rule 5, bills), in one grouped query."""
    key = (HoldbackRelease.compound_id, HoldbackRelease.firm_id, HoldbackRelease.month, HoldbackRelease.policy_id,
           HoldbackCredit.household_id)
    return {tuple(r[:5]): int(r[5]) for r in db.session.execute(
        select(*key, func.sum(HoldbackCredit.amount_fen)).join(HoldbackRelease, HoldbackRelease.id == HoldbackCredit.release_id)
        .where(HoldbackRelease.evaluation_id == ev.id).group_by(*key))}


def household_shares(kept: int, weights: dict[int, int], done: dict[int, int]) -> dict[int, int]:
    """Rule 5 (bills): household → the change of its credit. The month's kept part is split over
    the households by what was withheld from each (largest remainder, ties to the lower
    household id); each gets its share less what earlier postings credited it, so the changes
    add up to the change of the kept part exactly."""
    homes = sorted(set(weights) | set(done))
    w = [max(weights.get(h, 0), 0) for h in homes]
    total = sum(w)
    if total <= 0 or kept < 0:
        parts = allocate(kept, [Decimal(x) for x in w])   # its rule for these edge cases (and its error)
    else:
        # money.allocate's largest remainder, in integers (exact, and fast for 10,000s of months).
        parts, rest = zip(*(divmod(kept * x, total) for x in w))
        parts = list(parts)
        for i in sorted(range(len(w)), key=lambda i: (-rest[i], i))[:kept - sum(parts)]:
            parts[i] += 1
    return {h: p - done.get(h, 0) for h, p in zip(homes, parts) if p != done.get(h, 0)}


def _noop(done: int, total: int, message: str = "") -> None:
    """Progress is reported only from a job."""


def release_evaluation(ev: Evaluation, source: str = "publish", user=None, report=_noop) -> Outcome:
    """Post the evaluation's holdback releases (rules 2–6); what was posted. Set-based: a fixed
    number of statements whatever the number of compounds and months (docs/benchmarks.md:
    质量保证金) — grouped reads, then one INSERT per table (wuye_saas/bulk.py)."""
    out = Outcome()
    if ev.status != "published":
        return out
    # One release at a time per evaluation: two jobs (a publish and an appeal) may meet; the
    # second waits here and then reads what the first committed.
    db.session.execute(select(Evaluation.id).where(Evaluation.id == ev.id).with_for_update())
    policies = {p.id: p for p in db.session.execute(
        select(FeePolicy).where(FeePolicy.holdback_kind == ev.kind, FeePolicy.holdback_percent > 0)).scalars()}
    amounts = withheld(ev, set(policies))
    if not amounts:
        report(1, 1, "覆盖月份没有暂扣质量保证金的账单")
        return out
    report(1, 4, f"已汇总 {len(amounts)} 个小区月份的暂扣金额")
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
    to_bills = {pid for pid, p in policies.items() if p.holdback_kept_to == "bills"}
    weights: dict[tuple, dict[int, int]] = {}
    credited: dict[tuple, dict[int, int]] = {}
    if to_bills & {k[3] for k in amounts}:
        for k, v in withheld(ev, to_bills, by_household=True).items():
            weights.setdefault(k[:4], {})[k[4]] = v
        for k, v in _credited(ev).items():
            credited.setdefault(k[:4], {})[k[4]] = v
    report(2, 4, "已读取考核结果与已释放金额")
    day, reason = today(), REASONS.get(source, source)
    rows: list[dict] = []
    entries: list[dict | None] = []
    credits: list[list[dict]] = []
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
        note = f"{ev.name}：{_result_text(p, a)}，返还 {pct_text(percent)}%；{reason}"
        if pid in to_bills:
            entries.append(None)
            credits.append([{"household_id": h, "compound_id": cid, "month": month, "amount_fen": v}
                            for h, v in household_shares(target_k, weights.get(key, {}),
                                                         credited.get(key, {})).items()])
        else:
            entries.append({"compound_id": cid, "amount_fen": dk, "counterparty": firms.get(fid, "")[:100],
                            "voucher_no": voucher_of(month), "note": note[:200]} if dk else None)
            credits.append([])
        rows.append({"evaluation_id": ev.id, "assessment_id": a.id, "compound_id": cid, "firm_id": fid,
                     "policy_id": pid, "month": month, "basis": p.holdback_basis, "stars": a.stars, "total": a.total,
                     "percent": percent, "withheld_fen": dw, "released_fen": dr, "kept_fen": dk,
                     "reason": reason if key not in posted else f"{reason}（差额）"})
        out.rows += 1
        out.released += dr
        out.kept += dk
    report(3, 4, f"待记 {out.rows} 笔")
    _write(ev, source, rows, entries, credits, day, user)
    report(4, 4, f"已记 {out.rows} 笔")
    return out


def _write(ev: Evaluation, source: str, rows: list[dict], entries: list[dict | None], credits: list[list[dict]],
           day: date, user) -> None:
    """The postings, their ledger entries and household credits: one INSERT per table (ids
    taken first, so a posting can name its ledger entry and a credit its posting), and one
    summary audit event for the run, as billing runs and imports record their bulk writes
    (the audit log lists it under 考核 with the counts and sums; each posting keeps its
    reason, result and amounts on its own row, and a ledger entry its voucher and note)."""
    if not rows:
        return
    tid, at = current_tenant_id(), now()
    user_id, actor = _actor.get()
    wanted = [e for e in entries if e is not None]
    homes = [c for cs in credits for c in cs]
    # Written first: on SQLite this takes the one write lock, so the ids below stay ours.
    db.session.execute(insert(AuditEvent.__table__), [{
        "tenant_id": tid, "at": at, "user_id": user_id, "actor": actor, "action": "create", "entity": "evaluation",
        "entity_id": ev.id, "label": f"质量保证金释放：{ev.name}（{REASONS.get(source, source)}）"[:200],
        "changes": {"postings": len(rows), "withheld_fen": sum(r["withheld_fen"] for r in rows),
                    "released_fen": sum(r["released_fen"] for r in rows),
                    "kept_fen": sum(r["kept_fen"] for r in rows), "ledger_entries": len(wanted),
                    "credits": len(homes), "source": REASONS.get(source, source)}}])
    entry_ids = iter(bulk.next_ids(LedgerEntry.__table__, len(wanted)))
    release_ids = bulk.next_ids(HoldbackRelease.__table__, len(rows))
    ledger, releases, household = [], [], []
    for r, e, cs, rid in zip(rows, entries, credits, release_ids):
        eid = None
        if e is not None:
            eid = next(entry_ids)
            ledger.append({"id": eid, "tenant_id": tid, "kind": LEDGER_KIND, "entry_date": day, "category": CATEGORY,
                           "user_id": getattr(user, "id", None), "created_at": at, **e})
        releases.append({"id": rid, "tenant_id": tid, "created_at": at, "ledger_entry_id": eid, **r})
        household += [{"tenant_id": tid, "release_id": rid, "created_at": at, **c} for c in cs]
    bulk.insert_rows(LedgerEntry.__table__, ledger)
    bulk.insert_rows(HoldbackRelease.__table__, releases)
    bulk.insert_rows(HoldbackCredit.__table__, household)
    # The session may hold rows of these tables from before: they are stale now.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (HoldbackRelease, HoldbackCredit, LedgerEntry)):
            db.session.expire(obj)


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


def credits_of(postings: list[HoldbackRelease]) -> list[tuple]:
    """(household, credited 分, bill month it went onto or None while waiting) per household
    of the postings (rule 5, bills), by building and room."""
    from ..org.models import Household
    if not postings:
        return []
    rows = db.session.execute(
        select(HoldbackCredit.household_id, func.sum(HoldbackCredit.amount_fen), func.max(Bill.month))
        .outerjoin(Bill, Bill.id == HoldbackCredit.bill_id)
        .where(HoldbackCredit.release_id.in_([p.id for p in postings])).group_by(HoldbackCredit.household_id)).all()
    homes = {h.id: h for h in db.session.execute(select(Household).options(selectinload(Household.building)).where(
        Household.id.in_([r[0] for r in rows]))).scalars()}
    return sorted(((homes[h], int(amount), month) for h, amount, month in rows if h in homes),
                  key=lambda r: r[0].label)


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
