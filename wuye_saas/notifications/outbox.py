"""The outbox: messages written with the change that caused them, sent by the job queue.

Never the same message twice:
- `idem_key` is unique per district, so the same message cannot be queued twice;
- a sender claims a row with one conditional UPDATE (`pending`/`retry` → `sending`, SKIP LOCKED
  on PostgreSQL) and COMMITS that mark before it calls the provider, so two senders (a kick and
  the periodic sweep, or two workers) never both send it;
- a crash (or a timeout after the request went out) between the provider's acceptance and the
  row being marked `sent` leaves it `sending`: the sweep turns such a row, once older than
  STALE_SENDING, into `uncertain` and does NOT send it again by itself. We chose at most once:
  an SMS that may have gone out is not repeated to a resident at night; the district admin
  sees the uncertain rows on the outbox page and may send one again by hand. The key is also
  passed to the provider (Aliyun OutId, WeChat client_msg_id) to reconcile with its records.

Failures the provider reports (HTTP 5xx/429, a connection refused, a throttling code) are retried
with back-off (BACKOFF), up to MAX_ATTEMPTS; a permanent refusal (a bad number) fails at once.
Quiet hours (the channel's, 22:00–08:00 Asia/Shanghai by default): a message that is not urgent
waits until the morning. A per-district, per-channel rate limit (messages a minute) leaves the
rest for the next run.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..tenancy import current_tenant_id
from ..timeutil import SHANGHAI, now
from . import kick, providers, templates
from .models import OutboxMessage, ProviderConfig

BACKOFF = [60, 300, 1800, 7200, 43200]     # seconds before the 2nd, 3rd, … attempt
MAX_ATTEMPTS = len(BACKOFF) + 1
STALE_SENDING = timedelta(minutes=10)
BATCH = 200                                  # messages one run sends at most


def config(channel: str) -> ProviderConfig:
    """The district's settings for the channel (an unsaved default: the log provider)."""
    cfg = db.session.execute(select(ProviderConfig).where(ProviderConfig.channel == channel)).scalar_one_or_none()
    return cfg or ProviderConfig(channel=channel, provider="log", rate_per_minute=60, quiet_start=22, quiet_end=8)


def in_quiet_hours(at: datetime, cfg: ProviderConfig) -> bool:
    loc = _local(at)
    start, end = cfg.quiet_start, cfg.quiet_end
    if start == end:
        return False
    if start > end:     # over midnight: 22 → 8
        return loc.hour >= start or loc.hour < end
    return start <= loc.hour < end


def _local(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc).astimezone(SHANGHAI)


def quiet_until(at: datetime, cfg: ProviderConfig) -> datetime:
    """`at` outside quiet hours; else the end of the quiet hours (naive UTC)."""
    if not in_quiet_hours(at, cfg):
        return at
    loc = _local(at)
    morning = loc.replace(hour=cfg.quiet_end, minute=0, second=0, microsecond=0)
    if morning <= loc:
        morning += timedelta(days=1)
    return morning.astimezone(timezone.utc).replace(tzinfo=None)


def queue(channel: str, kind: str, recipient: str, values: dict, *, key: str, urgent: bool = False,
          membership_id: int | None = None, at: datetime | None = None) -> OutboxMessage | None:
    """Add a message (flushes; the caller commits). None when one with the key exists already."""
    if db.session.execute(select(OutboxMessage.id).where(OutboxMessage.idem_key == key)).first():
        return None
    at = at or now()
    cfg = config(channel)
    tmpl = templates.own(kind)
    msg = OutboxMessage(idem_key=key[:120], channel=channel, kind=kind, recipient=recipient[:64],
                        params={k: str(v) for k, v in values.items()}, body=templates.render(kind, values, tmpl),
                        urgent=urgent, membership_id=membership_id,
                        next_at=at if urgent else quiet_until(at, cfg))
    db.session.add(msg)
    db.session.flush()
    kick.kick()
    return msg


# --- the sender ------------------------------------------------------------------------------------

def _table():
    return OutboxMessage.__table__


