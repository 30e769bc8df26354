"""质量保证金 released by evaluation results: hand-computed releases for each star band over
several compounds and months, the parts adding up exactly, the kept part in the compound's
公共收益 ledger, publishing twice releasing once, an appeal posting only the difference, the
policy's release rule, and who sees which release."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.evaluation.models import Appeal, Assessment, Evaluation
from wuye_saas.extensions import db
from wuye_saas.fees import holdback
from wuye_saas.fees.models import Bill, BillingRun, CreditNote, FeePolicy, HoldbackRelease
from wuye_saas.jobs import JobRun
from wuye_saas.org import models as m
from wuye_saas.publicity.models import LedgerEntry
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post, wait_for_job
from .test_appeals import _latest_run, finalized_and_published
from .test_evaluation_results import make_evaluation, make_standard

JAN, FEB, MAR, APR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)


def _in(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def _policy(percent="10", **kw) -> FeePolicy:
    p = FeePolicy(name=kw.pop("name", "保证金政策"), status="active", valid_from=date(2025, 1, 1),
                  holdback_percent=D(percent), **kw)
    db.session.add(p)
    db.session.flush()
    p.family_id = p.id
    return p


def _compound(ns, n: int) -> tuple[int, list[int]]:
    """A further compound of the first community with three households."""
    c = m.Compound(community_id=ns.community1, name=f"保证金{n}号小区", compound_type="商品房小区",
                   build_year=2005, area_m2=D("5000"), management_mode="专业物业")
    db.session.add(c)
    db.session.flush()
    b = m.Building(compound_id=c.id, name="1号楼", floors=6, units=1)
    db.session.add(b)
    db.session.flush()
    hh = []
    for i in range(3):
        h = m.Household(compound_id=c.id, building_id=b.id, room=f"10{i + 1}", floor=1, floor_area=D("80"),
                        owner_name="业主", household_code=f"HB{n}X{i}")
        db.session.add(h)
        db.session.flush()
        hh.append(h.id)
    return c.id, hh


def _bill(p, household, compound, firm, month, income, hold) -> Bill:
    run = db.session.execute(select(BillingRun).where(BillingRun.month == month)).scalars().first()
    if run is None:
        run = BillingRun(month=month, scope_kind="district", scope_label="全区")
        db.session.add(run)
        db.session.flush()
    b = Bill(household_id=household, compound_id=compound, firm_id=firm, policy_id=p.id, billing_run_id=run.id,
             month=month, area=D("80"), rate=D("1"), base_fen=income, gov_fen=0, firm_fen=0, resident_fen=income,
             holdback_fen=hold)
    db.session.add(b)
    db.session.flush()
    return b


def _published(std, units, results, **kw):
    """A published evaluation whose assessments have the given (stars, total)."""
    ev = make_evaluation(std, units, status="published", **kw)
    for key, (stars, total) in results.items():
        a = db.session.get(Assessment, ev.a[key])
        a.stars, a.total = stars, D(total)
    db.session.flush()
    return ev


def settled(app, ns, ev_id) -> list[dict]:
    """Wait for every release job of the evaluation (inline on SQLite: already done; through RQ
    on PostgreSQL/Redis: until the worker finished them); their outcomes, oldest first."""
    with app.app_context(), tenant_scope(ns.tenant_id):
        ids = db.session.execute(select(JobRun.id).where(JobRun.kind == f"holdback:{ev_id}")
                                 .order_by(JobRun.id)).scalars().all()
    return [wait_for_job(app, i) for i in ids]


def _month_sums(evaluation_id=None):
    stmt = (select(HoldbackRelease.compound_id, HoldbackRelease.month, func.sum(HoldbackRelease.withheld_fen),
                   func.sum(HoldbackRelease.released_fen), func.sum(HoldbackRelease.kept_fen))
            .group_by(HoldbackRelease.compound_id, HoldbackRelease.month))
    if evaluation_id:
        stmt = stmt.where(HoldbackRelease.evaluation_id == evaluation_id)
    return {(c, mo): (int(w), int(r), int(k)) for c, mo, w, r, k in db.session.execute(stmt)}


def test_releases_by_star_band_over_compounds_and_months(app, world):
    """Policy 10 % held back, default bands (5★ 100 %, 4★ 90 %, 3★ 70 %, else 0 %); the 季测评 of
    January–March 2026. Each bill: holdback as billed; one with a credit note; months outside the
    period and another kind's policy untouched."""
    ns = world["alpha"]
    f1, f2 = ns.firm1, ns.firm2

    def go():
        p = _policy()
        monthly = _policy(name="按月抽查返还", holdback_kind="monthly")
        c5, h5 = _compound(ns, 5)
        c4, h4 = _compound(ns, 4)
        c3, h3 = _compound(ns, 3)
        c0, h0 = _compound(ns, 0)
        c2, h2 = ns.compound2, [ns.household2]
        # 5★: two households in January (1234 + 567), one in February (1000), March none.
        _bill(p, h5[0], c5, f1, JAN, 12340, 1234)
        _bill(p, h5[1], c5, f1, JAN, 5670, 567)
        _bill(p, h5[0], c5, f1, FEB, 10000, 1000)
        # 4★: January 1801 (90 % = 1620.9 → 1620, kept 181); March 999 + 1 (→ 900, kept 100).
        _bill(p, h4[0], c4, f1, JAN, 12340, 1234)
        _bill(p, h4[1], c4, f1, JAN, 5670, 567)
        _bill(p, h4[0], c4, f1, MAR, 9990, 999)
        _bill(p, h4[1], c4, f1, MAR, 10, 1)
        # 3★: February 1235 on 12345, credited 345 → 12000 × 10 % = 1200 (70 % = 840, kept 360).
        credited = _bill(p, h3[0], c3, f1, FEB, 12345, 1235)
        db.session.add(CreditNote(bill_id=credited.id, resident_fen=345, reason="面积更正"))
        # … and January 333 (70 % = 233.1 → 233, kept 100).
        _bill(p, h3[1], c3, f1, JAN, 3330, 333)
        # 0★ (vetoed): all kept. 2★ (the other firm): all kept.
        _bill(p, h0[0], c0, f1, MAR, 7770, 777)
        _bill(p, h2[0], c2, f2, JAN, 4440, 444)
        # Outside the period, and a policy released by 月抽查: never released by this one.
        _bill(p, h5[2], c5, f1, APR, 5000, 500)
        _bill(p, h5[2], c5, f1, date(2025, 12, 1), 5000, 500)
        _bill(monthly, h4[2], c4, f1, FEB, 8880, 888)
        std = make_standard()
        ev = _published(std, [(f1, c5), (f1, c4), (f1, c3), (f1, c0), (f2, c2)],
                        {(f1, c5): (5, "95"), (f1, c4): (4, "86"), (f1, c3): (3, "75"), (f1, c0): (0, "0"),
                         (f2, c2): (2, "62")}, name="2026年第一季度季测评")
        db.session.commit()
        out = holdback.release_evaluation(db.session.get(Evaluation, ev.id))
        return ev.id, (c5, c4, c3, c0, c2), out

    ev_id, (c5, c4, c3, c0, c2), out = _in(app, ns, go)
    expected = {
        (c5, JAN): (1801, 1801, 0), (c5, FEB): (1000, 1000, 0),
        (c4, JAN): (1801, 1620, 181), (c4, MAR): (1000, 900, 100),
        (c3, JAN): (333, 233, 100), (c3, FEB): (1200, 840, 360),
        (c0, MAR): (777, 0, 777),
        (c2, JAN): (444, 0, 444),
    }

    def check():
        assert _month_sums() == expected
        rows = db.session.execute(select(HoldbackRelease)).scalars().all()
        assert len(rows) == len(expected) == out.rows
        for r in rows:
            assert r.withheld_fen == r.released_fen + r.kept_fen          # every posting adds up
            assert r.reason == "考核结果发布"
        assert (out.released, out.kept) == (6394, 1962)
        # The kept part is the compound's public revenue, one entry per month with something kept.
        entries = db.session.execute(select(LedgerEntry.compound_id, LedgerEntry.kind, LedgerEntry.category,
                                            LedgerEntry.amount_fen, LedgerEntry.voucher_no, LedgerEntry.counterparty)
                                     .order_by(LedgerEntry.compound_id, LedgerEntry.voucher_no)).all()
        firm1 = db.session.get(m.Firm, ns.firm1).name
        assert sorted(entries) == sorted([
            (c4, "public_revenue", "质量保证金留存", 181, "质量保证金留存 2026-01", firm1),
            (c4, "public_revenue", "质量保证金留存", 100, "质量保证金留存 2026-03", firm1),
            (c3, "public_revenue", "质量保证金留存", 100, "质量保证金留存 2026-01", firm1),
            (c3, "public_revenue", "质量保证金留存", 360, "质量保证金留存 2026-02", firm1),
            (c0, "public_revenue", "质量保证金留存", 777, "质量保证金留存 2026-03", firm1),
            (c2, "public_revenue", "质量保证金留存", 444, "质量保证金留存 2026-01",
             db.session.get(m.Firm, ns.firm2).name)])
        # Audited: the bulk write leaves one summary event with the counts and sums.
        events = db.session.execute(select(AuditEvent).where(AuditEvent.label.like("质量保证金释放%"))).scalars().all()
        assert [(e.entity, e.entity_id, e.action) for e in events] == [("evaluation", ev_id, "create")]
        assert {k: events[0].changes[k] for k in ("postings", "withheld_fen", "released_fen", "kept_fen",
                                                   "ledger_entries", "credits")} == {
            "postings": 8, "withheld_fen": 8356, "released_fen": 6394, "kept_fen": 1962, "ledger_entries": 6,
            "credits": 0}
        # Released again: nothing more.
        again = holdback.release_evaluation(db.session.get(Evaluation, ev_id))
        assert again.rows == 0
        assert db.session.execute(select(func.count()).select_from(HoldbackRelease)).scalar() == len(expected)
        assert db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar() == 6
    _in(app, ns, check)


