"""The publicity schedule: due periods, late/missing flags and the compliance rate
(wuye_saas/publicity/schedule.py) and its pages in check_views.py."""
from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.extensions import db
from wuye_saas.publicity import chain, schedule
from wuye_saas.publicity.models import Publication, PublicityRequirement
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post

LINES = {"lines": [{"key": "income", "label": "本期收入", "value": "¥100.00"}]}


@pytest.mark.parametrize("frequency, grace, on, expected", [
    # On the deadline itself the period is still in time, so the one before it is the due one.
    ("quarterly", 15, date(2026, 4, 15), (date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 15))),
    ("quarterly", 15, date(2026, 4, 16), (date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 15))),
    ("quarterly", 0, date(2026, 4, 1), (date(2026, 1, 1), date(2026, 3, 31), date(2026, 3, 31))),
    ("quarterly", 0, date(2026, 3, 31), (date(2025, 10, 1), date(2025, 12, 31), date(2025, 12, 31))),
    ("monthly", 10, date(2026, 3, 11), (date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 10))),
    ("monthly", 10, date(2026, 3, 10), (date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 10))),
    ("half_yearly", 15, date(2026, 7, 16), (date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 15))),
    ("half_yearly", 15, date(2026, 7, 15), (date(2025, 7, 1), date(2025, 12, 31), date(2026, 1, 15))),
    ("yearly", 30, date(2026, 1, 30), (date(2024, 1, 1), date(2024, 12, 31), date(2025, 1, 30))),
    ("yearly", 30, date(2026, 1, 31), (date(2025, 1, 1), date(2025, 12, 31), date(2026, 1, 30))),
])
def test_due_period_at_boundaries(frequency, grace, on, expected):
    assert schedule.due_period(frequency, grace, on) == expected


def _setup(app, a, reqs, pubs):
    """reqs: (kind, ledger_kind, frequency, grace, mode); pubs: (compound, kind, ledger_kind,
    start, end, published_at UTC)."""
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for kind, ledger_kind, freq, grace, mode in reqs:
            schedule.add_requirement(kind, ledger_kind, freq, grace, mode)
        for compound, kind, ledger_kind, start, end, at in pubs:
            chain.publish(compound, kind, "公示", {**LINES, "ledger_kind": ledger_kind} if ledger_kind else LINES,
                              period_start=start, period_end=end, at=at)
        db.session.commit()


def _status(app, a, on):
    with app.app_context(), tenant_scope(a.tenant_id):
        rows = schedule.compliance([a.compound1, a.compound2], on)
        rate = schedule.compliance_rate([a.compound1, a.compound2], on)
        return {(r.compound_id, r.kind, r.ledger_kind): r.status for r in rows}, rate


def test_flags_and_rate_on_fixed_dates(app, world):
    a = world["alpha"]
    q1 = (date(2026, 1, 1), date(2026, 3, 31))
    _setup(app, a, [("ledger_statement", "public_revenue", "quarterly", 15, None),
                    ("standing_notice", None, "standing", 0, "专业物业")], [
        # compound 1: Q1 公共收益 published 2026-04-15 23:30 Shanghai = 15:30 UTC: the grace day, in time.
        (a.compound1, "ledger_statement", "public_revenue", *q1, datetime(2026, 4, 15, 15, 30)),
        # compound 2: published 2026-04-16 00:30 Shanghai (still the 15th in UTC): one day late.
        (a.compound2, "ledger_statement", "public_revenue", *q1, datetime(2026, 4, 15, 16, 30)),
        # A maintenance-fund statement does not count for the 公共收益 requirement.
        (a.compound2, "ledger_statement", "maintenance_fund", *q1, datetime(2026, 4, 1, 2, 0)),
        (a.compound1, "standing_notice", None, None, None, datetime(2026, 1, 5, 2, 0)),
    ])
    status, rate = _status(app, a, date(2026, 5, 1))
    assert status == {(a.compound1, "ledger_statement", "public_revenue"): "ok",
                      (a.compound2, "ledger_statement", "public_revenue"): "late",
                      (a.compound1, "standing_notice", None): "ok",
                      (a.compound2, "standing_notice", None): "missing"}
    assert rate == Fraction(2, 4)
    # Before Q1's deadline has passed, Q4 2025 is the due period: nobody published it.
    status, rate = _status(app, a, date(2026, 4, 15))
    assert status[(a.compound1, "ledger_statement", "public_revenue")] == "missing"
    assert rate == Fraction(1, 4)
    # The standing notice published on 2026-01-05 did not exist yet on 2026-01-04.
    status, _ = _status(app, a, date(2026, 1, 4))
    assert status[(a.compound1, "standing_notice", None)] == "missing"


