"""Billing runs, bills and credit notes: hand-computed parts, idempotency, resuming after an
interrupted run, class changes, who may bill and see what, bad input writing nothing."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.extensions import db
from wuye_saas.fees import billing
from wuye_saas.fees.models import (
    Bill, BillingRun, CreditNote, FeeAssignment, FeeConcession, FeePolicy, FeePolicyGrade,
)
from wuye_saas.jobs import JobRun
from wuye_saas.org import models as m
from wuye_saas.tenancy import system_scope, tenant_scope

from .helpers import login, post, wait_for_job

FEB, MAR = date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture
def fees(app, world):
    """Alpha's compound 1 gets two more households (one 低保), both compounds a policy:
    二级 0.85 元/㎡·月, government 20 %, 低保 concession 50 %."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(m.HouseholdClassLink(household_id=a.household1, household_class_id=a.household_class,
                                            valid_from=date(2030, 1, 1)))  # not yet: never applies here
        b = m.Household(compound_id=a.compound1, building_id=a.building1, room="102", floor_area=Decimal("60.33"),
                        owner_name="李四", household_code="ALB")
        c = m.Household(compound_id=a.compound1, building_id=a.building1, room="201", floor_area=Decimal("101.07"),
                        owner_name="王五", household_code="ALC")
        db.session.add_all([b, c])
        db.session.flush()
        db.session.add(m.HouseholdClassLink(household_id=b.id, household_class_id=a.household_class,
                                            valid_from=date(2024, 1, 1)))
        policy = FeePolicy(name="潞州老旧小区收费政策", status="active", valid_from=date(2024, 1, 1), basis="per_m2",
                           gov_mode="percent", gov_percent=Decimal("20"),
                           grades=[FeePolicyGrade(grade="二级", rate=Decimal("0.85"))],
                           concessions=[FeeConcession(household_class_id=a.household_class, percent=Decimal("50"))])
        db.session.add(policy)
        db.session.flush()
        policy.family_id = policy.id
        for cid in (a.compound1, a.compound2):
            db.session.add(FeeAssignment(compound_id=cid, family_id=policy.id, valid_from=date(2024, 1, 1)))
        db.session.commit()
        return {"a": a, "policy": policy.id, "hA": a.household1, "hB": b.id, "hC": c.id}


def start(client, month: str, scope: str):
    return post(client, "/d/alpha/fees/runs/new", {"month": month, "scope": scope})


def finish(app, resp) -> int:
    """The BillingRun id the redirect names, once its job has finished."""
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    br_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context(), system_scope():
        job_id = db.session.execute(select(BillingRun.job_run_id).where(BillingRun.id == br_id)).scalar_one()
    job = wait_for_job(app, job_id)
    assert job["status"] == "done", job
    return br_id


def parts(app, tid, month) -> dict:
    with app.app_context(), tenant_scope(tid):
        rows = db.session.execute(select(Bill.household_id, Bill.base_fen, Bill.gov_fen, Bill.firm_fen,
                                         Bill.resident_fen, Bill.classes).where(Bill.month == month)).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def counts(app, tid) -> tuple[int, int, int]:
    with app.app_context(), tenant_scope(tid):
        return tuple(db.session.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (Bill, BillingRun, JobRun))


def test_compound_run_gives_hand_computed_parts(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    br = finish(app, start(client, "2025-02", f"compound:{a.compound1}"))
    got = parts(app, a.tenant_id, FEB)
    # A 88.50 ㎡: base 75.225 → 7523 分; gov 1504.6 / resident 6018.4 → the remainder goes to gov.
    # B 60.33 ㎡ 低保: base 5128; gov 1025.6, firm 2051.2, resident 2051.2 → gov gets the spare 分.
    # C 101.07 ㎡: base 8591; gov 1718.2, resident 6872.8 → resident gets it.
    assert got == {fees["hA"]: (7523, 1505, 0, 6018, ""),
                   fees["hB"]: (5128, 1026, 2051, 2051, "低保"),
                   fees["hC"]: (8591, 1718, 0, 6873, "")}
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, br)
        assert (run.issued, run.existing, run.skipped) == (3, 0, {})
        assert db.session.get(FeePolicy, fees["policy"]).frozen is True
        events = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "billing_run",
                                                             AuditEvent.entity_id == br)).scalars().all()
        summary = [e for e in events if "开具账单" in e.label]
        assert len(summary) == 1 and summary[0].changes["issued"] == 3
    page = client.get(f"/d/alpha/fees/runs/{br}").get_data(as_text=True)
    assert "¥212.42" in page  # 7523 + 5128 + 8591 分
    bill_id = next(iter(_bill_ids(app, a.tenant_id, fees["hB"])))
    detail = client.get(f"/d/alpha/fees/bills/{bill_id}").get_data(as_text=True)
    assert "¥51.28" in detail and "¥20.51" in detail and "低保" in detail and "潞州老旧小区收费政策" in detail


