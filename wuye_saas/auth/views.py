"""Log in, choose the district and role to act in, change password, log out."""
from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from .. import ratelimit
from ..audit import acting_as
from ..demo import remembered_accounts
from ..extensions import db, login_manager
from . import logic, sessions
from .forms import LoginForm, PasswordForm
from .models import LoginSession, User
from ..web import safe_local_path

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"


@login_manager.user_loader
def _load_user(user_id: str):
    """The session's user while its login session is alive (auth/sessions.py); otherwise the
    session is anonymous (back to the login page). A disabled user is never authenticated
    (UserMixin.is_authenticated is is_active). One query, user and login session together."""
    sid = sessions.current_sid()
    if not (sid and user_id.isascii() and user_id.isdigit()):
        return None
    acting = g.get("acting")
    if acting is not None and acting.user_id == int(user_id):
        # The request-start row (web._ACTING) has checked this very session, and the user made
        # from it is in the identity map (web._acting_objects): no query. Not Session.get,
        # which would load the columns the row did not carry.
        session = db.session()
        return session.identity_map.get(session.identity_key(User, acting.user_id)) or session.get(User, acting.user_id)
    row = db.session.execute(
        select(User, LoginSession.created_at, LoginSession.revoked_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == int(user_id), LoginSession.id == sid)).one_or_none()
    return row[0] if row is not None and sessions.alive(row[1], row[2]) else None


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never bounce a fresh login to another host (see safe_local_path).
    return safe_local_path(target)


def landing_for(membership) -> str:
    return url_for("dashboard.home", tenant_slug=membership.tenant.slug)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("auth.choose"))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        cfg = current_app.config
        # Failures per client address (after ProxyFix), in the shared limiter.
        per_address = ratelimit.address_failures(request.remote_addr or "", 4 * cfg["LOGIN_MAX_FAILURES"],
                                                 cfg["LOGIN_LOCK_MINUTES"])
        user, error = logic.authenticate(form.username.data, form.password.data, cfg["LOGIN_MAX_FAILURES"],
                                         cfg["LOGIN_LOCK_MINUTES"], ratelimit.over(per_address))
        if user is None:
            ratelimit.count(per_address)
        if user is not None:
            memberships = logic.usable_memberships(user)
            if not memberships and not user.is_platform_admin:
                error = "您的账号暂无可用的区县角色（所属区县可能已停用），请联系管理员。"
            else:
                nxt = _safe_next(request.args.get("next"))
                if len(memberships) == 1 and not user.is_platform_admin:
                    only = memberships[0]
                    target, membership_id = nxt or landing_for(only), only.id
                elif not memberships:
                    target, membership_id = nxt or url_for("admin.tenants"), None
                else:
                    target, membership_id = url_for("auth.choose", next=nxt), None
                session.clear()  # no session fixation across the login
                login_user(user)
                sessions.open_session(user.id)
                if membership_id:
                    session["membership_id"] = membership_id
                with acting_as(user.id, user.display_name):  # the last-login stamp is theirs
                    db.session.commit()
                return redirect(target)
    demo = remembered_accounts(current_app.instance_path) if current_app.config["DEMO_MODE"] else {}
    return render_template("auth/login.html", form=form, error=error, demo=demo), (401 if error else 200)


@bp.route("/choose", methods=["GET", "POST"])
@login_required
def choose():
    memberships = logic.usable_memberships(current_user)
    if request.method == "POST":
        # Flask-WTF's CSRFProtect has already checked the token.
        chosen = next((m for m in memberships if str(m.id) == request.form.get("membership_id")), None)
        if chosen is None:
            abort(404)
        session["membership_id"] = chosen.id
        return redirect(_safe_next(request.args.get("next")) or landing_for(chosen))
    if not memberships and current_user.is_platform_admin:
        return redirect(url_for("admin.tenants"))   # nothing to choose: the platform is its work
    if len(memberships) == 1 and not current_user.is_platform_admin and "membership_id" not in session:
        session["membership_id"] = memberships[0].id
        return redirect(landing_for(memberships[0]))
    return render_template("auth/choose.html", memberships=memberships)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        problem = logic.password_problem(form.new.data)
        if not current_user.check_password(form.current.data):
            form.current.errors.append("当前密码不正确")
        elif problem:
            form.new.errors.append(problem)
        else:
            current_user.set_password(form.new.data)
            sessions.revoke(current_user.id, keep=sessions.current_sid())   # this browser goes on
            db.session.commit()
            flash("密码已修改，其他设备上的登录已失效。", "success")
            return redirect(url_for("auth.choose"))
    return render_template("auth/password.html", form=form)


@bp.route("/account/sessions", methods=["POST"])
@login_required
def sign_out_elsewhere():
    """The person's own 退出其他设备: every other session ends, this browser goes on."""
    n = sessions.revoke(current_user.id, keep=sessions.current_sid())
    db.session.commit()
    flash(f"已退出其他设备上的 {n} 处登录。" if n else "没有其他设备上的登录。", "success" if n else "info")
    return redirect(url_for("auth.change_password"))


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # The row, not only the cookie: a copy of this cookie must not open pages afterwards.
        sessions.end(sessions.current_sid())
        db.session.commit()
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))
