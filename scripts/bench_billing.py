"""Benchmark: a billing run over 1,000,000 households, against a naive per-row ORM insert.

Builds a throwaway database (PostgreSQL: creates and finally drops `wuye_bench_bill` on the
server of --pg; SQLite: a temp file), migrates it with `flask db upgrade`, creates one district
with 1,000 小区 × 1,000 户 (10 % 低保) by bulk SQL (INSERT … SELECT generate_series on
PostgreSQL, executemany on SQLite), then:

1. times the real billing job (jobs.create_run + jobs.start, inline) for the whole district;
2. times the same job again (every bill exists: the idempotent re-run);
3. the anchor, raw COPY of the same rows (PostgreSQL; SQLite: one executemany of the same rows):
   the run's 1,000,000 rows are exported once (`COPY … TO STDOUT`, untimed), then timed
   a. into `bill` itself, emptied by TRUNCATE — same indexes, constraints, triggers and
      partitions as the run wrote into; the ratio "run / COPY" is against this one;
   b. into an empty `CREATE TABLE … (LIKE bill INCLUDING ALL)`: a plain table with bill's
      columns, defaults and indexes but no foreign keys, triggers or partitions;
4. deletes the bills of the first 20 小区 (20,000) and re-issues exactly those bills the naive
   way — parts from the same compute.compound_month, one `Bill` ORM object per bill,
   session.add + flush — and reports the per-bill ratio against step 1.

    .venv/bin/python scripts/bench_billing.py --db postgresql      # default server 127.0.0.1, user postgres
    .venv/bin/python scripts/bench_billing.py --db postgresql --app-role   # the runs as wuye_app

With --app-role the two runs connect as the application's role (scripts/pg_roles.sql, row-level
security in force, as production runs): PostgreSQL refuses it COPY into `bill`, so its rows go
through a temporary table and one INSERT … SELECT checked by the policy. The anchor stays the
owner's COPY into `bill` (the database's limit for those rows).
    .venv/bin/python scripts/bench_billing.py --db sqlite
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

COMPOUNDS, PER_COMPOUND, SAMPLE_COMPOUNDS = 1000, 1000, 20
MONTH = date(2025, 2, 1)
PG_NAME = "wuye_bench_bill"


def seed(households: int, slug: str = "bench", name: str = "基准区") -> int:
    """One district of households // PER_COMPOUND compounds of PER_COMPOUND households, one firm
    and one fee policy (10 % 低保); its tenant id."""
    from wuye_saas.fees.models import FeeAssignment, FeeConcession, FeePolicy, FeePolicyGrade
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import Tenant, tenant_scope

    tenant = Tenant(slug=slug, name=name)
    db.session.add(tenant)
    db.session.flush()
    tid = tenant.id
    with tenant_scope(tid):
        street = m.Street(name="基准街道")
        community = m.Community(street=street, name="基准社区")
        firm = m.Firm(name="基准物业", credit_code="911404000000000000", party_status="无")
        low = m.HouseholdClass(name="低保")
        db.session.add_all([street, community, firm, low])
        db.session.flush()
        n = households // PER_COMPOUND
        comp_ids = db.session.execute(insert(m.Compound).returning(m.Compound.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "community_id": community.id, "name": f"小区{i:04d}", "compound_type": "老旧小区",
             "management_mode": "专业物业", "address": ""} for i in range(n)]).scalars().all()
        bld_ids = db.session.execute(insert(m.Building).returning(m.Building.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "compound_id": c, "name": "1号楼", "has_lift": False} for c in comp_ids]).scalars().all()
        db.session.execute(insert(m.Contract), [
            {"tenant_id": tid, "firm_id": firm.id, "compound_id": c, "start_date": date(2024, 1, 1),
             "end_date": date(2030, 12, 31), "service_grade": "二级", "fee_mode": "包干制", "fee_rate": Decimal("0.85")}
            for c in comp_ids])
        policy = FeePolicy(name="基准政策", status="active", valid_from=date(2024, 1, 1), gov_mode="percent",
                           gov_percent=Decimal("20"), grades=[FeePolicyGrade(grade="二级", rate=Decimal("0.85"))],
                           concessions=[FeeConcession(household_class_id=low.id, percent=Decimal("50"))])
        db.session.add(policy)
        db.session.flush()
        policy.family_id = policy.id
        db.session.execute(insert(FeeAssignment), [
            {"tenant_id": tid, "compound_id": c, "family_id": policy.id, "valid_from": date(2024, 1, 1)}
            for c in comp_ids])
        # Compounds and buildings got consecutive ids, so household i maps to them arithmetically.
        c0, b0 = comp_ids[0], bld_ids[0]
        assert comp_ids[-1] - c0 == n - 1 and bld_ids[-1] - b0 == n - 1
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(
                "INSERT INTO household (tenant_id, compound_id, building_id, room, floor, floor_area, owner_name,"
                " phone_masked, household_code) SELECT :t, :c0 + (i - 1) / :per, :b0 + (i - 1) / :per, 'R' || i,"
                " 1 + (i % 18), 40 + ((i * 37) % 10000) / 100.0, '业主' || i, '', 'H' || i"
                " FROM generate_series(1, :n) AS i"), {"t": tid, "c0": c0, "b0": b0, "per": PER_COMPOUND, "n": households})
            db.session.execute(text(
                "INSERT INTO household_class_link (tenant_id, household_id, household_class_id, valid_from)"
                " SELECT :t, id, :k, DATE '2024-01-01' FROM household WHERE tenant_id = :t AND id % 10 = 0"),
                {"t": tid, "k": low.id})
        else:
            conn = db.session.connection()
            rows = ((tid, c0 + (i - 1) // PER_COMPOUND, b0 + (i - 1) // PER_COMPOUND, f"R{i}", 1 + i % 18,
                     str(Decimal(4000 + (i * 37) % 10000) / 100), f"业主{i}", "", f"H{i}") for i in range(1, households + 1))
            conn.exec_driver_sql(
                "INSERT INTO household (tenant_id, compound_id, building_id, room, floor, floor_area, owner_name,"
                " phone_masked, household_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(rows))
            conn.exec_driver_sql(
                "INSERT INTO household_class_link (tenant_id, household_id, household_class_id, valid_from)"
                " SELECT ?, id, ?, '2024-01-01' FROM household WHERE tenant_id = ? AND id % 10 = 0", (tid, low.id, tid))
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return tid


def timed_run(tid: int) -> tuple[float, dict]:
    from wuye_saas import jobs
    from wuye_saas.fees import billing
    from wuye_saas.fees.jobs import bill_month
    from wuye_saas.tenancy import tenant_scope

    with tenant_scope(tid):
        br = billing.create_run(billing.Scope("district", None, "全区"), MONTH)
        run = jobs.create_run(bill_month, "基准", br.id)
        br.job_run_id = run.id
        started = time.perf_counter()
        jobs.start(run)  # inline: REDIS_URL is off for the benchmark app
        seconds = time.perf_counter() - started
        run = db.session.get(jobs.JobRun, run.id)
        assert run.status == "done", run.message
        return seconds, run.result


def naive_sample(tid: int) -> tuple[float, int]:
    """Delete the sample compounds' bills, re-issue them one ORM object + flush at a time."""
    from wuye_saas.fees import billing, compute
    from wuye_saas.fees.models import Bill
    from wuye_saas.org.models import HouseholdClass
    from wuye_saas.tenancy import tenant_scope

    with tenant_scope(tid):
        br = db.session.execute(select(billing.BillingRun).order_by(billing.BillingRun.id)).scalars().first()
        plans, _ = billing.plan_run(br)
        sample = plans[:SAMPLE_COMPOUNDS]
        ids = [p.id for p in sample]
        db.session.execute(Bill.__table__.delete().where(Bill.tenant_id == tid, Bill.compound_id.in_(ids)))
        db.session.commit()
        names = dict(db.session.execute(select(HouseholdClass.id, HouseholdClass.name)).all())
        started = time.perf_counter()
        homes = billing._households(ids, MONTH)
        n = 0
        for plan in sample:
            h = homes[plan.id]
            for (hid, area, classes), p in zip(h, compute.compound_month(plan.terms, plan.contract, MONTH,
                                                                        [(a, c) for _, a, c in h])):
                db.session.add(Bill(household_id=hid, compound_id=plan.id, firm_id=plan.contract.firm_id,
                                    policy_id=plan.policy.id, billing_run_id=br.id, month=MONTH, area=area,
                                    rate=p.rate, base_fen=p.base, gov_fen=p.gov, firm_fen=p.firm,
                                    resident_fen=p.resident, holdback_fen=p.holdback,
                                    classes="、".join(names[c] for c in classes)))
                db.session.flush()
                n += 1
        db.session.commit()
        return time.perf_counter() - started, n


