"""The evaluation main path in a real browser (issue 3): the firm self-reports and submits, the
community reviews (one score lowered, with its reason) and passes it, the street confirms, the
district finalizes (the results job shows its progress), checks the ranking and publishes — and
the district's public 红黑榜 (no login) shows the firm on the red list."""
from __future__ import annotations

import re
from datetime import timedelta

from wuye_saas.evaluation.models import Assessment, Evaluation
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

# The chromium launch and the live server of the first browser test; the login helper of the
# fees browser test (a fresh browser context per user).
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_appeals import MANUAL
from .test_evaluation_results import make_evaluation, make_standard

REASON = "现场抽查：项目党组织活动记录不全"


def test_self_report_review_confirm_finalize_publish_red_list(app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    a = world["alpha"]
    d = today()
    with app.app_context(), tenant_scope(a.tenant_id):
        std = make_standard(MANUAL, name="浏览器测试标准")
        ev = make_evaluation(std, [(a.firm1, a.compound1)], status="open", name="浏览器测试季测评",
                             start=d - timedelta(days=90), end=d - timedelta(days=1))
        e = db.session.get(Evaluation, ev.id)
        e.self_report_due, e.review_due = d + timedelta(days=5), d + timedelta(days=10)
        db.session.get(Assessment, ev.a[(a.firm1, a.compound1)]).status = "draft"
        db.session.commit()
    aid = ev.a[(a.firm1, a.compound1)]
    sheet = f"{server}/d/alpha/assessments/{aid}"
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- the firm self-reports every item and submits ------------------------------------------
    firm = _login(browser, server, "alpha-firm", problems)
    firm.goto(sheet)
    firm.get_by_label("项目a1得分").select_option("15.00")
    firm.get_by_label("是（10 分）").check()
    firm.get_by_label("项目b1扣分次数").fill("0")
    firm.get_by_label("项目b2得分").select_option("20.00")
    firm.get_by_label("项目e1得分").select_option("25.00")
    firm.get_by_label("项目x1得分").select_option("1.00")
    firm.get_by_role("button", name=re.compile("提交自评")).click()
    firm.locator("#finish-modal").get_by_role("button", name="确认").click()
    expect(firm.get_by_test_id("assessment-status")).to_have_text("已提交待审核")

    # --- the community lowers one score with its reason and passes the review -------------------
    community = _login(browser, server, "alpha-community", problems)
    community.goto(sheet)
    community.get_by_label("项目a1得分").select_option("10.00")
    community.get_by_label("项目a1评分理由").fill(REASON)
    community.get_by_label("未发生").check()
    community.get_by_role("button", name=re.compile("审核通过")).click()
    community.locator("#finish-modal").get_by_role("button", name="确认").click()
    expect(community.get_by_test_id("assessment-status")).to_have_text("社区已审核")

    # --- the street confirms ----------------------------------------------------------------------
    street = _login(browser, server, "alpha-street", problems)
    street.goto(sheet)
    street.get_by_role("button", name=re.compile("街道确认")).click()
    street.locator("#finish-modal").get_by_role("button", name="确认").click()
    expect(street.get_by_test_id("assessment-status")).to_have_text("街道已确认")

    # --- the district finalizes: the results job runs, then the ranking -------------------------
    district = _login(browser, server, "alpha-district", problems)
    district.goto(f"{server}/d/alpha/evaluations/{ev.id}/results")
    district.get_by_role("link", name=re.compile("定稿并计算")).click()
    district.get_by_role("button", name=re.compile("确认定稿考核")).click()
    expect(district).to_have_url(re.compile(rf"/d/alpha/evaluations/{ev.id}/results$"))
    # The progress card polls until the job is done (inline jobs are done already); then reload.
    expect(district.locator(".job-status")).to_have_attribute("data-status", "done", timeout=30000)
    district.reload()
    ranking = district.get_by_test_id("ranking")
    # 10 + 10 + 30 + 20 + 25 = 95 base, + 1 bonus = 96.00: five stars, red list.
    row = ranking.locator("tbody tr").first
    expect(row).to_contain_text("甲区第1物业公司")
    expect(row).to_contain_text("96.00")
    expect(row).to_contain_text("红榜")
    district.screenshot(path=str(SCREENS / "evaluation-ranking.png"), full_page=True)
    district.get_by_role("link", name=re.compile("发布结果")).click()
    district.get_by_role("button", name=re.compile("确认发布考核结果")).click()
    expect(district.get_by_test_id("evaluation-status")).to_have_text("已发布")

    # --- the firm sees its result with the community's reason -----------------------------------
    firm.goto(f"{server}/d/alpha/results/assessments/{aid}")
    expect(firm.get_by_test_id("total")).to_have_text("96.00")
    expect(firm.get_by_test_id("items")).to_contain_text(REASON)
    firm.screenshot(path=str(SCREENS / "evaluation-firm-result.png"), full_page=True)

    # --- anyone, no login: the public 红黑榜 ------------------------------------------------------
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(f"{server}/p/alpha/")
    public.get_by_role("link", name=re.compile("物业服务企业红黑榜")).click()
    red = public.locator("[data-list='red']")
    expect(red).to_contain_text("甲区第1物业公司")
    expect(red).to_contain_text("96.00")
    expect(public.get_by_test_id("evaluation")).to_contain_text("浏览器测试季测评")
    expect(public.locator("body")).not_to_contain_text(REASON)
    public.screenshot(path=str(SCREENS / "evaluation-redblack.png"), full_page=True)

    with app.app_context(), tenant_scope(a.tenant_id):
        row = db.session.get(Assessment, aid)
        assert (row.total, row.stars, row.list_kind, row.rank, row.status) == (96, 5, "red", 1, "finalized")
    assert not problems, problems
