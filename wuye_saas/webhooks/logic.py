"""Webhook subscriptions and deliveries. Plain functions (flush only; the caller commits), except
the sender (`deliver_due`), which commits its own short steps.

A delivery is created by an events handler in the emitting transaction (rolled back with it),
its body fixed then. Each attempt POSTs that body with
  X-Wuye-Event: <kind>, X-Wuye-Delivery: <uid>, X-Wuye-Timestamp: <unix seconds>,
  X-Wuye-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>.
A 2xx answer is success; anything else (or no answer within TIMEOUT) is retried after BACKOFF
(1 min, 5 min, 30 min, 2 h, 12 h), and given up after MAX_ATTEMPTS. Deliveries are at least
once: a delivery whose sender died mid-attempt is tried again, so receivers dedupe on
X-Wuye-Delivery."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from .. import events, outbound
from ..api.models import ApiClient
from ..extensions import db
from ..notifications import kick
from ..tenancy import Tenant, current_tenant_id
from ..timeutil import now
from .models import WebhookDelivery, WebhookSubscription

KINDS = ["demand.dispatched", "demand.resolved", "demand.closed", "demand.escalated", "evaluation.published",
         "publication.issued"]
BACKOFF = [60, 300, 1800, 7200, 43200]
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT = 10
STALE_SENDING = timedelta(minutes=5)
BATCH = 200
USER_AGENT = "wuye-saas-webhooks/1"


class WebhookProblem(ValueError):
    def __init__(self, message: str, field: str = "url"):
        super().__init__(message)
        self.message = message
        self.field = field


def kind_labels() -> dict[str, str]:
    return {k: events.KINDS[k] for k in KINDS}


# --- subscriptions ---------------------------------------------------------------------------------

def subscribe(client: ApiClient, url: str, kinds: list[str], user_id: int | None = None
              ) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (shown once)."""
    url = (url or "").strip()
    if len(url) > 500:
        raise WebhookProblem("接收地址不能超过 500 个字符。")
    try:
        outbound.check_url(url)
    except outbound.Refused as e:
        raise WebhookProblem(e.message) from None
    kinds = [k for k in dict.fromkeys(kinds or [])]
    if not kinds:
        raise WebhookProblem("请至少选择一种事件。", "kinds")
    if any(k not in KINDS for k in kinds):
        raise WebhookProblem("请选择列出的事件。", "kinds")
    if client.revoked_at is not None:
        raise WebhookProblem("该接口客户端已停用，不能再订阅。")
    secret = "whsec_" + secrets.token_urlsafe(32)
    sub = WebhookSubscription(client_id=client.id, url=url, kinds=kinds, secret=secret, created_by_id=user_id)
    db.session.add(sub)
    db.session.flush()
    return sub, secret


def subscriptions_select(client: ApiClient):
    return select(WebhookSubscription).where(WebhookSubscription.client_id == client.id).order_by(
        WebhookSubscription.id)


def deliveries_select(sub: WebhookSubscription, status: str | None = None):
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id).order_by(WebhookDelivery.id.desc())
    return stmt.where(WebhookDelivery.status == status) if status else stmt


def set_active(sub: WebhookSubscription, active: bool) -> None:
    sub.active = active
    db.session.flush()


def resend(d: WebhookDelivery) -> None:
    d.status, d.next_at, d.last_error = "pending", now(), ""
    db.session.flush()
    kick.kick()


# --- payloads ------------------------------------------------------------------------------------

def _iso(at: datetime | None) -> str | None:
    return at.replace(microsecond=0).isoformat() + "Z" if at else None


def event_data(ev) -> dict:
    """The event's plain values, with what a receiver needs to act without calling back: for a
    demand its number, status and outcome (so a 12345 platform closes its work order)."""
    data = dict(ev.data or {})
    if ev.subject == "demand":
        from ..demands.models import STATUSES, Demand
        d = db.session.get(Demand, ev.subject_id)
        if d is not None:
            data.update({"demand_id": d.id, "number": d.number, "status": d.status,
                         "status_label": STATUSES.get(d.status, d.status), "title": d.title,
                         "channel": d.channel, "compound": d.compound.name,
                         "assignee": d.firm.name if d.firm is not None else (d.assignee_name or None),
                         "received_at": _iso(d.received_at), "deadline_at": _iso(d.deadline_at)})
            if ev.kind in ("demand.resolved", "demand.closed"):
                data.update({"resolution": d.resolution, "resolved_at": _iso(d.resolved_at)})
            if ev.kind == "demand.closed":
                data.update({"closed_at": _iso(d.closed_at), "satisfaction": d.satisfaction})
    elif ev.subject == "publication":
        data["publication_id"] = ev.subject_id
    elif ev.subject == "evaluation":
        data["evaluation_id"] = ev.subject_id
    if ev.compound_id is not None:
        data.setdefault("compound_id", ev.compound_id)
    return data


