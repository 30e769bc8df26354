"""Joint meetings (联席会议) through the web: schedule → attendees and agenda (demands, free text)
→ record the meeting → settle or escalate each item → action items → publish the minutes on the
compound's board (hash chain); the street takes escalated matters on its own meeting; who may
see and change what; bad input refused with nothing written."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.demands.models import Demand, DemandCategory, DemandEvent
from wuye_saas.extensions import db
from wuye_saas.meetings.models import ActionItem, AgendaItem, Meeting, MeetingAttendee
from wuye_saas.publicity import chain
from wuye_saas.publicity.models import Objection, Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import SHANGHAI, now, today

from .helpers import login, post

YESTERDAY = (datetime.now(SHANGHAI) - timedelta(days=1)).replace(hour=14, minute=30, second=0, microsecond=0,
                                                                 tzinfo=None)
FORM_TIME = YESTERDAY.strftime("%Y-%m-%dT%H:%M")


def in_db(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id):
        return fn()


def count(app, ns, model, *where):
    return in_db(app, ns, lambda: db.session.execute(select(func.count(model.id)).where(*where)).scalar())


def add_demand(app, ns, compound_id, title="3号楼地下车库渗水", status="dispatched", number="SQ20260101-0001"):
    def run():
        with acting_as(None, "测试"):
            cat = db.session.execute(select(DemandCategory).filter_by(name="维修")).scalar_one_or_none()
            if cat is None:
                cat = DemandCategory(name="维修", deadline_hours=72, urgent_deadline_hours=24)
                db.session.add(cat)
                db.session.flush()
            d = Demand(number=number, compound_id=compound_id, category_id=cat.id, channel="hotline_12345",
                       title=title, description="雨后车库积水", status=status, deadline_at=now() + timedelta(days=2))
            db.session.add(d)
            db.session.commit()
            return d.id
    return in_db(app, ns, run)


def add_meeting(app, ns, **kw):
    """A meeting written directly (for scope tests): community 1's, about compound 1, planned."""
    def run():
        with acting_as(None, "测试"):
            values = {"level": "community", "kind": "joint", "title": "探查会议", "street_id": ns.street1,
                      "community_id": ns.community1, "compound_id": ns.compound1,
                      "scheduled_at": now() - timedelta(days=1), "status": "planned", **kw}
            mt = Meeting(**values)
            db.session.add(mt)
            db.session.commit()
            return mt.id
    return in_db(app, ns, run)


def schedule(client, slug="alpha", **fields):
    data = {"title": "幸福里小区三方联席会议", "kind": "joint", "compound_id": "", "scheduled_at": FORM_TIME,
            "location": "社区党群服务中心二楼", **fields}
    resp = post(client, f"/d/{slug}/meetings/new", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def attendee_ids(app, ns, meeting_id):
    return in_db(app, ns, lambda: {a.name: a.id for a in db.session.execute(
        select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting_id)).scalars()})


def item_ids(app, ns, meeting_id):
    return in_db(app, ns, lambda: {i.title: i.id for i in db.session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.id)).scalars()})


