"""Evaluation cycles and the assessment workflow through the web: opening a cycle creates the
right assessments and item scores and freezes the standard; the firm self-reports with evidence
and submits; a submitted report is locked (409, nothing written); the community reviews (a
changed score needs a reason), returns for correction, marks reviewed; the street confirms;
assessors score only their items; deadlines; who sees what (404 out of scope)."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.auth.models import Membership, User
from wuye_saas.evaluation import cycles
from wuye_saas.evaluation.models import (
    Assessment, AssessorAssignment, Evaluation, Evidence, ItemScore, Standard, StandardCategory, StandardItem,
)
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import system_scope, tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%probe\n"
LEVELS_5 = [{"label": "无", "points": "0"}, {"label": "部分", "points": "3"}, {"label": "全部", "points": "5"}]


def make_standard(status="active", unit="compound") -> dict:
    """A small standard: one category with a self-scored graded item needing evidence (A, 5), a
    community deduction item (B, 10, 1 per occurrence), a street yes/no item (C, 4), an assessor
    graded item (D, 6), a survey item (E, 20); a bonus item (F, 0–5) and a street veto (V).
    Call inside a tenant scope; returns {"standard": id, letter: item id}."""
    s = Standard(name=f"测试标准{status}{unit}", version=1, status=status, unit=unit, total_points=Decimal("45"),
                 bonus_cap=Decimal("5"), star_bands=[{"stars": 5, "min": "40"}, {"stars": 1, "min": "0"}])
    db.session.add(s)
    db.session.flush()
    c = StandardCategory(standard_id=s.id, name="日常管理", sort=1)
    db.session.add(c)
    db.session.flush()
    specs = {
        "A": dict(name="项目党组织", max_points=Decimal("5"), method="graded", scorer="self", levels=LEVELS_5,
                  evidence_required=True),
        "B": dict(name="保洁", max_points=Decimal("10"), method="deduction", scorer="community",
                  deduction_per=Decimal("1")),
        "C": dict(name="明码标价", max_points=Decimal("4"), method="yesno", scorer="street"),
        "D": dict(name="设施设备抽查", max_points=Decimal("6"), method="graded", scorer="assessor",
                  levels=[{"label": "差", "points": "0"}, {"label": "中", "points": "3"}, {"label": "好", "points": "6"}]),
        "E": dict(name="居民满意度", max_points=Decimal("20"), method="computed", scorer="survey"),
    }
    out = {"standard": s.id}
    for n, (key, spec) in enumerate(specs.items()):
        item = StandardItem(standard_id=s.id, category_id=c.id, kind="regular", sort=n, **spec)
        db.session.add(item)
        db.session.flush()
        out[key] = item.id
    bonus = StandardItem(standard_id=s.id, kind="bonus", name="表彰荣誉", max_points=Decimal("5"), method="graded",
                         scorer="self", levels=[{"label": "无", "points": "0"}, {"label": "市级", "points": "5"}],
                         evidence_required=True, sort=10)
    veto = StandardItem(standard_id=s.id, kind="veto", name="挪用维修资金", max_points=Decimal("0"), method="yesno",
                        scorer="street", veto_effect="zero_black", sort=11)
    db.session.add_all([bonus, veto])
    db.session.flush()
    out["F"], out["V"] = bonus.id, veto.id
    return out


@pytest.fixture
def ev_world(app, world):
    """alpha with: firm 1 serving compounds 1 and 3 (both in community 1 / street 1), firm 2
    serving compound 2; firm 2's contract on compound 1 ended before the period and its
    contract on compound 4 starts after it (neither is assessed). An active and a draft
    standard. The period is last quarter; deadlines lie ahead."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        c1 = db.session.get(m.Compound, ns.compound1)
        c3 = m.Compound(community_id=c1.community_id, name="甲区3号小区", compound_type="商品房", build_year=2005,
                        area_m2=Decimal("8000"), management_mode="专业物业")
        c4 = m.Compound(community_id=c1.community_id, name="甲区4号小区", compound_type="商品房", build_year=2010,
                        area_m2=Decimal("9000"), management_mode="专业物业")
        db.session.add_all([c3, c4])
        db.session.flush()
        period_start, period_end = cycles._quarter_of(cycles._quarter_of(today())[0] - timedelta(days=1))
        db.session.add_all([
            m.Contract(firm_id=ns.firm1, compound_id=c3.id, start_date=date(2020, 1, 1), end_date=date(2035, 1, 1),
                       service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1.2")),
            m.Contract(firm_id=ns.firm2, compound_id=ns.compound1, start_date=date(2015, 1, 1),
                       end_date=period_start - timedelta(days=1), service_grade="三级", fee_mode="包干制",
                       fee_rate=Decimal("0.8")),
            m.Contract(firm_id=ns.firm2, compound_id=c4.id, start_date=period_end + timedelta(days=1),
                       end_date=date(2035, 1, 1), service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1.0")),
        ])
        std = make_standard()
        draft = make_standard(status="draft")
        c3_id, c4_id = c3.id, c4.id
        db.session.commit()
        district = db.session.execute(select(Membership.id).join(User).where(User.username == "alpha-district")).scalar()
        assessor = db.session.execute(select(Membership.id).join(User).where(User.username == "alpha-assessor")).scalar()
    return {"ns": ns, "std": std, "draft": draft, "compound3": c3_id, "compound4": c4_id, "district": district,
            "assessor": assessor, "period": (period_start, period_end)}


def open_cycle(app, w, per_compound=True, firms=None, **over) -> int:
    ns = w["ns"]
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        mem = db.session.get(Membership, w["district"])
        args = dict(kind="quarterly", name=f"测试季测评{'小区' if per_compound else '企业'}",
                    period_start=w["period"][0], period_end=w["period"][1],
                    self_report_due=today() + timedelta(days=5), review_due=today() + timedelta(days=10),
                    appeal_days=7)
        args.update(over)
        ev = cycles.open_evaluation(mem, db.session.get(Standard, w["std"]["standard"]),
                                    firm_ids=firms or [ns.firm1, ns.firm2], per_compound=per_compound, **args)
        db.session.commit()
        return ev.id


def assessment_of(app, w, evaluation_id, compound_id=None, firm_id=None) -> int:
    with app.app_context(), tenant_scope(w["ns"].tenant_id):
        stmt = select(Assessment.id).where(Assessment.evaluation_id == evaluation_id)
        if compound_id is not None:
            stmt = stmt.where(Assessment.compound_id == compound_id)
        if firm_id is not None:
            stmt = stmt.where(Assessment.firm_id == firm_id)
        return db.session.execute(stmt).scalar_one()


def scores(app, w, assessment_id) -> dict[str, ItemScore]:
    """letter → (id, self_points, self_occurrences, review_points, review_occurrences, reason, vetoed, reviewer)."""
    letters = {v: k for k, v in w["std"].items() if k != "standard"}
    with app.app_context(), tenant_scope(w["ns"].tenant_id):
        rows = db.session.execute(select(ItemScore).where(ItemScore.assessment_id == assessment_id)).scalars()
        return {letters[s.item_id]: (s.id, s.self_points, s.self_occurrences, s.review_points, s.review_occurrences,
                                     s.review_reason, s.vetoed, s.reviewer_id) for s in rows}


def state(app, w, assessment_id) -> dict:
    with app.app_context(), tenant_scope(w["ns"].tenant_id):
        a = db.session.get(Assessment, assessment_id)
        ev = db.session.execute(select(func.count(Evidence.id)).join(ItemScore)
                                .where(ItemScore.assessment_id == assessment_id)).scalar()
        return {"status": a.status, "return_note": a.return_note, "submitted": a.submitted_at is not None,
                "reviewed_by": a.reviewed_by_id, "confirmed_by": a.confirmed_by_id, "evidence": ev}


def sid(app, w, aid, letter) -> int:
    return scores(app, w, aid)[letter][0]


def url(aid, step=""):
    return f"/d/alpha/assessments/{aid}" + (f"/{step}" if step else "")


def full_self_report(app, w, aid, **over) -> dict:
    """Form data scoring every self-scorable item: A 3 (with a PNG), B 2 occurrences, C yes,
    D 6, F 0 (nothing claimed)."""
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    data = {f"s{s['A']}-points": "3.00", f"s{s['A']}-note": "党员 4 人", f"s{s['B']}-occ": "2",
            f"s{s['C']}-points": "4.00", f"s{s['D']}-points": "6.00", f"s{s['F']}-points": "0.00",
            f"s{s['A']}-files": (io.BytesIO(PNG), "党员名册.png")}
    data.update(over)
    return data


def submit_report(app, client, w, aid):
    resp = post(client, url(aid, "self"), {**full_self_report(app, w, aid), "action": "submit"},
                content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]


# --- opening a cycle ------------------------------------------------------------------------------

def test_open_per_compound_assesses_each_contract_in_the_period_and_freezes_the_standard(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    login(client, "alpha-district")
    page = client.get("/d/alpha/evaluations/new").get_data(as_text=True)
    assert "季测评" in page and "测试标准activecompound" in page
    assert "测试标准draftcompound（第1版）" in page  # listed as a draft that cannot be used
    start, end = w["period"]
    resp = post(client, "/d/alpha/evaluations/new", {
        "standard_id": w["std"]["standard"], "kind": "quarterly", "name": "2099年第1季度季测评",
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "self_report_due": (today() + timedelta(days=5)).isoformat(),
        "review_due": (today() + timedelta(days=10)).isoformat(), "appeal_days": "7", "unit": "compound",
        "firm_ids": [str(ns.firm1), str(ns.firm2)]})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    with app.app_context(), tenant_scope(ns.tenant_id):
        ev = db.session.execute(select(Evaluation)).scalar_one()
        assert (ev.status, ev.kind, ev.appeal_days) == ("open", "quarterly", 7)
        pairs = set(db.session.execute(select(Assessment.firm_id, Assessment.compound_id)
                                       .where(Assessment.evaluation_id == ev.id)).all())
        # firm 2's ended contract on compound 1 and its future one on compound 4 are not assessed
        assert pairs == {(ns.firm1, ns.compound1), (ns.firm1, w["compound3"]), (ns.firm2, ns.compound2)}
        n_scores = db.session.execute(select(func.count(ItemScore.id)).join(Assessment)
                                      .where(Assessment.evaluation_id == ev.id)).scalar()
        assert n_scores == 3 * 7   # every item (regular, bonus, veto) of the standard per assessment
        assert db.session.get(Standard, w["std"]["standard"]).frozen_at is not None
        assert db.session.get(Standard, w["draft"]["standard"]).frozen_at is None
        event = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "assessment",
                                                            AuditEvent.action == "create")).scalar_one()
        assert event.changes["assessments"] == 3 and event.changes["item_scores"] == 21
        assert db.session.execute(select(AuditEvent).where(AuditEvent.entity == "evaluation")).first()
    listing = client.get("/d/alpha/evaluations/").get_data(as_text=True)
    assert "2099年第1季度季测评" in listing and "0/3 已提交" in listing


def test_open_firm_wide_makes_one_assessment_per_firm(app, ev_world):
    ns = ev_world["ns"]
    eid = open_cycle(app, ev_world, per_compound=False)
    with app.app_context(), tenant_scope(ns.tenant_id):
        rows = db.session.execute(select(Assessment.firm_id, Assessment.compound_id, Assessment.status)
                                  .where(Assessment.evaluation_id == eid)).all()
        assert sorted(rows) == sorted([(ns.firm1, None, "draft"), (ns.firm2, None, "draft")])
        assert db.session.execute(select(func.count(ItemScore.id))).scalar() == 2 * 7


@pytest.mark.parametrize("over, field_msg", [
    ({"standard": "draft"}, "不是启用中的版本"),
    ({"self_report_due": -1}, "企业自评截止日期不能早于考核期间的开始日期"),
    ({"review_due": "before_self"}, "审核截止日期不能早于企业自评截止日期"),
    ({"period_end": "before_start"}, "结束日期不能早于开始日期"),
    ({"firm_ids": []}, "请至少选择一家物业服务企业"),
    ({"firm_ids": "only_future"}, "在考核期间没有生效的物业服务合同"),
])
def test_open_refuses_bad_input_and_writes_nothing(app, client, ev_world, over, field_msg):
    w, ns = ev_world, ev_world["ns"]
    start, end = w["period"]
    data = {"standard_id": w["std"]["standard"], "kind": "quarterly", "name": "错误的考核",
            "period_start": start.isoformat(), "period_end": end.isoformat(),
            "self_report_due": (today() + timedelta(days=5)).isoformat(),
            "review_due": (today() + timedelta(days=10)).isoformat(), "appeal_days": "7", "unit": "compound",
            "firm_ids": [str(ns.firm1)]}
    if over.get("standard") == "draft":
        data["standard_id"] = w["draft"]["standard"]
    if over.get("self_report_due") == -1:
        data["self_report_due"] = (start - timedelta(days=1)).isoformat()
    if over.get("review_due") == "before_self":
        data["review_due"] = (today() + timedelta(days=4)).isoformat()
    if over.get("period_end") == "before_start":
        data["period_end"] = (start - timedelta(days=1)).isoformat()
    if "firm_ids" in over:
        data["firm_ids"] = [] if over["firm_ids"] == [] else [str(ns.firm1), str(ns.firm2)]
        if over["firm_ids"] == "only_future":
            # a firm whose only contract starts after the period
            with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
                f = m.Firm(name="未来物业公司", credit_code="91140400999999999X", party_status="无")
                db.session.add(f)
                db.session.flush()
                db.session.add(m.Contract(firm_id=f.id, compound_id=w["compound4"], start_date=end + timedelta(days=3),
                                          end_date=date(2035, 1, 1), service_grade="二级", fee_mode="包干制",
                                          fee_rate=Decimal("1")))
                db.session.commit()
                data["firm_ids"] = [str(ns.firm1), str(f.id)]
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/evaluations/new", data)
    assert resp.status_code == 422
    assert field_msg in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count(Evaluation.id))).scalar() == 0
        assert db.session.execute(select(func.count(Assessment.id))).scalar() == 0
        assert db.session.execute(select(func.count(ItemScore.id))).scalar() == 0
        assert db.session.get(Standard, w["std"]["standard"]).frozen_at is None


