"""Flask extensions, created unbound; the app factory binds them."""
from time import monotonic

from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()


def ping_when_idle(engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip only when it has sat unused for a while.

    SQLAlchemy's pool_pre_ping pings on every checkout: one extra round trip per request, a
    quarter of a kept page's time under load (docs/benchmarks.md). A connection used in the last
    seconds is alive; one idle longer may have been cut (database restart, a firewall's idle
    timeout) and is tested first. A dead one raises DisconnectionError, on which the pool drops
    it and checks out another."""
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        since = record.info.get("idle_since")
        if since is not None and monotonic() - since > idle_seconds:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except engine.dialect.loaded_dbapi.Error as err:
                raise exc.DisconnectionError() from err


def refresh_statistics(*tables: str) -> None:
    """ANALYZE after a bulk load on PostgreSQL: its planner works from table statistics, and
    autovacuum may be off or not yet round (a community's 缴费率 took minutes on a freshly
    billed district; docs/benchmarks.md). Nothing to do on SQLite."""
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE " + ", ".join(tables) if tables else "ANALYZE"))
