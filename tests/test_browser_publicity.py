"""The publicity main path in a real browser (issue 5): the firm publishes its 物业费收支 statement
through the publish form, a committee member raises an objection on one of its lines, the firm
answers, and the compound's public board (no login) shows the publication, the objection and
the answer."""
from __future__ import annotations

import re

from sqlalchemy import select

from wuye_saas.audit import acting_as
from wuye_saas.extensions import db
from wuye_saas.org.models import Contract
from wuye_saas.publicity import ledger
from wuye_saas.publicity.models import Objection, Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

# The chromium launch and the live server of the first browser test; the login helper of the
# fees browser test (a fresh browser context per user).
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import _login

QUESTION = "清洁卫生支出 300 元包括哪些项目？"
ANSWER = "楼道保洁 12 次，每次 25 元，合计 300 元。"


def test_publish_object_answer_public_board(app, world, server, browser):
    from playwright.sync_api import expect

    a = world["alpha"]
    day = today()
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        # 物业费收支 is kept (by default, by the firm) for compounds on 酬金制.
        db.session.get(Contract, a.contract1).fee_mode = "酬金制"
        ledger.add_entry(a.compound1, "fee_account", day, "物业费收入", 120000, counterparty="业主")
        ledger.add_entry(a.compound1, "fee_account", day, "清洁卫生", -30000, counterparty="保洁公司")
        db.session.commit()
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- the firm publishes the statement ------------------------------------------------------
    firm = _login(browser, server, "alpha-firm", problems)
    firm.goto(f"{server}/d/alpha/publications/new")
    firm.get_by_role("link", name=re.compile("甲区1号小区.*账目收支公示.*物业费收支")).click()
    expect(firm.get_by_text("支出 · 清洁卫生").first).to_be_visible()  # the preview
    firm.get_by_role("button", name=re.compile("确认发布")).click()
    expect(firm).to_have_url(re.compile(r"/d/alpha/publications/\d+$"))
    pid = int(firm.url.rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.get(Publication, pid)
        title, seq = p.title, p.seq
        assert (p.compound_id, p.kind) == (a.compound1, "ledger_statement")

    # --- a committee member raises an objection on the spending line ---------------------------
    committee = _login(browser, server, "alpha-committee", problems)
    committee.goto(f"{server}/d/alpha/checks/")  # its list of publications to check
    row = committee.locator("#results tr", has_text=title)
    expect(row).to_contain_text("我未核对")
    row.get_by_role("link", name="核对").click()
    committee.get_by_label("质询的公示内容").select_option(label="支出 · 清洁卫生：¥300.00")
    committee.get_by_label("问题").fill(QUESTION)
    committee.screenshot(path=str(SCREENS / "publication-check.png"), full_page=True)
    committee.get_by_role("button", name=re.compile("提出质询$")).click()
    expect(committee).to_have_url(re.compile(r"/d/alpha/checks/objections/\d+$"))
    expect(committee.get_by_test_id("objection-status")).to_have_text("待答复")
    expect(committee.get_by_test_id("timeline")).to_contain_text(QUESTION)

    # --- the firm finds it in its to-do list and answers ----------------------------------------
    firm.goto(f"{server}/d/alpha/checks/")
    todo = firm.locator("#results tr", has_text=QUESTION)
    todo.get_by_role("link", name="答复").click()
    firm.get_by_label("答复").fill(ANSWER)
    firm.get_by_role("button", name=re.compile("提交答复$")).click()
    expect(firm.get_by_role("alert").first).to_contain_text("已答复质询")
    expect(firm.get_by_test_id("objection-status")).to_have_text("已答复")
    expect(firm.get_by_test_id("timeline")).to_contain_text(ANSWER)
    firm.screenshot(path=str(SCREENS / "objection-answered.png"), full_page=True)

    # --- anyone, no login: the compound's public board -----------------------------------------
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(f"{server}/p/alpha/c/{a.compound1}/")
    card = public.locator(f"[data-seq='{seq}']")
    expect(card).to_contain_text(title)
    expect(card).to_contain_text(QUESTION)
    expect(card).to_contain_text(f"答复：{ANSWER}")
    expect(card).to_contain_text("已答复")
    public.screenshot(path=str(SCREENS / "board-objection.png"), full_page=True)

    # --- the printed notice: its print button (a script file, no inline handler) and its QR code,
    # which opens the verify page with the signed chain head --------------------------------------
    public.goto(f"{server}/p/alpha/c/{a.compound1}/p/{seq}")
    expect(public.get_by_test_id("verdict")).to_contain_text("签名有效：由本区密钥")
    public.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    public.get_by_role("link", name="打印 A4 公告").click()
    expect(public.get_by_test_id("chain-head")).to_contain_text(f"公示链头（第 {seq} 号发布时）")
    public.get_by_role("button", name="打印公告").click()
    assert public.evaluate("window.__printed") == 1
    public.screenshot(path=str(SCREENS / "notice-a4.png"), full_page=True)
    public.goto(public.get_by_test_id("qr").get_attribute("data-target"))
    expect(public.get_by_test_id("head-result")).to_contain_text("一致：签名有效")
    expect(public.get_by_test_id("head-result")).to_contain_text(title)
    public.screenshot(path=str(SCREENS / "notice-verified.png"), full_page=True)

    with app.app_context(), tenant_scope(a.tenant_id):
        obj = db.session.execute(select(Objection).filter_by(publication_id=pid)).scalar_one()
        assert (obj.line, obj.question, obj.answer, obj.status) == (
            "支出 · 清洁卫生：¥300.00", QUESTION, ANSWER, "answered")
    assert not problems, problems