def copy_anchor(tid: int) -> tuple[float, float]:
    """(seconds into bill itself, seconds into a plain LIKE copy) for the month's rows."""
    from wuye_saas.fees.billing import BILL_COLUMNS

    cols = ", ".join(BILL_COLUMNS)
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        where = f"tenant_id = {int(tid)} AND month = '{MONTH.isoformat()}'"
        rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM bill WHERE {where}")]
        marks = ", ".join("?" * len(BILL_COLUMNS))
        timings = []
        for target in ("bill", "bill_anchor"):
            if target == "bill":
                conn.exec_driver_sql("DELETE FROM bill")
            else:
                conn.exec_driver_sql("CREATE TABLE bill_anchor AS SELECT * FROM bill WHERE 0")
            db.session.commit()
            conn = db.session.connection()
            started = time.perf_counter()
            conn.exec_driver_sql(f"INSERT INTO {target} ({cols}) VALUES ({marks})", rows)
            db.session.commit()
            timings.append(time.perf_counter() - started)
            conn = db.session.connection()
        conn.exec_driver_sql("DROP TABLE bill_anchor")
        db.session.commit()
        return tuple(timings)
    where = f"tenant_id = {int(tid)} AND month = DATE '{MONTH.isoformat()}'"
    raw = conn.connection.driver_connection
    data = bytearray()
    with raw.cursor() as cur, cur.copy(f"COPY (SELECT {cols} FROM bill WHERE {where}) TO STDOUT") as out:
        for block in out:
            data += block
    conn.exec_driver_sql("TRUNCATE bill, payment, credit_note, holdback_credit")  # all empty in the bench
    conn.exec_driver_sql("CREATE TABLE bill_anchor (LIKE bill INCLUDING ALL)")
    db.session.commit()
    timings = []
    for target in ("bill", "bill_anchor"):
        conn = db.session.connection()
        raw = conn.connection.driver_connection
        started = time.perf_counter()
        with raw.cursor() as cur, cur.copy(f"COPY {target} ({cols}) FROM STDIN") as into:
            into.write(bytes(data))
        db.session.commit()
        timings.append(time.perf_counter() - started)
    db.session.execute(text("DROP TABLE bill_anchor"))
    db.session.execute(text("ANALYZE bill"))
    db.session.commit()
    return tuple(timings)