def test_only_the_district_opens_cycles(app, client, ev_world):
    for who in ("alpha-street", "alpha-community", "alpha-firm", "alpha-assessor"):
        login(client, who)
        assert client.get("/d/alpha/evaluations/new").status_code == 403
        assert post(client, "/d/alpha/evaluations/new", {"name": "x"}).status_code == 403


# --- the firm's self-report -----------------------------------------------------------------------

def test_self_report_draft_then_submit(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    login(client, "alpha-firm")
    page = client.get(url(aid)).get_data(as_text=True)
    assert f'name="s{s["A"]}-points"' in page and f'name="s{s["B"]}-occ"' in page
    assert f'name="s{s["E"]}-points"' not in page and "系统计算" in page   # the survey item
    assert f'name="s{s["V"]}-veto"' not in page   # veto items are not self-reported
    # a partial draft
    resp = post(client, url(aid, "self"), {f"s{s['A']}-points": "3.00", f"s{s['A']}-note": "党员 4 人",
                                           "action": "save"}, content_type="multipart/form-data")
    assert resp.status_code == 302
    got = scores(app, w, aid)
    assert got["A"][1] == Decimal("3.00") and got["B"][1] is None
    assert state(app, w, aid)["status"] == "draft"
    # a level that is not one of the item's levels
    resp = post(client, url(aid, "self"), {f"s{s['A']}-points": "4.00", "action": "save"},
                content_type="multipart/form-data")
    assert resp.status_code == 422 and "只能按档次得分" in resp.get_data(as_text=True)
    assert scores(app, w, aid)["A"][1] == Decimal("3.00")
    # submit: every regular item scored, A with its file; F (bonus) at 0 needs no file
    submit_report(app, client, w, aid)
    got = scores(app, w, aid)
    assert [got[k][1] for k in "ABCDF"] == [Decimal("3.00"), Decimal("8.00"), Decimal("4.00"), Decimal("6.00"),
                                             Decimal("0.00")]
    assert got["B"][2] == 2 and got["E"][1] is None and got["V"][1] is None
    st = state(app, w, aid)
    assert (st["status"], st["submitted"], st["evidence"]) == ("submitted", True, 1)
    with app.app_context(), tenant_scope(ns.tenant_id):
        ev = db.session.execute(select(Evidence)).scalar_one()
        path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / ev.stored_name
        assert path.read_bytes() == PNG and "static" not in str(path)
        assert (ev.filename, ev.content_type, ev.size) == ("党员名册.png", "image/png", len(PNG))
        assert db.session.execute(select(AuditEvent).where(AuditEvent.entity == "assessment",
                                                           AuditEvent.entity_id == aid,
                                                           AuditEvent.action == "update")).first()
    # the file is served to the firm and to the reviewing community, not to anyone else
    assert client.get(f"/d/alpha/evidence/{ev.id}").data == PNG
    login(client, "alpha-community")
    assert client.get(f"/d/alpha/evidence/{ev.id}").status_code == 200
    login(client, "alpha-committee")
    assert client.get(f"/d/alpha/evidence/{ev.id}").status_code == 404
    login(client, "beta-district")
    assert client.get(f"/d/alpha/evidence/{ev.id}").status_code == 404
    assert client.get(f"/d/beta/evidence/{ev.id}").status_code == 404


def test_missing_evidence_refuses_the_submission(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    folder = Path(app.config["UPLOAD_FOLDER"]) / "evidence"
    files_before = set(folder.glob("*")) if folder.exists() else set()
    login(client, "alpha-firm")
    data = full_self_report(app, w, aid)
    del data[f"s{s['A']}-files"]
    resp = post(client, url(aid, "self"), {**data, "action": "submit"}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "“项目党组织”须上传至少一份证明材料" in resp.get_data(as_text=True)
    assert state(app, w, aid)["status"] == "draft"
    assert all(v[1] is None for v in scores(app, w, aid).values())   # nothing written
    # a bonus claimed above 0 needs its file too; the rest missing refuses as well
    data = full_self_report(app, w, aid, **{f"s{s['F']}-points": "5.00"})
    resp = post(client, url(aid, "self"), {**data, "action": "submit"}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "“表彰荣誉”须上传至少一份证明材料" in resp.get_data(as_text=True)
    resp = post(client, url(aid, "self"), {f"s{s['A']}-points": "3.00", "action": "submit",
                                           f"s{s['A']}-files": (io.BytesIO(PNG), "a.png")},
                content_type="multipart/form-data")
    assert resp.status_code == 422 and "提交前请为“保洁”自评打分" in resp.get_data(as_text=True)
    assert state(app, w, aid)["evidence"] == 0
    assert (set(folder.glob("*")) if folder.exists() else set()) == files_before   # no file stored either


@pytest.mark.parametrize("name, body, msg", [
    ("a.exe", PNG, "不是 JPG、PNG 或 PDF 文件"),
    ("fake.png", b"MZ\x90\x00 not an image", "的内容不是 JPG、PNG 或 PDF"),
    ("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "超过 5 MB"),
    ("empty.jpg", b"", "是空文件"),
])
def test_evidence_type_and_size_are_checked(app, client, ev_world, name, body, msg):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    s = sid(app, w, aid, "A")
    login(client, "alpha-firm")
    resp = post(client, url(aid, "self"), {f"s{s}-points": "5.00", f"s{s}-files": (io.BytesIO(body), name),
                                           "action": "save"}, content_type="multipart/form-data")
    assert resp.status_code == 422 and msg in resp.get_data(as_text=True)
    assert state(app, w, aid)["evidence"] == 0 and scores(app, w, aid)["A"][1] is None


def test_submitted_report_refuses_every_change_with_409(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    before, st = scores(app, w, aid), state(app, w, aid)
    s = {k: v[0] for k, v in before.items()}
    with app.app_context(), tenant_scope(ns.tenant_id):
        evidence_id = db.session.execute(select(Evidence.id)).scalar_one()
    attempts = [
        (url(aid, "self"), {f"s{s['A']}-points": "5.00", "action": "save"}),
        (url(aid, "self"), {**full_self_report(app, w, aid), "action": "submit"}),
        (url(aid, "self"), {f"s{s['A']}-files": (io.BytesIO(PDF), "补充.pdf"), "action": "save"}),
        (f"/d/alpha/evidence/{evidence_id}/delete", {}),
    ]
    for target, data in attempts:
        resp = post(client, target, data, content_type="multipart/form-data")
        assert resp.status_code == 409, (target, resp.status_code)
        assert "不能再修改" in resp.get_data(as_text=True)
    assert scores(app, w, aid) == before and state(app, w, aid) == st
    page = client.get(url(aid)).get_data(as_text=True)
    assert f'name="s{s["A"]}-points"' not in page and "提交自评" not in page
    # the delete confirmation shows why, without a button
    page = client.get(f"/d/alpha/evidence/{evidence_id}/delete").get_data(as_text=True)
    assert "不能再修改" in page and "确认删除" not in page


def test_evidence_can_be_removed_while_drafting(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    s = sid(app, w, aid, "A")
    login(client, "alpha-firm")
    post(client, url(aid, "self"), {f"s{s}-files": (io.BytesIO(PDF), "记录.pdf"), "action": "save"},
         content_type="multipart/form-data")
    with app.app_context(), tenant_scope(ns.tenant_id):
        ev = db.session.execute(select(Evidence)).scalar_one()
        path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / ev.stored_name
    assert path.is_file()
    assert "确认删除" in client.get(f"/d/alpha/evidence/{ev.id}/delete").get_data(as_text=True)
    assert post(client, f"/d/alpha/evidence/{ev.id}/delete").status_code == 302
    assert state(app, w, aid)["evidence"] == 0 and not path.exists()


# --- review, return, confirmation -----------------------------------------------------------------

def test_changed_review_score_without_reason_is_refused_with_nothing_written(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    login(client, "alpha-community")
    page = client.get(url(aid)).get_data(as_text=True)
    # prefilled with the self-score; only the community level's items are inputs
    assert f'name="s{s["B"]}-occ" value="2"' in page
    assert f'name="s{s["C"]}-points"' not in page and f'name="s{s["D"]}-points"' not in page
    resp = post(client, url(aid, "review"), {f"s{s['A']}-points": "5.00", f"s{s['A']}-reason": "",
                                             f"s{s['B']}-occ": "2", "action": "save"})
    assert resp.status_code == 422
    assert "评分与企业自评（3.00 分）不同，请填写理由" in resp.get_data(as_text=True)
    after = scores(app, w, aid)
    assert after["A"][3] is None and after["B"][3] is None   # not even the unchanged B
    resp = post(client, url(aid, "review"), {f"s{s['A']}-points": "5.00", f"s{s['A']}-reason": "党员 6 人，核实",
                                             f"s{s['B']}-occ": "4", f"s{s['B']}-reason": "抽查发现 4 处",
                                             "action": "finish"})
    assert resp.status_code == 302
    after = scores(app, w, aid)
    assert after["A"][3:6] == (Decimal("5.00"), None, "党员 6 人，核实")
    assert after["B"][3:6] == (Decimal("6.00"), 4, "抽查发现 4 处")
    st = state(app, w, aid)
    assert st["status"] == "reviewed" and st["reviewed_by"] is not None and after["A"][7] == st["reviewed_by"]
    # the firm sees the reason next to each changed score
    login(client, "alpha-firm")
    page = client.get(url(aid)).get_data(as_text=True)
    assert "理由：党员 6 人，核实" in page and "理由：抽查发现 4 处" in page


def test_review_needs_every_community_item_to_finish(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    s = sid(app, w, aid, "B")
    login(client, "alpha-community")
    resp = post(client, url(aid, "review"), {f"s{s}-occ": "2", "action": "finish"})
    assert resp.status_code == 422 and "请为“项目党组织”打分" in resp.get_data(as_text=True)
    assert state(app, w, aid)["status"] == "submitted" and scores(app, w, aid)["B"][3] is None


def test_return_edit_resubmit(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    login(client, "alpha-community")
    resp = post(client, url(aid, "return"), {"note": "  "})
    assert resp.status_code == 422 and "请填写意见" in resp.get_data(as_text=True)
    assert state(app, w, aid)["status"] == "submitted"
    assert post(client, url(aid, "return"), {"note": "保洁次数与巡查记录不符，请核实"}).status_code == 302
    assert state(app, w, aid)["status"] == "returned"
    assert post(client, url(aid, "return"), {"note": "再退一次"}).status_code == 409
    login(client, "alpha-firm")
    page = client.get(url(aid)).get_data(as_text=True)
    assert "保洁次数与巡查记录不符，请核实" in page and f'name="s{s["B"]}-occ"' in page
    data = full_self_report(app, w, aid, **{f"s{s['B']}-occ": "3"})
    del data[f"s{s['A']}-files"]   # the file uploaded the first time still counts
    resp = post(client, url(aid, "self"), {**data, "action": "submit"}, content_type="multipart/form-data")
    assert resp.status_code == 302
    st = state(app, w, aid)
    assert (st["status"], st["return_note"], st["evidence"]) == ("submitted", "", 1)
    assert scores(app, w, aid)["B"][1:3] == (Decimal("7.00"), 3)


def test_confirm_and_send_back(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    login(client, "alpha-street")
    assert post(client, url(aid, "confirm"), {f"s{s['C']}-points": "4.00", "action": "finish"}).status_code == 409
    login(client, "alpha-community")
    post(client, url(aid, "review"), {f"s{s['A']}-points": "3.00", f"s{s['B']}-occ": "2", "action": "finish"})
    assert state(app, w, aid)["status"] == "reviewed"
    login(client, "alpha-street")
    page = client.get(url(aid)).get_data(as_text=True)
    assert f'name="s{s["C"]}-points"' in page and f'name="s{s["V"]}-veto"' in page
    assert f'name="s{s["B"]}-occ"' not in page
    # the street sends it back to the community with a note
    assert post(client, url(aid, "send-back"), {"note": "保洁扣分依据不足"}).status_code == 302
    st = state(app, w, aid)
    assert (st["status"], st["return_note"], st["reviewed_by"]) == ("submitted", "保洁扣分依据不足", None)
    login(client, "alpha-community")
    assert "街道退回社区重新审核" in client.get(url(aid)).get_data(as_text=True)
    post(client, url(aid, "review"), {f"s{s['A']}-points": "3.00", f"s{s['B']}-occ": "2", "action": "finish"})
    login(client, "alpha-street")
    resp = post(client, url(aid, "confirm"), {f"s{s['C']}-points": "4.00", "action": "finish"})
    assert resp.status_code == 422 and "请确认“挪用维修资金”是否发生" in resp.get_data(as_text=True)
    resp = post(client, url(aid, "confirm"), {f"s{s['C']}-points": "0.00", f"s{s['V']}-veto": "0", "action": "finish"})
    assert resp.status_code == 422 and "请填写理由" in resp.get_data(as_text=True)
    assert state(app, w, aid)["status"] == "reviewed" and scores(app, w, aid)["C"][3] is None
    resp = post(client, url(aid, "confirm"), {f"s{s['C']}-points": "0.00", f"s{s['C']}-reason": "未公示收费标准",
                                              f"s{s['V']}-veto": "0", "action": "finish"})
    assert resp.status_code == 302
    st, got = state(app, w, aid), scores(app, w, aid)
    assert st["status"] == "confirmed" and st["confirmed_by"] is not None
    assert got["C"][3] == Decimal("0.00") and got["V"][3] == Decimal("0.00") and got["V"][6] is False
    assert post(client, url(aid, "confirm"), {f"s{s['C']}-points": "4.00", "action": "save"}).status_code == 409
    # the community cannot review it again, the firm cannot touch it
    login(client, "alpha-community")
    assert post(client, url(aid, "review"), {f"s{s['B']}-occ": "0", "action": "save"}).status_code == 409
    login(client, "alpha-firm")
    assert post(client, url(aid, "self"), {f"s{s['A']}-points": "5.00", "action": "save"},
                content_type="multipart/form-data").status_code == 409
    assert scores(app, w, aid) == got


def test_firm_wide_assessments_are_reviewed_by_the_district(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w, per_compound=False), firm_id=ns.firm1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    review = {f"s{s['A']}-points": "3.00", f"s{s['B']}-occ": "2", "action": "finish"}
    login(client, "alpha-community")   # sees it (its firm serves the community) but does not review it
    assert client.get(url(aid)).status_code == 200
    assert post(client, url(aid, "review"), review).status_code == 403
    login(client, "alpha-district")
    assert post(client, url(aid, "review"), review).status_code == 302
    assert post(client, url(aid, "confirm"), {f"s{s['C']}-points": "4.00", f"s{s['V']}-veto": "0",
                                              "action": "finish"}).status_code == 302
    assert state(app, w, aid)["status"] == "confirmed"


# --- assessors --------------------------------------------------------------------------------------

def test_assessor_sees_and_scores_only_assigned_items(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    login(client, "alpha-assessor")
    assert client.get(f"/d/alpha/evaluations/{eid}").status_code == 404   # nothing assigned yet
    assert client.get(url(aid)).status_code == 404
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/evaluations/{eid}").get_data(as_text=True)
    assert f'name="item-{w["std"]["D"]}"' in page and f'name="item-{w["std"]["A"]}"' not in page
    resp = post(client, f"/d/alpha/evaluations/{eid}/assessors", {f"item-{w['std']['D']}": str(w["assessor"])})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(AssessorAssignment.item_id, AssessorAssignment.membership_id)).all() == \
            [(w["std"]["D"], w["assessor"])]
    login(client, "alpha-assessor")
    assert client.get(f"/d/alpha/evaluations/{eid}").status_code == 200
    page = client.get(url(aid)).get_data(as_text=True)
    assert "设施设备抽查" in page and f'name="s{s["D"]}-points"' in page
    assert "项目党组织" not in page and "保洁" not in page
    assert client.get(f"/d/alpha/scores/{s['D']}").status_code == 200
    assert client.get(f"/d/alpha/scores/{s['A']}").status_code == 404
    # another item's id in the post: 404, nothing written
    resp = post(client, url(aid, "assess"), {f"s{s['D']}-points": "3.00", f"s{s['A']}-points": "0.00"})
    assert resp.status_code == 404
    assert scores(app, w, aid)["D"][3] is None and scores(app, w, aid)["A"][3] is None
    resp = post(client, url(aid, "assess"), {f"s{s['D']}-points": "3.00"})
    assert resp.status_code == 302
    got = scores(app, w, aid)
    assert got["D"][3] == Decimal("3.00") and got["A"][3] is None
    # the assessor has no other step
    assert post(client, url(aid, "review"), {f"s{s['A']}-points": "0.00"}).status_code == 403


def test_assessor_assignment_refuses_unknown_ids_and_keeps_the_existing_one(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    d_item = w["std"]["D"]
    with app.app_context(), system_scope():
        beta_assessor = db.session.execute(select(Membership.id).join(User)
                                           .where(User.username == "beta-assessor")).scalar_one()
        beta_user = db.session.execute(select(User.id).where(User.username == "beta-assessor")).scalar_one()
    login(client, "alpha-district")
    url_ = f"/d/alpha/evaluations/{eid}/assessors"
    assert post(client, url_, {f"item-{d_item}": str(w["assessor"])}).status_code == 302

    def kept():
        with app.app_context(), tenant_scope(ns.tenant_id):
            return db.session.execute(select(AssessorAssignment.item_id, AssessorAssignment.membership_id)).all()

    for data in ({f"item-{d_item}": str(beta_assessor)},       # another district's membership
                 {f"item-{d_item}": f"u{beta_user}"},          # not an id at all
                 {f"item-{d_item}": f" {beta_user}"},
                 {f"item-{d_item}": "-1"},
                 {f"item-{d_item + 1000}": str(w["assessor"])}):  # an item that is not this cycle's
        resp = post(client, url_, data)
        assert resp.status_code == 422, data
        assert "测评机构" in resp.get_data(as_text=True) or "考核项" in resp.get_data(as_text=True)
        assert kept() == [(d_item, w["assessor"])], data
    # A post that names no item changes nothing; choosing 未指派 on purpose still clears it.
    assert post(client, url_, {"assessor": str(beta_user)}).status_code == 302
    assert kept() == [(d_item, w["assessor"])]
    assert post(client, url_, {f"item-{d_item}": ""}).status_code == 302
    assert kept() == []


# --- deadlines and scope ------------------------------------------------------------------------------

def _set_dates(app, w, eid, **dates):
    with app.app_context(), tenant_scope(w["ns"].tenant_id), acting_as(None, "测试"):
        ev = db.session.get(Evaluation, eid)
        for k, v in dates.items():
            setattr(ev, k, v)
        db.session.commit()


def test_self_report_deadline_is_the_end_of_the_due_day(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    _set_dates(app, w, eid, self_report_due=today())   # due today: still open
    login(client, "alpha-firm")
    assert post(client, url(aid, "self"), {f"s{s['A']}-points": "3.00", "action": "save"},
                content_type="multipart/form-data").status_code == 302
    _set_dates(app, w, eid, self_report_due=today() - timedelta(days=1))
    resp = post(client, url(aid, "self"), {f"s{s['A']}-points": "5.00", "action": "save"},
                content_type="multipart/form-data")
    assert resp.status_code == 409 and "自评已于" in resp.get_data(as_text=True)
    assert scores(app, w, aid)["A"][1] == Decimal("3.00")
    assert "自评已于" in client.get(url(aid)).get_data(as_text=True)
    # the firm's turn is over: the community scores the unsubmitted sheet itself
    login(client, "alpha-community")
    assert post(client, url(aid, "review"), {f"s{s['A']}-points": "3.00", f"s{s['B']}-occ": "5",
                                             "action": "finish"}).status_code == 302
    assert state(app, w, aid)["status"] == "reviewed"


def test_returned_report_can_be_corrected_until_the_review_deadline(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    login(client, "alpha-community")
    post(client, url(aid, "return"), {"note": "请补充材料"})
    # past the self-report deadline and in review: a returned report may still be corrected
    _set_dates(app, w, eid, self_report_due=today() - timedelta(days=3), status="reviewing")
    s = sid(app, w, aid, "A")
    login(client, "alpha-firm")
    assert post(client, url(aid, "self"), {f"s{s}-points": "5.00", "action": "save"},
                content_type="multipart/form-data").status_code == 302
    _set_dates(app, w, eid, review_due=today() - timedelta(days=1))
    resp = post(client, url(aid, "self"), {f"s{s}-points": "0.00", "action": "save"},
                content_type="multipart/form-data")
    assert resp.status_code == 409 and "退回修改已于审核截止日" in resp.get_data(as_text=True)
    assert scores(app, w, aid)["A"][1] == Decimal("5.00")


def test_enter_review_closes_self_reports(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)
    login(client, "alpha-district")
    assert "确认进入审核" in client.get(f"/d/alpha/evaluations/{eid}?confirm=review").get_data(as_text=True)
    assert post(client, f"/d/alpha/evaluations/{eid}/review").status_code == 302
    assert post(client, f"/d/alpha/evaluations/{eid}/review").status_code == 409
    login(client, "alpha-firm")
    resp = post(client, url(aid, "self"), {"action": "save"}, content_type="multipart/form-data")
    assert resp.status_code == 409 and "不能再自评" in resp.get_data(as_text=True)
    login(client, "alpha-street")
    assert post(client, f"/d/alpha/evaluations/{eid}/review").status_code == 403


def test_a_firm_never_sees_another_firms_assessment(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    mine, other = assessment_of(app, w, eid, ns.compound1), assessment_of(app, w, eid, ns.compound2)
    other_score = sid(app, w, other, "A")
    login(client, "alpha-firm")
    assert client.get(url(mine)).status_code == 200
    assert client.get(url(other)).status_code == 404
    assert client.get(f"/d/alpha/scores/{other_score}").status_code == 404
    assert post(client, url(other, "self"), {"action": "save"}, content_type="multipart/form-data").status_code == 404
    page = client.get(f"/d/alpha/evaluations/{eid}").get_data(as_text=True)
    assert "甲区第1物业公司" in page and "甲区第2物业公司" not in page
    assert "0/2 已提交" in client.get("/d/alpha/evaluations/").get_data(as_text=True)  # its own two compounds


def test_community_of_another_community_gets_404(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    other = assessment_of(app, w, eid, ns.compound2)   # community 2
    login(client, "alpha-firm")
    # (firm 1 cannot submit firm 2's report; fill it directly)
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        db.session.get(Assessment, other).status = "submitted"
        db.session.commit()
    login(client, "alpha-community")
    assert client.get(url(other)).status_code == 404
    assert post(client, url(other, "review"), {"action": "finish"}).status_code == 404
    assert post(client, url(other, "return"), {"note": "x"}).status_code == 404
    assert state(app, w, other)["status"] == "submitted"
    page = client.get(f"/d/alpha/evaluations/{eid}").get_data(as_text=True)
    assert "甲区1号小区" in page and "甲区2号小区" not in page
    login(client, "alpha-street")
    assert client.get(url(other)).status_code == 404
    login(client, "beta-community")
    assert client.get(url(other)).status_code == 404
    assert client.get(f"/d/beta/assessments/{other}").status_code == 404


def test_firm_checklist_follows_the_period(app, client, ev_world):
    ns, (start, end) = ev_world["ns"], ev_world["period"]
    login(client, "alpha-district")
    html = client.get(f"/d/alpha/evaluations/new/firms?period_start={start}&period_end={end}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'value="{ns.firm1}"' in html and f'value="{ns.firm2}"' in html and "2 个小区" in html
    # a period in which no contract of the district is in force
    html = client.get("/d/alpha/evaluations/new/firms?period_start=2040-01-01&period_end=2040-03-31").get_data(as_text=True)
    assert "考核期间内没有物业服务企业有生效的合同" in html
    html = client.get("/d/alpha/evaluations/new/firms?period_start=2026-03-31&period_end=2026-01-01").get_data(as_text=True)
    assert "请先填写有效的考核期间" in html


# --- the owners' committee scores its firm (业委会履约评价) ------------------------------------------

def add_committee_item(app, w) -> int:
    """Item G: the committee's opinion, 0–5 points (direct scoring), in the active standard."""
    with app.app_context(), tenant_scope(w["ns"].tenant_id), acting_as(None, "测试"):
        cat = db.session.execute(select(StandardCategory.id).where(
            StandardCategory.standard_id == w["std"]["standard"])).scalar_one()
        item = StandardItem(standard_id=w["std"]["standard"], category_id=cat, kind="regular", name="业委会履约评价",
                            max_points=Decimal("5"), method="points", scorer="committee", sort=6)
        db.session.add(item)
        db.session.commit()
        w["std"]["G"] = item.id
        return item.id


def todo_cards(client) -> dict[str, str]:
    import re
    page = client.get("/d/alpha/").get_data(as_text=True)
    return {key: re.sub(r"<[^>]+>|\s+", " ", body)
            for key, body in re.findall(r'data-todo="([^"]+)" data-count="\d+">(.*?)</a>', page, re.S)}


def compute_results(app, w, eid) -> dict:
    from wuye_saas.evaluation import results
    with app.app_context(), tenant_scope(w["ns"].tenant_id), acting_as(None, "测试"):
        results.compute(eid)
        db.session.commit()


def test_committee_scores_its_compound_and_its_points_enter_the_total(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    add_committee_item(app, w)
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)          # firm 1 on compound 1: alpha-committee's
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    login(client, "alpha-committee")
    assert f"assess_committee_{aid}" in todo_cards(client)
    cycle = client.get(f"/d/alpha/evaluations/{eid}").get_data(as_text=True)
    assert "甲区1号小区" in cycle and "甲区2号小区" not in cycle      # only its compound's assessment
    page = client.get(url(aid)).get_data(as_text=True)
    # Only its own item, as a 0–5 input; none of the firm's or staff's items.
    assert "业委会履约评价" in page and f'name="s{s["G"]}-points"' in page
    assert "项目党组织" not in page and "保洁" not in page and "业委会待评 1 项" in page
    assert client.get(f"/d/alpha/scores/{s['A']}").status_code == 404
    # No note, or points above the maximum: refused next to the field, nothing written.
    resp = post(client, url(aid, "committee"), {f"s{s['G']}-points": "4.50", f"s{s['G']}-reason": " "})
    assert resp.status_code == 422 and "请写明业委会对“业委会履约评价”的评价意见。" in resp.get_data(as_text=True)
    resp = post(client, url(aid, "committee"), {f"s{s['G']}-points": "5.50", f"s{s['G']}-reason": "很好"})
    assert resp.status_code == 422 and "“业委会履约评价”的得分须在 0 到 5.00 分之间" in resp.get_data(as_text=True)
    assert scores(app, w, aid)["G"][3] is None
    # Another item's id in the post: 404; another step: 403; nothing written.
    assert post(client, url(aid, "committee"), {f"s{s['G']}-points": "4.50", f"s{s['G']}-reason": "好",
                                                f"s{s['A']}-points": "5.00"}).status_code == 404
    assert post(client, url(aid, "review"), {f"s{s['G']}-points": "4.50"}).status_code == 403
    assert scores(app, w, aid)["G"][3] is None
    resp = post(client, url(aid, "committee"), {f"s{s['G']}-points": "4.50", f"s{s['G']}-reason": "维修及时，保洁偶有不到位"})
    assert resp.status_code == 302
    got = scores(app, w, aid)["G"]
    assert got[3] == Decimal("4.50") and got[5] == "维修及时，保洁偶有不到位" and got[7] is not None
    assert f"assess_committee_{aid}" not in todo_cards(client)        # nothing left to score
    # The firm submits and the community reviews (its items only); the committee's turn ends.
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    assert "业委会意见：维修及时，保洁偶有不到位" in client.get(url(aid)).get_data(as_text=True)
    login(client, "alpha-community")
    assert "业委会尚有" not in client.get(url(aid)).get_data(as_text=True)
    assert post(client, url(aid, "review"), {f"s{s['A']}-points": "3.00", f"s{s['B']}-occ": "2",
                                             "action": "finish"}).status_code == 302
    login(client, "alpha-committee")
    resp = post(client, url(aid, "committee"), {f"s{s['G']}-points": "1.00", f"s{s['G']}-reason": "改评"})
    assert resp.status_code == 409 and "社区已完成审核，业委会评分已截止。" in resp.get_data(as_text=True)
    assert scores(app, w, aid)["G"][3] == Decimal("4.50")
    compute_results(app, w, eid)
    with app.app_context(), tenant_scope(ns.tenant_id):
        a = db.session.get(Assessment, aid)
        finals = {k: db.session.get(ItemScore, v).final_points for k, v in s.items()}
        # A 3 + B 10 − 2 = 8 + C 4 (self, unconfirmed) + D 6 (self) + E 0 (no survey) + G 4.50; F 0.
        assert finals["G"] == Decimal("4.50") and a.base_total == Decimal("25.50") and a.total == Decimal("25.50")
        assert a.breakdown["committee_unscored"] == []


def test_committee_of_another_compound_gets_404_and_an_unscored_item_counts_0(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    add_committee_item(app, w)
    eid = open_cycle(app, w)
    aid = assessment_of(app, w, eid, ns.compound1)
    s = {k: v[0] for k, v in scores(app, w, aid).items()}
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        mem = db.session.execute(select(Membership).join(User).where(User.username == "alpha-committee")).scalar_one()
        mem.compound_id = w["compound3"]          # now the committee of compound 3 (also firm 1's)
        db.session.commit()
    login(client, "alpha-committee")
    assert client.get(url(aid)).status_code == 404
    assert post(client, url(aid, "committee"), {f"s{s['G']}-points": "0.00",
                                                f"s{s['G']}-reason": "差"}).status_code == 404
    assert client.get(f"/d/alpha/scores/{s['G']}").status_code == 404
    assert f"assess_committee_{aid}" not in todo_cards(client)
    assert scores(app, w, aid)["G"][3] is None
    # Compound 1's committee never scored: the community is warned, may still finish, and the
    # item counts 0 with the reason on the result page.
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    login(client, "alpha-community")
    assert "业委会尚有 1 项未评价；审核通过后业委会不能再评分，这些项计 0 分。" in client.get(url(aid)).get_data(as_text=True)
    assert post(client, url(aid, "review"), {f"s{s['A']}-points": "3.00", f"s{s['B']}-occ": "2",
                                             "action": "finish"}).status_code == 302
    compute_results(app, w, eid)
    with app.app_context(), tenant_scope(ns.tenant_id):
        a = db.session.get(Assessment, aid)
        assert db.session.get(ItemScore, s["G"]).final_points == Decimal("0.00")
        assert a.breakdown["committee_unscored"] == [w["std"]["G"]] and a.base_total == Decimal("21.00")
    login(client, "alpha-district")
    assert "业委会未在社区审核前评价，计 0 分" in client.get(f"/d/alpha/results/assessments/{aid}").get_data(as_text=True)


def test_a_cycles_assessments_are_listed_by_firm_and_compound_name_page_after_page(app, client):
    """The cycle's page lists its assessments by firm and compound name (cycles.assessments_select)
    twenty a page: every assessment once, in order, each row naming its own firm and compound;
    a search narrows it."""
    import re
    out = app.test_cli_runner().invoke(args=["seed-demo", "--slug", "order", "--compounds", "60",
                                             "--households", "500"])
    assert out.exit_code == 0, out.output
    from wuye_saas.tenancy import Tenant
    with app.app_context():
        with system_scope():
            t = db.session.execute(select(Tenant.id).where(Tenant.slug == "order")).scalar_one()
        with tenant_scope(t):
            ev = db.session.execute(select(Assessment.evaluation_id).group_by(Assessment.evaluation_id)
                                    .order_by(func.count().desc()).limit(1)).scalar_one()
            expected = [(f, c or "（按企业考核）") for f, c, _ in db.session.execute(
                select(m.Firm.name, m.Compound.name, Assessment.id).join(m.Firm, m.Firm.id == Assessment.firm_id)
                .outerjoin(m.Compound, m.Compound.id == Assessment.compound_id)
                .where(Assessment.evaluation_id == ev).order_by(m.Firm.name, m.Compound.name, Assessment.id))]
    assert len(expected) > 20
    login(client, "order-district", "demo1234")
    def table(url):
        html = client.get(url).get_data(as_text=True)
        return html[html.index('data-testid="assessments"'):].split("</table>")[0]

    shown = []
    for page in (1, 2):
        html = table(f"/d/order/evaluations/{ev}?page={page}")
        shown += re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    assert shown == expected[:len(shown)] and len(shown) == min(40, len(expected))
    firm = expected[-1][0]
    html = table(f"/d/order/evaluations/{ev}?q={firm}")
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>", html)
    assert rows and set(rows) == {firm}
