"""Jobs of notifications and webhooks: the periodic sweep (send what is due), the deadline
reminders, and `deliver_now`, the plain function a kick enqueues (kick.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from ..jobs import JobRun, job
from ..tenancy import tenant_scope
from . import outbox, reminders


def _at(at_iso: str) -> datetime:
    at = datetime.fromisoformat(at_iso)
    return at if at.tzinfo is None else at.astimezone(timezone.utc).replace(tzinfo=None)


def deliver_now(tenant_id: int, limit: int = outbox.BATCH, at: datetime | None = None) -> dict:
    """Send the district's due outbox messages and webhook deliveries (RQ job or inline)."""
    from rq import get_current_job

    from ..extensions import db
    from ..webhooks import logic as webhooks

    if get_current_job() is not None:
        db.engine.dispose(close=False)   # a forked work horse: not the parent's pooled connections
    with tenant_scope(tenant_id):
        sent = outbox.send_due(at, limit=limit)
        hooks = webhooks.deliver_due(at, limit=limit)
        db.session.commit()
    return {"outbox": sent, "webhooks": hooks}


@job(queue="default", timeout=600)
def sweep(run: JobRun, at_iso: str) -> None:
    from ..extensions import db
    from ..tenancy import current_tenant_id
    db.session.commit()    # the run's own state, before the sender's short transactions
    got = deliver_now(current_tenant_id(), at=_at(at_iso))
    o, w = got["outbox"], got["webhooks"]
    run.result = got
    run.message = f"消息：发送 {o['sent']} 条，待重试 {o['retry']} 条；Webhook：成功 {w['succeeded']} 次，待重试 {w['retry']} 次。"


@job(queue="default", timeout=600)
def remind(run: JobRun, at_iso: str) -> None:
    got = reminders.run_all(_at(at_iso))
    run.result = got
    run.message = f"新增提醒：自评 {got['self_report']} 条，审核 {got['review']} 条，公示 {got['publication']} 条。"
