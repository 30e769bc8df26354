"""Benchmark (PostgreSQL): bill and audit_event partitioned by month, against the same data in
plain tables, built and measured in the same run.

For each schema: a throwaway database (`wuye_bench_part_before` / `_after`, dropped at the
end) migrated to head; for "before", bill and audit_event are then turned back into the plain
tables they were before revision c3f8a1d6e2b9 (that revision's own downgrade, run on the head
schema, plus the bill list's index added after it), so both run today's code. One district of
--households households (bench_billing's seed); one month billed by the real job (timed); the
other --months - 1 months copied from it by SQL (new ids, same households), a payment for 80 %
of all bills and --audit audit events spread over the same months; ANALYZE. Then, timed as the
median of 5:
- a page of a month's bills in the bill list's order (20 rows),
- a month's 缴费率 rows by compound (payments.balance_select for one month, grouped),
- the sums of 12 months' bills with their payments (sums.computed: what bill_sum is kept from),
- the audit log's page for one month (its query with the month's from/to),
and the plans of the first and last show which partitions each touches.

    .venv/bin/python scripts/bench_partitions.py      # --households 50000 --months 24 --audit 1000000
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_billing import seed, timed_run  # noqa: E402
from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

PARTITIONED_BY = "c3f8a1d6e2b9_partitioned_bill_and_audit_event.py"


def month_add(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def fill(tid: int, billed: date, months: int, audit: int) -> date:
    """Copy the billed month to the months before it; payments; audit events. The first month."""
    first = month_add(billed, -(months - 1))
    cols = ("tenant_id, household_id, compound_id, firm_id, policy_id, billing_run_id, area, rate, base_fen,"
            " gov_fen, firm_fen, resident_fen, holdback_fen, classes")
    db.session.execute(text(
        f"INSERT INTO bill ({cols}, month, issued_at) SELECT {cols}, CAST(m AS date), m"
        f" FROM bill, generate_series(CAST(:first AS timestamp), CAST(:last AS timestamp), interval '1 month') m"
        f" WHERE month = :billed"), {"first": first, "last": month_add(billed, -1), "billed": billed})
    db.session.execute(text(
        "INSERT INTO payment (tenant_id, bill_id, amount_fen, method, receipt_no, paid_on, note, created_at)"
        " SELECT tenant_id, id, resident_fen, '现金', 'R' || id, month + 10, '', month + 10 FROM bill"
        " WHERE id % 5 <> 0"))
    db.session.execute(text(
        "INSERT INTO audit_event (tenant_id, at, actor, action, entity, entity_id, label, changes)"
        " SELECT :t, CAST(:first AS timestamp) + (i * CAST(:span AS float) / :n) * interval '1 second',"
        " '基准', 'update', 'household', i, '住户 ' || i, '{}' FROM generate_series(1, :n) i"),
        {"t": tid, "first": first, "n": audit,
         "span": (datetime.combine(month_add(billed, 1), datetime.min.time())
                  - datetime.combine(first, datetime.min.time())).total_seconds()})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return first


def median_ms(fn) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def partitions_in(stmt) -> str:
    """The partitions (or table) an EXPLAIN of the statement scans."""
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = "\n".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))
    import re
    names = sorted(set(re.findall(r" on ((?:bill|audit_event)\w*)", plan)))
    return ", ".join(names) or "-"


def unpartition() -> None:
    """bill and audit_event as plain tables with real foreign keys, on the head schema."""
    import importlib.util

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / PARTITIONED_BY
    spec = importlib.util.spec_from_file_location("partitioned_by", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    conn = db.session.connection()
    with Operations.context(MigrationContext.configure(conn)):
        revision.downgrade()
    conn.exec_driver_sql("CREATE INDEX ix_bill_list_order ON bill (tenant_id, month DESC, compound_id, household_id)")
    db.session.commit()


def measure(label: str, args) -> dict:
    from flask_migrate import upgrade
    from wuye_saas.audit import AuditEvent
    from wuye_saas.fees import payments, sums
    from wuye_saas.fees.models import Bill
    from wuye_saas.tenancy import tenant_scope

    name = f"wuye_bench_part_{label}"
    subprocess.run(["dropdb", "-h", args.host, "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", args.host, "-U", "postgres", name], check=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@{args.host}:5432/{name}",
                      "SECRET_KEY": "bench", "REDIS_URL": None})
    out = {}
    try:
        with app.app_context():
            upgrade()
            if label == "before":
                unpartition()
            tid = seed(args.households)
            import bench_billing
            billed = bench_billing.MONTH
            out["run"], _ = timed_run(tid)
            first = fill(tid, billed, args.months, args.audit)
            month = month_add(first, args.months // 2)
            with tenant_scope(tid):
                out["bills"] = db.session.execute(select(func.count()).select_from(Bill)).scalar_one()
                page = (select(Bill).where(Bill.tenant_id == tid, Bill.month == month)
                        .order_by(Bill.month.desc(), Bill.compound_id, Bill.household_id).limit(20))
                out["month's first page"] = median_ms(lambda: db.session.execute(page).all())
                out["month's page scans"] = partitions_in(page)
                bal = payments.balance_select(None, Bill.month == month).subquery()
                by_compound = select(Bill.compound_id, func.sum(bal.c.due), func.sum(bal.c.paid)).join(
                    bal, bal.c.bill_id == Bill.id).where(Bill.month == month).group_by(Bill.compound_id)
                out["month 缴费率"] = median_ms(lambda: db.session.execute(by_compound).all())
                # 缴费率's pages read bill_sum; what it is kept from is the bills' sums (a refresh's read).
                year = sums.computed(Bill.tenant_id == tid, Bill.month > month_add(billed, -12), Bill.month <= billed)
                out["12 months' sums from the bills"] = median_ms(lambda: db.session.execute(year).all())
                lo = datetime.combine(month, datetime.min.time())
                hi = datetime.combine(month_add(month, 1), datetime.min.time())
                audit = (select(AuditEvent).where(AuditEvent.tenant_id == tid, AuditEvent.at >= lo, AuditEvent.at < hi)
                         .order_by(AuditEvent.id.desc()).limit(30))
                count = select(func.count()).select_from(audit.limit(None).order_by(None).subquery())
                out["audit month page"] = median_ms(lambda: (db.session.execute(audit).all(),
                                                             db.session.execute(count).scalar_one()))
                out["audit month scans"] = partitions_in(audit)
            db.session.rollback()
    finally:
        with app.app_context():
            db.engine.dispose()
        subprocess.run(["dropdb", "-h", args.host, "-U", "postgres", "--if-exists", name], check=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--households", type=int, default=50_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--audit", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = {"plain": measure("before", args), "partitioned": measure("after", args)}
    keys = list(next(iter(results.values())))
    print(f"{args.households:,} households × {args.months} months; {args.audit:,} audit events")
    for key in keys:
        cells = []
        for label, r in results.items():
            v = r[key]
            cells.append(f"{label}: {v:.1f} {'s' if key == 'run' else 'ms'}" if isinstance(v, float) else f"{label}: {v}")
        print(f"- {key}: " + " | ".join(cells))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