def test_split_rounds_the_released_part_down_and_the_parts_add_up():
    for withheld in (0, 1, 7, 999, 1801, 123457, 10 ** 12 + 3):
        for pct in ("0", "33.33", "70", "90", "99.99", "100"):
            released, kept = holdback.split(withheld, D(pct))
            assert released + kept == withheld and 0 <= released <= withheld
            assert released == withheld * int(D(pct) * 100) // 10000     # floor, exactly
    assert holdback.split(1801, D("90")) == (1620, 181)


def test_score_bands_and_the_bands_rule(app, world):
    ns = world["alpha"]

    def go():
        p = _policy(holdback_basis="score", holdback_bands=[{"min": "90", "percent": "100"},
                                                            {"min": "80.5", "percent": "60"}])
        assert holdback.release_percent(p, 5, D("90.00")) == D("100")
        assert holdback.release_percent(p, 5, D("89.99")) == D("60")
        assert holdback.release_percent(p, 5, D("80.50")) == D("60")
        assert holdback.release_percent(p, 5, D("80.49")) == D("0")
        assert holdback.release_percent(p, 5, None) is None
        assert "90分及以上返还 100%" in holdback.rule_text(p)
        default = _policy(name="默认档次")
        assert [holdback.release_percent(default, s, D("50")) for s in (5, 4, 3, 2, 1, 0)] == \
            [D("100"), D("90"), D("70"), D("0"), D("0"), D("0")]
        assert holdback.release_percent(default, None, D("50")) is None
    _in(app, ns, go)


