"""信用档案 rules: hand-computed scores and grades over time (a record stops counting on its
validity date, a revoked record from the day of revocation), 黑名单 and the 警示名单, the base from
the latest annual result, append-only records, quarterly snapshots that do not move, and the
records that follow published evaluations and upheld appeals."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from wuye_saas.audit import acting_as
from wuye_saas.credit import defaults, grading, records
from wuye_saas.credit.jobs import snapshot_quarter
from wuye_saas.credit.models import CreditGrade, CreditRecord, CreditRecordChanged, CreditRecordKind, CreditRule
from wuye_saas.evaluation.models import Appeal, Assessment, Evaluation, Standard
from wuye_saas.extensions import db
from wuye_saas.jobs import create_run, start
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post, wait_for_job
from .test_appeals import _latest_run, confirmed_cycle, finalized_and_published
from .test_evaluation_results import enter


def _in(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def seeded(app, ns, base_source="fixed", base="80"):
    def go():
        defaults.seed_defaults()
        r = db.session.execute(select(CreditRule)).scalar_one()
        r.base_source, r.base_points = base_source, D(base)
    _in(app, ns, go)


def kind(code) -> CreditRecordKind:
    return db.session.execute(select(CreditRecordKind).where(CreditRecordKind.code == code)).scalar_one()


def add(app, ns, firm_id, code, on: date) -> int:
    return _in(app, ns, lambda: (lambda r: (db.session.flush(), r.id)[1])(
        records._new_record(firm_id, kind(code), on, kind(code).name, "staff", "测试事实", None)))


def standing(app, ns, firm_id, on):
    return _in(app, ns, lambda: grading.standing(firm_id, on))


def test_score_and_grade_over_time_a_record_stops_counting_on_its_validity_date(app, world):
    ns = world["alpha"]
    seeded(app, ns)                                                 # fixed base 80
    add(app, ns, ns.firm1, "honour_province", date(2025, 3, 1))     # +4 until 2026-03-01
    add(app, ns, ns.firm1, "fee_publicity", date(2025, 9, 1))       # −5 until 2026-09-01
    add(app, ns, ns.firm1, "honour_street", date(2025, 12, 1))      # +1 until 2026-12-01
    expected = {
        date(2025, 2, 28): ("80.00", "AA"),      # nothing yet
        date(2025, 3, 1): ("84.00", "AA"),       # 80 + 4
        date(2025, 9, 1): ("79.00", "A"),        # 80 + 4 − 5
        date(2025, 12, 1): ("80.00", "AA"),      # 80 + 4 − 5 + 1
        date(2026, 2, 28): ("80.00", "AA"),      # the +4 still counts on its last day …
        date(2026, 3, 1): ("76.00", "A"),        # … and not on its validity date: 80 − 5 + 1
        date(2026, 9, 1): ("81.00", "AA"),       # the −5 expired: 80 + 1
        date(2026, 12, 1): ("80.00", "AA"),      # all expired
    }
    for day, (score, grade) in expected.items():
        s = standing(app, ns, ns.firm1, day)
        assert (str(s.score), s.grade) == (score, grade), day
    s = standing(app, ns, ns.firm1, date(2026, 3, 1))
    assert (s.base, s.good, s.bad, s.bad_count) == (D("80"), D("1.00"), D("5.00"), 1)
    # The other firm and the other district are untouched.
    assert str(standing(app, ns, ns.firm2, date(2025, 9, 1)).score) == "80.00"


def test_bands_are_the_districts(app, world):
    ns = world["alpha"]
    seeded(app, ns, base="60")
    for base, grade in (("85", "AAA"), ("84.99", "AA"), ("80", "AA"), ("70", "A"), ("69.99", "B"), ("60", "B"),
                        ("59.99", "C")):
        _in(app, ns, lambda: setattr(db.session.execute(select(CreditRule)).scalar_one(), "base_points", D(base)))
        assert standing(app, ns, ns.firm1, date(2026, 1, 1)).grade == grade, base


def test_serious_record_blacklists_and_warning_list(app, world):
    ns = world["alpha"]
    seeded(app, ns, base="95")
    add(app, ns, ns.firm1, "exit_refusal", date(2026, 1, 10))          # serious, −20
    s = standing(app, ns, ns.firm1, date(2026, 1, 10))
    assert (str(s.score), s.grade, s.warned, s.serious_count) == ("75.00", "黑名单", True, 1)
    assert standing(app, ns, ns.firm1, date(2026, 1, 9)).grade == "AAA"        # the day before
    assert standing(app, ns, ns.firm1, date(2027, 1, 10)).grade == "AAA"       # a year later, expired
    # Repeated bad records: warned at the district's count (default 3), not before.
    for i, on in enumerate((date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 3)), start=1):
        add(app, ns, ns.firm2, "criticised", on)
        s = standing(app, ns, ns.firm2, on)
        assert (s.bad_count, s.warned, str(s.score)) == (i, i >= 3, str(D("95") - 3 * i) + ".00")
    _in(app, ns, lambda: setattr(db.session.execute(select(CreditRule)).scalar_one(), "warning_bad_count", 4))
    assert not standing(app, ns, ns.firm2, date(2026, 2, 3)).warned


def test_a_revoked_record_stops_counting_from_the_day_of_revocation(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    d = today()
    rec = add(app, ns, ns.firm1, "court_judgment", d - timedelta(days=10))          # −5
    assert str(standing(app, ns, ns.firm1, d).score) == "75.00"
    login(client, "alpha-district")
    url = f"/d/alpha/credit/records/{rec}"
    page = client.get(url + "?revoke=1").get_data(as_text=True)
    assert "确认撤销" in page and "不能恢复" in page
    resp = post(client, url + "/revoke", {"reason": " "})
    assert resp.status_code == 422 and "请填写撤销原因" in resp.get_data(as_text=True)
    assert _in(app, ns, lambda: db.session.get(CreditRecord, rec).revoked_at) is None
    resp = post(client, url + "/revoke", {"reason": "判决已被二审撤销"})
    assert resp.status_code == 302
    r = _in(app, ns, lambda: (lambda x: (db.session.expunge(x), x)[1])(db.session.get(CreditRecord, rec)))
    assert (r.revoked_on, r.revoke_reason, r.points) == (d, "判决已被二审撤销", D("-5.00"))
    assert str(standing(app, ns, ns.firm1, d).score) == "80.00"
    assert str(standing(app, ns, ns.firm1, d - timedelta(days=1)).score) == "75.00"   # the past does not move
    # Once only.
    resp = post(client, url + "/revoke", {"reason": "再撤销"})
    assert resp.status_code == 422 and "该记录已撤销" in resp.get_data(as_text=True)
    page = client.get(f"/d/alpha/credit/firms/{ns.firm1}").get_data(as_text=True)
    assert "已撤销" in page


def test_records_are_append_only(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    rec = add(app, ns, ns.firm1, "criticised", date(2026, 1, 5))
    for change in (lambda r: setattr(r, "points", D("-1")), lambda r: setattr(r, "valid_until", date(2026, 2, 1)),
                   lambda r: db.session.delete(r)):
        with app.app_context(), tenant_scope(ns.tenant_id):
            change(db.session.get(CreditRecord, rec))
            with pytest.raises(CreditRecordChanged):
                db.session.flush()
            db.session.rollback()
    with app.app_context(), tenant_scope(ns.tenant_id):
        r = db.session.get(CreditRecord, rec)
        records._revoke(r, "第一次", None)
        db.session.commit()
        r.revoke_reason = "改写原因"
        with pytest.raises(CreditRecordChanged):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(CreditRecord, rec).revoke_reason == "第一次"


def test_base_is_the_latest_published_annual_result(app, world):
    ns = world["alpha"]
    seeded(app, ns, base_source="evaluation", base="70")

    def annual(name, totals, published_at, status="published"):
        std = Standard(name=f"{name}标准", status="active", unit="compound")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="annual", name=name, period_start=date(2025, 1, 1),
                        period_end=date(2025, 12, 31), status=status, self_report_due=date(2026, 1, 10),
                        review_due=date(2026, 1, 20), published_at=published_at)
        db.session.add(ev)
        db.session.flush()
        for compound, total in zip((ns.compound1, ns.compound2), totals):
            db.session.add(Assessment(evaluation_id=ev.id, firm_id=ns.firm1, compound_id=compound, total=D(total)))

    # Published 2025-01-20 10:00 Shanghai (02:00 UTC), then 2026-01-20 (23:30 Shanghai = 15:30 UTC).
    _in(app, ns, lambda: annual("2024年度考核", ["60", "62"], datetime(2025, 1, 20, 2, 0)))
    _in(app, ns, lambda: annual("2025年度考核", ["90", "86.5"], datetime(2026, 1, 20, 15, 30)))
    _in(app, ns, lambda: annual("2026年度考核（未发布）", ["50", "50"], None, status="finalized"))
    assert standing(app, ns, ns.firm1, date(2025, 1, 19)).base == D("70")          # no result yet: configured
    assert standing(app, ns, ns.firm1, date(2025, 6, 1)).base == D("61.00")        # (60 + 62) / 2
    assert standing(app, ns, ns.firm1, date(2026, 1, 20)).base == D("88.25")       # the Shanghai day it was published
    s = standing(app, ns, ns.firm1, date(2026, 1, 21))
    assert (s.base, s.grade) == (D("88.25"), "AAA")
    assert standing(app, ns, ns.firm2, date(2026, 1, 21)).base == D("70")         # not assessed


def test_quarter_snapshots_are_kept_and_do_not_move(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    assert grading.quarter_end(date(2026, 2, 14)) == date(2026, 3, 31)
    assert grading.quarter_end(date(2026, 12, 31)) == date(2026, 12, 31)
    assert grading.last_finished_quarter_end(date(2026, 3, 31)) == date(2025, 12, 31)
    assert grading.last_finished_quarter_end(date(2026, 4, 1)) == date(2026, 3, 31)
    add(app, ns, ns.firm1, "fee_publicity", date(2026, 2, 1))                     # −5
    assert _in(app, ns, lambda: grading.take_snapshot(date(2026, 3, 31))) == 2
    # A record dated back into the quarter, after the snapshot: today's view changes, the kept one does not.
    add(app, ns, ns.firm1, "revenue_publicity", date(2026, 3, 15))                # −5
    assert _in(app, ns, lambda: grading.take_snapshot(date(2026, 3, 31))) == 0
    rows = _in(app, ns, lambda: [(g.firm_id, str(g.score), g.grade, str(g.bad)) for g in db.session.execute(
        select(CreditGrade).order_by(CreditGrade.firm_id)).scalars()])
    assert rows == [(ns.firm1, "75.00", "A", "5.00"), (ns.firm2, "80.00", "AA", "0.00")]
    assert str(standing(app, ns, ns.firm1, date(2026, 3, 31)).score) == "70.00"


def test_snapshot_job_takes_the_last_finished_quarter_once(app, world):
    ns = world["alpha"]
    seeded(app, ns)

    def run(at_iso):
        return _in(app, ns, lambda: (lambda r: (start(r), r.id)[1])(create_run(snapshot_quarter, "测试", at_iso)))

    # 2026-07-01 00:30 Shanghai is 2026-06-30 16:30 UTC: the quarter ending 06-30 is over.
    out = wait_for_job(app, run("2026-06-30T16:30:00"))
    assert out["status"] == "done" and out["result"] == {"quarter_end": "2026-06-30", "written": 2}
    out = wait_for_job(app, run("2026-07-01T16:30:00"))
    assert out["result"] == {"quarter_end": "2026-06-30", "written": 0}


# --- records from published evaluations ---------------------------------------------------------------

def eval_records(app, ns):
    return _in(app, ns, lambda: [
        (r.firm_id, r.kind.code, str(r.points), r.source, r.revoked_at is not None)
        for r in db.session.execute(select(CreditRecord).where(CreditRecord.source_ref.like("evaluation:%"))
                                    .order_by(CreditRecord.id)).scalars()])


def test_publishing_writes_list_records_once(app, world, client):
    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    # Firm 2 on the 黑榜 (55.00): a bad record of −6, dated the publication day; firm 1 unlisted.
    assert eval_records(app, ns) == [(ns.firm2, "eval_black", "-6.00", "evaluation", False)]
    occurred, until, evidence, title = _in(app, ns, lambda: db.session.execute(select(
        CreditRecord.occurred_on, CreditRecord.valid_until, CreditRecord.evidence, CreditRecord.title)).one())
    assert occurred == today() and until == today() + timedelta(days=365)
    assert "黑榜，总分 55.00" in evidence and title == "2026年第一季度季测评：考核列入黑榜"
    assert str(standing(app, ns, ns.firm2, today()).score) == "74.00"          # 80 − 6
    # Running it again (a second publication attempt, a recompute with no change) writes nothing.
    assert _in(app, ns, lambda: records.sync_evaluation(db.session.get(Evaluation, ev.id))) == (0, 0)
    assert len(eval_records(app, ns)) == 1


def test_evaluation_kinds_not_configured_write_nothing(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    _in(app, ns, lambda: setattr(db.session.execute(select(CreditRule)).scalar_one(), "evaluation_kinds", ["annual"]))
    finalized_and_published(app, world, client)
    assert eval_records(app, ns) == []


def test_upheld_appeal_onto_the_red_list_adds_the_record(app, world, client):
    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/results/assessments/{a1}/appeal", {"item_id": str(std.items["b1"]), "reason": "已整改"})
    client.post("/logout")
    login(client, "alpha-district")
    appeal_id = _in(app, ns, lambda: db.session.execute(select(Appeal.id)).scalar_one())
    post(client, f"/d/alpha/appeals/{appeal_id}/decide", {"outcome": "uphold", "occurrences": "1", "decision": "属实"})
    out = wait_for_job(app, _latest_run(app, ns, ev.id))
    assert (out["result"]["credit_records"], out["result"]["credit_revoked"]) == (1, 0)
    assert eval_records(app, ns) == [(ns.firm2, "eval_black", "-6.00", "evaluation", False),
                                     (ns.firm1, "eval_red", "3.00", "appeal", False)]
    assert str(standing(app, ns, ns.firm1, today()).score) == "83.00"


def test_appeal_that_lifts_a_veto_revokes_the_listing_record(app, world, client):
    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    _in(app, ns, lambda: enter(std, a1, "v1", vetoed=True))
    login(client, "alpha-district")
    post(client, f"/d/alpha/evaluations/{ev.id}/finalize")
    wait_for_job(app, _latest_run(app, ns, ev.id))
    post(client, f"/d/alpha/evaluations/{ev.id}/publish")
    # Firm 1 vetoed (and so on the 黑榜): one serious veto record in place of the 黑榜 one.
    assert eval_records(app, ns) == [(ns.firm1, "eval_veto", "-10.00", "evaluation", False),
                                     (ns.firm2, "eval_black", "-6.00", "evaluation", False)]
    s = standing(app, ns, ns.firm1, today())
    assert (str(s.score), s.grade, s.warned) == ("70.00", "黑名单", True)
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/results/assessments/{a1}/appeal", {"item_id": str(std.items["v1"]), "reason": "不属实"})
    client.post("/logout")
    login(client, "alpha-district")
    appeal_id = _in(app, ns, lambda: db.session.execute(select(Appeal.id)).scalar_one())
    post(client, f"/d/alpha/appeals/{appeal_id}/decide", {"outcome": "uphold", "decision": "经查与物业无关"})
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"
    assert eval_records(app, ns) == [(ns.firm1, "eval_veto", "-10.00", "evaluation", True),
                                     (ns.firm2, "eval_black", "-6.00", "evaluation", False)]
    reason = _in(app, ns, lambda: db.session.execute(select(CreditRecord.revoke_reason).where(
        CreditRecord.firm_id == ns.firm1)).scalar_one())
    assert reason == "2026年第一季度季测评结果经申诉改判，不再一票否决"
    s = standing(app, ns, ns.firm1, today())
    assert (str(s.score), s.grade, s.warned) == ("80.00", "AA", False)


def test_snapshot_command(app, world):
    ns = world["alpha"]
    seeded(app, ns)
    runner = app.test_cli_runner()
    res = runner.invoke(args=["credit-snapshot", "alpha", "--quarter-end", "2026-03-31"])
    assert res.exit_code == 0 and "新保存 2 家企业" in res.output, res.output
    res = runner.invoke(args=["credit-snapshot", "alpha", "--quarter-end", "2026-03-31"])
    assert "新保存 0 家企业" in res.output
    res = runner.invoke(args=["credit-snapshot", "alpha", "--quarter-end", "2026-03-30"])
    assert res.exit_code != 0 and "不是已结束的季度末" in res.output
    res = runner.invoke(args=["credit-snapshot", "nowhere"])
    assert res.exit_code != 0 and "不存在" in res.output
    assert _in(app, ns, lambda: db.session.execute(select(CreditGrade.quarter_end).distinct()).scalars().all()) \
        == [date(2026, 3, 31)]


def test_appeal_that_lifts_a_firm_off_the_black_list_revokes_the_listing_record(app, world, client):
    from wuye_saas.auth.models import Membership, User
    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    assert str(standing(app, ns, ns.firm2, today()).score) == "74.00"                 # 80 − 6 (黑榜)

    def manage_firm2():
        uid = db.session.execute(select(User.id).where(User.username == "alpha-firm")).scalar_one()
        db.session.execute(select(Membership).where(Membership.user_id == uid)).scalar_one().firm_id = ns.firm2
    _in(app, ns, manage_firm2)
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/results/assessments/{a2}/appeal", {"item_id": str(std.items["b1"]), "reason": "多计扣分"})
    client.post("/logout")
    login(client, "alpha-district")
    appeal_id = _in(app, ns, lambda: db.session.execute(select(Appeal.id)).scalar_one())
    # b1: 30 − 7 × 2 = 16 instead of 0 → 71.00, 3★: off the 黑榜, onto the 黄榜 (below 75).
    post(client, f"/d/alpha/appeals/{appeal_id}/decide", {"outcome": "uphold", "occurrences": "7", "decision": "复核"})
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"
    assert _in(app, ns, lambda: db.session.get(Assessment, a2).list_kind) == "yellow"
    assert eval_records(app, ns) == [(ns.firm2, "eval_black", "-6.00", "evaluation", True),
                                     (ns.firm2, "eval_yellow", "-3.00", "appeal", False)]
    reason = _in(app, ns, lambda: db.session.execute(select(CreditRecord.revoke_reason).where(
        CreditRecord.revoked_at.is_not(None))).scalar_one())
    assert reason == "2026年第一季度季测评结果经申诉改判，不再列入黑榜"
    assert str(standing(app, ns, ns.firm2, today()).score) == "77.00"                 # 80 − 3
    # The recompute again (重新计算) writes and revokes nothing.
    assert _in(app, ns, lambda: records.sync_evaluation(db.session.get(Evaluation, ev.id), "appeal")) == (0, 0)
