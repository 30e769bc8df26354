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


def _compounds_with_snapshot(app, tid, n):
    """n more compounds spread over alpha's two communities, then this month's snapshot."""
    from wuye_saas.indicators import snapshots
    from wuye_saas.timeutil import now
    with app.app_context(), tenant_scope(tid):
        comms = db.session.execute(db.select(m.Community.id).order_by(m.Community.id)).scalars().all()
        start = db.session.execute(db.select(db.func.count(m.Compound.id))).scalar()
        firm = db.session.execute(db.select(m.Firm).order_by(m.Firm.id)).scalars().first()
        for i in range(n):
            c = m.Compound(community_id=comms[i % 2], name=f"增{start + i}小区", compound_type="商品房",
                           management_mode=m.MANAGEMENT_MODES[i % 4])
            db.session.add_all([c, m.Contract(firm=firm, compound=c, start_date=date(2020, 1, 1),
                                              end_date=date(2030, 1, 1), service_grade="三级",
                                              fee_mode="包干制", fee_rate=Decimal("0.50"))])
        db.session.flush()
        snapshots.snapshot(tid, now().date(), now())
        db.session.commit()


@pytest.mark.parametrize("user,args", [("alpha-district", ""), ("alpha-district", "?level=community&community_id=1"),
                                       ("alpha-street", ""), ("alpha-community", "")])
def test_dashboard_queries_do_not_grow_with_compounds(app, client, world, user, args):
    """The indicators board reads the snapshots grouped: 3 compounds or 30, the same statements."""
    tid = world["alpha"].tenant_id
    _compounds_with_snapshot(app, tid, 1)            # 3 compounds
    login(client, user)
    path = "/d/alpha/" + args.replace("community_id=1", f"community_id={world['alpha'].community1}")
    with count_queries(app) as few:
        html = client.get(path).get_data(as_text=True)
    assert "三率与运行指标" in html and "还没有统计快照" not in html
    _compounds_with_snapshot(app, tid, 27)           # 30 compounds
    with count_queries(app) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few), f"{path}: {len(few)} queries at 3 compounds, {len(many)} at 30"
    assert len(many) <= 25