def _bill_ids(app, tid, household_id):
    with app.app_context(), tenant_scope(tid):
        return db.session.execute(select(Bill.id).where(Bill.household_id == household_id)
                                  .order_by(Bill.month)).scalars().all()


def test_running_a_month_twice_changes_nothing(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    first = finish(app, start(client, "2025-02", "district"))
    before = parts(app, a.tenant_id, FEB)
    second = finish(app, start(client, "2025-02", "district"))
    assert parts(app, a.tenant_id, FEB) == before and len(before) == 4
    with app.app_context(), tenant_scope(a.tenant_id):
        r1, r2 = db.session.get(BillingRun, first), db.session.get(BillingRun, second)
        assert (r1.issued, r1.existing) == (4, 0)
        assert (r2.issued, r2.existing) == (0, 4)
        assert billing.run_totals(second)["count"] == 0


def test_interrupted_run_is_completed_by_the_next(app, client, fees, monkeypatch):
    a = fees["a"]
    real = billing.bill_chunk
    calls = []

    def dies_on_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args)

    # One chunk per compound; the second dies after the first chunk has been committed.
    monkeypatch.setattr(billing, "CHUNK_HOUSEHOLDS", 1)
    monkeypatch.setattr(billing, "bill_chunk", dies_on_second_chunk)
    with app.app_context(), tenant_scope(a.tenant_id):
        br = billing.create_run(billing.Scope("district", None, "全区"), FEB)
        db.session.commit()
        with pytest.raises(RuntimeError):
            billing.run_billing(br.id)
        db.session.rollback()
    assert set(parts(app, a.tenant_id, FEB)) == {fees["hA"], fees["hB"], fees["hC"]}
    monkeypatch.undo()

    login(client, "alpha-district")
    again = finish(app, start(client, "2025-02", "district"))
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, again)
        assert (run.issued, run.existing) == (1, 3)
        per_household = db.session.execute(select(Bill.household_id, func.count()).where(Bill.month == FEB)
                                           .group_by(Bill.household_id)).all()
    assert sorted(n for _, n in per_household) == [1, 1, 1, 1]
    assert parts(app, a.tenant_id, FEB)[a.household2] == (7523, 1505, 0, 6018, "")


def test_a_run_s_chunks_start_small_and_double_without_splitting_a_compound():
    """The first chunk is small (its sums are refreshed before any statistics exist), each next
    one twice the last up to the most; a compound is never split, however large."""
    from types import SimpleNamespace as P
    plans = [P(id=i, households=n) for i, n in enumerate([600, 600, 600, 600, 900, 900, 900, 900, 900, 5000, 700, 700])]
    sizes = [[p.households for p in batch] for batch in billing.chunks(plans, first=1000, most=3000)]
    assert sizes == [[600], [600, 600, 600], [900, 900, 900], [900, 900], [5000], [700, 700]]
    assert [p.id for batch in billing.chunks(plans, first=1000, most=3000) for p in batch] == list(range(12))


def test_a_run_refreshes_the_month_s_statistics_as_it_doubles_and_the_whole_table_s_at_the_end(app, fees,
                                                                                                  monkeypatch):
    """Mid-run the statistics of the month's own bills (its partition on PostgreSQL: not every
    month of the district again through the parent), of the kept rows as they grow; at the end
    the bills' table as a whole, which the lists and the sums across months are planned from."""
    a = fees["a"]
    calls = []
    monkeypatch.setattr(billing, "refresh_statistics", lambda *tables: calls.append(tables))
    monkeypatch.setattr(billing, "STATISTICS_AFTER", 1)
    monkeypatch.setattr(billing, "FIRST_CHUNK", 1)
    with app.app_context(), tenant_scope(a.tenant_id):
        br = billing.create_run(billing.Scope("district", None, "全区"), FEB)
        db.session.commit()
        assert billing.run_billing(br.id)["issued"] == 4
        db.session.commit()
        on_pg = db.engine.dialect.name == "postgresql"
    month = "bill_y2025m02" if on_pg else "bill"
    kept = ("owed_bill", "household_owed", "compound_owed")
    # chunks of one compound each (3 households, then 1): 3 issued ≥ twice none, 4 < twice 3
    assert calls == [(month, *kept), ("bill", *kept)]


