"""Owner votes through the web: file → publicize (15 days' notice) → open → ballots → close,
count and publish; who may see and run them."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.extensions import db
from wuye_saas.org.models import Household, Ownership, Person
from wuye_saas.publicity import chain
from wuye_saas.publicity.models import Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today
from wuye_saas.votes import logic
from wuye_saas.votes.models import OwnerVote

from .factories import make_user
from .helpers import filed_with_street, login, post


def add_units(app, ns):
    """Compound 1 gets three more units: 102 李四, and 201 + 202 both 王五's (one person, by the
    register's ownership). With 101 张三 (88.50 ㎡): 388.50 ㎡ and three owners. Returns
    {room: household id}."""
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        wang = Person(name="王五", identity_key="reg:wang5")
        li = Person(name="李四", identity_key="reg:li4")
        for room, owner in (("102", li), ("201", wang), ("202", wang)):
            h = Household(compound_id=ns.compound1, building_id=ns.building1, room=room, floor=int(room[0]),
                          floor_area=Decimal("100.00"), owner_name=owner.name, household_code=f"V{room}")
            h.ownerships.append(Ownership(person=owner))
            db.session.add(h)
        db.session.commit()
        return dict(db.session.execute(select(Household.room, Household.id)
                                       .where(Household.compound_id == ns.compound1)).all())


def add_member(app, ns, username, role, **scope):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        user = make_user(username, username)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, role=role, **scope))
        db.session.commit()


def vote_row(app, ns, vote_id):
    with app.app_context(), tenant_scope(ns.tenant_id):
        v = db.session.get(OwnerVote, vote_id)
        return {"status": v.status, "passed": v.passed, "result": v.result, "total_heads": v.total_heads,
                "total_area": v.total_area_centi, "opens_on": v.opens_on, "closes_on": v.closes_on,
                "filed_at": v.filed_at, "ballots": {b.household_id: (b.choice, b.owner_key, b.area_centi)
                                                    for b in v.ballots}}


def publications(app, ns, compound_id):
    with app.app_context(), tenant_scope(ns.tenant_id):
        return [(p.kind, p.title, p.content) for p in db.session.execute(
            select(Publication).where(Publication.compound_id == compound_id).order_by(Publication.seq)).scalars()]


def new_vote(client, slug="alpha", matter="use_fund", title="更换二次供水水泵"):
    resp = post(client, f"/d/{slug}/votes/new", {"matter": matter, "title": title, "description": "水泵老化"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def test_whole_vote_flow(app, client, world, monkeypatch):
    ns = world["alpha"]
    rooms = add_units(app, ns)
    login(client, "alpha-committee")
    vid = new_vote(client)
    base = f"/d/alpha/votes/{vid}"
    assert vote_row(app, ns, vid)["status"] == "draft"

    assert post(client, f"{base}/file").status_code == 302
    row = vote_row(app, ns, vid)
    assert row["status"] == "filed" and row["filed_at"] is not None

    opens = today() + timedelta(days=15)
    closes = opens + timedelta(days=7)
    resp = post(client, f"{base}/publicize", {"opens_on": opens.isoformat(), "closes_on": closes.isoformat()})
    assert resp.status_code == 302
    row = vote_row(app, ns, vid)
    assert (row["status"], row["opens_on"], row["closes_on"]) == ("publicized", opens, closes)
    [(kind, title, content)] = publications(app, ns, ns.compound1)
    assert kind == "vote_notice" and title == "业主表决事项公示：更换二次供水水泵"
    assert content["opens_on"] == opens.isoformat() and content["matter"] == "use_fund"
    assert "开始表决" in client.get(base).get_data(as_text=True)

    # Not before the announced day.
    resp = post(client, f"{base}/open")
    assert resp.status_code == 422 and f"公示的表决开始日期是 {opens:%Y-%m-%d}" in resp.get_data(as_text=True)
    assert vote_row(app, ns, vid)["status"] == "publicized"
    monkeypatch.setattr(logic, "today", lambda: opens)
    # Not before the street has acknowledged the 重大事项报备 (tests/test_matters.py has the steps).
    resp = post(client, f"{base}/open")
    assert resp.status_code == 422 and "尚未经街道签收重大事项报备" in resp.get_data(as_text=True)
    assert vote_row(app, ns, vid)["status"] == "publicized"
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        filed_with_street(db.session.get(OwnerVote, vid))
        db.session.commit()
    assert post(client, f"{base}/open").status_code == 302
    assert vote_row(app, ns, vid)["status"] == "open"

    # The ballot sheet lists the compound's four units; rows save through HTMX.
    sheet = client.get(f"{base}/ballots").get_data(as_text=True)
    assert sheet.count('data-testid="ballot-row"') == 4
    hx = {"HX-Request": "true"}
    for room in ("101", "201", "202"):
        resp = post(client, f"{base}/ballots/{rooms[room]}", {"choice": "agree", "owner_key": ""}, headers=hx)
        assert resp.status_code == 200 and "已保存" in resp.get_data(as_text=True)
    ballots = vote_row(app, ns, vid)["ballots"]
    assert ballots == {rooms["101"]: ("agree", "张三", 8850), rooms["201"]: ("agree", "王五", 10000),
                       rooms["202"]: ("agree", "王五", 10000)}

    # Closing before the announced end is refused; then count.
    resp = post(client, f"{base}/close")
    assert resp.status_code == 422 and vote_row(app, ns, vid)["status"] == "open"
    monkeypatch.setattr(logic, "today", lambda: closes)
    assert "确认结束表决并计票" in client.get(f"{base}?confirm=close").get_data(as_text=True)
    assert post(client, f"{base}/close").status_code == 302
    row = vote_row(app, ns, vid)
    assert row["status"] == "closed" and row["passed"] is True
    assert (row["total_area"], row["total_heads"]) == (38850, 3)
    assert row["result"]["lines"][0] == "参与表决面积 288.50㎡ / 388.50㎡ = 74.26% ≥ 2/3 ✓"
    assert row["result"]["lines"][1] == "参与表决人数 2人 / 3人 = 66.67% ≥ 2/3 ✓"
    kinds = [p[0] for p in publications(app, ns, ns.compound1)]
    assert kinds == ["vote_notice", "vote_result"]
    page = client.get(base).get_data(as_text=True)
    assert "表决成立，事项通过。" in page and "参与表决人数 2人 / 3人 = 66.67% ≥ 2/3 ✓" in page
    # The published result gives each test and the outcome on the board.
    shown = client.get(f"/p/alpha/c/{ns.compound1}/p/2").get_data(as_text=True)
    assert re.search(r"<th[^>]*>参与表决人数</th><td[^>]*>2人 / 3人 = 66.67% ≥ 2/3 ✓</td>", shown)
    assert re.search(r"<th[^>]*>表决结果</th><td[^>]*>表决成立，事项通过。</td>", shown)
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert chain.verify(ns.compound1).intact
        assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "publication")).scalar_one() == 2
    # Closed: no more ballots.
    resp = post(client, f"{base}/ballots/{rooms['102']}", {"choice": "agree"}, headers=hx)
    assert "表决未在进行中" in resp.get_data(as_text=True)
    assert rooms["102"] not in vote_row(app, ns, vid)["ballots"]


def test_publicity_needs_fifteen_days_notice(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-committee")
    vid = new_vote(client)
    post(client, f"/d/alpha/votes/{vid}/file")
    early = today() + timedelta(days=14)
    resp = post(client, f"/d/alpha/votes/{vid}/publicize",
                {"opens_on": early.isoformat(), "closes_on": (early + timedelta(days=7)).isoformat()})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f"开始日期不得早于 {today() + timedelta(days=15):%Y-%m-%d}" in html
    row = vote_row(app, ns, vid)
    assert row["status"] == "filed" and row["opens_on"] is None
    assert publications(app, ns, ns.compound1) == []


def test_publicize_before_filing_is_refused(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-committee")
    vid = new_vote(client)
    d = today() + timedelta(days=20)
    resp = post(client, f"/d/alpha/votes/{vid}/publicize", {"opens_on": d.isoformat(), "closes_on": d.isoformat()})
    assert resp.status_code == 422 and "须先报备社区" in resp.get_data(as_text=True)
    assert vote_row(app, ns, vid)["status"] == "draft"


def test_bad_ballot_is_refused_next_to_the_row_and_writes_nothing(app, client, world, monkeypatch):
    ns = world["alpha"]
    login(client, "alpha-committee")
    vid = new_vote(client)
    with app.app_context(), tenant_scope(ns.tenant_id):
        v = db.session.get(OwnerVote, vid)
        v.status = "open"
        db.session.commit()
    resp = post(client, f"/d/alpha/votes/{vid}/ballots/{ns.household1}", {"choice": "maybe"},
                headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "is-invalid" in resp.get_data(as_text=True)
    assert vote_row(app, ns, vid)["ballots"] == {}
    # Another compound's household is not on this sheet.
    resp = post(client, f"/d/alpha/votes/{vid}/ballots/{ns.household2}", {"choice": "agree"})
    assert resp.status_code == 404


def test_new_vote_needs_a_title(app, client, world):
    login(client, "alpha-committee")
    resp = post(client, "/d/alpha/votes/new", {"matter": "use_fund", "title": ""})
    assert resp.status_code == 422 and "请填写表决标题" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(func.count(OwnerVote.id))).scalar_one() == 0


def test_who_sees_and_runs_votes(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-committee")
    vid = new_vote(client, title="选聘物业")
    # The community sees its compound's vote but cannot run it.
    login(client, "alpha-community")
    assert "选聘物业" in client.get("/d/alpha/votes/").get_data(as_text=True)
    assert client.get(f"/d/alpha/votes/{vid}").status_code == 200
    assert post(client, f"/d/alpha/votes/{vid}/file").status_code == 403
    # A committee member of the other compound: 404 everywhere, not on its list.
    add_member(app, ns, "alpha-committee2", "committee_member", compound_id=ns.compound2)
    login(client, "alpha-committee2")
    assert client.get(f"/d/alpha/votes/{vid}").status_code == 404
    assert client.get(f"/d/alpha/votes/{vid}/ballots").status_code == 404
    assert post(client, f"/d/alpha/votes/{vid}/file").status_code == 404
    assert "选聘物业" not in client.get("/d/alpha/votes/").get_data(as_text=True)
    login(client, "beta-committee")
    assert client.get(f"/d/beta/votes/{vid}").status_code == 404
    assert vote_row(app, ns, vid)["status"] == "draft"


def test_list_filters_and_empty_state(app, client, world):
    login(client, "alpha-committee")
    assert "还没有业主表决" in client.get("/d/alpha/votes/").get_data(as_text=True)
    new_vote(client, matter="use_fund", title="水泵")
    new_vote(client, matter="raise_fund", title="续筹维修资金")
    html = client.get("/d/alpha/votes/?matter=raise_fund").get_data(as_text=True)
    assert "续筹维修资金" in html and "水泵" not in html
    assert "没有符合条件的表决" in client.get("/d/alpha/votes/?q=电梯").get_data(as_text=True)


def test_vote_notice_states_what_is_voted_on(app, client, world):
    """The 15-day notice, on the public board and on the printed A4 sheet, says what owners vote
    on: matter, description, options, period, who may vote and the legal pass conditions."""
    ns = world["alpha"]
    add_units(app, ns)
    login(client, "alpha-committee")
    vid = new_vote(client, matter="raise_fund", title="补建专项维修资金")
    base = f"/d/alpha/votes/{vid}"
    assert post(client, f"{base}/file").status_code == 302
    opens = today() + timedelta(days=15)
    closes = opens + timedelta(days=7)
    assert post(client, f"{base}/publicize", {"opens_on": opens.isoformat(),
                                              "closes_on": closes.isoformat()}).status_code == 302
    with app.app_context(), tenant_scope(ns.tenant_id):
        seq = db.session.execute(select(Publication.seq).where(Publication.compound_id == ns.compound1)).scalar_one()
        assert chain.verify(ns.compound1).intact
    period = f"{opens.year}年{opens.month}月{opens.day}日 至 {closes.year}年{closes.month}月{closes.day}日"
    for url in (f"/p/alpha/c/{ns.compound1}/p/{seq}", f"/p/alpha/c/{ns.compound1}/p/{seq}/print"):
        page = client.get(url).get_data(as_text=True)
        assert "筹集建筑物及其附属设施的维修资金（民法典第二百七十八条）" in page
        assert "水泵老化" in page                               # the description
        assert "同意、反对、弃权（每户选其一）" in page
        assert period in page
        # Who may vote: the compound's four units, 388.50 ㎡, one owner of two units counted once.
        assert "现登记专有部分 4 户，总面积 388.50 ㎡" in page and "同一业主拥有多个专有部分按一人计算" in page
        # 筹集维修资金 needs three quarters (民法典 第278条), participation two thirds.
        assert "同意的专有部分面积占参与表决面积的四分之三以上（≥ 3/4）" in page
        assert "参与表决人数占总人数的三分之二以上（≥ 2/3）" in page


def test_a_vote_notice_published_before_content_lines_still_shows_its_fields(app, client, world):
    """Stored content is never rewritten (its hash would break): the old shape is shown as it is."""
    ns = world["alpha"]
    old = {"matter": "use_fund", "matter_label": "使用建筑物及其附属设施的维修资金", "title": "更换水泵",
           "description": "水泵老化", "filed_at": "2026-01-02 10:00", "publicized_on": "2026-01-03",
           "opens_on": "2026-01-20", "closes_on": "2026-01-30",
           "threshold": "参与表决的专有部分面积和人数均占三分之二以上；同意的面积和人数均占参与表决的过半数"}
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        p = chain.publish(ns.compound1, "vote_notice", "业主表决事项公示：更换水泵", old)
        db.session.commit()
        seq = p.seq
    page = client.get(f"/p/alpha/c/{ns.compound1}/p/{seq}").get_data(as_text=True)
    for label, value in (("事项说明", "水泵老化"), ("表决开始日期", "2026-01-20"), ("通过条件", old["threshold"])):
        assert re.search(rf"<th[^>]*>{label}</th><td[^>]*>{value}</td>", page), label
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert chain.verify(ns.compound1).intact
