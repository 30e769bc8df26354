"""Maintenance-fund applications: vote → community, street, district review → a withdrawal in
the fund's ledger and a publication; returns with reasons; balance check; scope."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from wuye_saas.audit import acting_as
from wuye_saas.extensions import db
from wuye_saas.org.models import Household
from wuye_saas.publicity import ledger
from wuye_saas.publicity.models import LedgerEntry, Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today
from wuye_saas.votes import logic
from wuye_saas.votes.models import FundApplication, OwnerVote

from .helpers import filed_with_street, login, post
from .test_votes import add_member


def deposit(app, ns, fen):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        ledger.add_entry(ns.compound1, "maintenance_fund", date(2025, 1, 1), "首期缴存", fen)
        db.session.commit()


def apply(client, **fields):
    data = {"compound_id": fields.pop("compound_id"), "item": "1号楼屋面防水翻新", "budget": "3000.00",
            "contractor": "长治建安公司", "quotes": "三家比价：3000 / 3200 / 3500 元", "vote_id": "0", **fields}
    resp = post(client, "/d/alpha/funds/new", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def state(app, ns, app_id):
    with app.app_context(), tenant_scope(ns.tenant_id):
        a = db.session.get(FundApplication, app_id)
        return {"status": a.status, "vote_id": a.vote_id, "approved_fen": a.approved_fen,
                "ledger_entry_id": a.ledger_entry_id, "publication_id": a.publication_id,
                "budget_fen": a.budget_fen,
                "reviews": [(r.level, r.approve, r.reason) for r in a.reviews]}


def run_vote(app, ns, vote_id, choice, monkeypatch):
    """The committee's part, done directly: file, publicize, open, one ballot, close."""
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "业委会"):
        v = db.session.get(OwnerVote, vote_id)
        assert not logic.file_vote(v)
        opens = today() + timedelta(days=15)
        assert not logic.publicize_vote(v, opens, opens)
        filed_with_street(v)
        monkeypatch.setattr(logic, "today", lambda: opens)
        assert not logic.open_vote(v)
        assert logic.record_ballot(v, db.session.get(Household, ns.household1), choice, "", False)[1] == {}
        decision, problems = logic.close_vote(v)
        assert not problems
        db.session.commit()
        return decision.passed


def review_as(client, username, app_id, **data):
    login(client, username)
    resp = post(client, f"/d/alpha/funds/{app_id}/review", {"decision": "approve", "reason": "", **data})
    client.post("/logout")
    return resp


def test_fund_flow_vote_three_reviews_withdrawal_and_publication(app, client, world, monkeypatch):
    ns = world["alpha"]
    deposit(app, ns, 500000)
    login(client, "alpha-firm")
    app_id = apply(client, compound_id=ns.compound1)
    client.post("/logout")
    st = state(app, ns, app_id)
    assert st["status"] == "voting" and st["budget_fen"] == 300000
    with app.app_context(), tenant_scope(ns.tenant_id):
        v = db.session.get(OwnerVote, st["vote_id"])
        assert (v.matter, v.status, v.compound_id) == ("use_fund", "draft", ns.compound1)
    # Nobody reviews while the owners vote.
    assert review_as(client, "alpha-community", app_id).status_code == 422
    assert state(app, ns, app_id)["reviews"] == []

    assert run_vote(app, ns, st["vote_id"], "agree", monkeypatch) is True
    assert state(app, ns, app_id)["status"] == "community"

    # The street cannot jump the queue.
    assert review_as(client, "alpha-street", app_id).status_code == 422
    assert review_as(client, "alpha-community", app_id, reason="材料齐全").status_code == 302
    assert state(app, ns, app_id)["status"] == "street"
    assert review_as(client, "alpha-street", app_id).status_code == 302
    assert state(app, ns, app_id)["status"] == "district"
    resp = review_as(client, "alpha-district", app_id, approved="2800.00")
    assert resp.status_code == 302

    st = state(app, ns, app_id)
    assert st["status"] == "approved" and st["approved_fen"] == 280000
    assert st["reviews"] == [("community", True, "材料齐全"), ("street", True, ""), ("district", True, "")]
    with app.app_context(), tenant_scope(ns.tenant_id):
        entry = db.session.get(LedgerEntry, st["ledger_entry_id"])
        assert (entry.kind, entry.category, entry.amount_fen, entry.counterparty, entry.compound_id) == \
            ("maintenance_fund", "使用支出", -280000, "长治建安公司", ns.compound1)
        assert ledger.balance(ns.compound1, "maintenance_fund") == 220000
        pub = db.session.get(Publication, st["publication_id"])
        assert pub.kind == "fund_use" and pub.content["approved_fen"] == 280000
        assert pub.content["vote"]["passed"] is True
        assert [r["level"] for r in pub.content["reviews"]] == ["社区", "街道", "区物管中心"]
        seq = pub.seq
    # The board shows what was paid, to whom, on which vote and after which reviews.
    shown = client.get(f"/p/alpha/c/{ns.compound1}/p/{seq}").get_data(as_text=True)
    for label, value in (("施工单位", "长治建安公司"), ("核准支出", "¥2,800.00"), ("社区审核", "同意 · ")):
        assert re.search(rf"<th[^>]*>{label}</th><td[^>]*>{value}", shown), label
    login(client, "alpha-committee")
    page = client.get(f"/d/alpha/funds/{app_id}").get_data(as_text=True)
    assert "已批准" in page and "¥2,800.00" in page and "街道审核同意" in page