def test_the_cycle_collector_is_off_only_while_a_chunk_runs(app, fees, monkeypatch):
    """A chunk runs with Python's cycle collector paused (speed); it is on again after each
    chunk, also after one that failed."""
    import gc
    seen = []
    real = billing.bill_chunk

    def chunk(*args):
        seen.append(gc.isenabled())
        return real(*args)
    monkeypatch.setattr(billing, "bill_chunk", chunk)
    with app.app_context(), tenant_scope(fees["a"].tenant_id):
        br = billing.create_run(billing.Scope("district", None, "全区"), FEB)
        db.session.commit()
        billing.run_billing(br.id)
        db.session.commit()
        assert seen and not any(seen) and gc.isenabled()
        monkeypatch.setattr(billing, "bill_chunk", lambda *a: 1 / 0)
        br = billing.create_run(billing.Scope("district", None, "全区"), MAR)
        db.session.commit()
        with pytest.raises(ZeroDivisionError):
            billing.run_billing(br.id)
        db.session.rollback()
    assert gc.isenabled()


def test_the_government_cap_holds_for_households_billed_late(app, client, fees):
    """Compound 1 under a cap of 30.00 元: A, B and C share it (their exact parts 1504.6,
    1025.6 and 1718.2 are above it). D, registered after the month was billed, gets none of
    it; E, after a credit note gave 5.00 of A's government part back, gets those 5.00."""
    a = fees["a"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.get(FeePolicy, fees["policy"]).gov_cap_fen = 3000
        db.session.commit()
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", f"compound:{a.compound1}"))
    first = parts(app, a.tenant_id, FEB)
    # 3000 in proportion: 1062.47, 724.23, 1213.30 → the spare 分 to A (largest remainder).
    assert [first[fees[h]][1] for h in ("hA", "hB", "hC")] == [1063, 724, 1213]

    def register(room, area):
        with app.app_context(), tenant_scope(a.tenant_id):
            h = m.Household(compound_id=a.compound1, building_id=a.building1, room=room,
                            floor_area=Decimal(area), owner_name="新住户", household_code=f"ALX{room}")
            db.session.add(h)
            db.session.commit()
            return h.id

    hD = register("301", "50.00")
    br = finish(app, start(client, "2025-02", f"compound:{a.compound1}"))
    assert parts(app, a.tenant_id, FEB)[hD] == (4250, 0, 0, 4250, "")
    with app.app_context(), tenant_scope(a.tenant_id):
        assert (db.session.get(BillingRun, br).issued, db.session.get(BillingRun, br).existing) == (1, 3)
        billing.issue_credit(db.session.get(Bill, _bill_ids(app, a.tenant_id, fees["hA"])[0]), {"gov": 500}, "面积更正")
        db.session.commit()
    hE = register("302", "100.00")
    finish(app, start(client, "2025-02", "district"))
    assert parts(app, a.tenant_id, FEB)[hE] == (8500, 500, 0, 8000, "")
    with app.app_context(), tenant_scope(a.tenant_id):
        gov = db.session.execute(select(func.sum(Bill.gov_fen)).where(
            Bill.month == FEB, Bill.compound_id == a.compound1)).scalar_one()
        credited = db.session.execute(select(func.sum(CreditNote.gov_fen))).scalar_one()
    assert gov - credited == 3000


def test_class_change_applies_from_its_month_not_to_issued_bills(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", f"compound:{a.compound1}"))
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.add(m.HouseholdClassLink(household_id=fees["hC"], household_class_id=a.household_class,
                                            valid_from=date(2025, 3, 10)))
        db.session.commit()
    finish(app, start(client, "2025-02", f"compound:{a.compound1}"))  # re-run: February untouched
    finish(app, start(client, "2025-03", f"compound:{a.compound1}"))
    assert parts(app, a.tenant_id, FEB)[fees["hC"]] == (8591, 1718, 0, 6873, "")
    # March: gov 1718.2, firm 3436.4, resident 3436.4 → the spare 分 goes to the earlier tie (firm).
    assert parts(app, a.tenant_id, MAR)[fees["hC"]] == (8591, 1718, 3437, 3436, "低保")


def test_skipped_compounds_are_named_with_their_reason(app, client, fees):
    a = fees["a"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(FeeAssignment.__table__.delete().where(FeeAssignment.compound_id == a.compound2))
        db.session.commit()
    login(client, "alpha-district")
    br = finish(app, start(client, "2025-02", "district"))
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, br)
        assert (run.issued, run.skipped) == (3, {billing.SKIP_NO_ASSIGNMENT: 1})
    page = client.get(f"/d/alpha/fees/runs/{br}").get_data(as_text=True)
    assert billing.SKIP_NO_ASSIGNMENT in page and "甲区2号小区" in page
    # Before the contracts start (2024-01-01): every compound skipped, nothing billed.
    br2 = finish(app, start(client, "2023-06", "district"))
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, br2)
        assert (run.issued, run.skipped) == (0, {billing.SKIP_NO_CONTRACT: 2})


def test_firm_bills_only_its_own_compounds(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", f"compound:{a.compound2}"))
    other_bill = _bill_ids(app, a.tenant_id, a.household2)[0]

    client2 = app.test_client()
    login(client2, "alpha-firm")
    assert start(client2, "2025-02", f"compound:{a.compound2}").status_code == 404
    assert counts(app, a.tenant_id)[1] == 1  # only the district's run
    br = finish(app, start(client2, "2025-02", "firm"))
    got = parts(app, a.tenant_id, FEB)
    assert set(got) == {fees["hA"], fees["hB"], fees["hC"], a.household2}
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, br)
        assert (run.scope_kind, run.scope_id, run.issued) == ("firm", a.firm1, 3)
    assert client2.get(f"/d/alpha/fees/runs/{br}").status_code == 200
    with app.app_context(), tenant_scope(a.tenant_id):
        job_id = db.session.get(BillingRun, br).job_run_id
    assert client2.get(f"/d/alpha/jobs/{job_id}").status_code == 200  # its own progress card
    client4 = app.test_client()
    login(client4, "alpha-committee")
    assert client4.get(f"/d/alpha/jobs/{job_id}").status_code == 404
    assert client4.get(f"/d/alpha/fees/runs/{br}").status_code == 404
    assert client2.get(f"/d/alpha/fees/bills/{other_bill}").status_code == 404
    assert client2.get(f"/d/alpha/fees/bills/{other_bill}/credit").status_code == 404
    listing = client2.get("/d/alpha/fees/bills/?month=2025-02").get_data(as_text=True)
    assert "甲区2号小区" not in listing and "筛选合计 3 张" in listing
    # Its own compound, started by the firm: visible on its runs page.
    br2 = finish(app, start(client2, "2025-03", f"compound:{a.compound1}"))
    assert client2.get(f"/d/alpha/fees/runs/{br2}").status_code == 200
    # Beta's district never sees alpha's bills.
    client3 = app.test_client()
    login(client3, "beta-district")
    assert client3.get(f"/d/beta/fees/bills/{other_bill}").status_code == 404


@pytest.mark.parametrize("month, scope, message", [
    ("2025-13", "district", "月份格式应为"),
    ("二月", "district", "月份格式应为"),
    ("", "district", "请填写账单月份"),
    ("2099-01", "district", "之后的月份开具账单"),
    ("2025-02", "street:999999", "所选范围不存在"),
    ("2025-02", "nowhere", "所选范围不存在"),
])
def test_bad_run_input_writes_nothing(app, client, fees, month, scope, message):
    login(client, "alpha-district")
    resp = start(client, month, scope)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert counts(app, fees["a"].tenant_id) == (0, 0, 0)


def test_foreign_street_is_refused(app, client, world, fees):
    login(client, "alpha-district")
    resp = start(client, "2025-02", f"street:{world['beta'].street1}")
    assert resp.status_code == 422 and "所选范围不存在" in resp.get_data(as_text=True)
    assert counts(app, fees["a"].tenant_id) == (0, 0, 0)


def test_firm_month_without_its_contract_is_refused(app, client, fees):
    login(client, "alpha-firm")
    resp = start(client, "2023-06", f"compound:{fees['a'].compound1}")
    assert resp.status_code == 422 and "没有与本公司的有效合同" in resp.get_data(as_text=True)
    assert counts(app, fees["a"].tenant_id) == (0, 0, 0)


def test_bill_list_filters_search_and_totals(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    html = client.get("/d/alpha/fees/bills/?month=2025-02").get_data(as_text=True)
    assert "筛选合计 4 张" in html and "¥287.65" in html  # 7523 + 5128 + 8591 + 7523
    html = client.get("/d/alpha/fees/bills/?q=李四").get_data(as_text=True)
    assert "筛选合计 1 张" in html and "¥51.28" in html
    html = client.get(f"/d/alpha/fees/bills/?compound={a.compound2}&status=unpaid").get_data(as_text=True)
    assert "筛选合计 1 张" in html
    html = client.get("/d/alpha/fees/bills/?status=paid").get_data(as_text=True)
    assert "没有符合条件的账单" in html
    html = client.get("/d/alpha/fees/bills/?month=2025-2x").get_data(as_text=True)
    assert "月份格式应为" in html and "筛选合计 4 张" in html  # a bad month filters nothing
    # Street staff of branch 1 sees its street's three bills only.
    client2 = app.test_client()
    login(client2, "alpha-street")
    assert "筛选合计 3 张" in client2.get("/d/alpha/fees/bills/").get_data(as_text=True)


def test_page_months_names_the_months_a_page_s_rows_are_in():
    jan, feb, mar = date(2025, 1, 1), FEB, MAR
    months = [(mar, 3), (feb, 0), (jan, 4)]   # newest first; a month of a filter may hold none
    assert billing.page_months(months, 0, 2) == (mar, mar, 0)
    assert billing.page_months(months, 2, 2) == (jan, mar, 2)   # the last of March, the first of January
    assert billing.page_months(months, 3, 2) == (jan, jan, 0)
    assert billing.page_months(months, 6, 2) == (jan, jan, 3)
    assert billing.page_months(months, 7, 2) is None
    assert billing.page_months([], 0, 20) is None


def test_every_page_of_the_bill_list_read_by_its_months_is_the_page_of_all_bills(app, client, fees):
    """The list reads a page from the months its rows are in (found in bill_sum): for every
    page size and page, the same rows in the same order as the page of all the bills."""
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    finish(app, start(client, "2025-03", "district"))
    a = fees["a"]
    with app.app_context(), tenant_scope(a.tenant_id):
        from wuye_saas.auth.models import Membership
        mem = db.session.execute(select(Membership).where(Membership.role == "district_admin")).scalars().first()
        for f in (billing.BillFilters(), billing.BillFilters(compound_id=a.compound1)):
            rows, totals, months = billing.bills_query(mem, f)
            every = [r[0].id for r in db.session.execute(rows).all()]
            assert totals["count"] == len(every) == sum(n for _, n in months) and len(every) >= 6
            for limit in (1, 2, 3, 5):
                for offset in range(0, len(every) + 2):
                    window = billing.page_months(months, offset, limit)
                    if window is None:
                        assert offset >= len(every)
                        continue
                    oldest, newest, skip = window
                    page = db.session.execute(rows.where(Bill.month >= oldest, Bill.month <= newest)
                                              .limit(limit).offset(skip)).all()
                    assert [r[0].id for r in page] == every[offset:offset + limit], (f, limit, offset)
    import re
    html = client.get("/d/alpha/fees/bills/").get_data(as_text=True)
    listed = re.findall(r'/fees/bills/(\d+)">(\d{4}-\d{2})</a>', html)
    assert "筛选合计 8 张" in html and [m for _, m in listed] == ["2025-03"] * 4 + ["2025-02"] * 4
    html = client.get("/d/alpha/fees/bills/?page=3").get_data(as_text=True)
    assert "这一页已超出范围（共 8 张账单）" in html and "/d/alpha/fees/bills/?page=1" in html


def test_credit_notes_cannot_take_a_part_below_zero(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", f"compound:{a.compound1}"))
    bill_id = _bill_ids(app, a.tenant_id, fees["hB"])[0]  # gov 10.26, firm 20.51, resident 20.51
    url = f"/d/alpha/fees/bills/{bill_id}/credit"

    def notes():
        with app.app_context(), tenant_scope(a.tenant_id):
            return db.session.execute(select(CreditNote.gov_fen, CreditNote.firm_fen, CreditNote.resident_fen)
                                      .where(CreditNote.bill_id == bill_id)).all()

    for data, message in [({"resident": "20.52", "reason": "多收"}, "最多还可冲减 ¥20.51"),
                          ({"resident": "5", "reason": ""}, "请填写冲减原因"),
                          ({"resident": "-1", "reason": "x"}, "金额不能为负数"),
                          ({"resident": "1.005", "reason": "x"}, "金额最多两位小数（精确到分）"),
                          ({"reason": "没有金额"}, "请至少填写一项冲减金额"),
                          ({"resident": "NaN", "reason": "x"}, "请填写金额"),
                          ({"gov": "1e20", "reason": "x"}, "请填写金额"),
                          ({"firm": "1000000.01", "reason": "x"}, "金额不能超过 1,000,000 元")]:
        resp = post(client, url, data)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), data
    assert notes() == []
    assert post(client, url, {"resident": "20.00", "gov": "0.26", "reason": "面积更正"}).status_code == 302
    assert notes() == [(26, 0, 2000)]
    resp = post(client, url, {"resident": "0.52", "reason": "再次更正"})
    assert resp.status_code == 422 and "最多还可冲减 ¥0.51" in resp.get_data(as_text=True)
    assert post(client, url, {"resident": "0.51", "reason": "再次更正"}).status_code == 302
    assert len(notes()) == 2
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "credit_note")).scalar_one() == 2
    # Committee members see their compound's bills but cannot issue credit notes.
    client2 = app.test_client()
    login(client2, "alpha-committee")
    assert client2.get(f"/d/alpha/fees/bills/{bill_id}").status_code == 200
    assert post(client2, url, {"resident": "0.01", "reason": "x"}).status_code == 403
    assert len(notes()) == 2


