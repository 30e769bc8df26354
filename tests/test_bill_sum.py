"""bill_sum (wuye_saas/fees/sums.py): the bills summed per compound, month and firm, kept by
the writes that change them, always equal to the sums computed from the bills; the pages that
read it (the bill list's totals, 缴费率) show the same figures as before, 缴费率 by compound in
pages of 20."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from wuye_saas.extensions import db
from wuye_saas.fees import payments, sums
from wuye_saas.fees.models import Bill, BillSum, HouseholdOwed
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_billing import fees, finish, start  # noqa: F401  (fixture)
from .test_payments import TODAY, add_credit, add_household, add_payment, frozen, make_bills, pay_url  # noqa: F401


def stored_and_computed(app, tid) -> tuple[list, list]:
    with app.app_context(), tenant_scope(tid):
        cols = [getattr(BillSum, c) for c in sums.COLUMNS]
        stored = sorted(tuple(r) for r in db.session.execute(select(*cols)).all())
        computed = sorted(tuple(int(v) if isinstance(v, int) else v for v in r)
                          for r in db.session.execute(sums.computed(Bill.tenant_id == tid)).all())
    return stored, computed


def assert_exact(app, tid):
    stored, computed = stored_and_computed(app, tid)
    assert stored == computed and stored


def test_kept_exact_through_a_run_payments_and_credit_notes(app, client, fees):  # noqa: F811
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    assert_exact(app, a.tenant_id)
    with app.app_context(), tenant_scope(a.tenant_id):
        bill_id = db.session.execute(select(Bill.id).where(Bill.household_id == fees["hB"])).scalar_one()
        cid = db.session.get(Bill, bill_id).compound_id
    # A credit note and a payment through the pages; then a second run of another month.
    assert post(client, f"/d/alpha/fees/bills/{bill_id}/credit", {"resident": "1.00", "reason": "面积更正"}).status_code == 302
    assert_exact(app, a.tenant_id)
    firm = app.test_client()
    login(firm, "alpha-firm")  # the firm records payments
    assert post(firm, f"/d/alpha/fees/bills/{bill_id}/pay", {
        "amount": "10.00", "method": "现金", "receipt_no": "SUM-1", "paid_on": "2025-02-10"}).status_code == 302
    assert_exact(app, a.tenant_id)
    finish(app, start(client, "2025-03", f"compound:{cid}"))
    stored, _ = stored_and_computed(app, a.tenant_id)
    assert {r[3] for r in stored} == {date(2025, 2, 1), date(2025, 3, 1)}
    assert_exact(app, a.tenant_id)
    with app.app_context(), tenant_scope(a.tenant_id):
        feb = db.session.execute(select(BillSum).where(BillSum.compound_id == cid,
                                                       BillSum.month == date(2025, 2, 1))).scalar_one()
        # hB's bill: resident 2051, 100 credited, 1000 paid (A and C pay nothing yet).
        assert (feb.credited_fen, feb.paid_fen, feb.collected_fen) == (100, 1000, 1000)


def test_a_failed_write_leaves_the_sums_as_they_were(app, client, world, frozen):  # noqa: F811
    a = world["alpha"]
    (bill,) = make_bills(app, a, [(a.household1, 1, date(2026, 7, 1), 0, 0, 8500)])
    before, _ = stored_and_computed(app, a.tenant_id)
    login(client, "alpha-firm")
    resp = post(client, pay_url(bill), {"amount": "85.01", "method": "微信", "receipt_no": "SK1",
                                        "paid_on": "2026-07-10"})
    assert resp.status_code == 422
    after, computed = stored_and_computed(app, a.tenant_id)
    assert after == before == computed


def test_collection_by_compound_in_pages(app, client, world, frozen):  # noqa: F811
    """Three compounds' rates shown two per page: each page its rows in name order, the total
    row always the whole district's; a page past the end shows no rows but the same count."""
    a = world["alpha"]
    june = date(2026, 6, 1)
    extra = add_household(app, a, 2, "301")
    ids = make_bills(app, a, [(a.household1, 1, june, 0, 0, 1000), (a.household2, 2, june, 0, 0, 1000),
                              (extra, 2, june, 0, 0, 1000)])
    add_payment(app, a, ids[0], 1000, "P1")
    add_payment(app, a, ids[1], 500, "P2")
    add_credit(app, a, ids[2], resident=500)
    assert_exact(app, a.tenant_id)
    with app.app_context(), tenant_scope(a.tenant_id):
        from wuye_saas.auth.models import Membership
        admin = db.session.execute(select(Membership).where(Membership.role == "district_admin")).scalar_one()
        _, rows, total, page = payments.collection(admin, TODAY, "compound", page=1, per_page=1)
        assert [(r.label, r.text(june)) for r in rows] == [("甲区1号小区", "100.0%")]
        assert (page.total, page.pages) == (2, 2) and total.text(june) == "60.0%"   # 1500 of 2500
        _, rows, total, page = payments.collection(admin, TODAY, "compound", page=2, per_page=1)
        assert [(r.label, r.text(june)) for r in rows] == [("甲区2号小区", "33.3%")]  # 500 of 1500
        _, rows, total, page = payments.collection(admin, TODAY, "compound", page=3, per_page=1)
        assert rows == [] and page.total == 2 and total.text(june) == "60.0%"
        _, rows, _, page = payments.collection(admin, TODAY, "street", page=1, per_page=1)
        assert len(rows) == 2 and page is None  # streets are few: all on one page
        # A firm's pages hold the compounds it has bills of, counted the same way.
        firm = db.session.execute(select(Membership).where(Membership.role == "firm_manager")).scalar_one()
        _, rows, total, page = payments.collection(firm, TODAY, "compound", page=1, per_page=1)
        assert [(r.label, r.text(june)) for r in rows] == [("甲区1号小区", "100.0%")]
        assert (page.total, page.pages) == (1, 1) and total.text(june) == "100.0%"


