"""The fees main path in a real browser (issue 4): the district admin defines a policy, activates
it, assigns it to 甲区1号小区, simulates it and bills the month (a job: inline on SQLite, a real
RQ worker with REDIS_URL); the firm then records the full payment, prints the receipt, and sees
the compound's collection rate go from 0.0% to 100.0%.

Hand-computed figures for the world's household (88.50 ㎡, contract 二级, 低保 from 2024):
base 88.50 × 0.85 = 75.225 → 7523 分; government 30% = 2256.9; the firm lets 低保 off 50% of
the rest: 2633.05; resident 2633.05. Largest remainder: 2256 + 2633 + 2633 = 7522, the last 分
goes to the largest remainder (0.9, the government) → ¥22.57 + ¥26.33 + ¥26.33 = ¥75.23.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from wuye_saas.audit import acting_as
from wuye_saas.extensions import db
from wuye_saas.fees.models import Bill, FeeAssignment, FeePolicy, Payment
from wuye_saas.org.models import HouseholdClassLink
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import PASSWORD
# The chromium launch and the live server are the ones of the first browser test (pytest
# picks up imported fixtures); only the names are imported, not its test.
from .test_browser import SCREENS, browser, server  # noqa: F401

POLICY = "无物业小区托底收费（测试）"
COMPOUND = "甲区1号小区"
JOB_TIMEOUT = 120_000  # ms: a cold RQ worker forks and imports the app for the first job


def _watch(page, problems):
    page.set_default_timeout(15_000)
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and problems.append(f"console: {m.text}"))


def _login(browser, server, username, problems, viewport=None):
    """A fresh browser context per user: its own cookie jar, like a second person's browser."""
    page = browser.new_context(locale="zh-CN", **({"viewport": viewport} if viewport else {})).new_page()
    _watch(page, problems)
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    from playwright.sync_api import expect
    expect(page).to_have_url(f"{server}/d/alpha/")
    # The URL changes before the deferred scripts run; a click before htmx is ready would submit
    # the form as a plain POST and leave the page.
    page.wait_for_load_state("load")
    return page


def _cells(row):
    return [t.strip() for t in row.locator("th, td").all_inner_texts()]


