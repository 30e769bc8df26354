"""Phone width in a real browser (headless Debian chromium via Playwright): at 390×844 a community
staff user's pages fit the screen (no sideways scroll, a one-line header) and the sidebar waits
behind the 菜单 button in the header; at 1400×900 the sidebar is the ordinary column, shown
without pressing anything."""
from __future__ import annotations

import re

# The chromium launch and the live server are the ones of the first browser test (pytest
# picks up imported fixtures); only the names are imported, not its test.
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
COMPOUNDS = "/d/alpha/compounds/"


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _header_height(page) -> float:
    return page.locator("nav.topbar").bounding_box()["height"]


def test_phone_fits_the_screen_and_the_menu_opens_the_sidebar(app, world, server, browser):  # noqa: F811
    from playwright.sync_api import expect

    problems: list[str] = []
    page = _login(browser, server, "alpha-community", problems, PHONE)
    SCREENS.mkdir(exist_ok=True)
    menu = page.get_by_role("button", name="菜单")
    aside = page.locator("aside")
    compounds = page.locator(f"aside a[href='{COMPOUNDS}']")

    # The dashboard: no sideways scroll, the header one line (the role badge no longer wraps
    # one character per line), the acting-as text whole in the page even where it is cut short.
    expect(page.get_by_test_id("acting-as")).to_contain_text("社区工作人员")
    assert _scroll_width(page) <= PHONE["width"]
    assert _header_height(page) <= 64
    page.screenshot(path=str(SCREENS / "phone-dashboard.png"))

    # The sidebar's links are there but hidden until 菜单 is pressed; then all of them show.
    total = aside.locator("a.nav-link").count()
    assert total > 5
    expect(compounds).to_be_hidden()
    expect(aside.get_by_role("link", name=re.compile("工作台$"))).to_be_hidden()
    expect(menu).to_be_visible()
    menu.click()
    expect(aside).to_be_visible()
    expect(compounds).to_be_visible()
    for i in range(total):
        expect(aside.locator("a.nav-link").nth(i)).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"]
    page.screenshot(path=str(SCREENS / "phone-menu.png"))

    # A link in the opened menu goes to its page; there the menu is closed again and a list page
    # (a table inside .table-responsive) fits the screen too.
    compounds.click()
    expect(page).to_have_url(f"{server}{COMPOUNDS}")
    page.wait_for_load_state("load")  # 菜单 below needs Bootstrap's script, which runs after parsing
    expect(page.locator("main h1")).to_contain_text("小区")
    expect(compounds).to_be_hidden()
    assert _scroll_width(page) <= PHONE["width"]
    assert _header_height(page) <= 64
    page.screenshot(path=str(SCREENS / "phone-compounds.png"), full_page=True)

    # The close button hides the menu again.
    menu.click()
    expect(compounds).to_be_visible()
    aside.get_by_role("button", name="关闭").click()
    expect(compounds).to_be_hidden()

    assert not problems, problems


def test_desktop_shows_the_sidebar_without_pressing_anything(app, world, server, browser):  # noqa: F811
    from playwright.sync_api import expect

    problems: list[str] = []
    page = _login(browser, server, "alpha-community", problems, DESKTOP)
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(page.locator(f"aside a[href='{COMPOUNDS}']")).to_be_visible()
    # The sidebar is the column left of the content, not a panel over it.
    side, main = page.locator("aside").bounding_box(), page.locator("main").bounding_box()
    assert side["x"] == 0 and side["x"] + side["width"] <= main["x"] + 1
    assert side["height"] >= DESKTOP["height"] - 60
    assert _scroll_width(page) <= DESKTOP["width"]
    assert _header_height(page) <= 64
    page.locator(f"aside a[href='{COMPOUNDS}']").click()
    expect(page).to_have_url(f"{server}{COMPOUNDS}")
    assert _scroll_width(page) <= DESKTOP["width"]
    assert not problems, problems


def test_dashboard_drill_table_is_whole_at_1366_and_keeps_its_names_on_a_phone(app, world, server, browser):  # noqa: F811
    from datetime import date, datetime

    from wuye_saas.extensions import db
    from wuye_saas.indicators import snapshots
    from wuye_saas.tenancy import tenant_scope

    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        snapshots.snapshot(a.tenant_id, date(2026, 6, 1), datetime(2026, 6, 15, 4, 0))
        db.session.commit()
    street = f"{server}/d/alpha/?level=street&street_id={a.street1}"
    fit = """() => { const t = document.querySelector('[data-testid=drill-table]');
                     return [t.scrollWidth, t.parentElement.clientWidth]; }"""
    problems: list[str] = []
    page = _login(browser, server, "alpha-district", problems, {"width": 1366, "height": 900})
    page.goto(street)
    table_width, box_width = page.evaluate(fit)
    assert table_width <= box_width, (table_width, box_width)   # no column cut off at the right
    page.get_by_test_id("drill-table").screenshot(path=str(SCREENS / "dashboard-street-1366.png"))

    phone = _login(browser, server, "alpha-district", problems, PHONE)
    phone.goto(street)
    assert _scroll_width(phone) <= PHONE["width"]
    # The table scrolls inside its card; scrolled to its end, the community's name is still in view.
    phone.evaluate("document.querySelector('[data-testid=drill-table]').parentElement.scrollLeft = 10000")
    name = phone.get_by_test_id("drill-table").get_by_role("link", name="甲区第1社区")
    box = name.bounding_box()
    wrap = phone.evaluate("""() => { const r = document.querySelector('[data-testid=drill-table]')
                                       .parentElement.getBoundingClientRect(); return [r.left, r.right]; }""")
    assert wrap[0] <= box["x"] and box["x"] + box["width"] <= wrap[1], (box, wrap)
    phone.screenshot(path=str(SCREENS / "phone-dashboard-street.png"), full_page=True)
    assert not problems, problems
