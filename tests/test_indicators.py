"""Indicators: the 三率 and 无物业小区 on hand-built districts, the monthly snapshots (idempotent,
history kept), the snapshot job and the computed scoring items, with exact numbers."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.demands.models import Demand, DemandCategory
from wuye_saas import timeutil
from wuye_saas.extensions import db
from wuye_saas.fees.models import Bill, BillingRun, CreditNote, FeePolicy, Payment
from wuye_saas.indicators import definitions, snapshots
from wuye_saas.indicators.computed import COMPUTED
from wuye_saas.indicators.models import CompoundMonth
from wuye_saas.jobs import JobRun
from wuye_saas.jobs.schedule import run_due
from wuye_saas.org import models as m
from wuye_saas.publicity import chain, schedule
from wuye_saas.tenancy import Tenant, tenant_scope

from .factories import credit_code
from .helpers import login, post, wait_for_job

DAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 4, 0)          # 12:00 in Shanghai on DAY


def _firm(n, status):
    return m.Firm(name=f"物业{n}", credit_code=credit_code(900 + n), party_status=status)


def _contract(firm, compound, start=date(2025, 1, 1), end=date(2027, 12, 31)):
    return m.Contract(firm=firm, compound=compound, start_date=start, end_date=end, service_grade="二级",
                      fee_mode="包干制", fee_rate=Decimal("1.00"))


def small_district(app) -> SimpleNamespace:
    """Six compounds, one per edge case of the written definitions (ids in the namespace):
    a  专业物业, firm with its own party org, committee in term
    b  专业物业, firm with only an instructor, committee whose term has expired
    c  自管, no contract, its own 小区党支部, 物管会 in term
    d  无人管理, only an expired contract                          → 无物业小区
    e  无人管理, a contract with a firm in a 联合党支部 (PartyOrg row)
    f  国资托管, no contract, a 楼栋党小组 known by its building only"""
    with app.app_context():
        t = Tenant(slug="small", name="小区县", region="测试")
        db.session.add(t)
        db.session.flush()
        with tenant_scope(t.id), acting_as(None, "测试"):
            street = m.Street(name="一街道")
            comm = m.Community(street=street, name="一社区")
            c = {k: m.Compound(community=comm, name=f"{k}小区", compound_type="商品房", management_mode=mode)
                 for k, mode in zip("abcdef", ["专业物业", "专业物业", "自管", "无人管理", "无人管理", "国资托管"])}
            f1, f2, f3, f4 = (_firm(1, "单独建立党组织"), _firm(2, "派驻党建指导员"), _firm(3, "无"),
                              _firm(4, "单独建立党组织"))
            building = m.Building(compound=c["f"], name="1号楼")
            db.session.add_all([street, comm, *c.values(), f1, f2, f3, f4, building,
                                _contract(f1, c["a"]), _contract(f2, c["b"]),
                                _contract(f4, c["d"], date(2020, 1, 1), date(2025, 12, 31)),
                                _contract(f3, c["e"]),
                                m.Instructor(firm=f2, name="指导员", assigned_on=date(2025, 3, 1)),
                                m.PartyOrg(kind="联合党支部", name="联合党支部", firm=f3),
                                m.PartyOrg(kind="小区党支部", name="c小区党支部", compound=c["c"]),
                                m.PartyOrg(kind="楼栋党小组", name="1号楼党小组", building=building)])
            for k, kind, start, end in (("a", "业委会", date(2024, 1, 1), date(2028, 12, 31)),
                                        ("b", "业委会", date(2021, 1, 1), date(2026, 6, 14)),
                                        ("c", "物管会", date(2026, 6, 15), date(2029, 6, 14))):
                com = m.Committee(compound=c[k], kind=kind, name=f"{k}委员会", term_start=start, term_end=end)
                db.session.add_all([com, m.CommitteeMember(committee=com, name="甲", is_party_member=True),
                                    m.CommitteeMember(committee=com, name="乙")])
            db.session.commit()
            return SimpleNamespace(tenant_id=t.id, street=street.id, community=comm.id,
                                   **{k: v.id for k, v in c.items()}, f1=f1.id, f2=f2.id, f3=f3.id)


def test_three_rates_follow_their_written_definitions(app):
    s = small_district(app)
    with app.app_context(), tenant_scope(s.tenant_id):
        cover = definitions.coverage_on(DAY)
        flags = {k: cover[getattr(s, k)] for k in "abcdef"}
        # 组建率: a and c (c's term starts on the day itself); b's term ended the day before.
        assert [k for k, r in flags.items() if r["has_committee"]] == ["a", "c"]
        assert flags["a"]["committee_members"] == 2 and flags["a"]["committee_party_members"] == 1
        # 服务覆盖率: contracts (a, b, e), 自管 (c) and 国资托管 (f); d's contract has expired.
        assert [k for k, r in flags.items() if r["service_covered"]] == ["a", "b", "c", "e", "f"]
        assert [k for k, r in flags.items() if definitions.no_service(r)] == ["d"]
        # 组织覆盖: own org (a), 小区党支部 (c), firm in a 联合党支部 (e), 楼栋党小组 via building (f);
        # b's firm has only an instructor: 工作覆盖, not 组织覆盖.
        assert [k for k, r in flags.items() if r["party_org_covered"]] == ["a", "c", "e", "f"]
        assert [k for k, r in flags.items() if r["party_work_covered"]] == ["a", "b", "c", "e", "f"]
        assert flags["b"]["firm_id"] == s.f2 and flags["d"]["firm_id"] is None
        # A day later b's committee is still expired and c's still in term; the day before c's
        # term started it did not count.
        before = definitions.coverage_on(DAY - timedelta(days=1))
        assert [k for k in "abcdef" if before[getattr(s, k)]["has_committee"]] == ["a", "b"]

        snapshots.snapshot(s.tenant_id, DAY, AT)
        db.session.commit()
        row = db.session.execute(select(
            func.count(CompoundMonth.id), func.sum(CompoundMonth.households))).one()
        assert tuple(row) == (6, 0)


def test_three_rates_on_the_dashboard_with_the_clearing_baseline(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        comm = db.session.get(m.Community, a.community1)
        extra = [m.Compound(community=comm, name=f"无人管理{i}", compound_type="老旧小区", management_mode="无人管理")
                 for i in range(2)]
        db.session.add_all(extra)
        db.session.commit()
        # May: both extra compounds without service. June: one got a contract.
        snapshots.snapshot(a.tenant_id, date(2026, 5, 1), datetime(2026, 5, 31, 10))
        firm = db.session.get(m.Firm, a.firm1)
        db.session.add(_contract(firm, extra[0], date(2026, 6, 1), date(2027, 5, 31)))
        db.session.flush()
        snapshots.snapshot(a.tenant_id, date(2026, 6, 1), AT)
        db.session.commit()
    login(client, "alpha-district")
    html = client.get("/d/alpha/").get_data(as_text=True)
    # 4 compounds: committees 2/4; service 3/4 and party org 3/4 (the new contract's firm has its
    # own party org); 1 无物业小区 left of May's 2.
    assert _card(html, "rate-committee_rate") == "50.0%"
    assert _card(html, "rate-service_rate") == "75.0%"
    assert _card(html, "rate-party_rate") == "75.0%"
    assert "2026-05 基数 2 个 · 清零进度 50.0%" in html
    assert "数据截至 2026-06-15 12:00" in html and "2026年06月快照" in html


def _card(html, testid):
    block = html.split(f'data-testid="{testid}"', 1)[1]
    return block.split('<div class="stat-value text-danger">', 1)[1].split("</div>", 1)[0].strip()


def test_snapshot_is_idempotent_and_history_does_not_change(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        snapshots.snapshot(a.tenant_id, date(2026, 5, 1), datetime(2026, 5, 31, 10))
        snapshots.snapshot(a.tenant_id, date(2026, 6, 1), AT)
        db.session.commit()
        first = _rows()
        snapshots.snapshot(a.tenant_id, date(2026, 6, 1), AT)
        db.session.commit()
        assert _rows() == first                  # same rows, same ids, same figures
        assert len(first) == 4
        # Data changes: compound 1's committee term ends before June, a new compound appears.
        db.session.get(m.Committee, a.committee1).term_end = date(2026, 5, 31)
        db.session.add(m.Compound(community_id=a.community2, name="新小区", compound_type="商品房",
                                  management_mode="自管"))
        db.session.commit()
        outcome = snapshots.refresh(a.tenant_id, datetime(2026, 6, 20, 2))
        db.session.commit()
        assert outcome["current"] == date(2026, 6, 1)
        after = _rows()
        may = {k: v for k, v in after.items() if k[0] == date(2026, 5, 1)}
        assert may == {k: v for k, v in first.items() if k[0] == date(2026, 5, 1)}   # history as it was
        june = {k[1]: v for k, v in after.items() if k[0] == date(2026, 6, 1)}
        assert len(june) == 3 and june[a.compound1][1] is False     # refreshed: committee expired
        # The refresh filled the missing months of the window once (2025-07 … 2026-04), not May.
        months = sorted({k[0] for k in after})
        assert months[0] == date(2025, 7, 1) and len(months) == 12
        assert outcome["filled"] == months[:10]


def _rows():
    return {(r.month, r.compound_id): (r.id, r.has_committee, r.service_covered, r.party_org_covered, r.taken_at)
            for r in db.session.execute(select(CompoundMonth)).scalars()}


def test_snapshot_job_from_the_scheduler_and_the_refresh_button(app, client, world):
    a = world["alpha"]
    with app.app_context():
        started = run_due(datetime(2026, 6, 15, 4))
    with app.app_context(), tenant_scope(a.tenant_id):
        kinds = set(db.session.execute(select(JobRun.kind).where(JobRun.id.in_(started))).scalars())
        snap = db.session.execute(select(JobRun.id).where(JobRun.id.in_(started),
                                                          JobRun.kind == "indicators.snapshot")).scalar_one()
    assert "indicators.snapshot" in kinds
    assert wait_for_job(app, snap)["status"] == "done"
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(CompoundMonth.id))).scalar() == 2 * 12
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.entity == "compound_month", AuditEvent.tenant_id == a.tenant_id)).scalars().all()
        assert len(events) == 1 and "2026年06月" in events[0].label and events[0].changes["compounds"] == 2
    # The district's button runs the same job; other roles may not.
    login(client, "alpha-street")
    assert post(client, "/d/alpha/indicators/refresh").status_code == 403
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/indicators/refresh", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "刷新本月统计数据" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        run = db.session.execute(select(JobRun).where(JobRun.kind == "indicators.snapshot")
                                 .order_by(JobRun.id.desc())).scalars().first()
        run_id = run.id
    assert wait_for_job(app, run_id)["status"] == "done"
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "compound_month", AuditEvent.tenant_id == a.tenant_id)).scalar() == 2


# --- demands, collection and publicity: the snapshot columns and the computed items -------------

def _demand(ns, cat, compound, n, received, deadline, resolved=None, satisfaction=None, firm=None):
    return Demand(number=f"SQ{n:04d}", compound_id=compound, category_id=cat, channel="visit", title=f"诉求{n}",
                  received_at=received, deadline_at=deadline, resolved_at=resolved, satisfaction=satisfaction,
                  firm_id=firm, status="closed" if satisfaction else ("resolved" if resolved else "dispatched"))


def test_demand_figures_and_computed_items_are_exact(app, world):
    a = world["alpha"]
    c1, c2, f1, f2 = a.compound1, a.compound2, a.firm1, a.firm2
    june = datetime(2026, 6, 10, 2)
    with app.app_context(), tenant_scope(a.tenant_id):
        cat = DemandCategory(name="维修")
        db.session.add(cat)
        db.session.flush()
        h = timedelta(hours=1)
        db.session.add_all([
            # compound 1 / firm 1: received and due in June
            _demand(a, cat.id, c1, 1, june, june + 48 * h, june + 24 * h, "satisfied", f1),     # on time
            _demand(a, cat.id, c1, 2, june, june + 48 * h, june + 60 * h, "unsatisfied", f1),   # late
            _demand(a, cat.id, c1, 3, june, june + 48 * h, None, None, f1),                     # open, overdue
            _demand(a, cat.id, c1, 4, june, june + 48 * h, june + 1 * h, "basically", f1),      # on time
            # received 31 May 23:00 Shanghai (15:00 UTC): May's; due in June, resolved on time
            _demand(a, cat.id, c1, 5, datetime(2026, 5, 31, 15), datetime(2026, 6, 2), datetime(2026, 6, 1), None, f1),
            # compound 2 / firm 2: due in July only
            _demand(a, cat.id, c2, 6, june, datetime(2026, 7, 2), None, None, f2),
        ])
        db.session.commit()
        counts = definitions.demand_counts(date(2026, 6, 1), datetime(2026, 7, 5))
        assert counts[c1] == {"demands_received": 4, "demands_due": 5, "demands_on_time": 3, "demands_overdue": 2,
                              "demands_visited": 3, "demands_satisfied": 2}
        assert counts[c2] == {"demands_received": 1, "demands_due": 0, "demands_on_time": 0, "demands_overdue": 0,
                              "demands_visited": 0, "demands_satisfied": 0}
        # Counted on 11 June (before the deadlines of the 12th) nothing received that day is due yet.
        assert definitions.demand_counts(date(2026, 6, 1), datetime(2026, 6, 11))[c1]["demands_due"] == 1

        on_time = COMPUTED["demand_on_time_rate"]
        assert on_time(date(2026, 6, 1), date(2026, 6, 30), by="firm") == {f1: Fraction(3, 5)}
        assert on_time(date(2026, 6, 1), date(2026, 6, 30), by="compound") == {c1: Fraction(3, 5)}
        assert on_time(date(2026, 6, 1), date(2026, 7, 31), by="firm") == {f1: Fraction(3, 5), f2: Fraction(0)}
        sat = COMPUTED["demand_satisfaction_rate"]
        assert sat(date(2026, 6, 1), date(2026, 6, 30), by="compound") == {c1: Fraction(2, 3)}
        assert sat(date(2026, 5, 1), date(2026, 5, 31), by="firm") == {}      # nothing visited: nothing to rate
        assert on_time.label == "诉求按时办结率" and "时限" in on_time.definition


def test_collection_and_publicity_computed_items(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        pol = FeePolicy(name="政策", valid_from=date(2024, 1, 1), status="active")
        db.session.add(pol)
        db.session.flush()
        run = BillingRun(month=date(2026, 5, 1), scope_kind="district", scope_label="全区")
        db.session.add(run)
        db.session.flush()

        def bill(branch, month, resident, room):
            hh = m.Household(compound_id=getattr(a, f"compound{branch}"), building_id=getattr(a, f"building{branch}"),
                             room=room, floor_area=Decimal("50.00"), household_code=f"C{branch}{room}")
            db.session.add(hh)
            db.session.flush()
            b = Bill(household_id=hh.id, compound_id=hh.compound_id, firm_id=getattr(a, f"firm{branch}"),
                     policy_id=pol.id, billing_run_id=run.id, month=month, area=50, rate=1,
                     base_fen=resident, gov_fen=0, firm_fen=0, resident_fen=resident)
            db.session.add(b)
            db.session.flush()
            return b.id

        b1 = bill(1, date(2026, 5, 1), 10000, "201")
        b2 = bill(1, date(2026, 5, 1), 10000, "202")
        b3 = bill(1, date(2026, 6, 1), 10000, "203")
        b4 = bill(2, date(2026, 6, 1), 5000, "204")
        db.session.add_all([
            Payment(bill_id=b1, amount_fen=10000, method="现金", receipt_no="R1", paid_on=date(2026, 5, 20)),
            # b2: 3,000 credited after 10,000 paid: collected counts only up to the 7,000 due
            Payment(bill_id=b2, amount_fen=10000, method="现金", receipt_no="R2", paid_on=date(2026, 5, 20)),
            CreditNote(bill_id=b2, resident_fen=3000, reason="面积更正"),
            Payment(bill_id=b3, amount_fen=2500, method="现金", receipt_no="R3", paid_on=date(2026, 6, 20)),
        ])
        db.session.commit()
        rate = COMPUTED["collection_rate"]
        assert rate(date(2026, 5, 1), date(2026, 5, 31), by="compound") == {a.compound1: Fraction(1)}
        # May + June: (10,000 + 7,000 + 2,500) ÷ (10,000 + 7,000 + 10,000)
        assert rate(date(2026, 5, 1), date(2026, 6, 30), by="firm") == {a.firm1: Fraction(19500, 27000),
                                                                       a.firm2: Fraction(0)}
        assert definitions.collection_counts(date(2026, 6, 1), date(2026, 6, 1)) == {
            a.compound1: (2500, 10000), a.compound2: (0, 5000)}

        # Publicity: a standing notice required of 专业物业 compounds; only compound 1 has one.
        schedule.add_requirement("standing_notice", None, "standing", 0, "专业物业")
        chain.publish(a.compound1, "standing_notice", "收费公示", {"lines": [{"key": "k", "label": "电话", "value": "12358"}]})
        db.session.commit()
        pub = COMPUTED["publicity_compliance_rate"]
        today = timeutil.today()
        assert pub(today - timedelta(days=30), today, by="compound") == {a.compound1: Fraction(1),
                                                                         a.compound2: Fraction(0)}
        assert pub(today - timedelta(days=30), today, by="firm") == {a.firm1: Fraction(1), a.firm2: Fraction(0)}
        assert set(COMPUTED) == {"demand_on_time_rate", "demand_satisfaction_rate", "collection_rate",
                                 "publicity_compliance_rate"}
