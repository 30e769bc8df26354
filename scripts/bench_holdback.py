"""Benchmark: releasing 质量保证金 for 1,000 compounds × 12 months, and for a smaller and a larger
count (default 500 and 2,000), to show that the number of SQL statements stays the same.

Builds a throwaway SQLite database (a temp file), or uses the PostgreSQL database of --url (it
must be one of your own: the script migrates it and leaves the benchmark districts in it). Per
size one district by bulk SQL: 10 compounds per firm, 2 households per compound, a policy holding
back 10 % released by the 年度考核, a bill per household and month of 2025 (1 in 100 with a credit
note), and the published annual evaluation with random stars per compound. Timed:
`holdback.release_evaluation` (every compound month posted, the kept parts in the ledger), then
the same again (posts nothing). Statements counted with the engine event `before_cursor_execute`.

    .venv/bin/python scripts/bench_holdback.py
    .venv/bin/python scripts/bench_holdback.py --url postgresql+psycopg://postgres@127.0.0.1:5432/wuye_holdback
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, insert, select, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

MONTHS = [date(2025, mo, 1) for mo in range(1, 13)]


def seed(slug: str, compounds: int, kept_to: str) -> tuple[int, int]:
    from wuye_saas.evaluation.models import Assessment, Evaluation, Standard
    from wuye_saas.fees.models import Bill, BillingRun, CreditNote, FeePolicy
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import Tenant, tenant_scope

    rng = random.Random(compounds)
    tenant = Tenant(slug=slug, name=f"基准区{slug}")
    db.session.add(tenant)
    db.session.flush()
    tid = tenant.id
    with tenant_scope(tid):
        street = m.Street(name="基准街道")
        community = m.Community(street=street, name="基准社区")
        db.session.add_all([street, community])
        db.session.flush()
        firms = compounds // 10
        firm_ids = db.session.execute(insert(m.Firm).returning(m.Firm.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "name": f"基准物业{i:04d}", "credit_code": f"91140400{tid:02d}{i:08d}",
             "party_status": "无"} for i in range(firms)]).scalars().all()
        comp_ids = db.session.execute(insert(m.Compound).returning(m.Compound.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "community_id": community.id, "name": f"基准小区{i:04d}", "compound_type": "商品房",
             "management_mode": "专业物业", "address": ""} for i in range(compounds)]).scalars().all()
        building_ids = db.session.execute(insert(m.Building).returning(m.Building.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "compound_id": c, "name": "1号楼", "floors": 6, "units": 1}
            for c in comp_ids]).scalars().all()
        hh = db.session.execute(insert(m.Household).returning(m.Household.id, m.Household.compound_id,
                                                              sort_by_parameter_order=True), [
            {"tenant_id": tid, "compound_id": c, "building_id": b, "room": f"10{k}", "floor": 1,
             "floor_area": Decimal("88.50"), "owner_name": "业主", "household_code": f"B{tid:03d}{i:05d}{k}"}
            for i, (c, b) in enumerate(zip(comp_ids, building_ids)) for k in (1, 2)]).all()
        policy = FeePolicy(name="基准政策", status="active", valid_from=date(2025, 1, 1),
                           holdback_percent=Decimal("10"), holdback_kind="annual", holdback_kept_to=kept_to)
        db.session.add(policy)
        db.session.flush()
        policy.family_id = policy.id
        runs = {}
        for mo in MONTHS:
            run = BillingRun(month=mo, scope_kind="district", scope_label="全区")
            db.session.add(run)
            db.session.flush()
            runs[mo] = run.id
        firm_of = {c: firm_ids[i // 10] for i, c in enumerate(comp_ids)}
        bill_ids = db.session.execute(insert(Bill).returning(Bill.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "household_id": h, "compound_id": c, "firm_id": firm_of[c], "policy_id": policy.id,
             "billing_run_id": runs[mo], "month": mo, "area": Decimal("88.50"), "rate": Decimal("1.40"),
             "base_fen": 12390, "gov_fen": 0, "firm_fen": 0, "resident_fen": 12390, "holdback_fen": 1239,
             "classes": "", "issued_at": datetime(2025, 1, 1)}
            for mo in MONTHS for h, c in hh]).scalars().all()
        db.session.execute(insert(CreditNote), [
            {"tenant_id": tid, "bill_id": b, "gov_fen": 0, "firm_fen": 0, "resident_fen": 390, "reason": "基准",
             "created_at": datetime(2025, 6, 1)} for b in bill_ids[::100]])
        std = Standard(name="基准标准", status="active", unit="compound")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="annual", name="2025年度考核", period_start=date(2025, 1, 1),
                        period_end=date(2025, 12, 31), status="published", self_report_due=date(2026, 1, 10),
                        review_due=date(2026, 1, 20), published_at=datetime(2026, 1, 25, 2, 0))
        db.session.add(ev)
        db.session.flush()
        db.session.execute(insert(Assessment), [
            {"tenant_id": tid, "evaluation_id": ev.id, "firm_id": firm_of[c], "compound_id": c,
             "status": "finalized", "return_note": "", "vetoed": False, "breakdown": {},
             "stars": rng.randint(0, 5), "total": Decimal(rng.randint(5000, 9900)) / 100} for c in comp_ids])
        db.session.commit()
        ev_id = ev.id
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return tid, ev_id


def timed(tid: int, fn):
    from wuye_saas.tenancy import tenant_scope

    statements, spent = [], {}

    def count(conn, cursor, statement, *args, **kwargs):
        statements.append(time.perf_counter())

    def took(conn, cursor, statement, *args, **kwargs):
        head = " ".join(statement.split()[:3])
        spent[head] = spent.get(head, 0) + time.perf_counter() - statements[-1]
    event.listen(db.engine, "before_cursor_execute", count)
    event.listen(db.engine, "after_cursor_execute", took)
    try:
        with tenant_scope(tid):
            started = time.perf_counter()
            out = fn()
            db.session.commit()
            seconds = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(db.engine, "after_cursor_execute", took)
    db.session.remove()
    if os.environ.get("BENCH_DETAIL"):
        for head, t in sorted(spent.items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {t:6.3f} s in {head}")
    return seconds, len(statements), out


def run_size(slug: str, compounds: int, kept_to: str) -> list[tuple]:
    from wuye_saas.evaluation.models import Evaluation
    from wuye_saas.fees import holdback

    started = time.perf_counter()
    tid, ev_id = seed(slug, compounds, kept_to)
    print(f"\n{compounds} compounds × 12 months: seeded in {time.perf_counter() - started:.1f} s")

    def release():
        return holdback.release_evaluation(db.session.get(Evaluation, ev_id), "publish")
    rows = []
    s, n, out = timed(tid, release)
    rows.append(("release", s, n, f"{out.rows} postings, released {out.released / 100:,.2f} 元, "
                                  f"kept {out.kept / 100:,.2f} 元"))
    s, n, out = timed(tid, release)
    rows.append(("release again", s, n, f"{out.rows} postings"))
    for name, s, n, note in rows:
        print(f"  {name:14s} {s:6.3f} s  {n:3d} statements  {note}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="", help="a PostgreSQL database of your own (default: a temp SQLite file)")
    ap.add_argument("--sizes", default="500,1000,2000", help="compound counts, comma-separated")
    ap.add_argument("--kept-to", default="ledger", choices=["ledger", "bills"],
                    help="where the kept part goes: the 公共收益 ledger or credits on the households' next bills")
    args = ap.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench_holdback.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        print(f"database: {db.engine.dialect.name} {db.engine.dialect.server_version_info}; kept part to {args.kept_to}")
        stamp = int(time.time())
        counts = {}
        for size in (int(x) for x in args.sizes.split(",")):
            counts[size] = [r[2] for r in run_size(f"h{size}x{stamp}", size, args.kept_to)]
        print("\nstatements (release, release again) by compounds: "
              + ", ".join(f"{k:,}: {v}" for k, v in counts.items()))
        db.engine.dispose()


if __name__ == "__main__":
    main()
