"""The district's accounts and memberships (district admins only): thin views over users.logic."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import policy
from ..auth.models import ROLE_LABELS, Membership, User
from ..extensions import db
from ..formutil import attach_errors
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import logic
from .forms import AccountForm, MembershipForm, ResetPasswordForm, ScopeForm

bp = tenant_blueprint("users", __name__, "/users")

STATUSES = {"active": "正常", "disabled": "已停用"}


def _manage():
    require("manage", "users")


def _user_or_404(user_id: int):
    """A user is only "here" through a membership of this district, and only for those the policy
    lets see accounts; any other id is a 404 (never confirm that an account exists elsewhere)."""
    user = logic.user_in_tenant(user_id, g.tenant.id, policy.visible(current_membership(), User))
    if user is None:
        abort(404)
    return user


def _prepare_scope(form: ScopeForm) -> None:
    """Fill the one scope select the chosen role needs, labelled for that role."""
    kind = logic.scope_kind(form.role.data)
    if kind is not None:
        getattr(form, kind.field).choices = [("", f"请选择{kind.noun}")] + logic.scope_options(form.role.data, g.tenant.id)


def _scope_args(form: ScopeForm, chair: bool = True) -> dict:
    kind = logic.scope_kind(form.role.data)
    args = {"role": form.role.data, "scope_id": getattr(form, kind.field).data if kind else None}
    if chair:
        args["is_chair"] = form.is_chair.data
    return args


def _refresh_only() -> bool:
    # The no-JavaScript "show the scope for this role" button re-renders without saving.
    return request.method == "POST" and "refresh_scope" in request.form


@bp.route("/")
def list_users():
    _manage()
    args = request.args
    stmt = logic.user_list_query(g.tenant.id, args.get("q", ""), args.get("role", ""), args.get("status", ""))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    members = logic.memberships_here([u.id for u in page.items], g.tenant.id)
    filtered = any(args.get(k) for k in ("q", "role", "status"))
    return render("users/list.html", "users/_table.html", page=page, members=members, args=args,
                  filtered=filtered, roles=[(r, ROLE_LABELS[r]) for r in logic.ROLE_ORDER],
                  statuses=STATUSES, status_label=logic.status_label)


@bp.route("/scope-field")
def scope_field():
    """The scope select for a role: swapped in by HTMX when the role select changes."""
    _manage()
    form = ScopeForm(formdata=None, meta={"csrf": False}, data={"role": request.args.get("role", "")})
    _prepare_scope(form)
    return render_template("users/_scope_field.html", form=form, scope=logic.scope_kind(form.role.data))


@bp.route("/new", methods=["GET", "POST"])
def new_account():
    _manage()
    form = AccountForm()
    _prepare_scope(form)
    if not _refresh_only() and form.validate_on_submit():
        user, errors = logic.create_account(
            g.tenant.id, username=form.username.data, display_name=form.display_name.data,
            phone=form.phone.data or "", password=form.password.data, **_scope_args(form))
        if user is not None:
            db.session.commit()
            flash(f"已创建账号“{user.display_name}（{user.username}）”，请将初始密码告知本人并提醒其登录后修改。", "success")
            return redirect(url_for("users.detail", user_id=user.id))
        db.session.rollback()
        attach_errors(form, errors)
    elif form.is_submitted() and not _refresh_only():
        # Show the database's objections (username taken, scope …) in the same round.
        attach_errors(form, logic.account_problems(g.tenant.id, username=form.username.data,
                                             display_name=form.display_name.data,
                                             password=form.password.data, **_scope_args(form, chair=False)))
    return render("users/form.html", form=form, scope=logic.scope_kind(form.role.data)), (422 if form.errors else 200)


@bp.route("/memberships/new", methods=["GET", "POST"])
def new_membership():
    _manage()
    form = MembershipForm(data={"username": request.args.get("username", "")} if request.method == "GET" else None)
    _prepare_scope(form)
    if not _refresh_only() and form.validate_on_submit():
        m, errors = logic.add_membership(g.tenant.id, username=form.username.data, **_scope_args(form))
        if m is not None:
            db.session.commit()
            flash(f"已为“{m.user.display_name}”添加角色：{m.role_label} · {m.scope_label}。", "success")
            return redirect(url_for("users.detail", user_id=m.user_id))
        db.session.rollback()
        attach_errors(form, errors)
    elif form.is_submitted() and not _refresh_only():
        attach_errors(form, logic.membership_problems(g.tenant.id, username=form.username.data,
                                                **_scope_args(form, chair=False)))
    return render("users/membership_form.html", form=form, scope=logic.scope_kind(form.role.data)), (
        422 if form.errors else 200)


@bp.route("/<int:user_id>")
def detail(user_id: int):
    user = _user_or_404(user_id)
    _manage()
    memberships = logic.memberships_here([user.id], g.tenant.id)[user.id]
    return render("users/detail.html", user=user, memberships=memberships,
                  status=logic.status_label(user, memberships),
                  reset_refusal=logic.reset_refusal(user, g.tenant.id),
                  shared=logic.has_other_districts(user.id, g.tenant.id))


@bp.route("/memberships/<int:membership_id>/status", methods=["GET", "POST"])
def membership_status(membership_id: int):
    m = get_or_404(Membership, membership_id)
    _manage()
    target = not m.active  # the confirmation page offers the opposite of the current state
    if request.method == "POST":
        wanted = request.form.get("active")
        if wanted not in ("0", "1"):
            abort(400)
        error = logic.set_membership_active(m, wanted == "1", current_membership().id)
        if error is None:
            db.session.commit()
            flash(f"已{'启用' if m.active else '停用'}角色：{m.role_label} · {m.scope_label}。", "success")
            return redirect(url_for("users.detail", user_id=m.user_id))
        db.session.rollback()
        return render_template("users/confirm_status.html", m=m, target=target, error=error), 409
    return render_template("users/confirm_status.html", m=m, target=target, error=None)


@bp.route("/<int:user_id>/sessions", methods=["GET", "POST"])
def sign_out(user_id: int):
    """退出全部登录: a confirmation page, then every open session of the person ends."""
    user = _user_or_404(user_id)
    _manage()
    if request.method == "POST":
        n = logic.sign_out_everywhere(user)
        db.session.commit()
        flash(f"已让“{user.display_name}”退出全部 {n} 处登录，其需重新登录。" if n
              else f"“{user.display_name}”当前没有登录。", "success" if n else "info")
        return redirect(url_for("users.detail", user_id=user.id))
    return render_template("users/confirm_sign_out.html", user=user)


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    _manage()
    refusal = logic.reset_refusal(user, g.tenant.id)
    form = ResetPasswordForm()
    if refusal is None and form.validate_on_submit():
        errors = logic.reset_password(user, g.tenant.id, form.password.data)
        if not errors:
            db.session.commit()
            flash(f"已重置“{user.display_name}”的密码，请将新的初始密码告知本人。", "success")
            return redirect(url_for("users.detail", user_id=user.id))
        db.session.rollback()
        attach_errors(form, errors)
    status = 409 if refusal and request.method == "POST" else (422 if form.errors else 200)
    return render_template("users/password.html", user=user, form=form, refusal=refusal), status
