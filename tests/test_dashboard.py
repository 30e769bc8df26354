"""The staff dashboard: drill-down within the scope (404 outside it), the Excel export of the
table shown, what other roles keep seeing, the evaluation results card, the breakdown's 缴费率 month,
the compounds' own table and the charts' colours."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from wuye_saas.extensions import db
from wuye_saas.indicators import snapshots
from wuye_saas.indicators.models import CompoundMonth
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import PASSWORD, login
# The browser and server fixtures of the browser tests (pytest finds imported fixtures by name).
from .test_browser import browser, server  # noqa: F401

AT = datetime(2026, 6, 15, 4, 0)


def _snap(app, ns, month=date(2026, 6, 1), at=AT):
    with app.app_context(), tenant_scope(ns.tenant_id):
        snapshots.snapshot(ns.tenant_id, month, at)
        db.session.commit()


def test_drill_down_respects_the_scope(app, client, world):
    a, b = world["alpha"], world["beta"]
    _snap(app, a)
    _snap(app, b)
    login(client, "alpha-district")
    for args in ("", "?level=street&street_id={street2}", "?level=community&community_id={community2}",
                 "?level=compound&compound_id={compound2}"):
        assert client.get("/d/alpha/" + args.format(**vars(a))).status_code == 200, args
    # The district's table links each street; the street's its communities.
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert f"level=street&amp;street_id={a.street1}" in html and f"level=street&amp;street_id={a.street2}" in html
    html = client.get(f"/d/alpha/?level=street&street_id={a.street1}").get_data(as_text=True)
    assert f"level=community&amp;community_id={a.community1}" in html and "甲区第2社区" not in html
    # Another district's ids are not found, whatever the level.
    for args in (f"?level=street&street_id={b.street1}", f"?level=community&community_id={b.community1}",
                 f"?level=compound&compound_id={b.compound1}"):
        assert client.get("/d/alpha/" + args).status_code == 404, args
    assert client.get("/d/alpha/?level=street&street_id=abc").status_code == 404

    login(client, "alpha-street")      # street 1
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert "甲区第1街道 · 三率与运行指标" in html and "甲区第1社区" in html and "甲区第2社区" not in html
    # Asking for the district shows the street's own board, never the district's figures.
    assert "甲区第1街道 · 三率与运行指标" in client.get("/d/alpha/?level=district").get_data(as_text=True)
    assert client.get(f"/d/alpha/?level=community&community_id={a.community1}").status_code == 200
    assert client.get(f"/d/alpha/?level=compound&compound_id={a.compound1}").status_code == 200
    for args in (f"?level=street&street_id={a.street2}", f"?level=community&community_id={a.community2}",
                 f"?level=compound&compound_id={a.compound2}"):
        assert client.get("/d/alpha/" + args).status_code == 404, args
        assert client.get("/d/alpha/indicators.xlsx" + args).status_code == 404, args

    login(client, "alpha-community")   # community 1
    assert "甲区第1社区 · 三率与运行指标" in client.get("/d/alpha/").get_data(as_text=True)
    assert client.get(f"/d/alpha/?level=community&community_id={a.community2}").status_code == 404
    assert client.get(f"/d/alpha/?level=compound&compound_id={a.compound2}").status_code == 404


def test_other_roles_keep_their_landing_page(app, client, world):
    _snap(app, world["alpha"])
    for user in ("alpha-firm", "alpha-committee", "alpha-assessor"):
        login(client, user)
        html = client.get("/d/alpha/").get_data(as_text=True)
        assert "三率与运行指标" not in html and "工作台" in html, user
        assert client.get("/d/alpha/indicators.xlsx").status_code == 403, user
    login(client, "alpha-firm")
    assert "物业企业" in client.get("/d/alpha/").get_data(as_text=True)


def test_empty_states_before_any_snapshot_and_without_evaluations(app, client, world):
    login(client, "alpha-district")
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert "还没有统计快照" in html and "刷新本月数据" in html
    _snap(app, world["alpha"])
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert "暂无已发布的考核结果" in html
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        # As a snapshot taken after a published evaluation writes it (with the month's sums).
        from wuye_saas.indicators import rollup
        row = db.session.execute(db.select(CompoundMonth).order_by(CompoundMonth.id)).scalars().first()
        row.stars, row.list_kind = 4, "red"
        db.session.flush()
        rollup.roll_up(row.month)
        db.session.commit()
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert "暂无已发布的考核结果" not in html and "4星 1" in html and "红榜 1" in html


def test_excel_export_is_the_table_shown(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        # Compound 2's committee expired before June: street 2 shows 0% 组建率.
        db.session.get(m.Committee, a.committee2).term_end = date(2026, 5, 31)
        db.session.commit()
    _snap(app, a, date(2026, 5, 1), datetime(2026, 5, 20, 4))
    _snap(app, a)
    login(client, "alpha-district")
    resp = client.get("/d/alpha/indicators.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(BytesIO(resp.data))
    rows = [list(r) for r in wb["分项"].iter_rows(values_only=True)]
    assert rows[0][:5] == ["街道", "小区数", "业委会(物管会)组建率", "物业服务覆盖率", "党的组织覆盖率"]
    # Rates are numbers (fractions) with a percent format, not text like "50.0%".
    assert rows[1][:5] == ["甲区第1街道", 1, 1.0, 1.0, 1.0]
    assert rows[2][:5] == ["甲区第2街道", 1, 0.0, 1.0, 1.0]
    assert rows[3][:3] == ["全区合计", 2, 0.5]
    sheet = wb["分项"]
    assert sheet["C4"].data_type == "n" and sheet["C4"].number_format == "0.0%"
    assert sheet["B4"].number_format == "General"   # a count stays a plain number
    # A rate with nothing to measure (no demand was due) is an empty cell, not "—".
    due = rows[0].index("按时办结率")
    assert rows[1][due] is None
    trend = [list(r) for r in wb["月度趋势"].iter_rows(values_only=True)]
    assert [r[0] for r in trend[1:]] == ["2026-05", "2026-06"]
    assert trend[1][2] == 1.0 and trend[2][2] == 0.5 and trend[2][-1] == "2026-06-15 12:00"
    assert wb["月度趋势"]["C3"].number_format == "0.0%"
    assert wb["口径说明"]["A2"].value == "业委会(物管会)组建率"
    # A compound's export is its months.
    wb = load_workbook(BytesIO(client.get(f"/d/alpha/indicators.xlsx?level=compound&compound_id={a.compound2}").data))
    rows = [list(r) for r in wb["分项"].iter_rows(values_only=True)]
    assert rows[0][0] == "月份" and [r[0] for r in rows[1:]] == ["2026-06", "2026-05"]
    assert [r[2] for r in rows[1:]] == [0.0, 1.0]
    # A community's compounds: 有/无 per compound, the 合计 row's rate a percent number.
    wb = load_workbook(BytesIO(client.get(f"/d/alpha/indicators.xlsx?level=community&community_id={a.community2}").data))
    rows = [list(r) for r in wb["分项"].iter_rows(values_only=True)]
    assert rows[1][:3] == ["甲区2号小区", "专业物业", "无"] and rows[2][2] == 0.0
    assert wb["分项"]["C3"].number_format == "0.0%"


def test_landing_counts_are_kept_a_short_while_per_membership(app, client, world, monkeypatch):
    from wuye_saas import pagecache
    from wuye_saas.dashboard import views

    a = world["alpha"]
    monkeypatch.setitem(app.config, "LANDING_COUNTS_SECONDS", 60)
    monkeypatch.setattr(views, "_kept_counts", pagecache.Memo(10))
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "monotonic", lambda: clock[0])
    login(client, "alpha-district")

    def compounds_shown():
        html = client.get("/d/alpha/").get_data(as_text=True)
        card = re.search(r'stat-card[^"]*" href="/d/alpha/compounds/">\s*<div class="stat-value text-body">([\d,]+)<', html)
        return int(card.group(1).replace(",", ""))

    before = compounds_shown()
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(m.Compound(community_id=a.community1, name="新建小区", compound_type="商品房",
                                  management_mode="专业物业"))
        db.session.commit()
    clock[0] += 59
    assert compounds_shown() == before          # within the minute: the kept counts
    clock[0] += 2
    # then counted again, once the page kept with the old counts has expired too
    assert compounds_shown() == (before if app.config["PAGE_CACHE_SECONDS"] else before + 1)
    clock[0] += app.config["PAGE_CACHE_SECONDS"]
    assert compounds_shown() == before + 1


# --- the breakdown's 缴费率, the compounds' table, the charts' colours -----------------------------

def _table(html: str) -> list[list[str]]:
    """The drill-down table as text: the heading row, then one list of cells per row."""
    table = html.split('data-testid="drill-table"', 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def _bills_in_may(app, a):
    """May's bills only (the month before the June snapshot): compound 1 billed 200.00 yuan,
    150.00 paid (75.0%); compound 2 billed 80.00, 20.00 paid (25.0%); the district
    170.00 / 280.00 = 60.7%. Then May's and June's snapshots (June: no bills yet)."""
    from wuye_saas.fees.models import Bill, BillingRun, FeePolicy, Payment
    with app.app_context(), tenant_scope(a.tenant_id):
        pol = FeePolicy(name="政策", valid_from=date(2024, 1, 1), status="active")
        run = BillingRun(month=date(2026, 5, 1), scope_kind="district", scope_label="全区")
        db.session.add_all([pol, run])
        db.session.flush()
        for branch, room, due, paid in ((1, "201", 10000, 10000), (1, "202", 10000, 5000), (2, "201", 8000, 2000)):
            hh = m.Household(compound_id=getattr(a, f"compound{branch}"), building_id=getattr(a, f"building{branch}"),
                             room=room, floor_area=Decimal("50.00"), household_code=f"MAY{branch}{room}")
            db.session.add(hh)
            db.session.flush()
            bill = Bill(household_id=hh.id, compound_id=hh.compound_id, firm_id=getattr(a, f"firm{branch}"),
                        policy_id=pol.id, billing_run_id=run.id, month=date(2026, 5, 1), area=50, rate=1,
                        base_fen=due, gov_fen=0, firm_fen=0, resident_fen=due)
            db.session.add(bill)
            db.session.flush()
            db.session.add(Payment(bill_id=bill.id, amount_fen=paid, method="现金", receipt_no=f"R{branch}{room}",
                                   paid_on=date(2026, 5, 20)))
        db.session.commit()
    _snap(app, a, date(2026, 5, 1), datetime(2026, 5, 31, 4))
    _snap(app, a)


def test_breakdown_collection_rate_is_the_cards_month(app, client, world):
    a = world["alpha"]
    _bills_in_may(app, a)
    login(client, "alpha-district")
    html = client.get("/d/alpha/").get_data(as_text=True)
    card = html.split('data-testid="collection"', 1)[1].split("</div></div>", 1)[0]
    assert "60.7%" in card and "2026年05月账单缴费率" in card
    rows = _table(html)
    col = rows[0].index("缴费率（5月）")               # the month named in the heading
    assert [(r[0], r[col]) for r in rows[1:]] == [("甲区第1街道", "75.0%"), ("甲区第2街道", "25.0%"),
                                                  ("全区合计", "60.7%")]
    assert rows[1][rows[0].index("小区数")] == "1"     # streets keep their counts and rates
    # A compound's own table is its months, each with its own bills: June has none yet.
    rows = _table(client.get(f"/d/alpha/?level=compound&compound_id={a.compound1}").get_data(as_text=True))
    col = rows[0].index("缴费率")
    assert [(r[0], r[col]) for r in rows[1:]] == [("2026-06", "—"), ("2026-05", "75.0%")]
    # The export says the same.
    wb = load_workbook(BytesIO(client.get("/d/alpha/indicators.xlsx").data))
    sheet = [list(r) for r in wb["分项"].iter_rows(values_only=True)]
    col = sheet[0].index("缴费率（5月）")
    assert [(r[0], r[col]) for r in sheet[1:]] == [("甲区第1街道", 0.75), ("甲区第2街道", 0.25),
                                                   ("全区合计", 0.607)]
    trend = [list(r) for r in wb["月度趋势"].iter_rows(values_only=True)]
    col = trend[0].index("缴费率")
    assert [(r[0], r[col]) for r in trend[1:]] == [("2026-05", 0.607), ("2026-06", None)]


def test_breakdown_collection_rate_in_the_current_month_and_without_bills(app, client, world):
    a = world["alpha"]
    _snap(app, a)
    login(client, "alpha-district")
    rows = _table(client.get("/d/alpha/").get_data(as_text=True))
    assert "缴费率" in rows[0] and not any("缴费率（" in h for h in rows[0])   # no bills: no month to name
    assert all(r[rows[0].index("缴费率")] == "—" for r in rows[1:])


def test_management_modes_say_how_many_unmanaged_compounds_have_a_contract_now(app, client, world):
    """The register keeps a compound's 摸排 mode (无人管理); once a firm serves it under a contract
    it is no 无物业小区 — the modes card says how many of them that is."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        cleared, left = (m.Compound(community_id=a.community1, name=f"无人管理{k}", compound_type="老旧小区",
                                    management_mode="无人管理") for k in "甲乙")
        db.session.add_all([cleared, left])
        db.session.flush()
        db.session.add(m.Contract(firm_id=a.firm1, compound_id=cleared.id, start_date=date(2026, 3, 1),
                                  end_date=date(2029, 2, 28), service_grade="三级", fee_mode="包干制",
                                  fee_rate=Decimal("0.50")))
        db.session.commit()
    _snap(app, a)
    login(client, "alpha-district")
    html = client.get("/d/alpha/").get_data(as_text=True)
    row = re.search(r'<li[^>]*data-mode="无人管理">(.*?)</li>', html, re.S).group(1)
    assert "（其中 1 个已签物业服务合同，不再计入无物业小区）" in row and '<span class="fw-bold">2</span>' in row
    assert re.search(r'<div class="stat-value text-danger">1 <span class="fs-6 fw-normal">个</span></div>\s*'
                     r'<div class="stat-label">无物业小区', html)
    row = re.search(r'<li[^>]*data-mode="专业物业">(.*?)</li>', html, re.S).group(1)
    assert "其中" not in row


