"""重大事项报备 in a real browser (issue 16): the committee's publicized vote is refused at 开始表决;
the committee files it with the street from the vote's page, the community notes the party
report, the street acknowledges (签收), and the vote opens."""
from __future__ import annotations

import re

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_matters import publicized_vote


def test_a_filed_matter_acknowledged_then_its_vote_opens(app, client, world, server, browser, monkeypatch):
    from playwright.sync_api import expect

    vid, _ = publicized_vote(client, monkeypatch)     # today moved to the opening day (in-process server)
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []
    page = _login(browser, server, "alpha-committee", problems)
    page.goto(f"{server}/d/alpha/votes/{vid}")
    page.get_by_role("button", name=re.compile("开始表决$")).click()
    expect(page.get_by_test_id("vote-error").first).to_contain_text("尚未经街道签收重大事项报备")
    page.get_by_label("书面报备内容（事项、理由、拟表决方案）").fill("更换二次供水水泵 2 台，附三家报价。")
    page.get_by_role("button", name=re.compile("向街道书面报备$")).click()
    expect(page.get_by_test_id("filing-status")).to_have_text("待街道签收")
    url = page.url

    community = _login(browser, server, "alpha-community", problems)
    community.goto(url)
    community.get_by_role("button", name=re.compile("已报告社区党组织$")).click()
    expect(community.get_by_role("alert").first).to_contain_text("已报告社区党组织")

    street = _login(browser, server, "alpha-street", problems)
    expect(street.locator("main")).to_contain_text("待签收的重大事项报备")
    street.goto(url)
    street.get_by_label("签收结果").select_option("acknowledge")
    street.get_by_role("button", name=re.compile("提交$")).click()
    expect(street.get_by_test_id("filing-status")).to_have_text("街道已签收")
    street.screenshot(path=str(SCREENS / "matter-acknowledged.png"), full_page=True)

    page.goto(f"{server}/d/alpha/votes/{vid}")
    page.get_by_role("button", name=re.compile("开始表决$")).click()
    expect(page.get_by_test_id("vote-status")).to_have_text("表决中")
    # The one refusal the test provokes (开始表决 before 签收) answers 422; nothing else fails.
    refused = f"422 {server}/d/alpha/votes/{vid}/open"
    assert problems.count(refused) == 1 and not [p for p in problems if p != refused], problems