def test_community_meeting_from_schedule_to_published_minutes(app, client, world):
    ns = world["alpha"]
    demand = add_demand(app, ns, ns.compound1)
    add_demand(app, ns, ns.compound1, title="已关闭的诉求", status="closed", number="SQ20260101-0002")
    add_demand(app, ns, ns.compound2, title="别的社区的诉求", number="SQ20260101-0003")
    login(client, "alpha-community")
    mid = schedule(client, compound_id=str(ns.compound1))
    base = f"/d/alpha/meetings/{mid}"

    mt = in_db(app, ns, lambda: db.session.get(Meeting, mid))
    # Typed as Shanghai wall-clock, stored as naive UTC (8 hours earlier).
    assert mt.scheduled_at == YESTERDAY - timedelta(hours=8)
    assert (mt.level, mt.street_id, mt.community_id, mt.compound_id, mt.status) == (
        "community", ns.street1, ns.community1, ns.compound1, "planned")

    page = client.get(base).get_data(as_text=True)
    # Quick-add offers the compound's committee members and the serving firm.
    assert "委员1" in page and "甲区1号小区业委会" in page and "甲区第1物业公司" in page
    # The demand picker: open demands of the meeting's compound only.
    assert "SQ20260101-0001" in page
    assert "SQ20260101-0002" not in page and "SQ20260101-0003" not in page

    for party, name, org in (("community", "王书记", "甲区第1社区党委"), ("committee", "委员1", "甲区1号小区业委会"),
                             ("firm", "李经理", "甲区第1物业公司")):
        assert post(client, f"{base}/attendees", {"party": party, "name": name, "organisation": org}).status_code == 302
    people = attendee_ids(app, ns, mid)
    assert set(people) == {"王书记", "委员1", "李经理"}
    # Once on the list, a suggestion is no longer offered.
    assert 'value="委员1"' not in client.get(base).get_data(as_text=True)

    assert post(client, f"{base}/agenda", {"title": "", "detail": "", "demand_id": str(demand)}).status_code == 302
    assert post(client, f"{base}/agenda", {"title": "加装电梯费用分摊", "detail": "1号楼低层住户有异议",
                                           "demand_id": ""}).status_code == 302
    items = item_ids(app, ns, mid)
    assert list(items) == ["3号楼地下车库渗水", "加装电梯费用分摊"]

    # Nothing is decided before the meeting is recorded as held.
    resp = post(client, f"{base}/agenda/{items['3号楼地下车库渗水']}/outcome", {"outcome": "settled", "decision": "物业维修"})
    assert resp.status_code == 422 and "会议尚未召开" in resp.get_data(as_text=True)

    resp = post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [people["王书记"], people["委员1"]],
                                           "minutes": "三方就车库渗水和电梯费用分摊进行了协商。"})
    assert resp.status_code == 302
    mt = in_db(app, ns, lambda: db.session.get(Meeting, mid))
    assert mt.status == "held" and mt.held_at == YESTERDAY - timedelta(hours=8)
    present = in_db(app, ns, lambda: {a.name: a.present for a in db.session.execute(
        select(MeetingAttendee).where(MeetingAttendee.meeting_id == mid)).scalars()})
    assert present == {"王书记": True, "委员1": True, "李经理": False}

    # Settling the demand's item puts the decision on the demand's timeline.
    assert post(client, f"{base}/agenda/{items['3号楼地下车库渗水']}/outcome",
                {"outcome": "settled", "decision": "物业一周内完成防水修补，费用从公共收益列支"}).status_code == 302
    notes = in_db(app, ns, lambda: [(e.kind, e.note) for e in db.session.execute(
        select(DemandEvent).where(DemandEvent.demand_id == demand)).scalars()])
    assert notes == [("note", "联席会议议定：物业一周内完成防水修补，费用从公共收益列支")]

    # Escalation: exactly one street item; a second escalation is refused.
    lift = items["加装电梯费用分摊"]
    assert post(client, f"{base}/agenda/{lift}/outcome",
                {"outcome": "escalated", "decision": "涉及规划和住建审批，提请街道协调"}).status_code == 302
    resp = post(client, f"{base}/agenda/{lift}/outcome", {"outcome": "escalated", "decision": "再提交一次"})
    assert resp.status_code == 422 and "提交街道" in resp.get_data(as_text=True)
    street_items = in_db(app, ns, lambda: [(i.street_id, i.community_id, i.compound_id, i.meeting_id, i.title,
                                            i.outcome, i.detail) for i in db.session.execute(
        select(AgendaItem).where(AgendaItem.escalated_from_id == lift)).scalars()])
    assert len(street_items) == 1
    street_id, community_id, compound_id, on_meeting, title, outcome, detail = street_items[0]
    assert (street_id, community_id, compound_id, on_meeting, title, outcome) == (
        ns.street1, ns.community1, ns.compound1, None, "加装电梯费用分摊", "pending")
    assert detail.startswith("1号楼低层住户有异议\n") and detail.endswith("意见：涉及规划和住建审批，提请街道协调")

    # Action items: a deadline before the meeting day is refused and nothing is written.
    before = (YESTERDAY.date() - timedelta(days=1)).isoformat()
    resp = post(client, f"{base}/actions", {"task": "车库防水修补", "owner": "李经理", "owner_party": "firm",
                                            "due_on": before, "agenda_item_id": str(items["3号楼地下车库渗水"])})
    assert resp.status_code == 422
    assert f"完成时限不能早于会议召开日期（{YESTERDAY.date():%Y-%m-%d}）" in resp.get_data(as_text=True)
    assert count(app, ns, ActionItem, ActionItem.meeting_id == mid) == 0
    # Due on the meeting day (yesterday): accepted, and shown overdue while not done.
    assert post(client, f"{base}/actions", {"task": "车库防水修补", "owner": "李经理", "owner_party": "firm",
                                            "due_on": YESTERDAY.date().isoformat(),
                                            "agenda_item_id": str(items["3号楼地下车库渗水"])}).status_code == 302
    due = today() + timedelta(days=14)
    assert post(client, f"{base}/actions", {"task": "张贴维修公告", "owner": "委员1", "owner_party": "committee",
                                            "due_on": due.isoformat(), "agenda_item_id": ""}).status_code == 302
    page = client.get(base).get_data(as_text=True)
    late = (today() - YESTERDAY.date()).days   # 1, or 2 once the run has crossed midnight
    assert page.count('data-testid="overdue"') == 1 and f"已逾期 {late} 天" in page
    actions = in_db(app, ns, lambda: {a.task: a.id for a in db.session.execute(
        select(ActionItem).where(ActionItem.meeting_id == mid)).scalars()})
    resp = post(client, f"{base}/actions/{actions['车库防水修补']}/done", {"done_note": ""})
    assert resp.status_code == 422 and "请填写完成情况" in resp.get_data(as_text=True)
    assert post(client, f"{base}/actions/{actions['车库防水修补']}/done",
                {"done_note": "已完成修补并闭水试验"}).status_code == 302
    assert 'data-testid="overdue"' not in client.get(base).get_data(as_text=True)

    # Publish the minutes: one publication on the compound's chain with the expected lines.
    assert post(client, f"{base}/publish").status_code == 302
    pub = in_db(app, ns, lambda: db.session.execute(select(Publication).where(
        Publication.kind == "meeting_minutes")).scalar_one())
    mt = in_db(app, ns, lambda: db.session.get(Meeting, mid))
    assert (mt.status, mt.publication_id) == ("published", pub.id)
    assert pub.compound_id == ns.compound1 and pub.title == "甲区1号小区联席会议纪要：幸福里小区三方联席会议"
    held = YESTERDAY
    assert [(ln["label"], ln["value"]) for ln in pub.content["lines"]] == [
        ("会议", "幸福里小区三方联席会议（联席会议）"),
        ("召集单位", "甲区第1社区党委"),
        ("召开时间", f"{held.year}年{held.month:02d}月{held.day:02d}日 14:30"),
        ("地点", "社区党群服务中心二楼"),
        ("参会 · 社区", "王书记（甲区第1社区党委）"),
        ("参会 · 业委会/物管会", "委员1（甲区1号小区业委会）"),
        ("缺席", "李经理（甲区第1物业公司）"),
        ("议题1 · 3号楼地下车库渗水", "已议定：物业一周内完成防水修补，费用从公共收益列支"),
        ("议题2 · 加装电梯费用分摊", "提交街道联席会议研究。社区意见：涉及规划和住建审批，提请街道协调"),
        ("落实事项1", f"车库防水修补（议题1）；责任人：李经理（物业服务企业）；完成时限：{held.year}年{held.month:02d}月{held.day:02d}日"),
        ("落实事项2", f"张贴维修公告；责任人：委员1（业委会/物管会）；完成时限：{due.year}年{due.month:02d}月{due.day:02d}日"),
        ("会议纪要", "三方就车库渗水和电梯费用分摊进行了协商。"),
    ]

    # On the public board, and the chain verifies.
    client.post("/logout")
    board = client.get(f"/p/alpha/c/{ns.compound1}/").get_data(as_text=True)
    assert "甲区1号小区联席会议纪要：幸福里小区三方联席会议" in board and "联席会议纪要" in board
    shown = client.get(f"/p/alpha/c/{ns.compound1}/p/{pub.seq}").get_data(as_text=True)
    assert 'data-testid="verdict"' in shown and "完整" in shown
    assert "参会 · 社区" in shown and "车库防水修补（议题1）" in shown
    assert in_db(app, ns, lambda: chain.verify(ns.compound1).intact)

    # Publishing twice is refused; the record is frozen, the action follow-up is not.
    login(client, "alpha-community")
    resp = post(client, f"{base}/publish")
    assert resp.status_code == 422 and "不能重复公示" in resp.get_data(as_text=True)
    assert count(app, ns, Publication, Publication.kind == "meeting_minutes") == 1
    resp = post(client, f"{base}/attendees", {"party": "resident", "name": "赵大妈", "organisation": ""})
    assert resp.status_code == 422 and "已公示" in resp.get_data(as_text=True)
    assert post(client, f"{base}/actions/{actions['张贴维修公告']}/done",
                {"done_note": "公告已张贴"}).status_code == 302

    # The committee can read the minutes but not raise a 质询 on them (nobody would answer it).
    client.post("/logout")
    login(client, "alpha-committee")
    resp = post(client, f"/d/alpha/checks/publications/{pub.id}/objections", {"line": "minutes", "question": "为何未通知全体业主？"})
    assert resp.status_code == 422 and "不适用质询" in resp.get_data(as_text=True)
    assert count(app, ns, Objection) == 0

    # Every write left an audit event.
    entities = in_db(app, ns, lambda: set(db.session.execute(select(AuditEvent.entity).where(
        AuditEvent.tenant_id == ns.tenant_id)).scalars()))
    assert {"meeting", "meeting_attendee", "agenda_item", "action_item", "publication", "demand_event"} <= entities
    created = in_db(app, ns, lambda: db.session.execute(select(AuditEvent).where(
        AuditEvent.entity == "meeting", AuditEvent.entity_id == mid, AuditEvent.action == "create")).scalar_one())
    assert created.actor == "甲区community" and created.changes["title"] == "幸福里小区三方联席会议"