def payload(ev) -> str:
    tenant = db.session.get(Tenant, ev.tenant_id)
    body = {"id": ev.id, "kind": ev.kind, "at": _iso(ev.at), "district": tenant.slug if tenant else None,
            "data": event_data(ev)}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@events.handler
def on_event(ev) -> None:
    if ev.kind not in KINDS:
        return
    subs = db.session.execute(
        select(WebhookSubscription).join(ApiClient, ApiClient.id == WebhookSubscription.client_id)
        .where(WebhookSubscription.active.is_(True), ApiClient.revoked_at.is_(None))
        .order_by(WebhookSubscription.id)).scalars().all()
    subs = [s for s in subs if ev.kind in (s.kinds or [])]
    if not subs:
        return
    body = payload(ev)
    for s in subs:
        db.session.add(WebhookDelivery(uid=str(uuid.uuid4()), subscription_id=s.id, event_id=ev.id, kind=ev.kind,
                                       body=body, next_at=now()))
    db.session.flush()
    kick.kick()


# --- signing and sending ----------------------------------------------------------------------------

def signature(secret: str, timestamp: str, body: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def verify(secret: str, headers, body: bytes, tolerance: int = 300, at: float | None = None) -> bool:
    """What a receiver does (README): recompute the signature over "<timestamp>.<body>" and compare
    in constant time; refuse a timestamp older than `tolerance` seconds (a replay)."""
    ts = headers.get("X-Wuye-Timestamp", "")
    if not ts.isdigit() or abs((at or time.time()) - int(ts)) > tolerance:
        return False
    expected = signature(secret, ts, body.decode())
    return hmac.compare_digest(expected, headers.get("X-Wuye-Signature", ""))


def _post(sub: WebhookSubscription, d: WebhookDelivery) -> tuple[int | None, str, str]:
    """(status code or None, response excerpt, error)."""
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "X-Wuye-Event": d.kind, "X-Wuye-Delivery": d.uid, "X-Wuye-Timestamp": ts,
               "X-Wuye-Signature": signature(sub.secret, ts, d.body)}
    try:
        status, body = outbound.request("POST", sub.url, d.body.encode(), headers, timeout=TIMEOUT, limit=2048)
    except outbound.Refused as e:
        return None, "", f"拒绝发送：{e.message}"
    except TimeoutError:
        return None, "", f"接收方未在 {TIMEOUT} 秒内应答"
    except OSError as e:
        return None, "", f"无法连接：{e}"
    return status, body.decode("utf-8", "replace"), "" if 200 <= status < 300 else f"HTTP {status}"


def _table():
    return WebhookDelivery.__table__


def claim(at: datetime) -> int | None:
    t = _table()
    subs, clients = WebhookSubscription.__table__, ApiClient.__table__
    pick = (select(t.c.id).where(t.c.tenant_id == current_tenant_id(), t.c.status.in_(("pending", "retry")),
                                 t.c.next_at <= at,
                                 t.c.subscription_id.in_(select(subs.c.id).join(
                                     clients, clients.c.id == subs.c.client_id).where(
                                     subs.c.active.is_(True), clients.c.revoked_at.is_(None))))
            .order_by(t.c.next_at, t.c.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
    db.session.commit()
    conn = db.session.connection()
    row = conn.execute(update(t).where(t.c.id == pick, t.c.status.in_(("pending", "retry")))
                       .values(status="sending", claimed_at=at, attempts=t.c.attempts + 1).returning(t.c.id)).first()
    db.session.commit()
    return row[0] if row else None


def deliver_due(at: datetime | None = None, limit: int = BATCH) -> dict:
    """Send the current district's due deliveries; counts by outcome."""
    at = at or now()
    t = _table()
    conn = db.session.connection()
    conn.execute(update(t).where(t.c.tenant_id == current_tenant_id(), t.c.status == "sending",
                                 t.c.claimed_at < at - STALE_SENDING)
                 .values(status="retry", next_at=at, last_error="上次发送中断，重新发送"))
    db.session.commit()
    counts = {"succeeded": 0, "retry": 0, "failed": 0}
    while sum(counts.values()) < limit:
        did = claim(at)
        if did is None:
            break
        d = db.session.get(WebhookDelivery, did, populate_existing=True)
        code, excerpt, error = _post(d.subscription, d)
        if code is not None and 200 <= code < 300:
            values = {"status": "succeeded", "delivered_at": now(), "last_error": ""}
        elif d.attempts < MAX_ATTEMPTS:
            values = {"status": "retry", "next_at": at + timedelta(seconds=BACKOFF[d.attempts - 1]),
                      "last_error": (error or f"HTTP {code}")[:300]}
        else:
            values = {"status": "failed", "last_error": (error or f"HTTP {code}")[:300]}
        values.update(response_code=code, response_excerpt=excerpt[:300])
        db.session.connection().execute(update(t).where(t.c.id == did, t.c.status == "sending").values(**values))
        db.session.commit()
        counts[values["status"]] += 1
    return counts