def test_runs_list_newest_first_and_roles(app, client, fees):
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    finish(app, start(client, "2025-03", "district"))
    html = client.get("/d/alpha/fees/runs/").get_data(as_text=True)
    assert html.index("2025-03") < html.index("2025-02")
    client2 = app.test_client()
    login(client2, "alpha-community")
    assert client2.get("/d/alpha/fees/runs/").status_code == 403
    assert client2.get("/d/alpha/fees/runs/new").status_code == 403
    # The firm does not see the district-wide runs: its empty list says where the bills are.
    firm = app.test_client()
    login(firm, "alpha-firm")
    html = firm.get("/d/alpha/fees/runs/").get_data(as_text=True)
    assert "本企业还没有发起过开具批次" in html and "还没有开具过账单" not in html
    assert "/d/alpha/fees/bills/" in html


def test_new_run_form_offers_each_role_its_scopes(app, client, fees):
    a = fees["a"]
    login(client, "alpha-district")
    html = client.get("/d/alpha/fees/runs/new").get_data(as_text=True)
    assert 'value="district"' in html and f'value="street:{a.street2}"' in html
    assert f'value="compound:{a.compound2}"' in html
    client2 = app.test_client()
    login(client2, "alpha-firm")
    html = client2.get("/d/alpha/fees/runs/new").get_data(as_text=True)
    assert 'value="firm"' in html and f'value="compound:{a.compound1}"' in html
    assert f'compound:{a.compound2}"' not in html and 'value="district"' not in html