def _escalated_item(app, ns, client):
    """Community 1's held meeting escalates one item; the street's copy's id."""
    login(client, "alpha-community")
    mid = schedule(client, title="社区联席会议", compound_id=str(ns.compound1))
    base = f"/d/alpha/meetings/{mid}"
    post(client, f"{base}/attendees", {"party": "community", "name": "王书记", "organisation": "社区党委"})
    post(client, f"{base}/agenda", {"title": "小区外围道路占道经营", "detail": "", "demand_id": ""})
    item = item_ids(app, ns, mid)["小区外围道路占道经营"]
    post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [attendee_ids(app, ns, mid)["王书记"]],
                                    "minutes": ""})
    assert post(client, f"{base}/agenda/{item}/outcome",
                {"outcome": "escalated", "decision": "需城管执法，提请街道"}).status_code == 302
    client.post("/logout")
    street_item = in_db(app, ns, lambda: db.session.execute(select(AgendaItem.id).where(
        AgendaItem.escalated_from_id == item)).scalar_one())
    return mid, item, street_item


def test_street_meeting_takes_the_escalated_item_on_its_agenda(app, client, world):
    ns = world["alpha"]
    community_meeting, item, street_item = _escalated_item(app, ns, client)

    login(client, "alpha-street")
    pending = client.get("/d/alpha/meetings/pending").get_data(as_text=True)
    assert "小区外围道路占道经营" in pending and "待上会" in pending

    sid = schedule(client, title="街道党建联席会议", kind="joint")
    mt = in_db(app, ns, lambda: db.session.get(Meeting, sid))
    assert (mt.level, mt.street_id, mt.community_id) == ("street", ns.street1, None)
    base = f"/d/alpha/meetings/{sid}"
    assert "小区外围道路占道经营" in client.get(base).get_data(as_text=True)  # offered for the agenda
    assert post(client, f"{base}/agenda/attach", {"agenda_item_id": str(street_item)}).status_code == 302
    assert in_db(app, ns, lambda: db.session.get(AgendaItem, street_item).meeting_id) == sid
    # Taken: no longer pending, and cannot be taken twice.
    assert "没有待上会的事项" in client.get("/d/alpha/meetings/pending").get_data(as_text=True)
    resp = post(client, f"{base}/agenda/attach", {"agenda_item_id": str(street_item)})
    assert resp.status_code == 422 and "请选择本街道待上会的事项" in resp.get_data(as_text=True)

    post(client, f"{base}/attendees", {"party": "department", "name": "刘队长", "organisation": "街道综合执法队"})
    post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [attendee_ids(app, ns, sid)["刘队长"]],
                                    "minutes": ""})
    # A street meeting may pass it on to the district (test_district_meetings), with its view.
    resp = post(client, f"{base}/agenda/{street_item}/outcome", {"outcome": "escalated", "decision": " "})
    assert resp.status_code == 422 and "请填写街道意见" in resp.get_data(as_text=True)
    assert post(client, f"{base}/agenda/{street_item}/outcome",
                {"outcome": "settled", "decision": "综合执法队本周内清理占道摊点"}).status_code == 302
    assert in_db(app, ns, lambda: db.session.get(AgendaItem, street_item).outcome) == "settled"
    # No compound: the minutes have no board to go to.
    resp = post(client, f"{base}/publish")
    assert resp.status_code == 422 and "没有关联小区" in resp.get_data(as_text=True)
    client.post("/logout")

    # The community sees what the street decided on its own meeting's page.
    login(client, "alpha-community")
    page = client.get(f"/d/alpha/meetings/{community_meeting}").get_data(as_text=True)
    assert "街道办理：" in page and "综合执法队本周内清理占道摊点" in page
    # Community staff may read the street meeting but not change it.
    assert client.get(base).status_code == 200
    assert post(client, f"{base}/attendees", {"party": "community", "name": "王书记",
                                              "organisation": ""}).status_code == 403