def test_publish_releases_once_and_an_appeal_posts_only_the_difference(app, world, client):
    """Through the pages: firm 1 (compound 1) 84 → 4★, firm 2 (compound 2) 55 → 1★. The upheld
    appeal lifts firm 1 to 88 → 5★: the difference to 100 % is posted, and the kept part reversed."""
    ns = world["alpha"]

    def bills():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 12345, 1235)
        _bill(p, ns.household1, ns.compound1, ns.firm1, FEB, 12345, 1235)
        _bill(p, ns.household2, ns.compound2, ns.firm2, MAR, 5000, 500)
    _in(app, ns, bills)
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    assert [j["status"] for j in settled(app, ns, ev.id)] == ["done"]   # publishing started one job
    first = {(ns.compound1, JAN): (1235, 1111, 124), (ns.compound1, FEB): (1235, 1111, 124),
             (ns.compound2, MAR): (500, 0, 500)}
    assert _in(app, ns, _month_sums) == first
    # Publishing again is refused; running the release again posts nothing.
    assert post(client, f"/d/alpha/evaluations/{ev.id}/publish").status_code == 409
    assert _in(app, ns, lambda: holdback.release_evaluation(db.session.get(Evaluation, ev.id)).rows) == 0

    client.post("/logout")
    login(client, "alpha-firm")
    resp = post(client, f"/d/alpha/results/assessments/{a1}/appeal",
                {"item_id": str(std.items["b1"]), "reason": "已整改，有照片为证。"})
    assert resp.status_code == 302
    appeal_id = _in(app, ns, lambda: db.session.execute(select(Appeal.id)).scalar_one())
    client.post("/logout")
    login(client, "alpha-district")
    resp = post(client, f"/d/alpha/appeals/{appeal_id}/decide",
                {"outcome": "uphold", "occurrences": "1", "decision": "复核属实。"})
    assert resp.status_code == 302
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"
    jobs = settled(app, ns, ev.id)      # the results job started the release of the change
    assert [j["status"] for j in jobs] == ["done", "done"] and jobs[1]["result"]["rows"] == 2

    def after():
        assert db.session.get(Assessment, a1).stars == 5
        assert _month_sums() == {(ns.compound1, JAN): (1235, 1235, 0), (ns.compound1, FEB): (1235, 1235, 0),
                                 (ns.compound2, MAR): (500, 0, 500)}
        adjusting = db.session.execute(select(HoldbackRelease).where(HoldbackRelease.reason.like("申诉改判%"))
                                       .order_by(HoldbackRelease.month)).scalars().all()
        assert [(r.month, r.withheld_fen, r.released_fen, r.kept_fen, r.percent, r.stars) for r in adjusting] == [
            (JAN, 0, 124, -124, D("100"), 5), (FEB, 0, 124, -124, D("100"), 5)]
        # The first postings are untouched; the ledger shows the kept part and its reversal.
        assert db.session.execute(select(func.count()).select_from(HoldbackRelease)).scalar() == 5
        kept = db.session.execute(select(LedgerEntry.amount_fen).where(LedgerEntry.compound_id == ns.compound1)
                                  .order_by(LedgerEntry.id)).scalars().all()
        assert kept == [124, 124, -124, -124]
        # Once more: nothing.
        assert holdback.release_evaluation(db.session.get(Evaluation, ev.id), "appeal").rows == 0
    _in(app, ns, after)


