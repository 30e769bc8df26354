"""How a request's transaction ends on PostgreSQL (extensions.end_reads_with_commit): one that
only read commits, so the statements psycopg prepared on the connection outlive the request
(a rollback makes psycopg forget them all); one that wrote without committing, or holds
changed objects, or failed, is rolled back: nothing a view did not commit is kept."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from wuye_saas.extensions import db
from wuye_saas.org.models import Street
from wuye_saas.tenancy import tenant_scope


@pytest.fixture
def pg(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("psycopg's prepared statements: run with DATABASE_URL on PostgreSQL")
        db.engine.dispose()   # one connection from here on: what one request prepares, the next sees


def _name(app, tid, sid) -> str:
    with app.app_context(), tenant_scope(tid):
        return db.session.execute(select(Street.name).where(Street.id == sid)).scalar_one()


def test_a_request_that_only_read_keeps_the_prepared_statements(app, world, pg):
    if app.config["DATABASE_POOLER"]:
        pytest.skip("behind a transaction pooler psycopg prepares nothing (config.py)")
    tid = world["alpha"].tenant_id
    for i in range(7):   # psycopg prepares a statement on its fifth run on a connection
        with app.app_context(), tenant_scope(tid):
            assert db.session.execute(text("SELECT CAST(:x AS integer) + 41"), {"x": i}).scalar() == 41 + i
    with app.app_context():
        kept = db.session.execute(text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%+ 41%'")).scalar()
    assert kept == 1
    # What the committed request loaded stays readable after it, as after a rollback.
    with app.app_context(), tenant_scope(tid):
        street = db.session.get(Street, world["alpha"].street1)
    assert street.name == "甲区第1街道"


def test_what_a_request_wrote_without_committing_is_rolled_back(app, world, pg):
    a = world["alpha"]
    sid = a.street1
    before = _name(app, a.tenant_id, sid)
    with app.app_context(), tenant_scope(a.tenant_id):       # a statement that wrote
        db.session.execute(update(Street).where(Street.id == sid).values(name="未提交一"))
    assert _name(app, a.tenant_id, sid) == before
    with app.app_context(), tenant_scope(a.tenant_id):       # a changed object, not flushed
        db.session.get(Street, sid).name = "未提交二"
    assert _name(app, a.tenant_id, sid) == before
    with app.app_context(), tenant_scope(a.tenant_id):       # a flush that failed, caught
        db.session.add(Street(name=before, code="S9"))         # (name, district) is unique
        with pytest.raises(IntegrityError):
            db.session.flush()
    assert _name(app, a.tenant_id, sid) == before
    with pytest.raises(RuntimeError):                         # a failure after a read
        with app.app_context(), tenant_scope(a.tenant_id):
            db.session.execute(select(Street.id)).all()
            raise RuntimeError("view failed")
    assert _name(app, a.tenant_id, sid) == before
