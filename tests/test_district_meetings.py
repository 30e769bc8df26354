"""The district's joint meeting (002 潞州: 全区物业管理联席会议, 区物管中心、住建、市场监管、司法、
公安、环保、消防、市容、街道 as members, 联合执法 on cross-department problems): a community
meeting escalates to its street, the street meeting passes it on to the district, the district
meeting takes it on its agenda, settles it and dispatches action items to departments, which
close them; each level sees the chain back down. Who may see and run what; bad input writes
nothing; the district cadence flags a missed district meeting on the district's dashboard."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from wuye_saas.audit import acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.extensions import db
from wuye_saas.meetings import cadence
from wuye_saas.meetings.logic import from_local
from wuye_saas.meetings.models import ActionItem, AgendaItem, Meeting
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .factories import make_user
from .helpers import login, post
from .test_meetings import FORM_TIME, _escalated_item, attendee_ids, count, in_db, schedule

DUE = (today() + timedelta(days=10)).isoformat()


def as_user(client, username):
    client.post("/logout")
    login(client, username)


def street2_account(app, ns) -> str:
    """Staff of alpha's second street (to show one street never sees another's escalations)."""
    def run():
        with acting_as(None, "测试"):
            user = make_user("alpha-street2", "第二街道")
            db.session.flush()
            db.session.add(Membership(user_id=user.id, role="street_staff", street_id=ns.street2))
            db.session.commit()
    in_db(app, ns, run)
    return "alpha-street2"


def _to_district(app, ns, client):
    """Community 1 escalates to street 1, whose meeting passes it on to the district.
    Returns (community meeting, community item, street meeting, street item, district item)."""
    cm, item, street_item = _escalated_item(app, ns, client)
    login(client, "alpha-street")
    sid = schedule(client, title="街道物业管理联席会议")
    base = f"/d/alpha/meetings/{sid}"
    assert post(client, f"{base}/agenda/attach", {"agenda_item_id": str(street_item)}).status_code == 302
    post(client, f"{base}/attendees", {"party": "community", "name": "李主任", "organisation": "街道党工委"})
    post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [attendee_ids(app, ns, sid)["李主任"]],
                                    "minutes": ""})
    resp = post(client, f"{base}/agenda/{street_item}/outcome",
                {"outcome": "escalated", "decision": "涉及城管、市场监管联合执法，街道协调未果"})
    assert resp.status_code == 302
    client.post("/logout")
    district_item = in_db(app, ns, lambda: db.session.execute(select(AgendaItem.id).where(
        AgendaItem.escalated_from_id == street_item)).scalar_one())
    return cm, item, sid, street_item, district_item


def _district_meeting(app, ns, client, **fields):
    """A district joint meeting scheduled by the district admin (logged in), held yesterday."""
    did = schedule(client, title="全区物业管理联席会议", **fields)
    base = f"/d/alpha/meetings/{did}"
    post(client, f"{base}/attendees", {"party": "other", "name": "王主任", "organisation": "区物业管理服务中心"})
    return did, base


def test_the_whole_chain_community_street_district_department(app, client, world):
    a = world["alpha"]
    cm, item, sid, street_item, district_item = _to_district(app, a, client)
    row = in_db(app, a, lambda: (lambda i: (i.level, i.street_id, i.community_id, i.meeting_id, i.outcome))(
        db.session.get(AgendaItem, district_item)))
    assert row == ("district", a.street1, a.community1, None, "pending")
    assert in_db(app, a, lambda: db.session.get(AgendaItem, street_item).outcome) == "escalated"

    # The street follows it: its own list says 已提交区联席会议, the district list says 待上会.
    login(client, "alpha-street")
    page = client.get(f"/d/alpha/meetings/{sid}").get_data(as_text=True)
    assert "提交区联席会议，街道意见：涉及城管、市场监管联合执法" in page
    page = client.get("/d/alpha/meetings/pending?state=escalated").get_data(as_text=True)
    assert "小区外围道路占道经营" in page and 'data-testid="chain-district"' in page
    assert "没有待上会的事项" in client.get("/d/alpha/meetings/pending").get_data(as_text=True)
    page = client.get("/d/alpha/meetings/pending?level=district").get_data(as_text=True)
    assert f'data-item="{district_item}"' in page and "待上会" in page
    client.post("/logout")

    # The district: a 待办 card, its 待上会事项, a district meeting that takes the item.
    login(client, "alpha-district")
    home = client.get("/d/alpha/").get_data(as_text=True)
    assert "待上区联席会议的事项" in home
    page = client.get("/d/alpha/meetings/pending").get_data(as_text=True)
    assert f'data-item="{district_item}"' in page and "区联席会议办理" in page
    did, base = _district_meeting(app, a, client)
    mt = in_db(app, a, lambda: db.session.get(Meeting, did))
    assert (mt.level, mt.street_id, mt.community_id, mt.compound_id) == ("district", None, None, None)
    page = client.get(base).get_data(as_text=True)
    assert "接收街道提交的事项" in page and "区物业管理联席会议" in page and "区级会议" in page
    # The member departments are offered as attendees (002).
    assert "甲区第1职能部门" in page
    assert post(client, f"{base}/agenda/attach", {"agenda_item_id": str(district_item)}).status_code == 302
    assert in_db(app, a, lambda: db.session.get(AgendaItem, district_item).meeting_id) == did
    page = client.get(base).get_data(as_text=True)
    assert "街道提交：" in page and f'href="/d/alpha/meetings/{sid}"' in page   # where it came from
    assert "没有待上会的事项" in client.get("/d/alpha/meetings/pending").get_data(as_text=True)
    post(client, f"{base}/attendees", {"party": "department", "name": "周局长", "organisation": "甲区第1职能部门"})
    ids = attendee_ids(app, a, did)
    assert post(client, f"{base}/record", {"held_at": FORM_TIME, "present": list(ids.values()),
                                           "minutes": "成员单位联合执法"}).status_code == 302
    # The district meeting settles: nothing goes further up.
    resp = post(client, f"{base}/agenda/{district_item}/outcome", {"outcome": "escalated", "decision": "上交"})
    assert resp.status_code == 422 and "不能再上交" in resp.get_data(as_text=True)
    assert post(client, f"{base}/agenda/{district_item}/outcome",
                {"outcome": "settled", "decision": "区城管局会同街道联合执法，十日内清理"}).status_code == 302
    assert post(client, f"{base}/actions", {"task": "联合执法清理占道经营", "owner": "周局长",
                                            "owner_party": "department", "department_id": str(a.department1),
                                            "due_on": DUE, "agenda_item_id": str(district_item)}).status_code == 302
    aid = in_db(app, a, lambda: db.session.execute(select(ActionItem.id).where(ActionItem.meeting_id == did))
                .scalar_one())
    page = client.get("/d/alpha/meetings/pending?state=settled").get_data(as_text=True)
    assert "交办：甲区第1职能部门 · 联合执法清理占道经营" in page
    client.post("/logout")

    # The department sees its 交办事项 and closes it.
    login(client, "alpha-department")
    assert "待落实的交办事项" in client.get("/d/alpha/").get_data(as_text=True)
    assert "联合执法清理占道经营" in client.get("/d/alpha/meetings/actions").get_data(as_text=True)
    page = client.get(base).get_data(as_text=True)  # the meeting its action item belongs to
    assert "联合执法清理占道经营" in page
    assert f"/meetings/{sid}" not in page and "街道物业管理联席会议" not in page   # not the street's meeting
    assert post(client, f"{base}/attendees", {"party": "other", "name": "x", "organisation": ""}).status_code == 403
    assert post(client, f"/d/alpha/meetings/{did}/actions/{aid}/done",
                {"done_note": "摊点已清理，纳入日常巡查", "back": "actions"}).status_code == 302
    done = in_db(app, a, lambda: (lambda x: (x.done_on, x.done_note))(db.session.get(ActionItem, aid)))
    assert done == (today(), "摊点已清理，纳入日常巡查")
    client.post("/logout")

    # Back down the chain: the street and the community see the district's outcome.
    login(client, "alpha-street")
    page = client.get("/d/alpha/meetings/pending?level=district&state=settled").get_data(as_text=True)
    assert "区城管局会同街道联合执法，十日内清理" in page
    assert client.get(base).status_code == 404      # but not the district's meeting itself
    client.post("/logout")
    login(client, "alpha-community")
    page = client.get(f"/d/alpha/meetings/{cm}").get_data(as_text=True)
    assert 'data-testid="chain-street"' in page and 'data-testid="chain-district"' in page
    assert "区联席会议办理：" in page and "区城管局会同街道联合执法，十日内清理" in page
    assert client.get(base).status_code == 404


def test_who_sees_and_runs_the_district_meeting(app, client, world):
    a = world["alpha"]
    _, _, _, street_item, district_item = _to_district(app, a, client)
    login(client, "alpha-district")
    did, base = _district_meeting(app, a, client)
    client.post("/logout")
    attendee = {"party": "resident", "name": "赵大妈", "organisation": ""}

    # Another street: neither the first street's escalations nor the district meeting.
    other = street2_account(app, a)
    login(client, other)
    page = client.get("/d/alpha/meetings/pending?level=district&state=all").get_data(as_text=True)
    assert "小区外围道路占道经营" not in page and "没有事项" in page
    assert client.get(base).status_code == 404
    assert post(client, f"{base}/attendees", attendee).status_code == 404
    assert post(client, f"{base}/agenda/attach", {"agenda_item_id": str(district_item)}).status_code == 404
    # Its own street meeting cannot take the first street's item either.
    own = schedule(client, title="第二街道会议")
    resp = post(client, f"/d/alpha/meetings/{own}/agenda/attach", {"agenda_item_id": str(district_item)})
    assert resp.status_code == 422 and "请选择本街道待上会的事项" in resp.get_data(as_text=True)
    client.post("/logout")

    # The first street follows its item but does not see or run the district meeting.
    login(client, "alpha-street")
    assert client.get(base).status_code == 404
    assert post(client, f"{base}/attendees", attendee).status_code == 404
    assert post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [], "minutes": ""}).status_code == 404
    assert "全区物业管理联席会议" not in client.get("/d/alpha/meetings/").get_data(as_text=True)
    client.post("/logout")

    # A community cannot reach the district: not its meeting, and its escalation goes to the street.
    login(client, "alpha-community")
    assert client.get(base).status_code == 404
    assert post(client, f"{base}/agenda/attach", {"agenda_item_id": str(district_item)}).status_code == 404
    mid = schedule(client, title="社区会议", compound_id=str(a.compound1))
    mbase = f"/d/alpha/meetings/{mid}"
    post(client, f"{mbase}/attendees", {"party": "community", "name": "王书记", "organisation": ""})
    post(client, f"{mbase}/agenda", {"title": "楼道堆物消防隐患", "detail": "", "demand_id": ""})
    post(client, f"{mbase}/record", {"held_at": FORM_TIME, "present": [attendee_ids(app, a, mid)["王书记"]],
                                     "minutes": ""})
    new_item = in_db(app, a, lambda: db.session.execute(select(AgendaItem.id).where(
        AgendaItem.meeting_id == mid)).scalar_one())
    assert post(client, f"{mbase}/agenda/{new_item}/outcome",
                {"outcome": "escalated", "decision": "请消防部门处理"}).status_code == 302
    copy = in_db(app, a, lambda: db.session.execute(select(AgendaItem.level, AgendaItem.meeting_id).where(
        AgendaItem.escalated_from_id == new_item)).one())
    assert tuple(copy) == ("street", None)
    client.post("/logout")

    # The district's meeting takes only what a street passed on: the community's item is refused.
    login(client, "alpha-district")
    street_copy = in_db(app, a, lambda: db.session.execute(select(AgendaItem.id).where(
        AgendaItem.escalated_from_id == new_item)).scalar_one())
    page = client.get(base).get_data(as_text=True)
    assert "楼道堆物消防隐患" not in page
    resp = post(client, f"{base}/agenda/attach", {"agenda_item_id": str(street_copy)})
    assert resp.status_code == 422 and "请选择街道提交区联席会议的待上会事项" in resp.get_data(as_text=True)
    assert in_db(app, a, lambda: db.session.get(AgendaItem, street_copy).meeting_id) is None
    # The district reads the street's meeting but does not run it.
    street_meeting = in_db(app, a, lambda: db.session.execute(select(Meeting.id).where(
        Meeting.level == "street")).scalars().first())
    assert client.get(f"/d/alpha/meetings/{street_meeting}").status_code == 200
    assert post(client, f"/d/alpha/meetings/{street_meeting}/attendees", attendee).status_code == 403
    client.post("/logout")

    # Beta's staff: nothing of alpha's district meeting.
    login(client, "beta-district")
    assert client.get(base).status_code == 404
    assert client.get(f"/d/beta/meetings/{did}").status_code == 404


def test_bad_input_is_refused_and_nothing_is_written(app, client, world):
    a = world["alpha"]
    _, _, sid, street_item, district_item = _to_district(app, a, client)
    login(client, "alpha-district")
    before = count(app, a, Meeting)
    resp = post(client, "/d/alpha/meetings/new", {"title": "", "kind": "joint", "compound_id": "",
                                                  "scheduled_at": FORM_TIME, "location": ""})
    assert resp.status_code == 422 and "请填写会议名称" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/meetings/new", {"title": "全区会议", "kind": "joint", "compound_id": "999999",
                                                  "scheduled_at": FORM_TIME, "location": ""})
    assert resp.status_code == 422 and "请选择本区的小区" in resp.get_data(as_text=True)
    assert count(app, a, Meeting) == before
    did, base = _district_meeting(app, a, client)
    resp = post(client, f"{base}/agenda/attach", {"agenda_item_id": "abc"})
    assert resp.status_code == 422
    resp = post(client, f"{base}/agenda/attach", {"agenda_item_id": str(street_item)})   # the street's own copy
    assert resp.status_code == 422 and "请选择街道提交区联席会议的待上会事项" in resp.get_data(as_text=True)
    assert count(app, a, AgendaItem, AgendaItem.meeting_id == did) == 0
    post(client, f"{base}/agenda/attach", {"agenda_item_id": str(district_item)})
    # Not held yet: no outcome, no action items.
    resp = post(client, f"{base}/agenda/{district_item}/outcome", {"outcome": "settled", "decision": "x"})
    assert resp.status_code == 422 and "会议尚未召开" in resp.get_data(as_text=True)
    post(client, f"{base}/record", {"held_at": FORM_TIME, "present": list(attendee_ids(app, a, did).values()),
                                    "minutes": ""})
    resp = post(client, f"{base}/agenda/{district_item}/outcome", {"outcome": "settled", "decision": "  "})
    assert resp.status_code == 422 and "请填写议定结果" in resp.get_data(as_text=True)
    action = {"task": "联合执法", "owner": "周局长", "owner_party": "department", "due_on": DUE,
              "agenda_item_id": str(district_item)}
    resp = post(client, f"{base}/actions", {**action, "department_id": ""})
    assert resp.status_code == 422 and "请选择本区在册的职能部门" in resp.get_data(as_text=True)
    early = (today() - timedelta(days=30)).isoformat()
    resp = post(client, f"{base}/actions", {**action, "department_id": str(a.department1), "due_on": early})
    assert resp.status_code == 422 and "完成时限不能早于会议召开日期" in resp.get_data(as_text=True)
    assert count(app, a, ActionItem, ActionItem.meeting_id == did) == 0
    assert in_db(app, a, lambda: (lambda i: (i.outcome, i.decision))(db.session.get(AgendaItem, district_item))) == (
        "pending", "")
    client.post("/logout")

    # The street: passing on an item needs its view; nothing is created without it.
    login(client, "alpha-street")
    sid2 = schedule(client, title="街道会议二")
    base2 = f"/d/alpha/meetings/{sid2}"
    post(client, f"{base2}/agenda", {"title": "私搭乱建", "detail": "", "demand_id": ""})
    post(client, f"{base2}/attendees", {"party": "community", "name": "李主任", "organisation": ""})
    post(client, f"{base2}/record", {"held_at": FORM_TIME, "present": list(attendee_ids(app, a, sid2).values()),
                                     "minutes": ""})
    own = in_db(app, a, lambda: db.session.execute(select(AgendaItem.id).where(
        AgendaItem.meeting_id == sid2)).scalar_one())
    resp = post(client, f"{base2}/agenda/{own}/outcome", {"outcome": "escalated", "decision": ""})
    assert resp.status_code == 422 and "请填写街道意见" in resp.get_data(as_text=True)
    assert count(app, a, AgendaItem, AgendaItem.escalated_from_id == own) == 0
    assert in_db(app, a, lambda: db.session.get(AgendaItem, own).outcome) == "pending"


def test_community_and_street_meetings_keep_their_street(app, world):
    """The CHECK constraints: only a district meeting (item) may have no street."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for level in ("community", "street"):
            db.session.add(Meeting(level=level, kind="joint", title="无街道", street_id=None,
                                   scheduled_at=from_local(datetime(2026, 11, 1, 9))))
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
        db.session.add(AgendaItem(level="street", street_id=None, title="无街道的街道事项"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        db.session.add(Meeting(level="district", kind="joint", title="区联席会议", street_id=None,
                               scheduled_at=from_local(datetime(2026, 11, 1, 9))))
        db.session.commit()
        assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.level == "district")) == 1