def test_pages_totals_export_and_scope(app, world, client):
    ns = world["alpha"]

    def go():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 18010, 1801)
        _bill(p, ns.household2, ns.compound2, ns.firm2, JAN, 4440, 444)
        std = make_standard()
        ev = _published(std, [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)],
                        {(ns.firm1, ns.compound1): (4, "86"), (ns.firm2, ns.compound2): (2, "62")},
                        name="2026年第一季度季测评")
        holdback.release_evaluation(db.session.get(Evaluation, ev.id))
        ids = dict(db.session.execute(select(HoldbackRelease.firm_id, HoldbackRelease.id)).all())
        return ev.id, ids
    ev_id, ids = _in(app, ns, go)

    login(client, "alpha-district")
    page = client.get("/d/alpha/fees/holdback/").get_data(as_text=True)
    assert "¥18.01" in page and "¥16.20" in page and "¥1.81" in page    # 1801 → 1620 + 181
    assert "¥4.44" in page and "90%" in page
    assert "¥22.45" in page and "¥6.25" in page                          # totals: 2245 = 1620 + 625
    wb = load_workbook(BytesIO(client.get(f"/d/alpha/fees/holdback.xlsx?evaluation={ev_id}").data))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:8] == ("考核", "小区", "物业服务企业", "月份", "返还比例（%）", "暂扣（元）", "返还企业（元）",
                           "留存公共收益（元）")
    body = {r[1]: r[3:8] for r in rows[1:3]}
    assert body["甲区1号小区"] == ("2026-01", 90.0, 18.01, 16.2, 1.81)
    assert body["甲区2号小区"] == ("2026-01", 0.0, 4.44, 0, 4.44)
    assert rows[3][0] == "合计" and rows[3][5:8] == (22.45, 16.2, 6.25)
    assert wb.active["F2"].number_format == '#,##0.00"元"'
    detail = client.get(f"/d/alpha/fees/holdback/{ids[ns.firm1]}").get_data(as_text=True)
    assert "考核结果发布" in detail and "质量保证金留存 2026-01" in detail

    # The firm sees its own compound month only; the other firm's is a 404.
    client.post("/logout")
    login(client, "alpha-firm")
    page = client.get("/d/alpha/fees/holdback/").get_data(as_text=True)
    assert "¥18.01" in page and "¥16.20" in page and "¥4.44" not in page and "甲区2号小区" not in page
    assert client.get(f"/d/alpha/fees/holdback/{ids[ns.firm1]}").status_code == 200
    assert client.get(f"/d/alpha/fees/holdback/{ids[ns.firm2]}").status_code == 404
    wb = load_workbook(BytesIO(client.get("/d/alpha/fees/holdback.xlsx").data))
    assert [r[1] for r in wb.active.iter_rows(min_row=2, values_only=True) if r[0] != "合计"][:-1] == ["甲区1号小区"]
    # Only the district re-runs a release.
    assert post(client, f"/d/alpha/fees/holdback/evaluations/{ev_id}/release").status_code == 403
    # Another district's release does not exist here.
    client.post("/logout")
    login(client, "beta-district")
    assert client.get(f"/d/beta/fees/holdback/{ids[ns.firm1]}").status_code == 404


