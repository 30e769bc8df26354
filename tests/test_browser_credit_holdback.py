"""Evaluation with teeth in a real browser: the district publishes the quarter's evaluation → the
black-listed firm's own credit file shows the 黑榜 record, the lower grade and the list's
consequence flags → the 质量保证金 release appears for the district (both compounds) and for the
firm (its own compound only, all of it kept at 1★)."""
from __future__ import annotations

import re

from sqlalchemy import select

from wuye_saas.extensions import db

from .test_appeals import confirmed_cycle
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_consequences import KINDS
from .test_credit import _in, seeded
from .test_holdback import JAN, _bill, _policy


def test_publish_changes_the_credit_file_and_releases_holdback(app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    from wuye_saas.auth.models import Membership, User
    from wuye_saas.evaluation.models import Standard

    ns = world["alpha"]
    seeded(app, ns)

    def bills():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 18010, 1801)   # 4★: 1620 released, 181 kept
        _bill(p, ns.household2, ns.compound2, ns.firm2, JAN, 4440, 444)     # 1★, 黑榜: all kept
    _in(app, ns, bills)
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)

    def setup():
        db.session.get(Standard, std.id).consequences = KINDS
        # alpha-firm manages firm 2 here: the one the results put on the 黑榜.
        uid = db.session.execute(select(User.id).where(User.username == "alpha-firm")).scalar_one()
        db.session.execute(select(Membership).where(Membership.user_id == uid)).scalar_one().firm_id = ns.firm2
    _in(app, ns, setup)
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    firm = _login(browser, server, "alpha-firm", problems)
    firm.get_by_role("link", name="我的信用档案").first.click()
    expect(firm.get_by_test_id("score")).to_have_text("80.00")
    expect(firm.get_by_test_id("grade").first).to_have_text("AA")
    expect(firm.locator("body")).to_contain_text("没有上榜后果")

    # --- the district finalizes and publishes ----------------------------------------------------
    district = _login(browser, server, "alpha-district", problems)
    district.goto(f"{server}/d/alpha/evaluations/{ev.id}/results")
    district.get_by_role("link", name=re.compile("定稿并计算")).click()
    district.get_by_role("button", name=re.compile("确认定稿考核")).click()
    expect(district.locator(".job-status")).to_have_attribute("data-status", "done", timeout=30000)
    district.reload()
    district.get_by_role("link", name=re.compile("发布结果")).click()
    district.get_by_role("button", name=re.compile("确认发布考核结果")).click()
    expect(district.get_by_test_id("evaluation-status")).to_have_text("已发布")

    # --- the firm's credit file and grade changed ------------------------------------------------
    firm.reload()
    expect(firm.get_by_test_id("score")).to_have_text("74.00")          # 80 − 6 (黑榜)
    expect(firm.get_by_test_id("grade").first).to_have_text("A")
    expect(firm.get_by_test_id("credit-records")).to_contain_text("考核列入黑榜")
    flags = firm.get_by_test_id("consequence-flags")
    expect(flags).to_contain_text("限制参加招投标")
    expect(flags).to_contain_text("限制评优")
    expect(flags).to_contain_text("启动退出程序")
    expect(flags).to_contain_text("甲区2号小区")
    firm.screenshot(path=str(SCREENS / "credit-consequences-firm.png"), full_page=True)

    # --- the district: the grade register and the holdback released ------------------------------
    district.goto(f"{server}/d/alpha/credit/")
    row = district.locator(f"[data-firm='{ns.firm2}']")
    expect(row).to_contain_text("74.00")
    expect(row).to_contain_text("限制参加招投标")
    district.get_by_role("link", name="质量保证金").first.click()
    table = district.locator("#results")
    expect(table).to_contain_text("甲区1号小区")
    expect(table).to_contain_text("甲区2号小区")
    expect(table.locator("tfoot")).to_contain_text("¥22.45")     # withheld 1801 + 444
    expect(table.locator("tfoot")).to_contain_text("¥16.20")     # released
    expect(table.locator("tfoot")).to_contain_text("¥6.25")      # kept 181 + 444
    district.screenshot(path=str(SCREENS / "credit-holdback-district.png"), full_page=True)

    # --- the firm: its own compound's holdback, all kept -----------------------------------------
    firm.get_by_role("link", name="质量保证金").first.click()
    table = firm.locator("#results")
    expect(table).to_contain_text("甲区2号小区")
    expect(table).not_to_contain_text("甲区1号小区")
    expect(table.locator("tfoot")).to_contain_text("¥4.44")
    expect(table.locator("tfoot")).not_to_contain_text("¥16.20")
    firm.screenshot(path=str(SCREENS / "credit-holdback-firm.png"), full_page=True)
    assert problems == []
