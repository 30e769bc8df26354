"""Payments, receipts, arrears and collection rates (wuye_saas/fees/payments.py and its views)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from wuye_saas import timeutil
from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.fees import payments
from wuye_saas.fees.models import Bill, BillingRun, CreditNote, FeePolicy, Payment
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post

TODAY = date(2026, 7, 15)


# --- helpers shared with test_claims.py and test_public.py -----------------------------------

def add_household(app, ns, branch: int, room: str, owner: str = "李四", code: str | None = None) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        hh = m.Household(compound_id=getattr(ns, f"compound{branch}"), building_id=getattr(ns, f"building{branch}"),
                         room=room, floor=1, floor_area=Decimal("50.00"), owner_name=owner,
                         household_code=code or f"{ns.slug[:2].upper()}{branch}R{room}")
        db.session.add(hh)
        db.session.commit()
        return hh.id


def make_bills(app, ns, specs) -> list[int]:
    """Bills written directly (the billing job is another area's): each spec is
    (household_id, branch, month, gov_fen, firm_fen, resident_fen); base = the sum."""
    with app.app_context(), tenant_scope(ns.tenant_id):
        policy = db.session.execute(select(FeePolicy).where(FeePolicy.name == "测试政策")).scalar()
        if policy is None:  # one policy per district: names are unique
            policy = FeePolicy(name="测试政策", valid_from=date(2024, 1, 1), status="active")
            db.session.add(policy)
            db.session.flush()
        runs, ids = {}, []
        for household_id, branch, month, gov, firm, res in specs:
            if month not in runs:
                runs[month] = BillingRun(month=month, scope_kind="district", scope_label="全区")
                db.session.add(runs[month])
                db.session.flush()
            bill = Bill(household_id=household_id, compound_id=getattr(ns, f"compound{branch}"),
                        firm_id=getattr(ns, f"firm{branch}"), policy_id=policy.id,
                        billing_run_id=runs[month].id, month=month, area=Decimal("88.50"),
                        rate=Decimal("0.85"), base_fen=gov + firm + res, gov_fen=gov, firm_fen=firm,
                        resident_fen=res)
            db.session.add(bill)
            db.session.flush()
            ids.append(bill.id)
        db.session.commit()
        return ids


def add_payment(app, ns, bill_id: int, amount: int, receipt: str, paid_on: date = date(2026, 7, 1)):
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.add(Payment(bill_id=bill_id, amount_fen=amount, method="现金", receipt_no=receipt,
                               paid_on=paid_on))
        db.session.commit()


def add_credit(app, ns, bill_id: int, resident: int = 0, gov: int = 0):
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.add(CreditNote(bill_id=bill_id, resident_fen=resident, gov_fen=gov, reason="面积更正"))
        db.session.commit()


def count(app, ns, model) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.execute(select(func.count()).select_from(model)).scalar()


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timeutil, "today", lambda: TODAY)
    return TODAY


def pay_url(bill_id):
    return f"/d/alpha/fees/bills/{bill_id}/pay"


def good(**kw):
    data = {"amount": "30.00", "method": "微信", "receipt_no": "SK202607-000001", "paid_on": "2026-07-10"}
    return data | kw


# --- recording payments ----------------------------------------------------------------------

def test_partial_payments_and_credit_notes_give_exact_owed(app, client, world, frozen):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 2000, 500, 10000)])
    add_credit(app, a, bill, resident=1500)
    login(client, "alpha-firm")
    resp = post(client, pay_url(bill), good(amount="30.00"))
    assert resp.status_code == 302 and "/receipt" in resp.headers["Location"]
    resp = post(client, pay_url(bill), good(amount="25.5", receipt_no="SK202607-000002", method="现金"))
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        bal = payments.balance(bill)
        assert (bal.due, bal.paid, bal.owed) == (8500, 5550, 2950)
        pays = db.session.execute(select(Payment).order_by(Payment.id)).scalars().all()
        assert [(p.amount_fen, p.method, p.paid_on) for p in pays] == [
            (3000, "微信", date(2026, 7, 10)), (2550, "现金", date(2026, 7, 10))]
        events = db.session.execute(select(AuditEvent.label).where(AuditEvent.entity == "payment",
                                                                   AuditEvent.action == "create")).scalars().all()
        assert sorted(events) == ["SK202607-000001", "SK202607-000002"]
    html = client.get(pay_url(bill)).get_data(as_text=True)
    assert 'data-testid="owed">¥29.50' in html and 'data-testid="paid">¥55.50' in html
    # The whole remainder is accepted, then the bill is settled and the form is gone.
    assert post(client, pay_url(bill), good(amount="29.50", receipt_no="SK202607-000003")).status_code == 302
    html = client.get(pay_url(bill)).get_data(as_text=True)
    assert 'data-testid="owed">¥0.00' in html and "已结清" in html and 'name="amount"' not in html


@pytest.mark.parametrize("data, field_msg", [
    ({"amount": "85.01"}, "超过该账单尚欠的居民应缴部分（¥85.00）"),
    ({"amount": "12.345"}, "最多两位小数"),
    ({"amount": "0"}, "金额必须大于 0"),
    ({"amount": "-5"}, "金额必须大于 0"),
    ({"amount": "abc"}, "最多两位小数"),
    ({"amount": "1e20"}, "最多两位小数"),       # no exponents, NaN or Infinity: only plain numbers
    ({"amount": "NaN"}, "最多两位小数"),
    ({"amount": "Infinity"}, "最多两位小数"),
    ({"amount": "1000000.01"}, "金额不能超过 1,000,000 元"),
    ({"amount": ""}, "请填写收款金额"),
    ({"method": "支票"}, "method"),
    ({"paid_on": "2026-07-16"}, "收款日期不能晚于今天"),
    ({"receipt_no": "SK 1"}, "收据号只能包含字母、数字"),
])
def test_bad_payment_is_refused_and_writes_nothing(app, client, world, frozen, data, field_msg):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 10000)])
    add_credit(app, a, bill, resident=1500)
    login(client, "alpha-firm")
    resp = post(client, pay_url(bill), good(**data))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    if field_msg == "method":
        assert 'id="method"' in html and "is-invalid" in html
    else:
        assert field_msg in html
    assert count(app, a, Payment) == 0


def test_overpayment_after_earlier_payments_is_refused(app, client, world, frozen):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 6, 1), 0, 0, 10000)])
    add_payment(app, a, bill, 9000, "OLD-1")
    login(client, "alpha-firm")
    resp = post(client, pay_url(bill), good(amount="10.01"))
    assert resp.status_code == 422 and "（¥10.00）" in resp.get_data(as_text=True)
    assert count(app, a, Payment) == 1


def test_duplicate_receipt_number_is_refused_within_the_district_only(app, client, world, frozen):
    a, b = world["alpha"], world["beta"]
    bill1, bill2 = make_bills(app, a, [(a.household1, 1, date(2026, 6, 1), 0, 0, 10000),
                                       (a.household1, 1, date(2026, 7, 1), 0, 0, 10000)])
    (beta_bill,) = make_bills(app, b, [(b.household1, 1, date(2026, 7, 1), 0, 0, 10000)])
    add_payment(app, b, beta_bill, 100, "SK202607-000009")  # another district's number is free here
    login(client, "alpha-firm")
    assert post(client, pay_url(bill1), good(receipt_no="SK202607-000009")).status_code == 302
    resp = post(client, pay_url(bill2), good(receipt_no="SK202607-000009"))
    assert resp.status_code == 422 and "该收据号已被使用" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(Payment.bill_id)).scalars().all() == [bill1]


def test_next_receipt_number_is_suggested(app, client, world, frozen):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 10000)])
    add_payment(app, a, bill, 100, "SK202607-000041")
    add_payment(app, a, bill, 100, "SK202606-000099")  # last month's sequence does not count
    login(client, "alpha-firm")
    html = client.get(pay_url(bill)).get_data(as_text=True)
    assert 'value="SK202607-000042"' in html and 'value="2026-07-15"' in html


def test_only_firm_roles_record_and_others_read(app, client, world, frozen):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 10000)])
    login(client, "alpha-district")
    resp = client.get(pay_url(bill))
    assert resp.status_code == 200 and 'name="amount"' not in resp.get_data(as_text=True)
    assert post(client, pay_url(bill), good()).status_code == 403
    assert count(app, a, Payment) == 0


def test_a_firm_never_sees_another_firms_bills_or_payments(app, client, world, frozen):
    a, b = world["alpha"], world["beta"]
    bill1, bill2 = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 10000),
                                       (a.household2, 2, date(2026, 7, 1), 0, 0, 10000)])
    (beta_bill,) = make_bills(app, b, [(b.household1, 1, date(2026, 7, 1), 0, 0, 10000)])
    add_payment(app, a, bill2, 100, "SK2-1")
    add_payment(app, b, beta_bill, 100, "SKB-1")
    with app.app_context(), tenant_scope(a.tenant_id):
        other_pay = db.session.execute(select(Payment.id).where(Payment.bill_id == bill2)).scalar_one()
    with app.app_context(), tenant_scope(b.tenant_id):
        beta_pay = db.session.execute(select(Payment.id)).scalar_one()
    login(client, "alpha-firm")
    assert client.get(pay_url(bill1)).status_code == 200
    for url in (pay_url(bill2), f"/d/alpha/fees/payments/{other_pay}/receipt", pay_url(beta_bill),
                f"/d/alpha/fees/payments/{beta_pay}/receipt"):
        assert client.get(url).status_code == 404, url
    assert post(client, pay_url(bill2), good()).status_code == 404
    assert count(app, a, Payment) == 1


def test_receipt_shows_amount_in_figures_and_capitals(app, client, world, frozen):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 5, 1), 0, 0, 20000)])
    login(client, "alpha-firm")
    resp = post(client, pay_url(bill), good(amount="123.45", receipt_no="SK202607-000123"))
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="amount">¥123.45' in html
    assert "人民币壹佰贰拾叁元肆角伍分" in html
    assert "SK202607-000123" in html and "甲区第1物业公司" in html and "甲区1号小区" in html
    assert "1号楼 101" in html and "2026年05月" in html


@pytest.mark.parametrize("fen, text", [
    (12345, "壹佰贰拾叁元肆角伍分"), (10000, "壹佰元整"), (5, "伍分"), (1000500, "壹万零伍元整"),
    (100001, "壹仟元零壹分"), (1050, "壹拾元伍角整"), (0, "零元整"), (100000000, "壹佰万元整"),
    (1000050000, "壹仟万零伍佰元整"),
])
def test_amount_in_chinese_capitals(fen, text):
    assert payments.rmb_upper(fen) == text


# --- arrears ---------------------------------------------------------------------------------

def _arrears_world(app, a):
    """Household 1 owes in every bucket; 'B' owes only this month; 'C' has paid up."""
    hb = add_household(app, a, 1, "102", owner="王小明")
    hc = add_household(app, a, 1, "103")
    ids = make_bills(app, a, [
        (a.household1, 1, date(2026, 7, 1), 0, 0, 1000),   # 本月
        (a.household1, 1, date(2026, 4, 1), 0, 0, 2000),   # 3 months → 1–3
        (a.household1, 1, date(2026, 1, 1), 0, 0, 3000),   # 6 months → 4–6
        (a.household1, 1, date(2025, 12, 1), 0, 0, 4000),  # 7 months → 6+
        (hb, 1, date(2026, 7, 1), 0, 0, 500),
        (hc, 1, date(2026, 7, 1), 0, 0, 800),
        (a.household2, 2, date(2026, 7, 1), 0, 0, 9900),   # the other firm's compound
    ])
    add_payment(app, a, ids[1], 500, "P1")   # partly paid: 1500 left
    add_payment(app, a, ids[5], 800, "P2")   # paid up
    return hb, hc


def test_arrears_buckets_on_fixed_dates(app, world):
    a = world["alpha"]
    hb, _ = _arrears_world(app, a)
    with app.app_context(), tenant_scope(a.tenant_id):
        firm = db.session.execute(select(m.Firm).where(m.Firm.id == a.firm1)).scalar_one()
        from wuye_saas.auth.models import Membership
        mem = db.session.execute(select(Membership).where(Membership.firm_id == firm.id)).scalar_one()
        rows = payments.arrears_rows(mem, TODAY)
        got = [(r.household_id, r.owed, r.current, r.m1_3, r.m4_6, r.m6p, r.bills) for r in rows]
        assert got == [(a.household1, 9500, 1000, 1500, 3000, 4000, 4), (hb, 500, 500, 0, 0, 0, 1)]
        # A bill of the last day of a bucket: on 2026-07-01 the June bill is 1 month old.
        assert [r.m1_3 for r in payments.arrears_rows(mem, date(2026, 5, 1), bucket="m1_3")] == [1500]
        assert [r.household_id for r in payments.arrears_rows(mem, TODAY, bucket="m6p")] == [a.household1]


def test_arrears_page_filters_scope_and_export(app, client, world, frozen):
    a = world["alpha"]
    hb, hc = _arrears_world(app, a)
    login(client, "alpha-firm")
    html = client.get("/d/alpha/fees/arrears").get_data(as_text=True)
    assert "¥95.00" in html and "¥5.00" in html and "王*" in html and "王小明" not in html
    assert "¥99.00" not in html  # branch 2 belongs to another firm
    assert html.index("¥95.00") < html.index("¥5.00")  # owed desc
    html = client.get("/d/alpha/fees/arrears?bucket=m4_6").get_data(as_text=True)
    assert "¥95.00" in html and "¥5.00" not in html
    html = client.get("/d/alpha/fees/arrears?bucket=m4_6", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and "¥95.00" in html
    resp = client.get("/d/alpha/fees/arrears.xlsx")
    ws = load_workbook(BytesIO(resp.data)).active
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[0][:7] == ("小区", "楼栋", "房号", "业主", "欠费账单数", "最早欠费月份", "欠费合计（元）")
    assert rows[1][2:11] == ("101", "张*", 4, "2025-12", 95, 10, 15, 30, 40)
    assert rows[2][2] == "102" and rows[2][6] == 5
    assert rows[3][0] == "合计" and rows[3][6] == 100
    assert all(ws.cell(r, c).number_format == '#,##0.00"元"' and ws.cell(r, c).data_type == "n"
               for r in (2, 3, 4) for c in range(7, 12))
    # The district sees both firms' arrears, filtered by compound too.
    login(client, "alpha-district")
    html = client.get("/d/alpha/fees/arrears").get_data(as_text=True)
    assert "¥99.00" in html and "¥95.00" in html
    html = client.get(f"/d/alpha/fees/arrears?compound={a.compound2}").get_data(as_text=True)
    assert "¥99.00" in html and "¥95.00" not in html


def test_arrears_empty_state(app, client, world, frozen):
    login(client, "alpha-firm")
    html = client.get("/d/alpha/fees/arrears").get_data(as_text=True)
    assert "目前没有欠费住户" in html


def test_household_bills_page_lists_owed_and_links_to_payment(app, client, world, frozen):
    a = world["alpha"]
    bill1, _ = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 300, 200, 1000),
                                   (a.household2, 2, date(2026, 7, 1), 0, 0, 9900)])
    login(client, "alpha-firm")
    html = client.get(f"/d/alpha/fees/households/{a.household1}/bills").get_data(as_text=True)
    assert f"/fees/bills/{bill1}/pay" in html and "¥3.00" in html and "¥2.00" in html and "¥10.00" in html
    assert client.get(f"/d/alpha/fees/households/{a.household2}/bills").status_code == 404


# --- collection rate -------------------------------------------------------------------------

def test_collection_rate_exact_by_level(app, client, world, frozen):
    a = world["alpha"]
    extra = [add_household(app, a, 1, f"2{i}") for i in range(3)]
    june = date(2026, 6, 1)
    ids = make_bills(app, a, [(h, 1, june, 100, 0, 1000) for h in [a.household1, *extra]]
                     + [(a.household2, 2, june, 0, 0, 1000), (a.household1, 1, date(2026, 7, 1), 0, 0, 2000)])
    for i, bill in enumerate(ids[:3]):
        add_payment(app, a, bill, 1000, f"C{i}")
    add_payment(app, a, ids[5], 1000, "C9")  # July: half paid
    with app.app_context(), tenant_scope(a.tenant_id):
        from wuye_saas.auth.models import Membership
        admin = db.session.execute(select(Membership).where(Membership.role == "district_admin")).scalar_one()
        firm = db.session.execute(select(Membership).where(Membership.role == "firm_manager")).scalar_one()
        street = db.session.execute(select(Membership).where(Membership.role == "street_staff")).scalar_one()
        for level, names in (("compound", ["甲区1号小区", "甲区2号小区"]),
                             ("firm", ["甲区第1物业公司", "甲区第2物业公司"]),
                             ("street", ["甲区第1街道", "甲区第2街道"])):
            months, rows, total, _ = payments.collection(admin, TODAY, level)
            assert len(months) == 12 and months[-1] == date(2026, 7, 1) and months[0] == date(2025, 8, 1)
            assert [r.label for r in rows] == names
            assert [r.text(june) for r in rows] == ["75.0%", "0.0%"]
            assert rows[0].text(date(2026, 7, 1)) == "50.0%" and rows[1].text(date(2026, 7, 1)) == "—"
            assert total.text(june) == "60.0%" and total.text(date(2026, 5, 1)) == "—"
        _, rows, total, _ = payments.collection(firm, TODAY, "compound")
        assert [(r.label, r.text(june)) for r in rows] == [("甲区1号小区", "75.0%")]
        assert total.text(june) == "75.0%"
        _, rows, total, _ = payments.collection(street, TODAY, "street")
        assert [(r.label, r.text(june)) for r in rows] == [("甲区第1街道", "75.0%")]
    # A credit note on an unpaid bill lowers what was billed: 3000 of 3500 → 85.7%.
    add_credit(app, a, ids[3], resident=500)
    login(client, "alpha-firm")
    html = client.get("/d/alpha/fees/collection").get_data(as_text=True)
    assert "85.7%" in html and "甲区2号小区" not in html and "chart.umd.min.js" in html
    assert "缴费率 = " in html


def test_rate_text_never_divides_by_zero():
    assert payments.rate_text(0, 0) == "—" and payments.rate_value(5, 0) is None
    assert payments.rate_text(7, 8) == "87.5%" and payments.rate_text(1, 3) == "33.3%"
    assert payments.rate_text(2, 3) == "66.7%"


def test_rates_are_the_decimal_half_up_rounding():
    """rate_text and rate_value in integers: the same as Decimal's ROUND_HALF_UP to 0.1 %."""
    from decimal import ROUND_HALF_UP, Decimal
    import random
    rng = random.Random(7)
    cases = [(1, 2000), (1, 1999), (3, 2000), (-1, 2000), (-1, 100000), (0, 5), (5, 5), (7, 3), (1, 8)]
    cases += [(rng.randint(-10**6, 10**9), rng.randint(1, 10**9)) for _ in range(3000)]
    for collected, billed in cases:
        pct = (Decimal(collected) * 100 / Decimal(billed)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert payments.rate_text(collected, billed) == f"{pct}%", (collected, billed)
        assert repr(payments.rate_value(collected, billed)) == repr(float(pct)), (collected, billed)


def test_pages_answer_every_role(app, client, world, frozen):
    a = world["alpha"]
    make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 1000)])
    for user in ("alpha-district", "alpha-street", "alpha-community", "alpha-firm", "alpha-committee",
                 "alpha-assessor"):
        login(client, user)
        for url in ("/d/alpha/fees/arrears", "/d/alpha/fees/collection", "/d/alpha/fees/arrears.xlsx"):
            assert client.get(url).status_code == 200, (user, url)
    # The assessor sees no bills at all.
    html = client.get("/d/alpha/fees/arrears").get_data(as_text=True)
    assert "目前没有欠费住户" in html


