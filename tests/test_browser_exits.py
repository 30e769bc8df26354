"""Exit and handover in a real browser: the owners' dismissal vote (counted in the setup) → the
committee starts the exit and names the new firm → the new firm signs every handover line → the
new firm serves the compound, shown on its landing page (the dashboard), and the old one's
contract ends that day."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from wuye_saas.exits.models import FirmExit
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.timeutil import today

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_exits import _firm_user, _in, _vote


def _register_count(page, label: str) -> str | None:
    cards = page.get_by_test_id("register-counts")
    if cards.count() == 0:
        return None
    text = cards.first.inner_text()
    found = re.search(r"(\d+)\s*\n?\s*" + label, text)
    return found.group(1) if found else None


def test_dismissal_vote_exit_handover_new_firm_serving(app, world, server, browser):
    from playwright.sync_api import expect

    a = world["alpha"]
    d = today()
    _vote(app, a, a.compound1, d - timedelta(days=2))
    _firm_user(app, a, a.firm2, "alpha-newfirm")
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- the committee starts the exit from the counted vote ------------------------------------------
    committee = _login(browser, server, "alpha-committee", problems)
    committee.get_by_role("link", name="退出与交接").first.click()
    committee.get_by_role("link", name=re.compile("启动退出程序")).click()
    committee.get_by_label("退出的物业服务合同").select_option(str(a.contract1))
    committee.get_by_label("退出原因").select_option("dismissal")
    committee.get_by_label("解聘表决（已计票通过）").select_option(index=1)
    committee.get_by_label("书面通知日期").fill(d.isoformat())
    committee.get_by_role("button", name=re.compile("启动退出程序")).click()
    expect(committee.get_by_test_id("exit-status")).to_have_text("交接中")
    expect(committee.get_by_test_id("timeline")).to_contain_text((d + timedelta(days=60)).isoformat())
    expect(committee.get_by_test_id("timeline")).to_contain_text("第九百四十六条")

    # --- and names the new firm with its draft contract ------------------------------------------------
    committee.get_by_label("接管方").select_option("firm")
    committee.get_by_label("接管企业").select_option(str(a.firm2))
    committee.get_by_label("合同截止日期").fill("2031-12-31")
    committee.get_by_label("服务等级").select_option("一级")
    committee.get_by_label("收费方式").select_option("包干制")
    committee.get_by_label("物业费标准（元/㎡·月）").fill("1.30")
    committee.get_by_role("button", name="保存接管方").click()
    expect(committee.get_by_test_id("incoming")).to_contain_text("甲区第2物业公司（合同待生效")
    committee.screenshot(path=str(SCREENS / "exit-started.png"), full_page=True)

    # --- the new firm: not serving yet; its to-do card opens the handover ------------------------------
    firm = _login(browser, server, "alpha-newfirm", problems)
    assert _register_count(firm, "小区") == "1"          # its own compound 2, not compound 1 yet
    firm.locator("[data-todo='exits_in']").click()
    firm.get_by_role("link", name="查看").click()
    for kind in ("documents", "common_parts", "service_rooms", "prepaid_fees", "public_revenue",
                 "maintenance_fund", "open_demands"):
        row = firm.locator(f"tr[data-item='{kind}']")
        row.locator("summary").click()
        if kind == "prepaid_fees":
            row.locator("input[name=amount]").fill("0")
        row.locator("textarea[name=note]").fill("已清点无误")
        row.get_by_test_id(f"sign-{kind}").click()
        expect(firm.locator(f"tr[data-item='{kind}']")).to_contain_text("已签收")
    expect(firm.get_by_test_id("exit-status")).to_have_text("已完成交接")
    expect(firm.get_by_test_id("outgoing-end")).to_contain_text(d.isoformat())
    expect(firm.get_by_test_id("outgoing-term")).to_contain_text("2030-12-31")
    firm.screenshot(path=str(SCREENS / "exit-handover-done.png"), full_page=True)

    # --- the dashboard: the new firm serves the compound ------------------------------------------------
    firm.goto(f"{server}/d/alpha/")
    assert _register_count(firm, "小区") == "2"
    expect(firm.locator("[data-todo='exits_in']")).to_have_count(0)
    firm.get_by_test_id("register-counts").get_by_role("link", name=re.compile("小区")).click()
    expect(firm.locator("main")).to_contain_text("甲区1号小区")
    firm.screenshot(path=str(SCREENS / "exit-new-firm-dashboard.png"), full_page=True)

    def contracts():
        x = db.session.execute(select(FirmExit)).scalar_one()
        new = db.session.get(m.Contract, x.incoming_contract_id)
        old = db.session.get(m.Contract, a.contract1)
        return (x.status, new.status, new.start_date, old.end_date, old.agreed_end_date)
    assert _in(app, a, contracts) == ("done", "active", d, d, d.replace(year=2030, month=12, day=31))
    assert problems == []
