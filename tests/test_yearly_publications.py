"""Three publications built from the data: the 酬金制 yearly budget and final account (the firm of
the 酬金制 contract), the committee members' own fee payments every half year (北京 第44条（八）),
and each compound's result of a published evaluation (published with it)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select

from wuye_saas.audit import acting_as
from wuye_saas.evaluation.models import Appeal
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.publicity import chain, ledger, schedule
from wuye_saas.publicity.models import Objection, Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post, wait_for_job
from .test_appeals import _latest_run
from .test_appeals import finalized_and_published as _finalized_and_published


def finalized_and_published(app, world, client):
    """Published through the page; the results reach the boards by the job it starts."""
    from wuye_saas.jobs import JobRun
    ns, std, ev, a1, a2 = _finalized_and_published(app, world, client)
    with app.app_context(), tenant_scope(ns.tenant_id):
        run = db.session.execute(select(JobRun.id).where(JobRun.kind == f"evaluation_result:{ev.id}")).scalar_one()
    assert wait_for_job(app, run)["status"] == "done"
    return ns, std, ev, a1, a2
from .test_payments import add_credit, add_household, add_payment, make_bills
from .test_publications import _new, _pubs


def _count(app, a) -> int:
    with app.app_context(), tenant_scope(a.tenant_id):
        return db.session.execute(select(func.count()).select_from(Publication)).scalar_one()


def _remunerated(app, a, compound_id):
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.execute(select(m.Contract).where(m.Contract.compound_id == compound_id)).scalar_one().fee_mode = "酬金制"
        db.session.commit()


def _lines(pub) -> dict:
    return {ln["key"]: ln.get("fen", ln["value"]) for ln in pub["content"]["lines"]}


BUDGET = {"carried_in": "1000.50", "fee_income": "120000", "other_income": "3000.25", "staff": "60000",
          "cleaning": "20000.10", "remuneration": "12000"}


# --- 酬金制 年度预算 / 年度决算 -------------------------------------------------------------------------

def test_the_remunerated_firm_publishes_a_budget_with_exact_figures(app, client, world):
    a = world["alpha"]
    year = today().year + 1
    login(client, "alpha-firm")
    # Under 包干制 the fees are the firm's: no budget to publish.
    assert "酬金制年度预算" not in client.get("/d/alpha/publications/new").get_data(as_text=True)
    assert post(client, _new(a.compound1, "annual_budget"), {**BUDGET, "year": str(year)}).status_code == 403
    _remunerated(app, a, a.compound1)
    choose = client.get("/d/alpha/publications/new").get_data(as_text=True)
    assert "酬金制年度预算" in choose and "酬金制年度决算" in choose
    # Bad input: the message beside the field, nothing written.
    for bad, message in (({"fee_income": "-5"}, "物业费收入不能为负数"),
                         ({"staff": "abc"}, "请填写金额"),
                         ({"cleaning": "1.234"}, "最多两位小数"),
                         ({"year": str(year + 1)}, "预算年度应为"),
                         ({"year": ""}, "请填写年度"),
                         ({"fee_income": "", "other_income": ""}, "请至少填写一项收入")):
        resp = post(client, _new(a.compound1, "annual_budget"), {**BUDGET, "year": str(year), **bad})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    assert _count(app, a) == 0
    resp = post(client, _new(a.compound1, "annual_budget"), {**BUDGET, "year": str(year)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    (pub,) = _pubs(app, world)
    assert (pub["kind"], pub["title"]) == ("annual_budget", f"甲区1号小区{year}年度物业服务收支预算")
    # 收入 120,000.00 + 3,000.25; 支出 60,000.00 + 20,000.10 + 酬金 12,000.00;
    # 结余 1,000.50 + 123,000.25 − 92,000.10 = 32,000.65.
    assert pub["content"]["figures"] == {
        "carried_in": 100050, "income": [["物业费收入", 12000000], ["其他收入", 300025]],
        "spending": [["人员费用", 6000000], ["清洁卫生", 2000010]], "remuneration": 1200000,
        "income_total": 12300025, "spending_total": 9200010, "carried_over": 3200065}
    lines = _lines(pub)
    assert (lines["收入合计"], lines["物业服务酬金"], lines["支出合计"], lines["结转下年"]) == (
        12300025, 1200000, 9200010, 3200065)
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.get(Publication, pub["id"])
        assert (p.period_start, p.period_end) == (date(year, 1, 1), date(year, 12, 31))
    page = client.get(f"/p/alpha/c/{a.compound1}/p/{pub['seq']}").get_data(as_text=True)
    assert "预计物业服务酬金" in page and "¥32,000.65" in page
    # The committee checks it like any firm publication: its objection goes to the firm.
    client.post("/logout")
    login(client, "alpha-committee")
    resp = post(client, f"/d/alpha/checks/publications/{pub['id']}/objections",
                {"line": "物业服务酬金", "question": "酬金比例依据合同哪一条？"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(Objection.line)).scalar_one() == "预计物业服务酬金：¥12,000.00"


def test_only_the_firm_of_the_remunerated_contract_publishes_them(app, client, world):
    a = world["alpha"]
    _remunerated(app, a, a.compound1)
    _remunerated(app, a, a.compound2)
    data = {**BUDGET, "year": str(today().year + 1)}
    for user in ("alpha-committee", "alpha-district", "alpha-community", "alpha-street"):
        login(client, user)
        for tpl in ("annual_budget", "annual_account"):
            assert post(client, _new(a.compound1, tpl), data).status_code == 403, (user, tpl)
        client.post("/logout")
    login(client, "alpha-firm")
    for tpl in ("annual_budget", "annual_account"):
        assert post(client, _new(a.compound2, tpl), data).status_code == 404      # another firm's compound
        assert client.get(_new(a.compound2, tpl)).status_code == 404
    assert _count(app, a) == 0


def _fee_entries(app, a, year):
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for day, category, fen in ((date(year - 1, 12, 31), "物业费收入", 500000),
                                   (date(year, 3, 1), "物业费收入", 10000000),
                                   (date(year, 4, 1), "物业费收入", -20000),      # a refund reduces its source
                                   (date(year, 5, 1), "其他收入", 30000),
                                   (date(year, 6, 1), "人员费用", -4000000),
                                   (date(year, 7, 1), "清洁卫生", -1500000),
                                   (date(year, 12, 31), "物业服务酬金", -800000),
                                   (date(year + 1, 1, 5), "人员费用", -99999)):   # the next year
            ledger.add_entry(a.compound1, "fee_account", day, category, fen, counterparty="x")
        db.session.commit()


def test_the_final_account_is_computed_from_the_fee_ledger_and_rechecked(app, client, world):
    a = world["alpha"]
    year = today().year - 1
    _remunerated(app, a, a.compound1)
    login(client, "alpha-firm")
    resp = post(client, _new(a.compound1, "annual_account"), {"year": str(year), "source": "ledger"})
    assert resp.status_code == 422 and f"{year} 年物业费收支账没有分录" in resp.get_data(as_text=True)
    resp = post(client, _new(a.compound1, "annual_account"), {"year": str(today().year), "source": "ledger"})
    assert resp.status_code == 422 and "决算在年度结束后公示" in resp.get_data(as_text=True)
    assert _count(app, a) == 0
    _fee_entries(app, a, year)
    # The form's preview already shows the ledger's figures.
    assert "¥42,100.00" in client.get(_new(a.compound1, "annual_account")).get_data(as_text=True)
    resp = post(client, _new(a.compound1, "annual_account"), {"year": str(year), "source": "ledger",
                                                              "fee_income": "1"})   # ignored: from the ledger
    assert resp.status_code == 302
    (pub,) = _pubs(app, world)
    assert pub["title"] == f"甲区1号小区{year}年度物业服务收支决算"
    # 结转 5,000.00 + 收入 (100,000.00 − 200.00 + 300.00) − 支出 (40,000.00 + 15,000.00 + 酬金 8,000.00) = 42,100.00
    assert pub["content"]["figures"] == {
        "carried_in": 500000, "income": [["其他收入", 30000], ["物业费收入", 9980000]],
        "spending": [["人员费用", 4000000], ["清洁卫生", 1500000]], "remuneration": 800000,
        "income_total": 10010000, "spending_total": 6300000, "carried_over": 4210000}
    assert pub["content"]["source"] == "ledger" and pub["content"]["statements"][0]["closing"] == 4210000
    detail = client.get(f"/d/alpha/publications/{pub['id']}").get_data(as_text=True)
    assert "账目现为" not in detail
    # A late entry into that year: the re-check shows the ledger no longer matches.
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        ledger.add_entry(a.compound1, "fee_account", date(year, 8, 1), "绿化养护", -10000, counterparty="y")
        db.session.commit()
    detail = client.get(f"/d/alpha/publications/{pub['id']}").get_data(as_text=True)
    assert "期末余额：公示 ¥42,100.00，账目现为 ¥42,000.00" in detail
    # Entered by hand instead.
    resp = post(client, _new(a.compound1, "annual_account"), {**BUDGET, "year": str(year), "source": "entered"})
    assert resp.status_code == 302
    assert _pubs(app, world)[-1]["content"]["figures"]["carried_over"] == 3200065


def test_the_schedule_wants_a_budget_and_an_account_from_remunerated_compounds_only(app, world):
    """With the defaults (90 days): on 2026-05-01 the 2025 final account and the 2026 budget were
    due by 2026-03-31; a 包干制 compound owes neither."""
    a = world["alpha"]
    _remunerated(app, a, a.compound1)
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for d in schedule.DEFAULTS:
            if d["kind"] in ("annual_account", "annual_budget"):
                schedule.add_requirement(d["kind"], None, d["frequency"], d["grace_days"], None)
        chain.publish(a.compound1, "annual_budget", "预算", {"lines": []}, period_start=date(2026, 1, 1),
                      period_end=date(2026, 12, 31), at=datetime(2026, 3, 20, 2))
        chain.publish(a.compound1, "annual_account", "决算", {"lines": []}, period_start=date(2025, 1, 1),
                      period_end=date(2025, 12, 31), at=datetime(2026, 4, 20, 2))
        db.session.commit()
        rows = schedule.compliance([a.compound1, a.compound2], date(2026, 5, 1))
        got = {(r.compound_id, r.kind): (r.status, r.period_start, r.deadline) for r in rows}
        assert got == {(a.compound1, "annual_budget"): ("ok", date(2026, 1, 1), date(2026, 3, 31)),
                       (a.compound1, "annual_account"): ("late", date(2025, 1, 1), date(2026, 3, 31))}
        assert schedule.rate_of(rows) == Fraction(1, 2)


# --- 业委会委员缴费情况 ---------------------------------------------------------------------------------

def _half():
    t = today()
    return (t.year, 1) if t.month > 6 else (t.year - 1, 2)


def test_a_member_is_linked_to_a_unit_of_the_committees_compound_only(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    url = f"/d/alpha/committee_members/{a.member1}/edit"
    form = client.get(url).get_data(as_text=True)
    units = form.split('name="household_id"')[1].split("</select>")[0]
    assert "1号楼 101" in units and f'value="{a.household1}"' in units and f'value="{a.household2}"' not in units
    base = {"committee_id": str(a.committee1), "name": "委员1", "position": "委员", "is_party_member": "y"}
    resp = post(client, url, {**base, "household_id": str(a.household2)})
    assert resp.status_code == 422 and "所选房屋不属于所选业委会/物管会" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(m.CommitteeMember, a.member1).household_id is None
    assert post(client, url, {**base, "household_id": str(a.household1)}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(m.CommitteeMember, a.member1).household_id == a.household1
    # The picker follows the committee: compound 2's units under committee 2.
    html = client.get(f"/d/alpha/options/member_household/under/committee?source=committee_id"
                      f"&committee_id={a.committee2}").get_data(as_text=True)
    assert f'value="{a.household2}"' in html and f'value="{a.household1}"' not in html
    client.post("/logout")
    login(client, "beta-district")
    assert client.get(f"/d/beta/options/member_household/under/committee?source=committee_id"
                      f"&committee_id={a.committee1}").status_code == 404


def test_the_committee_publishes_its_members_fee_payments(app, client, world):
    a = world["alpha"]
    year, half = _half()
    first = date(year, 1 if half == 1 else 7, 1)
    chair_unit = add_household(app, a, 1, "102")
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.get(m.CommitteeMember, a.member1).household_id = a.household1
        db.session.add_all([m.CommitteeMember(committee_id=a.committee1, name="王小明", position="主任",
                                              household_id=chair_unit),
                            m.CommitteeMember(committee_id=a.committee1, name="赵六", position="委员")])
        db.session.commit()
    b1, b2, before, chair = make_bills(app, a, [
        (a.household1, 1, first, 0, 0, 10000), (a.household1, 1, date(first.year, first.month + 1, 1), 0, 0, 10000),
        (a.household1, 1, first - timedelta(days=1) - timedelta(days=20), 0, 0, 99900),   # the half-year before
        (chair_unit, 1, first, 0, 0, 8000)])
    add_payment(app, a, b1, 10000, "R1")
    add_payment(app, a, b2, 5000, "R2")
    add_credit(app, a, b2, resident=1000)
    add_payment(app, a, chair, 8000, "R3")
    login(client, "alpha-committee")
    assert "业委会委员缴费情况" in client.get("/d/alpha/publications/new").get_data(as_text=True)
    for bad, message in (({"year": str(today().year + 1), "half": "1"}, "尚未结束"),
                         ({"year": str(year), "half": "3"}, 'class="invalid-feedback"'),
                         ({"year": "", "half": "1"}, "请填写年度")):
        resp = post(client, _new(a.compound1, "committee_fees"), bad)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    assert _count(app, a) == 0
    resp = post(client, _new(a.compound1, "committee_fees"), {"year": str(year), "half": str(half)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    (pub,) = _pubs(app, world)
    half_name = "上半年" if half == 1 else "下半年"
    assert pub["title"] == f"甲区1号小区业委会委员缴费情况（{year}年{half_name}）"
    # 委员1: 100.00 + (100.00 − 10.00 credited) due, 100.00 + 50.00 paid, 40.00 owed; the bill
    # of the half-year before is not this half's.
    assert pub["content"]["table"]["rows"] == [
        ["主任", "王**", "1号楼 102", 8000, 8000, 0, "已缴清"],
        ["委员", "委**", "1号楼 101", 19000, 15000, 4000, "部分缴纳"],
        ["委员", "赵*", "未登记", None, None, None, "未登记本人房屋，无法核对"]]
    assert _lines(pub)["缴费情况"] == "已缴清 1 人，未缴清 1 人，未登记本人房屋 1 人"
    page = client.get(f"/p/alpha/c/{a.compound1}/p/{pub['seq']}").get_data(as_text=True)
    assert "部分缴纳" in page and "¥40.00" in page and "王**" in page and "王小明" not in page
    # Its own publication: no objection from itself.
    resp = post(client, f"/d/alpha/checks/publications/{pub['id']}/objections", {"line": "缴费情况", "question": "?"})
    assert resp.status_code == 422


def test_only_the_compounds_committee_publishes_member_fees(app, client, world):
    a = world["alpha"]
    year, half = _half()
    data = {"year": str(year), "half": str(half)}
    for user in ("alpha-firm", "alpha-district", "alpha-community"):
        login(client, user)
        assert post(client, _new(a.compound1, "committee_fees"), data).status_code == 403, user
        client.post("/logout")
    login(client, "alpha-committee")
    assert post(client, _new(a.compound2, "committee_fees"), data).status_code == 404
    assert _count(app, a) == 0


# --- 考核结果公示 ---------------------------------------------------------------------------------------

def test_a_published_evaluation_puts_each_compounds_result_on_its_board(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    pubs = {p["content"]["assessment_id"]: p for p in _pubs(app, world)}
    assert set(pubs) == {a1, a2}
    one, two = pubs[a1], pubs[a2]
    assert (one["kind"], one["title"], one["publisher"]) == (
        "evaluation_result", "甲区1号小区2026年第一季度季测评考核结果公示", "甲区")
    assert one["content"]["result"] == {"total": "84.00", "stars": 4, "list": None, "rank": 1, "ranked": 2,
                                        "vetoed": False}
    lines = _lines(one)
    assert lines["星级"] == "4 星" and lines["榜单"] == "未列入红黄黑榜" and lines["排名"] == "第 1 名（共 2 个参评项目）"
    assert lines["考核得分"].startswith("84.00 分")
    assert _lines(two)["榜单"] == "黑榜" and two["content"]["result"]["total"] == "55.00"
    page = client.get(f"/p/alpha/c/{ns.compound2}/p/{two['seq']}").get_data(as_text=True)
    assert "55.00 分" in page and "黑榜" in page
    # Not open to the committee's objections (the firm appeals instead).
    client.post("/logout")
    login(client, "alpha-committee")
    resp = post(client, f"/d/alpha/checks/publications/{one['id']}/objections", {"line": "星级", "question": "?"})
    assert resp.status_code == 422 and "考核结果由区里发布，不适用质询" in resp.get_data(as_text=True)
    # Nobody publishes one by hand.
    assert client.get(_new(ns.compound1, "evaluation_result")).status_code == 200   # the chooser
    assert "考核结果公示" not in client.get(_new(ns.compound1, "evaluation_result")).get_data(as_text=True)


def test_an_upheld_appeal_publishes_a_correction_for_that_compound_only(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    client.post("/logout")
    login(client, "alpha-firm")
    resp = post(client, f"/d/alpha/results/assessments/{a1}/appeal",
                {"item_id": str(std.items["b1"]), "reason": "已整改完毕，有照片为证。"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        appeal_id = db.session.execute(select(Appeal.id)).scalar_one()
    client.post("/logout")
    login(client, "alpha-district")
    resp = post(client, f"/d/alpha/appeals/{appeal_id}/decide",
                {"outcome": "uphold", "occurrences": "1", "decision": "复核属实，认定不符 1 处。"})
    assert resp.status_code == 302
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"
    pubs = _pubs(app, world)
    assert len(pubs) == 3
    fix = pubs[-1]
    assert fix["title"] == "甲区1号小区2026年第一季度季测评考核结果公示（更正）"
    assert fix["content"]["result"] == {"total": "88.00", "stars": 5, "list": "red", "rank": 1, "ranked": 2,
                                        "vetoed": False}
