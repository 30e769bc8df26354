"""Fee policies through the pages: create and validate, versions, activation, assignments,
the what-if simulation, and who may do what."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.extensions import db
from wuye_saas.fees import models as fm
from wuye_saas.fees import policies
from wuye_saas.fees.simulate import NO_CLASS, NO_CONTRACT, simulate
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .factories import ROLES, USER_SUFFIX
from .helpers import login, post

BASE = "/d/alpha/fees"
VALID = {"name": "老旧小区物业费", "basis": "per_m2", "price_regime": "市场调节价", "fee_mode": "包干制",
         "valid_from": "2024-01-01", "valid_to": "", "for_compound_id": "", "rate_2": "0.85",
         "gov_mode": "none", "gov_trial_months": "0"}


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def make_policy(app, world, **kw):
    """A policy written through the logic (as the view does); returns its id."""
    ns = world["alpha"]
    data = dict(name="测试政策", valid_from=date(2024, 1, 1),
                grades={"二级": policies.GradeData(rate=D("0.85"))})
    data.update(kw)
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        p, errs = policies.create_policy(policies.PolicyData(**data))
        assert not errs
        db.session.commit()
        return p.id


def test_district_admin_creates_a_policy(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-district")
    assert client.get(f"{BASE}/policies/new").status_code == 200
    data = dict(VALID, rate_1="1.2000", rate_3="0.5", gov_mode="declining", gov_schedule="0.30，0.20 0.10",
                gov_trial_months="6", gov_cap="100.00", holdback_percent="10", holdback_kind="quarterly",
                holdback_basis="stars", band_min_1="5", band_pct_1="100", band_min_2="4", band_pct_2="90",
                band_min_3="3", band_pct_3="70", **{f"conc_{ns.household_class}": "50"})
    resp = post(client, f"{BASE}/policies/new", data)
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        p = db.session.execute(select(fm.FeePolicy)).scalar_one()
        assert (p.family_id, p.version, p.status, p.frozen) == (p.id, 1, "draft", False)
        assert resp.headers["Location"].endswith(f"/fees/policies/{p.id}")
        assert {g.grade: g.rate for g in p.grades} == {"一级": D("1.2"), "二级": D("0.85"), "三级": D("0.5")}
        assert (p.gov_mode, p.gov_schedule, p.gov_trial_months, p.gov_cap_fen) == ("declining", ["0.30", "0.20", "0.10"], 6, 10000)
        assert p.gov_percent is None and p.holdback_percent == D("10")
        assert p.holdback_bands == [{"min": "5", "percent": "100"}, {"min": "4", "percent": "90"},
                                    {"min": "3", "percent": "70"}]
        assert [(c.household_class_id, c.percent) for c in p.concessions] == [(ns.household_class, D("50"))]
        events = db.session.execute(select(AuditEvent.entity).where(AuditEvent.action == "create")).scalars().all()
        assert {"fee_policy", "fee_policy_grade", "fee_concession"} <= set(events)
    page = client.get(f"{BASE}/policies/").get_data(as_text=True)
    assert "老旧小区物业费" in page and "第 1 版" in page and "草稿" in page


def test_flat_amounts_are_entered_in_yuan_and_stored_in_fen(app, client, world):
    login(client, "alpha-district")
    data = dict(VALID, basis="per_household", rate_2="", flat_2="30.50", flat_3="20")
    assert post(client, f"{BASE}/policies/new", data).status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        p = db.session.execute(select(fm.FeePolicy)).scalar_one()
        assert {g.grade: (g.rate, g.flat_fen) for g in p.grades} == {"二级": (None, 3050), "三级": (None, 2000)}


BAD = [
    ({"rate_2": "-0.50"}, "单价不能为负数"),
    ({"gov_mode": "percent", "gov_percent": "120"}, "百分比须在 0 到 100 之间"),
    ({"gov_mode": "percent"}, "请填写政府承担比例"),
    ({"holdback_percent": "-5"}, "百分比须在 0 到 100 之间"),
    ({"gov_mode": "per_m2", "gov_per_m2": "0.90"}, "政府承担 0.9 元/㎡ 超过二级（0.85）的单价"),
    ({"gov_mode": "declining", "gov_schedule": "0.30,0.90"}, "第2年 0.9 元/㎡ 超过二级（0.85）的单价"),
    ({"gov_mode": "declining", "gov_schedule": "0.30,abc"}, "“abc”不是有效的金额"),
    ({"price_regime": "政府指导价", "rate_2": "1.00"}, "政府指导价须填写二级的浮动幅度"),
    # Under a guided price the lowest actual price counts: 1.00 − 20 % = 0.80 < 0.85.
    ({"price_regime": "政府指导价", "rate_2": "1.00", "float_2": "20", "gov_mode": "per_m2", "gov_per_m2": "0.85"},
     "超过二级（0.8）的单价"),
    ({"basis": "per_household"}, "按户收费须填写二级每户金额"),
    ({"basis": "per_household", "rate_2": ""}, "按户收费须至少填写一个等级的每户金额"),
    ({"rate_2": ""}, "至少填写一个服务等级的单价"),
    ({"valid_to": "2023-12-31"}, "截止日期不能早于生效日期"),
    ({"flat_2": "30.555", "basis": "per_household"}, "金额最多两位小数（精确到分）"),
    ({"gov_trial_months": "-1"}, "月数须在 0 到 120 之间"),
    ({"gov_cap": "-1"}, "封顶金额不能为负数"),
    ({"name": ""}, "请填写政策名称"),
    # Bounds a district could need; nothing but plain numbers (1e20 once billed ¥3.6 × 10²²).
    ({"rate_2": "1e20"}, "请填写数字，例如 12.5"),
    ({"rate_2": "NaN"}, "请填写数字，例如 12.5"),
    ({"rate_2": "Infinity"}, "请填写数字，例如 12.5"),
    ({"rate_2": "100.0001"}, "单价不能超过 100 元/㎡·月"),
    ({"basis": "per_household", "rate_2": "", "flat_2": "10000.01"}, "每户金额不能超过 10,000 元"),
    ({"gov_cap": "10000000.01"}, "封顶金额不能超过 10,000,000 元"),
    ({"gov_cap": "sNaN"}, "请填写金额"),
    ({"gov_mode": "per_m2", "gov_per_m2": "1E+2"}, "请填写数字"),
    ({"gov_mode": "declining", "gov_schedule": "0.30,1e20"}, "“1e20”不是有效的金额"),
    ({"gov_mode": "declining", "gov_schedule": "0.30,100.5"}, "“100.5”应在 0 到 100 元/㎡·月 之间"),
    ({"float_2": "NaN", "price_regime": "政府指导价"}, "请填写数字"),
    ({"gov_trial_months": "1e3"}, "不是有效的整数"),
]


@pytest.mark.parametrize("change, message", BAD)
def test_bad_combinations_are_refused_and_write_nothing(app, client, world, change, message):
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/policies/new", dict(VALID, **change))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html and "invalid-feedback" in html
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert count(fm.FeePolicy) == count(fm.FeePolicyGrade) == 0
        fee_events = select(func.count()).where(AuditEvent.entity.like("fee%"))
        assert db.session.execute(fee_events).scalar() == 0


def test_concession_above_100_is_refused(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/policies/new", dict(VALID, **{f"conc_{ns.household_class}": "150"}))
    assert resp.status_code == 422 and "百分比须在 0 到 100 之间" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert count(fm.FeePolicy) == count(fm.FeeConcession) == 0


def test_a_second_policy_of_the_same_name_is_refused(app, client, world):
    """Names tell policies apart in pickers and bills: one family per name in a district
    (its own versions share the name; another district may use it)."""
    pid = make_policy(app, world, name="老旧小区物业费")
    make_policy(app, {"alpha": world["beta"]}, name="二号政策")
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/policies/new", dict(VALID, name=" 老旧小区物业费 "))
    assert resp.status_code == 422
    assert "区内已有同名的收费政策（老旧小区物业费），请换一个名称" in resp.get_data(as_text=True)
    other = make_policy(app, world, name="另一政策")
    resp = post(client, f"{BASE}/policies/{other}/edit", dict(VALID, name="老旧小区物业费"))
    assert resp.status_code == 422 and "区内已有同名的收费政策" in resp.get_data(as_text=True)
    # Its own edit keeps the name; the other district's name is free here.
    assert post(client, f"{BASE}/policies/{pid}/edit", dict(VALID, rate_2="0.90")).status_code == 302
    assert post(client, f"{BASE}/policies/new", dict(VALID, name="二号政策")).status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        names = db.session.execute(select(fm.FeePolicy.name).order_by(fm.FeePolicy.id)).scalars().all()
        assert names == ["老旧小区物业费", "另一政策", "二号政策"]


def test_the_database_refuses_a_same_named_first_version(app, world):
    """Two saves racing past the check: the unique (district, name, version) stops the second."""
    from sqlalchemy.exc import IntegrityError
    make_policy(app, world, name="同名")
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        db.session.add(fm.FeePolicy(name="同名", version=1, valid_from=date(2024, 1, 1)))
        with pytest.raises(IntegrityError):
            db.session.flush()


def test_edit_a_draft(app, client, world):
    pid = make_policy(app, world)
    login(client, "alpha-district")
    form_page = client.get(f"{BASE}/policies/{pid}/edit").get_data(as_text=True)
    assert 'value="0.85"' in form_page and 'value="测试政策"' in form_page
    resp = post(client, f"{BASE}/policies/{pid}/edit", dict(VALID, name="改名后", rate_2="0.90", gov_mode="percent",
                                                             gov_percent="25"))
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        p = db.session.get(fm.FeePolicy, pid)
        assert (p.name, p.grades[0].rate, p.gov_mode, p.gov_percent) == ("改名后", D("0.9"), "percent", D("25"))


def _bill(app, world, pid):
    """One issued bill on the policy (what a billing run leaves behind)."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        run = fm.BillingRun(month=date(2024, 6, 1), scope_kind="district", scope_label="全区")
        db.session.add(run)
        db.session.flush()
        db.session.add(fm.Bill(household_id=ns.household1, compound_id=ns.compound1, firm_id=ns.firm1, policy_id=pid,
                               billing_run_id=run.id, month=date(2024, 6, 1), area=D("88.50"), rate=D("0.85"),
                               base_fen=7523, gov_fen=0, firm_fen=0, resident_fen=7523))
        db.session.commit()