def test_community_table_shows_each_compound_as_it_is(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(m.Compound(community_id=a.community1, name="甲区无人管理小区", compound_type="老旧小区",
                                  management_mode="无人管理"))
        db.session.commit()
    _bills_in_may(app, a)
    login(client, "alpha-community")                 # community 1: compound 1 and the new one
    html = client.get("/d/alpha/").get_data(as_text=True)
    rows = _table(html)
    assert rows[0][:7] == ["小区", "管理模式", "业委会(物管会)", "物业服务", "党的组织", "无物业小区", "诉求受理"]
    assert "小区数" not in rows[0] and "缴费率（5月）" in rows[0]
    col = rows[0].index("缴费率（5月）")
    assert [r[:6] + [r[col]] for r in rows[1:]] == [
        ["甲区1号小区", "专业物业", "有", "有", "有", "否", "75.0%"],
        ["甲区无人管理小区", "无人管理", "无", "无", "无", "是", "—"],
        # the community's total: how many of its compounds, and the rates of the cards
        ["甲区第1社区合计", "", "1/2（50.0%）", "1/2（50.0%）", "1/2（50.0%）", "1", "75.0%"]]
    assert '<td class="text-center text-danger">无</td>' in html      # what is missing stands out
    # The export is the table shown, its rates as percent numbers (the 合计 row's shares as their rate).
    wb = load_workbook(BytesIO(client.get("/d/alpha/indicators.xlsx").data))
    sheet = wb["分项"]
    assert [c.value for c in sheet[1]] == rows[0]

    def shown(c):
        if c.number_format == "0.0%":
            return "—" if c.value is None else f"{c.value * 100:.1f}%"
        return "" if c.value is None else str(c.value)
    exported = [[shown(c) for c in r] for r in sheet.iter_rows(min_row=2)]
    assert exported[:2] == rows[1:3]
    assert exported[2] == [v.split("（")[1].rstrip("）") if "（" in v else v for v in rows[3]]
    # The street above keeps its communities' counts and rates.
    login(client, "alpha-street")
    rows = _table(client.get("/d/alpha/").get_data(as_text=True))
    assert rows[0][:3] == ["社区", "小区数", "业委会(物管会)组建率"]
    assert rows[1][:3] == ["甲区第1社区", "2", "50.0%"]


def test_every_chart_series_has_its_own_colour(app, world, server, browser):
    """No series is left to Chart.js's defaults (the pale grey it gives lines beside coloured
    bars): in each chart every series has an explicit colour of its own, and the 诉求办理 lines
    differ in dash too."""
    _bills_in_may(app, world["alpha"])
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("alpha-district")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server}/d/alpha/")
    page.wait_for_function("['rates', 'clearing', 'demands', 'money'].every("
                           "id => Chart.getChart(document.getElementById('chart-' + id)))")
    charts = page.evaluate("""() => Object.fromEntries(['rates', 'clearing', 'demands', 'money'].map(id => {
        const chart = Chart.getChart(document.getElementById('chart-' + id));
        return [id, chart.data.datasets.map(d => ({
            label: d.label, type: d.type || chart.config.type, border: d.borderColor || null,
            fill: d.backgroundColor || null, dash: (d.borderDash || []).join(',')}))];
    }))""")
    for id, series in charts.items():
        for s in series:
            assert s["border"] and s["fill"], (id, s)
        colours = [s["fill"] if s["type"] == "bar" else s["border"] for s in series]
        assert len(set(colours)) == len(colours), (id, series)
    lines = {s["label"]: s for s in charts["demands"] if s["type"] == "line"}
    assert set(lines) == {"按时办结率", "满意率"}
    assert lines["按时办结率"]["border"] != lines["满意率"]["border"]
    assert lines["按时办结率"]["dash"] != lines["满意率"]["dash"]
    # …and the legend shows them apart: its boxes take each series' colours.
    legend = page.evaluate("""() => Chart.getChart(document.getElementById('chart-demands')).legend.legendItems
        .map(i => [i.text, i.strokeStyle, (i.lineDash || []).join(',')])""")
    boxes = {text: (stroke, dash) for text, stroke, dash in legend}
    assert boxes["按时办结率"] != boxes["满意率"] and boxes["满意率"][1]
    page.close()


