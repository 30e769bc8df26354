"""Subsidy claims (wuye_saas/fees/claims.py and claim_views.py)."""
from __future__ import annotations

import re
from datetime import date
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select, update

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.fees.models import Bill, SubsidyClaim
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_payments import add_credit, add_household, count, make_bills

JUNE = date(2026, 6, 1)


def _bills(app, a):
    """Branch 1 in June: gov parts 1234 + 2000 + 0, one credit note of 234 on the first."""
    hb = add_household(app, a, 1, "102")
    hc = add_household(app, a, 1, "103")
    ids = make_bills(app, a, [(a.household1, 1, JUNE, 1234, 100, 5000), (hb, 1, JUNE, 2000, 0, 3000),
                              (hc, 1, JUNE, 0, 0, 4000), (a.household1, 1, date(2026, 7, 1), 999, 0, 1),
                              (a.household2, 2, JUNE, 7777, 0, 100)])
    add_credit(app, a, ids[0], gov=234)
    return ids


def _claim(app, a, **where):
    with app.app_context(), tenant_scope(a.tenant_id):
        return db.session.execute(select(SubsidyClaim).filter_by(**where)).scalar_one_or_none()


def test_firm_claims_the_sum_of_government_parts(app, client, world):
    a = world["alpha"]
    _bills(app, a)
    login(client, "alpha-firm")
    form = client.get("/d/alpha/fees/claims/new").get_data(as_text=True)
    assert "甲区1号小区" in form and "甲区2号小区" not in form
    resp = post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"})
    assert resp.status_code == 302
    claim = _claim(app, a, compound_id=a.compound1)
    assert (claim.amount_fen, claim.bill_count, claim.firm_id, claim.month, claim.status) == (
        3000, 3, a.firm1, JUNE, "submitted")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="claim-amount">¥30.00' in html and "待审核" in html
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(AuditEvent.id).where(
            AuditEvent.entity == "subsidy_claim", AuditEvent.action == "create")).first()


def test_the_district_sees_what_a_claim_is_made_of_and_a_later_change(app, client, world):
    a = world["alpha"]
    ids = _bills(app, a)
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(update(Bill).where(Bill.id == ids[1]).values(classes="低保户"))
        db.session.commit()
    login(client, "alpha-firm")
    post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"})
    claim = _claim(app, a, compound_id=a.compound1)
    district = app.test_client()
    login(district, "alpha-district")
    html = district.get(f"/d/alpha/fees/claims/{claim.id}").get_data(as_text=True)
    parts = html.split('data-testid="claim-parts"', 1)[1].split("</table>", 1)[0]
    rows = [re.sub(r"<[^>]+>", " ", r).split() for r in re.findall(r"<tr>(.*?)</tr>", parts, re.S)[1:]]
    # By class, the largest government part first; base = gov + firm + resident, gov after credit notes.
    assert rows == [["低保户", "1", "¥50.00", "¥20.00"], ["一般住户", "2", "¥103.34", "¥10.00"],
                    ["合计", "3", "¥153.34", "¥30.00"]]
    assert f"compound={a.compound1}" in parts and "month=2026-06" in parts
    assert 'data-testid="claim-drift"' not in html
    add_credit(app, a, ids[1], gov=500)          # after the firm submitted
    html = district.get(f"/d/alpha/fees/claims/{claim.id}").get_data(as_text=True)
    assert 'data-testid="claim-drift"' in html and "按现有账单可申领 ¥25.00" in html


def test_claim_refused_when_nothing_to_claim_or_already_claimed(app, client, world):
    a = world["alpha"]
    _bills(app, a)
    login(client, "alpha-firm")
    resp = post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-05"})
    assert resp.status_code == 422 and "无可申领的补贴" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-13"})
    assert resp.status_code == 422 and "月份格式应为" in resp.get_data(as_text=True)
    # Another firm's compound is not a choice.
    resp = post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound2, "month": "2026-06"})
    assert resp.status_code == 422
    assert count(app, a, SubsidyClaim) == 0
    assert post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"}).status_code == 302
    resp = post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"})
    assert resp.status_code == 422 and "不能重复申领" in resp.get_data(as_text=True)
    assert count(app, a, SubsidyClaim) == 1


def test_only_the_firm_manager_submits(app, client, world):
    a = world["alpha"]
    _bills(app, a)
    login(client, "alpha-district")
    assert client.get("/d/alpha/fees/claims/new").status_code == 403
    assert post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"}).status_code == 403
    assert count(app, a, SubsidyClaim) == 0


