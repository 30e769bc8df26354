"""Resident satisfaction surveys: opening them (who, for which compounds, which dates), the
public answer page (household code of that compound, once per household, only while open), and
the rates the results score with (hand-counted, with the 70% coverage boundary)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.evaluation import surveys
from wuye_saas.evaluation.models import Assessment, Evaluation, Standard, StandardItem, Survey, SurveyResponse
from wuye_saas.extensions import db
from wuye_saas.org.models import Household
from wuye_saas.tenancy import Tenant, system_scope, tenant_scope
from wuye_saas.timeutil import today

from .helpers import form_data, login, post


def _evaluation(app, ns, *, status="open", open_survey=True, days_left=5) -> dict:
    """A standard with two survey items and a community item, a 季测评 of both compounds of the
    district (firm i serves compound i), and (optionally) compound 1's survey open until
    today + days_left."""
    t = today()
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        std = Standard(name="测评标准", status="active")
        db.session.add(std)
        db.session.flush()
        a = StandardItem(standard_id=std.id, name="保洁服务", criterion="得分 = 10 × 满意率",
                         question="您对小区公共区域的卫生保洁是否满意？",
                         max_points=Decimal("10"), method="computed", scorer="survey", sort=1)
        b = StandardItem(standard_id=std.id, name="秩序维护", criterion="得分 = 10 × 满意率",
                         question="您对门岗值守和巡逻是否满意？",
                         max_points=Decimal("10"), method="computed", scorer="survey", sort=2)
        c = StandardItem(standard_id=std.id, name="项目负责人到社区报到", max_points=Decimal("4"),
                         method="yesno", scorer="community", sort=0)
        ev = Evaluation(standard_id=std.id, kind="quarterly", name="第一季度季测评", status=status,
                        period_start=t - timedelta(days=60), period_end=t + timedelta(days=10),
                        self_report_due=t + timedelta(days=15), review_due=t + timedelta(days=20))
        db.session.add_all([a, b, c, ev])
        db.session.flush()
        db.session.add_all([Assessment(evaluation_id=ev.id, firm_id=ns.firm1, compound_id=ns.compound1),
                            Assessment(evaluation_id=ev.id, firm_id=ns.firm2, compound_id=ns.compound2)])
        out = {"ev": ev.id, "a": a.id, "b": b.id, "c": c.id, "survey": None}
        if open_survey:
            s = Survey(evaluation_id=ev.id, compound_id=ns.compound1, opens_on=t - timedelta(days=3),
                       closes_on=t + timedelta(days=days_left))
            db.session.add(s)
            db.session.flush()
            out["survey"] = s.id
        db.session.commit()
        return out


def _households(app, ns, compound: str, n: int) -> list[int]:
    """Add households to the branch's compound until it has n; their ids, first the factory's."""
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        cid, bid = getattr(ns, compound), getattr(ns, "building" + compound[-1])
        have = db.session.execute(select(func.count(Household.id)).where(Household.compound_id == cid)).scalar()
        for k in range(have, n):
            db.session.add(Household(compound_id=cid, building_id=bid, room=f"2{k:02d}", floor=2,
                                     floor_area=Decimal("60.00"), owner_name="李四",
                                     household_code=f"{ns.slug[:2].upper()}{compound[-1]}X{k:03d}"))
        db.session.commit()
        return list(db.session.execute(select(Household.id).where(Household.compound_id == cid)
                                       .order_by(Household.id)).scalars())


def _count(app, ns, model=SurveyResponse) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.execute(select(func.count(model.id))).scalar()


def _answers(e, a="satisfied", b="basically") -> dict:
    return {f"q{e['a']}": a, f"q{e['b']}": b}


def _public(client, ns, e, code, **answers):
    url = f"/p/{ns.slug}/c/{ns.compound1}/survey"
    data = {"survey_id": str(e["survey"]), "household_code": code, **(answers or _answers(e)),
            "comment": "电梯间灯坏了"}
    client.get(url)  # a session (and its CSRF token) like a resident's browser
    return post(client, url, data)


# --- the public answer page ----------------------------------------------------------------

def test_resident_answers_once_and_sees_no_personal_data(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    page = client.get(f"/p/alpha/c/{ns.compound1}/survey")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # Residents are asked the survey items' questions — never the scoring formula — and not the community item.
    assert "1. 您对小区公共区域的卫生保洁是否满意？" in html and "2. 您对门岗值守和巡逻是否满意？" in html
    assert "满意率" not in html
    assert "项目负责人到社区报到" not in html
    data = form_data(html, f"/p/alpha/c/{ns.compound1}/survey").to_dict()
    assert data["survey_id"] == str(e["survey"])
    data.update({"household_code": " al1code1 ", f"q{e['a']}": "satisfied", f"q{e['b']}": "unsatisfied",
                 "comment": "希望加强夜间巡逻"})
    resp = client.post(f"/p/alpha/c/{ns.compound1}/survey", data=data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/p/alpha/c/{ns.compound1}/survey/thanks")
    thanks = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "感谢您参与" in thanks and "AL1CODE1" not in thanks and "张三" not in thanks
    with app.app_context(), tenant_scope(ns.tenant_id):
        r = db.session.execute(select(SurveyResponse)).scalar_one()
        assert (r.survey_id, r.household_id) == (e["survey"], ns.household1)
        assert r.answers == {str(e["a"]): "satisfied", str(e["b"]): "unsatisfied"}
        assert r.comment == "希望加强夜间巡逻"


@pytest.mark.parametrize("second_code", ["AL1CODE1", "al1code1", "Al1Code1"])
def test_second_response_with_the_same_code_is_refused(app, client, world, second_code):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    assert _public(client, ns, e, "AL1CODE1").status_code == 302
    resp = _public(client, ns, e, second_code, **_answers(e, "unsatisfied", "unsatisfied"))
    assert resp.status_code == 422
    assert "该户已参加本次测评，每户只能提交一次。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        # Still the first answers, and only them.
        assert [r.answers for r in db.session.execute(select(SurveyResponse)).scalars()] == [
            {str(e["a"]): "satisfied", str(e["b"]): "basically"}]


def test_the_unique_constraint_guards_a_race(app, world, monkeypatch):
    """Two submissions of one household at the same moment both pass the look-up; the database
    constraint refuses the second, with the same message and nothing written."""
    ns = world["alpha"]
    e = _evaluation(app, ns)
    with app.app_context(), tenant_scope(ns.tenant_id):
        surveys.respond(db.session.get(Survey, e["survey"]), "AL1CODE1", {e["a"]: "satisfied", e["b"]: "satisfied"})
        db.session.commit()
        monkeypatch.setattr(surveys, "answered", lambda survey_id, household_id: False)
        with pytest.raises(surveys.SurveyProblem) as err:
            surveys.respond(db.session.get(Survey, e["survey"]), "al1code1",
                            {e["a"]: "unsatisfied", e["b"]: "unsatisfied"})
        assert err.value.message == "该户已参加本次测评，每户只能提交一次。"
        assert err.value.field == "household_code"
        db.session.rollback()
        assert db.session.execute(select(func.count(SurveyResponse.id))).scalar() == 1


def test_code_of_another_compound_is_refused(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    for code in ("AL2CODE1", "BE1CODE1", "NOSUCH"):  # compound 2; another district's; unknown
        resp = _public(client, ns, e, code)
        assert resp.status_code == 422
        assert "户码与本小区不符，请核对物业或社区发放的户码。" in resp.get_data(as_text=True)
    assert _count(app, ns) == 0


def test_wrong_codes_are_limited_per_address(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    for _ in range(10):
        assert _public(client, ns, e, "WRONG1").status_code == 422
    resp = _public(client, ns, e, "AL1CODE1")  # even the right code, until the window passes
    assert resp.status_code == 429 and "同一网络每 10 分钟最多 10 次" in resp.get_data(as_text=True)
    assert _count(app, ns) == 0


def test_missing_answer_is_refused_next_to_the_question(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    resp = _public(client, ns, e, "AL1CODE1", **{f"q{e['a']}": "satisfied"})
    assert resp.status_code == 422
    assert "请回答第 2 题：您对门岗值守和巡逻是否满意？" in resp.get_data(as_text=True)
    resp = _public(client, ns, e, "AL1CODE1", **{f"q{e['a']}": "great", f"q{e['b']}": "satisfied"})
    assert resp.status_code == 422 and "请回答第 1 题：您对小区公共区域的卫生保洁是否满意？" in resp.get_data(as_text=True)
    assert _count(app, ns) == 0


def test_closed_and_not_yet_open_surveys_are_refused(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    t = today()
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Survey, e["survey"])
        s.opens_on, s.closes_on = t - timedelta(days=10), t - timedelta(days=1)
        db.session.commit()
    page = client.get(f"/p/alpha/c/{ns.compound1}/survey").get_data(as_text=True)
    assert "本小区目前没有正在进行的满意度测评。" in page
    assert f"上一次测评已于 {t - timedelta(days=1)} 结束" in page
    resp = _public(client, ns, e, "AL1CODE1")
    assert resp.status_code == 422
    assert f"本次测评已于 {t - timedelta(days=1)} 结束，不再接收答卷。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Survey, e["survey"])
        s.opens_on, s.closes_on = t + timedelta(days=1), t + timedelta(days=8)
        db.session.commit()
    assert f"下一次测评将于 {t + timedelta(days=1)} 开始" in client.get(f"/p/alpha/c/{ns.compound1}/survey").get_data(as_text=True)
    resp = _public(client, ns, e, "AL1CODE1")
    assert resp.status_code == 422 and f"本次测评将于 {t + timedelta(days=1)} 开始" in resp.get_data(as_text=True)
    assert _count(app, ns) == 0


def test_finalized_evaluation_takes_no_more_answers(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns, status="finalized")
    resp = _public(client, ns, e, "AL1CODE1")
    assert resp.status_code == 422 and "不再接收答卷" in resp.get_data(as_text=True)
    assert _count(app, ns) == 0


def test_compound_without_survey_shows_an_empty_state(app, client, world):
    ns = world["alpha"]
    _evaluation(app, ns)
    resp = client.get(f"/p/alpha/c/{ns.compound2}/survey")
    assert resp.status_code == 200
    assert "本小区目前没有正在进行的满意度测评。" in resp.get_data(as_text=True)


def test_public_page_is_404_for_another_district_or_a_suspended_one(app, client, world):
    alpha, beta = world["alpha"], world["beta"]
    _evaluation(app, alpha)
    _evaluation(app, beta)
    assert client.get(f"/p/alpha/c/{beta.compound1}/survey").status_code == 404
    assert client.get(f"/p/beta/c/{alpha.compound1}/survey").status_code == 404
    assert client.get(f"/p/alpha/c/{beta.compound1}/survey/thanks").status_code == 404
    assert client.get(f"/p/beta/c/{beta.compound1}/survey").status_code == 200
    with app.app_context(), system_scope():
        db.session.execute(db.update(Tenant).where(Tenant.slug == "beta").values(active=False))
        db.session.commit()
    assert client.get(f"/p/beta/c/{beta.compound1}/survey").status_code == 404
    assert client.get(f"/p/alpha/c/{alpha.compound1}/survey").status_code == 200


def test_a_survey_id_of_another_compound_is_404(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    client.get(f"/p/alpha/c/{ns.compound2}/survey")
    resp = post(client, f"/p/alpha/c/{ns.compound2}/survey",
                {"survey_id": str(e["survey"]), "household_code": "AL2CODE1", **_answers(e)})
    assert resp.status_code == 404
    assert _count(app, ns) == 0


# --- rates ---------------------------------------------------------------------------------

# (cleaning, order) per response, hand-counted: 保洁 satisfied 5 of 7 (s, b, s, s, b),
# 秩序 satisfied 4 of 7 (s, b, s, s) → 9 satisfied answers of 14.
SEVEN = [("satisfied", "satisfied"), ("basically", "unsatisfied"), ("unsatisfied", "unsatisfied"),
         ("satisfied", "basically"), ("satisfied", "satisfied"), ("unsatisfied", "satisfied"),
         ("basically", "unsatisfied")]


def _respond(app, ns, e, pairs, households):
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Survey, e["survey"])
        codes = dict(db.session.execute(select(Household.id, Household.household_code)
                                        .where(Household.id.in_(households))).all())
        for (a, b), hid in zip(pairs, households):
            surveys.respond(s, codes[hid].lower(), {e["a"]: a, e["b"]: b})
        db.session.commit()


def test_rates_hand_counted_at_exactly_seventy_percent(app, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    hh = _households(app, ns, "compound1", 10)
    _respond(app, ns, e, SEVEN, hh)
    with app.app_context(), tenant_scope(ns.tenant_id):
        stats = surveys.summary(e["ev"])[ns.compound1]
        assert (stats.households, stats.responses, stats.answers, stats.satisfied) == (10, 7, 14, 9)
        assert stats.coverage == Fraction(7, 10) and stats.valid
        # Compound 2 is assessed but has no survey: None, not missing.
        assert surveys.rates(e["ev"]) == {ns.compound1: Fraction(9, 14), ns.compound2: None}
        assert surveys.item_counts(db.session.get(Survey, e["survey"])) == {
            e["a"]: {"satisfied": 3, "basically": 2, "unsatisfied": 2},
            e["b"]: {"satisfied": 3, "basically": 1, "unsatisfied": 3}}


def test_rates_below_seventy_percent_are_none(app, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    hh = _households(app, ns, "compound1", 10)
    _respond(app, ns, e, SEVEN[:6], hh)  # 6 of 10 households
    with app.app_context(), tenant_scope(ns.tenant_id):
        stats = surveys.summary(e["ev"])[ns.compound1]
        assert (stats.responses, stats.satisfied, stats.answers) == (6, 8, 12)
        assert stats.satisfaction == Fraction(2, 3) and not stats.valid and stats.rate is None
        assert surveys.rates(e["ev"]) == {ns.compound1: None, ns.compound2: None}


def test_summary_costs_the_same_queries_for_many_compounds(app, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    from sqlalchemy import event
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.add(Survey(evaluation_id=e["ev"], compound_id=ns.compound2, opens_on=today(), closes_on=today()))
        db.session.commit()
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert set(surveys.summary(e["ev"])) == {ns.compound1, ns.compound2}
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(seen) <= 4  # evaluation, questions, answers, households


# --- staff pages ---------------------------------------------------------------------------

def _open(client, ns, e, scope="all", compound=0, opens=None, closes=None):
    t = today()
    return post(client, f"/d/{ns.slug}/surveys/open", {
        "evaluation_id": str(e["ev"]), "compound_id": str(compound), "scope": scope,
        "opens_on": str(opens or t), "closes_on": str(closes or t + timedelta(days=14))})


def test_district_opens_surveys_for_all_compounds_of_the_evaluation(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns, open_survey=False)
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/surveys/?evaluation={e['ev']}").get_data(as_text=True)
    assert "为全部小区开启（2 个）" in page
    resp = _open(client, ns, e)
    assert resp.status_code == 302
    assert "已为 2 个小区开启满意度测评" in client.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        rows = db.session.execute(select(Survey.compound_id, Survey.opens_on, Survey.closes_on)
                                  .order_by(Survey.compound_id)).all()
        assert rows == [(ns.compound1, today(), today() + timedelta(days=14)),
                        (ns.compound2, today(), today() + timedelta(days=14))]
        events = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "survey")).scalars().all()
        assert len(events) == 2 and {ev.action for ev in events} == {"create"}
        assert events[0].actor == "甲区district"
    # Nothing left to open: a second bulk open is refused, nothing doubled.
    resp = _open(client, ns, e)
    assert resp.status_code == 422
    assert _count(app, ns, Survey) == 2


def test_opening_before_the_period_or_with_bad_dates_is_refused(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns, open_survey=False)
    t = today()
    login(client, "alpha-district")
    resp = _open(client, ns, e, opens=t - timedelta(days=61))
    assert resp.status_code == 422
    assert f"测评开始日期不能早于考核期间的开始日 {t - timedelta(days=60)}" in resp.get_data(as_text=True)
    resp = _open(client, ns, e, opens=t + timedelta(days=5), closes=t + timedelta(days=4))
    assert resp.status_code == 422 and "截止日期不能早于开始日期。" in resp.get_data(as_text=True)
    resp = _open(client, ns, e, opens=t - timedelta(days=20), closes=t - timedelta(days=1))
    assert resp.status_code == 422 and "截止日期已过" in resp.get_data(as_text=True)
    resp = _open(client, ns, e, scope="one", compound=0)
    assert resp.status_code == 422 and "请选择小区" in resp.get_data(as_text=True)
    assert _count(app, ns, Survey) == 0


def test_a_finalized_evaluation_cannot_get_new_surveys(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns, status="published")
    login(client, "alpha-district")
    assert "该考核已定稿" in client.get(f"/d/alpha/surveys/?evaluation={e['ev']}").get_data(as_text=True)
    resp = _open(client, ns, e)
    assert resp.status_code == 422 and "已定稿，不能再开启或调整满意度测评" in resp.get_data(as_text=True)
    resp = post(client, f"/d/alpha/surveys/{e['survey']}/dates",
                {"opens_on": str(today()), "closes_on": str(today() + timedelta(days=40))})
    assert resp.status_code == 422 and "已定稿，不能再开启或调整满意度测评" in resp.get_data(as_text=True)
    assert _count(app, ns, Survey) == 1
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.get(Survey, e["survey"]).closes_on == today() + timedelta(days=5)


def test_community_staff_open_only_their_compounds(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns, open_survey=False)
    login(client, "alpha-community")
    resp = _open(client, ns, e, scope="one", compound=ns.compound2)
    assert resp.status_code == 422 and "不在您的管辖范围内" in resp.get_data(as_text=True)
    assert _open(client, ns, e).status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(Survey.compound_id)).scalars().all() == [ns.compound1]


def test_staff_scope_of_survey_pages(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    with app.app_context(), tenant_scope(ns.tenant_id):
        other = Survey(evaluation_id=e["ev"], compound_id=ns.compound2, opens_on=today(), closes_on=today())
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login(client, "alpha-community")
    assert client.get(f"/d/alpha/surveys/{e['survey']}").status_code == 200
    for url in (f"/d/alpha/surveys/{other_id}", f"/d/alpha/surveys/{other_id}/poster"):
        assert client.get(url).status_code == 404, url
    resp = post(client, f"/d/alpha/surveys/{other_id}/dates", {"opens_on": str(today()), "closes_on": str(today())})
    assert resp.status_code == 404
    listing = client.get(f"/d/alpha/surveys/?evaluation={e['ev']}").get_data(as_text=True)
    assert "甲区1号小区" in listing and "甲区2号小区" not in listing
    # Another district's survey under this slug, and this district's to beta's staff: 404.
    login(client, "beta-district")
    assert client.get(f"/d/beta/surveys/{e['survey']}").status_code == 404
    assert client.get(f"/d/alpha/surveys/{e['survey']}").status_code == 404
    # Street staff see their street's surveys but do not open them; firms have no survey pages.
    login(client, "alpha-street")
    assert client.get(f"/d/alpha/surveys/{e['survey']}").status_code == 200
    assert _open(client, ns, e).status_code == 403
    login(client, "alpha-firm")
    assert client.get("/d/alpha/surveys/").status_code == 403
    assert client.get(f"/d/alpha/surveys/{e['survey']}").status_code == 404
    assert _count(app, ns, Survey) == 2


def test_list_and_detail_show_the_numbers(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    hh = _households(app, ns, "compound1", 10)
    _respond(app, ns, e, SEVEN, hh)
    login(client, "alpha-district")
    listing = client.get(f"/d/alpha/surveys/?evaluation={e['ev']}").get_data(as_text=True)
    row = listing.split(f'data-compound="{ns.compound1}"')[1].split("</tr>")[0]
    # households, responses, coverage, satisfaction 9/14, validity
    assert ">10<" in row and ">7<" in row and "70.0%" in row and "64.3%" in row and ">有效<" in row
    row2 = listing.split(f'data-compound="{ns.compound2}"')[1].split("</tr>")[0]
    assert "未开启" in row2
    only_valid = client.get(f"/d/alpha/surveys/?evaluation={e['ev']}&status=none").get_data(as_text=True)
    assert f'data-compound="{ns.compound2}"' in only_valid and f'data-compound="{ns.compound1}"' not in only_valid
    detail = client.get(f"/d/alpha/surveys/{e['survey']}").get_data(as_text=True)
    cleaning = detail.split(f'data-item="{e["a"]}"')[1].split("</tr>")[0]
    assert ">3<" in cleaning and ">2<" in cleaning and "71.4%" in cleaning  # 5 of 7
    assert "AL1CODE1" not in detail and "张三" not in detail


def test_poster_has_a_qr_code_to_the_public_page(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    login(client, "alpha-community")
    html = client.get(f"/d/alpha/surveys/{e['survey']}/poster").get_data(as_text=True)
    assert "<svg" in html and f"http://localhost/p/alpha/c/{ns.compound1}/survey" in html
    assert "您对小区公共区域的卫生保洁是否满意？" in html and "甲区1号小区" in html


def test_dates_after_answers_keep_the_start(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    t = today()
    login(client, "alpha-district")
    resp = post(client, f"/d/alpha/surveys/{e['survey']}/dates",
                {"opens_on": str(t - timedelta(days=3)), "closes_on": str(t + timedelta(days=30))})
    assert resp.status_code == 302
    _respond(app, ns, e, SEVEN[:1], [ns.household1])
    resp = post(client, f"/d/alpha/surveys/{e['survey']}/dates",
                {"opens_on": str(t), "closes_on": str(t + timedelta(days=30))})
    assert resp.status_code == 422 and "已有居民参加测评，开始日期不能再修改。" in resp.get_data(as_text=True)
    resp = post(client, f"/d/alpha/surveys/{e['survey']}/dates",
                {"opens_on": str(t - timedelta(days=3)), "closes_on": str(t - timedelta(days=1))})
    assert resp.status_code == 422 and "截止日期不能早于该日" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        s = db.session.get(Survey, e["survey"])
        assert (s.opens_on, s.closes_on) == (t - timedelta(days=3), t + timedelta(days=30))
        changes = [ev.changes for ev in db.session.execute(
            select(AuditEvent).where(AuditEvent.entity == "survey", AuditEvent.action == "update")).scalars()]
        assert changes == [{"closes_on": {"before": str(t + timedelta(days=5)), "after": str(t + timedelta(days=30))}}]


def test_demo_surveys_answer_the_finished_quarter(app, world):
    from wuye_saas.demo.evaluation_surveys import seed_surveys
    from wuye_saas.timeutil import local
    ns = world["alpha"]
    e = _evaluation(app, ns, open_survey=False)
    _households(app, ns, "compound1", 40)
    t = today()
    with app.app_context(), tenant_scope(ns.tenant_id):
        ev = db.session.get(Evaluation, e["ev"])
        ev.period_start, ev.period_end, ev.status = t - timedelta(days=120), t - timedelta(days=30), "reviewing"
        db.session.commit()
        counts = seed_surveys(ns.tenant_id, ns.compound1)
        db.session.commit()
        assert counts["surveys"] == 2
        rows = db.session.execute(select(Survey.compound_id, Survey.opens_on, Survey.closes_on)
                                  .order_by(Survey.compound_id)).all()
        window = (t - timedelta(days=50), t - timedelta(days=20))  # last 20 days of the period + 10
        assert rows == [(ns.compound1, *window), (ns.compound2, *window)]
        answers = db.session.execute(select(SurveyResponse)).scalars().all()
        assert counts["survey_responses"] == len(answers) > 0
        assert all(window[0] <= local(r.created_at).date() <= window[1] for r in answers)
        assert {tuple(r.answers) for r in answers} == {(str(e["a"]), str(e["b"]))}
        assert surveys.summary(e["ev"])[ns.compound1].responses <= 40
        # Run again: nothing doubles.
        assert seed_surveys(ns.tenant_id, ns.compound1) == {"surveys": 0, "survey_responses": 0}


def test_the_compounds_public_board_links_the_bill_lookup_and_a_running_survey(app, client, world):
    ns = world["alpha"]
    _evaluation(app, ns, days_left=5)
    board = client.get(f"/p/alpha/c/{ns.compound1}/").get_data(as_text=True)
    assert 'href="/p/alpha/bill"' in board
    assert f'href="/p/alpha/c/{ns.compound1}/survey">参加测评</a>' in board
    assert f"居民满意度测评进行中（{today() - timedelta(days=3)} 至 {today() + timedelta(days=5)}）" in board
    # Compound 2 has no survey: the bill lookup, but no survey to take.
    other = client.get(f"/p/alpha/c/{ns.compound2}/").get_data(as_text=True)
    assert 'href="/p/alpha/bill"' in other and "参加测评" not in other and "survey" not in other
