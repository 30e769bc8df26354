"""The request life cycle shared by every area: tenant from the URL, the acting membership,
the audit actor, HTMX-aware rendering, lookups through the policy, template helpers."""
from __future__ import annotations

from decimal import Decimal

from flask import (Blueprint, abort, current_app, flash, g, has_request_context, redirect, render_template, request,
                   send_file, session, url_for)
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from flask_wtf.csrf import CSRFError
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from . import formutil, pagecache, policy, tenancy
from .audit import reset_actor, set_actor
from .auth import sessions
from .auth.models import ROLE_LABELS, LoginSession, Membership, User, scope_loaded
from .extensions import DirectReads, db, htmx
from .money import fmt_yuan
from .notifications.models import InboxItem
from .org.models import Community, Compound, Department, Firm, Grid, Street, household_label
from .publicity.accounts import Upload, voucher_path
from .publicity.display import shown_lines
from .publicity.keys import NoSigningKey
from .timeutil import fmt_datetime


def tenant_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint under /d/<tenant_slug>/…; every view needs a membership of that tenant."""
    bp = Blueprint(name, import_name, url_prefix="/d/<tenant_slug>" + url_prefix)
    bp.before_request(_require_member)
    return bp


def public_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint under /p/<tenant_slug>/…: residents' pages, no login; the tenant scope
    still applies (a suspended or unknown district is a 404)."""
    return Blueprint(name, import_name, url_prefix="/p/<tenant_slug>" + url_prefix)


def _require_member():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    m = g.get("membership")
    if m is None or m.tenant_id != g.tenant.id:
        # Never confirm that another district's pages exist.
        abort(404)


def current_membership() -> Membership:
    return g.membership


def get_or_404(model, record_id: int):
    """The record if it exists in this tenant and the acting membership's scope, else 404."""
    stmt = select(model).where(model.id == record_id, policy.visible(g.membership, model))
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def safe_local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (for next=/back= parameters).
    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so a
    backslash or a control character can turn "/…" into "//evil.example": refused too."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in target)):
        return target
    return None


# A page number past this would ask the database for an offset no list has (and one past 2⁶³
# cannot be bound at all): such a page is shown as the last one there can be.
MAX_PAGE = 10**6


def page_arg() -> int:
    page = request.args.get("page", "1")
    return min(max(int(page), 1), MAX_PAGE) if page.isascii() and page.isdigit() else 1


def require(action: str, area: str = "org") -> None:
    if not policy.can(g.get("membership"), action, area):
        abort(403)


def render(template: str, partial: str | None = None, **ctx):
    """The partial for an HTMX request (not a history restore), the full page otherwise."""
    if partial and htmx and not htmx.history_restore_request:
        return render_template(partial, **ctx)
    return render_template(template, **ctx)


class Refusal(Exception):
    """The problems ({field: message}) a logic function returned instead of raising: see `accepted`."""

    def __init__(self, errors: dict):
        super().__init__("；".join(errors.values()))
        self.errors = errors


def accepted(outcome):
    """For a logic function that returns its problems, as `problems` or `(result, problems)`:
    the result when there are none, else a Refusal for `save`."""
    result, problems = outcome if isinstance(outcome, tuple) else (None, outcome)
    if problems:
        raise Refusal(problems)
    return result


def save(form, act, done, to, refusals: tuple[type[Exception], ...] = (Refusal,), refused=None,
         category: str = "success"):
    """One request life cycle for a form that writes: validate → act → on a refusal roll back and
    show it next to its field → commit → flash → redirect. A refusal is one of `refusals`, with
    .message and .field or with .errors ({field: message}). `done` and `to` are a text / URL or a
    function of what `act` returned. When the form must be shown again: None (the caller renders
    it with 422; refusals naming no field of the form are in its form_errors), or with `refused`
    its answer to the refusals naming no field ({} for a form that did not validate). `form` None
    (with `refused`): a step with nothing to validate."""
    if form is not None and not form.validate_on_submit():
        return refused({}) if refused else None
    try:
        result = act()
    except refusals as e:
        db.session.rollback()
        errors = e.errors if hasattr(e, "errors") else {e.field: e.message}
        others = {k: v for k, v in errors.items() if form is None or k not in form}
        if form is not None:
            formutil.attach_errors(form, {k: v for k, v in errors.items() if k not in others})
        if refused:
            return refused(others)
        form.form_errors.extend(others.values())
        return None
    db.session.commit()
    flash(done(result) if callable(done) else done, category)
    return redirect(to(result) if callable(to) else to)


