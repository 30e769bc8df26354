"""A real browser (headless Debian chromium via Playwright) against the real app over HTTP:
log in, add a compound through the form, find it with the HTMX search box."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from wuye_saas.extensions import db
from wuye_saas.org.models import Compound
from wuye_saas.tenancy import tenant_scope

from .helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENS = Path(__file__).resolve().parent.parent / "tmp-screens"
NAME = "浏览器测试小区"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app, world):
    """The test app on a free local port, serving the world fixture's database."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


def test_add_a_compound_and_find_it(app, world, server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(locale="zh-CN")
    page.set_default_timeout(15_000)
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # Failed loads are judged by the response listener, which leaves out the browser's own
    # favicon probe (the app has no favicon: a 404 there is no fault of the page).
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and problems.append(f"console: {m.text}"))

    # Log in through the form.
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("alpha-district")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/d/alpha/")
    expect(page.get_by_test_id("acting-as")).to_have_text("甲区 · 区级管理员 · 全区")

    # 小区 → 新增小区 → fill and save.
    # (The icon's glyph may join a link's accessible name: match the end of it.)
    page.locator("aside a[href='/d/alpha/compounds/']").click()
    expect(page).to_have_url(f"{server}/d/alpha/compounds/")
    page.get_by_role("link", name=re.compile("新增小区$")).click()
    page.get_by_label("所属社区").select_option(label="甲区第1社区")
    page.get_by_label("小区名称").fill(NAME)
    page.get_by_label("地址").fill("英雄南路 8 号")
    page.get_by_label("小区类型").select_option("商品房")
    page.get_by_label("建成年份").fill("2010")
    page.get_by_label("建筑面积（㎡）").fill("8000.50")
    page.get_by_label("管理模式").select_option("专业物业")
    page.get_by_label("“五管”模式").select_option("统管")
    page.get_by_role("button", name=re.compile("保存$")).click()

    # The detail page of the new record.
    expect(page).to_have_url(re.compile(rf"{re.escape(server)}/d/alpha/compounds/\d+$"))
    expect(page.locator("h1")).to_contain_text(NAME)
    expect(page.get_by_role("alert")).to_contain_text(f"已新增小区“{NAME}”")
    new_id = int(page.url.rsplit("/", 1)[1])

    # Back to the list; typing in the search box filters the table in place (HTMX).
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="小区").click()
    expect(page.locator("#results")).to_contain_text("甲区2号小区")
    page.wait_for_load_state("load")  # htmx listens only once its deferred script has run
    page.evaluate("window.__sameDocument = true")  # survives only if no full page load happens
    search = page.get_by_placeholder("搜索小区名称或地址")
    search.fill(NAME)
    search.press("End")  # a real key event: htmx listens to keyup
    results = page.locator("#results")
    expect(results).not_to_contain_text("甲区2号小区")
    expect(results.get_by_role("link", name=NAME)).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)
    assert page.evaluate("window.__sameDocument === true")
    expect(page).to_have_url(re.compile(r"/d/alpha/compounds/\?q="))  # hx-push-url keeps it linkable

    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "compounds-list.png"), full_page=True)

    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        row = db.session.execute(select(Compound).filter_by(id=new_id)).scalar_one()
        assert (row.name, row.community_id, row.compound_type, row.build_year, str(row.area_m2),
                row.management_mode, row.wuguan_mode, row.tenant_id) == (
            NAME, world["alpha"].community1, "商品房", 2010, "8000.50", "专业物业", "统管",
            world["alpha"].tenant_id)

    assert not problems, problems
    hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
