"""The demo district's messages and webhooks. The inbox items were written by the real handlers
while the other seeders built demands, publications, objections, votes and credit records (the
accounts exist before them); here the older ones are marked read as their owners would have,
the deadline reminders are added, the residents' SMS go out through the log provider, and the
12345 platform's API client gets a webhook subscription with a few deliveries, succeeded and
failed, as the delivery list shows them."""
from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from .. import audit
from ..api.models import ApiClient
from ..events import DomainEvent
from ..extensions import db
from ..notifications import outbox, reminders
from ..notifications.models import InboxItem, NotifyPreference, OutboxMessage
from ..tenancy import tenant_scope
from ..timeutil import now
from ..webhooks import logic as webhooks
from ..webhooks.models import WebhookDelivery, WebhookSubscription

CLIENT_NAME = "12345 市民热线平台"     # the api helper's demo client: looked up by name, made if missing
HOOK_URL = "https://12345.changzhi.example/api/wuye/callback"
KEEP_UNREAD_DAYS = 14
OK_REPLY = '{"code":0,"msg":"success"}'


def _client() -> ApiClient:
    client = db.session.execute(select(ApiClient).where(ApiClient.name == CLIENT_NAME)).scalar_one_or_none()
    if client is None:
        import hashlib
        client = ApiClient(name=CLIENT_NAME, scopes=["demands:write", "demands:read"],
                           key_id="k_" + secrets.token_hex(8),
                           secret_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest())
        db.session.add(client)
        db.session.flush()
    return client


def _deliveries(sub: WebhookSubscription, at) -> int:
    """Deliveries of the latest demand outcomes: most succeeded (some after a retry), one still
    retrying after a 503, one given up after the receiver was unreachable."""
    evs = db.session.execute(select(DomainEvent).where(DomainEvent.kind.in_(sub.kinds))
                             .order_by(DomainEvent.at.desc(), DomainEvent.id.desc()).limit(8)).scalars().all()
    made = 0
    for i, ev in enumerate(reversed(evs)):
        body = webhooks.payload(ev)
        d = WebhookDelivery(uid=str(uuid.uuid4()), subscription_id=sub.id, event_id=ev.id, kind=ev.kind, body=body,
                            created_at=ev.at, next_at=ev.at)
        if i == len(evs) - 1:       # the newest: the platform answered 503, a retry is due
            d.status, d.attempts, d.response_code = "retry", 2, 503
            d.response_excerpt, d.last_error = '{"code":503,"msg":"服务维护中"}', "HTTP 503"
            d.next_at = max(at, ev.at) + timedelta(minutes=5)
        elif i == 1:                # an old one: unreachable six times, given up
            d.status, d.attempts, d.response_code = "failed", webhooks.MAX_ATTEMPTS, None
            d.last_error = "无法连接：[Errno 111] Connection refused"
        else:
            d.status, d.attempts, d.response_code = "succeeded", 2 if i == 3 else 1, 200
            d.response_excerpt, d.delivered_at = OK_REPLY, ev.at + timedelta(seconds=2)
        db.session.add(d)
        made += 1
    db.session.flush()
    return made


# Today's 12345 work orders at the demo compound, through the workflow itself (their events tell
# the firm, the community and the street, and the 12345 platform's webhook).
TODAY = [("2 号楼地下车库排水泵故障，积水严重", "连续下雨后车库入口积水没过脚踝，车辆无法出入。", "陈先生", "13603551177"),
         ("5 单元电梯运行时有异响", "电梯上下行时有明显摩擦声，老人不敢乘坐。", "刘阿姨", "13934567812"),
         ("小区东门路灯不亮已一周", "东门到 3 号楼之间的路灯全部不亮，夜间行走不安全。", "孙女士", "15835501288")]


PATROL = ("3 号楼北侧消防通道被杂物堵塞", "网格巡查发现：3 号楼北侧消防通道堆放废旧家具和纸箱，影响消防车通行。")