def uploads(field: str) -> list[Upload]:
    """The files sent in a form's file field (an empty pick sends one without a name)."""
    return [Upload(f.filename, f.read()) for f in request.files.getlist(field) if f.filename]


def send_voucher(v):
    """A stored upload (accounts.save_upload) with its name and type; PDFs as downloads. The
    caller has loaded `v` through the policy."""
    path = voucher_path(current_app.config["UPLOAD_FOLDER"], v.stored_name)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=v.content_type, download_name=v.filename,
                     as_attachment=v.content_type == "application/pdf")


# Every page of a district starts with this one statement: the session's membership in the
# district of the address, with its user, its login session (auth/sessions.py) and the district,
# as plain columns. Built once (no statement construction or cache-key computation per request),
# run without the ORM (no objects, no identity map) — on PostgreSQL on a connection of its own
# (DirectReads), on SQLite on the session's: a kept page is answered from this row alone, and a
# rendered page builds its acting membership and user from it (_acting_objects).
_MEMBER_COLUMNS = ("role", "street_id", "community_id", "firm_id", "compound_id", "grid_id", "department_id",
                   "is_chair", "created_at")
_SCOPES = (("street", Street), ("community", Community), ("firm", Firm), ("compound", Compound), ("grid", Grid),
           ("department", Department))
_ACTING = (select(Membership.id.label("membership_id"), Membership.active.label("membership_active"),
                  *(getattr(Membership, c) for c in _MEMBER_COLUMNS),
                  User.id.label("user_id"), User.active.label("user_active"),
                  User.display_name, User.is_platform_admin,
                  LoginSession.created_at.label("session_created"),
                  LoginSession.revoked_at.label("session_revoked"),
                  tenancy.Tenant.id.label("tenant_id"), tenancy.Tenant.slug.label("tenant_slug"),
                  tenancy.Tenant.name.label("tenant_name"), tenancy.Tenant.active.label("tenant_active"),
                  tenancy.Tenant.data_version,
                  # The bell's count (a rendered page's header): an index range, no statement of its own.
                  select(func.count()).where(InboxItem.membership_id == Membership.id, InboxItem.read_at.is_(None))
                  .correlate(Membership).scalar_subquery().label("inbox_unread"),
                  # The scope's name (the header's), as Membership.scope_label finds it: a probe by id.
                  func.coalesce(*(select(model.name).where(model.id == getattr(Membership, f"{kind}_id"))
                                  .correlate(Membership).scalar_subquery()
                                  for kind, model in _SCOPES)).label("scope_name"))
           .join_from(Membership, tenancy.Tenant, Membership.tenant_id == tenancy.Tenant.id)
           .join(User, Membership.user_id == User.id)
           .join(LoginSession, LoginSession.user_id == User.id)
           .where(Membership.id == bindparam("mid"), Membership.user_id == bindparam("uid"),
                  LoginSession.id == bindparam("sid"), tenancy.Tenant.slug == bindparam("slug")))


def _acting_objects(row) -> Membership:
    """The acting membership and its user as the ORM objects views and templates use, made from
    the request-start row and put in the session as if loaded: no second query (it was 1.9 ms
    of a 16 ms list page: a round trip, a scope change and the ORM's load). A column the row
    lacks (the user's password hash, phone…) loads on first use; so does the district's record,
    by primary key. The scope's name comes with the row (the header's)."""
    user = User(id=row.user_id, active=row.user_active, display_name=row.display_name,
                is_platform_admin=row.is_platform_admin)
    m = Membership(id=row.membership_id, tenant_id=row.tenant_id, user_id=row.user_id,
                   active=row.membership_active, **{c: getattr(row, c) for c in _MEMBER_COLUMNS})
    session = db.session()
    user, m = _attach(session, user), _attach(session, m)
    m.__dict__["scope_name"] = row.scope_name   # a plain value, not a column: Membership.scope_label
    # As a load would: without history, and holding the user (the identity map's references
    # are weak; the user loader finds it there).
    set_committed_value(m, "user", user)
    return m


def _attach(session, obj):
    """`obj` in the session as a loaded record, or the one already there (a test's own)."""
    known = session.identity_map.get(session.identity_key(instance=obj))
    if known is not None:
        return known
    make_transient_to_detached(obj)   # history reset, as if freshly loaded
    session.add(obj)
    return obj


_ACTING_DIRECT = DirectReads(_ACTING)


def _read_acting(slug: str):
    """The session's row of `_ACTING` for this district, or None. Checks nothing itself."""
    uid, mid, sid = str(session.get("_user_id") or ""), session.get("membership_id"), sessions.current_sid()
    if not (uid.isascii() and uid.isdigit() and isinstance(mid, int) and sid):
        return None
    params = {"mid": mid, "uid": int(uid), "sid": sid, "slug": slug}
    if db.engine.dialect.name == "postgresql":
        return _ACTING_DIRECT.row(db.engine, params)
    return db.session.connection().execute(_ACTING, params).one_or_none()


