"""党员接单 in a real browser (issue 16): the community registers an 在职党员 who reported to it,
dispatches a demand to that member (a choice from the register, no typed name), records the
member's acceptance and resolution, then the hours and points on the member's task; the member's
page shows the demand handled and the balance, and an exchange within it."""
from __future__ import annotations

import re

from wuye_saas.audit import acting_as
from wuye_saas.demands import logic
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login
from .test_demands import staff_intake


def test_a_demand_goes_to_a_party_member_who_earns_points(app, client, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        logic.ensure_default_categories()
        db.session.commit()
        cats = {c.name: c.id for c in logic.categories()}
    from .helpers import login
    login(client, "alpha-community")
    demand_id = int(staff_intake(client, a, cats, title="独居老人家中水管漏水").headers["Location"].rsplit("/", 1)[1])
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    page = _login(browser, server, "alpha-community", problems)
    # Register the member: 在职党员, reported to the community, looks after building 1.
    page.locator("aside").get_by_role("link", name=re.compile("党员志愿者$")).click()
    page.get_by_role("link", name=re.compile("登记志愿者$")).click()
    page.get_by_label("姓名", exact=True).fill("郝建国")
    page.get_by_label("工作单位 / 所在党组织", exact=True).fill("区住建局机关党支部")
    page.get_by_label("党员", exact=True).check()
    page.get_by_label("到社区报到日期（在职党员双报到）", exact=True).fill("2026-03-01")
    page.get_by_label("联系电话", exact=True).fill("13912345678")
    page.get_by_role("button", name=re.compile("保存$")).click()
    expect(page.get_by_role("alert").first).to_contain_text("已登记：郝建国")
    expect(page.locator("main")).to_contain_text("139****5678")

    # Dispatch the demand to the member (党员接单).
    page.goto(f"{server}/d/alpha/demands/{demand_id}")
    dispatch = page.locator("form[action$='/dispatch']")
    dispatch.get_by_role("radio", name="党员志愿者").check()
    dispatch.get_by_label("选择党员志愿者", exact=True).select_option(label="郝建国（党员）")
    dispatch.get_by_role("button", name=re.compile("派单$")).click()
    expect(page.get_by_role("alert").first).to_contain_text("已派单。")
    expect(page.locator("main")).to_contain_text("当前承办方：党员志愿者 · 郝建国")
    page.get_by_role("button", name=re.compile("确认接单$")).click()
    page.locator("form[action$='/resolve']").get_by_label("办理结果", exact=True).fill("已关闭总阀，联系物业更换阀门。")
    page.locator("form[action$='/resolve']").get_by_role("button", name=re.compile("提交办结$")).click()
    expect(page.get_by_test_id("demand-status")).to_have_text("已办结待回访")

    # The member's task: hours and points once the demand is resolved.
    page.locator("aside").get_by_role("link", name=re.compile("志愿服务认领$")).click()
    page.get_by_role("link", name=re.compile("已认领")).click()
    page.get_by_role("link", name=re.compile("独居老人家中水管漏水")).click()
    finish = page.locator("form[action$='/finish']")
    finish.get_by_label("服务时长（小时）", exact=True).fill("1.5")
    finish.get_by_label("积分", exact=True).fill("5")
    finish.get_by_label("完成情况", exact=True).fill("上门关阀止水，协调物业更换阀门。")
    finish.get_by_role("button", name=re.compile("登记完成$")).click()
    expect(page.get_by_test_id("task-state")).to_have_text("已完成")
    expect(page.locator("main")).to_contain_text("1.5 小时 · 5 分")

    # The member's record: the demand handled, the balance, an exchange within it.
    page.get_by_role("link", name="郝建国").click()
    expect(page.get_by_test_id("volunteer-tasks")).to_contain_text("党员接单")
    expect(page.get_by_test_id("balance")).to_have_text("5 分")
    page.get_by_label("兑换积分", exact=True).fill("6")
    page.get_by_label("兑换物品或服务", exact=True).fill("洗衣液")
    page.get_by_role("button", name=re.compile("兑换$")).click()
    expect(page.locator("main")).to_contain_text("积分余额不足：现有 5 分")
    page.get_by_label("兑换积分", exact=True).fill("4")
    page.get_by_role("button", name=re.compile("兑换$")).click()
    expect(page.get_by_test_id("balance")).to_have_text("1 分")
    page.screenshot(path=str(SCREENS / "volunteer-record.png"), full_page=True)
    assert [p for p in problems if not p.startswith("422 ")] == [], problems