def check(tid: int, households: int) -> None:
    from wuye_saas.fees.models import Bill
    from wuye_saas.tenancy import tenant_scope

    with tenant_scope(tid):
        count, bad, dup = db.session.execute(select(
            func.count(), func.sum(Bill.base_fen - Bill.gov_fen - Bill.firm_fen - Bill.resident_fen),
            func.count() - func.count(func.distinct(Bill.household_id))).where(Bill.month == MONTH)).one()
    assert (count, bad, dup) == (households, 0, 0), (count, bad, dup)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    ap.add_argument("--households", type=int, default=COMPOUNDS * PER_COMPOUND)
    ap.add_argument("--app-role", action="store_true", help="PostgreSQL: bill as the application's role wuye_app")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    host = args.pg.split("@")[-1].split(":")[0]
    if args.db == "postgresql":
        subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--if-exists", PG_NAME], check=True)
        subprocess.run(["createdb", "-h", host, "-U", "postgres", PG_NAME], check=True)
        url = f"{args.pg}/{PG_NAME}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench_billing.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    try:
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            started = time.perf_counter()
            tid = seed(args.households)
            print(f"database: {args.db}; seeded {args.households:,} households in {time.perf_counter() - started:.1f} s")
        runner = app
        if args.app_role and args.db == "postgresql":
            with app.app_context():
                db.engine.dispose()
            subprocess.run(["psql", "-q", "-h", host, "-U", "postgres", "-d", PG_NAME, "-v", "owner=wuye_owner",
                            "-v", "app=wuye_app", "-f", str(Path(__file__).resolve().parent / "pg_roles.sql")],
                           check=True)
            base = args.pg.rsplit("@", 1)[1]
            runner = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://wuye_app@{base}/{PG_NAME}",
                                 "DATABASE_OWNER_URL": f"postgresql+psycopg://wuye_owner@{base}/{PG_NAME}",
                                 "SECRET_KEY": "bench", "REDIS_URL": None})
            print("the runs connect as wuye_app (row-level security in force)")
        for label in ("billing run:    ", "re-run (no-op): "):
            with runner.app_context():
                seconds, result = timed_run(tid)
                db.engine.dispose()
            with app.app_context():
                check(tid, args.households)
            print(f"{label} {seconds:7.1f} s  ({result['summary']})")
            if label.startswith("billing"):
                bulk_s = seconds
        with app.app_context():
            same_s, plain_s = copy_anchor(tid)
            check(tid, args.households)
            how = "COPY" if args.db == "postgresql" else "executemany"
            print(f"anchor, {how} of the same rows into bill itself: {same_s:7.1f} s → run / anchor = "
                  f"{bulk_s / same_s:.2f}×")
            print(f"anchor, {how} into a plain LIKE copy of bill: {plain_s:7.1f} s → run / plain = "
                  f"{bulk_s / plain_s:.2f}×")
            naive_s, n = naive_sample(tid)
            check(tid, args.households)
            per_bulk, per_naive = bulk_s / args.households, naive_s / n
            print(f"naive ORM insert of {n:,} bills: {naive_s:.1f} s = {per_naive * 1e6:.0f} µs/bill "
                  f"(bulk: {per_bulk * 1e6:.1f} µs/bill) → naive is {per_naive / per_bulk:.1f}× slower; "
                  f"extrapolated to {args.households:,} bills: {per_naive * args.households:.0f} s")
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        with app.app_context():
            db.engine.dispose()
        if args.db == "postgresql":   # --force: the page cache's reader keeps a connection of its own
            subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--force", "--if-exists", PG_NAME], check=True)


if __name__ == "__main__":
    main()
