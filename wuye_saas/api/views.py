"""The district admin's API clients: list, create, rotate, revoke (thin views over api.logic).
A token is shown once, in the answer to the create or rotate; only its hash is kept."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..org.models import Firm
from ..web import current_membership, get_or_404, render, require, tenant_blueprint
from ..formutil import attach_errors
from . import logic
from .forms import ApiClientForm
from .models import SCOPES, ApiClient

bp = tenant_blueprint("api_clients", __name__, "/api-clients")


def _manage():
    require("manage", "api_clients")


def _firm_choices():
    firms = db.session.execute(select(Firm.id, Firm.name).order_by(Firm.name, Firm.id)).all()
    return [(0, "（不代表企业：全区）")] + [(f.id, f.name) for f in firms]


@bp.route("/")
def index():
    _manage()
    return render("api/clients.html", clients=logic.clients(), scopes=SCOPES, status_label=logic.status_label)


@bp.route("/new", methods=["GET", "POST"])
def new():
    _manage()
    form = ApiClientForm()
    form.firm_id.choices = _firm_choices()
    if form.validate_on_submit():
        try:
            client, token = logic.create(form.name.data, form.scopes.data, form.firm_id.data or None,
                                         form.rate_per_minute.data, current_membership().user_id)
        except logic.ClientProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            return _secret(client, token, "已创建接口客户端")
    return render("api/form.html", form=form), 422 if request.method == "POST" else 200


def _secret(client: ApiClient, token: str, done: str):
    """The token, once: this answer is never cached and the token is nowhere else."""
    resp = render_template("api/secret.html", client=client, token=token, done=done, scopes=SCOPES,
                           base=request.host_url.rstrip("/") + url_for("api.index", district=g.tenant.slug))
    return resp, 200, {"Cache-Control": "no-store"}


@bp.route("/<int:api_client_id>/rotate", methods=["GET", "POST"])
def rotate(api_client_id):
    client = get_or_404(ApiClient, api_client_id)   # another district's, or not the admin's: 404
    _manage()
    error = None
    if request.method == "POST":
        try:
            token = logic.rotate(client)
        except logic.ClientProblem as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            return _secret(client, token, "已轮换密钥，原令牌即刻失效")
    return render("api/confirm.html", client=client, action="rotate", error=error), 409 if error else 200


@bp.route("/<int:api_client_id>/revoke", methods=["GET", "POST"])
def revoke(api_client_id):
    client = get_or_404(ApiClient, api_client_id)   # another district's, or not the admin's: 404
    _manage()
    error = None
    if request.method == "POST":
        try:
            logic.revoke(client)
        except logic.ClientProblem as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            flash(f"已停用接口客户端“{client.name}”，其令牌不再有效。", "success")
            return redirect(url_for("api_clients.index"))
    return render("api/confirm.html", client=client, action="revoke", error=error), 409 if error else 200
