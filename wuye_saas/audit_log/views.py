"""The district's audit log: who changed what, when, with before/after values."""
from datetime import datetime, time, timedelta, timezone

from flask import g, request
from sqlalchemy import select

from ..audit import AuditEvent
from ..extensions import db
from ..timeutil import SHANGHAI
from ..web import page_arg, render, require, tenant_blueprint
from . import display
from .labels import ACTION_LABELS, ENTITY_GROUPS, ENTITY_LABELS, OTHER_GROUP
from ..formutil import record_id

bp = tenant_blueprint("audit_log", __name__, "/audit")


def entity_options(present) -> list[tuple[str, list[tuple[str, str]]]]:
    """The entity filter: the entities this district's log holds, in Chinese, grouped and
    ordered as the product's menu; any without a label last, under their own name."""
    present = set(present)
    groups = [(group, [(e, label) for e, label in entities.items() if e in present])
              for group, entities in ENTITY_GROUPS]
    unknown = sorted(present - ENTITY_LABELS.keys())
    if unknown:
        groups.append((OTHER_GROUP, [(e, e) for e in unknown]))
    return [(group, options) for group, options in groups if options]


def _utc_bound(text: str, end: bool):
    """A Shanghai calendar day → naive UTC bound (the storage convention)."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


@bp.route("/")
def index():
    require("view_all", "audit")
    args = request.args
    # Audit events are not TenantScoped (platform events have no district): filter here.
    stmt = select(AuditEvent).where(AuditEvent.tenant_id == g.tenant.id)
    if args.get("entity"):
        stmt = stmt.where(AuditEvent.entity == args["entity"])
    if args.get("action") in ACTION_LABELS:
        stmt = stmt.where(AuditEvent.action == args["action"])
    if args.get("actor"):
        stmt = stmt.where(AuditEvent.actor.ilike(f"%{args['actor'].strip()}%"))
    if record_id(args.get("entity_id")):
        stmt = stmt.where(AuditEvent.entity_id == record_id(args["entity_id"]))
    since = _utc_bound(args.get("from", ""), end=False)
    until = _utc_bound(args.get("to", ""), end=True)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    page = db.paginate(stmt.order_by(AuditEvent.id.desc()), page=page_arg(), per_page=30,
                       error_out=False)
    present = db.session.execute(select(AuditEvent.entity).where(AuditEvent.tenant_id == g.tenant.id)
                                 .distinct()).scalars().all()
    return render("audit_log/index.html", "audit_log/_table.html", page=page, args=args,
                  rows=display.rows(page.items), entity_groups=entity_options(present),
                  actions=ACTION_LABELS)
