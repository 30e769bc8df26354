"""The arrears page from its kept rows (owed_bill, household_owed; fees/sums.py): the same list
as computed from every bill with its payments and credit notes — for every role, compound
filter, age bucket and page — after billing runs of several months, partial and full
payments and credit notes; and the kept rows equal to what the bills give."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, select

from wuye_saas import policy
from wuye_saas.auth.models import Membership
from wuye_saas.extensions import db
from wuye_saas.fees import payments, sums
from wuye_saas.fees.models import Bill, CompoundOwed, HouseholdOwed, OwedBill
from wuye_saas.org.models import Building, Compound, Household
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_billing import fees, finish, start  # noqa: F401  (fixture)


def from_the_bills(m, today: date, compound_id: int | None = None, bucket: str | None = None):
    """The arrears list as the page computed it before owed_bill: every visible bill with its
    payments and credit notes, grouped per household."""
    per_bill = payments.balance_select(m, *([Bill.compound_id == compound_id] if compound_id else [])).add_columns(
        Bill.household_id, payments._bucket_of(Bill.month, today).label("bucket"), Bill.month)
    b = per_bill.subquery("b")
    owed = case((b.c.owed > 0, b.c.owed), else_=0)
    per_bucket = {k: func.sum(case((b.c.bucket == k, owed), else_=0)).label(k) for k in payments.BUCKETS}
    stmt = (select(Household.id.label("household_id"), Household.room, Household.owner_name,
                   Building.name.label("building"), Compound.name.label("compound"),
                   func.sum(owed).label("owed"), func.count().label("bills"),
                   func.min(b.c.month).label("oldest"), *per_bucket.values())
            .select_from(b).join(Household, Household.id == b.c.household_id)
            .join(Building, Building.id == Household.building_id)
            .join(Compound, Compound.id == Household.compound_id)
            .where(b.c.owed > 0)
            .group_by(Household.id, Household.room, Household.owner_name, Building.name, Compound.name))
    if bucket in payments.BUCKETS:
        stmt = stmt.having(per_bucket[bucket] > 0)
    return db.session.execute(stmt.order_by(func.sum(owed).desc(), Household.id)).all()


def kept_and_computed(tid) -> tuple[tuple, tuple]:
    """(owed_bill, household_owed, compound_owed) as kept and as computed from the bills."""
    def rows(stmt):
        return sorted(tuple(r) for r in db.session.execute(stmt))
    kept = (rows(select(*[getattr(OwedBill, c) for c in sums.OWED_COLUMNS])),
            rows(select(HouseholdOwed.tenant_id, HouseholdOwed.household_id, HouseholdOwed.compound_id,
                        HouseholdOwed.owed_fen)),
            rows(select(CompoundOwed.tenant_id, CompoundOwed.compound_id, CompoundOwed.households)))
    owed_now = sums.owed_computed(Bill.tenant_id == tid).subquery()
    households_now = (select(owed_now.c.tenant_id, owed_now.c.household_id,
                             func.min(owed_now.c.compound_id).label("compound_id"), func.sum(owed_now.c.owed))
                      .group_by(owed_now.c.tenant_id, owed_now.c.household_id).subquery())
    computed = (rows(select(owed_now)), rows(select(households_now)),
                rows(select(households_now.c.tenant_id, households_now.c.compound_id, func.count())
                     .group_by(households_now.c.tenant_id, households_now.c.compound_id)))
    return kept, computed


def assert_same_as_from_the_bills(app, ns, days: list[date]) -> int:
    """Every membership × compound filter × bucket × day: the page's rows (all, and pages of 2
    with their count) equal the computation from the bills. The number of lists compared that
    had rows."""
    listed = 0
    with app.app_context(), tenant_scope(ns.tenant_id):
        kept, computed = kept_and_computed(ns.tenant_id)
        assert kept == computed
        members = db.session.execute(select(Membership).where(Membership.role.in_(
            ("district_admin", "street_staff", "firm_manager", "committee_member"))).order_by(Membership.id)).scalars().all()
        assert len(members) == 4
        for mem in members:
            policy.visible(mem, Bill)  # the scope is read before the comparisons' statements
            for day in days:
                for compound_id in (None, ns.compound1, ns.compound2):
                    for bucket in (None, *payments.BUCKETS):
                        old = [tuple(r) for r in from_the_bills(mem, day, compound_id, bucket)]
                        new = [tuple(r) for r in payments.arrears_rows(mem, day, compound_id, bucket)]
                        assert new == old, (mem.role, day, compound_id, bucket)
                        for n in (1, 2):
                            page = payments.arrears_page(mem, day, n, per_page=2, compound_id=compound_id,
                                                         bucket=bucket)
                            assert [tuple(r) for r in page.items] == old[(n - 1) * 2:n * 2]
                            assert page.total == len(old)
                        listed += bool(old)
        db.session.rollback()
    return listed


def test_the_kept_arrears_list_equals_the_bills_through_runs_payments_and_credit_notes(app, client, fees):  # noqa: F811
    a = fees["a"]
    days = [date(2025, 4, 15), date(2025, 9, 1)]  # the months fall in every bucket
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    assert assert_same_as_from_the_bills(app, a, days)
    finish(app, start(client, "2025-03", "district"))
    assert_same_as_from_the_bills(app, a, days)
    with app.app_context(), tenant_scope(a.tenant_id):
        bills = {(hh, month): (bid, res) for bid, hh, month, res in db.session.execute(
            select(Bill.id, Bill.household_id, Bill.month, Bill.resident_fen))}
    feb, mar = date(2025, 2, 1), date(2025, 3, 1)
    firm = app.test_client()
    login(firm, "alpha-firm")  # the firm records payments

    def pay(bill_id, fen, receipt):
        assert post(firm, f"/d/alpha/fees/bills/{bill_id}/pay", {
            "amount": f"{fen / 100:.2f}", "method": "现金", "receipt_no": receipt,
            "paid_on": "2025-03-10"}).status_code == 302

    def credit(bill_id, fen):
        assert post(client, f"/d/alpha/fees/bills/{bill_id}/credit",
                    {"resident": f"{fen / 100:.2f}", "reason": "面积更正"}).status_code == 302

    bill_a, due_a = bills[(a.household1, feb)]
    pay(bill_a, 1000, "ARR-1")                       # partly paid
    assert_same_as_from_the_bills(app, a, days)
    bill_b, due_b = bills[(fees["hB"], mar)]
    pay(bill_b, due_b, "ARR-2")                      # paid in full: no longer owed
    credit(bills[(fees["hC"], feb)][0], 500)         # a credit note takes part of it off
    assert_same_as_from_the_bills(app, a, days)
    bill_c, due_c = bills[(fees["hC"], mar)]
    pay(bill_c, due_c - 300, "ARR-3")
    credit(bill_c, 300)                              # the rest credited: nothing owed
    credit(bill_a, due_a - 1000 - 1)                 # one 分 left after a payment and a credit note
    assert_same_as_from_the_bills(app, a, days)
    with app.app_context(), tenant_scope(a.tenant_id):
        # C moves to the other compound (a correction of the register): its next bill is that
        # compound's and its firm's, its earlier ones stay where they were.
        moved = db.session.get(Household, fees["hC"])
        moved.compound_id, moved.building_id = a.compound2, a.building2
        db.session.commit()
    finish(app, start(client, "2025-04", "district"))
    assert assert_same_as_from_the_bills(app, a, days) > 50
    with app.app_context(), tenant_scope(a.tenant_id):
        owed = dict(db.session.execute(select(Bill.id, OwedBill.owed_fen).join(OwedBill, and_(
            OwedBill.household_id == Bill.household_id, OwedBill.month == Bill.month))).all())
        assert owed[bill_a] == 1 and bill_b not in owed and bill_c not in owed
        assert {r.compound_id for r in db.session.execute(select(OwedBill).where(
            OwedBill.household_id == fees["hC"])).scalars()} == {a.compound1, a.compound2}


def test_the_page_and_export_show_the_kept_list(app, client, fees):  # noqa: F811
    a = fees["a"]
    login(client, "alpha-district")
    finish(app, start(client, "2025-02", "district"))
    html = client.get("/d/alpha/fees/arrears").get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        mem = db.session.execute(select(Membership).where(Membership.role == "district_admin")).scalar_one()
        rows = payments.arrears_rows(mem, payments.month_start(date.today()))
    assert rows and all(payments.mask_name(r.owner_name) in html for r in rows)
    assert client.get("/d/alpha/fees/arrears.xlsx?bucket=m6p").status_code == 200