def _todays_demands(compound_id: int, firm_id: int | None, folder: str) -> int:
    from ..auth.models import Membership
    from ..demands import logic
    from ..org.models import Compound

    compound = db.session.get(Compound, compound_id)
    staff = db.session.execute(select(Membership).where(Membership.role == "community_staff",
                                                        Membership.community_id == compound.community_id)
                               ).scalars().first()
    firms = [f.id for f in logic.dispatch_firms(compound_id)]
    firm_id = firm_id if firm_id in firms else (firms[0] if firms else None)
    own = firm_id and db.session.execute(select(Membership).where(Membership.role == "firm_manager",
                                                                  Membership.firm_id == firm_id)).scalars().first()
    cats = {c.name: c for c in logic.categories(active_only=True)}
    if staff is None or not own or "维修" not in cats:
        return 0
    made = []
    for title, detail, name, phone in TODAY:
        d = logic.intake(staff, compound_id, logic.Intake(cats["维修"].id, title, detail, name, phone,
                                                          channel="hotline_12345"))
        logic.dispatch(d, staff, "firm", firm_id, "请物业尽快到场处置，办结后拍照留存。")
        made.append(d)
    # The first: the firm has repaired it; the community's return visit is due.
    logic.accept(made[0], own, "维修班组已出发")
    logic.resolve(made[0], own, "已更换排水泵并清理积水，车库恢复通行。", [], folder)
    # The grid worker's patrol found one this morning; the firm has dealt with it, and the grid
    # worker is told so.
    grid = db.session.execute(select(Membership).where(Membership.role == "grid_worker",
                                                       Membership.grid_id == compound.grid_id)
                              .order_by(Membership.id)).scalars().first()
    if grid is not None and "patrol" in logic.staff_channels():
        found = logic.intake(grid, compound_id, logic.Intake(cats["维修"].id, PATROL[0], PATROL[1],
                                                             grid.user.display_name.split("（")[0], grid.user.phone or "0355-2021234",
                                                             channel="patrol"))
        logic.dispatch(found, staff, "firm", firm_id, "网格巡查发现，请物业当日清理。")
        logic.accept(found, own, "已安排秩序维护员前往")
        logic.resolve(found, own, "杂物已清运，消防通道恢复畅通，已张贴禁止堆放提示。", [], folder)
        made.append(found)
    # The last: past its deadline, escalated to the street as the periodic job does.
    late = made[-1]
    late.deadline_at = now() - timedelta(hours=1)
    late.escalated_at = now()
    db.session.flush()
    logic._event(late, "escalated", "系统", None, "超过办理时限未办结，自动升级街道督办")
    return len(made)


def seed_notifications(tenant_id: int, compound_id: int | None = None, firm_id: int | None = None,
                       folder: str = "") -> dict:
    from ..auth.models import Membership

    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        at = now()
        # Read long ago: what their owners have dealt with (the recent ones still wait).
        db.session.execute(update(InboxItem).where(InboxItem.created_at < at - timedelta(days=KEEP_UNREAD_DAYS),
                                                   InboxItem.read_at.is_(None))
                           .values(read_at=InboxItem.created_at + timedelta(hours=3))
                           .execution_options(synchronize_session=False))
        # An objection the district has decided was read by it when it decided.
        from ..credit.models import CreditObjection
        db.session.execute(update(InboxItem).where(
            InboxItem.kind == "credit.objected", InboxItem.read_at.is_(None),
            InboxItem.subject_id.in_(select(CreditObjection.id).where(CreditObjection.status != "open")))
            .values(read_at=at).execution_options(synchronize_session=False))
        # The demo firm's manager also takes new dispatches and escalations by SMS.
        manager = firm_id and db.session.execute(select(Membership).where(
            Membership.role == "firm_manager", Membership.firm_id == firm_id)).scalars().first()
        if manager:
            db.session.add(NotifyPreference(membership_id=manager.id, phone="13835501234", wechat_kinds=[],
                                            sms_kinds=["demand.dispatched", "demand.escalated"]))
        # The 12345 platform's subscription: a few past deliveries, then today's work orders.
        client = _client()
        sub = WebhookSubscription(client_id=client.id, url=HOOK_URL, secret="whsec_" + secrets.token_urlsafe(32),
                                  kinds=list(webhooks.KINDS), created_at=at - timedelta(days=30))
        db.session.add(sub)
        db.session.flush()
        past = _deliveries(sub, at)
        todays = _todays_demands(compound_id, firm_id, folder) if compound_id else 0
        found = reminders.run_all(at)
        db.session.commit()
        # What is due goes out now through the log provider; the webhook receiver is a placeholder
        # address, so today's deliveries wait for their retries like a platform that is down.
        sent = outbox.send_due(at, limit=10_000)
        db.session.commit()
        count = db.func.count
        unread = db.session.execute(select(count(InboxItem.id)).where(InboxItem.read_at.is_(None))).scalar_one()
        messages = db.session.execute(select(count(OutboxMessage.id))).scalar_one()
        hooks = db.session.execute(select(count(WebhookDelivery.id))).scalar_one()
    return {"demands_today": todays, "inbox_unread": unread, "reminders": sum(found.values()), "outbox": messages,
            "sms_sent": sent["sent"], "webhook_deliveries": hooks or past}