def test_requirement_by_management_mode_and_partial_period(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        from wuye_saas.org.models import Compound
        db.session.get(Compound, a.compound2).management_mode = "自管"
        db.session.commit()
    _setup(app, a, [("disclosure", None, "half_yearly", 15, "专业物业")], [
        # Only half of the period covered: does not meet the half-year requirement.
        (a.compound1, "disclosure", None, date(2026, 1, 1), date(2026, 3, 31), datetime(2026, 4, 2)),
    ])
    status, rate = _status(app, a, date(2026, 8, 1))
    assert status == {(a.compound1, "disclosure", None): "missing"}  # compound 2 (自管) is not asked
    assert rate == Fraction(0, 1)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert schedule.compliance_rate([], date(2026, 8, 1)) is None


def test_the_fee_account_binds_compounds_under_a_remuneration_contract_only(app, world):
    """上海 第48条: the yearly 物业费收支 statement is the 酬金制 firm's; a 包干制 compound has no such
    account and is not flagged. The committee's work report binds compounds with a committee then."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        from wuye_saas.org.models import Committee, Contract
        db.session.execute(select(Contract).where(Contract.compound_id == a.compound1)).scalar_one().fee_mode = "酬金制"
        db.session.execute(select(Committee).where(Committee.compound_id == a.compound2)).scalar_one().term_end = \
            date(2025, 12, 31)   # compound 2's committee left office before the half-year ended
        db.session.commit()
    _setup(app, a, [("ledger_statement", "fee_account", "yearly", 90, None),
                    ("committee_news", None, "half_yearly", 15, None)], [])
    status, rate = _status(app, a, date(2026, 8, 1))
    assert status == {(a.compound1, "ledger_statement", "fee_account"): "missing",
                      (a.compound1, "committee_news", None): "missing"}
    assert rate == Fraction(0, 1)


def test_requirement_validation_writes_nothing(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for args, field in ((("ledger_statement", None, "quarterly", 15, None), "ledger_kind"),
                            (("disclosure", "public_revenue", "quarterly", 15, None), "ledger_kind"),
                            (("disclosure", None, "weekly", 15, None), "frequency"),
                            (("disclosure", None, "yearly", 91, None), "grace_days"),
                            (("disclosure", None, "yearly", 5, "别墅"), "management_mode")):
            with pytest.raises(schedule.ScheduleProblem) as e:
                schedule.add_requirement(*args)
            assert e.value.field == field
        assert db.session.execute(select(func.count(PublicityRequirement.id))).scalar_one() == 0


def test_district_seeds_defaults_once_and_configures(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    page = client.get("/d/alpha/checks/schedule").get_data(as_text=True)
    assert "还没有公示要求" in page
    assert post(client, "/d/alpha/checks/schedule/seed").status_code == 302
    assert post(client, "/d/alpha/checks/schedule/seed").status_code == 302  # idempotent
    with app.app_context(), tenant_scope(a.tenant_id):
        reqs = {(r.kind, r.ledger_kind): (r.frequency, r.grace_days, r.management_mode)
                for r in db.session.execute(select(PublicityRequirement)).scalars()}
        assert reqs == {("ledger_statement", "public_revenue"): ("quarterly", 15, None),
                        ("ledger_statement", "maintenance_fund"): ("yearly", 30, None),
                        ("standing_notice", None): ("standing", 0, "专业物业"),
                        ("disclosure", None): ("half_yearly", 15, "专业物业"),
                        ("ledger_statement", "fee_account"): ("yearly", 90, None),
                        ("annual_account", None): ("yearly", 90, None),
                        ("annual_budget", None): ("yearly", 90, None)}
        assert db.session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "publicity_requirement", AuditEvent.action == "create")).scalar_one() == 7
    page = client.get("/d/alpha/checks/schedule").get_data(as_text=True)
    assert "上海第66条、清远第57条" in page and "12358" in page

    # A bad form: the message is next to the field and nothing is written.
    resp = post(client, "/d/alpha/checks/schedule", {"kind": "ledger_statement", "ledger_kind": "",
                                                     "frequency": "monthly", "grace_days": "10", "management_mode": ""})
    assert resp.status_code == 422 and "账目公示须选择账目类型。" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/checks/schedule", {"kind": "ledger_statement", "ledger_kind": "public_revenue",
                                                     "frequency": "monthly", "grace_days": "10", "management_mode": ""})
    assert resp.status_code == 422 and "已有相同的公示要求" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/checks/schedule", {"kind": "ledger_statement", "ledger_kind": "fee_account",
                                                     "frequency": "yearly", "grace_days": "100", "management_mode": ""})
    assert resp.status_code == 422 and "宽限天数应在 0 到 90 之间。" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/checks/schedule", {"kind": "ledger_statement", "ledger_kind": "fee_account",
                                                     "frequency": "yearly", "grace_days": "30",
                                                     "management_mode": "专业物业"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(PublicityRequirement.id))).scalar_one() == 8
        rid = db.session.execute(select(PublicityRequirement.id).filter_by(
            ledger_kind="fee_account", management_mode="专业物业")).scalar_one()

    # Delete through the confirmation page.
    assert "确认删除" in client.get(f"/d/alpha/checks/schedule/{rid}/delete").get_data(as_text=True)
    assert post(client, f"/d/alpha/checks/schedule/{rid}/delete").status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(PublicityRequirement, rid) is None
        assert db.session.execute(select(AuditEvent.id).where(
            AuditEvent.entity == "publicity_requirement", AuditEvent.entity_id == rid,
            AuditEvent.action == "delete")).first()

    # Only the district configures.
    client.post("/logout")
    login(client, "alpha-community")
    assert client.get("/d/alpha/checks/schedule").status_code == 403
    assert post(client, "/d/alpha/checks/schedule/seed").status_code == 403


def test_compliance_page_by_scope(app, client, world):
    a = world["alpha"]
    _setup(app, a, [("standing_notice", None, "standing", 0, None)],
           [(a.compound2, "standing_notice", None, None, None, datetime(2026, 1, 5))])
    login(client, "alpha-district")
    html = client.get("/d/alpha/checks/compliance?on=2026-05-01").get_data(as_text=True)
    # compound 1 flagged missing; compound 2 published (not listed among the flagged).
    assert "甲区1号小区" in html and "未公示" in html and "甲区2号小区" not in html.split("<tbody>")[1]
    assert "应公示 2 项，按时 1 项，逾期或未公示 1 项，按时公示率 <strong>50.0%</strong>" in html
    html = client.get("/d/alpha/checks/compliance?on=2026-05-01&status=ok").get_data(as_text=True)
    assert "甲区2号小区" in html.split("<tbody>")[1]
    html = client.get("/d/alpha/checks/compliance?on=2026-05-01&q=2号").get_data(as_text=True)
    assert "没有符合条件的记录" in html

    # Community staff of community 1 see their compound only (compound 2 is another community).
    client.post("/logout")
    login(client, "alpha-community")
    html = client.get("/d/alpha/checks/compliance?on=2026-05-01").get_data(as_text=True)
    assert "应公示 1 项，按时 0 项" in html and "甲区1号小区" in html
    client.post("/logout")
    login(client, "alpha-firm")
    assert client.get("/d/alpha/checks/compliance").status_code == 403
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(Publication.id))).scalar_one() == 1
