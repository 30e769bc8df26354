"""Pickers follow their parent (org.pickers): a record whose parents disagree is refused with a
message next to the field and nothing written, on every form with related pickers; the narrowed
<option>s come from one HTMX endpoint, scoped like everything else."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from wuye_saas.extensions import db
from wuye_saas.fees import models as fm
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import form_data, login, post
# The browser and server fixtures of the browser tests (pytest finds imported fixtures by name).
from .test_browser import browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_fee_policies import make_policy
from .test_register import _row, cases, check_refused


@pytest.fixture
def alpha(world):
    return world["alpha"]


def _option_values(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"', select_html)


@pytest.mark.parametrize("key, mismatch, field, message", [
    ("compounds", {"community_id": "community1", "grid_id": "grid2"}, "grid_id", "所选网格不属于所选社区"),
    ("households", {"compound_id": "compound2", "building_id": "building1"}, "building_id",
     "所选楼栋不属于所选小区"),
    ("party_orgs", {"community_id": "community1", "compound_id": "compound2"}, "compound_id",
     "所选小区不属于所选社区"),
    ("cross_appointments", {"community_id": "community1", "compound_id": "compound2"}, "compound_id",
     "所选小区不属于所选社区"),
])
def test_register_refuses_parents_that_disagree(app, client, alpha, key, mismatch, field, message):
    login(client, "alpha-district")
    data = {k: getattr(alpha, v) for k, v in mismatch.items()}
    check_refused(app, client, alpha, key, data, field, message)
    # The same pair from one branch is accepted.
    agreeing = {k: getattr(alpha, v.replace("2", "1")) for k, v in mismatch.items()}
    assert post(client, f"/d/alpha/{key}/new", {**cases(alpha)[key].data, **agreeing}).status_code == 302


def test_editing_a_compound_into_another_communitys_grid_is_refused(app, client, alpha):
    login(client, "alpha-district")
    sent = form_data(client.get(f"/d/alpha/compounds/{alpha.compound1}/edit").get_data(as_text=True))
    resp = client.post(f"/d/alpha/compounds/{alpha.compound1}/edit", data={**sent, "grid_id": alpha.grid2})
    assert resp.status_code == 422 and "所选网格不属于所选社区" in resp.get_data(as_text=True)
    assert _row(app, alpha.tenant_id, m.Compound, alpha.compound1)["grid_id"] == alpha.grid1


def test_compound_form_lists_only_the_communitys_grids_and_reloads_them(client, alpha):
    login(client, "alpha-district")
    edit = client.get(f"/d/alpha/compounds/{alpha.compound1}/edit").get_data(as_text=True)
    assert _option_values(edit, "grid_id") == ["", str(alpha.grid1)]
    new = client.get(f"/d/alpha/compounds/new?community_id={alpha.community2}").get_data(as_text=True)
    assert _option_values(new, "grid_id") == ["", str(alpha.grid2)]
    # The community select reloads the grids over HTMX; no script of our own on the page.
    community = re.search(r'<select[^>]*name="community_id"[^>]*>', new).group(0)
    assert 'hx-get="/d/alpha/options/grid/under/community?' in community
    assert 'hx-target="#grid_id"' in community
    assert not re.search(r"<script(?![^>]*\bsrc=)", new) and not re.search(r"\son(change|click|load)=", new)


def test_household_form_narrows_buildings_to_the_compound(client, alpha):
    login(client, "alpha-district")
    html = client.get(f"/d/alpha/households/new?compound_id={alpha.compound2}").get_data(as_text=True)
    assert _option_values(html, "building_id") == ["", str(alpha.building2)]
    # From a building's page the building's compound is shown chosen.
    html = client.get(f"/d/alpha/households/new?building_id={alpha.building1}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{alpha.compound1}"', html)


def test_options_endpoint_narrows_and_keeps_the_pick(client, alpha):
    login(client, "alpha-district")
    url = "/d/alpha/options/grid/under/community?source=community_id&keep=grid_id&blank=—"
    html = client.get(f"{url}&community_id={alpha.community2}&grid_id={alpha.grid2}").get_data(as_text=True)
    assert re.findall(r'value="(\d*)"', html) == ["", str(alpha.grid2)]
    assert f'value="{alpha.grid2}" selected' in html
    # Two levels down: a street narrows compounds through its communities.
    html = client.get(f"/d/alpha/options/compound/under/street?source=s&s={alpha.street1}").get_data(as_text=True)
    assert re.findall(r'value="(\d+)"', html) == [str(alpha.compound1)]
    # No parent picked: every visible grid.
    html = client.get(f"{url}&community_id=").get_data(as_text=True)
    assert sorted(re.findall(r'value="(\d+)"', html)) == sorted([str(alpha.grid1), str(alpha.grid2)])
    # Not a parent of that kind: 404.
    assert client.get("/d/alpha/options/grid/under/building?source=b&b=1").status_code == 404


def test_options_endpoint_is_404_across_districts_and_scopes(client, world):
    alpha, beta = world["alpha"], world["beta"]
    url = "/d/alpha/options/grid/under/community?source=community_id&community_id="
    login(client, "alpha-district")
    assert client.get(f"{url}{beta.community1}").status_code == 404
    login(client, "alpha-street")  # street 1 only
    assert client.get(f"{url}{alpha.community2}").status_code == 404
    html = client.get(f"{url}{alpha.community1}").get_data(as_text=True)
    assert re.findall(r'value="(\d+)"', html) == [str(alpha.grid1)]


def test_fee_assignment_refuses_a_community_of_another_street(app, client, world):
    ns = world["alpha"]
    pid = make_policy(app, world)
    login(client, "alpha-district")
    form = {"family_id": pid, "target": "bulk", "street_id": ns.street1, "community_id": ns.community2,
            "management_mode": "", "compound_id": "", "valid_from": "2024-01-01", "valid_to": ""}
    resp = post(client, "/d/alpha/fees/assignments/new", form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'name="community_id".*?<div class="invalid-feedback[^"]*">\s*所选社区不属于所选街道', html, re.S)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.scalar(select(func.count()).select_from(fm.FeeAssignment)) == 0
    # The street's own community is assigned.
    assert post(client, "/d/alpha/fees/assignments/new", dict(form, community_id=ns.community1)).status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        rows = db.session.execute(select(fm.FeeAssignment.compound_id, fm.FeeAssignment.valid_from)).all()
    assert [tuple(r) for r in rows] == [(ns.compound1, date(2024, 1, 1))]


def test_cross_district_grid_is_refused(app, client, world):
    alpha, beta = world["alpha"], world["beta"]
    login(client, "alpha-district")
    check_refused(app, client, alpha, "compounds", {"grid_id": beta.grid1}, "grid_id", "不是有效的选择")


def test_choosing_a_parent_narrows_the_child_in_the_browser(app, world, server, browser):  # noqa: F811
    from playwright.sync_api import expect

    a = world["alpha"]
    problems: list[str] = []
    page = _login(browser, server, "alpha-district", problems)
    page.goto(f"{server}/d/alpha/compounds/new")
    grid = page.locator("select[name=grid_id] option")
    expect(grid).to_have_count(3)                       # no community yet: both grids
    with page.expect_response(lambda r: "/options/grid/under/community" in r.url):
        page.select_option("select[name=community_id]", str(a.community2))
    expect(grid).to_have_count(2)
    assert grid.evaluate_all("os => os.map(o => o.value)") == ["", str(a.grid2)]
    page.goto(f"{server}/d/alpha/households/new")
    with page.expect_response(lambda r: "/options/building/under/compound" in r.url):
        page.select_option("select[name=compound_id]", str(a.compound1))
    building = page.locator("select[name=building_id] option")
    expect(building).to_have_count(2)
    assert building.evaluate_all("os => os.map(o => o.value)") == ["", str(a.building1)]
    assert not problems, problems


def test_fund_application_refuses_a_vote_of_another_compound(app, client, alpha):
    from wuye_saas.audit import acting_as
    from wuye_saas.votes import logic as votes
    from wuye_saas.votes.models import FundApplication

    with app.app_context(), tenant_scope(alpha.tenant_id), acting_as(None, "测试"):
        # The firm serves both compounds, so both compounds' votes are offered to it.
        db.session.add(m.Contract(firm_id=alpha.firm1, compound_id=alpha.compound2, start_date=date(2024, 1, 1),
                                  end_date=date(2030, 12, 31), service_grade="二级", fee_mode="包干制",
                                  fee_rate=1))
        vote, _ = votes.create_vote(alpha.compound2, "use_fund", "2号小区电梯更新", "")
        db.session.commit()
        vote_id = vote.id
    login(client, "alpha-firm")
    data = {"compound_id": alpha.compound1, "item": "屋面防水", "budget": "3000.00", "contractor": "建安公司",
            "quotes": "", "vote_id": vote_id}
    resp = post(client, "/d/alpha/funds/new", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'name="vote_id".*?<div class="invalid-feedback[^"]*">\s*所选表决不属于所选小区', html, re.S)
    with app.app_context(), tenant_scope(alpha.tenant_id):
        assert db.session.scalar(select(func.count()).select_from(FundApplication)) == 0
    # Re-shown for compound 1, the vote list holds only "new draft" (compound 1 has no vote).
    assert _option_values(html, "vote_id") == ["0"]
    # Compound 2 over HTMX: its vote.
    opts = client.get(f"/d/alpha/options/vote/under/compound?source=compound_id&compound_id={alpha.compound2}"
                      f"&blank_value=0").get_data(as_text=True)
    assert re.findall(r'value="(\d+)"', opts) == ["0", str(vote_id)]
    assert post(client, "/d/alpha/funds/new", dict(data, compound_id=alpha.compound2)).status_code == 302
