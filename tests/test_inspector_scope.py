"""The test body inspects (conftest._inspector): where it opened no scope, PostgreSQL's wall shows
it every district's rows, as the owner's role would. What production runs does not inherit
that: a request through the test client and a CLI command start in no scope, held by the wall,
and set their own scopes as in production; the body's are back afterwards. If they inherited
it, a page that forgot its district's scope would pass here and fail in production, and the
suite run as the application role would prove nothing. Only the wall sees the inspector: an
ORM read of a district's model outside a scope still fails closed in the body."""
from __future__ import annotations

import click
import pytest
from flask import request_finished, request_started
from flask.cli import with_appcontext
from sqlalchemy import select, text

from wuye_saas import rls, tenancy
from wuye_saas.extensions import db
from wuye_saas.org.models import Compound
from wuye_saas.tenancy import Scope, TenantScopeError, tenant_scope

from .helpers import login

NONE = Scope(None)


def _wall() -> tuple:
    """(wuye.system as the transaction was told, households seen by raw SQL) where the wall
    holds the run's role; None where it does not (SQLite, a BYPASSRLS role)."""
    if not rls.active(db.engine):
        return None
    row = db.session.execute(text(
        "SELECT current_setting('wuye.system', true), (SELECT count(*) FROM household)")).one()
    db.session.rollback()
    return tuple(row)


def test_the_body_sees_through_the_wall_where_it_opened_no_scope_and_the_orm_still_fails_closed(app, world):
    with app.app_context():
        assert tenancy.current_scope() == NONE
        assert _wall() in (None, ("on", 4))
        with pytest.raises(TenantScopeError):
            db.session.execute(select(Compound)).all()
        db.session.rollback()
        with tenant_scope(world["alpha"].tenant_id):
            assert _wall() in (None, ("off", 2))


@pytest.mark.unscoped
def test_an_unscoped_test_body_sees_the_wall_as_an_unscoped_process(app, world):
    with app.app_context():
        assert tenancy.current_scope() == NONE
        assert _wall() in (None, ("off", 0))


def test_requests_start_unscoped_held_by_the_wall_and_give_the_body_its_scope_back(app, client, world):
    seen = []

    def started(sender, **extra):
        seen.append(("start", tenancy.current_scope()))

    def finished(sender, response, **extra):
        seen.append(("end", tenancy.current_scope(), _wall()))

    login(client, "alpha-district")
    alpha = world["alpha"].tenant_id
    with request_started.connected_to(started, app), request_finished.connected_to(finished, app):
        assert client.get("/d/alpha/").status_code == 200
        assert tenancy.current_scope() == NONE
        with tenant_scope(world["beta"].tenant_id):   # not inherited either
            assert client.get("/").status_code in (200, 302)
            assert tenancy.current_scope() == Scope(world["beta"].tenant_id)
    assert tenancy.current_scope() == NONE
    # The district's page in its district only, behind the wall; the page outside any district
    # in no scope, where raw SQL sees no district's rows.
    assert [s[:2] for s in seen] == [("start", NONE), ("end", Scope(alpha)), ("start", NONE), ("end", NONE)]
    assert [s[2] for s in seen if s[0] == "end"] in ([None, None], [("off", 2), ("off", 0)])


def test_cli_commands_start_unscoped_held_by_the_wall(app, world):
    @click.command()
    @with_appcontext
    def where():
        click.echo(f"{tenancy.current_scope()!r} {_wall()!r}")

    result = app.test_cli_runner().invoke(where)
    assert result.exit_code == 0, result.output
    assert result.output.strip() in (f"{NONE!r} None", f"{NONE!r} ('off', 0)")
    assert tenancy.current_scope() == NONE
