"""The demo district's recent money: three months of bills issued by the real billing run,
most of them paid (fewer for the latest month, as in practice), and the state firm's subsidy
claims for the 国资托管 compounds. Runs after the district itself is committed."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select, update

from .. import audit
from ..evaluation import cycles
from ..extensions import db
from ..fees import billing, claims, sums
from ..fees.models import Bill, BillingRun, Payment
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import SHANGHAI, today

# Share of households that have paid, by how many months ago the bill is (最近一个月缴得最少).
PAID_SHARE = {3: 0.93, 2: 0.88, 1: 0.64}
METHODS = ["微信", "微信", "支付宝", "现金", "银行转账", "POS刷卡"]


def _months_back(n: int, now: date) -> date:
    first = now.replace(day=1)
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def bill_recent_months(tenant_id: int, months: int = 3, seed: int = 1151) -> dict:
    """Issue bills for the last `months` complete months, and at least back to the start of the
    finished quarter (its published 季测评 releases the holdback of all three months), record
    payments and claims. Commits (the billing run commits per chunk)."""
    rng, now = random.Random(seed), today()
    start = cycles.suggest("quarterly", now)["period_start"]
    months = max(months, (now.year - start.year) * 12 + now.month - start.month)
    counts = {"bills": 0, "payments": 0, "claims": 0}
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        for back in range(months, 0, -1):
            month = _months_back(back, now)
            run = billing.create_run(billing.Scope("district", None, "全区"), month)
            outcome = billing.run_billing(run.id)
            _issued_on_the_first(run.id, month)
            counts["bills"] += outcome["issued"]
            counts["payments"] += _payments(month, PAID_SHARE.get(back, 0.9), rng, now)
            counts["claims"] += _claims(month, approved=back > 1)
            db.session.commit()
    return counts


def _issued_on_the_first(run_id: int, month: date) -> None:
    """The run happened today; in the story it happened on the month's first morning, before
    anyone paid (a bill paid before it was issued would puzzle whoever opens it)."""
    issued = datetime.combine(month, time(9), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
    db.session.execute(update(Bill).where(Bill.month == month).values(issued_at=issued))
    db.session.execute(update(BillingRun).where(BillingRun.id == run_id).values(created_at=issued))


def _payments(month: date, share: float, rng: random.Random, now: date) -> int:
    bills = db.session.execute(select(Bill.id, Bill.resident_fen).where(
        Bill.month == month, Bill.resident_fen > 0).order_by(Bill.id)).all()
    rows, n = [], 0
    last_day = min(now - timedelta(days=1), (month + timedelta(days=62)).replace(day=1))
    for bill_id, owed in bills:
        if rng.random() >= share:
            continue
        n += 1
        # A few pay part now and the rest later: the demo's arrears have partial cases.
        amount = owed if rng.random() > 0.04 else owed // 2
        paid_on = month + timedelta(days=rng.randint(0, max(0, (last_day - month).days)))
        rows.append({"bill_id": bill_id, "amount_fen": amount, "method": rng.choice(METHODS),
                     "receipt_no": f"SK{month:%Y%m}-{n:06d}", "paid_on": paid_on,
                     "tenant_id": current_tenant_id()})
    for i in range(0, len(rows), 5000):
        db.session.execute(insert(Payment), rows[i:i + 5000])
    sums.refresh_month(month)
    audit.record_event("create", "payment", f"演示缴费 {len(rows)} 笔（{month:%Y年%m月}账单）",
                       changes={"payments": len(rows), "month": month.isoformat()})
    return len(rows)


def _claims(month: date, approved: bool) -> int:
    """The firms claim the government part of each compound where there is one."""
    rows = db.session.execute(select(Bill.firm_id, Bill.compound_id).where(
        Bill.month == month, Bill.gov_fen > 0, Bill.firm_id.is_not(None))
        .group_by(Bill.firm_id, Bill.compound_id)).all()
    n = 0
    for firm_id, compound_id in rows:
        claim, errors = claims.create_claim(firm_id, compound_id, month)
        if claim is None:
            continue
        if approved:
            claims.decide(claim, True, "")
        n += 1
    return n
