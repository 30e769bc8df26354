"""Credit records from the publicity schedule, demands and exits (credit/sources.py): each
written once under its source key, by the daily job and the command, with hand-checked dates
and points."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from wuye_saas.credit import grading, sources
from wuye_saas.credit.jobs import sync_sources
from wuye_saas.credit.models import CreditRecord, CreditRecordKind, CreditRule
from wuye_saas.demands.models import Demand, DemandCategory
from wuye_saas.extensions import db
from wuye_saas.jobs import create_run, start
from wuye_saas.publicity.models import LedgerKeeper, Publication, PublicityRequirement

from .helpers import wait_for_job
from .test_credit import _in, seeded


def records(app, ns, prefix):
    return _in(app, ns, lambda: [
        (r.firm_id, r.kind.code, str(r.points), r.occurred_on, r.valid_until, r.source, r.serious)
        for r in db.session.execute(select(CreditRecord).where(CreditRecord.source_ref.like(f"{prefix}%"))
                                    .order_by(CreditRecord.id)).scalars()])


def _publication(compound_id, seq, published_at):
    return Publication(compound_id=compound_id, seq=seq, kind="disclosure", title="物业服务信息公开",
                       period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), content={}, content_hash="0" * 64,
                       published_at=published_at)


def test_missed_publications_make_one_bad_record_each(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    # 民法典 943 disclosure, half-yearly with 15 days' grace: on 2026-08-01 the half-year ending
    # 06-30 is due (deadline 07-15).
    _in(app, ns, lambda: db.session.add(PublicityRequirement(kind="disclosure", frequency="half_yearly",
                                                             grace_days=15)))
    # Compound 2 published in time (07-10 Shanghai): nothing for firm 2. Compound 1 nothing yet.
    _in(app, ns, lambda: db.session.add(_publication(ns.compound2, 1, datetime(2026, 7, 10, 2))))
    assert _in(app, ns, lambda: sources.sync_publicity(date(2026, 8, 1))) == 1
    day = date(2026, 7, 16)                    # the day after the deadline
    assert records(app, ns, "publicity:") == [
        (ns.firm1, "publicity_missed", "-3.00", day, day + timedelta(days=365), "publicity", False)]
    title, evidence = _in(app, ns, lambda: db.session.execute(select(CreditRecord.title, CreditRecord.evidence)).one())
    assert title == "甲区1号小区物业服务信息公开（民法典第943条）（2026-01-01至2026-06-30）未按期公示"
    assert "应于 2026-07-15 前公示；截至 2026-08-01 未公示" in evidence
    # Published late afterwards, or the job run again: nothing more.
    _in(app, ns, lambda: db.session.add(_publication(ns.compound1, 1, datetime(2026, 8, 2, 2))))
    assert _in(app, ns, lambda: sources.sync_publicity(date(2026, 8, 3))) == 0
    assert len(records(app, ns, "publicity:")) == 1
    assert str(_in(app, ns, lambda: grading.standing(ns.firm1, date(2026, 8, 3)).score)) == "77.00"   # 80 − 3


def test_a_late_publication_found_afterwards_still_counts(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    _in(app, ns, lambda: db.session.add(PublicityRequirement(kind="disclosure", frequency="half_yearly",
                                                             grace_days=15)))
    _in(app, ns, lambda: db.session.add_all([_publication(ns.compound1, 1, datetime(2026, 7, 20, 2)),
                                             _publication(ns.compound2, 1, datetime(2026, 7, 15, 15))]))
    # Compound 2's is 07-15 23:00 Shanghai: in time on the deadline day. Compound 1's is late.
    assert _in(app, ns, lambda: sources.sync_publicity(date(2026, 8, 1))) == 1
    evidence = _in(app, ns, lambda: db.session.execute(select(CreditRecord.evidence)).scalar_one())
    assert "于 2026-07-20 逾期公示" in evidence


def test_public_revenue_statements_count_against_the_firm_only_when_it_keeps_the_ledger(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    _in(app, ns, lambda: db.session.add(PublicityRequirement(kind="ledger_statement", ledger_kind="public_revenue",
                                                             frequency="quarterly", grace_days=15)))
    # By default the committee keeps the 公共收益 ledger: not the firm's duty.
    assert _in(app, ns, lambda: sources.sync_publicity(date(2026, 8, 1))) == 0
    _in(app, ns, lambda: db.session.add(LedgerKeeper(kind="public_revenue", keeper="firm")))
    # 扬州: −5 for each failure to publicise public revenue; Q2 due by 07-15.
    assert _in(app, ns, lambda: sources.sync_publicity(date(2026, 8, 1))) == 2
    day = date(2026, 7, 16)
    assert records(app, ns, "publicity:") == [
        (ns.firm1, "revenue_publicity", "-5.00", day, day + timedelta(days=365), "publicity", False),
        (ns.firm2, "revenue_publicity", "-5.00", day, day + timedelta(days=365), "publicity", False)]
    # A deactivated kind writes nothing (the next quarter, due on 10-16).
    _in(app, ns, lambda: setattr(db.session.execute(select(CreditRecordKind).where(
        CreditRecordKind.code == "revenue_publicity")).scalar_one(), "active", False))
    assert _in(app, ns, lambda: sources.sync_publicity(date(2026, 10, 16))) == 0


def _demands(ns, firm_id, compound_id, escalations):
    cat = db.session.execute(select(DemandCategory)).scalar_one_or_none()
    if cat is None:
        cat = DemandCategory(name="维修")
        db.session.add(cat)
        db.session.flush()
    n = db.session.execute(select(db.func.count(Demand.id))).scalar()
    for i, at in enumerate(escalations, start=n + 1):
        db.session.add(Demand(number=f"SQ20260701-{i:04d}", compound_id=compound_id, category_id=cat.id,
                              channel="hotline_12345", title="漏水", status="accepted", deadline_at=at - timedelta(hours=1),
                              assignee_kind="firm", firm_id=firm_id, escalated_at=at))


def test_escalated_demands_reaching_the_threshold_make_one_record_a_month(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    # Firm 1: three escalations in July (Shanghai) — the third 07-31 23:00 Shanghai (15:00 UTC).
    # Firm 2: two in July and one at 08-01 00:30 Shanghai (07-31 16:30 UTC): August's.
    _in(app, ns, lambda: _demands(ns, ns.firm1, ns.compound1, [datetime(2026, 7, 3, 2), datetime(2026, 7, 9, 2),
                                                               datetime(2026, 7, 31, 15)]))
    _in(app, ns, lambda: _demands(ns, ns.firm2, ns.compound2, [datetime(2026, 7, 3, 2), datetime(2026, 7, 9, 2),
                                                               datetime(2026, 7, 31, 16, 30)]))
    assert _in(app, ns, lambda: sources.sync_demands(date(2026, 8, 2))) == 1
    assert records(app, ns, "demands:") == [
        (ns.firm1, "overdue_demands", "-2.00", date(2026, 7, 31), date(2027, 7, 31), "demands", False)]
    title = _in(app, ns, lambda: db.session.execute(select(CreditRecord.title)).scalar_one())
    assert title == "2026年7月逾期升级诉求 3 件"
    assert _in(app, ns, lambda: sources.sync_demands(date(2026, 8, 3))) == 0
    # The district's threshold: 2 a month → firm 2's July (two) too, once.
    _in(app, ns, lambda: setattr(db.session.execute(select(CreditRule)).scalar_one(), "overdue_demands_threshold", 2))
    assert _in(app, ns, lambda: sources.sync_demands(date(2026, 8, 3))) == 1
    assert _in(app, ns, lambda: sources.sync_demands(date(2026, 8, 3))) == 0
    assert [r[:2] + (r[3],) for r in records(app, ns, "demands:")] == [
        (ns.firm1, "overdue_demands", date(2026, 7, 31)), (ns.firm2, "overdue_demands", date(2026, 7, 9))]


def test_exit_refusal_is_recorded_once_and_blacklists(app, world):
    ns = world["alpha"]
    seeded(app, ns, base="90")

    def refuse():
        r = sources.record_exit_refusal(ns.firm1, ns.compound1, date(2026, 5, 1), "exit:7:refusal", "合同已于 4 月 30 日终止。")
        return r.id
    first, again = _in(app, ns, refuse), _in(app, ns, refuse)
    assert first == again
    assert records(app, ns, "exit:") == [
        (ns.firm1, "exit_refusal", "-20.00", date(2026, 5, 1), date(2027, 5, 1), "exit", True)]
    assert _in(app, ns, lambda: db.session.get(CreditRecord, first).title) == "甲区1号小区合同终止后拒不退出"
    s = _in(app, ns, lambda: grading.standing(ns.firm1, date(2026, 5, 1)))
    assert (str(s.score), s.grade) == ("70.00", "黑名单")


def test_kinds_are_added_when_missing(app, world):
    ns = world["alpha"]                       # no defaults loaded
    r = _in(app, ns, lambda: sources.record_exit_refusal(ns.firm1, ns.compound1, date(2026, 5, 1), "exit:1", ""))
    assert r is not None
    assert _in(app, ns, lambda: db.session.execute(select(CreditRecordKind.code)).scalars().all()) == ["exit_refusal"]


def test_the_daily_job_and_the_command(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    _in(app, ns, lambda: db.session.add(PublicityRequirement(kind="disclosure", frequency="half_yearly",
                                                             grace_days=15)))
    _in(app, ns, lambda: _demands(ns, ns.firm1, ns.compound1, [datetime(2026, 7, d, 2) for d in (1, 2, 3)]))

    def run(at_iso):
        return _in(app, ns, lambda: (lambda r: (start(r), r.id)[1])(create_run(sync_sources, "测试", at_iso)))
    # 2026-08-02 16:30 UTC is 08-03 00:30 Shanghai.
    out = wait_for_job(app, run("2026-08-02T16:30:00"))
    assert out["status"] == "done" and out["result"] == {"day": "2026-08-03", "publicity": 2, "demands": 1}
    assert wait_for_job(app, run("2026-08-03T16:30:00"))["result"] == {"day": "2026-08-04", "publicity": 0,
                                                                       "demands": 0}
    res = app.test_cli_runner().invoke(args=["credit-sources", "alpha", "--on", "2026-08-05"])
    assert res.exit_code == 0 and "公示 0 条，诉求 0 条" in res.output, res.output
    res = app.test_cli_runner().invoke(args=["credit-sources", "nowhere"])
    assert res.exit_code != 0 and "不存在" in res.output
    # The other district is untouched.
    assert _in(app, world["beta"], lambda: db.session.execute(select(db.func.count(CreditRecord.id))).scalar()) == 0