def test_a_run_writes_the_kept_rows_of_new_bills_from_them_and_refreshes_them_otherwise(app, fees, monkeypatch):  # noqa: F811
    """On PostgreSQL a chunk whose compounds had no bill of the month writes bill_sum, owed_bill,
    household_owed and compound_owed from the bills it has just COPYed (sums.issued) instead of
    reading them back — the very rows a refresh computes, households already owing from an
    earlier month included. A re-run filling in a deleted bill refreshes (SQLite always does)."""
    from wuye_saas.fees import billing

    from .test_payments_arrears import kept_and_computed
    a, feb, mar = fees["a"], date(2025, 2, 1), date(2025, 3, 1)
    calls = []
    for name in ("issued", "refresh"):
        real = getattr(sums, name)
        monkeypatch.setattr(sums, name, lambda *args, _real=real, _name=name: (calls.append(_name), _real(*args)))

    def run(month):
        calls.clear()
        with app.app_context(), tenant_scope(a.tenant_id):
            br = billing.create_run(billing.Scope("district", None, "全区"), month)
            db.session.commit()
            outcome = billing.run_billing(br.id)
            db.session.commit()
            kept, computed = kept_and_computed(a.tenant_id)
            assert kept == computed and all(kept)
        assert_exact(app, a.tenant_id)
        return outcome["issued"], sorted(set(calls))

    with app.app_context():
        written_from_rows = db.engine.dialect.name == "postgresql"
    fresh = ["issued"] if written_from_rows else ["refresh"]
    assert run(feb) == (4, fresh)
    with app.app_context(), tenant_scope(a.tenant_id):  # every household owes February's bill
        assert db.session.execute(select(func.count()).select_from(HouseholdOwed)).scalar_one() == 4
    assert run(mar) == (4, fresh)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert sorted(db.session.execute(select(HouseholdOwed.owed_fen)).scalars()) == sorted(
            db.session.execute(select(func.sum(Bill.resident_fen)).group_by(Bill.household_id)).scalars())
        gone = db.session.execute(select(Bill).where(Bill.household_id == fees["hB"], Bill.month == mar)).scalar_one()
        db.session.delete(gone)
        db.session.commit()
    assert run(mar) == (1, ["refresh"])


def test_statistics_are_refreshed_on_sqlite_too(app, fees):  # noqa: F811
    """SQLite's planner without statistics looked up each listed bill's payments through the
    district's tenant_id index (every row): the demo's bill list filtered by a month ran for
    minutes. refresh_statistics (after seed-demo and a large run) ANALYZEs SQLite as well."""
    from sqlalchemy import text

    from wuye_saas.extensions import refresh_statistics
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        refresh_statistics("household")
        db.session.commit()
        analysed = {r[0] for r in db.session.execute(text("SELECT tbl FROM sqlite_stat1"))}
        assert analysed == {"household"}
