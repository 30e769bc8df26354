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


def _seed(app, slug: str, compounds: int, households: int) -> None:
    out = app.test_cli_runner().invoke(args=["seed-demo", "--slug", slug, "--compounds", str(compounds),
                                             "--households", str(households)])
    assert out.exit_code == 0, out.output


def test_the_busiest_pages_cost_the_same_statements_in_a_district_three_times_larger(app, monkeypatch):
    """The most-used pages (wuye_saas/demo/busiest.py: each role's landing page, the dashboard's
    drill-down, the register lists, bills, payments, collection, demands, evaluations — what
    scripts/bench_pages.py times) send the same statements for a demo district of 12 compounds
    and one of 36, rendered afresh (no kept page): none does work per compound or per row."""
    from wuye_saas.demo import busiest
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)
    _seed(app, "small", 12, 1000)
    _seed(app, "large", 36, 3000)
    with app.app_context():
        pages = {slug: busiest.resolve(slug) + _arrears_views(slug) for slug in ("small", "large")}
    counts = {}
    for slug, listed in pages.items():
        clients = {}
        for user, name, url in listed:
            if user not in clients:
                clients[user] = app.test_client()
                login(clients[user], user, "demo1234")
            client = clients[user]
            assert client.get(url).status_code == 200, url      # first view: anything made once
            with count_queries(app) as seen:
                assert client.get(url).status_code == 200, url
            counts.setdefault(name, []).append(len(seen))
    grew = {name: n for name, n in counts.items() if n[0] != n[1]}
    assert not grew, f"statements at 12 and 36 compounds: {grew}"
    assert len(counts) == len(pages["small"])


def _arrears_views(slug: str) -> list[tuple[str, str, str]]:
    """The arrears page (fees/payments.py, read from owed_bill and household_owed) beyond the
    district's first page in busiest.PAGES: filtered by bucket and by compound, a later page,
    and as the firm, the committee and the street see it."""
    from wuye_saas.org.models import Compound
    from wuye_saas.tenancy import Tenant, system_scope
    with system_scope():
        tid = db.session.execute(db.select(Tenant.id).where(Tenant.slug == slug)).scalar_one()
    with tenant_scope(tid):
        compound = db.session.execute(db.select(db.func.min(Compound.id))).scalar_one()
        db.session.rollback()
    path = f"/d/{slug}/fees/arrears"
    return [(f"{slug}-district", "欠费·6个月以上", path + "?bucket=m6p"),
            (f"{slug}-district", "欠费·小区", f"{path}?compound={compound}&bucket=m1_3"),
            (f"{slug}-district", "欠费·第2页", path + "?page=2"),
            (f"{slug}-firm", "欠费（物业企业）", path),
            (f"{slug}-committee", "欠费（业委会）", path),
            (f"{slug}-street", "欠费（街道）", path + "?bucket=current")]


def test_the_kept_counts_equal_the_counted_rows(app):
    """compound.household_count (triggers) and node_month (written with each snapshot) are exact:
    equal to counting the households and summing the compounds' snapshot rows, after the seed's
    bulk inserts and after households are added, moved and deleted."""
    from wuye_saas.indicators import rollup, snapshots
    from wuye_saas.indicators.models import CompoundMonth as CM, NodeMonth as NM
    from wuye_saas.tenancy import Tenant, system_scope
    from wuye_saas.timeutil import now
    _seed(app, "exact", 12, 1000)
    with app.app_context():
        with system_scope():
            tid = db.session.execute(db.select(Tenant.id).where(Tenant.slug == "exact")).scalar_one()
        with tenant_scope(tid):
            def households_agree():
                kept = dict(db.session.execute(db.select(m.Compound.id, m.Compound.household_count)).all())
                counted = dict(db.session.execute(db.select(m.Household.compound_id, db.func.count(m.Household.id))
                                                  .group_by(m.Household.compound_id)).all())
                assert kept == {cid: counted.get(cid, 0) for cid in kept}
            households_agree()
            first, second = db.session.execute(db.select(m.Compound).order_by(m.Compound.id).limit(2)).scalars()
            moved = db.session.execute(db.select(m.Household).where(m.Household.compound_id == first.id)
                                       .limit(3)).scalars().all()
            for h in moved:
                h.compound_id = second.id
            added = [m.Household(compound_id=first.id, building_id=moved[0].building_id, room=f"990{i}",
                                 floor_area=Decimal("80.00"), household_code=f"EXACT990{i}") for i in (1, 2)]
            db.session.add_all(added)
            db.session.commit()
            households_agree()
            db.session.delete(added[1])   # one without bills (a billed household cannot go)
            db.session.commit()
            households_agree()

            snapshots.snapshot(tid, now().date(), now())
            db.session.commit()
            nodes = db.session.execute(db.select(NM)).scalars().all()
            assert {n.level for n in nodes} == {"district", "street", "community"}
            assert len({n.month for n in nodes}) >= 3
            for n in nodes:
                where = [CM.month == n.month] + {"district": [], "street": [CM.street_id == n.node_id],
                                                 "community": [CM.community_id == n.node_id]}[n.level]
                direct = db.session.execute(db.select(*rollup.sums()).where(*where)).one()
                assert {k: int(getattr(direct, k) or 0) for k in rollup.SUM_NAMES} == \
                    {k: getattr(n, k) for k in rollup.SUM_NAMES}, (n.level, n.node_id, n.month)
                modes = dict(db.session.execute(db.select(CM.management_mode, db.func.count())
                                                .where(*where).group_by(CM.management_mode)).all())
                stars = {str(s): c for s, c in db.session.execute(
                    db.select(CM.stars, db.func.count()).where(*where, CM.stars.is_not(None)).group_by(CM.stars))}
                lists = dict(db.session.execute(db.select(CM.list_kind, db.func.count())
                                                .where(*where, CM.list_kind.is_not(None)).group_by(CM.list_kind)).all())
                assert n.distribution == {"modes": modes, "stars": stars, "lists": lists}
            assert any(n.distribution["stars"] for n in nodes), "the seed's published evaluation rates compounds"