@pytest.mark.parametrize("how", ["frozen", "billed"])
def test_a_version_that_billed_cannot_be_edited(app, client, world, how):
    pid = make_policy(app, world)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        p = db.session.get(fm.FeePolicy, pid)
        p.status = "active"
        p.frozen = how == "frozen"
        db.session.commit()
    if how == "billed":
        _bill(app, world, pid)
    login(client, "alpha-district")
    page = client.get(f"{BASE}/policies/{pid}/edit").get_data(as_text=True)
    assert "该版本已用于出账，不能再修改" in page and f"/fees/policies/{pid}/version" in page
    resp = post(client, f"{BASE}/policies/{pid}/edit", dict(VALID, name="偷偷改", rate_2="0.10"))
    assert resp.status_code == 422
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        p = db.session.get(fm.FeePolicy, pid)
        assert (p.name, p.grades[0].rate) == ("测试政策", D("0.85"))


def test_new_version_copies_and_closes_the_old_validity(app, client, world):
    ns = world["alpha"]
    pid = make_policy(app, world, gov_mode="percent", gov_percent=D("30"), concessions={ns.household_class: D("50")})
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.get(fm.FeePolicy, pid).frozen = True
        db.session.commit()
    login(client, "alpha-district")
    # Before the old version's start: refused, nothing written.
    resp = post(client, f"{BASE}/policies/{pid}/version", {"old_until": "2023-06-30"})
    assert resp.status_code == 422 and "日期不能早于本版本的生效日期 2024-01-01" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/policies/{pid}/version", {"old_until": "2025-06-30"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        old, new = db.session.execute(select(fm.FeePolicy).order_by(fm.FeePolicy.version)).scalars().all()
        assert (old.valid_to, old.frozen) == (date(2025, 6, 30), True)
        assert (new.family_id, new.version, new.status, new.frozen) == (pid, 2, "draft", False)
        assert (new.valid_from, new.valid_to) == (date(2025, 7, 1), None)
        assert (new.gov_mode, new.gov_percent, new.name) == ("percent", D("30"), "测试政策")
        assert [(g.grade, g.rate) for g in new.grades] == [("二级", D("0.85"))]
        assert [(c.household_class_id, c.percent) for c in new.concessions] == [(ns.household_class, D("50"))]
        new_id = new.id
    # Only from the latest version of a family.
    resp = post(client, f"{BASE}/policies/{pid}/version", {"old_until": "2024-06-30"})
    assert resp.status_code == 422 and "该政策已有第 2 版" in resp.get_data(as_text=True)
    # The new draft cannot be moved into the old version's validity.
    resp = post(client, f"{BASE}/policies/{new_id}/edit", dict(VALID, valid_from="2025-01-01"))
    assert resp.status_code == 422
    assert "与第 1 版的有效期（2024-01-01 至 2025-06-30）重叠" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.get(fm.FeePolicy, new_id).valid_from == date(2025, 7, 1)
        assert count(fm.FeePolicy) == 2