def test_cancelling_a_street_meeting_returns_its_escalated_items(app, client, world):
    ns = world["alpha"]
    _, _, street_item = _escalated_item(app, ns, client)
    login(client, "alpha-street")
    sid = schedule(client, title="街道会议")
    post(client, f"/d/alpha/meetings/{sid}/agenda/attach", {"agenda_item_id": str(street_item)})
    post(client, f"/d/alpha/meetings/{sid}/agenda", {"title": "街道自己的议题", "detail": "", "demand_id": ""})
    page = client.get(f"/d/alpha/meetings/{sid}?confirm=delete").get_data(as_text=True)
    assert "确认取消会议" in page
    assert post(client, f"/d/alpha/meetings/{sid}/delete").status_code == 302
    assert count(app, ns, Meeting, Meeting.id == sid) == 0
    assert count(app, ns, AgendaItem, AgendaItem.title == "街道自己的议题") == 0
    assert in_db(app, ns, lambda: db.session.get(AgendaItem, street_item).meeting_id) is None


def test_only_the_meetings_own_staff_change_it_others_read_or_get_404(app, client, world):
    ns = world["alpha"]
    own = add_meeting(app, ns, title="本社区会议")
    other_community = add_meeting(app, ns, title="别的社区会议", street_id=ns.street2, community_id=ns.community2,
                                  compound_id=ns.compound2)
    street = add_meeting(app, ns, title="街道会议", level="street", community_id=None, compound_id=None)
    no_compound = add_meeting(app, ns, title="不限小区的会议", compound_id=None)
    attendee = {"party": "resident", "name": "赵大妈", "organisation": ""}

    def expect(user, meeting_id, get, post_status):
        login(client, user)
        assert client.get(f"/d/alpha/meetings/{meeting_id}").status_code == get, (user, meeting_id)
        assert post(client, f"/d/alpha/meetings/{meeting_id}/attendees", attendee).status_code == post_status, (
            user, meeting_id)
        client.post("/logout")

    expect("alpha-community", own, 200, 302)
    expect("alpha-community", other_community, 404, 404)
    expect("alpha-community", street, 200, 403)          # sees its street's meetings, runs none
    expect("alpha-street", own, 200, 403)                # sees its communities' meetings, runs street ones
    expect("alpha-street", street, 200, 302)
    expect("alpha-firm", own, 200, 403)                  # read-only: the compound it serves
    expect("alpha-firm", other_community, 404, 404)
    expect("alpha-firm", no_compound, 404, 404)
    expect("alpha-committee", own, 200, 403)
    expect("alpha-district", other_community, 200, 403)
    expect("alpha-assessor", own, 404, 404)
    expect("beta-community", own, 404, 404)
    assert in_db(app, ns, lambda: sorted(db.session.execute(select(MeetingAttendee.meeting_id)).scalars())) == [
        own, street]

    # The firm's page is read-only: no forms to change the meeting.
    login(client, "alpha-firm")
    page = client.get(f"/d/alpha/meetings/{own}").get_data(as_text=True)
    assert "赵大妈" in page and "添加参会人员" not in page and "列入议程" not in page
    listing = client.get("/d/alpha/meetings/").get_data(as_text=True)
    assert "本社区会议" in listing and "别的社区会议" not in listing and "不限小区的会议" not in listing
    assert client.get("/d/alpha/meetings/pending").status_code == 403
    assert client.get("/d/alpha/meetings/new").status_code == 403


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(app, client, world):
    ns = world["alpha"]
    login(client, "alpha-community")
    resp = post(client, "/d/alpha/meetings/new", {"title": "", "kind": "joint", "compound_id": "",
                                                  "scheduled_at": FORM_TIME, "location": ""})
    assert resp.status_code == 422 and "请填写会议名称" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/meetings/new", {"title": "会议", "kind": "joint", "compound_id": "",
                                                  "scheduled_at": "", "location": ""})
    assert resp.status_code == 422 and "请填写会议时间" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/meetings/new", {"title": "会议", "kind": "joint", "compound_id": str(ns.compound2),
                                                  "scheduled_at": FORM_TIME, "location": ""})
    assert resp.status_code == 422 and "请选择本社区的小区" in resp.get_data(as_text=True)
    assert count(app, ns, Meeting) == 0

    mid = schedule(client, compound_id=str(ns.compound1))
    base = f"/d/alpha/meetings/{mid}"
    resp = post(client, f"{base}/attendees", {"party": "committee", "name": "  ", "organisation": "业委会"})
    assert resp.status_code == 422 and "请填写参会人员姓名" in resp.get_data(as_text=True)
    assert count(app, ns, MeetingAttendee) == 0
    resp = post(client, f"{base}/agenda", {"title": "", "detail": "说明", "demand_id": ""})
    assert resp.status_code == 422 and "请填写议题，或选择一件诉求" in resp.get_data(as_text=True)
    resp = post(client, f"{base}/agenda", {"title": "", "detail": "", "demand_id": "999999"})
    assert resp.status_code == 422 and "请选择本次会议范围内未关闭" in resp.get_data(as_text=True)
    assert count(app, ns, AgendaItem) == 0

    # Recording: attendees first; not in the future; someone present.
    resp = post(client, f"{base}/record", {"held_at": FORM_TIME, "minutes": ""})
    assert resp.status_code == 422 and "请先登记参会人员" in resp.get_data(as_text=True)
    post(client, f"{base}/attendees", {"party": "community", "name": "王书记", "organisation": ""})
    person = attendee_ids(app, ns, mid)["王书记"]
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    resp = post(client, f"{base}/record", {"held_at": tomorrow, "present": [person], "minutes": "纪要"})
    assert resp.status_code == 422 and "召开时间不能晚于现在" in resp.get_data(as_text=True)
    resp = post(client, f"{base}/record", {"held_at": FORM_TIME, "minutes": "纪要"})
    assert resp.status_code == 422 and "请勾选出席会议的人员" in resp.get_data(as_text=True)
    # Action items wait for the meeting to be held.
    resp = post(client, f"{base}/actions", {"task": "修补", "owner": "李经理", "owner_party": "firm",
                                            "due_on": today().isoformat(), "agenda_item_id": ""})
    assert resp.status_code == 422 and "会议尚未召开" in resp.get_data(as_text=True)
    mt = in_db(app, ns, lambda: db.session.get(Meeting, mid))
    assert (mt.status, mt.held_at, mt.minutes) == ("planned", None, "")
    assert count(app, ns, ActionItem) == 0

    # Publishing needs a held meeting whose items all have an outcome.
    post(client, f"{base}/agenda", {"title": "楼道堆物清理", "detail": "", "demand_id": ""})
    resp = post(client, f"{base}/publish")
    assert resp.status_code == 422 and "会议尚未召开" in resp.get_data(as_text=True)
    post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [person], "minutes": ""})
    resp = post(client, f"{base}/publish")
    assert resp.status_code == 422 and "还有 1 个议题未议定" in resp.get_data(as_text=True)
    resp = post(client, f"{base}/actions", {"task": "", "owner": "", "owner_party": "firm", "due_on": "",
                                            "agenda_item_id": ""})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写落实事项" in body and "请填写责任人" in body and "请填写完成时限" in body
    assert count(app, ns, Publication, Publication.kind == "meeting_minutes") == 0
    assert count(app, ns, ActionItem) == 0


