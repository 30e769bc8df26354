"""Credit score and grade of firms on a day, the 警示名单, and the quarterly snapshots.

Rules (the district's CreditRule; defaults in defaults.py, 山东/烟台):
- score on a day = base + valid good points − valid bad points;
- a record is valid on day d when occurred_on ≤ d < valid_until and it was not revoked on or
  before d (a record expires on its validity date: it no longer counts that day);
- base: the firm's total in the latest published 年度考核 (published on or before the day; the
  mean over its assessed compounds), else the configured base points — or always the configured
  base when the district says so;
- grade: the first band whose minimum the score reaches (AAA ≥ 85, AA ≥ 80, A ≥ 70, B ≥ 60),
  else C; any valid serious record: 黑名单, whatever the score;
- 警示名单: a valid serious record, or at least N valid bad records (N configured);
- a snapshot per firm per quarter end keeps the grade as computed then; taking it again writes
  nothing (history does not move when today's data changes).

Every computation is a fixed number of statements, whatever the number of firms or records.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import case, func, insert, or_, select

from .. import audit
from ..evaluation.models import Assessment, Evaluation
from ..extensions import db
from ..org.models import Firm
from ..tenancy import current_tenant_id
from ..timeutil import SHANGHAI, now
from .defaults import LOWEST, rule
from .models import BLACKLIST, CreditGrade, CreditRecord, CreditRule

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass
class Standing:
    firm_id: int
    base: Decimal
    good: Decimal
    bad: Decimal            # positive: the points taken off
    bad_count: int
    serious_count: int
    score: Decimal
    grade: str
    warned: bool = False     # on the 警示名单


def band(r: CreditRule, score: Decimal) -> str:
    for b in r.bands or []:
        if score >= Decimal(str(b["min"])):
            return b["grade"]
    return LOWEST


def _end_of_day_utc(day: date) -> datetime:
    """The first instant after `day` in Shanghai, as naive UTC (how times are stored)."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


def _bases(r: CreditRule, on: date, firm_ids) -> dict[int, Decimal]:
    if r.base_source != "evaluation":
        return {}
    stmt = (select(Assessment.firm_id, Evaluation.published_at, Evaluation.id, func.avg(Assessment.total))
            .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
            .where(Evaluation.kind == "annual", Evaluation.status == "published",
                   Evaluation.published_at < _end_of_day_utc(on), Assessment.total.is_not(None))
            .group_by(Assessment.firm_id, Evaluation.published_at, Evaluation.id))
    if firm_ids is not None:
        stmt = stmt.where(Assessment.firm_id.in_(firm_ids))
    latest: dict[int, tuple] = {}
    for firm_id, at, ev_id, avg in db.session.execute(stmt):
        if firm_id not in latest or (at, ev_id) > latest[firm_id][0]:
            latest[firm_id] = ((at, ev_id), Decimal(str(avg)).quantize(CENT))
    return {f: v[1] for f, v in latest.items()}


def valid_clause(on: date):
    return (CreditRecord.occurred_on <= on, CreditRecord.valid_until > on,
            or_(CreditRecord.revoked_on.is_(None), CreditRecord.revoked_on > on))


def standings(on: date, firm_ids: list[int] | None = None) -> dict[int, Standing]:
    """Every firm's (or the given firms') standing on the day."""
    r = rule()
    bases = _bases(r, on, firm_ids)
    is_bad = CreditRecord.nature == "bad"
    rec = (select(CreditRecord.firm_id,
                  func.sum(case((is_bad, 0), else_=CreditRecord.points)).label("good"),
                  func.sum(case((is_bad, -CreditRecord.points), else_=0)).label("bad"),
                  func.sum(case((is_bad, 1), else_=0)).label("bad_count"),
                  func.sum(case((CreditRecord.serious.is_(True), 1), else_=0)).label("serious"))
           .where(*valid_clause(on)).group_by(CreditRecord.firm_id))
    firms = select(Firm.id)
    if firm_ids is not None:
        rec = rec.where(CreditRecord.firm_id.in_(firm_ids))
        firms = firms.where(Firm.id.in_(firm_ids))
    # The firms (those that exist, in this district) with their records' sums: one statement.
    rec = rec.subquery()
    rows = db.session.execute(firms.add_columns(rec.c.good, rec.c.bad, rec.c.bad_count, rec.c.serious)
                              .outerjoin(rec, rec.c.firm_id == Firm.id))
    out = {}
    for fid, *sums in rows:
        good, bad, bad_count, serious = sums
        good, bad = Decimal(str(good or 0)).quantize(CENT), Decimal(str(bad or 0)).quantize(CENT)
        base = bases.get(fid, r.base_points)
        score = base + good - bad
        bad_count, serious = int(bad_count or 0), int(serious or 0)
        out[fid] = Standing(fid, base, good, bad, bad_count, serious, score,
                            BLACKLIST if serious else band(r, score),
                            warned=bool(serious) or bad_count >= r.warning_bad_count)
    return out


def standing(firm_id: int, on: date) -> Standing:
    return standings(on, [firm_id])[firm_id]


# --- quarters ------------------------------------------------------------------------------------

def quarter_end(d: date) -> date:
    """The last day of d's quarter."""
    q_last_month = (d.month - 1) // 3 * 3 + 3
    first_next = date(d.year + (q_last_month == 12), q_last_month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def last_finished_quarter_end(d: date) -> date:
    """The latest quarter end strictly before d (its day is over)."""
    qe = quarter_end(d)
    return qe if qe < d else quarter_end(date(d.year, (d.month - 1) // 3 * 3 + 1, 1) - timedelta(days=1))


def take_snapshot(qe: date) -> int:
    """Keep every firm's grade at the quarter end `qe` (a finished day); firms that already have
    one for it keep theirs. One bulk insert and one audit summary; the number of snapshots
    written. Flushes; the caller commits."""
    have = set(db.session.execute(select(CreditGrade.firm_id).where(CreditGrade.quarter_end == qe)).scalars())
    at, tid = now(), current_tenant_id()
    rows = [{"tenant_id": tid, "firm_id": fid, "quarter_end": qe, "base": s.base, "good": s.good, "bad": s.bad,
             "score": s.score, "grade": s.grade, "taken_at": at}
            for fid, s in standings(qe).items() if fid not in have]
    if rows:
        db.session.execute(insert(CreditGrade), rows)
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["grade"]] = counts.get(r["grade"], 0) + 1
        audit.record_event("snapshot", "credit_grade", f"{qe:%Y-%m-%d} 季度信用等级", changes={
            "quarter_end": qe.isoformat(), "firms": len(rows), "grades": counts})
    db.session.flush()
    return len(rows)


def history(firm_id: int) -> list[CreditGrade]:
    return list(db.session.execute(select(CreditGrade).where(CreditGrade.firm_id == firm_id)
                                   .order_by(CreditGrade.quarter_end.desc())).scalars())


def grades_of(firm_ids: list[int], on: date) -> dict[int, str]:
    """Firm → grade on the day, for registers that show it beside other columns."""
    return {f: s.grade for f, s in standings(on, firm_ids).items()} if firm_ids else {}