def _reads_without_transaction():
    """GET and HEAD never write (every view keeps that rule), so on PostgreSQL they read in
    autocommit: no BEGIN and ROLLBACK round trips around every page. Under READ COMMITTED each
    statement sees the latest committed data either way. Before the session's first query;
    once per request. (Held by row-level security, the role's reads still open a transaction:
    the district is told per transaction, rls.py.)"""
    if (request.method in ("GET", "HEAD") and not g.get("reads_set")
            and db.engine.dialect.name == "postgresql"):
        g.reads_set = True
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _may_act(row) -> bool:
    """Whether the session acts as that membership: the user as Flask-Login's loader would
    accept it (active, its login session alive), the membership and the district active.
    Decided before a kept page is served."""
    return bool(row.user_active and row.membership_active and row.tenant_active
                and sessions.alive(row.session_created, row.session_revoked))


# What pages may load: scripts only from static/ (no inline script or handler: a stored text that
# slipped through escaping could not run), no plugins, forms only to this site. Styles allow
# inline `style=` attributes (layout widths, Chart.js canvases): they cannot run code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")


_plain_urls: dict = {}


def plain_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) for plain values (strings, numbers), built once per mount
    point, district and values: building the fifty menu links and the landing page's card
    links of every page anew was a tenth of a landing page's time."""
    key = (request.script_root, g.tenant.slug if g.get("tenant") is not None else None, endpoint,
           tuple(sorted(values.items())))
    url = _plain_urls.get(key)
    if url is None:
        if len(_plain_urls) >= 8192:
            _plain_urls.clear()
        url = _plain_urls[key] = url_for(endpoint, **values)
    return url


def nav_links(items) -> list[tuple[str, str, str]]:
    """A menu's (endpoint, icon, label) items as (url, icon, label)."""
    return [(plain_url(endpoint), icon, label) for endpoint, icon, label in items or []]


def lit_link(*menus) -> str:
    """The menu address that is the longest prefix of this page's, so a detail or form page
    keeps its section lit."""
    best = ""
    for links in menus:
        for url, _, _ in links:
            if request.path.startswith(url.rstrip("/")) and len(url) > len(best):
                best = url
    return best


_menus: dict = {}


@pass_context
def sidebar(ctx) -> Markup:
    """The menu (`_sidebar.html`), rendered once per membership scope and page address and then
    reused, as `plain_url` reuses links: what it shows is the policy's answer for the membership
    (`policy.scope_key`, which carries the day too) and the link the address lights, nothing read
    from the data, so the page cache's clearing leaves it. Its fifty links were about a tenth of
    a rendered page's time."""
    key = (request.script_root, ctx["tenant"].slug, policy.scope_key(ctx["membership"]), request.endpoint,
           request.path)
    html = _menus.get(key)
    if html is None:
        if len(_menus) >= 2048:   # ~5 KB each
            _menus.clear()
        html = _menus[key] = Markup(ctx.environment.get_template("_sidebar.html").render(ctx.get_all()))
    return html


def _refuse_control_characters(endpoint, values):
    """The request guard: a control character (formutil.CONTROL) in the address, the query, a
    form field's name or an uploaded file's name is a 400, before anything reads it. In a form
    field's value it is the form's to refuse with a message (formutil.Form); values no form
    answered for are noted here, and the first write that follows is refused (_no_control_writes)."""
    bad = formutil.CONTROL.search
    if (bad(request.path) or any(bad(k) or bad(v) for k, v in request.args.items(multi=True))
            or any(bad(k) for k in request.form) or any(bad(k) or bad(f.filename or "")
                                                        for k, f in request.files.items(multi=True))):
        abort(400, description="control")
    g.control_fields = {k for k, v in request.form.items(multi=True) if bad(v)}


@event.listens_for(Session, "before_flush")
def _no_control_writes(session, flush_context, instances):
    if has_request_context() and g.get("control_fields"):
        abort(400, description="control")