def test_policy_to_collection_rate(app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    w = world["alpha"]
    month = today().replace(day=1)
    ym = f"{month:%Y-%m}"
    with app.app_context(), tenant_scope(w.tenant_id), acting_as(None, "测试"):
        # The household has been 低保 since 2024, so the concession shows in every figure.
        db.session.add(HouseholdClassLink(household_id=w.household1, household_class_id=w.household_class,
                                          valid_from=date(2024, 1, 1)))
        db.session.commit()
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- district admin: define the policy through the form --------------------------------
    page = _login(browser, server, "alpha-district", problems)
    page.locator("aside a[href='/d/alpha/fees/policies/']").click()
    page.get_by_role("link", name=re.compile("新增收费政策$")).click()
    form = page.locator("form[method=post]")
    form.get_by_label("政策名称", exact=True).fill(POLICY)
    form.get_by_label("计费方式", exact=True).select_option(label="按建筑面积（元/㎡·月）")
    form.get_by_label("价格形式", exact=True).select_option("市场调节价")
    form.get_by_label("生效日期", exact=True).fill("2024-01-01")
    form.get_by_label("二级 单价（元/㎡·月）", exact=True).fill("0.85")
    form.get_by_label("政府承担方式", exact=True).select_option(label="按比例")
    form.get_by_label("政府承担比例（%）", exact=True).fill("30")
    form.get_by_label("低保 企业让利（%）", exact=True).fill("50")
    form.get_by_role("button", name=re.compile("保存$")).click()
    expect(page).to_have_url(re.compile(r"/d/alpha/fees/policies/\d+$"))
    expect(page.get_by_role("alert")).to_contain_text(f"已新增收费政策“{POLICY}”（草稿）")
    expect(page.locator("h1")).to_contain_text("第 1 版 · 草稿")

    # Activate (a confirmation step first).
    page.locator("a[href$='/activate']").click()
    expect(page.get_by_role("alert")).to_contain_text("确定生效吗")
    page.get_by_role("button", name=re.compile("确认生效$")).click()
    expect(page.get_by_role("alert")).to_contain_text(f"“{POLICY}”第 1 版已生效。")
    expect(page.locator("h1")).to_contain_text("第 1 版 · 已生效")

    # Assign it to 甲区1号小区 (the link carries the policy, preselected).
    page.locator("a[href*='/fees/assignments/new?family_id=']").click()
    form = page.locator("form[method=post]")
    expect(form.get_by_label("收费政策", exact=True)).to_have_value(re.compile(r"\d+"))
    form.get_by_label("分配范围", exact=True).select_option(label="单个小区")
    form.get_by_label("小区", exact=True).select_option(label=COMPOUND)
    form.get_by_label("开始日期", exact=True).fill("2024-01-01")
    form.get_by_role("button", name=re.compile("分配$")).click()
    expect(page.get_by_role("alert")).to_contain_text(f"已将“{POLICY}”分配给 1 个小区。")
    expect(page.locator("#assignments")).to_contain_text(COMPOUND)
    expect(page.locator("#assignments")).to_contain_text("执行中")

    # --- what-if simulation for the compound ------------------------------------------------
    page.locator("a[href*='/fees/simulate?']").click()
    form = page.locator("form[method=get]").filter(has=page.get_by_label("测算范围", exact=True))
    form.get_by_label("测算范围", exact=True).select_option(label="小区")
    form.get_by_label("小区", exact=True).select_option(label=COMPOUND)
    expect(form.get_by_label("起始月份", exact=True)).to_have_value(ym)
    form.get_by_role("button", name=re.compile("测算$")).click()
    first, year = page.get_by_test_id("sim-first"), page.get_by_test_id("sim-year")
    # households, base, government, firm, resident, holdback
    expect(first.locator("tbody tr")).to_have_count(1)
    assert _cells(first.locator("tbody tr")) == ["低保", "1", "¥75.23", "¥22.57", "¥26.33", "¥26.33", "¥0.00"]
    assert _cells(first.locator("tfoot tr")) == ["合计", "1", "¥75.23", "¥22.57", "¥26.33", "¥26.33", "¥0.00"]
    assert _cells(year.locator("tfoot tr")) == ["合计", "12", "¥902.76", "¥270.84", "¥315.96", "¥315.96", "¥0.00"]
    expect(page.get_by_text("范围内小区 1 个，未计入 0 个")).to_be_visible()
    page.screenshot(path=str(SCREENS / "fees-simulation.png"), full_page=True)
    with app.app_context(), tenant_scope(w.tenant_id):
        assert db.session.execute(select(Bill.id)).first() is None  # the simulation wrote nothing

    # --- billing run for the compound and this month -----------------------------------------
    page.locator("aside a[href='/d/alpha/fees/runs/']").click()
    page.get_by_role("link", name=re.compile("开具账单$")).first.click()
    form = page.locator("form[method=post]")
    expect(form.get_by_label("账单月份", exact=True)).to_have_value(ym)
    form.get_by_label("开具范围", exact=True).select_option(label=f"小区：{COMPOUND}")
    form.get_by_role("button", name=re.compile("开始开具$")).click()
    expect(page).to_have_url(re.compile(r"/d/alpha/fees/runs/\d+$"))
    card = page.locator(".job-status")
    expect(card).to_have_attribute("data-status", "done", timeout=JOB_TIMEOUT)
    expect(card.locator(".badge")).to_have_text("已完成")
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("issued")).to_have_text("1 张", timeout=JOB_TIMEOUT)  # the outcome polls too
    expect(page.get_by_test_id("total-base")).to_have_text("¥75.23")

    # Open the bill from the run's bill list.
    page.get_by_role("link", name=re.compile(f"查看 {ym} 的账单")).click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.locator("#results tbody tr").get_by_role("link", name="101").click()
    expect(page).to_have_url(re.compile(r"/d/alpha/fees/bills/\d+$"))
    bill_url = page.url
    expect(page.get_by_test_id("part-gov")).to_have_text("¥22.57")
    expect(page.get_by_test_id("part-firm")).to_have_text("¥26.33")
    expect(page.get_by_test_id("part-resident")).to_have_text("¥26.33")
    expect(page.locator("main")).to_contain_text("困难类别（当月）低保")
    expect(page.locator("main")).to_contain_text("居民应缴 ¥26.33，已缴 ¥0.00，尚欠 ¥26.33")
    expect(page.get_by_role("link", name=re.compile("登记收款$"))).to_have_count(0)  # the district does not collect
    page.screenshot(path=str(SCREENS / "fees-bill.png"), full_page=True)

    # --- the firm: collection rate before, full payment, receipt, rate after -----------------
    firm = _login(browser, server, "alpha-firm", problems)
    firm.locator("aside a[href='/d/alpha/fees/collection']").click()
    rate_cell = firm.locator(f"tr[data-row='{COMPOUND}'] td").last
    expect(firm.locator("thead th").last).to_have_text(ym)
    expect(rate_cell).to_have_text("0.0%")

    firm.goto(bill_url)
    firm.get_by_role("link", name=re.compile("登记收款$")).click()
    expect(firm.get_by_test_id("owed")).to_have_text("¥26.33")
    form = firm.locator("form[method=post]").filter(has_text="确认收款")
    form.get_by_label("收款金额（元）", exact=True).fill("26.33")
    form.get_by_label("收款方式", exact=True).select_option("微信")
    receipt_no = form.get_by_label("收据号", exact=True).input_value()
    assert receipt_no == f"SK{today():%Y%m}-000001"
    expect(form.get_by_label("收款日期", exact=True)).to_have_value(today().isoformat())
    form.get_by_role("button", name=re.compile("确认收款$")).click()

    # The print view of the receipt.
    expect(firm).to_have_url(re.compile(r"/d/alpha/fees/payments/\d+/receipt$"))
    expect(firm.get_by_test_id("receipt-no")).to_have_text(receipt_no)
    expect(firm.get_by_test_id("amount")).to_have_text("¥26.33")
    expect(firm.get_by_test_id("amount-upper")).to_have_text("人民币贰拾陆元叁角叁分")
    expect(firm.locator(".receipt")).to_contain_text("甲区第1物业公司")
    expect(firm.get_by_role("button", name="打印收据")).to_be_visible()
    firm.get_by_role("link", name="返回账单").click()
    expect(firm.get_by_test_id("paid")).to_have_text("¥26.33")
    expect(firm.get_by_test_id("owed")).to_have_text("¥0.00")
    expect(firm.get_by_text("该账单居民应缴部分已结清。")).to_be_visible()

    firm.locator("aside a[href='/d/alpha/fees/collection']").click()
    expect(rate_cell).to_have_text("100.0%")
    expect(firm.locator("tr[data-row='合计'] td").last).to_have_text("100.0%")
    firm.screenshot(path=str(SCREENS / "fees-collection.png"), full_page=True)

    # What the pages did is what the database holds.
    with app.app_context(), tenant_scope(w.tenant_id):
        p = db.session.execute(select(FeePolicy)).scalar_one()
        assert (p.name, p.status, p.basis, p.price_regime, p.gov_mode, p.gov_percent,
                p.valid_from) == (POLICY, "active", "per_m2", "市场调节价", "percent", Decimal(30), date(2024, 1, 1))
        assert [(g.grade, g.rate.normalize()) for g in p.grades if g.rate is not None] == [("二级", Decimal("0.85"))]
        assert [(c.household_class_id, c.percent.normalize()) for c in p.concessions] == [(w.household_class, Decimal(50))]
        a = db.session.execute(select(FeeAssignment)).scalar_one()
        assert (a.compound_id, a.family_id, a.valid_from, a.valid_to) == (w.compound1, p.family_id,
                                                                          date(2024, 1, 1), None)
        b = db.session.execute(select(Bill)).scalar_one()
        assert (b.household_id, b.month, b.base_fen, b.gov_fen, b.firm_fen, b.resident_fen) == (
            w.household1, month, 7523, 2257, 2633, 2633)
        pay = db.session.execute(select(Payment)).scalar_one()
        assert (pay.bill_id, pay.amount_fen, pay.method, pay.receipt_no, pay.paid_on) == (
            b.id, 2633, "微信", receipt_no, today())

    assert not problems, problems