def test_a_missed_district_meeting_is_flagged_on_the_district_dashboard(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    assert post(client, "/d/alpha/meetings/cadence/save",
                {"level": "district", "kind": "joint", "every": "quarter"}).status_code == 302
    page = client.get("/d/alpha/meetings/cadence").get_data(as_text=True)
    assert 'data-testid="cadence-district-joint"' in page and "区级联席会议 · 每季度" in page and "全区" in page
    assert "上一期未召开的区级联席会议" in client.get("/d/alpha/").get_data(as_text=True)
    client.post("/logout")
    # Streets and communities neither see the district row nor get its card.
    login(client, "alpha-street")
    assert 'cadence-district-joint' not in client.get("/d/alpha/meetings/cadence").get_data(as_text=True)
    assert "区级联席会议" not in client.get("/d/alpha/").get_data(as_text=True)
    client.post("/logout")

    # A district meeting held in the last finished quarter clears the flag; a street one does not.
    last, _ = cadence.periods("quarter", today(), 2)[0]
    held = from_local(datetime.combine(last + timedelta(days=10), time(9)))

    def add(level, street_id):
        with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
            db.session.add(Meeting(level=level, kind="joint", title="会议", street_id=street_id,
                                   scheduled_at=held, held_at=held, status="held"))
            db.session.commit()
    add("street", a.street1)
    login(client, "alpha-district")
    assert "上一期未召开的区级联席会议" in client.get("/d/alpha/").get_data(as_text=True)
    add("district", None)
    assert "上一期未召开的区级联席会议" not in client.get("/d/alpha/").get_data(as_text=True)
    page = client.get("/d/alpha/meetings/cadence").get_data(as_text=True)
    assert "上一期均已召开" in page.split('data-testid="cadence-district-joint"')[1].split("</div>")[0]