@pytest.mark.parametrize("user", ["alpha-district", "alpha-community"])
def test_breakdown_of_an_earlier_months_bills_costs_the_same_queries_for_more_compounds(app, client, world, user):
    """The bills' month is read for all children in one grouped query: 2 compounds or 22, the
    same statements."""
    from .test_queries import count_queries
    a = world["alpha"]
    _bills_in_may(app, a)
    login(client, user)
    with count_queries(app) as few:
        html = client.get("/d/alpha/").get_data(as_text=True)
    assert "缴费率（5月）" in "".join(_table(html)[0])
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add_all([m.Compound(community_id=(a.community1, a.community2)[i % 2], name=f"增{i}小区",
                                       compound_type="商品房", management_mode=m.MANAGEMENT_MODES[i % 4])
                            for i in range(20)])
        db.session.commit()
    _snap(app, a, date(2026, 5, 1), datetime(2026, 5, 31, 4))
    _snap(app, a)
    with count_queries(app) as many:
        html = client.get("/d/alpha/").get_data(as_text=True)
    rows = _table(html)
    assert rows[-1][1] == "22" if user == "alpha-district" else len(rows) == 1 + 11 + 1   # heading, compounds, total
    assert len(many) == len(few), f"{user}: {len(few)} queries at 2 compounds, {len(many)} at 22"


