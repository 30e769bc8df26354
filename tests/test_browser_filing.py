"""合同备案 in a real browser: the firm files a new contract for a compound no firm serves — first
with a price outside the guided range (refused with the range), then within it, with the signed
scan; the community returns it with a reason, the firm corrects and refiles, and the community,
street and district approve in turn; the number shows on the filing and the firm's register."""
from __future__ import annotations

import re
from datetime import timedelta

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_contract_filing import PDF, setup_district
from wuye_saas.timeutil import today

RETURN_REASON = "合同第五条服务标准与所报服务等级不一致，请核对后重新提交。"


def _decide(page, server, fid, decision, reason=""):
    from playwright.sync_api import expect
    page.goto(f"{server}/d/alpha/")
    page.get_by_role("link", name=re.compile("待审核合同备案")).first.click()
    page.get_by_role("link", name="新建小区").click()
    expect(page).to_have_url(re.compile(rf"/filings/{fid}$"))
    page.get_by_label(decision).check()
    if reason:
        page.get_by_label("意见说明").fill(reason)
    page.get_by_role("button", name="提交审核意见").click()


def test_firm_files_community_returns_firm_refiles_three_reviews_file_it(app, world, server, browser, tmp_path):
    from playwright.sync_api import expect

    ns = world["alpha"]
    setup_district(app, ns)
    SCREENS.mkdir(exist_ok=True)
    scan = tmp_path / "签章合同.pdf"
    scan.write_bytes(PDF)
    start = today() + timedelta(days=10)
    problems: list[str] = []

    firm = _login(browser, server, "alpha-firm", problems)
    firm.get_by_role("link", name="我的合同备案").click()
    firm.get_by_role("link", name=re.compile("备案新合同")).click()
    firm.get_by_label("小区", exact=True).select_option(label="新建小区")
    firm.get_by_label("合同类型").select_option(label="前期物业服务合同")
    firm.get_by_label("服务等级").select_option("二级")
    firm.get_by_label("收费方式").select_option("包干制")
    firm.get_by_label("物业费标准（元/㎡·月）").fill("1.35")
    firm.get_by_label("合同起始日期").fill(start.isoformat())
    firm.get_by_label("合同终止日期").fill((start + timedelta(days=3 * 365)).isoformat())
    firm.get_by_label("合同附件").set_input_files(str(scan))
    firm.get_by_role("button", name=re.compile("提交备案")).click()
    expect(firm.locator("#fee_rate + .invalid-feedback")).to_contain_text("超出政府指导价范围 0.80–1.20 元/㎡·月")
    firm.screenshot(path=str(SCREENS / "filing-price-refused.png"), full_page=True)
    firm.get_by_label("物业费标准（元/㎡·月）").fill("1.10")
    firm.get_by_label("合同附件").set_input_files(str(scan))
    firm.get_by_role("button", name=re.compile("提交备案")).click()
    expect(firm.get_by_test_id("filing-status")).to_have_text("社区审核中")
    fid = int(firm.url.rsplit("/", 1)[1])

    community = _login(browser, server, "alpha-community", problems)
    _decide(community, server, fid, "退回企业修改", RETURN_REASON)
    expect(community.get_by_test_id("filing-status")).to_have_text("已退回")

    firm.reload()
    firm.get_by_role("link", name=re.compile("修改后重新提交")).click()
    expect(firm.locator(".alert-warning")).to_contain_text(RETURN_REASON)
    firm.get_by_label("服务等级").select_option("一级")
    firm.get_by_label("物业费标准（元/㎡·月）").fill("1.50")
    firm.get_by_role("button", name=re.compile("提交备案")).click()
    expect(firm.get_by_test_id("filing-status")).to_have_text("社区审核中")

    _decide(community, server, fid, "通过")
    expect(community.get_by_test_id("filing-status")).to_have_text("街道审核中")
    street = _login(browser, server, "alpha-street", problems)
    _decide(street, server, fid, "通过")
    expect(street.get_by_test_id("filing-status")).to_have_text("区级审核中")
    district = _login(browser, server, "alpha-district", problems)
    _decide(district, server, fid, "通过")
    expect(district.get_by_test_id("filing-status")).to_have_text("已备案")
    number = f"甲物备〔{today().year}〕0001号"
    expect(district.get_by_test_id("filing-record")).to_contain_text(number)
    district.screenshot(path=str(SCREENS / "filing-filed.png"), full_page=True)

    firm.reload()
    expect(firm.get_by_test_id("filing-record")).to_contain_text(number)
    firm.goto(f"{server}/d/alpha/firms/{ns.firm1}")
    expect(firm.locator("body")).to_contain_text(number)
    district.goto(f"{server}/d/alpha/filings/?tab=unfiled")
    district.screenshot(path=str(SCREENS / "filing-unfiled.png"), full_page=True)
    # The refused price is the one answer of its kind (422 with the message); nothing else failed.
    assert problems == [f"422 {server}/d/alpha/filings/new"], problems
