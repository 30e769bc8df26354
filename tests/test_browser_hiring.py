"""A tender in a real browser, from opening to the winner's contract draft: the committee opens
and publishes it and forms the panel; a red-listed firm applies from its to-do card (its bonus
shown); a black-listed firm is refused with the reason; after the deadline the panel's scores are
entered, the first-ranked firm wins, the result is on the compound's board and the contract draft
waits for the outgoing firm's handover after both sides sign."""
from __future__ import annotations

import re
from datetime import timedelta

from wuye_saas.extensions import db
from wuye_saas.hiring.models import Selection
from wuye_saas.timeutil import today

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_hiring import FIRMS, _in, market

PANEL = ["王建国", "李秀英", "赵工", "钱工", "孙书记"]


def test_tender_from_opening_to_the_winners_draft(app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    ns = world["alpha"]
    market(app, ns)
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- the committee opens and publishes the tender, and forms the panel ----------------------------
    committee = _login(browser, server, "alpha-committee", problems)
    committee.on("dialog", lambda d: d.accept())     # 确定中标并公示 asks first
    committee.locator("aside").get_by_role("link", name=re.compile("物业选聘")).click()
    committee.get_by_role("link", name=re.compile("发起选聘")).click()
    committee.get_by_label("小区", exact=True).select_option(label="甲区1号小区")
    committee.get_by_label("选聘方式").select_option(label="招投标选聘")
    committee.get_by_label("服务等级").select_option("一级")
    committee.get_by_label("物业费单价上限（元/㎡·月）").fill("1.20")
    committee.get_by_label("合同开始日期").fill("2027-01-01")
    committee.get_by_label("合同截止日期").fill("2029-12-31")
    committee.get_by_label("招标要求（招投标必填）").fill("保洁、秩序维护、共用设施设备维修养护；项目经理五年以上经验。")
    committee.get_by_label("报名截止日期（招投标必填）").fill((today() + timedelta(days=10)).isoformat())
    committee.get_by_role("button", name=re.compile("发起选聘")).click()
    committee.get_by_test_id("publish").click()
    expect(committee.get_by_test_id("selection-stage")).to_have_text("报名中")
    for name in PANEL:
        committee.get_by_label("评委姓名").fill(name)
        committee.get_by_label("单位或身份").fill("业主代表")
        committee.get_by_role("button", name=re.compile("加入评委")).click()
    expect(committee.get_by_test_id("barred")).to_contain_text("黑榜企业不得参加招投标")
    sel_url = committee.url

    # --- a red-listed firm applies from its to-do card -------------------------------------------------
    red = _login(browser, server, "alpha-red", problems)
    red.get_by_role("link", name=re.compile("可报名的招标")).click()
    red.get_by_role("link", name=re.compile("甲区1号小区选聘物业服务企业")).click()
    red.get_by_test_id("apply-link").click()
    expect(red.get_by_test_id("grade")).to_contain_text("AA")
    red.get_by_label("报价（元/㎡·月）").fill("1.15")
    red.get_by_label("服务方案摘要").fill("驻场 14 人（含党员 4 人），报修 30 分钟响应。")
    red.get_by_test_id("submit-application").click()
    expect(red.get_by_test_id("own-application")).to_contain_text("1.15")

    # --- a black-listed firm is refused with the reason ---------------------------------------------
    black = _login(browser, server, "alpha-black", problems)
    black.goto(sel_url + "/apply")
    expect(black.get_by_test_id("refusal")).to_contain_text("黑榜企业不得参加招投标")
    black.screenshot(path=str(SCREENS / "hiring-refused.png"), full_page=True)

    plain = _login(browser, server, "alpha-plain", problems)
    plain.goto(sel_url + "/apply")
    plain.get_by_label("报价（元/㎡·月）").fill("1.05")
    plain.get_by_label("服务方案摘要").fill("驻场 12 人。")
    plain.get_by_test_id("submit-application").click()

    # --- the deadline passes; the panel's scores; the winner -----------------------------------------
    _in(app, ns, lambda: [setattr(s, "deadline", today() - timedelta(days=1))
                          for s in db.session.execute(db.select(Selection)).scalars()])
    committee.reload()
    expect(committee.get_by_test_id("selection-stage")).to_have_text("报名已截止 · 评标中")
    for firm, scores in ((FIRMS["red"], ["85.50", "88", "90.25", "86", "87.10"]),
                         (FIRMS["plain"], ["90", "89.99", "88.01", "89", "88.34"])):
        committee.get_by_test_id("applications").get_by_role("link", name=firm).click()
        for name, points in zip(PANEL, scores):
            committee.get_by_label(f"{name}评分").fill(points)
        committee.get_by_test_id("save-scores").click()
    table = committee.get_by_test_id("applications")
    expect(table).to_contain_text("87.37")
    expect(table).to_contain_text("89.37")
    expect(table).to_contain_text("89.07")
    committee.get_by_label("中标企业").select_option(label=f"{FIRMS['red']}（总分 89.37）")
    committee.get_by_test_id("award").click()
    draft = committee.get_by_test_id("contract-draft")
    expect(draft).to_contain_text("草稿")
    expect(draft).to_contain_text("2027-01-01 至 2029-12-31")
    expect(draft).to_contain_text("1.15 元/㎡·月")
    committee.screenshot(path=str(SCREENS / "hiring-awarded.png"), full_page=True)

    # --- both sign: the outgoing firm still serves, so the draft waits for the handover ---------------
    red.goto(sel_url)
    red.get_by_test_id("sign").click()
    committee.reload()
    committee.get_by_test_id("sign").click()
    expect(committee.get_by_test_id("contract-draft")).to_contain_text("待原物业交接完成后生效")

    # --- the result on the compound's public board ----------------------------------------------------
    committee.get_by_test_id("result-link").click()
    committee.get_by_role("link", name=re.compile("物业选聘结果公示")).first.click()
    expect(committee.locator("body")).to_contain_text("平均分 87.37 + 红榜加分 2.00 = 总分 89.37")
    committee.screenshot(path=str(SCREENS / "hiring-result-board.png"), full_page=True)
    assert not problems, problems