def test_the_board_reads_the_sums_written_with_each_snapshot(app, client, world):
    """The board shows the figures of the last snapshot, read from their sums per node (never
    the compounds' months summed on the page): after another write in the district it is the
    same, and a compound added since shows with the next snapshot — even one taken at the same
    clock time."""
    from .test_queries import count_queries
    a = world["alpha"]
    _snap(app, a)
    login(client, "alpha-district")
    assert _table(client.get("/d/alpha/").get_data(as_text=True))[-1][:2] == ["全区合计", "2"]

    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(m.Compound(community_id=a.community1, name="新建小区", compound_type="商品房",
                                  management_mode="专业物业"))
        db.session.commit()
    with count_queries(app) as seen:
        html = client.get("/d/alpha/").get_data(as_text=True)
    assert "新建小区" not in html and _table(html)[-1][:2] == ["全区合计", "2"]
    assert not [s for s in seen if "FROM compound_month" in s], "the district's board reads node_month only"
    assert [s for s in seen if "FROM node_month" in s]

    _snap(app, a)
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert _table(html)[-1][:2] == ["全区合计", "3"]
    assert re.search(r"/ 3 个小区", html)

    # Another scope gets its own figures, not the district's: 甲区第1社区 has two.
    login(client, "alpha-community")
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert re.search(r"/ 2 个小区", html) and not re.search(r"/ 3 个小区", html)


