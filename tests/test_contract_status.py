"""A draft contract (a selection's winner, the incoming firm before its handover) has dates but
serves nothing: the firm does not see the compound, bills and dashboards do not count it."""
from __future__ import annotations

from datetime import date

from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import login


def _set_status(app, tenant_id, contract_id, status):
    with app.app_context(), tenant_scope(tenant_id):
        db.session.get(m.Contract, contract_id).status = status
        db.session.commit()


def test_a_draft_contract_does_not_serve(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        c = db.session.get(m.Contract, a.contract1)
        assert c.serves(date(2026, 6, 1))
        served = db.session.execute(db.select(m.Contract.id).where(m.Contract.in_force(date(2026, 6, 1)))).scalars()
        assert a.contract1 in set(served)
    login(client, "alpha-firm")
    url = f"/d/alpha/compounds/{a.compound1}"
    assert client.get(url).status_code == 200

    _set_status(app, a.tenant_id, a.contract1, "draft")
    with app.app_context(), tenant_scope(a.tenant_id):
        c = db.session.get(m.Contract, a.contract1)
        assert not c.serves(date(2026, 6, 1))
        served = db.session.execute(db.select(m.Contract.id).where(m.Contract.in_force(date(2026, 6, 1)))).scalars()
        assert a.contract1 not in set(served)
    # The firm no longer serves the compound: out of its scope, so 404 like any other.
    assert client.get(url).status_code == 404
