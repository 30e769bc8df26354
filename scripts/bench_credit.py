"""Benchmark: credit grades of 600 firms with 50,000 records (and a published annual result for
the base), then the same at 300 firms with 25,000 records, to show that the number of SQL
statements does not grow with the firms or the records.

Builds a throwaway SQLite database (a temp file), or uses the PostgreSQL database of --url (it
must be one of your own: the script migrates it and leaves the two benchmark districts in it).
Per size it creates one district by bulk SQL — firms, the default record kinds, records of random
kinds over the last two years (one in twenty revoked), a published annual evaluation with two
assessed compounds per firm — then times `grading.standings` (the register of grades, the
警示名单) and `grading.take_snapshot` (the quarterly snapshot, written then taken again: nothing
new), counting the statements sent to the database (engine event `before_cursor_execute`; an
executemany counts once).

    .venv/bin/python scripts/bench_credit.py
    .venv/bin/python scripts/bench_credit.py --url postgresql+psycopg://postgres@127.0.0.1:5432/wuye_credit
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, insert, select, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

DAY = date(2026, 6, 30)


def seed(slug: str, firms: int, records: int) -> int:
    from wuye_saas.credit.defaults import seed_defaults
    from wuye_saas.credit.models import CreditRecord, CreditRecordKind
    from wuye_saas.evaluation.models import Assessment, Evaluation, Standard
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import Tenant, tenant_scope

    rng = random.Random(firms)
    tenant = Tenant(slug=slug, name=f"基准区{slug}")
    db.session.add(tenant)
    db.session.flush()
    tid = tenant.id
    with tenant_scope(tid):
        seed_defaults()
        street = m.Street(name="基准街道")
        community = m.Community(street=street, name="基准社区")
        db.session.add_all([street, community])
        db.session.flush()
        firm_ids = db.session.execute(insert(m.Firm).returning(m.Firm.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "name": f"基准物业{i:04d}", "credit_code": f"91140400{tid:02d}{i:08d}",
             "party_status": "无"} for i in range(firms)]).scalars().all()
        comp_ids = db.session.execute(insert(m.Compound).returning(m.Compound.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "community_id": community.id, "name": f"基准小区{i:04d}", "compound_type": "商品房",
             "management_mode": "专业物业", "address": ""} for i in range(2 * firms)]).scalars().all()
        std = Standard(name="基准标准", status="active", unit="compound")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="annual", name="2025年度考核", period_start=date(2025, 1, 1),
                        period_end=date(2025, 12, 31), status="published", self_report_due=date(2026, 1, 10),
                        review_due=date(2026, 1, 20), published_at=datetime(2026, 1, 25, 2, 0))
        db.session.add(ev)
        db.session.flush()
        db.session.execute(insert(Assessment), [
            {"tenant_id": tid, "evaluation_id": ev.id, "firm_id": firm_ids[i // 2], "compound_id": c,
             "status": "finalized", "return_note": "", "vetoed": False, "breakdown": {},
             "total": Decimal(rng.randint(6000, 9800)) / 100} for i, c in enumerate(comp_ids)])
        kinds = [k for k in db.session.execute(select(CreditRecordKind)).scalars()]
        usual = [k for k in kinds if not k.serious]
        serious = [k for k in kinds if k.serious]
        rows = []
        for n in range(records):
            k = rng.choice(serious) if n % 500 == 0 else rng.choice(usual)   # serious ones are rare
            on = DAY - timedelta(days=rng.randint(0, 730))
            revoked = DAY - timedelta(days=rng.randint(0, 60)) if n % 20 == 7 else None
            rows.append({"tenant_id": tid, "firm_id": rng.choice(firm_ids), "kind_id": k.id, "nature": k.nature,
                         "points": k.points if k.nature == "good" else -k.points, "serious": k.serious,
                         "title": k.name, "occurred_on": on, "valid_until": on + timedelta(days=k.validity_days),
                         "source": "staff", "source_ref": None, "evidence": "基准", "created_at": datetime(2026, 1, 1),
                         "revoked_on": revoked, "revoked_at": datetime(2026, 1, 1) if revoked else None,
                         "revoke_reason": "基准" if revoked else ""})
        db.session.execute(insert(CreditRecord), rows)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return tid


def timed(tid: int, fn):
    from wuye_saas.tenancy import tenant_scope

    statements = []

    def count(*args, **kwargs):
        statements.append(1)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with tenant_scope(tid):
            started = time.perf_counter()
            out = fn()
            db.session.commit()
            seconds = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.remove()
    return seconds, len(statements), out


def run_size(slug: str, firms: int, records: int) -> list[tuple]:
    from wuye_saas.credit import grading

    started = time.perf_counter()
    tid = seed(slug, firms, records)
    print(f"\n{firms} firms, {records:,} records: seeded in {time.perf_counter() - started:.1f} s")
    rows = []
    s, n, st = timed(tid, lambda: grading.standings(DAY))
    grades = {}
    for v in st.values():
        grades[v.grade] = grades.get(v.grade, 0) + 1
    rows.append(("standings", s, n, f"{sorted(grades.items())}, 警示 {sum(v.warned for v in st.values())}"))
    s, n, w = timed(tid, lambda: grading.take_snapshot(DAY))
    rows.append(("snapshot", s, n, f"{w} written"))
    s, n, w = timed(tid, lambda: grading.take_snapshot(DAY))
    rows.append(("snapshot again", s, n, f"{w} written"))
    for name, s, n, note in rows:
        print(f"  {name:15s} {s:6.3f} s  {n:3d} statements  {note}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="", help="a PostgreSQL database of your own (default: a temp SQLite file)")
    args = ap.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench_credit.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        print(f"database: {db.engine.dialect.name} {db.engine.dialect.server_version_info}")
        stamp = int(time.time())
        big = run_size(f"cb{stamp}", 600, 50_000)
        small = run_size(f"cs{stamp}", 300, 25_000)
        same = [b[2] for b in big] == [s[2] for s in small]
        print(f"\nstatements, 600 vs 300 firms: {[b[2] for b in big]} vs {[s[2] for s in small]} → "
              f"{'identical' if same else 'DIFFERENT'}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
