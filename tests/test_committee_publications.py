"""The committee's own publications: 业委会工作动态 (北京 第44条（八）、第45条) and 管理规约 / 业主大会议事规则
as the owners adopted them (民法典 第278条)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from wuye_saas.extensions import db
from wuye_saas.publicity.models import Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today
from wuye_saas.votes.models import OwnerVote

from .helpers import login, post
from .test_publications import _new, _pubs

NEWS = {"start": "2026-01-01", "end": "2026-06-30", "work": "召开业委会会议 4 次，督促物业整改电梯故障 2 起。",
        "decisions": "同意更换 3 号楼单元门禁（7 名委员中 5 名签字同意）。"}
RULES_TEXT = "第一条 为维护全体业主的合法权益，根据《民法典》制定本规约。"


def _count(app, a) -> int:
    with app.app_context(), tenant_scope(a.tenant_id):
        return db.session.execute(select(func.count()).select_from(Publication)).scalar_one()


def _vote(app, a, compound_id, passed=True) -> int:
    with app.app_context(), tenant_scope(a.tenant_id):
        v = OwnerVote(compound_id=compound_id, matter="rules", title="表决通过《管理规约》", status="closed",
                      passed=passed, closes_on=date(2026, 3, 31), result={"summary": "同意的专有部分面积和人数均超过四分之三"})
        db.session.add(v)
        db.session.commit()
        return v.id


def test_the_committee_reports_its_work_on_the_chain(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    choose = client.get("/d/alpha/publications/new").get_data(as_text=True)
    assert "业委会工作动态" in choose and "管理规约与议事规则" in choose and "收费公示" not in choose
    resp = post(client, _new(a.compound1, "committee_news"), NEWS)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    (pub,) = _pubs(app, world)
    assert (pub["kind"], pub["title"]) == ("committee_news", "甲区1号小区业委会工作动态（2026-01-01至2026-06-30）")
    lines = {ln["key"]: ln["value"] for ln in pub["content"]["lines"]}
    assert lines == {"通报期间": "2026年01月01日至2026年06月30日", "工作情况": NEWS["work"],
                     "会议确定事项": NEWS["decisions"]}
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.get(Publication, pub["id"])
        assert (p.period_start, p.period_end) == (date(2026, 1, 1), date(2026, 6, 30))
    # The public board shows it to every owner.
    board = client.get(f"/p/alpha/c/{a.compound1}/p/{pub['seq']}").get_data(as_text=True)
    assert NEWS["decisions"] in board
    # Its own committee cannot object to it (it would be asking itself); nothing is written.
    resp = post(client, f"/d/alpha/checks/publications/{pub['id']}/objections", {"line": "工作情况", "question": "为什么？"})
    assert resp.status_code == 422 and "业委会自己发布的文件不适用质询" in resp.get_data(as_text=True)


def test_only_the_compounds_committee_publishes_its_documents(app, client, world):
    a = world["alpha"]
    for user, status in (("alpha-firm", 403), ("alpha-district", 403), ("alpha-community", 403)):
        login(client, user)
        assert post(client, _new(a.compound1, "committee_news"), NEWS).status_code == status, user
    login(client, "alpha-committee")
    assert post(client, _new(a.compound2, "committee_news"), NEWS).status_code == 404
    assert _count(app, a) == 0


def test_rules_name_the_vote_that_adopted_them_and_bad_input_writes_nothing(app, client, world):
    a = world["alpha"]
    vid = _vote(app, a, a.compound1)
    failed = _vote(app, a, a.compound1, passed=False)
    other = _vote(app, a, a.compound2)
    login(client, "alpha-committee")
    form = client.get(_new(a.compound1, "committee_rules")).get_data(as_text=True)
    assert f'value="{vid}"' in form and f'value="{failed}"' not in form and f'value="{other}"' not in form
    base = {"doc": "管理规约", "adopted_on": "2026-04-01", "body": RULES_TEXT}
    tomorrow = (today() + timedelta(days=1)).isoformat()
    for bad, message in (({"adopted_on": tomorrow}, "通过日期不能晚于今天"),
                         ({"vote_id": str(failed)}, "所选表决未通过"),
                         ({"vote_id": str(other)}, "请选择本小区已计票的业主表决"),
                         ({"body": ""}, "请填写文件正文"),
                         ({"doc": "自定义文件"}, 'class="invalid-feedback"')):   # WTForms' own (zh) message
        resp = post(client, _new(a.compound1, "committee_rules"), {**base, **bad})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    assert _count(app, a) == 0
    resp = post(client, _new(a.compound1, "committee_rules"), {**base, "vote_id": str(vid)})
    assert resp.status_code == 302
    (pub,) = _pubs(app, world)
    assert pub["title"] == "甲区1号小区管理规约"
    assert [(ln["key"], ln["value"]) for ln in pub["content"]["lines"]] == [
        ("文件名称", "管理规约"), ("业主大会通过日期", "2026年04月01日"),
        ("业主表决", "表决通过《管理规约》（同意的专有部分面积和人数均超过四分之三）"), ("正文", RULES_TEXT)]
