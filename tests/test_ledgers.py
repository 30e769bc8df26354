"""Ledgers: keeper rules, entries, reversal, balances and statements, vouchers, and that no
route edits or deletes an entry."""
from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select, update

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.org.models import Contract
from wuye_saas.publicity import accounts, ledger
from wuye_saas.publicity.models import LedgerEntry, LedgerKeeper, LedgerVoucher
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _url(compound_id, kind="public_revenue"):
    return f"/d/alpha/ledgers/new?compound_id={compound_id}&kind={kind}"


def _entry(**over):
    data = {"entry_date": "2026-01-10", "direction": "income", "category": "停车费", "amount": "123.45",
            "counterparty": "停车管理公司", "voucher_no": "PZ-001", "note": "一月停车费"}
    data.update(over)
    return data


def _entries(app, world, compound=None):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        stmt = select(LedgerEntry).order_by(LedgerEntry.id)
        if compound:
            stmt = stmt.where(LedgerEntry.compound_id == compound)
        return [(e.id, e.kind, e.category, e.amount_fen, e.reverses_id, e.note) for e in db.session.execute(stmt).scalars()]


def _set_keeper(app, world, kind, keeper):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(LedgerKeeper(kind=kind, keeper=keeper))
        db.session.commit()


def _make_fee_mode(app, world, contract_attr, mode):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(update(Contract).where(Contract.id == getattr(a, contract_attr)).values(fee_mode=mode))
        db.session.commit()


