"""Start delivery promptly after a commit that wrote outbox messages or webhook deliveries.

A handler runs inside the emitting transaction and must not commit, so it only notes its
district in `session.info` (`kick()`). After the COMMIT (a SQLAlchemy `after_commit` listener,
so every commit path is covered, not one view helper) the noted districts are handed on:
- with REDIS_URL: an RQ job `deliver_now(tenant_id)` per district is enqueued right there (a
  Redis call, no SQL: the session cannot run SQL inside after_commit);
- inline (no Redis) inside a request: the delivery runs in the request's after_request, after
  the view's own commit (`after_this_request`), at most KICK_BATCH messages;
- otherwise (CLI, inline jobs): the periodic sweep (jobs/schedule.py "notifications.deliver")
  sends them.
A rollback forgets the note: a change that is rolled back tells nobody. NOTIFY_KICK=False turns
the kicks off (tests that drive the sender themselves)."""
from __future__ import annotations

from flask import after_this_request, current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..tenancy import current_tenant_id

KICK = "wuye_deliver_kick"
KICK_BATCH = 20


def kick() -> None:
    tid = current_tenant_id()
    if tid:
        db.session.info.setdefault(KICK, set()).add(tid)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    tenants = session.info.pop(KICK, None)
    if not tenants or not has_app_context() or not current_app.config.get("NOTIFY_KICK", True):
        return
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            from redis import Redis
            from rq import Queue

            q = Queue("default", connection=Redis.from_url(url))
            for tid in sorted(tenants):
                q.enqueue("wuye_saas.notifications.jobs.deliver_now", tid, job_timeout=300)
        except Exception:  # noqa: BLE001 — the sweep sends them later
            current_app.logger.warning("delivery kick not enqueued", exc_info=True)
        return
    if has_request_context():
        pending = g.get("wuye_kicks")
        if pending is None:
            pending = g.wuye_kicks = set()

            @after_this_request
            def _deliver(response):
                from .jobs import deliver_now
                for tid in sorted(g.wuye_kicks):
                    try:
                        deliver_now(tid, limit=KICK_BATCH)
                    except Exception:  # noqa: BLE001 — the page answered already; the sweep retries
                        db.session.rollback()
                        current_app.logger.warning("inline delivery failed", exc_info=True)
                return response
        pending |= tenants


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(KICK, None)
