"""The scheduled escalation of overdue demands to the street (逾期升级街道).

Started by the periodic scheduler (`demands.escalate` in jobs/schedule.py) for each active
district, with the tick time as an ISO string so tests control "now".
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, select, update

from .. import audit, events
from ..extensions import db
from ..jobs import JobRun, job
from ..tenancy import current_tenant_id
from .logic import overdue_clause
from .models import Demand, DemandEvent

CHUNK = 500
SYSTEM = "系统"


def _naive_utc(at_iso: str) -> datetime:
    at = datetime.fromisoformat(at_iso)
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at


@job(queue="default", timeout=600)
def escalate_overdue(run: JobRun, at_iso: str) -> None:
    """Every unresolved demand past its deadline and not yet escalated gets escalated_at = at and
    an "escalated" event. Set-based in chunks; running it again (or twice at once) changes
    nothing more: rows are locked while claimed and the update re-checks escalated_at IS NULL."""
    at = _naive_utc(at_iso)
    due = (select(Demand.id).where(overdue_clause(at), Demand.escalated_at.is_(None))
           .order_by(Demand.id))
    total = db.session.execute(due.with_only_columns(db.func.count(Demand.id)).order_by(None)).scalar_one()
    done, tenant_id = 0, current_tenant_id()
    while True:
        # SKIP LOCKED on PostgreSQL: a concurrent run leaves these rows to this one (SQLite has
        # one writer and ignores it).
        rows = db.session.execute(due.add_columns(Demand.compound_id, Demand.number).limit(CHUNK)
                                  .with_for_update(skip_locked=True)).all()
        if not rows:
            break
        ids = [r[0] for r in rows]
        db.session.execute(update(Demand).where(Demand.id.in_(ids), Demand.escalated_at.is_(None))
                           .values(escalated_at=at).execution_options(synchronize_session=False))
        db.session.execute(insert(DemandEvent), [
            {"tenant_id": tenant_id, "demand_id": i, "kind": "escalated", "at": at, "user_id": None,
             "actor": SYSTEM, "note": "超过办理时限未办结，自动升级街道督办", "data": {}} for i in ids])
        for i, compound_id, number in rows:
            events.emit("demand.escalated", "demand", i, compound_id=compound_id, at=at,
                        data={"number": number})
        done += len(ids)
        run.report(done, total, f"已升级 {done} / {total} 件")
    if done:
        # The bulk writes bypass the ORM unit of work: one summary audit event.
        audit.record_event("update", "demand", f"逾期诉求升级街道 {done} 件",
                           {"escalated": done, "at": at.isoformat()})
    run.result = {"escalated": done, "at": at.isoformat()}
    run.message = f"升级街道 {done} 件逾期诉求。" if done else "没有需要升级的逾期诉求。"
    db.session.flush()
