"""The district's audit log: who changed what, when, with before/after values."""
from datetime import datetime, time, timedelta, timezone

from flask import g, request
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from ..audit import ACTIONS, AuditEvent
from ..extensions import db
from ..org.resources import RESOURCES, TABLE_LABELS
from ..timeutil import SHANGHAI
from ..web import page_arg, render, require, tenant_blueprint

bp = tenant_blueprint("audit_log", __name__, "/audit")

ENTITY_LABELS = TABLE_LABELS | {"user": "账号", "tenant": "区县", "import": "数据导入", "seed": "演示数据"}

# Column → Chinese label, from the register's form labels plus the account tables.
FIELD_LABELS = {"id": "编号", "tenant_id": "区县", "username": "用户名", "display_name": "姓名",
                "phone": "电话", "password_hash": "密码", "active": "启用", "role": "角色",
                "is_chair": "主任", "is_platform_admin": "平台管理员", "user_id": "账号",
                "street_id": "街道", "community_id": "社区", "firm_id": "物业企业", "compound_id": "小区",
                "created_at": "创建时间", "last_login_at": "最近登录", "slug": "标识", "region": "地区"}
for _res in RESOURCES:
    for _name, _field in vars(_res.form).items():
        if isinstance(_field, UnboundField) and _field.args:
            FIELD_LABELS.setdefault(_name, _field.args[0])


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
    if args.get("action") in ACTIONS:
        stmt = stmt.where(AuditEvent.action == args["action"])
    if args.get("actor"):
        stmt = stmt.where(AuditEvent.actor.ilike(f"%{args['actor'].strip()}%"))
    if args.get("entity_id", "").isdigit():
        stmt = stmt.where(AuditEvent.entity_id == int(args["entity_id"]))
    since = _utc_bound(args.get("from", ""), end=False)
    until = _utc_bound(args.get("to", ""), end=True)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    page = db.paginate(stmt.order_by(AuditEvent.id.desc()), page=page_arg(), per_page=30,
                       error_out=False)
    entities = db.session.execute(select(AuditEvent.entity).where(AuditEvent.tenant_id == g.tenant.id)
                                  .distinct().order_by(AuditEvent.entity)).scalars().all()
    return render("audit_log/index.html", "audit_log/_table.html", page=page, args=args,
                  entities=entities, actions=ACTIONS,
                  labels=ENTITY_LABELS, field_labels=FIELD_LABELS)