def test_committee_keeps_public_revenue_by_default_and_entries_are_signed(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    resp = post(client, _url(a.compound1), _entry())
    assert resp.status_code == 302, resp.get_data(as_text=True)
    resp = post(client, _url(a.compound1), _entry(direction="spending", category="公共设施维修", amount="2000.5",
                                                  entry_date="2026-01-20"))
    assert resp.status_code == 302
    rows = _entries(app, world)
    assert [(r[1], r[2], r[3]) for r in rows] == [("public_revenue", "停车费", 12345),
                                                  ("public_revenue", "公共设施维修", -200050)]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert ledger.balance(a.compound1, "public_revenue") == 12345 - 200050
        events = db.session.execute(select(AuditEvent.action).where(
            AuditEvent.entity == "ledger_entry")).scalars().all()
        assert events == ["create", "create"]
    page = client.get(f"/d/alpha/ledgers/{a.compound1}/public_revenue").get_data(as_text=True)
    assert 'data-testid="balance">-¥1,877.05<' in page
    assert "停车管理公司" in page and "PZ-001" in page
    assert page.count("<td class=\"small\">甲区committee</td>") == 2  # who entered each


def test_firm_may_not_keep_committee_ledgers_and_nothing_is_written(app, client, world):
    a = world["alpha"]
    login(client, "alpha-firm")
    assert post(client, _url(a.compound1), _entry()).status_code == 403
    assert post(client, _url(a.compound1, "maintenance_fund"),
                _entry(category="利息")).status_code == 403
    assert _entries(app, world) == []


def test_keeper_setting_switches_who_writes(app, client, world):
    a = world["alpha"]
    _set_keeper(app, world, "public_revenue", "firm")
    login(client, "alpha-firm")
    assert post(client, _url(a.compound1), _entry()).status_code == 302
    login(client, "alpha-committee")
    assert post(client, _url(a.compound1), _entry(amount="1")).status_code == 403
    assert [r[3] for r in _entries(app, world)] == [12345]


def test_fee_account_only_for_cost_plus_compounds(app, client, world):
    a = world["alpha"]
    login(client, "alpha-firm")
    data = _entry(category="物业费收入", amount="500")
    resp = post(client, _url(a.compound1, "fee_account"), data)
    assert resp.status_code == 422
    assert "不是酬金制" in resp.get_data(as_text=True)
    assert _entries(app, world) == []
    _make_fee_mode(app, world, "contract1", "酬金制")
    assert post(client, _url(a.compound1, "fee_account"), data).status_code == 302
    assert [(r[1], r[3]) for r in _entries(app, world)] == [("fee_account", 50000)]


def test_out_of_scope_compound_is_404(app, client, world):
    a, b = world["alpha"], world["beta"]
    login(client, "alpha-committee")
    assert post(client, _url(a.compound2), _entry()).status_code == 404
    assert post(client, _url(b.compound1), _entry()).status_code == 404
    _set_keeper(app, world, "public_revenue", "firm")
    login(client, "alpha-firm")  # firm 1 has no contract with compound 2
    assert post(client, _url(a.compound2), _entry()).status_code == 404
    assert client.get(f"/d/alpha/ledgers/{a.compound2}/public_revenue").status_code == 404
    assert _entries(app, world) == []


@pytest.mark.parametrize("over, field_msg", [
    ({"entry_date": "tomorrow"}, "记账日期不能晚于今天"),   # the day after the test's today (below)
    ({"amount": "12.345"}, "最多两位小数"),
    ({"amount": "0"}, "金额必须大于 0"),
    ({"amount": "1e20"}, "最多两位小数"),
    ({"amount": "-Infinity"}, "最多两位小数"),
    ({"amount": "100000000.01"}, "金额不能超过 100,000,000 元"),
    ({"direction": "spending"}, "“停车费”不是支出类目"),
    ({"category": "赌博收入"}, "Not a valid choice"),
    ({"counterparty": ""}, "请填写对方单位或个人"),
])
def test_bad_entry_is_refused_next_to_the_field(app, client, world, over, field_msg):
    a = world["alpha"]
    login(client, "alpha-committee")
    if over.get("entry_date") == "tomorrow":   # taken now, not when the module was collected: a run
        over = {"entry_date": (today() + timedelta(days=1)).isoformat()}   # may cross midnight
    resp = post(client, _url(a.compound1), _entry(**over))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    if field_msg == "Not a valid choice":
        assert 'class="invalid-feedback"' in html  # WTForms' own (zh) choice message
    else:
        assert field_msg in html
    assert _entries(app, world) == []


def test_reversal_is_linked_once_only_and_needs_a_reason(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    post(client, _url(a.compound1), _entry())
    (eid, *_), = _entries(app, world)
    page = client.get(f"/d/alpha/ledgers/entries/{eid}?reverse=1").get_data(as_text=True)
    assert "确认冲销" in page  # the confirmation step
    resp = post(client, f"/d/alpha/ledgers/entries/{eid}/reverse", {"reason": "  "})
    assert resp.status_code == 422 and "请填写冲销原因" in resp.get_data(as_text=True)
    assert len(_entries(app, world)) == 1
    assert post(client, f"/d/alpha/ledgers/entries/{eid}/reverse", {"reason": "金额录错"}).status_code == 302
    rows = _entries(app, world)
    assert rows[1][3:] == (-12345, eid, "冲销：金额录错")
    assert rows[0][3] == 12345  # the original is unchanged
    again = post(client, f"/d/alpha/ledgers/entries/{eid}/reverse", {"reason": "再来一次"})
    assert again.status_code == 422 and "该分录已被冲销" in again.get_data(as_text=True)
    of_reversal = post(client, f"/d/alpha/ledgers/entries/{rows[1][0]}/reverse", {"reason": "撤销冲销"})
    assert of_reversal.status_code == 422 and "冲销分录不能再被冲销" in of_reversal.get_data(as_text=True)
    assert len(_entries(app, world)) == 2
    with app.app_context(), tenant_scope(a.tenant_id):
        assert ledger.balance(a.compound1, "public_revenue") == 0
    detail = client.get(f"/d/alpha/ledgers/entries/{eid}").get_data(as_text=True)
    assert f"已被 <a href=\"/d/alpha/ledgers/entries/{rows[1][0]}\">#{rows[1][0]}</a> 冲销" in detail


def test_a_non_keeper_cannot_reverse(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    post(client, _url(a.compound1), _entry())
    (eid, *_), = _entries(app, world)
    login(client, "alpha-firm")  # sees the compound's ledgers, does not keep public revenue
    assert client.get(f"/d/alpha/ledgers/entries/{eid}").status_code == 200
    assert post(client, f"/d/alpha/ledgers/entries/{eid}/reverse", {"reason": "x"}).status_code == 403
    login(client, "alpha-assessor")
    assert post(client, f"/d/alpha/ledgers/entries/{eid}/reverse", {"reason": "x"}).status_code == 404
    assert len(_entries(app, world)) == 1


def test_statement_equals_the_sums_of_entries(app, client, world):
    a = world["alpha"]
    rows = [(date(2025, 12, 20), "停车费", 100000), (date(2026, 1, 5), "停车费", 30000),
            (date(2026, 1, 9), "广告费", 20000), (date(2026, 1, 15), "公共设施维修", -45000),
            (date(2026, 2, 1), "快递柜", 7000)]
    with app.app_context(), tenant_scope(a.tenant_id):
        for d, cat, fen in rows:
            ledger.add_entry(a.compound1, "public_revenue", d, cat, fen)
        ledger.add_entry(a.compound2, "public_revenue", date(2026, 1, 6), "停车费", 99900)  # another compound
        db.session.commit()
        st = ledger.statement(a.compound1, "public_revenue", date(2026, 1, 1), date(2026, 1, 31))
    assert (st.opening, st.income, st.spending, st.closing) == (100000, 50000, 45000, 105000)
    assert sorted(st.by_category) == sorted([("停车费", 30000, 0), ("公共设施维修", 0, 45000), ("广告费", 20000, 0)])
    login(client, "alpha-community")
    html = client.get(f"/d/alpha/ledgers/{a.compound1}/public_revenue/statement?start=2026-01-01&end=2026-01-31"
                      ).get_data(as_text=True)
    for testid, text in (("opening", "¥1,000.00"), ("income", "¥500.00"), ("spending", "¥450.00"),
                         ("closing", "¥1,050.00")):
        assert f'data-testid="{testid}">{text}<' in html
    assert "快递柜" not in html  # outside the period
    bad = client.get(f"/d/alpha/ledgers/{a.compound1}/public_revenue/statement?start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.get_data(as_text=True)


def test_no_route_edits_or_deletes_an_entry(app, client, world):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("ledgers.") or "ledger_entry_id" in rule.arguments:
            assert not rule.methods & {"PUT", "PATCH", "DELETE"}, rule
            assert not re.search(r"edit|delete|update|remove", rule.endpoint + rule.rule), rule
    a = world["alpha"]
    login(client, "alpha-committee")
    post(client, _url(a.compound1), _entry())
    (eid, *_), = _entries(app, world)
    for suffix in ("edit", "delete", "update", "remove"):
        assert post(client, f"/d/alpha/ledgers/entries/{eid}/{suffix}", {"amount": "1"}).status_code == 404
    for method in (client.put, client.delete, client.patch):
        assert method(f"/d/alpha/ledgers/entries/{eid}").status_code == 405
    assert post(client, f"/d/alpha/ledgers/entries/{eid}", {"amount": "1"}).status_code == 405
    assert _entries(app, world)[0][3] == 12345


def _upload(client, compound, files, **over):
    data = _entry(**over)
    data["vouchers"] = [(BytesIO(body), name) for name, body in files]
    return post(client, _url(compound), data, content_type="multipart/form-data")


def test_voucher_upload_is_stored_privately_and_served_in_scope(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    resp = _upload(client, a.compound1, [("发票.pdf", PDF), ("现场.png", PNG)])
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        vs = db.session.execute(select(LedgerVoucher).order_by(LedgerVoucher.id)).scalars().all()
        got = [(v.filename, v.content_type, v.size) for v in vs]
        names, vids = [v.stored_name for v in vs], [v.id for v in vs]
    assert got == [("发票.pdf", "application/pdf", len(PDF)), ("现场.png", "image/png", len(PNG))]
    folder = Path(app.config["UPLOAD_FOLDER"]) / "vouchers"
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(pdf|png)", n) for n in names)
    assert (folder / names[0]).read_bytes() == PDF
    assert "static" not in str(folder)
    got = client.get(f"/d/alpha/ledgers/vouchers/{vids[0]}")
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    login(client, "alpha-assessor")
    assert client.get(f"/d/alpha/ledgers/vouchers/{vids[0]}").status_code == 404
    login(client, "beta-district")
    assert client.get(f"/d/beta/ledgers/vouchers/{vids[0]}").status_code == 404
    login(client, "alpha-district")
    assert client.get(f"/d/alpha/ledgers/vouchers/{vids[1]}").data == PNG


@pytest.mark.parametrize("name, body, msg", [
    ("病毒.exe", b"MZ\x90\0", "不是 PDF、JPG 或 PNG 文件"),
    ("假的.pdf", b"<html>not a pdf</html>", "的内容不是 PDF、JPG 或 PNG"),
    ("大图.jpg", b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024), "超过 5 MB"),
])
def test_voucher_type_and_size_limits(app, client, world, name, body, msg):
    a = world["alpha"]
    folder = Path(app.config["UPLOAD_FOLDER"]) / "vouchers"
    before = set(folder.iterdir()) if folder.exists() else set()
    login(client, "alpha-committee")
    resp = _upload(client, a.compound1, [("好的.pdf", PDF), (name, body)])
    assert resp.status_code == 422
    assert msg in resp.get_data(as_text=True)
    assert _entries(app, world) == []
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(LedgerVoucher)).first() is None
    assert (set(folder.iterdir()) if folder.exists() else set()) == before  # no file either


def test_ledger_index_shows_balances_in_scope(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        ledger.add_entry(a.compound1, "maintenance_fund", date(2026, 1, 1), "首期交存", 8800000)
        ledger.add_entry(a.compound2, "maintenance_fund", date(2026, 1, 1), "首期交存", 7700000)
        db.session.commit()
    login(client, "alpha-committee")
    html = client.get("/d/alpha/ledgers/").get_data(as_text=True)
    assert f'data-testid="bal-{a.compound1}-maintenance_fund">¥88,000.00<' in html
    assert "¥77,000.00" not in html and "甲区2号小区" not in html
    login(client, "alpha-district")
    html = client.get("/d/alpha/ledgers/?q=2号").get_data(as_text=True)
    assert "¥77,000.00" in html and "¥88,000.00" not in html


def test_district_sets_who_keeps_each_ledger(app, client, world):
    """The district's keeper setting decides who may write a kind of ledger."""

    a = world["alpha"]
    login(client, "alpha-firm")
    assert client.get("/d/alpha/ledgers/keepers").status_code == 403
    login(client, "alpha-district")
    page = client.get("/d/alpha/ledgers/keepers").get_data(as_text=True)
    assert 'name="public_revenue"' in page and "业委会/物管会" in page
    # A value outside the two keepers is refused and nothing is written.
    resp = post(client, "/d/alpha/ledgers/keepers", {"public_revenue": "street", "maintenance_fund": "committee",
                                                      "fee_account": "firm"})
    assert resp.status_code == 422
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(LedgerKeeper)).first() is None
    resp = post(client, "/d/alpha/ledgers/keepers", {"public_revenue": "firm", "maintenance_fund": "committee",
                                                      "fee_account": "firm"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        rows = dict(db.session.execute(select(LedgerKeeper.kind, LedgerKeeper.keeper)).all())
        assert rows == {"public_revenue": "firm", "maintenance_fund": "committee", "fee_account": "firm"}
        assert accounts.keeper_of("public_revenue") == "firm"
        events = db.session.execute(select(AuditEvent.label).where(AuditEvent.entity == "ledger_keeper")).all()
        assert len(events) == 3
    # Another district's setting is its own.
    with app.app_context(), tenant_scope(world["beta"].tenant_id):
        assert accounts.keeper_of("public_revenue") == "committee"


def test_fee_income_is_posted_from_the_payments_month_by_month(app, client, world):
    """缴费汇总入账: the month's payments of the compound's bills become one 物业费收入 entry;
    a later payment shows as a difference; a reversal puts the month back to post."""
    from wuye_saas.fees.payments import month_start
    from wuye_saas.publicity import fee_income

    from .test_payments import add_payment, make_bills
    a = world["alpha"]
    _make_fee_mode(app, world, "contract1", "酬金制")
    last, this = month_start(today(), 1), month_start(today())
    b1, b2, other = make_bills(app, a, [(a.household1, 1, last, 0, 0, 10000), (a.household1, 1, this, 0, 0, 10000),
                                        (a.household2, 2, last, 0, 0, 10000)])
    add_payment(app, a, b1, 10000, "R1", paid_on=last + timedelta(days=3))
    add_payment(app, a, b2, 5050, "R2", paid_on=last + timedelta(days=20))   # paid ahead, received last month
    add_payment(app, a, other, 7000, "R3", paid_on=last + timedelta(days=5))  # another compound's
    url, action = f"/d/alpha/ledgers/{a.compound1}/fee_account", f"/d/alpha/ledgers/{a.compound1}/fee_account/from-payments"

    login(client, "alpha-firm")
    page = client.get(url).get_data(as_text=True)
    row = re.search(rf'<tr data-month="{last:%Y-%m}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="text-end[^"]*">([^<]*)</td>', row) == ["2", "¥150.50", "¥0.00", "¥150.50"]
    assert "计入账目" in row

    assert post(client, action, {"month": f"{last:%Y-%m}"}).status_code == 302
    month_end = month_start(today()) - timedelta(days=1)
    assert [(k, c, amt, n) for _, k, c, amt, _, n in _entries(app, world)] == [
        ("fee_account", "物业费收入", 15050, "由缴费记录汇总：2 笔，实收 150.50 元")]
    with app.app_context(), tenant_scope(a.tenant_id):
        first = db.session.execute(select(LedgerEntry)).scalar_one()
        assert (first.entry_date, first.voucher_no, first.counterparty) == (
            month_end, f"缴费汇总 {last:%Y-%m}", "业主缴费")
        assert ledger.balance(a.compound1, "fee_account") == 15050
    # Nothing left to post: refused with a message, nothing written.
    resp = post(client, action, {"month": f"{last:%Y-%m}"})
    assert resp.status_code == 302
    assert "已全部入账" in client.get(resp.location).get_data(as_text=True)
    assert len(_entries(app, world)) == 1
    # A payment recorded afterwards is the difference, posted as a further entry.
    add_payment(app, a, b1, 2000, "R4", paid_on=last + timedelta(days=25))
    assert post(client, action, {"month": f"{last:%Y-%m}"}).status_code == 302
    second = _entries(app, world)[-1]
    assert second[3] == 2000 and "此前已入账 150.50 元" in second[5]
    # A reversal of the first entry puts its amount back to post.
    assert post(client, f"/d/alpha/ledgers/entries/{first.id}/reverse", {"reason": "重复入账"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        rows = {r.month: r for r in fee_income.months(a.compound1, today())}
    assert (rows[last].collected, rows[last].posted, rows[last].difference) == (17050, 2000, 15050)
    assert (rows[this].collected, rows[this].payments) == (0, 0)
    # A month that is not a month, or too far back: refused, nothing written.
    for bad in ("", "2026-13", f"{month_start(today(), 12):%Y-%m}"):
        post(client, action, {"month": bad})
    assert len(_entries(app, world)) == 3


def test_only_the_keeper_posts_fee_income_and_only_for_cost_plus_compounds(app, client, world):
    from wuye_saas.fees.payments import month_start

    from .test_payments import add_payment, make_bills
    a = world["alpha"]
    last = month_start(today(), 1)
    (b1,) = make_bills(app, a, [(a.household1, 1, last, 0, 0, 10000)])
    add_payment(app, a, b1, 10000, "R1", paid_on=last + timedelta(days=3))
    action = f"/d/alpha/ledgers/{a.compound1}/fee_account/from-payments"
    login(client, "alpha-firm")
    assert post(client, action, {"month": f"{last:%Y-%m}"}).status_code == 409   # 包干制: no such ledger
    _make_fee_mode(app, world, "contract1", "酬金制")
    client.post("/logout")
    login(client, "alpha-committee")        # sees the ledger, does not keep it
    page = client.get(f"/d/alpha/ledgers/{a.compound1}/fee_account").get_data(as_text=True)
    assert "缴费记录汇总" in page and "计入账目" not in page
    assert post(client, action, {"month": f"{last:%Y-%m}"}).status_code == 403
    client.post("/logout")
    login(client, "beta-firm")              # another district
    assert post(client, action, {"month": f"{last:%Y-%m}"}).status_code == 404
    assert _entries(app, world) == []
