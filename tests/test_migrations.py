"""The models and the Alembic migrations agree, and the migrations run down and up again."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from wuye_saas import create_app
from wuye_saas.extensions import db


def _differences() -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)


def test_models_match_the_migrations(app):
    # The session's database was built by `upgrade()` (see conftest), never by create_all.
    with app.app_context():
        assert _differences() == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "migrations-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrations.db'}"})
    tables = {t.name for t in db.metadata.sorted_tables}
    with app.app_context():
        upgrade()
        assert tables <= set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert tables <= set(inspect(db.engine).get_table_names())
        assert _differences() == []
        db.engine.dispose()
