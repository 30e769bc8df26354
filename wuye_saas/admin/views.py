"""Platform admin: districts (tenants) and their administrators. Platform admins only; anyone
else signed in gets a 404 (the console's existence is not advertised)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import tenancy
from ..extensions import db
from ..formutil import attach_errors
from ..tenancy import Tenant
from ..web import page_arg, render
from . import logic
from .forms import AdminAccountForm, DistrictForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _platform_only():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if not current_user.is_platform_admin:
        abort(404)
    # Every admin page acts platform-wide, on purpose and visibly so.
    g.admin_scope = tenancy.enter(None, system=True)


@bp.teardown_request
def _leave_scope(exc):
    token = g.pop("admin_scope", None)
    if token is not None:
        tenancy.leave(token)


def _tenant_or_404(tenant_id: int) -> Tenant:
    return db.session.get(Tenant, tenant_id) or abort(404)


@bp.route("/")
def tenants():
    args = request.args
    page = db.paginate(logic.tenant_query(args.get("q", ""), args.get("status", "")),
                       page=page_arg(), per_page=20, error_out=False)
    counts = logic.user_counts([t.id for t in page.items])
    return render("admin/list.html", "admin/_table.html", page=page, counts=counts, args=args,
                  statuses=logic.STATUSES, filtered=any(args.get(k) for k in ("q", "status")))


@bp.route("/tenants/new", methods=["GET", "POST"])
def new_tenant():
    form = DistrictForm()
    if form.validate_on_submit():
        tenant, errors = logic.create_district(
            name=form.name.data, slug=form.slug.data, region=form.region.data or "",
            username=form.admin_username.data, display_name=form.admin_display_name.data,
            password=form.admin_password.data, phone=form.admin_phone.data or "")
        if tenant is not None:
            db.session.commit()
            flash(f"已开通“{tenant.name}”，区级管理员账号 {form.admin_username.data.strip()} 可以登录了。", "success")
            return redirect(url_for("admin.tenant_detail", tenant_id=tenant.id))
        db.session.rollback()
        attach_errors(form, errors)
    elif form.is_submitted():
        # Show the database's objections (slug taken, username used …) in the same round.
        attach_errors(form, logic.district_problems(
            name=form.name.data, slug=form.slug.data, username=form.admin_username.data,
            display_name=form.admin_display_name.data, password=form.admin_password.data))
    return render_template("admin/new.html", form=form), (422 if form.errors else 200)


@bp.route("/tenants/<int:tenant_id>")
def tenant_detail(tenant_id: int):
    tenant = _tenant_or_404(tenant_id)
    return render_template("admin/detail.html", t=tenant, admins=logic.district_admins(tenant.id),
                           roles=logic.role_counts(tenant.id), users=logic.user_counts([tenant.id])[tenant.id])


@bp.route("/tenants/<int:tenant_id>/status", methods=["GET", "POST"])
def tenant_status(tenant_id: int):
    tenant = _tenant_or_404(tenant_id)
    if request.method == "POST":
        wanted = request.form.get("active")
        if wanted not in ("0", "1"):
            abort(400)
        logic.set_tenant_active(tenant, wanted == "1")
        db.session.commit()
        flash(f"已{'启用' if tenant.active else '停用'}“{tenant.name}”。", "success")
        return redirect(url_for("admin.tenant_detail", tenant_id=tenant.id))
    return render_template("admin/confirm_status.html", t=tenant, target=not tenant.active)


@bp.route("/tenants/<int:tenant_id>/admins/new", methods=["GET", "POST"])
def new_admin(tenant_id: int):
    """Another district administrator, e.g. when the only one has left or is locked out."""
    tenant = _tenant_or_404(tenant_id)
    form = AdminAccountForm()
    if form.validate_on_submit():
        user, errors = logic.add_district_admin(
            tenant, username=form.admin_username.data, display_name=form.admin_display_name.data,
            password=form.admin_password.data, phone=form.admin_phone.data or "")
        if user is not None:
            db.session.commit()
            flash(f"已为“{tenant.name}”添加区级管理员 {user.display_name}（{user.username}）。", "success")
            return redirect(url_for("admin.tenant_detail", tenant_id=tenant.id))
        db.session.rollback()
        attach_errors(form, errors)
    elif form.is_submitted():
        attach_errors(form, logic.account_problems(form.admin_username.data, form.admin_display_name.data,
                                             form.admin_password.data))
    return render_template("admin/new_admin.html", t=tenant, form=form), (422 if form.errors else 200)
