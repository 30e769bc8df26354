"""Committee checks and objections (质询): wuye_saas/publicity/checks.py and check_views.py."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.extensions import db
from wuye_saas.publicity import chain
from wuye_saas.publicity.models import LedgerKeeper, Objection, PublicationCheck
from wuye_saas.tenancy import tenant_scope

from .factories import make_user
from .helpers import login, post

LINES = {"lines": [{"key": "income", "label": "本期收入", "value": "¥1,200.00"},
                   {"key": "spending", "label": "本期支出", "value": "¥300.00"}]}


def publish(app, a, compound: int, ledger_kind: str = "fee_account", title: str = "2026年第一季度物业费收支") -> int:
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        p = chain.publish(compound, "ledger_statement", title, {**LINES, "ledger_kind": ledger_kind},
                          period_start=date(2026, 1, 1), period_end=date(2026, 3, 31))
        db.session.commit()
        return p.id


def add_member(app, a, username: str, **scope) -> None:
    """A further user of the district (e.g. the firm of branch 2)."""
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        user = make_user(username, username)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, **scope))
        db.session.commit()


def objection(app, a, **where) -> Objection | None:
    with app.app_context(), tenant_scope(a.tenant_id):
        obj = db.session.execute(select(Objection).filter_by(**where)).scalar_one_or_none()
        if obj is not None:
            db.session.expunge(obj)
        return obj


def count(app, a, model) -> int:
    with app.app_context(), tenant_scope(a.tenant_id):
        return db.session.execute(select(func.count(model.id))).scalar_one()


def events(app, a, entity: str, entity_id: int) -> list[tuple[str, dict]]:
    with app.app_context(), tenant_scope(a.tenant_id):
        return [(e.action, e.changes) for e in db.session.execute(select(AuditEvent).where(
            AuditEvent.entity == entity, AuditEvent.entity_id == entity_id).order_by(AuditEvent.id)).scalars()]


def test_full_flow_answer_escalate_decide(app, client, world):
    a = world["alpha"]
    pid = publish(app, a, a.compound1)
    base = "/d/alpha/checks"

    # The committee member sees the publication to check and raises an objection on one line.
    login(client, "alpha-committee")
    listing = client.get(f"{base}/").get_data(as_text=True)
    assert "2026年第一季度物业费收支" in listing and "我未核对" in listing
    page = client.get(f"{base}/publications/{pid}").get_data(as_text=True)
    assert "本期支出：¥300.00" in page
    resp = post(client, f"{base}/publications/{pid}/objections", {"line": "spending", "question": "支出明细是什么？"})
    assert resp.status_code == 302
    obj = objection(app, a, publication_id=pid)
    assert (obj.line, obj.question, obj.status, obj.answer) == ("本期支出：¥300.00", "支出明细是什么？", "open", "")
    assert resp.headers["Location"] == f"{base}/objections/{obj.id}"

    # The committee cannot answer its own question on a firm-kept ledger (the firm keeps 物业费收支).
    resp = post(client, f"{base}/objections/{obj.id}/answer", {"answer": "自答"})
    assert resp.status_code == 422 and "只有该公示的记账方可以答复质询" in resp.get_data(as_text=True)
    # Nor accept before there is an answer.
    resp = post(client, f"{base}/objections/{obj.id}/respond", {"outcome": "accept", "note": ""})
    assert resp.status_code == 422 and "该质询待答复，现在不能认可或提交社区" in resp.get_data(as_text=True)
    assert objection(app, a, id=obj.id).status == "open"

    # The firm sees it in its to-do list and answers; an empty answer is refused first.
    client.post("/logout")
    login(client, "alpha-firm")
    todo = client.get(f"{base}/").get_data(as_text=True)
    assert "支出明细是什么？" in todo and ">答复</a>" in todo
    resp = post(client, f"{base}/objections/{obj.id}/answer", {"answer": "  "})
    assert resp.status_code == 422 and "请填写答复内容。" in resp.get_data(as_text=True)
    assert objection(app, a, id=obj.id).status == "open"
    resp = post(client, f"{base}/objections/{obj.id}/answer", {"answer": "电梯维保 300 元，凭证号 V-12。"})
    assert resp.status_code == 302
    obj = objection(app, a, id=obj.id)
    assert (obj.status, obj.answer) == ("answered", "电梯维保 300 元，凭证号 V-12。") and obj.answered_at
    resp = post(client, f"{base}/objections/{obj.id}/answer", {"answer": "再答一次"})
    assert resp.status_code == 422 and "该质询已答复，不能再答复" in resp.get_data(as_text=True)
    # The firm cannot accept or escalate for the committee (not its role: 403).
    assert post(client, f"{base}/objections/{obj.id}/respond", {"outcome": "accept"}).status_code == 403

    # The committee escalates: a note is required for that.
    client.post("/logout")
    login(client, "alpha-committee")
    resp = post(client, f"{base}/objections/{obj.id}/respond", {"outcome": "escalate", "note": ""})
    assert resp.status_code == 422 and "提交社区时请说明对答复的异议" in resp.get_data(as_text=True)
    assert objection(app, a, id=obj.id).status == "answered"
    resp = post(client, f"{base}/objections/{obj.id}/respond", {"outcome": "escalate", "note": "凭证与合同金额不符"})
    assert resp.status_code == 302 and objection(app, a, id=obj.id).status == "escalated"
    # Community staff decide; a decision needs its text; the committee cannot decide.
    assert post(client, f"{base}/objections/{obj.id}/decide", {"decision": "x"}).status_code == 403

    client.post("/logout")
    login(client, "alpha-community")
    assert "支出明细是什么？" in client.get(f"{base}/").get_data(as_text=True)  # its to-do list
    resp = post(client, f"{base}/objections/{obj.id}/decide", {"decision": ""})
    assert resp.status_code == 422 and "请填写裁决意见。" in resp.get_data(as_text=True)
    resp = post(client, f"{base}/objections/{obj.id}/decide", {"decision": "责令企业补充合同，下月重新公示。"})
    assert resp.status_code == 302
    obj = objection(app, a, id=obj.id)
    assert (obj.status, obj.decision) == ("decided", "责令企业补充合同，下月重新公示。") and obj.decided_at
    resp = post(client, f"{base}/objections/{obj.id}/decide", {"decision": "再裁一次"})
    assert resp.status_code == 422 and "社区已裁决，不是待社区裁决的质询" in resp.get_data(as_text=True)

    # Every step is audited, and the page shows them as a timeline with the committee's note.
    evs = events(app, a, "objection", obj.id)
    statuses = [ch["status"]["after"] for action, ch in evs if action == "update" and "status" in ch]
    assert evs[0][0] == "create" and statuses == ["answered", "escalated", "decided"]
    assert ("update", {"note": {"before": "", "after": "凭证与合同金额不符"}}) in evs
    html = client.get(f"{base}/objections/{obj.id}").get_data(as_text=True)
    timeline = html[html.index('data-testid="timeline"'):]
    order = ["提出质询", "支出明细是什么？", "答复", "电梯维保 300 元", "业委会提交社区", "凭证与合同金额不符",
             "社区裁决", "责令企业补充合同"]
    positions = [timeline.index(t) for t in order]
    assert positions == sorted(positions)
    assert "确认裁决" not in html  # nothing left to do


def test_committee_accepts_and_checks_once(app, client, world):
    a = world["alpha"]
    pid = publish(app, a, a.compound1)
    login(client, "alpha-committee")
    base = "/d/alpha/checks"
    assert post(client, f"{base}/publications/{pid}/check").status_code == 302
    assert count(app, a, PublicationCheck) == 1
    # Twice is refused, nothing written.
    client.get(f"{base}/publications/{pid}")  # consume the flash of the first check
    resp = post(client, f"{base}/publications/{pid}/check", follow_redirects=True)
    assert "您已核对过这份公示。" in resp.get_data(as_text=True)
    assert count(app, a, PublicationCheck) == 1
    assert "我已核对" in client.get(f"{base}/?view=publications&state=checked").get_data(as_text=True)
    assert "没有符合条件的记录" in client.get(f"{base}/?view=publications&state=unchecked").get_data(as_text=True)

    # Bad objections: no line, a line that is not in the publication, no question.
    for data, msg in (({"line": "", "question": "问"}, "请选择公示中的一项内容。"),
                      ({"line": "nosuch", "question": "问"}, "请选择公示中的一项内容。"),
                      ({"line": "income", "question": " "}, "请填写质询的问题。")):
        resp = post(client, f"{base}/publications/{pid}/objections", data)
        assert resp.status_code == 422 and msg in resp.get_data(as_text=True)
    assert count(app, a, Objection) == 0

    post(client, f"{base}/publications/{pid}/objections", {"line": "income", "question": "收入含停车费吗？"})
    oid = objection(app, a, publication_id=pid).id
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"{base}/objections/{oid}/answer", {"answer": "含停车费 800 元。"})
    client.post("/logout")
    login(client, "alpha-committee")
    assert post(client, f"{base}/objections/{oid}/respond", {"outcome": "accept", "note": ""}).status_code == 302
    assert objection(app, a, id=oid).status == "accepted"
    # Accepted is final: no escalation afterwards, and community staff have nothing to decide.
    resp = post(client, f"{base}/objections/{oid}/respond", {"outcome": "escalate", "note": "改主意"})
    assert resp.status_code == 422 and objection(app, a, id=oid).status == "accepted"
    client.post("/logout")
    login(client, "alpha-community")
    resp = post(client, f"{base}/objections/{oid}/decide", {"decision": "裁决"})
    assert resp.status_code == 422 and objection(app, a, id=oid).decision == ""


def test_keeper_follows_the_district_setting(app, client, world):
    """公共收益 is kept by the committee unless the district says the firm: who answers follows."""
    a = world["alpha"]
    pid = publish(app, a, a.compound1, ledger_kind="public_revenue", title="公共收益公示")
    login(client, "alpha-committee")
    post(client, f"/d/alpha/checks/publications/{pid}/objections", {"line": "income", "question": "广告费多少？"})
    oid = objection(app, a, publication_id=pid).id
    client.post("/logout")
    login(client, "alpha-firm")
    resp = post(client, f"/d/alpha/checks/objections/{oid}/answer", {"answer": "不是我们记的账"})
    assert resp.status_code == 422 and objection(app, a, id=oid).status == "open"
    assert "没有等待您处理的质询" in client.get("/d/alpha/checks/").get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.add(LedgerKeeper(kind="public_revenue", keeper="firm"))
        db.session.commit()
    assert post(client, f"/d/alpha/checks/objections/{oid}/answer", {"answer": "广告费 500 元"}).status_code == 302
    assert objection(app, a, id=oid).status == "answered"


def test_scope_other_compound_firm_and_community_get_404(app, client, world):
    a = world["alpha"]
    pid1 = publish(app, a, a.compound1)
    pid2 = publish(app, a, a.compound2, title="二号小区收支")
    login(client, "alpha-committee")
    # Only the compound's committee can object: compound 2's publication does not exist for it.
    assert client.get(f"/d/alpha/checks/publications/{pid2}").status_code == 404
    resp = post(client, f"/d/alpha/checks/publications/{pid2}/objections", {"line": "income", "question": "问"})
    assert resp.status_code == 404 and count(app, a, Objection) == 0
    assert "二号小区收支" not in client.get("/d/alpha/checks/?view=publications").get_data(as_text=True)
    post(client, f"/d/alpha/checks/publications/{pid1}/objections", {"line": "income", "question": "收入明细？"})
    oid = objection(app, a, publication_id=pid1).id
    client.post("/logout")

    # The firm of branch 2 (no contract on compound 1) and community staff of community 2.
    add_member(app, a, "alpha-firm2", role="firm_manager", firm_id=a.firm2)
    add_member(app, a, "alpha-community2", role="community_staff", community_id=a.community2)
    add_member(app, a, "alpha-committee2", role="committee_member", compound_id=a.compound2)
    login(client, "alpha-firm2")
    assert client.get(f"/d/alpha/checks/objections/{oid}").status_code == 404
    assert post(client, f"/d/alpha/checks/objections/{oid}/answer", {"answer": "我来答"}).status_code == 404
    assert "收入明细？" not in client.get("/d/alpha/checks/?scope=all").get_data(as_text=True)
    assert objection(app, a, id=oid).status == "open"
    client.post("/logout")
    login(client, "alpha-committee2")
    assert client.get(f"/d/alpha/checks/objections/{oid}").status_code == 404
    client.post("/logout")
    login(client, "beta-firm")
    assert client.get(f"/d/alpha/checks/objections/{oid}").status_code == 404
    assert client.get(f"/d/beta/checks/objections/{oid}").status_code == 404

    # Escalate it, then community 2 cannot decide (404); community 1 can see it.
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/checks/objections/{oid}/answer", {"answer": "见附件"})
    client.post("/logout")
    login(client, "alpha-committee")
    post(client, f"/d/alpha/checks/objections/{oid}/respond", {"outcome": "escalate", "note": "没有附件"})
    client.post("/logout")
    login(client, "alpha-community2")
    assert post(client, f"/d/alpha/checks/objections/{oid}/decide", {"decision": "驳回"}).status_code == 404
    assert objection(app, a, id=oid).status == "escalated"


def test_logic_refuses_outside_roles(app, world):
    """The logic itself enforces who may act, whatever a view lets through."""
    from wuye_saas.publicity import checks
    a = world["alpha"]
    pid = publish(app, a, a.compound1)
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        from wuye_saas.publicity.models import Publication
        p = db.session.get(Publication, pid)
        other_committee = Membership(role="committee_member", compound_id=a.compound2, user_id=1, active=True)
        other_community = Membership(role="community_staff", community_id=a.community2, user_id=1, active=True)
        for fn, args, msg in (
                (checks.raise_objection, (p, other_committee, "income", "问"), "只有本小区业委会"),
                (checks.mark_checked, (p, other_committee), "只有本小区业委会")):
            try:
                fn(*args)
            except checks.CheckProblem as e:
                assert msg in e.message
            else:
                raise AssertionError("not refused")
        obj = Objection(publication_id=pid, line="本期收入：¥1,200.00", question="问", status="escalated")
        db.session.add(obj)
        db.session.flush()
        try:
            checks.decide(obj, other_community, "裁决")
        except checks.CheckProblem as e:
            assert "只有该小区所在社区的工作人员可以裁决" in e.message
        else:
            raise AssertionError("not refused")
        assert obj.status == "escalated" and obj.decision == ""
        db.session.rollback()


def test_lists_cost_the_same_queries_for_more_rows(app, client, world):
    """The to-do list decides who acts per row from data read once (no query per row)."""
    from .test_queries import count_queries
    a = world["alpha"]

    def add(n):
        for i in range(n):
            pid = publish(app, a, a.compound1, title=f"收支{i}")
            with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
                db.session.add(Objection(publication_id=pid, line="本期收入：¥1,200.00", question=f"问{i}"))
                db.session.commit()

    def cost(username, url):
        login(client, username)
        with count_queries(app) as seen:
            html = client.get(url).get_data(as_text=True)
        client.post("/logout")
        return len(seen), html

    add(2)
    before = {u: cost(u, url)[0] for u, url in (("alpha-firm", "/d/alpha/checks/"),
                                                 ("alpha-committee", "/d/alpha/checks/?view=publications"))}
    add(5)
    n, html = cost("alpha-firm", "/d/alpha/checks/")
    assert html.count(">答复</a>") == 7 and n == before["alpha-firm"]
    n, html = cost("alpha-committee", "/d/alpha/checks/?view=publications")
    assert html.count("我未核对</span>") == 7 and n == before["alpha-committee"]
