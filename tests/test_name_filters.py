"""A list's filter by compound or firm in a large district (org.pickers.name_pick): past
FILTER_CHOICES records the <select> becomes a box for part of the name, which narrows the list
exactly as picking the record would, never beyond the viewer's district, and treats % and _ as
text. Pages of a small scope keep the select."""
from __future__ import annotations

import re

import pytest

from wuye_saas.org import pickers

from .helpers import login
from .test_billing import fees, finish, start  # noqa: F401  (fixture)

HX = {"HX-Request": "true"}


@pytest.fixture
def many(monkeypatch):
    """Every district here has more compounds and firms than a select shows."""
    monkeypatch.setattr(pickers, "FILTER_CHOICES", 1)


def results(client, url) -> str:
    resp = client.get(url, headers=HX)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True)


def test_the_register_offers_a_name_box_past_the_limit_and_it_filters_like_the_pick(app, client, world, many):
    a = world["alpha"]
    login(client, "alpha-district")
    html = client.get("/d/alpha/households/").get_data(as_text=True)
    assert 'name="compound_id_name"' in html and 'placeholder="小区名称"' in html
    assert "甲区2号小区</option>" not in html           # no select of every compound
    by_name = results(client, "/d/alpha/households/?compound_id_name=2号")
    assert "甲区2号小区" in by_name and "甲区1号小区" not in by_name
    assert "乙区" not in by_name                         # the other district's 2号小区 stays out
    # Picked by id (a link from the compound's page): a chip names it, a hidden field keeps it.
    page = client.get(f"/d/alpha/households/?compound_id={a.compound1}").get_data(as_text=True)
    assert "小区：甲区1号小区" in page and f'name="compound_id" value="{a.compound1}"' in page
    assert "甲区2号小区" not in page.split('id="results"')[1]
    # % and _ are text, not wildcards: nothing is named with them.
    assert "没有符合条件的住户" in results(client, "/d/alpha/households/?compound_id_name=%25")
    # The compounds' own list: the firm and community boxes narrow it as their picks do.
    assert (results(client, "/d/alpha/compounds/?firm_name=第2物业")
            == results(client, f"/d/alpha/compounds/?firm={a.firm2}"))
    assert "甲区1号小区" not in results(client, "/d/alpha/compounds/?community_id_name=第2社区")


def test_a_small_scope_keeps_the_select_and_ignores_a_stray_name(app, client, world):
    login(client, "alpha-district")
    html = client.get("/d/alpha/households/").get_data(as_text=True)
    assert "甲区2号小区</option>" in html and 'name="compound_id_name"' not in html
    # A name left in a link is no hidden filter where no box shows it.
    assert "甲区1号小区" in results(client, "/d/alpha/households/?compound_id_name=2号")


def test_bills_and_arrears_by_name_equal_the_pick(app, client, fees, many):  # noqa: F811
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    html = client.get("/d/alpha/fees/bills/").get_data(as_text=True)
    assert 'name="compound_name"' in html and 'name="firm_name"' in html
    by_name = results(client, "/d/alpha/fees/bills/?compound_name=2号")
    assert by_name == results(client, f"/d/alpha/fees/bills/?compound={a.compound2}")
    assert by_name != results(client, "/d/alpha/fees/bills/")          # it did narrow the list
    assert (results(client, "/d/alpha/fees/bills/?firm_name=第1物业&month=2025-02")
            == results(client, f"/d/alpha/fees/bills/?firm={a.firm1}&month=2025-02"))
    # The arrears list, and its export, the same way.
    owed = results(client, "/d/alpha/fees/arrears?compound_name=1号")
    assert owed == results(client, f"/d/alpha/fees/arrears?compound={a.compound1}")
    assert "甲区1号小区" in owed and "甲区2号小区" not in owed
    assert "甲区1号小区" not in results(client, "/d/alpha/fees/arrears?compound_name=2号")
    picked = client.get(f"/d/alpha/fees/arrears?compound={a.compound1}").get_data(as_text=True)
    assert "小区：甲区1号小区" in picked
    export = client.get("/d/alpha/fees/arrears.xlsx?compound_name=2号")
    assert export.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook
    rows = [r for r in load_workbook(BytesIO(export.data)).active.iter_rows(values_only=True)]
    assert not any("甲区1号小区" in str(c) for r in rows for c in r)


def test_demands_by_compound_name_equal_the_pick_and_the_export_follows(app, client, world, many):
    """诉求: the compound filter past the limit is a name box; the list, its tab counts and the
    export narrow exactly as picking the compound does."""
    from datetime import timedelta

    from wuye_saas.audit import acting_as
    from wuye_saas.demands.models import Demand
    from wuye_saas.extensions import db
    from wuye_saas.tenancy import tenant_scope
    from wuye_saas.timeutil import now

    from .test_demands import setup_categories

    a = world["alpha"]
    cats = setup_categories(app, a)
    at = now()
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for n, compound in enumerate((a.compound1, a.compound2, a.compound2)):
            db.session.add(Demand(number=f"SQ-N{n}", compound_id=compound, category_id=cats["维修"], channel="online",
                                  title=f"名称筛选{n}", received_at=at, deadline_at=at + timedelta(days=3)))
        db.session.commit()
    login(client, "alpha-district")
    html = client.get("/d/alpha/demands/").get_data(as_text=True)
    assert 'name="compound_name"' in html and "甲区2号小区</option>" not in html
    def rows(url):
        return re.findall(r'<tr data-number="([^"]+)"', results(client, url))
    assert rows("/d/alpha/demands/?compound_name=2号") == rows(f"/d/alpha/demands/?compound={a.compound2}")
    assert sorted(rows("/d/alpha/demands/?compound_name=2号")) == ["SQ-N1", "SQ-N2"]
    assert len(rows("/d/alpha/demands/")) == 3                       # it did narrow the list
    page = results(client, "/d/alpha/demands/?compound_name=2号")
    assert re.search(r'data-tab="all">全部 <span[^>]*>2</span>', page)   # the tab counts narrow too
    picked = client.get(f"/d/alpha/demands/?compound={a.compound1}").get_data(as_text=True)
    assert "小区：甲区1号小区" in picked
    from io import BytesIO

    from openpyxl import load_workbook
    sheet = load_workbook(BytesIO(client.get("/d/alpha/demands/export.xlsx?compound_name=2号").data)).active
    assert sorted(r[5] for r in sheet.iter_rows(min_row=2, values_only=True)
                  if str(r[0]).startswith("SQ")) == ["名称筛选1", "名称筛选2"]
