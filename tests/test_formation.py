"""Committee formation / 换届 with the joint review, and committee supervision:
wuye_saas/committees/logic.py and views.py."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.committees import logic
from wuye_saas.committees import views as committee_views
from wuye_saas.committees.models import Candidate, CommitteeSupervision, Formation, VettingCheck, VettingCriterion
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today
from wuye_saas.votes import logic as votes
from wuye_saas.votes import models as votes_models

from .helpers import filed_with_street, login, post

BASE = "/d/alpha/committees"


def _in(app, a, fn):
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def new_compound(app, a, name="新建小区", community=None, mode="专业物业") -> int:
    def make():
        c = m.Compound(community_id=community or a.community1, name=name, compound_type="商品房",
                       management_mode=mode, area_m2=Decimal("30000"))
        db.session.add(c)
        db.session.flush()
        return c.id
    return _in(app, a, make)


def count(app, a, model, *where) -> int:
    return _in(app, a, lambda: db.session.execute(select(func.count(model.id)).where(*where)).scalar_one())


def seed_checklist(client) -> None:
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/vetting/seed")
    assert resp.status_code == 302
    client.post("/logout")


def formation_of(app, a, compound_id) -> Formation:
    def get():
        f = db.session.execute(select(Formation).where(Formation.compound_id == compound_id)
                               .order_by(Formation.id.desc())).scalars().first()
        db.session.expunge(f)
        return f
    return _in(app, a, get)


def candidates(app, a, fid) -> dict[str, Candidate]:
    def get():
        rows = db.session.execute(select(Candidate).where(Candidate.formation_id == fid)).scalars().all()
        for r in rows:
            db.session.expunge(r)
        return {r.name: r for r in rows}
    return _in(app, a, get)


def criteria(app, a) -> list[int]:
    return _in(app, a, lambda: [c.id for c in db.session.execute(logic.criteria_select(active_only=True)).scalars()])


def owners_elect(app, a, client, fid, monkeypatch, agree=None, units=3) -> object:
    """The owners elect: the community starts the election vote (web), then its steps run
    directly — file, 15 days' notice, open, every unit's ballot, count. Each of `units` new units
    (own owners) agrees to the candidates named in `agree` (default all) and disagrees to the
    others; units already in the compound stay silent. Returns the counting day."""
    resp = post(client, f"{BASE}/formations/{fid}/election/start")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    opens = today() + timedelta(days=15)

    def run():
        f = db.session.get(Formation, fid)
        b = m.Building(compound_id=f.compound_id, name=f"选举楼{fid}")
        db.session.add(b)
        db.session.flush()
        mine = []
        for i in range(units):
            h = m.Household(compound_id=f.compound_id, building_id=b.id, room=f"{i + 1}01", floor_area=Decimal("90.00"),
                            owner_name=f"业主{i}", household_code=f"EL{fid:04d}{i:02d}")
            h.ownerships.append(m.Ownership(person=m.Person(name=f"业主{i}", identity_key=f"t:{fid}:{i}")))
            db.session.add(h)
            mine.append(h)
        db.session.flush()
        v = db.session.get(votes_models.OwnerVote, f.vote_id)
        assert v.matter == "committee" and not votes.file_vote(v)
        assert not votes.publicize_vote(v, opens, opens)
        filed_with_street(v)
        monkeypatch.setattr(votes, "today", lambda: opens)
        assert not votes.open_vote(v)
        items = votes.items_of(v)
        for h in mine:
            picks = {i.id: ("agree" if agree is None or i.title in agree else "disagree") for i in items}
            assert votes.record_ballot(v, h, choices=picks)[1] == {}
        assert votes.close_vote(v)[1] == {}
    _in(app, a, run)
    return opens


def all_pass(crits, fail: int | None = None, note: str = "") -> dict:
    data = {}
    for cid in crits:
        data[f"result_{cid}"] = "fail" if cid == fail else "pass"
        data[f"unit_{cid}"] = "社区党委"
        data[f"note_{cid}"] = note if cid == fail else ""
    return data


def test_default_checklist_is_the_district_s_and_idempotent(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    assert post(client, f"{BASE}/vetting/seed").status_code == 403   # the district keeps the checklist
    client.post("/logout")
    seed_checklist(client)
    assert count(app, a, VettingCriterion) == len(logic.DEFAULT_CRITERIA) == 11
    assert count(app, a, VettingCriterion, VettingCriterion.group == "must_not") == 5
    assert count(app, a, VettingCriterion, VettingCriterion.group == "should_not") == 6
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/vetting/seed", follow_redirects=True)
    assert "默认清单各项都已存在" in resp.get_data(as_text=True)
    assert count(app, a, VettingCriterion) == 11
    page = client.get(f"{BASE}/vetting").get_data(as_text=True)
    assert "五不能" in page and "失信被执行人" in page and "派出所" in page
    # A blank line is refused next to its field; nothing is added.
    resp = post(client, f"{BASE}/vetting", {"group": "other", "text": " ", "checked_by": "民政", "sort": "1"})
    assert resp.status_code == 422 and "请填写审查内容" in resp.get_data(as_text=True)
    assert count(app, a, VettingCriterion) == 11
    # Deactivating a line takes it out of later reviews.
    first = criteria(app, a)[0]
    resp = post(client, f"{BASE}/vetting/{first}/edit", {"group": "must_not", "text": "改过的内容", "checked_by": "派出所",
                                                        "sort": "1"})
    assert resp.status_code == 302
    assert first not in criteria(app, a)
    assert count(app, a, AuditEvent, AuditEvent.entity == "vetting_criterion", AuditEvent.action == "create") == 11
    # Beta's admin cannot reach alpha's line.
    client.post("/logout")
    login(client, "beta-district")
    assert client.get(f"/d/beta/committees/vetting/{first}/edit").status_code == 404


def test_formation_flow_to_a_filed_committee(app, client, world, monkeypatch):
    a = world["alpha"]
    seed_checklist(client)
    cid = new_compound(app, a)
    login(client, "alpha-community")
    page = client.get(f"{BASE}/formations/new").get_data(as_text=True)
    assert "新建小区（可组建）" in page
    # Seats: odd 3–11 for 业委会; an even number is refused, nothing written.
    resp = post(client, f"{BASE}/formations/new", {"compound_id": cid, "kind": "formation",
                                                   "committee_kind": "业委会", "seats": "4"})
    assert resp.status_code == 422 and "业委会委员人数应为 3 至 11 人之间的单数" in resp.get_data(as_text=True)
    assert count(app, a, Formation) == 0
    # A 换届 needs a committee: refused for this compound.
    resp = post(client, f"{BASE}/formations/new", {"compound_id": cid, "kind": "reelection",
                                                   "committee_kind": "业委会", "seats": "3"})
    assert resp.status_code == 422 and "请选择“组建”" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/formations/new", {"compound_id": cid, "kind": "formation",
                                                   "committee_kind": "业委会", "seats": "3"})
    assert resp.status_code == 302
    f = formation_of(app, a, cid)
    assert (f.status, f.kind, f.seats, f.opened_on, f.previous_committee_id) == ("open", "formation", 3, today(), None)
    url = f"{BASE}/formations/{f.id}"

    people = [("甲", True, "社区党组织推荐"), ("乙", True, "业主自荐"), ("丙", False, "业主联名推荐"),
              ("丁", True, "居民委员会推荐"), ("戊", False, "业主自荐")]
    for name, party, rec in people:
        data = {"name": name, "recommended_by": rec, "phone": "13812345678"}
        if party:
            data["is_party_member"] = "y"
        assert post(client, f"{url}/candidates", data).status_code == 302
    # No name: refused next to the field.
    resp = post(client, f"{url}/candidates", {"name": "", "recommended_by": "业主自荐"})
    assert resp.status_code == 422 and "请填写候选人姓名" in resp.get_data(as_text=True)
    cands = candidates(app, a, f.id)
    assert len(cands) == 5 and cands["甲"].phone_masked == "138****5678" and cands["甲"].is_party_member
    assert post(client, f"{url}/vetting").status_code == 302
    assert formation_of(app, a, cid).status == "vetting"

    crits = criteria(app, a)
    cand_url = f"{url}/candidates"
    # 不符合 needs a note: refused, nothing recorded.
    resp = post(client, f"{cand_url}/{cands['丁'].id}", all_pass(crits, fail=crits[0]))
    assert resp.status_code == 422 and "不符合时请写明情况" in resp.get_data(as_text=True)
    assert count(app, a, VettingCheck) == 0
    for name in ("甲", "乙", "丙", "戊"):
        assert post(client, f"{cand_url}/{cands[name].id}", all_pass(crits)).status_code == 302
    resp = post(client, f"{cand_url}/{cands['丁'].id}", all_pass(crits, fail=crits[1], note="被列为失信被执行人"))
    assert resp.status_code == 302
    cands = candidates(app, a, f.id)
    assert {n: c.status for n, c in cands.items()} == {"甲": "passed", "乙": "passed", "丙": "passed",
                                                       "丁": "rejected", "戊": "passed"}
    assert count(app, a, VettingCheck) == 5 * 11
    # 未审 on a reviewed line takes that conclusion back: 戊 is no longer passed until re-reviewed.
    data = {**all_pass(crits), f"result_{crits[0]}": ""}
    assert post(client, f"{cand_url}/{cands['戊'].id}", data).status_code == 302
    assert count(app, a, VettingCheck) == 5 * 11 - 1
    assert candidates(app, a, f.id)["戊"].status == "pending"
    assert post(client, f"{cand_url}/{cands['戊'].id}", all_pass(crits)).status_code == 302
    assert count(app, a, VettingCheck) == 5 * 11 and candidates(app, a, f.id)["戊"].status == "passed"

    elect = f"{url}/election"
    # Without a counted owners' election nothing can be filed or named.
    resp = post(client, f"{url}/file", {"filed_on": today().isoformat()})
    assert resp.status_code == 422 and "尚未经业主投票选举" in resp.get_data(as_text=True)
    resp = post(client, elect, {f"position_{cands['甲'].id}": "主任"})
    assert resp.status_code == 422 and formation_of(app, a, cid).status == "vetting"
    # The election's items are the candidates who passed (not 丁); 戊 is disagreed: 甲乙丙 elected.
    day = owners_elect(app, a, client, f.id, monkeypatch, agree={"甲", "乙", "丙"})
    f = formation_of(app, a, cid)
    assert (f.status, f.election_on) == ("elected", day)
    def items():
        v = db.session.get(votes_models.OwnerVote, f.vote_id)
        return [(i.title, i.passed) for i in v.items]
    assert _in(app, a, items) == [("甲", True), ("乙", True), ("丙", True), ("戊", False)]
    assert {n for n, c in candidates(app, a, f.id).items() if c.elected} == {"甲", "乙", "丙"}
    page = client.get(url).get_data(as_text=True)
    assert f"备案期限：{day + timedelta(days=30)}" in page

    # Positions: only the elected, exactly one 主任; refused otherwise, nothing written.
    bad = [({f"position_{cands[n].id}": "委员" for n in ("甲", "乙", "丙")}, "必须有且只有一名主任"),
           ({f"position_{cands['甲'].id}": "主任", f"position_{cands['乙'].id}": "主任",
             f"position_{cands['丙'].id}": "委员"}, "必须有且只有一名主任")]
    for positions, message in bad:
        resp = post(client, elect, positions)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), message
        assert {c.position for c in candidates(app, a, f.id).values()} == {"委员"}
    # Filing before a 主任 is named is refused.
    resp = post(client, f"{url}/file", {"filed_on": day.isoformat()})
    assert resp.status_code == 422 and "须有且只有一名主任" in resp.get_data(as_text=True)

    resp = post(client, elect, {"note": "业主大会表决通过",
                                f"position_{cands['甲'].id}": "主任", f"position_{cands['乙'].id}": "副主任",
                                f"position_{cands['丙'].id}": "委员"})
    assert resp.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "当选 3 人，其中党员 2 人（66.7%）" in page and "党员过半" in page

    resp = post(client, f"{url}/file", {"filed_on": day.isoformat()})
    assert resp.status_code == 302
    f = formation_of(app, a, cid)
    assert f.status == "filed" and f.committee_id

    def committee():
        c = db.session.get(m.Committee, f.committee_id)
        return (c.name, c.kind, c.term_start, c.term_end, c.filing_status, c.filed_on,
                sorted((x.position, x.name, x.is_party_member) for x in c.members))
    start = day
    assert _in(app, a, committee) == (
        "新建小区业主委员会", "业委会", start, logic.add_years(start, 5) - timedelta(days=1), "已备案", start,
        [("主任", "甲", True), ("副主任", "乙", True), ("委员", "丙", False)])
    assert resp.headers["Location"] == f"{BASE}/{f.committee_id}/supervision"
    assert count(app, a, AuditEvent, AuditEvent.entity == "committee", AuditEvent.action == "create",
                 AuditEvent.entity_id == f.committee_id) == 1
    assert count(app, a, AuditEvent, AuditEvent.entity == "committee_member", AuditEvent.action == "create") >= 3
    assert count(app, a, AuditEvent, AuditEvent.entity == "formation", AuditEvent.entity_id == f.id) >= 4
    # 55 conclusions, one taken back and given again: 57 events.
    assert count(app, a, AuditEvent, AuditEvent.entity == "vetting_check") == 57
    # Now (from its election day) the compound has a committee in term: a new 组建 is refused.
    monkeypatch.setattr(committee_views, "today", lambda: day)
    resp = post(client, f"{BASE}/formations/new", {"compound_id": cid, "kind": "formation",
                                                   "committee_kind": "业委会", "seats": "3"})
    assert resp.status_code == 422


def test_party_share_at_or_below_half_warns_but_files(app, client, world, monkeypatch):
    a = world["alpha"]
    seed_checklist(client)
    cid = new_compound(app, a)
    login(client, "alpha-community")
    post(client, f"{BASE}/formations/new", {"compound_id": cid, "kind": "formation", "committee_kind": "物管会",
                                            "seats": "5"})
    f = formation_of(app, a, cid)
    url = f"{BASE}/formations/{f.id}"
    for i, party in enumerate([True, True, False, False, False]):
        post(client, f"{url}/candidates", {"name": f"候选{i}", "recommended_by": "业主自荐",
                                           **({"is_party_member": "y"} if party else {})})
    post(client, f"{url}/vetting")
    crits = criteria(app, a)
    cands = candidates(app, a, f.id)
    for c in cands.values():
        post(client, f"{url}/candidates/{c.id}", all_pass(crits))
    day = owners_elect(app, a, client, f.id, monkeypatch)
    positions = {f"position_{c.id}": ("主任" if c.name == "候选0" else "委员") for c in cands.values()}
    resp = post(client, f"{url}/election", positions, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "当选委员中党员未过半" in html and 'data-testid="share-warning"' in html
    assert post(client, f"{url}/file", {"filed_on": day.isoformat()}).status_code == 302
    f = formation_of(app, a, cid)
    # 物管会: 3-year term (北京条例第五十八条).
    end = _in(app, a, lambda: db.session.get(m.Committee, f.committee_id).term_end)
    assert end == logic.add_years(day, 3) - timedelta(days=1)


def test_reelection_shortens_the_old_term(app, client, world, monkeypatch):
    a = world["alpha"]
    seed_checklist(client)
    old_end = today() + timedelta(days=30)
    login(client, "alpha-community")
    # While the term runs beyond 180 days a 换届 is refused.
    resp = post(client, f"{BASE}/formations/new", {"compound_id": a.compound1, "kind": "reelection",
                                                   "committee_kind": "业委会", "seats": "3"})
    assert resp.status_code == 422 and "届满前 180 天内才能发起换届" in resp.get_data(as_text=True)
    _in(app, a, lambda: setattr(db.session.get(m.Committee, a.committee1), "term_end", old_end))
    resp = post(client, f"{BASE}/formations/new", {"compound_id": a.compound1, "kind": "reelection",
                                                   "committee_kind": "业委会", "seats": "3"})
    assert resp.status_code == 302
    f = formation_of(app, a, a.compound1)
    assert (f.kind, f.previous_committee_id) == ("reelection", a.committee1)
    # A second one for the same compound is refused while this one runs.
    resp = post(client, f"{BASE}/formations/new", {"compound_id": a.compound1, "kind": "reelection",
                                                   "committee_kind": "业委会", "seats": "3"})
    assert resp.status_code == 422
    url = f"{BASE}/formations/{f.id}"
    for name in ("子", "丑", "寅"):
        post(client, f"{url}/candidates", {"name": name, "recommended_by": "社区党组织推荐", "is_party_member": "y"})
    post(client, f"{url}/vetting")
    crits = criteria(app, a)
    cands = candidates(app, a, f.id)
    for c in cands.values():
        post(client, f"{url}/candidates/{c.id}", all_pass(crits))
    election = owners_elect(app, a, client, f.id, monkeypatch)
    positions = {f"position_{c.id}": ("主任" if c.name == "子" else "委员") for c in cands.values()}
    assert post(client, f"{url}/election", positions).status_code == 302
    assert post(client, f"{url}/file", {"filed_on": election.isoformat()}).status_code == 302
    old = _in(app, a, lambda: db.session.get(m.Committee, a.committee1).term_end)
    assert old == election - timedelta(days=1)
    ev = _in(app, a, lambda: db.session.execute(select(AuditEvent.changes).where(
        AuditEvent.entity == "committee", AuditEvent.entity_id == a.committee1, AuditEvent.action == "update")
    ).scalars().all())
    assert {"term_end": {"before": old_end.isoformat(), "after": old.isoformat()}} in ev


def test_cancel_needs_a_reason_and_scope(app, client, world):
    a = world["alpha"]
    cid = new_compound(app, a)
    other = new_compound(app, a, "二社区新小区", community=a.community2)
    login(client, "alpha-community")
    post(client, f"{BASE}/formations/new", {"compound_id": cid, "kind": "formation", "committee_kind": "业委会",
                                            "seats": "5"})
    # A compound of another community is not offered and is refused.
    resp = post(client, f"{BASE}/formations/new", {"compound_id": other, "kind": "formation",
                                                   "committee_kind": "业委会", "seats": "5"})
    assert resp.status_code == 422
    f = formation_of(app, a, cid)
    url = f"{BASE}/formations/{f.id}"
    assert "确认终止" in client.get(f"{url}?confirm=cancel").get_data(as_text=True)
    resp = post(client, f"{url}/cancel", {"reason": ""})
    assert resp.status_code == 422 and "请填写终止原因" in resp.get_data(as_text=True)
    assert formation_of(app, a, cid).status == "open"
    assert post(client, f"{url}/cancel", {"reason": "业主意见分歧较大，暂缓组建"}).status_code == 302
    f = formation_of(app, a, cid)
    assert (f.status, f.result_note) == ("cancelled", "终止原因：业主意见分歧较大，暂缓组建")
    # The street sees it but does not run it; beta does not see it at all.
    client.post("/logout")
    login(client, "alpha-street")
    assert client.get(url).status_code == 200
    assert post(client, f"{url}/cancel", {"reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, "beta-community")
    assert client.get(f"/d/beta/committees/formations/{f.id}").status_code == 404
    # The firm of the compound's contract does not see formations.
    client.post("/logout")
    login(client, "alpha-firm")
    assert client.get(url).status_code == 404


def test_supervision_open_and_close(app, client, world):
    a = world["alpha"]
    url = f"{BASE}/{a.committee1}/supervision"
    login(client, "alpha-community")
    assert "正常运行" in client.get(url).get_data(as_text=True)
    resp = post(client, f"{BASE}/{a.committee1}/supervisions", {"kind": "correction", "reason": "未按期公示公共收益"})
    assert resp.status_code == 422 and "责令整改须写明整改期限" in resp.get_data(as_text=True)
    assert count(app, a, CommitteeSupervision) == 0
    due = (today() + timedelta(days=30)).isoformat()
    resp = post(client, f"{BASE}/{a.committee1}/supervisions", {"kind": "correction", "reason": "未按期公示公共收益",
                                                                "due_on": due})
    assert resp.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "责令整改" in page and f"整改期限 {due}" in page
    # Only one open measure at a time.
    resp = post(client, f"{BASE}/{a.committee1}/supervisions", {"kind": "acting", "reason": "长期不召开会议"})
    assert resp.status_code == 422 and "请先结束后再登记" in resp.get_data(as_text=True)
    # The registry counts it as not working.
    rows = client.get("/d/alpha/registry/committees?state=not_working").get_data(as_text=True)
    assert "甲区1号小区业委会" in rows and "甲区2号小区业委会" not in rows
    sid = _in(app, a, lambda: db.session.execute(select(CommitteeSupervision.id)).scalar_one())
    resp = post(client, f"{BASE}/supervisions/{sid}/end", {"end_note": ""})
    assert resp.status_code == 422 and "请填写结束说明" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/supervisions/{sid}/end", {"end_note": "已补充公示"}).status_code == 302
    s = _in(app, a, lambda: (lambda x: (x.ended_on, x.end_note))(db.session.get(CommitteeSupervision, sid)))
    assert s == (today(), "已补充公示")
    assert count(app, a, AuditEvent, AuditEvent.entity == "committee_supervision") == 2
    # The street may put it under the 居委会 too; out of scope is 404, a firm 403.
    client.post("/logout")
    login(client, "alpha-street")
    assert post(client, f"{BASE}/{a.committee1}/supervisions",
                {"kind": "acting", "reason": "经业主大会决定由居委会代行"}).status_code == 302
    assert post(client, f"{BASE}/{a.committee2}/supervisions",
                {"kind": "acting", "reason": "x"}).status_code == 404
    client.post("/logout")
    login(client, "alpha-firm")
    assert post(client, f"{BASE}/{a.committee1}/supervisions", {"kind": "acting", "reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, "beta-street")
    assert client.get(f"/d/beta/committees/{a.committee1}/supervision").status_code == 404
