"""The credit file in a real browser: the district publishes an evaluation in which the firm was
vetoed → the firm's own file and landing page show the veto's record and 黑名单; the firm objects,
the district rejects the objection with a reason, the firm reads the decision; the public credit
page shows the grade."""
from __future__ import annotations

import re

from .test_appeals import confirmed_cycle
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_credit import _in, seeded
from .test_evaluation_results import enter

OBJECTION = "否决项所指事故系业主私自改装燃气管道所致，与我司服务无关。"
DECISION = "经查，事故发生时企业未按规定巡查，维持原记录。"


def test_publish_veto_then_file_grade_objection_and_public_page(app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    _in(app, ns, lambda: enter(std, a1, "v1", vetoed=True))
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    firm = _login(browser, server, "alpha-firm", problems)
    firm.get_by_role("link", name="我的信用档案").first.click()
    expect(firm.get_by_test_id("score")).to_have_text("80.00")
    expect(firm.get_by_test_id("grade").first).to_have_text("AA")

    # --- the district finalizes and publishes ------------------------------------------------------
    district = _login(browser, server, "alpha-district", problems)
    district.goto(f"{server}/d/alpha/evaluations/{ev.id}/results")
    district.get_by_role("link", name=re.compile("定稿并计算")).click()
    district.get_by_role("button", name=re.compile("确认定稿考核")).click()
    expect(district.locator(".job-status")).to_have_attribute("data-status", "done", timeout=30000)
    district.reload()
    district.get_by_role("link", name=re.compile("发布结果")).click()
    district.get_by_role("button", name=re.compile("确认发布考核结果")).click()
    expect(district.get_by_test_id("evaluation-status")).to_have_text("已发布")

    # --- the firm's file and landing page changed ----------------------------------------------------
    firm.reload()
    expect(firm.get_by_test_id("score")).to_have_text("70.00")          # 80 − 10
    expect(firm.get_by_test_id("grade").first).to_have_text("黑名单")
    expect(firm.get_by_test_id("credit-records")).to_contain_text("考核一票否决")
    firm.goto(f"{server}/d/alpha/")
    expect(firm.get_by_test_id("credit-card")).to_contain_text("黑名单")
    firm.get_by_test_id("credit-card").get_by_role("link", name="查看信用档案").click()
    firm.get_by_test_id("credit-records").get_by_role("link", name="详情").first.click()
    firm.get_by_label("异议理由").fill(OBJECTION)
    firm.get_by_role("button", name=re.compile("提出异议")).click()
    expect(firm.get_by_test_id("objection")).to_contain_text("待裁定")
    firm.screenshot(path=str(SCREENS / "credit-firm-record.png"), full_page=True)

    # --- the district rejects the objection with a reason ---------------------------------------------
    district.goto(f"{server}/d/alpha/")
    district.get_by_role("link", name="信用异议").first.click()
    district.get_by_test_id("objections").get_by_role("link", name="裁定", exact=True).click()
    district.get_by_label("异议驳回（记录保留）").check()
    district.get_by_label("裁定理由").fill(DECISION)
    district.get_by_role("button", name=re.compile("提交裁定")).click()
    expect(district.get_by_test_id("objection-status")).to_have_text("异议驳回")
    district.goto(f"{server}/d/alpha/credit/warning")
    expect(district.get_by_test_id("warning-list")).to_contain_text("甲区第1物业公司")

    firm.reload()
    expect(firm.get_by_test_id("objection")).to_contain_text(DECISION)
    expect(firm.get_by_test_id("state")).to_have_text("有效")

    # --- anyone, no login: the public credit page beside the 红黑榜 -----------------------------------
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(f"{server}/p/alpha/redblack")
    public.get_by_role("link", name=re.compile("物业服务企业信用等级")).click()
    card = public.locator(f"[data-firm='{ns.firm1}']")
    expect(card).to_contain_text("黑名单")
    expect(card).to_contain_text("考核一票否决")
    expect(public.locator("body")).not_to_contain_text(OBJECTION)
    public.screenshot(path=str(SCREENS / "credit-public.png"), full_page=True)
    assert not problems, problems
