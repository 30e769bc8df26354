"""The scopes the suite runs in. A request through the test client and a CLI command start in
no scope, as in production, whatever scope the test's own code is in, and set their own; that
code's scope is back afterwards. A test's own read of a district's table outside any scope fails
where the wall holds the run's role (it would see nothing there, and prove nothing), as an ORM
read of a district's model fails everywhere (conftest._guard_unscoped_reads)."""
from __future__ import annotations

import click
import pytest
from flask import request_finished, request_started
from flask.cli import with_appcontext
from sqlalchemy import select, text

from wuye_saas import rls, tenancy
from wuye_saas.extensions import db
from wuye_saas.org.models import Compound
from wuye_saas.tenancy import Scope, TenantScopeError, system_scope, tenant_scope

from .conftest import UnscopedRead
from .helpers import login

NONE = Scope(None)
SEEN = "SELECT current_setting('wuye.system', true), (SELECT count(*) FROM household)"


def _wall() -> tuple | None:
    """(wuye.system as the transaction was told, households raw SQL sees) where the wall holds
    the run's role; None where it does not (SQLite, a BYPASSRLS role)."""
    if not rls.active(db.engine):
        return None
    row = tuple(db.session.execute(text(SEEN)).one())
    db.session.rollback()
    return row


def test_a_test_s_own_read_outside_any_scope_fails_and_inside_one_sees_its_scope(app, world):
    with app.app_context():
        assert tenancy.current_scope() == NONE
        with pytest.raises(TenantScopeError):
            db.session.execute(select(Compound)).all()
        db.session.rollback()
        if rls.active(db.engine):
            with pytest.raises(UnscopedRead, match="household"):
                db.session.execute(text("SELECT count(*) FROM household"))
            db.session.rollback()
            with pytest.raises(UnscopedRead, match="audit_event"):
                db.session.execute(text('SELECT count(*) FROM "audit_event_default"'))
            db.session.rollback()
        assert db.session.execute(text("SELECT count(*) FROM tenant")).scalar_one() == 2   # not walled
        with system_scope():
            assert _wall() in (None, ("on", 4))
        with tenant_scope(world["alpha"].tenant_id):
            assert _wall() in (None, ("off", 2))


@pytest.mark.unscoped
def test_a_test_marked_unscoped_sees_the_wall_from_no_scope(app, world):
    with app.app_context():
        assert _wall() in (None, ("off", 0))


def test_requests_start_in_no_scope_and_give_the_test_its_scope_back(app, client, world):
    seen = []

    def started(sender, **extra):
        seen.append(("start", tenancy.current_scope()))

    def finished(sender, response, **extra):
        seen.append(("end", tenancy.current_scope(), _wall()))

    login(client, "alpha-district")
    alpha, beta = world["alpha"].tenant_id, world["beta"].tenant_id
    with request_started.connected_to(started, app), request_finished.connected_to(finished, app):
        assert client.get("/d/alpha/").status_code == 200
        assert tenancy.current_scope() == NONE
        with tenant_scope(beta):   # not inherited by the request
            assert client.get("/").status_code in (200, 302)
            assert tenancy.current_scope() == Scope(beta)
        with system_scope():       # nor this
            assert client.get("/").status_code in (200, 302)
    assert tenancy.current_scope() == NONE
    # The district's page in its district, behind the wall; the page outside any district in no
    # scope, where raw SQL sees no district's rows.
    assert [s[:2] for s in seen] == [("start", NONE), ("end", Scope(alpha)),
                                     ("start", NONE), ("end", NONE), ("start", NONE), ("end", NONE)]
    assert [s[2] for s in seen if s[0] == "end"] in ([None] * 3, [("off", 2), ("off", 0), ("off", 0)])


def test_cli_commands_start_in_no_scope(app, world):
    @click.command()
    @with_appcontext
    def where():
        click.echo(f"{tenancy.current_scope()!r} {_wall()!r}")

    with tenant_scope(world["beta"].tenant_id):
        result = app.test_cli_runner().invoke(where)
        assert tenancy.current_scope() == Scope(world["beta"].tenant_id)
    assert result.exit_code == 0, result.output
    assert result.output.strip() in (f"{NONE!r} None", f"{NONE!r} ('off', 0)")