def _conn():
    # Core statements on the session's connection: the sender's bookkeeping does not count as a
    # change of the district's data (pagecache), and it is not audited.
    return db.session.connection()


def mark_stale(at: datetime) -> int:
    t = _table()
    n = _conn().execute(update(t).where(t.c.tenant_id == current_tenant_id(), t.c.status == "sending",
                                        t.c.claimed_at < at - STALE_SENDING)
                        .values(status="uncertain",
                                last_error="发送过程中断，无法确认服务商是否已发出；为避免重复发送，未自动重发。")).rowcount
    db.session.commit()
    return n


def _sent_last_minute(channel: str, at: datetime) -> int:
    t = _table()
    return _conn().execute(select(func.count()).select_from(t).where(
        t.c.tenant_id == current_tenant_id(), t.c.channel == channel,
        t.c.claimed_at >= at - timedelta(minutes=1))).scalar_one()


def claim(channel: str, at: datetime, quiet: bool) -> int | None:
    """Mark the next due message of the channel `sending` and commit; its id, or None."""
    t = _table()
    due = [t.c.tenant_id == current_tenant_id(), t.c.channel == channel,
           t.c.status.in_(("pending", "retry")), t.c.next_at <= at]
    if quiet:
        due.append(t.c.urgent.is_(True))
    pick = (select(t.c.id).where(*due).order_by(t.c.next_at, t.c.id).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    db.session.commit()     # no read transaction held across the claim (SQLite upgrades cleanly)
    row = _conn().execute(update(t).where(t.c.id == pick, t.c.status.in_(("pending", "retry")))
                          .values(status="sending", claimed_at=at, attempts=t.c.attempts + 1)
                          .returning(t.c.id)).first()
    db.session.commit()     # the mark is durable before the provider is called
    return row[0] if row else None


def _finish(msg_id: int, result: providers.Result, attempts: int, at: datetime, cfg: ProviderConfig) -> str:
    t = _table()
    if result.ok:
        values = {"status": "sent", "sent_at": now(), "provider_ref": result.ref[:100], "last_error": ""}
    elif result.uncertain:
        values = {"status": "uncertain", "last_error": result.error[:1000]}
    elif result.retry and attempts < MAX_ATTEMPTS:
        values = {"status": "retry", "last_error": result.error[:1000],
                  "next_at": at + timedelta(seconds=BACKOFF[attempts - 1])}
    else:
        values = {"status": "failed", "last_error": result.error[:1000]}
    _conn().execute(update(t).where(t.c.id == msg_id, t.c.status == "sending").values(**values))
    db.session.commit()
    return values["status"]


def send_due(at: datetime | None = None, limit: int = BATCH) -> dict:
    """Send what is due in the current district; counts by outcome."""
    at = at or now()
    counts = {"sent": 0, "retry": 0, "failed": 0, "uncertain": 0, "held": 0}
    counts["uncertain"] += mark_stale(at)
    for channel in ("sms", "wechat"):
        cfg = config(channel)
        quiet = in_quiet_hours(at, cfg)
        while sum(counts.values()) < limit:
            if _sent_last_minute(channel, at) >= max(1, cfg.rate_per_minute):
                counts["held"] += 1
                break
            msg_id = claim(channel, at, quiet)
            if msg_id is None:
                break
            msg = db.session.get(OutboxMessage, msg_id, populate_existing=True)
            try:
                result = providers.send(cfg, msg, templates.own(msg.kind))
            except Exception as exc:  # noqa: BLE001 — an adapter's bug must not lose the row's state
                current_app.logger.exception("outbox %s: provider error", msg_id)
                result = providers.Result(False, error=f"发送异常：{exc}", uncertain=True)
            counts[_finish(msg_id, result, msg.attempts, at, cfg)] += 1
    return counts


def resend(msg: OutboxMessage) -> None:
    """An admin's decision to send a failed or uncertain message again (flushes)."""
    msg.status, msg.next_at, msg.last_error = "pending", now(), ""
    db.session.flush()
    kick.kick()


def messages_select(status: str | None = None):
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return stmt


