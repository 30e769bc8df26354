"""The JSON API's main path in a real browser (issue 17): the district admin creates the 12345
platform's API client and copies its token from the page that shows it once; the platform
posts a work order with it (over HTTP, as the city's system would); the demand appears in the
community's list on the 12345 channel, is dispatched to the firm, and the firm finds it in its
list. (The firm's bell is the notifications' part of the issue.)"""
from __future__ import annotations

import json
import re
import urllib.request

from wuye_saas.audit import acting_as
from wuye_saas.demands import logic
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope

from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login

TITLE = "5 号楼门前污水外溢"


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


def test_admin_creates_a_client_the_platform_posts_a_work_order_the_community_dispatches_it(
        app, world, server, browser):
    from playwright.sync_api import expect

    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        logic.ensure_default_categories()
        db.session.commit()
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- the district admin: 区级管理 → 接口客户端 → 新建 -----------------------------------------
    admin = _login(browser, server, "alpha-district", problems)
    admin.locator("aside").get_by_role("link", name=re.compile("接口客户端$")).click()
    expect(admin.locator("main")).to_contain_text("本区还没有接口客户端")
    admin.get_by_role("link", name=re.compile("新建客户端$")).click()
    admin.get_by_label("客户端名称").fill("12345 市民热线平台")
    admin.get_by_label(re.compile("demands:write")).check()
    admin.get_by_label(re.compile("demands:read")).check()
    admin.get_by_role("button", name=re.compile("创建$")).click()
    expect(admin.locator("main")).to_contain_text("令牌只显示这一次")
    token = admin.get_by_label("令牌").input_value()
    assert re.fullmatch(r"wy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", token)
    admin.screenshot(path=str(SCREENS / "api-client-token.png"), full_page=True)
    admin.get_by_role("link", name=re.compile("返回列表$")).click()
    expect(admin.locator("main")).to_contain_text("12345 市民热线平台")
    expect(admin.locator("main")).not_to_contain_text(token)

    # --- the 12345 platform posts a work order ----------------------------------------------------
    body = {"work_order_no": "CZ12345-20261206-00777", "compound_id": a.compound1, "category": "环境卫生",
            "title": TITLE, "description": "市民来电：5 号楼门前下水井污水外溢两天。", "contact_name": "赵先生",
            "contact_phone": "13803551234", "urgency": "urgent"}
    status, got = _post(f"{server}/api/v1/alpha/demands", token, body)
    assert status == 201 and got["status"] == "new"
    number = got["number"]
    assert _post(f"{server}/api/v1/alpha/demands", token, body) == (200, got)   # a resend: the same

    # --- the community finds it (12345 热线) and dispatches it to the firm ------------------------
    community = _login(browser, server, "alpha-community", problems)
    community.locator("aside").get_by_role("link", name=re.compile("诉求办理$")).click()
    row = community.locator(f"#results tr[data-number='{number}']")
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text("12345 热线")
    row.get_by_role("link", name=number).click()
    expect(community.get_by_test_id("timeline")).to_contain_text("接口：12345 市民热线平台")
    dispatch = community.locator("form[action$='/dispatch']")
    dispatch.get_by_role("radio", name="物业服务企业").check()
    dispatch.get_by_role("button", name=re.compile("派单$")).click()
    expect(community.get_by_test_id("demand-status")).to_have_text("已派单")

    # --- the firm's bell rings; it has the demand in its list; the platform reads the new status --
    firm = _login(browser, server, "alpha-firm", problems)
    expect(firm.get_by_test_id("bell-count")).to_have_text("1")
    firm.get_by_test_id("bell").click()
    expect(firm.locator("main")).to_contain_text(number)
    firm.locator("aside").get_by_role("link", name=re.compile("派给本企业的诉求$")).click()
    expect(firm.locator(f"#results tr[data-number='{number}']")).to_contain_text("已派单")
    req = urllib.request.Request(f"{server}/api/v1/alpha/demands/{number}",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        detail = json.loads(resp.read())
    assert detail["status"] == "dispatched" and [s["kind"] for s in detail["timeline"]] == ["submitted", "dispatched"]
    assert "甲区" not in json.dumps(detail["timeline"], ensure_ascii=False)   # no staff names or firm internals
    assert not problems, problems
