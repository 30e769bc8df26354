"""Domain events (wuye_saas/events/): written with the change they report, gone with its rollback."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from wuye_saas import events
from wuye_saas.events import DomainEvent
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_demands import setup_categories, staff_intake


def _events(app, ns):
    with app.app_context(), tenant_scope(ns.tenant_id):
        return [(e.kind, e.subject, e.subject_id, e.compound_id, e.data.get("number"))
                for e in db.session.execute(select(DomainEvent).order_by(DomainEvent.id)).scalars()]


def test_a_demand_step_emits_its_event_and_a_refused_step_none(app, client, world):
    a, b = world["alpha"], world["beta"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    resp = staff_intake(client, a, cats)
    did = int(resp.headers["Location"].rsplit("/", 1)[1])
    got = _events(app, a)
    assert [g[:4] for g in got] == [("demand.submitted", "demand", did, a.compound1)]
    number = got[0][4]
    assert number.startswith("SQ")
    # A refused dispatch (a firm without a contract there) writes no event.
    assert post(client, f"/d/alpha/demands/{did}/dispatch",
                {"assignee_kind": "firm", "firm_id": a.firm2}).status_code == 422
    assert len(_events(app, a)) == 1
    assert post(client, f"/d/alpha/demands/{did}/dispatch",
                {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 302
    assert [g[0] for g in _events(app, a)] == ["demand.submitted", "demand.dispatched"]
    assert _events(app, b) == []   # the other district's events are its own


def test_handlers_run_in_the_emitting_transaction(app, world):
    a = world["alpha"]
    seen = []
    events._HANDLERS.append(seen.append)
    try:
        with app.app_context(), tenant_scope(a.tenant_id):
            events.emit("vote.opened", "vote", 7, compound_id=a.compound1, data={"title": "x"})
            assert [e.kind for e in seen] == ["vote.opened"]
            db.session.rollback()
            assert db.session.execute(select(DomainEvent)).first() is None
            with pytest.raises(ValueError):
                events.emit("vote.invented", "vote", 7)
    finally:
        events._HANDLERS.remove(seen.append)