def test_reject_needs_a_reason_then_resubmit_and_approve(app, client, world):
    a = world["alpha"]
    _bills(app, a)
    login(client, "alpha-firm")
    post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"})
    cid = _claim(app, a, compound_id=a.compound1).id
    url = f"/d/alpha/fees/claims/{cid}"
    # The firm may read its claim but not decide it.
    assert "确认审核" not in client.get(url).get_data(as_text=True)
    assert post(client, url, {"decision": "approve"}).status_code == 403
    login(client, "alpha-district")
    assert "确认审核" in client.get(url).get_data(as_text=True)
    resp = post(client, url, {"decision": "reject", "reason": "  "})
    assert resp.status_code == 422 and "退回时必须填写理由" in resp.get_data(as_text=True)
    assert _claim(app, a, id=cid).status == "submitted"
    assert post(client, url, {"decision": "reject", "reason": "账单面积待核实"}).status_code == 302
    claim = _claim(app, a, id=cid)
    assert (claim.status, claim.reason) == ("rejected", "账单面积待核实") and claim.decided_at
    # Decided once: a second decision is refused.
    assert post(client, url, {"decision": "approve"}).status_code == 422
    assert _claim(app, a, id=cid).status == "rejected"
    # The firm resubmits (after another credit note): same row, amounts recomputed.
    add_credit(app, a, _bills_first(app, a), gov=1000)
    login(client, "alpha-firm")
    assert post(client, "/d/alpha/fees/claims/new", {"compound_id": a.compound1, "month": "2026-06"}).status_code == 302
    claim = _claim(app, a, id=cid)
    assert (claim.status, claim.amount_fen, claim.reason, claim.decided_at) == ("submitted", 2000, "", None)
    login(client, "alpha-district")
    assert post(client, url, {"decision": "approve", "reason": ""}).status_code == 302
    assert _claim(app, a, id=cid).status == "approved"
    resp = post(client, url, {"decision": "reject", "reason": "再退回"})
    assert resp.status_code == 422 and "已审核" in resp.get_data(as_text=True)
    assert _claim(app, a, id=cid).status == "approved"
    with app.app_context(), tenant_scope(a.tenant_id):
        changes = db.session.execute(select(AuditEvent.changes).where(
            AuditEvent.entity == "subsidy_claim", AuditEvent.action == "update")
            .order_by(AuditEvent.id)).scalars().all()
        assert [c["status"]["after"] for c in changes] == ["rejected", "submitted", "approved"]


def _bills_first(app, a) -> int:
    from wuye_saas.fees.models import Bill
    with app.app_context(), tenant_scope(a.tenant_id):
        return db.session.execute(select(Bill.id).where(Bill.household_id == a.household1, Bill.month == JUNE)).scalar_one()


def _two_firm_claims(app, a):
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add_all([
            SubsidyClaim(compound_id=a.compound1, firm_id=a.firm1, month=JUNE, amount_fen=300000, bill_count=12,
                         status="approved"),
            SubsidyClaim(compound_id=a.compound2, firm_id=a.firm2, month=JUNE, amount_fen=12345, bill_count=3,
                         status="approved"),
            SubsidyClaim(compound_id=a.compound1, firm_id=a.firm1, month=date(2026, 5, 1), amount_fen=100,
                         bill_count=1, status="submitted"),
        ])
        db.session.commit()
        return db.session.execute(select(SubsidyClaim.id).order_by(SubsidyClaim.id)).scalars().all()


def test_a_firm_sees_only_its_own_claims(app, client, world):
    a = world["alpha"]
    own, other, _ = _two_firm_claims(app, a)
    login(client, "alpha-firm")
    html = client.get("/d/alpha/fees/claims/").get_data(as_text=True)
    assert "甲区1号小区" in html and "甲区第2物业公司" not in html
    assert 'data-testid="claims-total">¥3,001.00' in html
    assert client.get(f"/d/alpha/fees/claims/{own}").status_code == 200
    assert client.get(f"/d/alpha/fees/claims/{other}").status_code == 404
    login(client, "beta-district")
    assert client.get(f"/d/beta/fees/claims/{own}").status_code == 404


def test_finance_list_filters_and_excel_export_with_totals(app, client, world):
    a = world["alpha"]
    _two_firm_claims(app, a)
    login(client, "alpha-district")
    html = client.get("/d/alpha/fees/claims/?status=approved&month=2026-06").get_data(as_text=True)
    assert 'data-testid="claims-total">¥3,123.45' in html and "甲区第2物业公司" in html
    html = client.get(f"/d/alpha/fees/claims/?firm={a.firm2}").get_data(as_text=True)
    assert 'data-testid="claims-total">¥123.45' in html
    html = client.get("/d/alpha/fees/claims/?status=rejected").get_data(as_text=True)
    assert "没有符合条件的补贴申领" in html
    resp = client.get("/d/alpha/fees/claims/export.xlsx?status=approved")
    assert resp.status_code == 200
    rows = list(load_workbook(BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("月份", "小区", "物业企业", "账单数", "申领金额（元）", "状态")
    body = sorted(r[:6] for r in rows[1:-1])
    assert body == [("2026-06", "甲区1号小区", "甲区第1物业公司", 12, 3000, "已核准"),
                    ("2026-06", "甲区2号小区", "甲区第2物业公司", 3, 123.45, "已核准")]
    assert rows[-1][0] == "合计" and rows[-1][3] == 15 and rows[-1][4] == 3123.45
    # Money is a number with a 元 format, the count a plain number.
    sheet = load_workbook(BytesIO(resp.data)).active
    assert sheet["E2"].data_type == "n" and sheet["E2"].number_format == '#,##0.00"元"'
    assert sheet.cell(sheet.max_row, 5).number_format == '#,##0.00"元"' and sheet["D2"].number_format == "General"
    # The firm's export holds only its own claims.
    login(client, "alpha-firm")
    rows = list(load_workbook(BytesIO(client.get("/d/alpha/fees/claims/export.xlsx").data)).active.iter_rows(values_only=True))
    assert {r[2] for r in rows[1:-1]} == {"甲区第1物业公司"} and rows[-1][4] == 3001
