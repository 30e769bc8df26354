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
