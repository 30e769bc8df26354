"""Webhook pages of an API client (district admin): its subscriptions, a new one (the signing
secret shown once), a subscription's deliveries with status and responses, resend, pause."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import func, select

from .. import policy
from ..api.models import ApiClient
from ..extensions import db
from ..web import current_membership, get_or_404, page_arg, render, tenant_blueprint
from . import logic
from .forms import SubscriptionForm
from .models import DELIVERY_STATUSES, WebhookDelivery, WebhookSubscription

bp = tenant_blueprint("webhooks", __name__, "/api-clients")
PER_PAGE = 20


def _admin():
    if current_membership().role != policy.DISTRICT:
        abort(403)


@bp.route("/webhooks/")
def overview():
    """Every API client of the district with its subscriptions (the way in until the API client
    pages link here)."""
    _admin()
    clients = db.session.execute(select(ApiClient).order_by(ApiClient.id)).scalars().all()
    counts = dict(db.session.execute(select(WebhookSubscription.client_id, func.count(WebhookSubscription.id))
                                     .group_by(WebhookSubscription.client_id)).all())
    return render("webhooks/overview.html", clients=clients, counts=counts)


@bp.route("/<int:api_client_id>/webhooks", methods=["GET", "POST"])
def index(api_client_id):
    client = get_or_404(ApiClient, api_client_id)
    _admin()
    form = SubscriptionForm() if request.method == "POST" else SubscriptionForm(formdata=None)
    secret = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                sub, secret = logic.subscribe(client, form.url.data, form.kinds.data or [], current_membership().user_id)
            except logic.WebhookProblem as e:
                db.session.rollback()
                getattr(form, e.field).errors = [e.message]
                status = 422
            else:
                db.session.commit()
                flash("已添加订阅。签名密钥只显示这一次，请立即复制保存。", "success")
                form = SubscriptionForm(formdata=None)
        else:
            status = 422
    subs = db.session.execute(logic.subscriptions_select(client)).scalars().all()
    return render("webhooks/index.html", client=client, subs=subs, form=form, secret=secret,
                  labels=logic.kind_labels()), status


def _sub(sub_id: int) -> WebhookSubscription:
    sub = get_or_404(WebhookSubscription, sub_id)
    _admin()
    return sub


@bp.route("/webhooks/<int:webhook_subscription_id>")
def deliveries(webhook_subscription_id):
    sub = _sub(webhook_subscription_id)
    status = request.args.get("status") if request.args.get("status") in DELIVERY_STATUSES else None
    page = db.paginate(logic.deliveries_select(sub, status), page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render("webhooks/deliveries.html", sub=sub, page=page, status=status, statuses=DELIVERY_STATUSES,
                  labels=logic.kind_labels())


@bp.route("/webhooks/<int:webhook_subscription_id>/active", methods=["POST"])
def toggle(webhook_subscription_id):
    sub = _sub(webhook_subscription_id)
    logic.set_active(sub, not sub.active)
    db.session.commit()
    flash("已恢复推送。" if sub.active else "已暂停推送；暂停期间的事件不会补发。", "success")
    return redirect(url_for("webhooks.deliveries", webhook_subscription_id=sub.id))


@bp.route("/webhooks/<int:webhook_subscription_id>/deliveries/<int:webhook_delivery_id>/resend", methods=["POST"])
def resend(webhook_subscription_id, webhook_delivery_id):
    sub = _sub(webhook_subscription_id)
    d = db.session.execute(select(WebhookDelivery).where(WebhookDelivery.id == webhook_delivery_id,
                                                         WebhookDelivery.subscription_id == sub.id)).scalar_one_or_none()
    if d is None:
        abort(404)
    if d.status == "sending":
        flash("该推送正在发送，请稍后再试。", "error")
    else:
        logic.resend(d)
        db.session.commit()
        flash("已重新排入发送队列。", "success")
    return redirect(url_for("webhooks.deliveries", webhook_subscription_id=sub.id))
