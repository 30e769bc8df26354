"""质量保证金 release as a job, set-based: the number of SQL statements is the same for N and 3N
compounds and for more months (counted with an SQLAlchemy event, not timed); the job runs
inline on SQLite and through RQ on PostgreSQL/Redis with its progress on the release page; a
second re-run while one is unfinished is refused and writes nothing; the kept part credited to
the households' next bills, split exactly by what each bill withheld, shown on the bill and
taken off what the household owes; a changed result takes back only the difference."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import event, func, select

from wuye_saas.evaluation.models import Assessment, Evaluation
from wuye_saas.extensions import db
from wuye_saas.fees import billing, holdback, payments, sums
from wuye_saas.fees.models import Bill, BillingRun, FeePolicy, HoldbackCredit, HoldbackRelease, Payment
from wuye_saas.jobs import JobRun
from wuye_saas.money import allocate
from wuye_saas.publicity.models import LedgerEntry
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now

from .helpers import login, post
from .test_evaluation_results import make_evaluation, make_standard
from .test_holdback import APR, FEB, JAN, MAR, _bill, _compound, _in, _month_sums, _policy, _published, settled


def _statements(fn):
    """(statements sent while fn ran, fn's result): every cursor execution on the engine."""
    sent = []

    def count(conn, cursor, statement, *args):
        sent.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        out = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent), out


def _world_of(ns, first: int, compounds: int, months: list[date]):
    """`compounds` new compounds of firm 1, half under a ledger policy and half under a bills
    policy, billed for `months`; a published 季测评 covering them with 3★ (70 %)."""
    ledger, bills = _policy(name=f"留存入账{first}"), _policy(name=f"返还业主{first}", holdback_kept_to="bills")
    units, results = [], {}
    for i in range(compounds):
        cid, homes = _compound(ns, first + i)
        p = ledger if i % 2 else bills
        for mo in months:
            for k, h in enumerate(homes):
                _bill(p, h, cid, ns.firm1, mo, 10000 + 37 * k, 1000 + 37 * k)
        units.append((ns.firm1, cid))
        results[(ns.firm1, cid)] = (3, "75")
    ev = _published(make_standard(name=f"标准{first}"), units, results, name=f"季测评{first}")
    db.session.commit()
    return ev.id


def test_statements_do_not_grow_with_compounds_or_months(app, world):
    ns = world["alpha"]

    def count(first, compounds, months):
        def go():
            ev_id = _world_of(ns, first, compounds, months)
            n, out = _statements(lambda: holdback.release_evaluation(db.session.get(Evaluation, ev_id)))
            assert out.rows == compounds * len(months)
            again, nothing = _statements(lambda: holdback.release_evaluation(db.session.get(Evaluation, ev_id)))
            assert nothing.rows == 0
            return n, again
        return _in(app, ns, go)

    small = count(100, 2, [JAN])
    assert count(200, 6, [JAN]) == small             # 3N compounds
    assert count(300, 6, [JAN, FEB, MAR]) == small   # 3N compounds × 3 months
    # Both destinations were written (a ledger entry per ledger posting, a credit per household).
    def written():
        return (db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar(),
                db.session.execute(select(func.count()).select_from(HoldbackCredit)).scalar())
    assert _in(app, ns, written) == (1 + 3 + 9, (1 + 3 + 9) * 3)


