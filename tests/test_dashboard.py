"""The staff dashboard: drill-down within the scope (404 outside it), the Excel export of the
table shown, what other roles keep seeing, and the evaluation results card."""
from __future__ import annotations

import re

from datetime import date, datetime
from io import BytesIO

from openpyxl import load_workbook

from wuye_saas.extensions import db
from wuye_saas.indicators import snapshots
from wuye_saas.indicators.models import CompoundMonth
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import login

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
        row = db.session.execute(db.select(CompoundMonth).order_by(CompoundMonth.id)).scalars().first()
        row.stars, row.list_kind = 4, "red"
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
    assert rows[1][:5] == ["甲区第1街道", 1, "100.0%", "100.0%", "100.0%"]
    assert rows[2][:5] == ["甲区第2街道", 1, "0.0%", "100.0%", "100.0%"]
    assert rows[3][:3] == ["全区合计", 2, "50.0%"]
    trend = [list(r) for r in wb["月度趋势"].iter_rows(values_only=True)]
    assert [r[0] for r in trend[1:]] == ["2026-05", "2026-06"]
    assert trend[1][2] == "100.0%" and trend[2][2] == "50.0%" and trend[2][-1] == "2026-06-15 12:00"
    assert wb["口径说明"]["A2"].value == "业委会(物管会)组建率"
    # A compound's export is its months.
    wb = load_workbook(BytesIO(client.get(f"/d/alpha/indicators.xlsx?level=compound&compound_id={a.compound2}").data))
    rows = [list(r) for r in wb["分项"].iter_rows(values_only=True)]
    assert rows[0][0] == "月份" and [r[0] for r in rows[1:]] == ["2026-06", "2026-05"]
    assert [r[2] for r in rows[1:]] == ["0.0%", "100.0%"]


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