def test_failed_vote_rejects_the_application(app, client, world, monkeypatch):
    ns = world["alpha"]
    login(client, "alpha-committee")
    app_id = apply(client, compound_id=ns.compound1)
    assert run_vote(app, ns, state(app, ns, app_id)["vote_id"], "disagree", monkeypatch) is False
    assert state(app, ns, app_id)["status"] == "rejected"


def test_return_needs_a_reason_then_resubmit_goes_back_to_community(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-firm")
    app_id = apply(client, compound_id=ns.compound1, emergency="y", item="2号楼电梯曳引机故障")
    client.post("/logout")
    st = state(app, ns, app_id)
    assert st["status"] == "community" and st["vote_id"] is None  # the emergency fast path

    resp = review_as(client, "alpha-community", app_id, decision="return", reason="")
    assert resp.status_code == 422 and "退回时必须填写理由" in resp.get_data(as_text=True)
    assert state(app, ns, app_id) == {**st, "reviews": []}
    assert review_as(client, "alpha-community", app_id, decision="return", reason="缺少电梯检验报告").status_code == 302
    assert state(app, ns, app_id)["status"] == "returned"

    # Only the applicant (the firm) resubmits.
    login(client, "alpha-committee")
    resp = post(client, f"/d/alpha/funds/{app_id}/resubmit", {"item": "x", "budget": "1", "contractor": "y"})
    assert resp.status_code == 403
    client.post("/logout")
    login(client, "alpha-firm")
    page = client.get(f"/d/alpha/funds/{app_id}").get_data(as_text=True)
    assert "缺少电梯检验报告" in page and "重新提交社区审核" in page
    resp = post(client, f"/d/alpha/funds/{app_id}/resubmit", {"item": "2号楼电梯曳引机故障", "budget": "abc",
                                                             "contractor": "长治电梯公司"})
    assert resp.status_code == 422 and "最多两位小数" in resp.get_data(as_text=True)
    assert state(app, ns, app_id)["status"] == "returned"
    resp = post(client, f"/d/alpha/funds/{app_id}/resubmit", {"item": "2号楼电梯曳引机故障", "budget": "4500.00",
                                                             "contractor": "长治电梯公司", "quotes": "附检验报告"})
    assert resp.status_code == 302
    st = state(app, ns, app_id)
    assert (st["status"], st["budget_fen"]) == ("community", 450000)
    assert st["reviews"] == [("community", False, "缺少电梯检验报告")]


def test_district_approval_refused_when_the_fund_is_short(app, client, world):
    ns = world["alpha"]
    deposit(app, ns, 100000)
    login(client, "alpha-firm")
    app_id = apply(client, compound_id=ns.compound1, emergency="y", budget="1000.01")
    client.post("/logout")
    review_as(client, "alpha-community", app_id)
    review_as(client, "alpha-street", app_id)
    resp = review_as(client, "alpha-district", app_id)
    assert resp.status_code == 422
    assert "专项维修资金余额 1,000.00 元，不足以支付 1,000.01 元" in resp.get_data(as_text=True)
    st = state(app, ns, app_id)
    assert st["status"] == "district" and st["ledger_entry_id"] is None and len(st["reviews"]) == 2
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count(LedgerEntry.id))).scalar_one() == 1
        assert db.session.execute(select(func.count(Publication.id))).scalar_one() == 0
    # Approving what the fund holds goes through.
    assert review_as(client, "alpha-district", app_id, approved="1000.00").status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert ledger.balance(ns.compound1, "maintenance_fund") == 0