def test_the_scheduled_refresh_bumps_the_snapshot_version_once(app, world):
    """The refresh fills missing past months and re-takes this one in one transaction; the kept
    figures must see it, so the version moves — once, at the end (the district row stays locked
    from the bump to the commit)."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        before = snapshots.snapshot_version()
        outcome = snapshots.refresh(a.tenant_id, AT)
        db.session.commit()
        assert len(outcome["filled"]) == 11
        assert snapshots.snapshot_version() == before + 1


def _register_cards(html: str) -> dict[str, str]:
    block = html.split('data-testid="register-counts"', 1)[1].split('<div class="row g-3">', 1)[0]
    return {label: value for value, label in re.findall(
        r'<div class="stat-value text-body">([^<]+)</div>\s*<div class="stat-label">([^<]+)</div>', block)}


def _modes(html: str) -> dict[str, str]:
    block = html.split("小区管理模式（", 1)[1].split("</div>\n  </div>", 1)[0]
    return dict(re.findall(r'compounds/\?mode=[^"]*">([^<]+)</a><span>(\d+) 个', block))


def test_lower_cards_follow_the_drilled_node(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        # Street 2 gets three more households and an unmanaged compound: the district differs from street 1.
        b2 = db.session.get(m.Building, a.building2)
        for room in ("201", "202", "203"):
            db.session.add(m.Household(compound_id=b2.compound_id, building=b2, room=room,
                                       floor_area=Decimal("60.00"), household_code=f"EXTRA{room}"))
        db.session.add(m.Compound(community_id=a.community2, name="无人小区", compound_type="老旧小区",
                                  management_mode="无人管理"))
        db.session.commit()
    _snap(app, a)
    login(client, "alpha-district")
    district = client.get("/d/alpha/").get_data(as_text=True)
    assert _register_cards(district) == {"街道": "2", "社区": "2", "小区": "3", "住户": "5",
                                         "物业企业": "2", "业委会/物管会": "2"}
    street = client.get(f"/d/alpha/?level=street&street_id={a.street1}").get_data(as_text=True)
    assert _register_cards(street) == {"社区": "1", "小区": "1", "住户": "1", "物业企业": "1", "业委会/物管会": "1"}
    assert _modes(street) == {"专业物业": "1", "自管": "0", "无人管理": "0", "国资托管": "0"}
    assert f'/d/alpha/compounds/?mode=%E4%B8%93%E4%B8%9A%E7%89%A9%E4%B8%9A&amp;street={a.street1}' in street
    # A drill-down step over HTMX swaps the cards with the board.
    step = client.get(f"/d/alpha/?level=street&street_id={a.street2}", headers={"HX-Request": "true"})
    html = step.get_data(as_text=True)
    assert "<html" not in html and _register_cards(html)["住户"] == "4"
    assert _modes(html)["无人管理"] == "1"
    community = client.get(f"/d/alpha/?level=community&community_id={a.community2}").get_data(as_text=True)
    assert _register_cards(community) == {"小区": "2", "住户": "4", "物业企业": "1", "业委会/物管会": "1"}
