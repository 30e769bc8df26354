"""Benchmark: counting an owners' vote by person, and importing a register with its owners.

1. Count. A compound of 5,000 units (2% still the developer's), 4,200 persons (some owning
   several units, some units co-owned) and 3,000 ballots, then the same at twice the size
   (10,000 units, 8,400 persons, 6,000 ballots). Per size: opening the vote (the roll of units
   and owners is fixed: one read, one bulk insert), the count of a single-question vote
   (`logic.tally_items`), the count of a 7-item election, and closing (count, store, publish).
   Statements are counted with the engine event `before_cursor_execute` (an executemany counts
   once); the count's must be the same at both sizes.
2. Import. A register file (CSV) of 300,000 households with their owners — 70% with an ID
   number, one in ten of those owning a second unit, 10% with a co-owner, 2% the developer's —
   through `importer.logic.import_file`, the path the background job takes.

Builds a throwaway SQLite database (a temp file), or uses the PostgreSQL database of --url (one
of your own: the script migrates it and leaves the benchmark districts in it).

    .venv/bin/python scripts/bench_vote_count.py
    .venv/bin/python scripts/bench_vote_count.py --url postgresql+psycopg://postgres@127.0.0.1:5432/wuye_persons
    .venv/bin/python scripts/bench_vote_count.py --import-rows 30000     # a smaller import
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

DAY = date(2026, 6, 30)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def idno(n: int, region: str = "140402") -> str:
    """A distinct, well-formed ID number for every n below 400,000 (per region)."""
    first = f"{region}{19500101 + n % 400000:08d}{n % 1000:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS)) % 11]


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


def district(slug: str) -> tuple[int, int]:
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import Tenant, tenant_scope
    tenant = Tenant(slug=slug, name=f"基准区{slug}")
    db.session.add(tenant)
    db.session.flush()
    with tenant_scope(tenant.id):
        street = m.Street(name="基准街道")
        community = m.Community(street=street, name="基准社区")
        db.session.add_all([street, community])
        db.session.flush()
        return tenant.id, community.id


def seed_compound(slug: str, units: int, persons: int, ballots: int) -> tuple:
    """(tenant, compound, single-question vote id, election vote id, unit ids, rng, ballots):
    units, persons and ownerships by bulk SQL, both votes publicized and due to open."""
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import tenant_scope
    from wuye_saas.votes import logic

    rng = random.Random(units)
    tid, community = district(slug)
    with tenant_scope(tid):
        comp = m.Compound(community_id=community, name="基准小区", compound_type="商品房", management_mode="专业物业")
        db.session.add(comp)
        db.session.flush()
        bids = db.session.execute(insert(m.Building).returning(m.Building.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "compound_id": comp.id, "name": f"{b + 1}号楼"} for b in range(units // 100)
        ]).scalars().all()
        dev = set(rng.sample(range(units), units // 50))
        hids = db.session.execute(insert(m.Household).returning(m.Household.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "compound_id": comp.id, "building_id": bids[i // 100], "room": f"{i % 100 + 1:03d}",
             "floor_area": Decimal(rng.randint(4500, 16000)) / 100, "owner_name": "", "developer_held": i in dev,
             "household_code": f"B{tid:03d}{i:07d}"} for i in range(units)]).scalars().all()
        pids = db.session.execute(insert(m.Person).returning(m.Person.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "name": f"业主{p}", "identity_key": f"bench:{p}"} for p in range(persons)
        ]).scalars().all()
        owned = [i for i in range(units) if i not in dev]
        rows = []
        for k, i in enumerate(owned):
            # Each person one unit first; the units left over are second units of random persons.
            rows.append({"tenant_id": tid, "household_id": hids[i], "person_id": pids[k] if k < persons
                         else pids[rng.randrange(persons)], "share": "单独所有"})
        for i in rng.sample(owned, len(owned) // 20):     # 5% co-owned
            rows.append({"tenant_id": tid, "household_id": hids[i], "person_id": pids[rng.randrange(persons)],
                         "share": "共同共有"})
        db.session.execute(insert(m.Ownership), rows)
        votes = []
        for title, items in (("基准表决", None), ("选举业主委员会（基准）", [f"候选人{c}" for c in range(7)])):
            v, _ = logic.create_vote(comp.id, "committee" if items else "use_fund", title, "", items=items)
            v.status, v.publicized_on, v.opens_on, v.closes_on = "publicized", DAY - timedelta(days=20), DAY, DAY
            votes.append(v)
        ids = comp.id, votes[0].id, votes[1].id
        db.session.commit()
    return tid, *ids, hids, rng, ballots


def cast(tid, vote_id, hids, rng, ballots):
    from wuye_saas.tenancy import tenant_scope
    from wuye_saas.votes import logic
    from wuye_saas.votes.models import Ballot, BallotChoice, OwnerVote
    with tenant_scope(tid):
        v = db.session.get(OwnerVote, vote_id)
        items = logic.items_of(v)
        voting = rng.sample(hids, ballots)
        bids = db.session.execute(insert(Ballot).returning(Ballot.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "vote_id": vote_id, "household_id": h, "choice": "agree", "area_centi": 0,
             "owner_key": "", "developer": False} for h in voting]).scalars().all()
        db.session.execute(insert(BallotChoice), [
            {"tenant_id": tid, "ballot_id": b, "item_id": it.id,
             "choice": "agree" if rng.random() < 0.8 - 0.08 * it.position else rng.choice(["disagree", "abstain"])}
            for b in bids for it in items])
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Ballots come in over days and autovacuum analyzes them; here they were bulk-written a
        # moment ago, so give the planner their statistics as it would have them.
        db.session.execute(text("ANALYZE ballot; ANALYZE ballot_choice"))
        db.session.commit()


def run_count(slug: str, units: int, persons: int, ballots: int) -> list[tuple]:
    from wuye_saas.matters import logic as matters
    from wuye_saas.tenancy import tenant_scope
    from wuye_saas.votes import logic
    from wuye_saas.votes.models import OwnerVote

    started = time.perf_counter()
    tid, _, single, election, hids, rng, n = seed_compound(slug, units, persons, ballots)
    print(f"\n{units:,} units, {persons:,} persons, {ballots:,} ballots: seeded in {time.perf_counter() - started:.1f} s")
    logic.today = lambda: DAY
    rows = []
    for vid, label in ((single, "single question"), (election, "7-item election")):
        with tenant_scope(tid):     # 重大事项报备 acknowledged: the gate before opening
            matters.file_and_acknowledge(db.session.get(OwnerVote, vid), "基准测试")
            db.session.commit()
        s, c, _ = timed(tid, lambda: logic.open_vote(db.session.get(OwnerVote, vid)))
        rows.append((f"open ({label}): fix roll", s, c, ""))
        cast(tid, vid, hids, rng, n)
        s, c, counted = timed(tid, lambda: logic.tally_items(db.session.get(OwnerVote, vid)))
        d = counted[0][1]
        rows.append((f"count ({label})", s, c, f"heads {d.part_heads}/{d.total_heads}, "
                                               f"{sum(x.passed for _, x in counted)} of {len(counted)} passed"))
        s, c, _ = timed(tid, lambda: logic.close_vote(db.session.get(OwnerVote, vid)))
        rows.append((f"close ({label})", s, c, "count, store, publish"))
    for name, s, c, note in rows:
        print(f"  {name:38s} {s:7.3f} s  {c:4d} statements  {note}")
    db.session.remove()
    return rows


def run_import(slug: str, households: int) -> tuple:
    from wuye_saas.importer import logic as importer
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import tenant_scope

    rng = random.Random(households)
    tid, community = district(slug)
    per_compound, per_building = 3000, 100
    with tenant_scope(tid):
        comps = db.session.execute(insert(m.Compound).returning(m.Compound.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "community_id": community, "name": f"导入小区{c:03d}", "compound_type": "商品房",
             "management_mode": "专业物业", "address": ""} for c in range(-(-households // per_compound))]).scalars().all()
        db.session.execute(insert(m.Building), [
            {"tenant_id": tid, "compound_id": cid, "name": f"{b + 1}号楼"}
            for cid in comps for b in range(per_compound // per_building)])
        assert len(comps) * per_compound >= households
        db.session.commit()
    path = Path(tempfile.mkdtemp()) / "register.csv"
    header = [c.header for c in importer.KINDS["households"].cols]
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        owner = 0
        for i in range(households):
            c, b, r = i // per_compound, (i % per_compound) // per_building, i % per_building
            developer = rng.random() < 0.02
            if not developer and rng.random() < 0.7:
                if owner and rng.random() < 0.1:
                    k = owner              # the previous numbered owner again: a second unit
                else:
                    owner += 1
                    k = owner
                number, name = idno(k), f"业主{k}"
            else:
                number, name = "", ("鑫达置业" if developer else f"住户{i}")
            co = f"配偶{i}:{idno(i, '140403')}" if not developer and rng.random() < 0.1 else ""
            values = {"street": "基准街道", "community": "基准社区", "compound": f"导入小区{c:03d}",
                      "building": f"{b + 1}号楼", "room": f"{r + 1:03d}", "floor_area": f"{rng.randint(4500, 16000) / 100:.2f}",
                      "owner_name": name, "owner_id": number, "co_owners": co, "developer_held": "是" if developer else "",
                      "area_source": rng.choice(["", "", "测绘", "合同"])}
            w.writerow([values.get(col.key, "") for col in importer.KINDS["households"].cols])
    print(f"\nimport: {households:,} households in {path.stat().st_size / 1e6:.1f} MB")
    s, c, out = timed(tid, lambda: importer.import_file("households", path, "register.csv", lambda *a: None))
    print(f"  import_file {s:7.1f} s  {c:6d} statements  {out['summary']}")
    if not out["ok"]:
        print("  first errors:", out["errors"][:3])
    with tenant_scope(tid):
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t} WHERE tenant_id = :t"), {"t": tid}).scalar_one()
                  for t in ("household", "person", "ownership")}
    print(f"  rows: {counts}")
    path.unlink()
    return s, c, out, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="", help="a PostgreSQL database of your own (default: a temp SQLite file)")
    ap.add_argument("--import-rows", type=int, default=300_000)
    ap.add_argument("--skip-import", action="store_true")
    args = ap.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench_votes.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        print(f"database: {db.engine.dialect.name} {db.engine.dialect.server_version_info}")
        stamp = int(time.time())
        small = run_count(f"vs{stamp}", 5_000, 4_200, 3_000)
        big = run_count(f"vb{stamp}", 10_000, 8_400, 6_000)
        counts = [r[2] for r in small if r[0].startswith("count")], [r[2] for r in big if r[0].startswith("count")]
        print(f"\ncount statements, 5,000 vs 10,000 units: {counts[0]} vs {counts[1]} → "
              f"{'identical' if counts[0] == counts[1] else 'DIFFERENT'}")
        if not args.skip_import:
            run_import(f"vi{stamp}", args.import_rows)
        db.engine.dispose()


if __name__ == "__main__":
    main()