def test_activate_a_draft_after_confirmation(app, client, world):
    pid = make_policy(app, world)
    login(client, "alpha-district")
    page = client.get(f"{BASE}/policies/{pid}/activate").get_data(as_text=True)
    assert "确认生效" in page
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.get(fm.FeePolicy, pid).status == "draft"  # the GET changed nothing
    assert post(client, f"{BASE}/policies/{pid}/activate").status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.get(fm.FeePolicy, pid).status == "active"
    # Twice is refused.
    resp = post(client, f"{BASE}/policies/{pid}/activate")
    assert resp.status_code == 422 and "只有草稿版本可以生效" in resp.get_data(as_text=True)


# --- assignments ------------------------------------------------------------------------------

def _third_compound(app, world) -> int:
    """A 无人管理 compound in alpha's street 1, beside compound1 (专业物业)."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        c = m.Compound(community_id=ns.community1, name="甲区3号小区", compound_type="老旧小区",
                       management_mode="无人管理")
        db.session.add(c)
        db.session.commit()
        return c.id


def _assignments(app, world):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        return [(a.compound_id, a.valid_from, a.valid_to) for a in
                db.session.execute(select(fm.FeeAssignment).order_by(fm.FeeAssignment.compound_id)).scalars()]


def test_assign_one_compound_and_refuse_overlap(app, client, world):
    ns = world["alpha"]
    pid = make_policy(app, world)
    login(client, "alpha-district")
    form = {"family_id": pid, "target": "compound", "compound_id": ns.compound1, "valid_from": "2024-01-01",
            "valid_to": "", "street_id": "", "community_id": "", "management_mode": ""}
    assert post(client, f"{BASE}/assignments/new", form).status_code == 302
    assert _assignments(app, world) == [(ns.compound1, date(2024, 1, 1), None)]
    resp = post(client, f"{BASE}/assignments/new", dict(form, valid_from="2025-03-01", valid_to="2025-12-31"))
    assert resp.status_code == 422
    assert "时间段重叠：甲区1号小区已有分配（2024-01-01 起长期）" in resp.get_data(as_text=True)
    assert len(_assignments(app, world)) == 1
    detail = client.get(f"{BASE}/policies/{pid}").get_data(as_text=True)
    assert "已分配的小区（1）" in detail and "甲区1号小区" in detail


def test_bulk_assignment_by_street_and_management_mode(app, client, world):
    ns = world["alpha"]
    third = _third_compound(app, world)
    pid = make_policy(app, world)
    login(client, "alpha-district")
    form = {"family_id": pid, "target": "bulk", "street_id": ns.street1, "community_id": "",
            "management_mode": "无人管理", "compound_id": "", "valid_from": "2024-01-01", "valid_to": "2024-12-31"}
    assert post(client, f"{BASE}/assignments/new", form).status_code == 302
    assert _assignments(app, world) == [(third, date(2024, 1, 1), date(2024, 12, 31))]
    # All modes of street 1 for 2024 again: compound 3 clashes, so neither is assigned.
    resp = post(client, f"{BASE}/assignments/new", dict(form, management_mode=""))
    assert resp.status_code == 422 and "甲区3号小区已有分配（2024-01-01 至 2024-12-31）" in resp.get_data(as_text=True)
    assert len(_assignments(app, world)) == 1
    # From 2025 both compounds of street 1 are assigned; street 2's compound is not.
    assert post(client, f"{BASE}/assignments/new", dict(form, management_mode="", valid_from="2025-01-01",
                                                        valid_to="")).status_code == 302
    assert _assignments(app, world) == [(ns.compound1, date(2025, 1, 1), None),
                                        (third, date(2024, 1, 1), date(2024, 12, 31)),
                                        (third, date(2025, 1, 1), None)]
    # Bulk without a street or community is refused.
    resp = post(client, f"{BASE}/assignments/new", dict(form, street_id="", valid_from="2030-01-01"))
    assert resp.status_code == 422 and "批量分配请选择街道或社区" in resp.get_data(as_text=True)


def test_an_override_only_goes_to_its_compound(app, client, world):
    ns = world["alpha"]
    pid = make_policy(app, world, for_compound_id=ns.compound1, name="1号小区专用")
    login(client, "alpha-district")
    form = {"family_id": pid, "target": "compound", "compound_id": ns.compound2, "valid_from": "2024-01-01",
            "street_id": "", "community_id": "", "management_mode": ""}
    resp = post(client, f"{BASE}/assignments/new", form)
    assert resp.status_code == 422 and "甲区1号小区的专用政策，只能分配给该小区" in resp.get_data(as_text=True)
    assert _assignments(app, world) == []
    assert post(client, f"{BASE}/assignments/new", dict(form, compound_id=ns.compound1)).status_code == 302


def _assign(app, world, pid, compound_id, start=date(2024, 1, 1)):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id), acting_as(None, "测试"):
        family = db.session.get(fm.FeePolicy, pid)
        [a], errs = policies.assign(family, [db.session.get(m.Compound, compound_id)], start, None)
        db.session.commit()
        return a.id


def test_end_an_assignment(app, client, world):
    ns = world["alpha"]
    aid = _assign(app, world, make_policy(app, world), ns.compound1)
    login(client, "alpha-district")
    assert "确认结束" in client.get(f"{BASE}/assignments/{aid}/end").get_data(as_text=True)
    resp = post(client, f"{BASE}/assignments/{aid}/end", {"last_day": "2023-12-31"})
    assert resp.status_code == 422 and "结束日期不能早于开始日期 2024-01-01" in resp.get_data(as_text=True)
    assert _assignments(app, world) == [(ns.compound1, date(2024, 1, 1), None)]
    assert post(client, f"{BASE}/assignments/{aid}/end", {"last_day": "2024-12-31"}).status_code == 302
    assert _assignments(app, world) == [(ns.compound1, date(2024, 1, 1), date(2024, 12, 31))]


# --- simulation -------------------------------------------------------------------------------

def _sim_world(app, world) -> int:
    """Compound 1: household 1 (88.50 m², 低保) and a 100 m² one; compound 2: household 2
    (88.50 m²) whose contract ends in June 2025. Policy: 0.85 元/㎡, government 30 %, 低保 50 %."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        db.session.add(m.HouseholdClassLink(household_id=ns.household1, household_class_id=ns.household_class,
                                            valid_from=date(2024, 1, 1)))
        db.session.add(m.Household(compound_id=ns.compound1, building_id=ns.building1, room="102",
                                   floor_area=D("100.00"), household_code="ALX102"))
        db.session.get(m.Contract, ns.contract2).end_date = date(2025, 6, 30)
        db.session.commit()
    return make_policy(app, world, gov_mode="percent", gov_percent=D("30"),
                       concessions={ns.household_class: D("50")})