def test_the_kept_part_credited_to_the_households_next_bills(app, world, client):
    """Policy: 10 % held back, kept part to the owners' next bills. A compound of three
    households withheld 1234 + 567 + 100 = 1901 in January; 3★ releases 70 % = 1330.7 → 1330,
    kept 571, split 1234 : 567 : 100 → 370.65 / 170.31 / 30.04 → 370 + 170 + 30 = 570, the
    remaining 分 to the largest remainder (the first) → 371 + 170 + 30 = 571."""
    ns = world["alpha"]

    def go():
        p = _policy(holdback_kept_to="bills")
        cid, homes = _compound(ns, 7)
        for h, hold in zip(homes, (1234, 567, 100)):
            _bill(p, h, cid, ns.firm1, JAN, hold * 10, hold)
        ev = _published(make_standard(), [(ns.firm1, cid)], {(ns.firm1, cid): (3, "75")})
        out = holdback.release_evaluation(db.session.get(Evaluation, ev.id))
        return ev.id, p.id, cid, homes, out
    ev_id, pid, cid, homes, out = _in(app, ns, go)
    assert (out.rows, out.released, out.kept) == (1, 1330, 571)

    def credits():
        return dict(db.session.execute(select(HoldbackCredit.household_id, func.sum(HoldbackCredit.amount_fen))
                                       .group_by(HoldbackCredit.household_id)).all())
    assert _in(app, ns, credits) == {homes[0]: 371, homes[1]: 170, homes[2]: 30}
    # No 公共收益 entry: the owners get it back on their bills.
    assert _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar()) == 0

    def april():
        """April's run bills two of the households: their credits go onto those bills (the third
        waits); a bill of the same month issued before by another run gets nothing."""
        br = BillingRun(month=APR, scope_kind="district", scope_label="全区")
        db.session.add(br)
        db.session.flush()
        ids = []
        for h in homes[:2]:
            b = Bill(household_id=h, compound_id=cid, firm_id=ns.firm1, policy_id=pid, billing_run_id=br.id,
                     month=APR, area=D("80"), rate=D("1"), base_fen=9000, gov_fen=0, firm_fen=0,
                     resident_fen=9000, holdback_fen=900)
            db.session.add(b)
            db.session.flush()
            ids.append(b.id)
        billing.attach_holdback_credits(br, [cid])
        sums.refresh(APR, [cid])
        return ids
    bill_ids = _in(app, ns, april)

    def attached():
        return dict(db.session.execute(select(HoldbackCredit.household_id, HoldbackCredit.bill_id)).all())
    assert _in(app, ns, attached) == {homes[0]: bill_ids[0], homes[1]: bill_ids[1], homes[2]: None}
    dues = _in(app, ns, lambda: {i: b.due for i, b in payments.balances(bill_ids).items()})
    assert dues == {bill_ids[0]: 9000 - 371, bill_ids[1]: 9000 - 170}

    login(client, "alpha-district")
    release_id = _in(app, ns, lambda: db.session.execute(select(HoldbackRelease.id)).scalar_one())
    page = client.get(f"/d/alpha/fees/holdback/{release_id}").get_data(as_text=True)
    assert "返还业主" in page and "¥3.71" in page and "¥1.70" in page and "¥0.30" in page
    assert "2026-04 账单" in page and "待下期账单开具后抵扣" in page
    page = client.get(f"/d/alpha/fees/bills/{bill_ids[0]}").get_data(as_text=True)
    assert "质量保证金返还 2026-01" in page and "¥3.71" in page and "¥86.29" in page   # 90.00 − 3.71

    def pay():   # 86.29 settles the bill: the list counts it as paid, payments.balance owes nothing
        db.session.add(Payment(bill_id=bill_ids[0], amount_fen=9000 - 371, method="现金", receipt_no="HB-1",
                               paid_on=date(2026, 4, 5)))
        db.session.flush()
        return payments.balance(bill_ids[0]).owed
    assert _in(app, ns, pay) == 0
    listing = client.get("/d/alpha/fees/bills/?month=2026-04&status=paid").get_data(as_text=True)
    assert "共 1 条" in listing

    # An appeal lifts the result to 5★ (100 %): nothing is kept any more, so each household's
    # credit is taken back exactly (−371, −170, −30), waiting for their next bills.
    def appeal():
        a = db.session.execute(select(Assessment).where(Assessment.evaluation_id == ev_id)).scalar_one()
        a.stars, a.total = 5, D("95")
        db.session.flush()
        return holdback.release_evaluation(db.session.get(Evaluation, ev_id), "appeal")
    out = _in(app, ns, appeal)
    assert (out.rows, out.released, out.kept) == (1, 571, -571)
    assert _in(app, ns, credits) == {homes[0]: 0, homes[1]: 0, homes[2]: 0}
    assert _in(app, ns, lambda: _month_sums()) == {(cid, JAN): (1901, 1901, 0)}
    taken_back = _in(app, ns, lambda: sorted(db.session.execute(
        select(HoldbackCredit.household_id, HoldbackCredit.amount_fen).where(HoldbackCredit.amount_fen < 0)).all()))
    assert taken_back == sorted([(homes[0], -371), (homes[1], -170), (homes[2], -30)])
    # Once more: nothing.
    assert _in(app, ns, lambda: holdback.release_evaluation(db.session.get(Evaluation, ev_id), "appeal").rows) == 0


def test_credits_split_exactly_whatever_the_weights():
    for kept, weights in ((571, {1: 1234, 2: 567, 3: 100}), (1, {1: 5, 2: 5}), (10 ** 9 + 7, {1: 3, 2: 3, 3: 3}),
                          (100, {1: 0, 2: 0}), (0, {1: 10})):
        shares = holdback.household_shares(kept, weights, {})
        assert sum(shares.values()) == kept and all(v >= 0 for v in shares.values())
        expected = allocate(kept, [D(weights[h]) for h in sorted(weights)])     # money.allocate's rule
        assert [shares.get(h, 0) for h in sorted(weights)] == expected
    # A later posting changes each household's credit by its new share less what it has.
    assert holdback.household_shares(300, {1: 1, 2: 2}, {1: 190, 2: 381}) == {1: -90, 2: -181}
    assert holdback.household_shares(2, {1: 1, 2: 1}, {1: 1, 2: 1}) == {}


