"""Found by walking every page as every role: a required select left blank is refused with a
Chinese message (it used to reach the database as NULL), and detail pages link only to
records the reader may open."""
from __future__ import annotations

from sqlalchemy import func, select

from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_billing import _bill_ids, fees, finish, start  # noqa: F401  (fees is a fixture)


def _compounds(app, tid) -> int:
    with app.app_context(), tenant_scope(tid):
        return db.session.execute(select(func.count()).select_from(m.Compound)).scalar_one()


def test_compound_without_community_is_refused_and_nothing_written(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    before = _compounds(app, a.tenant_id)
    form = client.get("/d/alpha/compounds/new").get_data(as_text=True)
    assert '<option selected value="">请选择…</option>' in form
    for blank in ("", "None"):  # the form's blank choice, and a hand-made request
        resp = post(client, "/d/alpha/compounds/new", {"community_id": blank, "name": "新小区",
                                                       "compound_type": "商品房", "management_mode": "专业物业"})
        assert resp.status_code == 422
        assert "请选择所属社区" in resp.get_data(as_text=True)
    assert _compounds(app, a.tenant_id) == before


def test_detail_links_only_what_the_reader_may_open(app, client, world):
    a = world["alpha"]
    community_link = f'href="/d/alpha/communities/{a.community1}"'
    login(client, "alpha-firm")
    page = client.get(f"/d/alpha/compounds/{a.compound1}").get_data(as_text=True)
    assert "甲区第1社区" in page and community_link not in page
    assert client.get(f"/d/alpha/communities/{a.community1}").status_code == 404
    district = app.test_client()
    login(district, "alpha-district")
    assert community_link in district.get(f"/d/alpha/compounds/{a.compound1}").get_data(as_text=True)


def test_bill_links_its_run_only_for_who_may_open_it(app, client, fees):  # noqa: F811
    a = fees["a"]
    login(client, "alpha-district")
    br = finish(app, start(client, "2025-02", "district"))  # a district-wide run: not the firm's
    bill = _bill_ids(app, a.tenant_id, fees["hA"])[0]
    run_link = f'href="/d/alpha/fees/runs/{br}"'
    assert run_link in client.get(f"/d/alpha/fees/bills/{bill}").get_data(as_text=True)
    firm = app.test_client()
    login(firm, "alpha-firm")
    page = firm.get(f"/d/alpha/fees/bills/{bill}")
    assert page.status_code == 200 and run_link not in page.get_data(as_text=True)
    assert firm.get(f"/d/alpha/fees/runs/{br}").status_code == 404


def test_the_menu_keeps_the_section_of_a_form_page_lit(client, world):
    """The lit menu item is the one whose address is the longest prefix of the page's."""
    import re
    login(client, "alpha-district")
    for page, lit in (("/d/alpha/fees/policies/new", "/d/alpha/fees/policies/"),
                      ("/d/alpha/fees/assignments/new", "/d/alpha/fees/assignments/"),
                      ("/d/alpha/demands/", "/d/alpha/demands/")):
        html = client.get(page).get_data(as_text=True)
        assert re.findall(r'<a class="nav-link active" href="([^"]+)"', html) == [lit], page


def test_every_menu_item_opens_a_page_headed_with_its_name(app, world):
    """What the menu calls a page is what the page calls itself, for every role's menu."""
    import re
    seen = 0
    for user in ("alpha-district", "alpha-street", "alpha-community", "alpha-firm", "alpha-committee"):
        client = app.test_client()
        login(client, user)
        home = client.get("/d/alpha/").get_data(as_text=True)
        items = re.findall(r'<a class="nav-link[^"]*" href="(/d/alpha/[^"]+)"><i class="bi bi-[^"]+"></i> ([^<]+)</a>', home)
        assert len(items) >= 5, user
        for href, label in items:
            page = client.get(href).get_data(as_text=True)
            heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
            assert heading, (user, href)
            assert label.strip() in re.sub(r"<[^>]+>", "", heading.group(1)), (user, href, label)
            seen += 1
    assert seen > 40


def test_the_kept_menu_follows_the_page_and_the_membership(app, world):
    """The menu is rendered once per membership scope and address (web.sidebar) and reused: each
    page still lights its own link, and a firm at the same address gets its own menu, not the
    district's."""
    import re

    def lit_and_items(client, page):
        html = client.get(page).get_data(as_text=True)
        return (re.findall(r'<a class="nav-link active" href="([^"]+)"', html),
                re.findall(r'<a class="nav-link[^"]*" href="(/d/alpha/[^"]+)"', html))

    district, firm = app.test_client(), app.test_client()
    login(district, "alpha-district")
    login(firm, "alpha-firm")
    for _ in range(2):   # the second round is answered from the kept menus
        lit, items = lit_and_items(district, "/d/alpha/demands/")
        assert lit == ["/d/alpha/demands/"]
        assert "/d/alpha/users/" in items
        lit, _ = lit_and_items(district, "/d/alpha/fees/policies/new")
        assert lit == ["/d/alpha/fees/policies/"]
        lit, firm_items = lit_and_items(firm, "/d/alpha/demands/")
        assert lit == ["/d/alpha/demands/"]
        assert "/d/alpha/users/" not in firm_items and "/d/alpha/credit/" in firm_items
        assert firm_items != items