def test_district_rerun_posts_a_late_bill_after_confirmation(app, world, client):
    ns = world["alpha"]

    def go():
        p = _policy()
        _bill(p, ns.household1, ns.compound1, ns.firm1, JAN, 18010, 1801)
        std = make_standard()
        ev = _published(std, [(ns.firm1, ns.compound1)], {(ns.firm1, ns.compound1): (4, "86")})
        holdback.release_evaluation(db.session.get(Evaluation, ev.id))
        return ev.id, p.id
    ev_id, pid = _in(app, ns, go)
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/fees/holdback/?evaluation={ev_id}&confirm=1").get_data(as_text=True)
    assert "确认重新核算" in page
    resp = post(client, f"/d/alpha/fees/holdback/evaluations/{ev_id}/release")
    assert resp.status_code == 302
    assert settled(app, ns, ev_id)[-1]["result"]["rows"] == 0
    assert _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(HoldbackRelease)).scalar()) == 1

    def late():   # a household of compound 1 registered late, billed for January afterwards
        h = m.Household(compound_id=ns.compound1, building_id=ns.building1, room="102", floor=1,
                        floor_area=D("60"), owner_name="李四", household_code="ALLATE1")
        db.session.add(h)
        db.session.flush()
        _bill(db.session.get(FeePolicy, pid), h.id, ns.compound1, ns.firm1, JAN, 1000, 100)
    _in(app, ns, late)
    resp = post(client, f"/d/alpha/fees/holdback/evaluations/{ev_id}/release")
    assert resp.status_code == 302
    assert settled(app, ns, ev_id)[-1]["status"] == "done"

    def check():
        # 1901 × 90 % = 1710.9 → 1710, kept 191: the posting holds the difference (+100, +90, +10).
        assert _month_sums() == {(ns.compound1, JAN): (1901, 1710, 191)}
        last = db.session.execute(select(HoldbackRelease).order_by(HoldbackRelease.id.desc()).limit(1)).scalar_one()
        assert (last.withheld_fen, last.released_fen, last.kept_fen) == (100, 90, 10)
        assert last.reason.startswith("按补开或冲减后的账单重新核算")
    _in(app, ns, check)


def test_policy_form_release_rule_defaults_and_bad_input(app, world, client):
    login(client, "alpha-district")
    page = client.get("/d/alpha/fees/policies/new").get_data(as_text=True)
    assert 'name="band_min_1"' in page and 'value="5"' in page and 'value="90"' in page
    base = {"name": "带返还规则的政策", "basis": "per_m2", "price_regime": "市场调节价", "fee_mode": "包干制",
            "valid_from": "2026-01-01", "rate_1": "1.2", "gov_mode": "none", "holdback_percent": "10",
            "holdback_kind": "quarterly", "holdback_basis": "stars", "gov_trial_months": "0",
            "band_min_1": "5", "band_pct_1": "100", "band_min_2": "4", "band_pct_2": "80"}
    for bad, message in (({"band_min_2": "4.5"}, "门槛须为 0 到 5 的整数星"),
                         ({"band_pct_2": "120"}, "返还比例须在 0 到 100 之间"),
                         ({"band_min_2": "5"}, "各档的门槛不能重复"),
                         ({"band_pct_2": ""}, "门槛和返还比例须同时填写"),
                         ({"band_pct_1": "50"}, "结果更好的档次返还比例不能低于较差的档次"),
                         ({"band_min_1": "", "band_pct_1": "", "band_min_2": "", "band_pct_2": ""},
                          "请至少填写一档返还比例")):
        resp = post(client, "/d/alpha/fees/policies/new", {**base, **bad})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(func.count()).select_from(FeePolicy)).scalar() == 0
    resp = post(client, "/d/alpha/fees/policies/new", base)
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        p = db.session.execute(select(FeePolicy)).scalar_one()
        assert (p.holdback_kind, p.holdback_basis, p.holdback_bands) == (
            "quarterly", "stars", [{"min": "5", "percent": "100"}, {"min": "4", "percent": "80"}])
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "5星及以上返还 100%，4星及以上返还 80%" in page
