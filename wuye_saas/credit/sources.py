"""Credit records from the other sources the issue names: the publicity schedule, demands and
exits. Each is written once: its `source_ref` is unique with its kind, so the daily job (credit/
jobs.py, `flask credit-sources`) runs any number of times and writes each record once. Plain
functions: they flush, the caller commits. The kinds come from defaults.KINDS (added when the
district does not have them yet); a kind the district deactivated writes nothing.

Rules:
- Publicity (扬州: each failure to publicise fees or public revenue −5): for every periodic
  requirement of the district's schedule and every compound it applies to, the period due on
  the day (publicity/schedule.py: the latest period whose deadline has passed) that was not
  published by its deadline (missing, or published late) is a bad record of the firm that
  served the compound on the deadline (a contract in force that day, begun by the period's end)
  — unless the committee keeps that ledger (the district's LedgerKeeper rule): then it is not
  the firm's duty. Kind: 公共收益 statements → revenue_publicity, 物业费收支 statements →
  fee_publicity (扬州), other periodic publications → publicity_missed (民法典第943条).
  Dated the day after the deadline; keyed `publicity:<requirement>:<compound>:<period start>`.
  Standing notices (长期公示) have no deadline and write no record (the compliance page shows
  them missing). Running daily, each period is checked while it is the one due.
- Demands (青岛: three yellow cards — an unfixed finding each — make a red card): when a firm's
  demands escalated to the street past their deadline (Demand.escalated_at, set by the
  demands job) within one calendar month (Shanghai) reach the district's threshold
  (CreditRule.overdue_demands_threshold, default 3), the firm gets one bad record
  overdue_demands for that month, dated the day of the escalation that reached it; keyed
  `demands:overdue:<firm>:<YYYY-MM>`. The job looks at this month and the last one.
- Exits (扬州: refusing to leave after the contract ends is a veto item): the exit workflow
  calls `record_exit_refusal`, which writes the serious record exit_refusal (合同终止拒不退出) once per source key.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, select

from ..demands.models import Demand
from ..extensions import db
from ..org.models import Compound, Contract, Firm
from ..timeutil import day_start_utc, local
from . import defaults
from .models import CreditRecord
from .records import _new_record

# Requirement (kind, ledger kind) → record kind; others periodic: OTHER_PUBLICITY.
PUBLICITY_KINDS = {("ledger_statement", "public_revenue"): "revenue_publicity",
                   ("ledger_statement", "fee_account"): "fee_publicity"}
OTHER_PUBLICITY = "publicity_missed"
OVERDUE_KIND = "overdue_demands"
EXIT_KIND = "exit_refusal"


def _refs(prefix: str) -> set[tuple[str, int]]:
    return set(db.session.execute(select(CreditRecord.source_ref, CreditRecord.kind_id)
                                  .where(CreditRecord.source_ref.like(f"{prefix}%"))).all())


# --- publicity ----------------------------------------------------------------------------------

def _firm_keeps(kind: str, ledger_kind: str | None, keepers: dict) -> bool:
    from ..publicity.checks import KIND_KEEPER
    if kind == "ledger_statement":
        return keepers.get(ledger_kind) == "firm"
    return KIND_KEEPER.get(kind, "firm") == "firm"


def sync_publicity(on: date) -> int:
    """Bad records for the publications due on `on` and not published by their deadline."""
    from ..publicity.accounts import keeper_of
    from ..publicity.models import LEDGER_KINDS
    from ..publicity.schedule import STATUSES, compliance
    keepers = {k: keeper_of(k) for k in LEDGER_KINDS}
    ids = list(db.session.execute(select(Compound.id).order_by(Compound.id)).scalars())
    rows = [r for r in compliance(ids, on) if r.frequency != "standing" and r.status != "ok"
            and _firm_keeps(r.kind, r.ledger_kind, keepers)]
    if not rows:
        return 0
    contracts: dict[int, list[Contract]] = {}
    for c in db.session.execute(select(Contract).where(Contract.compound_id.in_({r.compound_id for r in rows}))
                                .order_by(Contract.start_date)).scalars():
        contracts.setdefault(c.compound_id, []).append(c)
    done = _refs("publicity:")
    kinds: dict[str, object] = {}
    written = 0
    for r in rows:
        code = PUBLICITY_KINDS.get((r.kind, r.ledger_kind), OTHER_PUBLICITY)
        if code not in kinds:
            kinds[code] = defaults.kind(code)
        kind = kinds[code]
        if kind is None or not kind.active:
            continue
        firm = next((c.firm_id for c in contracts.get(r.compound_id, [])
                     if c.start_date <= r.period_end and c.start_date <= r.deadline <= c.end_date), None)
        if firm is None:
            continue
        ref = f"publicity:{r.requirement_id}:{r.compound_id}:{r.period_start:%Y%m%d}"
        day = r.deadline + timedelta(days=1)
        if (ref, kind.id) in done or day + timedelta(days=kind.validity_days) <= on:
            continue
        what = (f"于 {r.published_on:%Y-%m-%d} 逾期公示" if r.status == "late" and r.published_on
                else f"截至 {on:%Y-%m-%d} {STATUSES['missing']}")
        _new_record(firm, kind, day, f"{r.compound_name}{r.label}（{r.period_start:%Y-%m-%d}至{r.period_end:%Y-%m-%d}）"
                    f"未按期公示", "publicity",
                    f"按本区公示要求，{r.compound_name}的{r.label}（{r.period_start:%Y-%m-%d}至{r.period_end:%Y-%m-%d}）"
                    f"应于 {r.deadline:%Y-%m-%d} 前公示；{what}。", None, source_ref=ref)
        done.add((ref, kind.id))
        written += 1
    db.session.flush()
    return written


# --- demands ------------------------------------------------------------------------------------

def _month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def sync_demands(on: date) -> int:
    """Bad records for firms whose escalated demands reached the threshold this month or the last."""
    kind = defaults.kind(OVERDUE_KIND)
    if kind is None or not kind.active:
        return 0
    threshold = defaults.rule().overdue_demands_threshold or defaults.OVERDUE_DEMANDS_THRESHOLD
    this = _month_start(on)
    last = _month_start(this - timedelta(days=1))
    done = _refs("demands:overdue:")
    names = {}
    written = 0
    for start in (last, this):
        end = _month_start(start + timedelta(days=32))
        rows = db.session.execute(
            select(Demand.firm_id, Demand.escalated_at, Demand.number)
            .where(Demand.assignee_kind == "firm", Demand.firm_id.is_not(None),
                   and_(Demand.escalated_at >= day_start_utc(start), Demand.escalated_at < day_start_utc(min(end, on + timedelta(days=1)))))
            .order_by(Demand.firm_id, Demand.escalated_at, Demand.id)).all()
        by_firm: dict[int, list] = {}
        for firm_id, at, number in rows:
            by_firm.setdefault(firm_id, []).append((at, number))
        for firm_id, items in sorted(by_firm.items()):
            ref = f"demands:overdue:{firm_id}:{start:%Y-%m}"
            if len(items) < threshold or (ref, kind.id) in done:
                continue
            day = local(items[threshold - 1][0]).date()
            if day + timedelta(days=kind.validity_days) <= on:
                continue
            if not names:
                names = dict(db.session.execute(select(Firm.id, Firm.name)).all())
            numbers = "、".join(n for _, n in items[:10]) + ("等" if len(items) > 10 else "")
            _new_record(firm_id, kind, day, f"{start.year}年{start.month}月逾期升级诉求 {len(items)} 件", "demands",
                        f"{names.get(firm_id, '')}承办的诉求于 {start.year}年{start.month}月 超过办理时限未办结、"
                        f"升级街道督办 {len(items)} 件（本区规定每月达到 {threshold} 件计一条不良记录）：{numbers}。",
                        None, source_ref=ref)
            done.add((ref, kind.id))
            written += 1
    db.session.flush()
    return written


# --- exits --------------------------------------------------------------------------------------

def record_exit_refusal(firm_id: int, compound_id: int, occurred_on: date, source_key: str,
                        evidence: str) -> CreditRecord | None:
    """合同终止拒不退出 (扬州: a veto item; 民法典第949条): the serious record exit_refusal of the
    firm, once per `source_key` (the exit's own key, at most 80 characters; calling again
    returns the record already written). None when the district deactivated the kind."""
    kind = defaults.kind(EXIT_KIND)
    if kind is None or not kind.active:
        return None
    source_key = (source_key or "").strip()
    if not source_key or len(source_key) > 80:
        raise ValueError("source_key: 1 to 80 characters")
    existing = db.session.execute(select(CreditRecord).where(CreditRecord.source_ref == source_key,
                                                             CreditRecord.kind_id == kind.id)).scalar_one_or_none()
    if existing is not None:
        return existing
    compound = db.session.get(Compound, compound_id)
    rec = _new_record(firm_id, kind, occurred_on, f"{compound.name if compound else ''}合同终止后拒不退出", "exit",
                      (evidence or "").strip() or "合同终止后拒不退出。", None, source_ref=source_key)
    db.session.flush()
    return rec


def sync_all(on: date) -> dict:
    """The scheduled run: every automatic source but evaluations (those follow publishing)."""
    return {"publicity": sync_publicity(on), "demands": sync_demands(on)}
