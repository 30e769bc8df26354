"""List pages cost a fixed number of queries, however many rows they show (no N+1)."""
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import login


@contextmanager
def count_queries(app):
    with app.app_context():
        engine = db.engine
    seen = []

    def _count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _grow(app, tid, n):
    """n more of each listed kind in alpha's branch-1 compound."""
    with app.app_context(), tenant_scope(tid):
        compound = db.session.execute(db.select(m.Compound).order_by(m.Compound.id)).scalars().first()
        firm = db.session.execute(db.select(m.Firm).order_by(m.Firm.id)).scalars().first()
        low = db.session.execute(db.select(m.HouseholdClass)).scalars().first()
        for i in range(n):
            b = m.Building(compound=compound, name=f"加{i}号楼")
            h = m.Household(compound=compound, building=b, room=f"{i}01", floor_area=Decimal("66.60"),
                            household_code=f"GROW{i:04d}")
            h.class_links.append(m.HouseholdClassLink(household_class=low, valid_from=date(2025, 1, 1)))
            db.session.add_all([b, h, m.Contract(firm=firm, compound=compound, start_date=date(2020, 1, 1),
                                                  end_date=date(2021, 1, 1), service_grade="三级",
                                                  fee_mode="包干制", fee_rate=Decimal("0.50"))])
        db.session.commit()


@pytest.mark.parametrize("path", ["/d/alpha/households/", "/d/alpha/buildings/", "/d/alpha/contracts/",
                                  "/d/alpha/compounds/", "/d/alpha/compounds/{compound1}"])
def test_list_queries_do_not_grow_with_rows(app, client, world, path):
    path = path.format(compound1=world["alpha"].compound1)
    login(client, "alpha-district")
    with count_queries(app) as few:
        assert client.get(path).status_code == 200
    _grow(app, world["alpha"].tenant_id, 15)
    with count_queries(app) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few), f"{path}: {len(few)} queries with few rows, {len(many)} with more"
    assert len(many) <= 20
