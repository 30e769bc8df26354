"""Finalize → compute (job) → publish with consequences → appeals and the recompute after an
upheld one, through the pages; the public 红黑榜."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.evaluation.models import Appeal, Assessment, Evaluation, ItemScore
from wuye_saas.evaluation.results import JOB_KIND
from wuye_saas.extensions import db
from wuye_saas.followups.models import FollowUp
from wuye_saas.jobs import JobRun
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post, wait_for_job
from .test_evaluation_results import BONUS_LEVELS, GRADED_15, GRADED_20, enter, make_evaluation, make_standard

# Manual items only: the computation needs no other area's data (and runs the same in an RQ worker).
MANUAL = [
    dict(key="a1", cat="党建引领", method="graded", scorer="community", max="15", levels=GRADED_15),
    dict(key="a2", cat="党建引领", method="yesno", scorer="self", max="10"),
    dict(key="b1", cat="基础服务", method="deduction", scorer="community", max="30", per="2"),
    dict(key="b2", cat="基础服务", method="graded", scorer="street", max="20", levels=GRADED_20),
    dict(key="e1", cat="基础服务", method="graded", scorer="community", max="25",
         levels=[{"label": "无", "points": "0"}, {"label": "差", "points": "10"}, {"label": "中", "points": "20"},
                 {"label": "好", "points": "25"}]),
    dict(key="x1", kind="bonus", method="graded", scorer="self", max="3", levels=BONUS_LEVELS),
    dict(key="v1", kind="veto", method="yesno", scorer="community", max="0", veto_effect="zero_black"),
]


def confirmed_cycle(app, world):
    """A cycle under review whose two assessments the streets have confirmed:
    firm 1 = 10 + 10 + (30 − 3×2) + 15 + 25 = 84.00 (4★); firm 2 = 15 + 0 + 0 + 20 + 20 = 55.00 (1★, black)."""
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id):
        std = make_standard(MANUAL)
        ev = make_evaluation(std, [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)], status="reviewing",
                             name="2026年第一季度季测评", appeal_days=5)
        a1, a2 = ev.a[(ns.firm1, ns.compound1)], ev.a[(ns.firm2, ns.compound2)]
        for key, kw in (("a1", {"self": "15", "review": "10"}), ("a2", {"self": "10"}),
                        ("b1", {"self_occ": 1, "review_occ": 3}), ("b2", {"review": "15"}), ("e1", {"self": "25"})):
            enter(std, a1, key, **kw)
        for key, kw in (("a1", {"self": "15"}), ("a2", {"self": "0"}), ("b1", {"self_occ": 20}),
                        ("b2", {"self": "20"}), ("e1", {"review": "20"})):
            enter(std, a2, key, **kw)
        db.session.commit()
    return ns, std, ev, a1, a2


def _latest_run(app, ns, ev_id) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.execute(select(JobRun.id).where(JobRun.kind == f"{JOB_KIND}:{ev_id}")
                                  .order_by(JobRun.id.desc()).limit(1)).scalar_one()


def _row(app, ns, model, record_id):
    with app.app_context(), tenant_scope(ns.tenant_id):
        obj = db.session.get(model, record_id)
        db.session.expunge(obj)
        return obj


def finalized_and_published(app, world, client):
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/evaluations/{ev.id}/finalize").get_data(as_text=True)
    assert "确认定稿考核" in page
    resp = post(client, f"/d/alpha/evaluations/{ev.id}/finalize")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/evaluations/{ev.id}/results")
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"
    resp = post(client, f"/d/alpha/evaluations/{ev.id}/publish")
    assert resp.status_code == 302
    return ns, std, ev, a1, a2


def test_finalize_computes_and_publish_opens_consequences(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    r1, r2 = _row(app, ns, Assessment, a1), _row(app, ns, Assessment, a2)
    assert (r1.total, r1.stars, r1.list_kind, r1.rank, r1.status) == (D("84.00"), 4, None, 1, "finalized")
    assert (r2.total, r2.stars, r2.list_kind, r2.rank) == (D("55.00"), 1, "black", 2)
    e = _row(app, ns, Evaluation, ev.id)
    assert e.status == "published" and e.appeal_until == today() + timedelta(days=5)
    with app.app_context(), tenant_scope(ns.tenant_id):
        ups = db.session.execute(select(FollowUp.key, FollowUp.kind, FollowUp.community_id, FollowUp.firm_id)
                                 .order_by(FollowUp.key)).all()
    # 黑榜: 约谈 and 启动退出程序, for the compound's community.
    assert ups == [(f"eval:{ev.id}:{a2}:black:exit", "exit", ns.community2, ns.firm2),
                   (f"eval:{ev.id}:{a2}:black:interview", "interview", ns.community2, ns.firm2)]
    # Publishing again is refused and opens nothing more.
    resp = post(client, f"/d/alpha/evaluations/{ev.id}/publish")
    assert resp.status_code == 409 and "已发布" in resp.get_data(as_text=True)
    page = client.get(f"/d/alpha/evaluations/{ev.id}/results").get_data(as_text=True)
    assert "84.00" in page and "55.00" in page


def test_finalize_refused_until_every_assessment_is_confirmed(app, world, client):
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.get(Assessment, a2).status = "reviewed"
        db.session.commit()
    login(client, "alpha-district")
    resp = post(client, f"/d/alpha/evaluations/{ev.id}/finalize")
    assert resp.status_code == 409 and "还有 1 个考核对象未经街道确认" in resp.get_data(as_text=True)
    assert _row(app, ns, Evaluation, ev.id).status == "reviewing"
    assert _row(app, ns, Assessment, a1).status == "confirmed"
    client.post("/logout")
    login(client, "alpha-street")
    assert post(client, f"/d/alpha/evaluations/{ev.id}/finalize").status_code == 403


def test_upheld_appeal_recomputes_and_audits_the_totals(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    client.post("/logout")
    login(client, "alpha-firm")
    url = f"/d/alpha/results/assessments/{a1}/appeal"
    b1 = std.items["b1"]
    resp = post(client, url, {"item_id": str(b1), "reason": "第2、3次检查时已整改完毕，有照片为证。"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        appeal = db.session.execute(select(Appeal)).scalar_one()
        assert (appeal.status, appeal.old_points, appeal.item_id) == ("open", D("24.00"), b1)
        appeal_id = appeal.id
    # One open appeal per item.
    resp = post(client, url, {"item_id": str(b1), "reason": "再次申诉"})
    assert resp.status_code == 422 and "该项目已有待裁定的申诉" in resp.get_data(as_text=True)

    client.post("/logout")
    login(client, "alpha-district")
    decide = f"/d/alpha/appeals/{appeal_id}/decide"
    resp = post(client, decide, {"outcome": "uphold", "occurrences": "1", "decision": ""})
    assert resp.status_code == 422 and "请填写裁定意见" in resp.get_data(as_text=True)
    resp = post(client, decide, {"outcome": "uphold", "occurrences": "x", "decision": "复核属实"})
    assert resp.status_code == 422 and "扣分次数须为整数" in resp.get_data(as_text=True)
    assert _row(app, ns, Appeal, appeal_id).status == "open"            # nothing written by the refusals
    resp = post(client, decide, {"outcome": "uphold", "occurrences": "1", "decision": "复核属实，认定不符 1 处。"})
    assert resp.status_code == 302
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"

    appeal = _row(app, ns, Appeal, appeal_id)
    assert (appeal.status, appeal.new_points) == ("upheld", D("28.00"))
    r1 = _row(app, ns, Assessment, a1)
    assert (r1.total, r1.stars, r1.list_kind, r1.rank) == (D("88.00"), 5, "red", 1)     # 84 − 24 + 28
    with app.app_context(), tenant_scope(ns.tenant_id):
        score = db.session.execute(select(ItemScore).where(ItemScore.assessment_id == a1,
                                                           ItemScore.item_id == b1)).scalar_one()
        assert (score.review_points, score.review_occurrences, score.final_points) == (D("28.00"), 1, D("28.00"))
        assert score.review_reason.startswith("申诉成立")
        changed = db.session.execute(select(AuditEvent).where(
            AuditEvent.entity == "assessment", AuditEvent.entity_id == a1,
            AuditEvent.label.like("重新计算%"))).scalar_one()
        assert changed.changes["total"] == {"before": "84.00", "after": "88.00"}
        assert changed.changes["list_kind"] == {"before": None, "after": "red"}
        assert changed.actor == "甲区district"
    # Decided appeals cannot be decided again.
    resp = post(client, decide, {"outcome": "reject", "decision": "再议"})
    assert resp.status_code == 422 and "该申诉已裁定" in resp.get_data(as_text=True)


def test_rejected_appeal_changes_nothing(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/results/assessments/{a1}/appeal", {"item_id": str(std.items["a1"]), "reason": "有异议"})
    client.post("/logout")
    login(client, "alpha-district")
    with app.app_context(), tenant_scope(ns.tenant_id):
        appeal_id = db.session.execute(select(Appeal.id)).scalar_one()
        runs = db.session.execute(select(func.count()).select_from(JobRun)).scalar()
    resp = post(client, f"/d/alpha/appeals/{appeal_id}/decide", {"outcome": "reject", "decision": "现场记录清楚，维持。"})
    assert resp.status_code == 302
    assert _row(app, ns, Appeal, appeal_id).status == "rejected"
    assert _row(app, ns, Assessment, a1).total == D("84.00")
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar() == runs   # no recompute


def test_appeal_refused_after_the_window_and_without_a_reason(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    client.post("/logout")
    login(client, "alpha-firm")
    url = f"/d/alpha/results/assessments/{a1}/appeal"
    resp = post(client, url, {"item_id": str(std.items["a1"]), "reason": "  "})
    assert resp.status_code == 422 and "请填写申诉理由" in resp.get_data(as_text=True)
    # The last day of the window still counts (until midnight, Shanghai) …
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.get(Evaluation, ev.id).appeal_until = today()
        db.session.commit()
    assert "提交申诉" in client.get(f"/d/alpha/results/assessments/{a1}").get_data(as_text=True)
    # … the day after does not.
    with app.app_context(), tenant_scope(ns.tenant_id):
        db.session.get(Evaluation, ev.id).appeal_until = today() - timedelta(days=1)
        db.session.commit()
    resp = post(client, url, {"item_id": str(std.items["a1"]), "reason": "迟到的申诉"})
    assert resp.status_code == 422 and "申诉期已于" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count()).select_from(Appeal)).scalar() == 0
    assert "提交申诉" not in client.get(f"/d/alpha/results/assessments/{a1}").get_data(as_text=True)


def test_appeal_on_a_veto_lifts_it(app, world, client):
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    with app.app_context(), tenant_scope(ns.tenant_id):
        enter(std, a1, "v1", vetoed=True)
        db.session.commit()
    login(client, "alpha-district")
    post(client, f"/d/alpha/evaluations/{ev.id}/finalize")
    wait_for_job(app, _latest_run(app, ns, ev.id))
    post(client, f"/d/alpha/evaluations/{ev.id}/publish")
    assert _row(app, ns, Assessment, a1).list_kind == "black"
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/results/assessments/{a1}/appeal", {"item_id": str(std.items["v1"]), "reason": "不属实"})
    client.post("/logout")
    login(client, "alpha-district")
    with app.app_context(), tenant_scope(ns.tenant_id):
        appeal_id = db.session.execute(select(Appeal.id)).scalar_one()
    assert post(client, f"/d/alpha/appeals/{appeal_id}/decide",
                {"outcome": "uphold", "decision": "经查与物业无关"}).status_code == 302
    wait_for_job(app, _latest_run(app, ns, ev.id))
    r1 = _row(app, ns, Assessment, a1)
    assert (r1.total, r1.stars, r1.list_kind, r1.vetoed) == (D("84.00"), 4, None, False)


def test_only_the_firm_manager_appeals_its_own_published_assessment(app, world, client):
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    login(client, "alpha-firm")
    # Before publication: refused, nothing written.
    resp = post(client, f"/d/alpha/results/assessments/{a1}/appeal", {"item_id": str(std.items["a1"]), "reason": "x"})
    assert resp.status_code == 422 and "考核结果发布后才能申诉" in resp.get_data(as_text=True)
    assert post(client, f"/d/alpha/results/assessments/{a2}/appeal",
                {"item_id": str(std.items["a1"]), "reason": "x"}).status_code == 404     # another firm's
    client.post("/logout")
    login(client, "alpha-community")
    assert post(client, f"/d/alpha/results/assessments/{a1}/appeal",
                {"item_id": str(std.items["a1"]), "reason": "x"}).status_code == 403
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert db.session.execute(select(func.count()).select_from(Appeal)).scalar() == 0


def test_public_red_black_board(app, world, client):
    ns, std, ev, a1, a2 = finalized_and_published(app, world, client)
    client.post("/logout")
    page = client.get("/p/alpha/redblack").get_data(as_text=True)
    assert "2026年第一季度季测评" in page
    black = page.split('data-list="black"', 1)[1]
    assert "甲区第2物业公司" in black and "55.00" in black
    assert "本次无红榜企业" in page
    assert "共 1 次考核" in page                                     # counts evaluations, not firms
    assert "现场检查不符" not in page and "申诉" not in page          # no internal notes
    assert "2026年第一季度季测评" not in client.get("/p/beta/redblack").get_data(as_text=True)
    assert "/p/alpha/redblack" in client.get("/p/alpha/").get_data(as_text=True)     # linked from the board
