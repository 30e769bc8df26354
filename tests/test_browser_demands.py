"""The demands main path in a real browser (issue 6): a resident submits a demand on the compound's
public page with the household code and phone; the community dispatches it to the firm; the
firm accepts it and resolves it with a note and a photo; the community's return visit (满意)
closes it; the resident's tracking page shows every public step; and after the district admin
clicks "刷新本月数据" (the snapshot job: inline on SQLite, a real RQ worker with REDIS_URL) the
dashboard counts it this month — received 1, visited and satisfied (满意率 100.0%)."""
from __future__ import annotations

import re
import struct
import zlib

from sqlalchemy import select

from wuye_saas.audit import acting_as
from wuye_saas.demands import logic
from wuye_saas.demands.models import Demand, DemandEvent, DemandPhoto
from wuye_saas.extensions import db
from wuye_saas.indicators.models import CompoundMonth
from wuye_saas.org.models import Household
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

# The chromium launch and the live server of the first browser test; the login helper and the
# response/console watcher of the fees browser test (a fresh browser context per user).
from .test_browser import SCREENS, browser, server  # noqa: F401
from .test_browser_fees import JOB_TIMEOUT, _cells, _login, _watch

TITLE = "3 号楼 2 单元楼道灯不亮"
DESCRIPTION = "2 单元 3 楼到 6 楼的声控灯一周前坏了，晚上上下楼看不见台阶。"
RESIDENT, PHONE = "王秀兰", "13912345678"
DISPATCH_NOTE = "请物业三日内修复，修好后拍照留存。"
RESOLUTION = "已更换 2 单元 3—6 楼声控灯 4 盏，逐层试亮正常。"
VISIT_NOTE = "电话回访王女士，灯已修好，表示满意。"
PHOTO_NAME = "现场照片.png"


def _png(width: int = 4, height: int = 4) -> bytes:
    """A real (decodable) red PNG: the page must show it, not just accept the upload."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _row_in_list(page, nav_label: str, number: str):
    """Through the sidebar to the demand list; the demand's row there."""
    page.locator("aside").get_by_role("link", name=re.compile(f"{nav_label}$")).click()
    return page.locator(f"#results tr[data-number='{number}']")