def test_simulation_equals_hand_computation(app, world):
    pid = _sim_world(app, world)
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id):
        r = simulate(db.session.get(fm.FeePolicy, pid), "district", None, date(2025, 1, 1))
    # A month: h1 7523 → gov 2256.9 → 2257, firm/resident 2633.05 → 2633 each;
    # h102 8500 → 2550 / 0 / 5950; h2 7523 → 2257 / 0 / 5266.
    assert (r.first.households, r.first.base, r.first.gov, r.first.firm, r.first.resident) == (3, 23546, 7064, 2633, 13849)
    low, none = r.first_by_class["低保"], r.first_by_class[NO_CLASS]
    assert (low.households, low.gov, low.firm, low.resident) == (1, 2257, 2633, 2633)
    assert (none.households, none.gov, none.firm, none.resident) == (2, 4807, 0, 11216)
    # The year: compound 1 twelve months, compound 2 six (its contract ends in June).
    assert (r.year.households, r.year.base, r.year.gov, r.year.firm, r.year.resident) == (
        30, 12 * 16023 + 6 * 7523, 12 * 4807 + 6 * 2257, 12 * 2633, 12 * 8583 + 6 * 5266)
    assert r.skipped == {"甲区2号小区": (NO_CONTRACT, 6)}
    # A street: only compound 2 (street 2), one month.
    with app.app_context(), tenant_scope(ns.tenant_id):
        r = simulate(db.session.get(fm.FeePolicy, pid), "street", ns.street2, date(2025, 6, 1))
    assert (r.compounds, r.first.base, r.first.gov, r.year.households) == (1, 7523, 2257, 1)


