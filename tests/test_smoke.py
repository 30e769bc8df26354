from wuye_saas.extensions import db
from wuye_saas.org.models import Compound
from wuye_saas.tenancy import TenantScopeError, tenant_scope
import pytest

from .helpers import login


def test_district_admin_sees_own_compounds_only(client, world):
    login(client, "alpha-district")
    html = client.get("/d/alpha/compounds/").get_data(as_text=True)
    assert "甲区1号小区" in html and "甲区2号小区" in html
    assert "乙区" not in html


def test_query_without_tenant_scope_fails_closed(app, world):
    with app.app_context():
        with pytest.raises(TenantScopeError):
            db.session.execute(db.select(Compound)).all()
        with tenant_scope(world["beta"].tenant_id):
            names = db.session.execute(db.select(Compound.name)).scalars().all()
        assert sorted(names) == ["乙区1号小区", "乙区2号小区"]


def test_a_kept_statement_is_filtered_by_each_district_it_runs_in(app, world):
    """tenancy.kept: the district's filter kept with a statement run many times is that district's,
    whichever district ran it first, also through a subquery; outside a scope it still fails."""
    from sqlalchemy import func, select
    from wuye_saas.org.models import Community
    from wuye_saas.tenancy import kept, system_scope
    stmt = kept(select(Compound.name).where(Compound.community_id.in_(select(Community.id)))
                .order_by(Compound.name))
    count = kept(select(func.count()).select_from(select(Compound.id).subquery()))
    with app.app_context():
        for _ in range(2):
            for slug, name in (("alpha", "甲区"), ("beta", "乙区")):
                with tenant_scope(world[slug].tenant_id):
                    assert db.session.execute(stmt).scalars().all() == [f"{name}1号小区", f"{name}2号小区"]
                    assert db.session.execute(count).scalar_one() == 2
        with system_scope():
            assert db.session.execute(count).scalar_one() >= 4
        with pytest.raises(TenantScopeError):
            db.session.execute(stmt).all()