def test_the_job_from_publish_shows_its_progress_and_a_second_rerun_is_refused(app, world, client):
    """Publishing starts the job (inline on SQLite, RQ on PostgreSQL/Redis); the release page
    shows its card to the district; while a run is unfinished, the re-run is refused and
    starts nothing; the firm sees its own rows and no card."""
    from .test_appeals import finalized_and_published

    ns = world["alpha"]

    def bills():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 18010, 1801)
        _bill(p, ns.household2, ns.compound2, ns.firm2, JAN, 4440, 444)
    _in(app, ns, bills)
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    (done,) = settled(app, ns, ev.id)
    assert done["status"] == "done" and done["progress"] == 100
    assert done["result"]["rows"] == 2 and done["result"]["released"] == 1620 and done["result"]["kept"] == 625
    page = client.get(f"/d/alpha/fees/holdback/?evaluation={ev.id}").get_data(as_text=True)
    assert "job-status" in page and "已记 2 笔" in page and "¥16.20" in page
    # The audit log shows the run's summary entry in Chinese, with its counts and sums.
    log = client.get("/d/alpha/audit/?entity=evaluation&action=create").get_data(as_text=True)
    name = _in(app, ns, lambda: db.session.get(Evaluation, ev.id).name)
    assert f"质量保证金释放：{name}（考核结果发布）" in log
    assert "质量保证金释放笔数" in log and "返还企业" in log

    def hold_the_lock():   # a run of this evaluation still going (a live worker beating)
        run = JobRun(kind=f"holdback:{ev.id}", label="质量保证金释放：进行中", func="x:y", status="running",
                     lock_key=f"holdback:{ev.id}", heartbeat_at=now(), created_at=now() - timedelta(seconds=5))
        db.session.add(run)
    _in(app, ns, hold_the_lock)
    resp = post(client, f"/d/alpha/fees/holdback/evaluations/{ev.id}/release")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "正在核算" in page and "请等它完成后再重新核算" in page
    assert _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(JobRun).where(
        JobRun.kind == f"holdback:{ev.id}")).scalar()) == 2    # nothing more started
    assert _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(HoldbackRelease)).scalar()) == 2

    client.post("/logout")
    login(client, "alpha-firm")
    page = client.get("/d/alpha/fees/holdback/").get_data(as_text=True)
    assert "job-status" not in page and "甲区1号小区" in page and "甲区2号小区" not in page
    assert post(client, f"/d/alpha/fees/holdback/evaluations/{ev.id}/release").status_code == 403
    client.post("/logout")
    login(client, "beta-district")
    assert post(client, f"/d/beta/fees/holdback/evaluations/{ev.id}/release").status_code == 404


def test_two_releases_at_once_post_once(app, world):
    """A publish and an appeal meeting: the second run (queued under the second key) posts
    nothing when nothing changed; running the release twice posts once."""
    from wuye_saas.fees import holdback_jobs

    ns = world["alpha"]

    def go():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 18010, 1801)
        ev = _published(make_standard(), [(ns.firm1, ns.compound1)], {(ns.firm1, ns.compound1): (4, "86")})
        db.session.commit()
        return ev.id
    ev_id = _in(app, ns, go)
    with app.test_request_context(), tenant_scope(ns.tenant_id):
        ev = db.session.get(Evaluation, ev_id)
        first = holdback_jobs.submit(ev, "publish")
        second = holdback_jobs.submit(db.session.get(Evaluation, ev_id), "appeal")
        assert first is not None and second is not None
    outcomes = settled(app, ns, ev_id)
    assert [o["status"] for o in outcomes] == ["done", "done"]
    assert sorted(o["result"]["rows"] for o in outcomes) == [0, 1]
    assert _in(app, ns, _month_sums) == {(ns.compound1, JAN): (1801, 1620, 181)}
    assert _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar()) == 1


def test_policy_form_chooses_where_the_kept_part_goes(app, world, client):
    login(client, "alpha-district")
    page = client.get("/d/alpha/fees/policies/new").get_data(as_text=True)
    assert 'name="holdback_kept_to"' in page and ">返还业主<" in page
    base = {"name": "返还业主的政策", "basis": "per_m2", "price_regime": "市场调节价", "fee_mode": "包干制",
            "valid_from": "2026-01-01", "rate_1": "1.2", "gov_mode": "none", "holdback_percent": "10",
            "holdback_kind": "quarterly", "holdback_basis": "stars", "gov_trial_months": "0",
            "band_min_1": "5", "band_pct_1": "100", "holdback_kept_to": "bills"}
    resp = post(client, "/d/alpha/fees/policies/new", {**base, "holdback_kept_to": "owners"})
    assert resp.status_code == 422
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(func.count()).select_from(FeePolicy)).scalar() == 0
    resp = post(client, "/d/alpha/fees/policies/new", base)
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(FeePolicy.holdback_kept_to)).scalar_one() == "bills"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "按各户暂扣金额比例返还业主，抵扣下期物业费" in page
