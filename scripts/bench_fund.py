"""Benchmark: the maintenance fund's household sub-accounts (分户账) at 5,000 and 10,000 households.

Per size, a compound with ten years of fund entries posted through `ledger.add_entry` (so every
entry is split over the households as the product splits it): a first deposit at the district's
standard, then each year interest (by balance), two repairs of the whole compound, two of
chosen buildings, two public-revenue top-ups and, every other year, a 续筹 — 81 entries, about
350,000 household parts at 5,000 households. Then, timed with their statements counted
(`before_cursor_execute`; an executemany counts once):
- posting one more repair (the split of one entry over every household);
- the yearly publication of the last year: the statement with every sub-account
  (templates_content.ledger_statement) and publishing it (hash, sign, chain);
- the fund page: its first 50 sub-accounts, the sum of all of them, the counts.
The statement counts must be the same at both sizes (flat in households).

Builds a throwaway SQLite database (a temp file), or uses the PostgreSQL database of --url (one
of your own: the script migrates it and leaves the benchmark districts in it).

    .venv/bin/python scripts/bench_fund.py
    .venv/bin/python scripts/bench_fund.py --url postgresql+psycopg://postgres@127.0.0.1:5432/wuye_fund
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal

from sqlalchemy import event, func, insert, select, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

YEARS = 10
FIRST_YEAR = 2016


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, *args, **kwargs):
        self.n += 1


def timed(tid: int, fn):
    from wuye_saas.tenancy import tenant_scope
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        with tenant_scope(tid):
            started = time.perf_counter()
            out = fn()
            db.session.commit()
            seconds = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return seconds, counter.n, out


def seed(slug: str, households: int) -> tuple[int, int, int]:
    """(tenant, compound, entries): the register by bulk SQL, the fund's ten years through the
    product's own posting (each entry split as posted)."""
    from wuye_saas.org import models as m
    from wuye_saas.publicity import fund, ledger
    from wuye_saas.tenancy import Tenant, tenant_scope

    rng = random.Random(households)
    tenant = Tenant(slug=slug, name=f"基准区{slug}")
    db.session.add(tenant)
    db.session.flush()
    tid = tenant.id
    with tenant_scope(tid):
        street = m.Street(name="基准街道")
        community = m.Community(street=street, name="基准社区")
        comp = m.Compound(community=community, name="基准小区", compound_type="商品房", management_mode="专业物业")
        db.session.add_all([street, community, comp])
        db.session.flush()
        bids = db.session.execute(insert(m.Building).returning(m.Building.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "compound_id": comp.id, "name": f"{b + 1}号楼"} for b in range(households // 100)
        ]).scalars().all()
        db.session.execute(insert(m.Household), [
            {"tenant_id": tid, "compound_id": comp.id, "building_id": bids[i // 100], "room": f"{i % 100 + 1:03d}",
             "floor_area": Decimal(rng.randint(4500, 16000)) / 100, "owner_name": f"业主{i}",
             "household_code": f"F{tid:03d}{i:07d}"} for i in range(households)])
        r = fund.set_rule(160_000, Decimal(6), True, Decimal(50))
        amounts = fund.standard_amounts(comp.id, r)
        first = sum(amounts.values())
        n = 0

        def post(day, category, amount, shares=None):
            nonlocal n
            ledger.add_entry(comp.id, "maintenance_fund", day, category, amount, counterparty="基准",
                             shares=shares or {})
            n += 1

        post(date(FIRST_YEAR, 1, 10), "首期交存", first, {"basis": "standard", "amounts": amounts})
        for y in range(FIRST_YEAR, FIRST_YEAR + YEARS):
            for month in (3, 9):
                post(date(y, month, 5), "使用支出", -(first // 200), {"basis": "area"})
                post(date(y, month + 1, 5), "使用支出", -(first // 400),
                     {"basis": "buildings", "building_ids": rng.sample(bids, 3)})
                post(date(y, month + 2, 5), "公共收益转入", first // 300)
            if y % 2:
                post(date(y, 6, 1), "续筹", first // 50)
            post(date(y, 12, 21), "利息", first // 70)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE fund_share; ANALYZE ledger_entry; ANALYZE household"))
            db.session.commit()
        return tid, comp.id, n


def run(slug: str, households: int) -> list[tuple]:
    from wuye_saas.org.models import Compound
    from wuye_saas.publicity import keys, ledger, publications, subaccounts
    from wuye_saas.publicity import templates_content as tc
    from wuye_saas.publicity.models import FundShare
    from wuye_saas.tenancy import tenant_scope

    started = time.perf_counter()
    tid, cid, n = seed(slug, households)
    with tenant_scope(tid):
        parts = db.session.execute(select(func.count()).select_from(FundShare)
                                   .where(FundShare.compound_id == cid)).scalar_one()
        keys.create(slug)
        db.session.commit()
    print(f"\n{households:,} households, {n} entries over {YEARS} years, {parts:,} household parts: "
          f"seeded in {time.perf_counter() - started:.1f} s")
    start, end = date(FIRST_YEAR + YEARS - 1, 1, 1), date(FIRST_YEAR + YEARS - 1, 12, 31)
    rows = []
    s, c, _ = timed(tid, lambda: ledger.add_entry(cid, "maintenance_fund", end, "使用支出", -12345, counterparty="基准"))
    rows.append(("post one repair (split over all)", s, c, ""))

    def publication():
        content = tc.ledger_statement(cid, "maintenance_fund", start, end)
        c = db.session.get(Compound, cid)
        p = publications.publish(c, "ledger_statement", content, tc.title_for("ledger_statement", c, "maintenance_fund",
                                                                               start, end), start=start, end=end)
        return content, p

    s, c, (content, p) = timed(tid, publication)
    sub = content["subaccounts"]
    rows.append(("yearly publication with sub-accounts", s, c,
                 f"{len(sub['rows']):,} rows, total = closing: {sub['total'] == content['statements'][0]['closing']}"))
    s, c, _ = timed(tid, lambda: (subaccounts.rows(cid, start, end, limit=50), subaccounts.total(cid, end),
                                  subaccounts.count(cid), subaccounts.pending(cid)))
    rows.append(("fund page: 50 sub-accounts + their sum", s, c, ""))
    for name, s, c, note in rows:
        print(f"  {name:40s} {s:7.3f} s  {c:4d} statements  {note}")
    db.session.remove()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="", help="a PostgreSQL database of your own (default: a temp SQLite file)")
    ap.add_argument("--sizes", default="5000,10000", help="households per compound, comma-separated")
    args = ap.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench_fund.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                      "PUBLICATION_KEYS_DIR": tempfile.mkdtemp()})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        print(f"database: {db.engine.dialect.name} {db.engine.dialect.server_version_info}")
        stamp = int(time.time())
        results = [run(f"fund{size}x{stamp}", int(size)) for size in args.sizes.split(",")]
        counts = [[r[2] for r in res] for res in results]
        print(f"\nstatements per size: {counts} → {'flat' if all(c == counts[0] for c in counts) else 'NOT FLAT'}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