def test_bad_application_writes_nothing(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-firm")
    resp = post(client, "/d/alpha/funds/new", {"compound_id": ns.compound1, "item": "", "budget": "-5",
                                               "contractor": "", "vote_id": "0"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写维修项目" in html and "金额必须大于 0" in html
    # A compound the firm does not keep is not offered.
    resp = post(client, "/d/alpha/funds/new", {"compound_id": ns.compound2, "item": "x", "budget": "1",
                                               "contractor": "y", "vote_id": "0"})
    assert resp.status_code == 422
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count(FundApplication.id))).scalar_one() == 0
        assert db.session.execute(select(func.count(OwnerVote.id))).scalar_one() == 0


def test_other_compound_committee_and_other_street_get_404(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-firm")
    app_id = apply(client, compound_id=ns.compound1, emergency="y")
    client.post("/logout")
    add_member(app, ns, "alpha-committee2", "committee_member", compound_id=ns.compound2)
    add_member(app, ns, "alpha-street2", "street_staff", street_id=ns.street2)
    for who in ("alpha-committee2", "alpha-street2"):
        login(client, who)
        assert client.get(f"/d/alpha/funds/{app_id}").status_code == 404
        assert "屋面防水" not in client.get("/d/alpha/funds/").get_data(as_text=True)
        client.post("/logout")
    assert review_as(client, "alpha-street2", app_id).status_code == 404
    login(client, "beta-district")
    assert client.get(f"/d/beta/funds/{app_id}").status_code == 404
    client.post("/logout")
    # The community of the compound does see it.
    login(client, "alpha-community")
    assert "屋面防水" in client.get("/d/alpha/funds/").get_data(as_text=True)
    assert state(app, ns, app_id)["reviews"] == []


def test_application_links_an_existing_use_fund_vote(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-committee")
    resp = post(client, "/d/alpha/votes/new", {"matter": "use_fund", "title": "更换水泵"})
    vote_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    post(client, "/d/alpha/votes/new", {"matter": "hire_firm", "title": "选聘物业"})  # not a fund vote
    client.post("/logout")
    login(client, "alpha-firm")
    html = client.get("/d/alpha/funds/new").get_data(as_text=True)
    assert "更换水泵（草稿）" in html and "选聘物业" not in html
    app_id = apply(client, compound_id=ns.compound1, vote_id=str(vote_id))
    assert state(app, ns, app_id)["vote_id"] == vote_id
    # Taken now: a second application cannot reuse it, and nothing is written.
    resp = post(client, "/d/alpha/funds/new", {"compound_id": ns.compound1, "item": "二次", "budget": "1",
                                               "contractor": "y", "vote_id": str(vote_id)})
    assert resp.status_code == 422
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count(FundApplication.id))).scalar_one() == 1
        assert db.session.execute(select(func.count(OwnerVote.id))).scalar_one() == 2


def test_a_use_of_some_buildings_is_shared_by_their_households_only(app, client, world):
    """民法典 第283条: a repair of one building (its lift, its roof) is borne by that building's
    owners by area; the application says which, and the payment's split follows it."""
    from decimal import Decimal

    from wuye_saas.org.models import Building
    from wuye_saas.publicity.models import FundShare

    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        b2 = Building(compound_id=ns.compound1, name="2号楼")
        db.session.add(b2)
        db.session.flush()
        h2 = Household(compound_id=ns.compound1, building_id=b2.id, room="101", floor_area=Decimal("80.00"),
                       owner_name="周八", household_code="ALZ")
        db.session.add(h2)
        db.session.commit()
        b2_id, h2_id = b2.id, h2.id
    deposit(app, ns, 500000)
    login(client, "alpha-firm")
    form = client.get("/d/alpha/funds/new").get_data(as_text=True)
    assert f'<optgroup label="甲区1号小区">' in form and f'value="{b2_id}"' in form
    # Bad picks write nothing: no building chosen, another compound's building.
    for picked in ([], [ns.building2]):
        resp = post(client, "/d/alpha/funds/new", {"compound_id": ns.compound1, "item": "2号楼电梯更换",
                                                   "budget": "1200.00", "contractor": "电梯公司", "vote_id": "0",
                                                   "emergency": "y", "scope": "buildings", "buildings": picked})
        assert resp.status_code == 422 and "请选择本小区中本次维修涉及的楼栋" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count(FundApplication.id))).scalar_one() == 0
    app_id = apply(client, compound_id=ns.compound1, item="2号楼电梯更换", budget="1200.00", emergency="y",
                   scope="buildings", buildings=[b2_id])
    assert "2号楼业主按专有部分面积分摊" in client.get(f"/d/alpha/funds/{app_id}").get_data(as_text=True)
    client.post("/logout")
    for user in ("alpha-community", "alpha-street", "alpha-district"):
        assert review_as(client, user, app_id).status_code == 302
    st = state(app, ns, app_id)
    assert st["status"] == "approved"
    with app.app_context(), tenant_scope(ns.tenant_id):
        shares = dict(db.session.execute(select(FundShare.household_id, FundShare.amount_fen).where(
            FundShare.entry_id == st["ledger_entry_id"])).all())
        assert shares == {h2_id: -120000}
        pub = db.session.get(Publication, st["publication_id"])
        assert {ln["key"]: ln["value"] for ln in pub.content["lines"]}["shares"] == "2号楼业主按专有部分面积分摊"