def test_simulation_page_shows_the_numbers_and_writes_nothing(app, client, world):
    pid = _sim_world(app, world)
    tables = [fm.FeePolicy, fm.FeePolicyGrade, fm.FeeConcession, fm.FeeAssignment, fm.BillingRun, fm.Bill,
              fm.CreditNote, fm.Payment, fm.SubsidyClaim, AuditEvent]
    login(client, "alpha-district")  # (logging in is itself audited: count after it)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        before = [count(t) for t in tables]
    resp = client.get(f"{BASE}/simulate?policy_id={pid}&scope=district&month=2025-01")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "¥70.64" in html and "¥712.26" in html   # government: first month, twelve months
    assert "¥26.33" in html and "¥315.96" in html   # firm
    assert "甲区2号小区" in html and NO_CONTRACT in html
    assert "chart.umd.min.js" in html
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert [count(t) for t in tables] == before
    # Without a choice the page asks for one; a bad month is a message, not an error.
    blank = client.get(f"{BASE}/simulate").get_data(as_text=True)
    assert "chart.umd.min.js" not in blank
    # The unchosen street and compound submit as blank, not as the text "None" in the address.
    assert 'value="None"' not in blank and '<option selected value="">—</option>' in blank
    resp = client.get(f"{BASE}/simulate?policy_id={pid}&scope=street&month=2025-13")
    assert resp.status_code == 422
    assert "月份格式应为 YYYY-MM" in resp.get_data(as_text=True) and "请选择街道" in resp.get_data(as_text=True)