def test_households_are_named_by_building_and_room(app, client, fees):
    """Room 101 exists in 1号楼 and 2号楼: every page naming a household says which building."""
    a = fees["a"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        b2 = m.Building(compound_id=a.compound1, name="2号楼", floors=6, units=2)
        db.session.add(b2)
        db.session.flush()
        twin = m.Household(compound_id=a.compound1, building_id=b2.id, room="101", floor_area=Decimal("88.50"),
                           owner_name="赵六", household_code="ALD")
        db.session.add(twin)
        db.session.commit()
        twin_id = twin.id
        assert db.session.execute(select(AuditEvent.label).where(
            AuditEvent.entity == "household", AuditEvent.entity_id == twin_id)).scalar_one() == "2号楼 101"
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    with app.app_context(), tenant_scope(a.tenant_id):
        bill_ids = dict(db.session.execute(select(Bill.household_id, Bill.id)).all())
    html = client.get(f"/d/alpha/fees/bills/?compound={a.compound1}").get_data(as_text=True)
    assert f'/bills/{bill_ids[twin_id]}">2号楼 101</a>' in html
    assert f'/bills/{bill_ids[a.household1]}">1号楼 101</a>' in html
    row = next(r for r in html.split("<tr>") if f'/bills/{bill_ids[twin_id]}">2号楼 101</a>' in r)
    assert "<td>甲区1号小区</td>" in row and "<td>赵六</td>" in row      # its compound and owner
    # The search box takes the name as shown.
    for q in ("2号楼 101", "2号楼101"):
        found = client.get("/d/alpha/fees/bills/", query_string={"q": q, "compound": a.compound1}).get_data(as_text=True)
        assert "筛选合计 1 张" in found and f'/bills/{bill_ids[twin_id]}">2号楼 101</a>' in found
    bill_page = client.get(f"/d/alpha/fees/bills/{bill_ids[twin_id]}").get_data(as_text=True)
    assert "<title>账单 2号楼 101 2025-02" in bill_page
    assert "2号楼 101" in client.get(f"/d/alpha/fees/households/{twin_id}/bills").get_data(as_text=True)
    assert "2号楼 101" in client.get(f"/d/alpha/fees/bills/{bill_ids[twin_id]}/pay").get_data(as_text=True)
# --- one run per month and scope; a dead run says so ------------------------------------------

def _held_run(app, a, scope: billing.Scope, month: date, heartbeat_age: int = 0) -> int:
    """A billing run whose job is running (as if on a worker): the BillingRun id."""
    from datetime import timedelta

    from wuye_saas import jobs
    from wuye_saas.fees import jobs as fee_jobs
    from wuye_saas.timeutil import now
    with app.app_context(), tenant_scope(a.tenant_id):
        job = jobs.create_run(fee_jobs.bill_month, "开具账单", lock_key=fee_jobs.lock_key(scope, month))
        br = billing.create_run(scope, month)
        br.job_run_id, job.args, job.actor = job.id, [br.id], "张三"
        job.status, job.progress = "running", 40
        job.heartbeat_at = job.created_at = now() - timedelta(seconds=heartbeat_age)
        db.session.commit()
        return br.id


def test_a_second_run_of_the_same_month_and_scope_is_refused(app, client, fees):
    a = fees["a"]
    held = _held_run(app, a, billing.Scope("compound", a.compound1, "甲区1号小区"), FEB)
    before = counts(app, a.tenant_id)
    login(client, "alpha-district")
    resp = start(client, "2025-02", f"compound:{a.compound1}")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "2025年02月 · 甲区1号小区 的账单正在开具（张三 于" in html
    assert "同一月份和范围同时只能有一个开具任务" in html and f"/d/alpha/fees/runs/{held}" in html
    assert counts(app, a.tenant_id) == before  # nothing written
    # Another month or scope is not held.
    finish(app, start(client, "2025-03", f"compound:{a.compound1}"))
    finish(app, start(client, "2025-02", f"compound:{a.compound2}"))
    # Once the held run has finished, its month and scope can be billed again.
    with app.app_context(), tenant_scope(a.tenant_id):
        job = db.session.get(JobRun, db.session.get(BillingRun, held).job_run_id)
        job.status, job.lock_key = "done", None
        db.session.commit()
    finish(app, start(client, "2025-02", f"compound:{a.compound1}"))


def test_the_database_refuses_two_unfinished_runs_racing_past_the_check(app, fees, monkeypatch):
    """Both requests pass the look-up before either has written: the unique (district,
    lock_key) refuses the second insert, which reports the run that won."""
    from wuye_saas import jobs
    from wuye_saas.fees import jobs as fee_jobs
    a = fees["a"]
    scope = billing.Scope("district", None, "全区")
    held = _held_run(app, a, scope, FEB)
    real, calls = jobs.holder, []

    def first_look_up_misses(key):
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(jobs, "holder", first_look_up_misses)
    with app.test_request_context(), tenant_scope(a.tenant_id):
        with pytest.raises(jobs.Busy) as caught:
            fee_jobs.submit(scope, FEB, None)
        assert fee_jobs.running_run(caught.value.run).id == held
        db.session.rollback()
    assert counts(app, a.tenant_id) == (0, 1, 1)


def test_a_run_whose_worker_died_fails_with_the_reason_and_can_be_resumed(app, client, fees):
    """The worker was killed after the first compound: its row still says running, and its
    heartbeat stopped 10 minutes ago. The pages say 失败 with the reason, stop polling, and
    offer the resume, which bills only the rest."""
    from wuye_saas import jobs
    a = fees["a"]
    held = _held_run(app, a, billing.Scope("district", None, "全区"), FEB, heartbeat_age=600)
    with app.app_context(), tenant_scope(a.tenant_id):
        br = db.session.get(BillingRun, held)
        plans, _ = billing.plan_run(br)
        billing.bill_chunk(br, [p for p in plans if p.id == a.compound1], {})
        db.session.commit()
        job_id = br.job_run_id
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/fees/runs/{held}").get_data(as_text=True)
    assert "失败" in page and "进行中" not in page and jobs.DEAD_WORKER in page
    assert "hx-trigger" not in page  # nothing polls any more
    assert "已完成的 3 张账单已保存" in page and "再次开具（只补开其余住户）" in page
    status = client.get(f"/d/alpha/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="failed"' in status and jobs.DEAD_WORKER in status and "hx-trigger" not in status
    with app.app_context(), tenant_scope(a.tenant_id):
        job = db.session.get(JobRun, job_id)
        assert (job.status, job.lock_key) == ("failed", None)
    # The resume button posts the same month and scope: only compound 2's household is billed.
    again = finish(app, post(client, "/d/alpha/fees/runs/new", {"month": "2025-02", "scope": "district"}))
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, again)
        assert (run.issued, run.existing) == (1, 3)
    assert len(parts(app, a.tenant_id, FEB)) == 4


def test_a_live_run_keeps_running(app, client, fees):
    a = fees["a"]
    held = _held_run(app, a, billing.Scope("district", None, "全区"), FEB, heartbeat_age=30)
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/fees/runs/{held}").get_data(as_text=True)
    assert "进行中" in page and "hx-trigger" in page and "再次开具（只补开" not in page


def test_a_run_counts_only_the_bills_it_inserted(app, fees, monkeypatch):
    """Another run writes compound 1's bills between this run's look-up and its insert (what
    two runs did before they were serialised): this run records and audits 0 for it, not 3."""
    a = fees["a"]
    real = billing._insert_bills

    def other_run_first(rows):
        rows = list(rows)  # the chunk's rows come as a generator
        other = billing.create_run(billing.Scope("compound", a.compound1, "甲区1号小区"), FEB)
        cols = billing.BILL_COLUMNS
        run = cols.index("billing_run_id")
        real([r[:run] + (other.id,) + r[run + 1:] for r in rows])
        return real(rows)

    with app.app_context(), tenant_scope(a.tenant_id):
        br = billing.create_run(billing.Scope("compound", a.compound1, "甲区1号小区"), FEB)
        db.session.commit()
        monkeypatch.setattr(billing, "_insert_bills", other_run_first)
        outcome = billing.run_billing(br.id)
        db.session.commit()
        assert (outcome["issued"], db.session.get(BillingRun, br.id).issued) == (0, 0)
        event = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "billing_run",
                                                            AuditEvent.entity_id == br.id,
                                                            AuditEvent.label.like("%开具账单%"))).scalar_one()
        assert "开具账单 0 张" in event.label and event.changes["issued"] == 0
        assert db.session.execute(select(func.count()).select_from(Bill)).scalar_one() == 3