def test_meeting_list_tabs_filters_and_pages(app, client, world):
    ns = world["alpha"]
    for i in range(23):
        add_meeting(app, ns, title=f"例会{i:02d}", kind="bench" if i % 2 else "joint",
                    scheduled_at=now() + timedelta(days=i + 1))
    add_meeting(app, ns, title="已开的会", status="held", held_at=now() - timedelta(days=1))
    login(client, "alpha-community")
    first = client.get("/d/alpha/meetings/?tab=upcoming").get_data(as_text=True)
    assert first.count("data-meeting=") == 20 and "共 23 条" in first
    assert first.index("例会00") < first.index("例会01")  # the next meeting first
    assert client.get("/d/alpha/meetings/?tab=upcoming&page=2").get_data(as_text=True).count("data-meeting=") == 3
    held = client.get("/d/alpha/meetings/?tab=held").get_data(as_text=True)
    assert held.count("data-meeting=") == 1 and "已开的会" in held
    bench = client.get("/d/alpha/meetings/?kind=bench").get_data(as_text=True)
    assert bench.count("data-meeting=") == 11
    assert "没有符合条件的会议" in client.get("/d/alpha/meetings/?q=不存在").get_data(as_text=True)
    # HTMX gets the results partial only.
    part = client.get("/d/alpha/meetings/?kind=joint", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in part and part.count("data-meeting=") == 13
