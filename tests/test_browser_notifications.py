"""The bell in a real browser (issue 17): the community dispatches a 12345 demand to the firm; the
firm's bell shows it at once; the inbox lists it, opening it leads to the demand and the bell
goes quiet. (The api helper adds the API-intake step in front of this.)"""
from __future__ import annotations

import re

from wuye_saas.audit import acting_as
from wuye_saas.demands import logic
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login


def test_a_demand_dispatched_to_the_firm_rings_its_bell(app, world, server, browser):  # noqa: F811
    from playwright.sync_api import expect

    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        logic.ensure_default_categories()
        db.session.commit()
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    firm = _login(browser, server, "alpha-firm", problems)
    expect(firm.get_by_test_id("bell")).to_be_visible()
    expect(firm.get_by_test_id("bell-count")).to_have_count(0)

    community = _login(browser, server, "alpha-community", problems)
    community.goto(f"{server}/d/alpha/demands/new")
    community.get_by_label("小区", exact=True).select_option(label="甲区1号小区")
    community.get_by_label("受理渠道", exact=True).select_option(value="hotline_12345")
    community.get_by_label("诉求分类", exact=True).select_option(label="维修")
    community.get_by_label("标题", exact=True).fill("5 号楼屋顶漏水")
    community.get_by_label("联系人", exact=True).fill("赵先生")
    community.get_by_label("联系电话", exact=True).fill("13700001111")
    community.get_by_role("button", name=re.compile("登记")).first.click()
    expect(community).to_have_url(re.compile(r"/d/alpha/demands/\d+$"))
    dispatch = community.locator("form[action$='/dispatch']")
    dispatch.get_by_role("radio", name="物业服务企业").check()
    dispatch.get_by_role("button", name=re.compile("派单$")).click()
    expect(community.get_by_test_id("demand-status")).to_have_text("已派单")
    title = community.locator("h1").inner_text()

    firm.reload()
    expect(firm.get_by_test_id("bell-count")).to_have_text("1")
    firm.get_by_test_id("bell").click()
    expect(firm).to_have_url(f"{server}/d/alpha/inbox/")
    item = firm.get_by_test_id("inbox").locator("[data-kind='demand.dispatched']")
    expect(item).to_contain_text("5 号楼屋顶漏水")
    expect(item).to_contain_text("已派给甲区第1物业公司，请及时接单办理。")
    firm.screenshot(path=str(SCREENS / "inbox-firm.png"), full_page=True)
    item.get_by_role("button", name=re.compile("5 号楼屋顶漏水")).click()
    expect(firm).to_have_url(re.compile(r"/d/alpha/demands/\d+$"))
    expect(firm.get_by_test_id("demand-status")).to_have_text("已派单")
    expect(firm.get_by_test_id("bell-count")).to_have_count(0)
    assert title == "5 号楼屋顶漏水" and not problems, problems
