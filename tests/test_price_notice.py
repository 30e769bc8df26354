"""明码标价: a changed price is posted at least a month before it applies, and billing does not
charge the new price before that (fees/billing.py PRICE_NOTICE_MONTHS)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from wuye_saas.audit import acting_as
from wuye_saas.extensions import db
from wuye_saas.fees import billing
from wuye_saas.fees.models import Bill, BillingRun, FeePolicy, FeePolicyGrade
from wuye_saas.publicity import chain
from wuye_saas.publicity.models import Publication
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_billing import fees, finish, start  # noqa: F401  (fixture)
from .test_publications import STANDING, _new

MAR, APR = date(2025, 3, 1), date(2025, 4, 1)


def _raise_price(app, fees, from_day: date, rate: str) -> None:
    """A new version of the compounds' policy: the 二级 price from `from_day`."""
    a = fees["a"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        old = db.session.get(FeePolicy, fees["policy"])
        old.valid_to = date.fromordinal(from_day.toordinal() - 1)
        db.session.add(FeePolicy(name=old.name, version=2, status="active", valid_from=from_day, basis="per_m2",
                                 family_id=old.id, gov_mode="percent", gov_percent=Decimal("20"),
                                 grades=[FeePolicyGrade(grade="二级", rate=Decimal(rate))]))
        db.session.commit()


def _notice(app, a, compound_id: int, rate: str, at_shanghai: datetime) -> None:
    at_utc = at_shanghai - timedelta(hours=8)   # stored as naive UTC
    with app.app_context(), tenant_scope(a.tenant_id):
        chain.publish(compound_id, "standing_notice", "收费公示",
                      {"template": "standing_notice", "lines": [{"key": "收费标准", "value": f"{rate} 元/㎡·月"}],
                       "price": {"rate": rate, "flat_fen": None}}, at=at_utc, publisher="甲区第1物业公司")
        db.session.commit()


def _billed(app, a, br_id: int) -> tuple[dict, dict]:
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.get(BillingRun, br_id)
        rates = dict(db.session.execute(select(Bill.compound_id, Bill.rate).where(
            Bill.billing_run_id == br_id).distinct()).all())
        return {k: Decimal(v) for k, v in rates.items()}, run.skipped


def test_the_new_price_is_billed_only_a_month_after_its_notice(app, client, fees):
    a = fees["a"]
    _raise_price(app, fees, MAR, "0.95")
    # Both compounds posted the old price long ago. Compound 1 posts the new one on 1 February
    # (Shanghai, just after midnight): exactly a month before 1 March, in time. Compound 2 posts
    # it a day later: too late for March, in time for April.
    _notice(app, a, a.compound1, "0.85", datetime(2024, 12, 1, 9, 0))
    _notice(app, a, a.compound2, "0.85", datetime(2024, 12, 1, 9, 0))
    _notice(app, a, a.compound1, "0.95", datetime(2025, 2, 1, 0, 0, 30))
    _notice(app, a, a.compound2, "0.95", datetime(2025, 2, 2, 0, 0, 30))
    assert billing.notice_deadline(MAR) == date(2025, 2, 1)
    assert billing.notice_deadline(date(2025, 1, 1)) == date(2024, 12, 1)
    login(client, "alpha-district")

    rates, skipped = _billed(app, a, finish(app, start(client, "2025-03", "district")))
    assert (rates, skipped) == ({a.compound1: Decimal("0.95")}, {billing.SKIP_PRICE_NOTICE: 1})
    rates, skipped = _billed(app, a, finish(app, start(client, "2025-04", "district")))
    assert rates == {a.compound1: Decimal("0.95"), a.compound2: Decimal("0.95")}
    assert skipped == {}
    # The month before the change is billed at the old price everywhere.
    rates, skipped = _billed(app, a, finish(app, start(client, "2025-02", "district")))
    assert rates == {a.compound1: Decimal("0.85"), a.compound2: Decimal("0.85")}


def test_without_a_priced_notice_billing_is_not_held(app, client, fees):
    a = fees["a"]
    _raise_price(app, fees, MAR, "0.95")
    login(client, "alpha-district")
    rates, skipped = _billed(app, a, finish(app, start(client, "2025-03", "district")))
    assert rates == {a.compound1: Decimal("0.95"), a.compound2: Decimal("0.95")}
    assert skipped == {}


def test_a_notice_states_the_price_of_its_execution_date(app, client, fees):
    a = fees["a"]
    _raise_price(app, fees, date(2030, 1, 1), "0.95")
    login(client, "alpha-firm")
    resp = post(client, _new(a.compound1, "standing_notice"), {**STANDING, "applies_from": "2030-01-01"})
    assert resp.status_code == 302
    resp = post(client, _new(a.compound1, "standing_notice"), {**STANDING, "applies_from": "2020-01-01"})
    assert resp.status_code == 422 and "执行日期不能早于今天" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        (p,) = db.session.execute(select(Publication)).scalars().all()
        lines = {ln["key"]: ln["value"] for ln in p.content["lines"]}
        assert lines["收费标准"] == "0.95 元/㎡·月" and lines["执行日期"] == "2030年01月01日"
        assert p.content["price"] == {"rate": "0.95", "flat_fen": None}
        assert p.content["applies_from"] == "2030-01-01"
