"""The demo's 酬金制 yearly reports and the committee members' fee payments, planned into the
publication history (demo/publicity.py) like the other publications, each built by the real
content function at its moment:

- every compound served under a 酬金制 contract: the firm's final account of the year the
  schedule judges now and the budget of the year after, published between January and the
  deadline (a few late). The fee ledger holds only the months the demo billed, so these
  accounts are the firm's own figures (entered), drawn from the compound's area and fee rate.
- the demo compound: its committee members linked to units of the compound, the compound
  billed (the real billing run, scoped to it) for the months of the last finished half-year the
  demo did not bill, with payments, and the committee's 委员缴费情况 for that half-year.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..fees import billing
from ..fees.models import Bill
from ..org.models import CommitteeMember, Compound, Household
from ..publicity import publications, reports, schedule
from ..publicity import templates_content as tc
from ..timeutil import SHANGHAI
from .fees import _issued_on_the_first, _payments

# Shares of the year's fee income (酬金制: expenses at cost plus the firm's 酬金).
SPENDING_SHARES = {"staff": 46, "facilities": 14, "cleaning": 10, "greening": 5, "security": 12, "office": 3,
                   "other_spending": 1}
REMUNERATION_SHARE = 8
LATE = 0.15


def _moment(day: date, rng: random.Random, at_now: datetime) -> datetime:
    loc = datetime.combine(day, time(9), SHANGHAI) + timedelta(minutes=rng.uniform(0, 480))
    return min(loc.astimezone(timezone.utc).replace(tzinfo=None), at_now - timedelta(minutes=rng.uniform(1, 30)))


def _figures(area: Decimal, rate: Decimal, collected: float, rng: random.Random) -> reports.Figures:
    billed = int(area * rate * 12 * 100)
    income = int(billed * collected) // 100 * 100
    amounts = {"fee_income": income, "other_income": income * rng.randint(1, 3) // 100 // 100 * 100}
    for name, share in SPENDING_SHARES.items():
        amounts[name] = income * (share * 100 + rng.randint(-share * 10, share * 10)) // 10000 // 100 * 100
    amounts["remuneration"] = income * REMUNERATION_SHARE // 100
    return reports.entered(amounts, income * rng.randint(0, 5) // 100 // 100 * 100)


def plan_remunerated(compounds: dict[int, Compound], firm_user: User | None, demo_firm_id: int, on: date,
                     at_now: datetime) -> list[tuple]:
    """Plan items (see demo/publicity.py) of the 酬金制 yearly reports the schedule judges on `on`."""
    rng = random.Random(4817)
    start, _end, deadline = schedule.due_period("yearly", 90, on)
    year = start.year
    plan = []
    for cid, c in sorted(compounds.items()):
        account_k, budget_k = reports.remunerated_contract(cid, year), reports.remunerated_contract(cid, year + 1)
        if account_k is None or budget_k is None or account_k.firm_id != budget_k.firm_id:
            continue
        k = budget_k
        if rng.random() < LATE:
            day = deadline + timedelta(days=rng.randint(10, 60))
        else:
            day = date(year + 1, 1, 10) + timedelta(days=rng.randint(0, 75))
        day = max(day, k.start_date)
        if day >= on or day > k.end_date:
            continue
        user = firm_user if k.firm_id == demo_firm_id else None
        area = c.area_m2 or Decimal("20000")
        account = _figures(area, k.fee_rate, rng.uniform(0.86, 0.97), rng)
        budget = _figures(area, k.fee_rate, 0.95, rng)
        budget = reports.Figures(account.carried_over, budget.income, budget.spending, budget.remuneration)
        at = _moment(day, rng, at_now)
        for template, y, figures in (("annual_account", year, account), ("annual_budget", year + 1, budget)):
            plan.append((cid, at, _publisher(c, template, y, figures, user, k.firm.name), None,
                         *reports.year_span(y), k.firm.name, user))
            at += timedelta(minutes=3)
    return plan


def _publisher(c: Compound, template: str, year: int, figures: reports.Figures, user, name: str):
    def publish(at: datetime):
        content = reports.annual_report(c.id, template, year, at.date(), figures, "entered")
        start, end = reports.year_span(year)
        return publications.publish(c, template, content, tc.title_for(template, c, start=start, end=end),
                                    user=user, start=start, end=end, at=at,
                                    publisher=getattr(user, "display_name", "") or name)
    return publish


def last_half(on: date) -> tuple[int, int]:
    return (on.year, 1) if on.month > 6 else (on.year - 1, 2)


def prepare_member_fees(compound_id: int, on: date) -> dict:
    """Link the members of the demo compound's committee to units, and bill the compound for the
    months of the last finished half-year nobody in the district was billed for (so the demo's
    payments of those months are this compound's only). Commits (the billing run does)."""
    year, half = last_half(on)
    start, end = reports.half_span(year, half)
    committee = reports.committee_in_office(compound_id, end)
    counts = {"member_units": 0, "member_half_bills": 0}
    if committee is None:
        return counts
    units = db.session.execute(select(Household.id).where(Household.compound_id == compound_id,
                                                          Household.developer_held.is_(False))
                               .order_by(Household.id)).scalars().all()
    members = db.session.execute(select(CommitteeMember).where(CommitteeMember.committee_id == committee.id)
                                 .order_by(CommitteeMember.id)).scalars().all()
    for i, member in enumerate(members):
        if member.household_id is None and units:
            member.household_id = units[(i * 37 + 5) % len(units)]
            counts["member_units"] += 1
    db.session.flush()
    rng = random.Random(6203)
    c = db.session.get(Compound, compound_id)
    month = start
    while month <= end:
        if db.session.execute(select(Bill.id).where(Bill.month == month).limit(1)).first() is None:
            run = billing.create_run(billing.Scope("compound", compound_id, c.name), month)
            counts["member_half_bills"] += billing.run_billing(run.id)["issued"]
            _issued_on_the_first(run.id, month)
            _payments(month, 0.9, rng, on)
            db.session.commit()
        month = billing.next_month(month)
    return counts


def plan_member_fees(c: Compound, chair: User, on: date, at_now: datetime) -> list[tuple]:
    year, half = last_half(on)
    start, end = reports.half_span(year, half)
    if reports.committee_in_office(c.id, end) is None:
        return []
    day = min(end + timedelta(days=9), on - timedelta(days=1))

    def publish(at: datetime):
        content = reports.member_fees(c.id, year, half, at.date())
        return publications.publish(c, "committee_fees", content,
                                    tc.title_for("committee_fees", c, start=start, end=end), user=chair,
                                    start=start, end=end, at=at, publisher=chair.display_name)
    return [(c.id, _moment(day, random.Random(day.toordinal()), at_now), publish, None, start, end,
             chair.display_name, chair)]