def test_resident_submits_community_dispatches_firm_resolves_visit_closes_dashboard_counts(
        app, world, rq_worker, server, browser):
    from playwright.sync_api import expect

    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        # The district's categories (the world has none); the resident's household code.
        logic.ensure_default_categories()
        db.session.commit()
        code = db.session.get(Household, a.household1).household_code
    month = f"{today():%Y-%m}"
    SCREENS.mkdir(exist_ok=True)
    problems: list[str] = []

    # --- a resident, no login: the compound's public board → 反映诉求 ---------------------------
    resident = browser.new_context(locale="zh-CN").new_page()
    _watch(resident, problems)
    resident.goto(f"{server}/p/alpha/c/{a.compound1}/")
    resident.get_by_role("link", name=re.compile("反映诉求$")).click()
    expect(resident).to_have_url(f"{server}/p/alpha/c/{a.compound1}/demand")
    expect(resident.locator("h1")).to_contain_text("甲区1号小区 · 反映诉求")
    resident.get_by_label("诉求分类", exact=True).select_option(label="维修")
    resident.get_by_label("标题", exact=True).fill(TITLE)
    resident.get_by_label("详细情况", exact=True).fill(DESCRIPTION)
    resident.get_by_label("户码", exact=True).fill(code.lower())  # codes are case-insensitive
    resident.get_by_label("联系人", exact=True).fill(RESIDENT)
    resident.get_by_label("联系电话", exact=True).fill(PHONE)
    resident.screenshot(path=str(SCREENS / "demand-public-submit.png"), full_page=True)
    resident.get_by_role("button", name=re.compile("提交诉求$")).click()
    expect(resident.get_by_test_id("submitted")).to_contain_text("诉求已提交")
    number = resident.get_by_test_id("number").inner_text().strip()
    assert re.fullmatch(rf"SQ{today():%Y%m%d}-0001", number), number
    expect(resident.get_by_test_id("status")).to_have_text("待派单")
    expect(resident.get_by_test_id("public-timeline")).to_contain_text("诉求已受理")

    # --- the community finds it in its list and dispatches it to the firm ----------------------
    community = _login(browser, server, "alpha-community", problems)
    row = _row_in_list(community, "诉求办理", number)
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text("网上（居民自助）")
    expect(row).to_contain_text("待派单")
    row.get_by_role("link", name=number).click()
    expect(community).to_have_url(re.compile(r"/d/alpha/demands/\d+$"))
    demand_id = int(community.url.rsplit("/", 1)[1])
    expect(community.get_by_test_id("demand-status")).to_have_text("待派单")
    expect(community.locator("main")).to_contain_text(f"{RESIDENT} · {PHONE}")
    expect(community.locator("main")).to_contain_text(f"户码 {code}")
    timeline = community.get_by_test_id("timeline")
    expect(timeline.locator("li")).to_have_count(1)
    expect(timeline).to_contain_text("居民（网上提交）")
    dispatch = community.locator("form[action$='/dispatch']")
    dispatch.get_by_role("radio", name="物业服务企业").check()
    expect(dispatch.get_by_role("combobox", name="物业服务企业")).to_have_value(str(a.firm1))
    dispatch.get_by_label("派单说明", exact=True).fill(DISPATCH_NOTE)
    dispatch.get_by_role("button", name=re.compile("派单$")).click()
    expect(community.get_by_role("alert").first).to_contain_text("已派单。")
    expect(community.get_by_test_id("demand-status")).to_have_text("已派单")
    expect(timeline.locator("li[data-kind='dispatched']")).to_contain_text("派给物业服务企业：甲区第1物业公司")
    expect(timeline.locator("li[data-kind='dispatched']")).to_contain_text(DISPATCH_NOTE)
    # Until the firm accepts, the community may still reassign it.
    expect(community.locator("main")).to_contain_text("当前承办方：物业服务企业 · 甲区第1物业公司")
    expect(dispatch.get_by_role("button", name=re.compile("改派$"))).to_be_visible()

    # --- the firm accepts it, then resolves it with a note and a photo --------------------------
    firm = _login(browser, server, "alpha-firm", problems)
    row = _row_in_list(firm, "派给本企业的诉求", number)
    expect(row).to_contain_text("已派单")
    row.get_by_role("link", name=number).click()
    expect(firm).to_have_url(f"{server}/d/alpha/demands/{demand_id}")
    expect(firm.get_by_test_id("demand-status")).to_have_text("已派单")
    expect(firm.locator("form[action$='/resolve']")).to_have_count(0)  # accept first
    firm.get_by_role("button", name=re.compile("确认接单$")).click()
    expect(firm.get_by_role("alert").first).to_contain_text("已接单。")
    expect(firm.get_by_test_id("demand-status")).to_have_text("处理中")
    resolve = firm.locator("form[action$='/resolve']")
    resolve.get_by_label("办理结果", exact=True).fill(RESOLUTION)
    resolve.get_by_label("现场照片（选填，最多 5 张）", exact=True).set_input_files(
        [{"name": PHOTO_NAME, "mimeType": "image/png", "buffer": _png()}])
    resolve.get_by_role("button", name=re.compile("提交办结$")).click()
    expect(firm.get_by_role("alert").first).to_contain_text("已办结，等待社区回访。")
    expect(firm.get_by_test_id("demand-status")).to_have_text("已办结待回访")
    expect(firm.locator("main")).to_contain_text("按时办结")
    resolved = firm.get_by_test_id("timeline").locator("li[data-kind='resolved']")
    expect(resolved).to_contain_text(RESOLUTION)
    photo = resolved.get_by_role("img", name=PHOTO_NAME)
    expect(photo).to_be_visible()
    expect(photo).to_have_js_property("naturalWidth", 4)  # served and decoded, not a broken image
    expect(firm.get_by_test_id("waiting")).to_have_text("已办结，等待社区回访。")
    firm.screenshot(path=str(SCREENS / "demand-resolved.png"), full_page=True)

    # --- the community's return visit (满意) closes it ------------------------------------------
    community.locator("aside").get_by_role("link", name=re.compile("诉求办理$")).click()
    community.locator("[data-testid='demand-tabs'] a[data-tab='resolved']").click()
    expect(community).to_have_url(re.compile(r"tab=resolved"))
    row = community.locator(f"#results tr[data-number='{number}']")
    expect(row).to_contain_text("已办结待回访")
    row.get_by_role("link", name=number).click()
    visit = community.locator("form[action$='/visit']")
    visit.get_by_label("满意", exact=True).check()
    visit.get_by_label("回访记录", exact=True).fill(VISIT_NOTE)
    visit.get_by_role("button", name=re.compile("提交回访$")).click()
    expect(community.get_by_role("alert").first).to_contain_text("回访完成，诉求已关闭。")
    expect(community.get_by_test_id("demand-status")).to_have_text("已关闭")
    expect(community.get_by_test_id("waiting")).to_have_text("该诉求已关闭。")
    expect(community.locator("main")).to_contain_text("回访满意度")
    items = community.get_by_test_id("timeline").locator("li")
    expect(items).to_have_count(6)
    assert [items.nth(i).get_attribute("data-kind") for i in range(6)] == [
        "submitted", "dispatched", "accepted", "resolved", "visited", "closed"]
    expect(items.nth(0)).to_contain_text("受理")
    expect(items.nth(2)).to_contain_text("接单")
    expect(items.nth(3)).to_contain_text("办结")
    expect(items.nth(4)).to_contain_text("满意度：满意")
    expect(items.nth(4)).to_contain_text(VISIT_NOTE)
    expect(items.nth(5)).to_contain_text("关闭")
    community.screenshot(path=str(SCREENS / "demand-closed.png"), full_page=True)

    # --- the resident tracks it with the number and household code -------------------------------
    resident.goto(f"{server}/p/alpha/c/{a.compound1}/")
    resident.get_by_role("link", name=re.compile("查询诉求进度$")).click()
    resident.get_by_label("诉求编号", exact=True).fill(number)
    resident.get_by_label("户码", exact=True).fill(code)
    resident.get_by_role("button", name="查询").click()
    expect(resident.get_by_test_id("status")).to_have_text("已关闭")
    steps = resident.get_by_test_id("public-timeline")
    expect(steps.locator("li")).to_have_count(6)
    for text in ("诉求已受理", "已派单", "承办方：物业服务企业", "承办方已接单", RESOLUTION, "社区已回访",
                 "满意度：满意", "诉求已关闭"):
        expect(steps).to_contain_text(text)
    # Staff names and internal notes stay inside.
    for text in ("甲区第1物业公司", DISPATCH_NOTE, VISIT_NOTE, "甲区community", "甲区firm"):
        expect(steps).not_to_contain_text(text)

    # --- the district refreshes this month's figures; the dashboard counts the demand ------------
    district = _login(browser, server, "alpha-district", problems)
    expect(district.locator("#board")).to_contain_text("还没有统计快照")
    district.get_by_role("button", name=re.compile("刷新本月数据$")).click()
    # The progress card polls until the job is done (an inline job is done already).
    expect(district.locator("#snapshot-job .job-status")).to_have_attribute("data-status", "done",
                                                                            timeout=JOB_TIMEOUT)
    expect(district.locator("#snapshot-job")).to_contain_text("已更新")
    district.get_by_role("link", name=re.compile("重新载入工作台")).click()
    expect(district.get_by_test_id("taken-at")).to_contain_text(f"{today():%Y年%m月}快照")
    card = district.get_by_test_id("demands")
    expect(card.locator(".stat-value")).to_have_text("1")
    # Closed with 满意: visited 1, satisfied 1. Not yet due (its deadline is 72 hours away), so
    # it counts neither for nor against the on-time rate, and is not overdue.
    expect(card).to_contain_text("满意率 100.0%")
    expect(card).to_contain_text("逾期 0")
    expect(card).to_contain_text("按时办结率 —")
    # The same month in the 诉求办理 chart's table, and by street in the drill-down table.
    chart = district.locator("table[data-table='demands']")
    assert _cells(chart.locator("tbody tr", has_text=month)) == [month, "1", "—", "0", "100.0%"]
    # …and the chart above it draws this month's 受理 bar at 1 (once static/ has drawn it: on a busy
    # machine the page's script may not have run yet when the table is already there).
    district.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-demands'))")
    drawn = district.evaluate("""() => { const c = Chart.getChart(document.getElementById('chart-demands'));
        return c && [c.data.labels.at(-1), c.data.datasets[0].label, c.data.datasets[0].data.at(-1)]; }""")
    assert drawn == [month, "受理", 1], drawn
    drill = district.get_by_test_id("drill-table")
    headers = [t.strip() for t in drill.locator("thead th").all_inner_texts()]
    received, satisfied = headers.index("诉求受理"), headers.index("满意率")
    street1 = _cells(drill.locator("tbody tr", has_text="甲区第1街道"))
    street2 = _cells(drill.locator("tbody tr", has_text="甲区第2街道"))
    total = _cells(drill.locator("tbody tr", has_text="全区合计"))
    assert (street1[received], street1[satisfied]) == ("1", "100.0%"), street1
    assert (street2[received], street2[satisfied]) == ("0", "—"), street2
    assert (total[received], total[satisfied]) == ("1", "100.0%"), total
    district.screenshot(path=str(SCREENS / "dashboard-demands-district.png"), full_page=True)
    # Drill down (HTMX) to the compound the demand came from.
    drill.get_by_role("link", name="甲区第1街道").click()
    expect(district.locator("#board h2")).to_contain_text("甲区第1街道")
    district.get_by_test_id("drill-table").get_by_role("link", name="甲区第1社区").click()
    expect(district.locator("#board h2")).to_contain_text("甲区第1社区")
    compound_row = district.get_by_test_id("drill-table").locator("tbody tr", has_text="甲区1号小区")
    expect(compound_row.locator("td").nth(received - 1)).to_have_text("1")
    expect(compound_row.locator("td").nth(satisfied - 1)).to_have_text("100.0%")
    district.screenshot(path=str(SCREENS / "dashboard-demands.png"), full_page=True)

    # --- what was stored ----------------------------------------------------------------------------
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.get(Demand, demand_id)
        assert (d.number, d.status, d.satisfaction, d.channel, d.compound_id, d.household_id, d.firm_id,
                d.assignee_kind, d.title, d.contact_name, d.contact_phone, d.resolution, d.reopen_count) == (
            number, "closed", "satisfied", "online", a.compound1, a.household1, a.firm1, "firm", TITLE,
            RESIDENT, PHONE, RESOLUTION, 0)
        assert d.received_at <= d.dispatched_at <= d.accepted_at <= d.resolved_at <= d.closed_at
        assert logic.on_time(d)
        events = db.session.execute(select(DemandEvent).where(DemandEvent.demand_id == demand_id)
                                    .order_by(DemandEvent.id)).scalars().all()
        assert [(e.kind, e.actor) for e in events] == [
            ("submitted", "居民（网上提交）"), ("dispatched", "甲区community"), ("accepted", "甲区firm"),
            ("resolved", "甲区firm"), ("visited", "甲区community"), ("closed", "甲区community")]
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert events[1].note == DISPATCH_NOTE and events[3].note == RESOLUTION and events[4].note == VISIT_NOTE
        assert events[4].data == {"satisfaction": "satisfied"}
        photos = db.session.execute(select(DemandPhoto)).scalars().all()
        assert [(p.event_id, p.filename, p.content_type, p.size) for p in photos] == [
            (events[3].id, PHOTO_NAME, "image/png", len(_png()))]
        cm = db.session.execute(select(CompoundMonth).where(CompoundMonth.compound_id == a.compound1,
                                                            CompoundMonth.month == today().replace(day=1))
                                ).scalar_one()
        assert (cm.demands_received, cm.demands_due, cm.demands_overdue, cm.demands_visited,
                cm.demands_satisfied) == (1, 0, 0, 1, 1)
    assert not problems, problems