def test_billing_and_simulation_at_the_largest_bounds_fit_the_columns(app, client, fees):
    """The largest home (10,000 ㎡) at the largest price (100 元/㎡·月) under the largest cap:
    one bill is 10⁸ 分 (INTEGER holds 2.1 × 10⁹) and the sums are exact; a district of 10⁶
    such homes bills 10¹⁴ 分 a month, within BIGINT (9.2 × 10¹⁸) and Python's exact ints."""
    from wuye_saas import formutil
    from wuye_saas.fees.simulate import simulate
    a = fees["a"]
    area, rate = formutil.AREA_M2[1], formutil.RATE_YUAN_M2[1]
    cap_fen = int(formutil.CAP_YUAN[1] * 100)
    with app.app_context(), tenant_scope(a.tenant_id):
        for h in db.session.execute(select(m.Household)).scalars():
            h.floor_area = area
        p = db.session.get(FeePolicy, fees["policy"])
        p.grades[0].rate, p.gov_percent, p.gov_cap_fen = rate, Decimal("100"), cap_fen
        db.session.commit()
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    got = parts(app, a.tenant_id, FEB)
    assert len(got) == 4 and {v[0] for v in got.values()} == {100_000_000}
    assert sum(v[1] for v in got.values()) == 400_000_000  # all government, below the cap per compound
    with app.app_context(), tenant_scope(a.tenant_id):
        r = simulate(db.session.get(FeePolicy, fees["policy"]), "district", None, FEB)
        assert (r.first.base, r.year.base) == (400_000_000, 12 * 400_000_000)
    html = client.get(f"/d/alpha/fees/simulate?policy_id={fees['policy']}&scope=district&month=2025-02")
    assert "¥4,000,000.00" in html.get_data(as_text=True)