def test_paid_on_today_is_accepted_in_shanghai_time(app, client, world, frozen):
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 1000)])
    login(client, "alpha-firm")
    assert post(client, pay_url(bill), good(amount="1", paid_on=str(TODAY))).status_code == 302
    assert post(client, pay_url(bill), good(amount="1", receipt_no="X-2",
                                            paid_on=str(TODAY + timedelta(days=1)))).status_code == 422


def test_lists_cost_the_same_queries_for_more_rows(app, client, world, frozen):
    """Arrears, collection, a household's bills and claims: no query per row."""
    from wuye_saas.fees.models import SubsidyClaim

    from .test_queries import count_queries
    a = world["alpha"]
    login(client, "alpha-district")
    urls = ["/d/alpha/fees/arrears", "/d/alpha/fees/collection", "/d/alpha/fees/claims/",
            f"/d/alpha/fees/households/{a.household1}/bills"]

    def grow(n, year):
        """n more households billed in June, n more bills of household 1, n more claims."""
        hh = [add_household(app, a, 1, f"{year}-{i}") for i in range(n)]
        ids = make_bills(app, a, [(h, 1, date(2026, 6, 1), 10, 0, 100) for h in hh]
                         + [(a.household1, 1, date(year, i + 1, 1), 10, 0, 100) for i in range(n)])
        for b in ids[: n // 2]:
            add_payment(app, a, b, 50, f"Q{b}")
        with app.app_context(), tenant_scope(a.tenant_id):
            # Claims of distinct compounds: a lazy load per row would show as more queries.
            comps = [m.Compound(community_id=a.community1, name=f"{year}苑{i}", compound_type="商品房",
                                management_mode="专业物业") for i in range(n)]
            db.session.add_all(comps)
            db.session.flush()
            db.session.add_all([SubsidyClaim(compound_id=c.id, firm_id=a.firm1, month=date(year, 1, 1),
                                             amount_fen=1, bill_count=1) for c in comps])
            db.session.commit()

    grow(2, 2024)
    with count_queries(app) as small:
        for url in urls:
            assert client.get(url).status_code == 200
    grow(6, 2025)
    with count_queries(app) as big:
        for url in urls:
            assert client.get(url).status_code == 200
    assert len(big) == len(small)