# --- who may do what --------------------------------------------------------------------------

@pytest.mark.parametrize("role", [r for r in ROLES if r != "district_admin"])
def test_other_roles_read_but_do_not_write(app, client, world, role):
    ns = world["alpha"]
    pid = make_policy(app, world)
    aid = _assign(app, world, pid, ns.compound1)
    login(client, f"alpha-{USER_SUFFIX[role]}")
    assert client.get(f"{BASE}/policies/").status_code == 200
    assert client.get(f"{BASE}/policies/{pid}").status_code == 200
    assert client.get(f"{BASE}/assignments/").status_code == 200
    for url in (f"{BASE}/policies/new", f"{BASE}/policies/{pid}/edit", f"{BASE}/policies/{pid}/version",
                f"{BASE}/policies/{pid}/activate", f"{BASE}/assignments/new", f"{BASE}/simulate"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"{BASE}/policies/new", VALID), (f"{BASE}/policies/{pid}/edit", VALID),
                      (f"{BASE}/policies/{pid}/version", {"old_until": "2024-06-30"}),
                      (f"{BASE}/policies/{pid}/activate", {}),
                      (f"{BASE}/assignments/new", {"family_id": pid, "target": "compound",
                                                   "compound_id": ns.compound2, "valid_from": "2024-01-01"})):
        assert post(client, url, data).status_code == 403, url
    # The assignment of compound 1 is in scope for street/community/firm/committee/grid (403 on
    # ending it); the assessor's and a department's scope hold no compounds (404).
    end = client.get(f"{BASE}/assignments/{aid}/end").status_code
    assert end == (404 if role in ("assessor", "department_staff") else 403)
    with app.app_context(), tenant_scope(ns.tenant_id):
        p = db.session.get(fm.FeePolicy, pid)
        assert (p.status, p.name, count(fm.FeePolicy), count(fm.FeeAssignment)) == ("draft", "测试政策", 1, 1)


def test_out_of_scope_assignments_are_404(app, client, world):
    ns = world["alpha"]
    pid = make_policy(app, world)
    mine, other = _assign(app, world, pid, ns.compound1), _assign(app, world, pid, ns.compound2)
    login(client, "alpha-street")
    assert client.get(f"{BASE}/assignments/{other}/end").status_code == 404
    listing = client.get(f"{BASE}/assignments/").get_data(as_text=True)
    assert "甲区1号小区" in listing and "甲区2号小区" not in listing
    detail = client.get(f"{BASE}/policies/{pid}").get_data(as_text=True)
    assert "已分配的小区（1）" in detail
    assert client.get(f"{BASE}/assignments/{mine}/end").status_code == 403  # in scope, read-only


def test_the_other_districts_policy_is_404(app, client, world):
    pid = make_policy(app, world)
    aid = _assign(app, world, pid, world["alpha"].compound1)
    login(client, "beta-district")
    for path in (f"/policies/{pid}", f"/policies/{pid}/edit", f"/policies/{pid}/version",
                 f"/policies/{pid}/activate", f"/assignments/{aid}/end"):
        assert client.get(f"/d/beta/fees{path}").status_code == 404, path
        assert client.get(f"/d/alpha/fees{path}").status_code == 404, path
    assert post(client, f"/d/beta/fees/policies/{pid}/activate").status_code == 404
    assert client.get(f"/d/beta/fees/simulate?policy_id={pid}&scope=district&month=2025-01").status_code == 422
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.get(fm.FeePolicy, pid).status == "draft"
