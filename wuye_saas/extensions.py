"""Flask extensions, created unbound; the app factory binds them."""
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
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


def refresh_statistics(*tables: str) -> None:
    """ANALYZE after a bulk load on PostgreSQL: its planner works from table statistics, and
    autovacuum may be off or not yet round (a community's 缴费率 took minutes on a freshly
    billed district; docs/benchmarks.md). Nothing to do on SQLite."""
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE " + ", ".join(tables) if tables else "ANALYZE"))