def install(app) -> None:
    app.url_value_preprocessor(_refuse_control_characters)   # first: before the tenant is looked up

    @app.url_value_preprocessor
    def _tenant_from_url(endpoint, values):
        if endpoint == "static":
            return
        if not (values and "tenant_slug" in values):
            _reads_without_transaction()
            return
        # A district page opens the session only if no kept page answers it.
        slug = values.pop("tenant_slug")
        row = _read_acting(slug)
        if row is None:
            _reads_without_transaction()
        tenant = (tenancy.TenantRef(row.tenant_id, row.tenant_slug, row.tenant_name, row.tenant_active,
                                    row.data_version)
                  if row is not None else tenancy.tenant_ref(slug))
        if tenant is None or not tenant.active:
            abort(404)
        g.tenant = tenant
        g.acting = row if row is not None and _may_act(row) else None
        g.tenant_token = tenancy.enter(tenant.id)

    @app.url_defaults
    def _tenant_slug_default(endpoint, values):
        if "tenant_slug" not in values and g.get("tenant") is not None:
            if app.url_map.is_endpoint_expecting(endpoint, "tenant_slug"):
                values["tenant_slug"] = g.tenant.slug

    @app.before_request
    def _acting_membership():
        g.membership = None
        acting = g.get("acting")
        if acting is not None:
            # A district page of one of its working members (decided by _may_act).
            g.actor_token = set_actor(acting.user_id, acting.display_name)
            kept = pagecache.kept_response(acting)
            if kept is not None:
                return kept
            _reads_without_transaction()
            g.membership = _acting_objects(acting)
            return
        # Elsewhere (choosing a district, the platform pages, a district the session is not a
        # working member of): the person Flask-Login loaded and the membership they last chose.
        _reads_without_transaction()
        user = current_user._get_current_object()   # the proxy looks the user up on every use
        if not user.is_authenticated:
            return
        g.actor_token = set_actor(user.id, user.display_name)
        mid = session.get("membership_id")
        if mid:
            with tenancy.system_scope():
                m = db.session.get(Membership, mid, options=scope_loaded())
                ok = (m is not None and m.user_id == user.id and m.active
                      and m.tenant.active)
            g.membership = m if ok else None

    @app.teardown_request
    def _leave(exc):
        token = g.pop("tenant_token", None)
        if token is not None:
            tenancy.leave(token)
        actor = g.pop("actor_token", None)
        if actor is not None:
            reset_actor(actor)

    @app.after_request
    def _vary(resp):
        resp.vary.add("HX-Request")   # the property: a second Vary header would be overwritten
        headers = resp.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Content-Security-Policy", CSP)
        # Household codes travel in public addresses (?code=): never to another site.
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:   # HTTPS as the trusted proxy saw it (TRUSTED_PROXIES, ProxyFix)
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp

    @app.errorhandler(404)
    def _not_found(e):
        if request.path.startswith("/api/"):   # an address the JSON API does not have
            from .api.errors import error_response
            return error_response(404, "接口地址不存在，请对照 /api/v1/openapi.json。")
        return render_template("errors/error.html", code=404, title="页面不存在",
                               text="您要找的页面不存在，或不在您的管辖范围内。"), 404

    @app.errorhandler(403)
    def _forbidden(e):
        return render_template("errors/error.html", code=403, title="没有权限",
                               text="您的角色不能进行此操作。"), 403

    @app.errorhandler(413)
    def _too_large(e):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return render_template("errors/error.html", code=413, title="上传内容过大",
                               text=f"一次提交的文件合计不能超过 {limit} MB，请压缩照片或分次上传。"), 413

    @app.errorhandler(NoSigningKey)
    def _no_signing_key(e):
        db.session.rollback()   # nothing of the refused publication's request is kept
        return render_template("errors/error.html", code=503, title="公示无法发布", text=str(e)), 503

    @app.errorhandler(400)
    def _bad_request(e):
        if e.description == "control":
            return render_template("errors/error.html", code=400, title="输入含有控制字符",
                                   text="提交的内容或网址中含有不可见的控制字符（如 NUL），请删除后重新提交。"), 400
        return render_template("errors/error.html", code=400, title="请求有误",
                               text="请求的格式不正确，请返回上一页重新操作。"), 400

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return render_template("errors/error.html", code=400, title="请求已失效",
                               text="页面已过期或缺少安全令牌，请刷新页面后重试。"), 400

    @app.context_processor
    def _globals():
        return {"role_labels": ROLE_LABELS, "membership": g.get("membership"),
                "tenant": g.get("tenant"), "can": lambda a, area="org": policy.can(g.get("membership"), a, area),
                "nav_links": nav_links, "lit_link": lit_link, "plain_url": plain_url, "sidebar": sidebar}

    app.jinja_env.filters["yuan"] = fmt_yuan
    app.jinja_env.filters["dt"] = fmt_datetime
    app.jinja_env.globals["household_label"] = household_label
    app.jinja_env.globals["shown_lines"] = shown_lines
    app.jinja_env.filters["area"] = lambda v: "" if v is None else f"{Decimal(v):,.2f}"
