"""Benchmark: evaluation results for 600 firms over 1,200 compounds, a 40-item standard, four
quarterly cycles and the annual evaluation combining them — then the same at 300 firms, to show
that the number of SQL statements does not grow with the firms.

Builds a throwaway database (PostgreSQL: creates and finally drops `wuye_bench_eval` on the
server of DATABASE_URL or --pg; SQLite: a temp file), migrates it with the app's migrations and,
per size, creates one district by bulk SQL: firms, compounds (two per firm, each with a
contract), a 40-item standard (5 categories × 7 regular items = 100 points, 3 bonus items capped
at 5, 2 veto items), four finalized quarterly cycles of 2025 and the annual one, every
assessment with a self score on every item and a review score on about a fifth of them (one
INSERT … SELECT per cycle). Then it times `results.compute` for each quarterly cycle and for
the annual evaluation and counts the statements sent to the database (engine event
`before_cursor_execute`; an executemany counts once).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/postgres .venv/bin/python scripts/bench_evaluation.py
    .venv/bin/python scripts/bench_evaluation.py --db sqlite
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

from sqlalchemy import event, func, insert, select, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wuye_saas import create_app  # noqa: E402
from wuye_saas.extensions import db  # noqa: E402

PG_NAME = "wuye_bench_eval"
QUARTERS = [(date(2025, 1, 1), date(2025, 3, 31)), (date(2025, 4, 1), date(2025, 6, 30)),
            (date(2025, 7, 1), date(2025, 9, 30)), (date(2025, 10, 1), date(2025, 12, 31))]


def build_standard(tid: int):
    from wuye_saas.evaluation.models import Standard, StandardCategory, StandardItem

    std = Standard(name="基准评分标准", status="active", unit="compound", total_points=Decimal("100"),
                   bonus_cap=Decimal("5"),
                   star_bands=[{"stars": 5, "min": "85"}, {"stars": 4, "min": "80"}, {"stars": 3, "min": "70"},
                               {"stars": 2, "min": "60"}, {"stars": 1, "min": "0"}],
                   list_rules=[{"list": "red", "rule": "stars_at_least", "value": 5},
                               {"list": "yellow", "rule": "score_below", "value": "75"},
                               {"list": "black", "rule": "stars_at_most", "value": 2},
                               {"list": "black", "rule": "veto"}],
                   consequences={"yellow": ["约谈"], "black": ["约谈", "启动退出程序"]},
                   cycle_weights={"monthly": 40, "quarterly": 60, "annual": 0})
    db.session.add(std)
    db.session.flush()
    items = []
    for c in range(5):
        cat = StandardCategory(standard_id=std.id, name=f"类别{c + 1}", sort=c)
        db.session.add(cat)
        db.session.flush()
        for k in range(7):   # 6 × 3 + 1 × 2 = 20 points per category
            top = Decimal("2") if k == 6 else Decimal("3")
            method = ("graded", "deduction", "yesno")[k % 3]
            items.append(StandardItem(standard_id=std.id, category_id=cat.id, name=f"项目{c + 1}-{k + 1}",
                                      max_points=top, method=method, scorer=("self", "community", "street")[k % 3],
                                      levels=[{"label": str(p), "points": str(p)} for p in range(int(top) + 1)],
                                      deduction_per=Decimal("0.5") if method == "deduction" else None,
                                      sort=len(items)))
    for k in range(3):
        items.append(StandardItem(standard_id=std.id, kind="bonus", name=f"加分{k + 1}", max_points=Decimal("3"),
                                  method="graded", scorer="self", sort=len(items),
                                  levels=[{"label": str(p), "points": str(p)} for p in range(4)]))
    for k in range(2):
        items.append(StandardItem(standard_id=std.id, kind="veto", name=f"否决{k + 1}", max_points=Decimal("0"),
                                  method="yesno", scorer="community", veto_effect="zero_black", sort=len(items)))
    db.session.add_all(items)
    db.session.flush()
    assert len(items) == 40
    return std


def seed(slug: str, firms: int) -> tuple[int, list[int], int]:
    """One district of `firms` firms × 2 compounds; (tenant id, quarterly cycle ids, annual id)."""
    from wuye_saas.evaluation.models import Evaluation
    from wuye_saas.org import models as m
    from wuye_saas.tenancy import Tenant, tenant_scope

    tenant = Tenant(slug=slug, name=f"基准区{slug}")
    db.session.add(tenant)
    db.session.flush()
    tid = tenant.id
    with tenant_scope(tid):
        street = m.Street(name="基准街道")
        community = m.Community(street=street, name="基准社区")
        db.session.add_all([street, community])
        db.session.flush()
        firm_ids = db.session.execute(insert(m.Firm).returning(m.Firm.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "name": f"基准物业{i:04d}", "credit_code": f"91140400{tid:02d}{i:08d}",
             "party_status": "无"} for i in range(firms)]).scalars().all()
        comp_ids = db.session.execute(insert(m.Compound).returning(m.Compound.id, sort_by_parameter_order=True), [
            {"tenant_id": tid, "community_id": community.id, "name": f"基准小区{i:04d}", "compound_type": "商品房小区",
             "management_mode": "专业物业", "address": ""} for i in range(2 * firms)]).scalars().all()
        db.session.execute(insert(m.Contract), [
            {"tenant_id": tid, "firm_id": firm_ids[i // 2], "compound_id": c, "start_date": date(2024, 1, 1),
             "end_date": date(2030, 12, 31), "service_grade": "二级", "fee_mode": "包干制", "fee_rate": Decimal("0.85")}
            for i, c in enumerate(comp_ids)])
        std = build_standard(tid)
        cycles = []
        for n, (start, end) in enumerate(QUARTERS + [(date(2025, 1, 1), date(2025, 12, 31))]):
            kind = "annual" if n == 4 else "quarterly"
            ev = Evaluation(standard_id=std.id, kind=kind, name=f"2025年{'年度考核' if n == 4 else f'第{n + 1}季度季测评'}",
                            period_start=start, period_end=end, status="finalized", self_report_due=end,
                            review_due=end)
            db.session.add(ev)
            db.session.flush()
            params = {"t": tid, "e": ev.id, "s": std.id, "n": n}
            db.session.execute(text(
                "INSERT INTO assessment (tenant_id, evaluation_id, firm_id, compound_id, status, return_note, vetoed,"
                " breakdown) SELECT :t, :e, firm_id, compound_id, 'finalized', '', false, '{}' FROM contract"
                " WHERE tenant_id = :t"), params)
            # Self points: full marks, two points off on some items (a share that varies by assessment);
            # a review one point lower on about 1 in 13 of the others; a veto on about 1 in 150 assessments × item.
            db.session.execute(text(
                "INSERT INTO item_score (tenant_id, assessment_id, item_id, self_points, review_points, self_note,"
                " review_reason, vetoed)"
                " SELECT :t, a.id, i.id,"
                "  CASE WHEN i.kind = 'veto' THEN NULL"
                "   ELSE i.max_points - CASE WHEN (a.id * 7 + i.id * 3 + :n) % (2 + a.id % 9) = 0 THEN 2 ELSE 0 END END,"
                "  CASE WHEN i.kind <> 'veto' AND (a.id * 31 + i.id * 17 + :n) % 13 = 0"
                "   AND (a.id * 7 + i.id * 3 + :n) % (2 + a.id % 9) <> 0 THEN i.max_points - 1 END,"
                "  '', '', i.kind = 'veto' AND (a.id + i.id + :n) % 150 = 0"
                " FROM assessment a CROSS JOIN standard_item i"
                " WHERE a.evaluation_id = :e AND i.standard_id = :s"), params)
            cycles.append(ev.id)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return tid, cycles[:4], cycles[4]


def timed(tid: int, evaluation_id: int) -> tuple[float, int, dict]:
    from wuye_saas.evaluation import results
    from wuye_saas.tenancy import tenant_scope

    statements = []

    def count(*args, **kwargs):
        statements.append(1)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with tenant_scope(tid):
            started = time.perf_counter()
            out = results.compute(evaluation_id)
            db.session.commit()
            seconds = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.remove()
    return seconds, len(statements), out


def run_size(slug: str, firms: int) -> list[tuple]:
    from wuye_saas.evaluation.models import Assessment, ItemScore
    from wuye_saas.tenancy import tenant_scope

    started = time.perf_counter()
    tid, quarters, annual = seed(slug, firms)
    with tenant_scope(tid):
        n_scores = db.session.execute(select(func.count()).select_from(ItemScore)).scalar()
        n_assess = db.session.execute(select(func.count()).select_from(Assessment)).scalar()
    print(f"\n{firms} firms, {2 * firms} compounds: seeded {n_assess:,} assessments, {n_scores:,} item scores "
          f"in {time.perf_counter() - started:.1f} s")
    rows = []
    for i, ev in enumerate(quarters):
        s, n, out = timed(tid, ev)
        rows.append((f"Q{i + 1}", s, n, out["summary"]))
    s, n, out = timed(tid, annual)
    rows.append(("annual", s, n, out["summary"]))
    s, n, out = timed(tid, annual)
    rows.append(("annual again", s, n, out["summary"]))
    for name, s, n, summary in rows:
        print(f"  {name:13s} {s:6.2f} s  {n:3d} statements  {summary}")
    with tenant_scope(tid):
        sample = db.session.execute(select(Assessment.total, Assessment.stars, Assessment.list_kind, Assessment.rank)
                                    .where(Assessment.evaluation_id == annual).order_by(Assessment.rank)
                                    .limit(3)).all()
    print("  annual top 3:", [(str(t), s, lk, r) for t, s, lk, r in sample])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg", default=os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/x"),
                    help="a PostgreSQL URL whose server hosts the throwaway database")
    args = ap.parse_args()
    server = args.pg.rsplit("/", 1)[0]
    host = server.split("@")[-1].split(":")[0]
    if args.db == "postgresql":
        subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--if-exists", PG_NAME], check=True)
        subprocess.run(["createdb", "-h", host, "-U", "postgres", PG_NAME], check=True)
        url = f"{server}/{PG_NAME}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench_evaluation.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    try:
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
            print(f"database: {db.engine.dialect.name} {db.engine.dialect.server_version_info}")
            big = run_size("big", 600)
            small = run_size("small", 300)
            same = [b[2] for b in big] == [s[2] for s in small]
            print(f"\nstatements per computation, 600 vs 300 firms: {[b[2] for b in big]} vs "
                  f"{[s[2] for s in small]} → {'identical' if same else 'DIFFERENT'}")
    finally:
        with app.app_context():
            db.engine.dispose()
        if args.db == "postgresql":
            subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--if-exists", PG_NAME], check=True)


if __name__ == "__main__":
    main()
