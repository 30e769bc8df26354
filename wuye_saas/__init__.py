"""红色物业 SaaS — the application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import load_config
from .extensions import csrf, db, end_reads_with_commit, htmx, login_manager, migrate, ping_when_idle
from .formutil import RecordIdConverter
from .ratelimit import limiter, too_many
from . import rls

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), instance_path=str(ROOT / "instance"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    # <int:…> in every route takes only ids a record can have: a longer number is a 404, not an
    # overflow in the database. Set before any blueprint adds its rules.
    app.url_map.converters["int"] = RecordIdConverter
    if app.config["TRUSTED_PROXIES"]:
        # The client's address and scheme as the trusted proxies saw them (limits, HSTS, cookies).
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    db.init_app(app)
    with app.app_context():
        ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])
        rls.install(db.engine)
        end_reads_with_commit(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    app.register_error_handler(429, too_many)

    from . import models  # noqa: F401  (every model registered before Alembic looks)
    from . import pagecache  # noqa: F401  (its listeners: every commit bumps the district's version)
    from . import tenancy, web
    from .admin.views import bp as admin_bp
    from .audit_log.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .dashboard.views import bp as dashboard_bp
    from .demands import views as demand_views
    from .fees import billing_views, claim_views, holdback_views, payment_views, policy_views
    from .evaluation import standard_views
    from .importer.views import bp as import_bp
    from .jobs.views import bp as jobs_bp
    from .meetings.views import bp as meetings_bp
    from .org.views import bp as org_bp
    from .public.views import bp as public_bp
    from .publicity import board_views, check_views, ledger_views, publication_views
    from .publicity import fund_views as fund_account_views
    from .votes import fund_views, views as vote_views
    from .users.views import bp as users_bp
    from .evaluation import survey_views
    from .evaluation import assessment_views, cycle_views
    from .evaluation import board_views as redblack_views, result_views
    from .committees import views as committee_views
    from .followups import views as followup_views
    from .credit import views as credit_views
    from .fourlists import views as fourlist_views
    from .volunteers import views as volunteer_views
    from .contracts import views as contract_views
    from .exits import views as exit_views
    from .hiring import views as hiring_views
    from .matters import views as matter_views
    from .api import routes as api_routes, views as api_client_views
    from .notifications import handlers as _notify_handlers  # noqa: F401  (events.handler)
    from .publicity import evaluation_board as _evaluation_board  # noqa: F401  (its job)
    from .notifications import views as notification_views
    from .webhooks import views as webhook_views

    web.install(app)
    app.register_blueprint(standard_views.bp)
    for bp in (cycle_views.bp, assessment_views.bp):
        app.register_blueprint(bp)
    for bp in (survey_views.bp, survey_views.public_bp):
        app.register_blueprint(bp)
    for bp in (result_views.bp, redblack_views.bp):
        app.register_blueprint(bp)
    app.register_blueprint(contract_views.bp)
    for bp in (api_routes.bp, api_routes.docs_bp, api_client_views.bp):
        app.register_blueprint(bp)
    for bp in (credit_views.bp, credit_views.public_bp):
        app.register_blueprint(bp)
    app.register_blueprint(notification_views.bp)
    app.register_blueprint(webhook_views.bp)
    for bp in (committee_views.bp, committee_views.registry_bp, followup_views.bp, fourlist_views.bp,
               volunteer_views.bp, exit_views.bp, matter_views.bp):
        app.register_blueprint(bp)
    for bp in (auth_bp, admin_bp, dashboard_bp, org_bp, users_bp, import_bp, jobs_bp, audit_bp,
               policy_views.bp, billing_views.bp, payment_views.bp, claim_views.bp, holdback_views.bp, public_bp,
               ledger_views.bp, fund_account_views.bp, publication_views.bp, board_views.bp, check_views.bp,
               vote_views.bp, fund_views.bp, hiring_views.bp, meetings_bp, demand_views.bp, demand_views.public_bp):
        app.register_blueprint(bp)

    from .cli import register as register_cli
    register_cli(app)
    return app
