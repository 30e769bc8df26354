"""The test body runs in the system scope (conftest._inspector), but what production runs does not
inherit it: a request through the test client and a CLI command start in no scope and set their
own, as in production; the body's scope is back afterwards. If they inherited it, a page that
forgot its district's scope would pass here and fail in production (PostgreSQL's wall would
hide its rows), and the suite run as the application role would prove nothing."""
from __future__ import annotations

import click
import pytest
from flask import request_finished, request_started
from sqlalchemy import text

from wuye_saas import rls, tenancy
from wuye_saas.extensions import db
from wuye_saas.tenancy import Scope

from .helpers import login

SYSTEM = Scope(None, system=True)


def _told_system(app) -> str | None:
    """What the request's transaction was told of the system scope (PostgreSQL held by the wall;
    None where nothing is told: SQLite, or a role the policies do not hold)."""
    if not rls.active(db.engine):
        return None
    return db.session.execute(text("SELECT current_setting('wuye.system', true)")).scalar()


def test_the_body_inspects_in_the_system_scope(app):
    assert tenancy.current_scope() == SYSTEM


@pytest.mark.unscoped
def test_an_unscoped_test_body_is_in_no_scope(app):
    assert tenancy.current_scope() == Scope(None)


def test_requests_start_unscoped_set_their_own_and_give_the_body_its_scope_back(app, client, world):
    seen = []

    def started(sender, **extra):
        seen.append(("start", tenancy.current_scope()))

    def finished(sender, response, **extra):
        seen.append(("end", tenancy.current_scope(), _told_system(app)))

    with request_started.connected_to(started, app), request_finished.connected_to(finished, app):
        assert client.get("/login").status_code == 200
        assert tenancy.current_scope() == SYSTEM
        login(client, "alpha-district")
        seen.clear()
        assert client.get("/d/alpha/").status_code == 200
        assert tenancy.current_scope() == SYSTEM
        assert client.get("/login").status_code in (200, 302)
    assert tenancy.current_scope() == SYSTEM
    alpha = Scope(world["alpha"].tenant_id)
    # The district's page in its district only; the page outside any district in no scope.
    assert [s[:2] for s in seen] == [("start", Scope(None)), ("end", alpha),
                                     ("start", Scope(None)), ("end", Scope(None))]
    assert [s[2] for s in seen if s[0] == "end"] in ([None, None], ["off", "off"])


def test_cli_commands_start_unscoped_and_give_the_body_its_scope_back(app):
    @click.command()
    def where():
        click.echo(repr(tenancy.current_scope()))

    result = app.test_cli_runner().invoke(where)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == repr(Scope(None))
    assert tenancy.current_scope() == SYSTEM