# --- two at once, on PostgreSQL (concurrent transactions) ---------------------------------------

def _together(*calls):
    """Run the calls in threads released at the same moment; their results or exceptions."""
    import threading
    barrier, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        try:
            out[i] = fn()
        except Exception as exc:  # noqa: BLE001 — reported to the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def _postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent transactions: run with DATABASE_URL on PostgreSQL")


def test_two_runs_started_together_one_is_refused_on_postgresql(app, fees, monkeypatch):
    from wuye_saas import jobs
    from wuye_saas.fees import jobs as fee_jobs
    _postgresql(app)
    a = fees["a"]
    monkeypatch.setattr(jobs, "start", lambda run: db.session.commit())  # no worker: only the start matters
    scope = billing.Scope("district", None, "全区")

    def submit():
        with app.test_request_context(), tenant_scope(a.tenant_id):
            try:
                return fee_jobs.submit(scope, FEB, None).id
            except jobs.Busy as exc:
                db.session.rollback()
                return exc

    results = _together(submit, submit)
    assert sorted(type(r).__name__ for r in results) == ["Busy", "int"], results
    assert counts(app, a.tenant_id) == (0, 1, 1)


def test_overlapping_runs_at_once_issue_each_bill_once_and_count_their_own_on_postgresql(app, fees):
    """The district and compound 1 billed at the same moment, after a household was
    registered late under a cap: every household billed once, the cap held, and the two
    runs' counts add up to the bills written."""
    _postgresql(app)
    a = fees["a"]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.get(FeePolicy, fees["policy"]).gov_cap_fen = 3000
        br = billing.create_run(billing.Scope("compound", a.compound1, "甲区1号小区"), FEB)
        db.session.commit()
        billing.run_billing(br.id)
        db.session.commit()
        db.session.add(m.Household(compound_id=a.compound1, building_id=a.building1, room="301",
                                   floor_area=Decimal("50.00"), owner_name="新住户", household_code="ALX301"))
        runs = [billing.create_run(billing.Scope("district", None, "全区"), FEB).id,
                billing.create_run(billing.Scope("compound", a.compound1, "甲区1号小区"), FEB).id]
        db.session.commit()

    def bill(run_id):
        def go():
            with app.app_context(), tenant_scope(a.tenant_id):
                outcome = billing.run_billing(run_id)
                db.session.commit()
                return outcome["issued"]
        return go

    issued = _together(bill(runs[0]), bill(runs[1]))
    assert all(isinstance(n, int) for n in issued), issued
    with app.app_context(), tenant_scope(a.tenant_id):
        by_run = dict(db.session.execute(select(Bill.billing_run_id, func.count()).where(Bill.month == FEB)
                                         .group_by(Bill.billing_run_id)).all())
        gov = db.session.execute(select(func.sum(Bill.gov_fen)).where(
            Bill.month == FEB, Bill.compound_id == a.compound1)).scalar_one()
        assert [db.session.get(BillingRun, r).issued for r in runs] == [by_run.get(r, 0) for r in runs] == issued
    assert sum(issued) == 2  # the late household and compound 2's
    assert len(parts(app, a.tenant_id, FEB)) == 5 and gov == 3000
