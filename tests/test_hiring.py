"""选聘: by tender — bars with their reasons and nothing written, the red-list bonus exactly,
panel averages, the winner's contract draft and its publication; by owners' vote — passed →
draft, failed → none; signing and `activate_if_free`; who sees and runs what."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.credit.defaults import seed_defaults
from wuye_saas.credit.models import CreditRecordKind, FirmFlag
from wuye_saas.credit.records import _new_record
from wuye_saas.evaluation.models import Assessment, Evaluation, Standard
from wuye_saas.extensions import db
from wuye_saas.hiring import logic
from wuye_saas.hiring.models import PanelScore, Selection, TenderApplication
from wuye_saas.org import models as m
from wuye_saas.publicity.models import Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now, today
from wuye_saas.votes import logic as votes
from wuye_saas.votes.models import OwnerVote

from .factories import credit_code, make_user
from .helpers import filed_with_street, login, post

FIRMS = {"red": "红榜物业服务有限公司", "black": "黑榜物业服务有限公司", "gradec": "丙级物业服务有限公司",
         "banned": "失信物业服务有限公司", "plain": "普通物业服务有限公司"}


def _in(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def market(app, ns) -> dict[str, int]:
    """Five firms in alpha with a manager each (`alpha-<key>`): one on the 红榜 and one on the 黑榜
    of a published evaluation, one with grade C (55 points), one on the 黑名单, one plain."""
    def build():
        seed_defaults()
        ids = {}
        for i, (key, name) in enumerate(FIRMS.items()):
            f = m.Firm(name=name, credit_code=credit_code(9000 + ns.tenant_id * 10 + i), party_status="无")
            db.session.add(f)
            db.session.flush()
            ids[key] = f.id
            user = make_user(f"{ns.slug}-{key}", name)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, role="firm_manager", firm_id=f.id))
        std = Standard(name="测试标准", status="active")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="quarterly", name="2026年第3季度季测评", status="published",
                        period_start=date(2026, 7, 1), period_end=date(2026, 9, 30), self_report_due=date(2026, 10, 10),
                        review_due=date(2026, 10, 20), published_at=now() - timedelta(days=3))
        db.session.add(ev)
        db.session.flush()
        for key, lst in (("red", "red"), ("black", "black"), ("plain", None)):
            db.session.add(Assessment(evaluation_id=ev.id, firm_id=ids[key], compound_id=ns.compound2,
                                      status="finalized", total=90, list_kind=lst))
        # What publishing wrote under the default standard's 上榜后果: 红榜 招投标加分 2.00.
        db.session.add(FirmFlag(firm_id=ids["red"], kind="tender_bonus", points=Decimal("2.00"),
                                valid_from=today() - timedelta(days=3), valid_until=today() + timedelta(days=362),
                                evaluation_id=ev.id, list_kind="red", source_key=f"test:bonus:{ids['red']}",
                                title="红榜：招投标加分 2 分"))
        kinds = {k.code: k for k in db.session.execute(select(CreditRecordKind)).scalars()}
        day = today() - timedelta(days=10)
        for _ in range(5):   # 80 − 5 × 5 = 55: grade C
            _new_record(ids["gradec"], kinds["court_judgment"], day, "生效判决", "staff", "判决书", None)
        _new_record(ids["banned"], kinds["fund_misuse"], day, "挪用维修资金", "staff", "审计报告", None)
        return ids
    return _in(app, ns, build)


def membership(username):
    from wuye_saas.auth.models import User
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one()
    return db.session.execute(select(Membership).filter_by(user_id=user.id)).scalar_one()


def open_tender(app, ns, deadline=None, start=date(2027, 1, 1)) -> int:
    def go():
        mem = membership(f"{ns.slug}-committee")
        sel, problems = logic.open_selection(
            mem, db.session.get(m.Compound, ns.compound1), "tender", "一级", "包干制", Decimal("1.20"),
            start, date(2029, 12, 31), "保洁、秩序维护、共用设施设备维修养护；项目经理须有五年经验。",
            deadline or today() + timedelta(days=10))
        assert not problems, problems
        assert not logic.publish_tender(sel)
        return sel.id
    return _in(app, ns, go)


def _tables(app) -> dict[str, int]:
    with app.app_context():
        from wuye_saas.tenancy import system_scope
        with system_scope():
            return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in db.metadata.sorted_tables if t.name != "audit_event"}


# --- eligibility ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key, reason", [
    ("black", "列入2026年第3季度季测评黑榜，黑榜企业不得参加招投标"),
    ("gradec", "信用等级为C（55.00 分），本区规定信用等级为C、黑名单的企业不得参加招投标"),
    ("banned", "信用等级为黑名单，本区规定信用等级为C、黑名单的企业不得参加招投标"),
])
def test_a_barred_firm_is_refused_with_the_reason_and_nothing_written(app, client, world, key, reason):
    ns = world["alpha"]
    firms = market(app, ns)
    sel = open_tender(app, ns)
    login(client, f"alpha-{key}")
    page = client.get(f"/d/alpha/hiring/{sel}/apply").get_data(as_text=True)
    assert "不能报名" in page and reason in page
    before = _tables(app)
    resp = post(client, f"/d/alpha/hiring/{sel}/apply", {"quoted_rate": "1.10", "proposal": "驻场 12 人"})
    assert resp.status_code == 422
    assert reason in resp.get_data(as_text=True)
    assert _tables(app) == before
    with app.app_context(), tenant_scope(ns.tenant_id):
        firm = db.session.get(m.Firm, firms[key])
        assert reason in logic.eligibility(firm, today())
    # No open tender is offered to it (card and tab agree), and the tab says why.
    listing = client.get("/d/alpha/hiring/?tab=apply").get_data(as_text=True)
    assert f'data-selection="{sel}"' not in listing and reason in listing
    assert "可报名的招标" not in client.get("/d/alpha/").get_data(as_text=True)
    # The owners' side sees the barred firms with their reasons on the tender's page.
    login(client, "alpha-committee")
    assert reason in client.get(f"/d/alpha/hiring/{sel}").get_data(as_text=True)


def test_district_rule_changes_the_bars_and_consequences_bar_and_add(app, client, world):
    ns = world["alpha"]
    firms = market(app, ns)
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/hiring/settings", {"barred_grades": ["黑名单"], "bar_black_list": "y"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        get = lambda k: db.session.get(m.Firm, firms[k])  # noqa: E731
        assert logic.eligibility(get("gradec"), today()) is None           # C no longer barred
        assert logic.eligibility(get("black"), today()) is not None       # the 黑榜 bar stays
        # The bonus is the 招投标加分 the published list put on the firm, exactly.
        assert logic.bonus(get("red"), today()) == Decimal("2.00")
        assert logic.bonus(get("plain"), today()) == Decimal("0.00")
        # 限制参加招投标, a consequence of a list, bars the plain firm for its period.
        db.session.add(FirmFlag(firm_id=firms["plain"], kind="restrict_tender", valid_from=today(),
                                valid_until=today() + timedelta(days=365), list_kind="yellow",
                                source_key="test:restrict", title="黄榜：限制参加招投标"))
        db.session.commit()
        assert "限制参加招投标" in logic.eligibility(get("plain"), today())
        assert firms["plain"] in {f.id for f, _ in logic.barred_firms(today())}
        assert logic.eligibility(get("plain"), today() + timedelta(days=365)) is None   # expired
    login(client, "alpha-committee")
    assert post(client, "/d/alpha/hiring/settings", {"bar_black_list": "y"}).status_code == 403


def test_tender_bonus_exact_panel_average_winner_draft_and_publication(app, client, world, monkeypatch):
    ns = world["alpha"]
    firms = market(app, ns)
    sel = open_tender(app, ns)
    for key, rate in (("red", "1.15"), ("plain", "1.05")):
        login(client, f"alpha-{key}")
        assert post(client, f"/d/alpha/hiring/{sel}/apply",
                    {"quoted_rate": rate, "proposal": "驻场 12 人，24 小时秩序维护"}).status_code == 302
    login(client, "alpha-red")
    assert post(client, f"/d/alpha/hiring/{sel}/apply",
                {"quoted_rate": "1.00", "proposal": "再次报名"}).status_code == 422   # once
    assert post(client, f"/d/alpha/hiring/{sel}/apply",
                {"quoted_rate": "1.30", "proposal": "超过上限"}).status_code == 422   # no double either
    login(client, "alpha-committee")
    for name, unit in (("王建国", "业主代表"), ("李秀英", "业主代表"), ("赵工", "物业管理专家"),
                       ("钱工", "物业管理专家"), ("孙书记", "社区党委")):
        assert post(client, f"/d/alpha/hiring/{sel}/panel", {"name": name, "unit": unit}).status_code == 302
    # Before the deadline the panel does not score.
    with app.app_context(), tenant_scope(ns.tenant_id):
        apps = {a.firm_id: a.id for a in db.session.execute(select(TenderApplication)).scalars()}
        members = [p.id for p in db.session.get(Selection, sel).panel]
    score_url = f"/d/alpha/hiring/{sel}/applications/{apps[firms['red']]}"
    red_scores = ["85.50", "88", "90.25", "86", "87.10"]       # Σ 436.85 ÷ 5 = 87.37
    data = {f"m{mid}": s for mid, s in zip(members, red_scores)}
    resp = post(client, score_url, data)
    assert resp.status_code == 422 and "报名截止后" in resp.get_data(as_text=True)

    later = today() + timedelta(days=11)
    monkeypatch.setattr(logic, "today", lambda: later)
    assert post(client, score_url, data).status_code == 302
    plain_scores = ["90", "89.99", "88.01", "89", "88.34"]     # Σ 445.34 ÷ 5 = 89.068 → 89.07
    assert post(client, f"/d/alpha/hiring/{sel}/applications/{apps[firms['plain']]}",
                {f"m{mid}": s for mid, s in zip(members, plain_scores)}).status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        red = db.session.get(TenderApplication, apps[firms["red"]])
        plain = db.session.get(TenderApplication, apps[firms["plain"]])
        assert (red.average, red.bonus, red.total) == (Decimal("87.37"), Decimal("2.00"), Decimal("89.37"))
        assert (plain.average, plain.bonus, plain.total) == (Decimal("89.07"), Decimal("0.00"), Decimal("89.07"))
        assert (red.rank, plain.rank) == (1, 2)
        assert (red.grade, red.lists) == ("AA", "红榜")
    page = client.get(f"/d/alpha/hiring/{sel}").get_data(as_text=True)
    assert "87.37" in page and "89.37" in page

    # A second-ranked firm cannot be made the winner.
    assert post(client, f"/d/alpha/hiring/{sel}/award", {"application_id": apps[firms["plain"]]}).status_code == 422
    assert post(client, f"/d/alpha/hiring/{sel}/award", {"application_id": apps[firms["red"]]}).status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Selection, sel)
        c = s.contract
        assert (s.status, s.winner_firm_id) == ("awarded", firms["red"])
        assert (c.firm_id, c.compound_id, c.status) == (firms["red"], ns.compound1, "draft")
        assert (c.start_date, c.end_date, c.service_grade, c.fee_mode, c.fee_rate) == \
            (date(2027, 1, 1), date(2029, 12, 31), "一级", "包干制", Decimal("1.1500"))
        pub = db.session.get(Publication, s.result_publication_id)
        assert pub.compound_id == ns.compound1 and pub.kind == "hiring_result"
        assert pub.content["winner"] == FIRMS["red"]
        rows = {r["firm"]: r for r in pub.content["applicants"]}
        assert rows[FIRMS["red"]]["scores"] == ["85.50", "88.00", "90.25", "86.00", "87.10"]
        assert (rows[FIRMS["red"]]["average"], rows[FIRMS["red"]]["bonus"], rows[FIRMS["red"]]["total"]) == \
            ("87.37", "2.00", "89.37")
        seqs = [p.kind for p in db.session.execute(select(Publication).where(
            Publication.compound_id == ns.compound1).order_by(Publication.seq)).scalars()]
        assert seqs == ["tender_notice", "hiring_result"]
    board = client.get(f"/p/alpha/c/{ns.compound1}/").get_data(as_text=True)
    assert "物业选聘结果公示" in board


def test_averages_round_half_up_to_the_cent():
    assert logic.average([Decimal("85"), Decimal("86"), Decimal("86")]) == Decimal("85.67")   # 85.666…
    assert logic.average([Decimal("80.01"), Decimal("80.00")]) == Decimal("80.01")           # 80.005 → up
    assert logic.average([Decimal("70"), Decimal("71")]) == Decimal("70.50")


def test_the_panel_needs_an_odd_five_and_every_score(app, world, monkeypatch):
    ns = world["alpha"]
    firms = market(app, ns)
    sel = open_tender(app, ns)

    def setup():
        s = db.session.get(Selection, sel)
        app_ = logic.apply(s, db.session.get(m.Firm, firms["plain"]), Decimal("1"), "方案")[0]
        for name in ("甲", "乙", "丙", "丁"):
            logic.add_panel_member(s, name, "")
        return app_.id
    app_id = _in(app, ns, setup)
    monkeypatch.setattr(logic, "today", lambda: today() + timedelta(days=11))

    def check():
        s = db.session.get(Selection, sel)
        assert logic.award_problem(s) == "评标委员会应为 5 人以上单数，现为 4 人。"
        logic.add_panel_member(s, "戊", "")
        assert logic.award_problem(s) == f"尚有投标未经全体评委评分：{FIRMS['plain']}。"
        a = db.session.get(TenderApplication, app_id)
        problems = logic.record_scores(s, a, {s.panel[0].id: Decimal("80")})
        assert "缺：乙、丙、丁、戊" in problems["scores"]
        assert db.session.execute(select(func.count(PanelScore.id))).scalar() == 0
    _in(app, ns, check)


# --- signing and coming into force -----------------------------------------------------------

def _awarded(app, ns, firms, start=date(2027, 1, 1)) -> int:
    sel = open_tender(app, ns, start=start)

    def go():
        s = db.session.get(Selection, sel)
        a = logic.apply(s, db.session.get(m.Firm, firms["plain"]), Decimal("1.10"), "方案")[0]
        for name in "甲乙丙丁戊":
            logic.add_panel_member(s, name, "")
        return s, a
    s, a = _in(app, ns, go)
    real = logic.today
    logic.today = lambda: real() + timedelta(days=11)
    try:
        def score_and_award():
            s = db.session.get(Selection, sel)
            a = s.applications[0]
            assert not logic.record_scores(s, a, {mb.id: Decimal("80") for mb in s.panel})
            assert not logic.award(s, a)
        _in(app, ns, score_and_award)
    finally:
        logic.today = real
    return sel


def test_signing_waits_for_the_outgoing_firm(app, client, world):
    ns = world["alpha"]
    firms = market(app, ns)
    sel = _awarded(app, ns, firms)            # contract1 serves compound1 until 2030
    login(client, "alpha-plain")
    page = client.get(f"/d/alpha/hiring/{sel}").get_data(as_text=True)
    assert "以企业名义签订合同" in page
    assert post(client, f"/d/alpha/hiring/{sel}/sign").status_code == 302
    login(client, "alpha-committee")
    resp = post(client, f"/d/alpha/hiring/{sel}/sign", follow_redirects=True)
    assert "待原物业交接完成后生效" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Selection, sel)
        assert s.contract.status == "draft" and s.firm_signed_at and s.owners_signed_at
    # The handover ends the incoming firm's wait: the old contract ends, the draft comes into force.
    def handover():
        db.session.get(m.Contract, ns.contract1).end_date = date(2026, 12, 31)
        contract = db.session.get(Selection, sel).contract
        assert logic.activate_if_free(contract) == (True, "合同已生效。")
        assert contract.status == "active"
    _in(app, ns, handover)


def test_signing_activates_when_the_compound_is_free(app, client, world):
    ns = world["alpha"]
    firms = market(app, ns)
    _in(app, ns, lambda: setattr(db.session.get(m.Contract, ns.contract1), "end_date", date(2026, 12, 31)))
    sel = _awarded(app, ns, firms)

    def unsigned():
        contract = db.session.get(Selection, sel).contract
        assert logic.activate_if_free(contract) == (False, "待双方签订后生效。")
    _in(app, ns, unsigned)
    login(client, "alpha-committee")
    assert post(client, f"/d/alpha/hiring/{sel}/sign").status_code == 302
    assert post(client, f"/d/alpha/hiring/{sel}/sign").status_code == 422          # once
    login(client, "alpha-red")                                                     # not the winner
    assert post(client, f"/d/alpha/hiring/{sel}/sign").status_code == 422
    login(client, "alpha-plain")
    resp = post(client, f"/d/alpha/hiring/{sel}/sign", follow_redirects=True)
    assert "合同已生效" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        c = db.session.get(Selection, sel).contract
        assert c.status == "active" and c.serves(date(2027, 6, 1))


# --- by owners' vote -----------------------------------------------------------------------------

def _vote_selection(app, client, ns, firms) -> tuple[int, int]:
    login(client, "alpha-committee")
    resp = post(client, "/d/alpha/hiring/new", {
        "compound_id": ns.compound1, "mode": "vote", "service_grade": "二级", "fee_mode": "酬金制",
        "fee_rate": "0.95", "term_start": "2027-01-01", "term_end": "2028-12-31"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    sel = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    for key, rate in (("plain", "0.90"), ("red", "0.93")):
        assert post(client, f"/d/alpha/hiring/{sel}/candidates",
                    {"firm_id": firms[key], "quoted_rate": rate, "note": "服务方案完整"}).status_code == 302
    page = client.get(f"/d/alpha/hiring/{sel}").get_data(as_text=True)
    assert "红榜" in page and "AA" in page
    with app.app_context(), tenant_scope(ns.tenant_id):
        cands = {c.firm_id: c.id for c in db.session.get(Selection, sel).candidates}
    assert post(client, f"/d/alpha/hiring/{sel}/candidates/{cands[firms['plain']]}/propose").status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Selection, sel)
        assert s.status == "voting"
        assert (s.vote.matter, s.vote.title, s.vote.status) == \
            ("hire_firm", f"选聘{FIRMS['plain']}为甲区1号小区物业服务企业", "draft")
        return sel, s.vote_id


def _run_vote(app, ns, vote_id, choice):
    """The committee runs the vote through votes.logic: file, publicize, open, ballot, close."""
    def go():
        vote = db.session.get(OwnerVote, vote_id)
        assert not votes.file_vote(vote)
        start = today() + timedelta(days=15)
        assert not votes.publicize_vote(vote, start, start)
        filed_with_street(vote)
        real = votes.today
        votes.today = lambda: start
        try:
            assert not votes.open_vote(vote)
            h = db.session.get(m.Household, ns.household1)
            assert not votes.record_ballot(vote, h, choice, "张三", False)[1]
            assert not votes.close_vote(vote)[1]
        finally:
            votes.today = real
    _in(app, ns, go)


def test_a_passed_vote_gives_the_firm_the_contract_draft(app, client, world):
    ns = world["alpha"]
    firms = market(app, ns)
    sel, vote_id = _vote_selection(app, client, ns, firms)
    _run_vote(app, ns, vote_id, "agree")
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Selection, sel)
        assert (s.status, s.winner_firm_id) == ("awarded", firms["plain"])
        c = s.contract
        assert (c.firm_id, c.status, c.start_date, c.end_date, c.service_grade, c.fee_mode, c.fee_rate) == \
            (firms["plain"], "draft", date(2027, 1, 1), date(2028, 12, 31), "二级", "酬金制", Decimal("0.9000"))
        assert "业主表决通过" in s.outcome_note


def test_a_failed_vote_gives_no_draft_and_another_candidate_can_be_proposed(app, client, world):
    ns = world["alpha"]
    firms = market(app, ns)
    sel, vote_id = _vote_selection(app, client, ns, firms)
    _run_vote(app, ns, vote_id, "disagree")
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Selection, sel)
        assert s.status == "vote_failed" and s.contract_id is None
        assert db.session.execute(select(func.count(m.Contract.id)).where(m.Contract.status == "draft")).scalar() == 0
        cands = {c.firm_id: c for c in s.candidates}
        assert cands[firms["plain"]].outcome == "failed"
    page = client.get(f"/d/alpha/hiring/{sel}").get_data(as_text=True)
    assert "业主表决未通过" in page and "可另行提名" in page
    # The failed candidate cannot be proposed again; the other one can.
    assert post(client, f"/d/alpha/hiring/{sel}/candidates/{cands[firms['plain']].id}/propose").status_code == 422
    assert post(client, f"/d/alpha/hiring/{sel}/candidates/{cands[firms['red']].id}/propose").status_code == 302


# --- who acts, who sees ----------------------------------------------------------------------

def test_the_community_acts_only_when_the_committee_cannot(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-community")
    assert "发起选聘" not in client.get("/d/alpha/hiring/").get_data(as_text=True)
    assert "甲区1号小区" not in client.get("/d/alpha/hiring/new").get_data(as_text=True).split("</select>")[0]
    # The committee's term ends: the community acts for it (代行) — by tender only.
    _in(app, ns, lambda: setattr(db.session.get(m.Committee, ns.committee1), "term_end", today() - timedelta(days=1)))
    data = {"compound_id": ns.compound1, "mode": "vote", "service_grade": "二级", "fee_mode": "包干制",
            "fee_rate": "1", "term_start": "2027-01-01", "term_end": "2028-12-31"}
    resp = post(client, "/d/alpha/hiring/new", data)
    assert resp.status_code == 422 and "居委会代行期间请采用招投标方式" in resp.get_data(as_text=True)
    data.update(mode="tender", requirements="基本物业服务", deadline=(today() + timedelta(days=5)).isoformat())
    assert post(client, "/d/alpha/hiring/new", data).status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.execute(select(Selection)).scalar_one()
        assert s.acting == "community"
    login(client, "alpha-committee")
    resp = post(client, f"/d/alpha/hiring/{s.id}/publish")
    assert resp.status_code == 403


def test_firms_see_published_tenders_of_their_district_committees_their_compound(app, client, world):
    a, b = world["alpha"], world["beta"]
    firms = market(app, a)
    mine = open_tender(app, a)
    theirs = open_tender(app, b)

    def second():   # a tender of compound 2 (its committee is branch 2's; no account) and a draft
        s = Selection(compound_id=a.compound2, mode="tender", status="draft", acting="committee", title="二号小区招标",
                      service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1"), term_start=date(2027, 1, 1),
                      term_end=date(2028, 1, 1), requirements="x", deadline=today() + timedelta(days=3))
        db.session.add(s)
        db.session.flush()
        draft_id = s.id
        assert not logic.publish_tender(s)
        draft = Selection(compound_id=a.compound2, mode="tender", status="draft", acting="committee", title="草稿招标",
                          service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1"), term_start=date(2027, 1, 1),
                          term_end=date(2028, 1, 1), requirements="x", deadline=today() + timedelta(days=3))
        db.session.add(draft)
        db.session.flush()
        return draft_id, draft.id
    other, draft = _in(app, a, second)
    login(client, "alpha-plain")
    listing = client.get("/d/alpha/hiring/?tab=apply").get_data(as_text=True)
    assert f'data-selection="{mine}"' in listing and f'data-selection="{other}"' in listing
    assert f'data-selection="{draft}"' not in listing
    assert client.get(f"/d/alpha/hiring/{draft}").status_code == 404
    assert client.get(f"/d/alpha/hiring/{theirs}").status_code == 404         # another district's id
    assert client.get(f"/d/beta/hiring/{theirs}").status_code == 404          # another district
    login(client, "alpha-committee")
    listing = client.get("/d/alpha/hiring/").get_data(as_text=True)
    assert f'data-selection="{mine}"' in listing and f'data-selection="{other}"' not in listing
    assert client.get(f"/d/alpha/hiring/{other}").status_code == 404
    assert post(client, f"/d/alpha/hiring/{other}/panel", {"name": "某某"}).status_code == 404
    # A firm applies for its own firm only; firms see only their own application.
    login(client, "alpha-plain")
    assert post(client, f"/d/alpha/hiring/{mine}/apply", {"quoted_rate": "1", "proposal": "方案"}).status_code == 302
    login(client, "alpha-red")
    assert post(client, f"/d/alpha/hiring/{mine}/apply", {"quoted_rate": "1", "proposal": "方案"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        apps = {x.firm_id: x.id for x in db.session.execute(select(TenderApplication)).scalars()}
        assert set(apps) == {firms["plain"], firms["red"]}
    assert client.get(f"/d/alpha/hiring/{mine}/applications/{apps[firms['plain']]}").status_code == 404
    assert client.get(f"/d/alpha/hiring/{mine}/applications/{apps[firms['red']]}").status_code == 200
    page = client.get(f"/d/alpha/hiring/{mine}").get_data(as_text=True)
    assert FIRMS["plain"] not in page


def test_todo_cards_for_firm_and_committee(app, client, world):
    ns = world["alpha"]
    market(app, ns)
    sel = open_tender(app, ns)
    login(client, "alpha-plain")
    home = client.get("/d/alpha/").get_data(as_text=True)
    assert "可报名的招标" in home
    assert re.search(r'href="/d/alpha/hiring/\?tab=apply"', home)
    assert post(client, f"/d/alpha/hiring/{sel}/apply", {"quoted_rate": "1", "proposal": "方案"}).status_code == 302
    assert "可报名的招标" not in client.get("/d/alpha/").get_data(as_text=True)
    login(client, "alpha-committee")
    _in(app, ns, lambda: setattr(db.session.get(Selection, sel), "deadline", today() - timedelta(days=1)))
    home = client.get("/d/alpha/").get_data(as_text=True)
    assert "待评标的招标" in home
