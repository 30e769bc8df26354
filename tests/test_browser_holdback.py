"""质量保证金 in a real browser: the district publishes the quarter's evaluation → the release
appears on the district's 质量保证金 page once its job has finished (the job's card, both compounds,
totals) and on the firm's (its own only, no job card)."""
from __future__ import annotations

import re

from .test_appeals import confirmed_cycle
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_credit import _in
from .test_holdback import JAN, _bill, _policy


def test_publish_releases_holdback_for_the_district_and_the_firm(app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    ns = world["alpha"]

    def bills():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 18010, 1801)   # 4★: 1620 released, 181 kept
        _bill(p, ns.household2, ns.compound2, ns.firm2, JAN, 4440, 444)     # 1★: all kept
    _in(app, ns, bills)
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    district = _login(browser, server, "alpha-district", problems)
    district.goto(f"{server}/d/alpha/evaluations/{ev.id}/results")
    district.get_by_role("link", name=re.compile("定稿并计算")).click()
    district.get_by_role("button", name=re.compile("确认定稿考核")).click()
    expect(district.locator(".job-status")).to_have_attribute("data-status", "done", timeout=30000)
    district.reload()
    district.get_by_role("link", name=re.compile("发布结果")).click()
    district.get_by_role("button", name=re.compile("确认发布考核结果")).click()
    expect(district.get_by_test_id("evaluation-status")).to_have_text("已发布")

    district.get_by_role("link", name="质量保证金").first.click()
    # The release runs as a job: its card polls until it has finished, then the page has the rows.
    expect(district.locator(".job-status")).to_have_attribute("data-status", "done", timeout=30000)
    district.reload()
    expect(district.locator(".job-status")).to_contain_text("已记 2 笔")
    table = district.locator("#results")
    expect(table).to_contain_text("甲区1号小区")
    expect(table).to_contain_text("甲区2号小区")
    expect(table.locator("tfoot")).to_contain_text("¥22.45")     # withheld 1801 + 444
    expect(table.locator("tfoot")).to_contain_text("¥16.20")     # released
    expect(table.locator("tfoot")).to_contain_text("¥6.25")      # kept 181 + 444
    district.screenshot(path=str(SCREENS / "holdback-district.png"), full_page=True)

    firm = _login(browser, server, "alpha-firm", problems)
    firm.get_by_role("link", name="质量保证金").first.click()
    table = firm.locator("#results")
    expect(table).to_contain_text("甲区1号小区")
    expect(table).not_to_contain_text("甲区2号小区")
    expect(firm.locator(".job-status")).to_have_count(0)
    expect(table.locator("tfoot")).to_contain_text("¥16.20")
    table.get_by_role("link", name=re.compile("明细")).first.click()
    expect(firm.locator("body")).to_contain_text("质量保证金留存 2026-01")
    firm.screenshot(path=str(SCREENS / "holdback-firm.png"), full_page=True)
    assert problems == []
