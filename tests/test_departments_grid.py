"""职能部门 as accounts and 网格员 (issue 16): the district registers its departments; a demand or a
meeting's action item given to a department is accepted, resolved or closed by that department's
own accounts, who see nothing else of the district; a grid worker sees its grid's compounds and
their demands and takes in demands found on its rounds (网格巡查). Bad input writes nothing."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from wuye_saas import policy
from wuye_saas.audit import acting_as
from wuye_saas.credit.models import CreditRecord
from wuye_saas.evaluation.models import Assessment
from wuye_saas.fees.models import Bill
from wuye_saas.publicity.models import LedgerEntry
from wuye_saas.auth.models import Membership
from wuye_saas.demands.models import Demand, DemandEvent
from wuye_saas.extensions import db
from wuye_saas.meetings.models import ActionItem
from wuye_saas.org.models import Department, Household
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .factories import make_user
from .helpers import login, post
from .test_demands import setup_categories, staff_intake
from .test_meetings import FORM_TIME, attendee_ids, schedule


def as_user(client, username):
    client.post("/logout")
    login(client, username)


def in_db(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id):
        return fn()


def demand(app, ns, did) -> Demand:
    def run():
        d = db.session.get(Demand, did)
        db.session.expunge(d)
        return d
    return in_db(app, ns, run)


def second_department_account(app, ns) -> str:
    """An account of alpha's second department (to show one department never sees another's)."""
    def run():
        with acting_as(None, "测试"):
            user = make_user("alpha-department2", "二号部门")
            db.session.flush()
            db.session.add(Membership(user_id=user.id, role="department_staff", department_id=ns.department2))
            db.session.commit()
    in_db(app, ns, run)
    return "alpha-department2"


def test_district_registers_departments_with_clear_messages(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    before = in_db(app, a, lambda: db.session.execute(select(func.count(Department.id))).scalar())
    resp = post(client, "/d/alpha/departments/new", {"name": "", "kind": "城管执法", "contact": "",
                                                         "phone": "", "active": "y"})
    assert resp.status_code == 422 and "请填写部门名称" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/departments/new", {"name": "区市场监管局", "kind": "市场监管",
                                                         "contact": "钱科长", "phone": "0355-1234567", "active": "y"})
    assert resp.status_code == 302
    assert in_db(app, a, lambda: db.session.execute(select(func.count(Department.id))).scalar()) == before + 1
    html = client.get("/d/alpha/departments/").get_data(as_text=True)
    assert "区市场监管局" in html and "钱科长" in html
    # Only the district keeps the register.
    as_user(client, "alpha-community")
    assert post(client, "/d/alpha/departments/new", {"name": "区应急管理局", "kind": "应急管理",
                                                         "active": "y"}).status_code == 403


def test_a_department_accepts_and_resolves_what_was_dispatched_to_it(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    did = int(staff_intake(client, a, cats, title="南门占道经营").headers["Location"].rsplit("/", 1)[1])
    url = f"/d/alpha/demands/{did}"
    # Only a registered, active department of this district: nothing is written otherwise.
    for bad in ("", str(world["beta"].department1)):
        resp = post(client, f"{url}/dispatch", {"assignee_kind": "department", "department_id": bad})
        assert resp.status_code == 422 and "请选择本区在册的职能部门" in resp.get_data(as_text=True)
    in_db(app, a, lambda: (db.session.get(Department, a.department2).__setattr__("active", False),
                           db.session.commit()))
    resp = post(client, f"{url}/dispatch", {"assignee_kind": "department", "department_id": a.department2})
    assert resp.status_code == 422
    d = demand(app, a, did)
    assert (d.status, d.assignee_kind, d.department_id) == ("new", None, None)
    assert post(client, f"{url}/dispatch", {"assignee_kind": "department", "department_id": a.department1,
                                            "note": "请到场处置"}).status_code == 302
    d = demand(app, a, did)
    assert (d.status, d.assignee_kind, d.department_id, d.firm_id) == ("dispatched", "department", a.department1, None)

    # The department's account: its landing card, its list, its steps; the firm never sees it.
    as_user(client, "alpha-department")
    home = client.get("/d/alpha/").get_data(as_text=True)
    assert "待接单诉求" in home
    listed = client.get("/d/alpha/demands/?tab=dispatched").get_data(as_text=True)
    assert "派给本部门的诉求" in listed and d.number in listed
    page = client.get(url).get_data(as_text=True)
    assert "代为登记" not in page and "接单" in page
    assert post(client, f"{url}/accept", {"note": "执法中队已出发"}).status_code == 302
    assert post(client, f"{url}/resolve", {"note": ""}).status_code == 422
    assert post(client, f"{url}/resolve", {"note": "已劝离摊贩，设置提示牌"}).status_code == 302
    # A department does not dispatch or visit.
    assert post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 403
    d = demand(app, a, did)
    assert d.status == "resolved"
    actors = in_db(app, a, lambda: db.session.execute(select(DemandEvent.kind, DemandEvent.actor, DemandEvent.user_id)
                                                      .where(DemandEvent.demand_id == did)
                                                      .order_by(DemandEvent.id)).all())
    accepted = next(e for e in actors if e.kind == "accepted")
    assert accepted.actor == f"{d.assignee_name}（甲区department）"
    assert accepted.user_id == in_db(app, a, lambda: db.session.execute(
        select(Membership.user_id).where(Membership.role == "department_staff")).scalar_one())

    # Another department, the firm and the grid of another branch: 404, never "forbidden".
    for who in (second_department_account(app, a), "alpha-firm"):
        as_user(client, who)
        assert client.get(url).status_code == 404
        assert post(client, f"{url}/accept").status_code == 404
    # The community closes it after the return visit, as for a firm.
    as_user(client, "alpha-community")
    assert post(client, f"{url}/visit", {"satisfaction": "satisfied", "note": "居民满意"}).status_code == 302
    assert demand(app, a, did).status == "closed"


def test_a_department_sees_only_what_was_given_to_it(app, client, world):
    a = world["alpha"]
    login(client, "alpha-department")
    assert client.get("/d/alpha/").status_code == 200
    # Nothing given to it yet: empty lists, no register, no money.
    html = client.get("/d/alpha/demands/").get_data(as_text=True)
    assert "还没有派给本部门的诉求" in html
    assert client.get(f"/d/alpha/compounds/{a.compound1}").status_code == 404
    assert client.get(f"/d/alpha/households/{a.household1}").status_code == 404
    assert client.get(f"/d/alpha/departments/{a.department2}").status_code == 404
    assert client.get(f"/d/alpha/departments/{a.department1}").status_code == 200


def test_meeting_action_item_given_to_a_department_is_closed_by_it(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    mid = schedule(client, compound_id=a.compound1)
    base = f"/d/alpha/meetings/{mid}"
    post(client, f"{base}/attendees", {"party": "community", "name": "王书记", "organisation": ""})
    assert post(client, f"{base}/record", {"held_at": FORM_TIME, "present": [attendee_ids(app, a, mid)["王书记"]],
                                           "minutes": "议定南门占道整治"}).status_code == 302
    due = (today() + timedelta(days=3)).isoformat()
    action = {"task": "清理南门占道经营摊点", "owner": "周建军", "owner_party": "department", "due_on": due,
              "agenda_item_id": ""}
    resp = post(client, f"{base}/actions", {**action, "department_id": ""})
    assert resp.status_code == 422 and "请选择本区在册的职能部门" in resp.get_data(as_text=True)
    assert in_db(app, a, lambda: db.session.execute(select(func.count(ActionItem.id))).scalar()) == 0
    assert post(client, f"{base}/actions", {**action, "department_id": a.department1}).status_code == 302
    aid, dep = in_db(app, a, lambda: db.session.execute(select(ActionItem.id, ActionItem.department_id)).one())
    assert dep == a.department1

    other = second_department_account(app, a)
    as_user(client, other)
    assert client.get(base).status_code == 404
    assert "清理南门占道经营摊点" not in client.get("/d/alpha/meetings/actions").get_data(as_text=True)
    assert post(client, f"{base}/actions/{aid}/done", {"done_note": "x"}).status_code == 404

    as_user(client, "alpha-department")
    assert "待落实的交办事项" in client.get("/d/alpha/").get_data(as_text=True)
    html = client.get("/d/alpha/meetings/actions").get_data(as_text=True)
    assert "清理南门占道经营摊点" in html and "标记完成" in html
    # Only its own action items: it does not run the meeting.
    assert post(client, f"{base}/actions", {**action, "department_id": a.department1}).status_code == 403
    resp = post(client, f"{base}/actions/{aid}/done", {"done_note": "", "back": "actions"})
    assert resp.status_code == 302
    assert "请填写完成情况" in client.get("/d/alpha/meetings/actions").get_data(as_text=True)
    post(client, f"{base}/actions/{aid}/done", {"done_note": "长" * 2001, "back": "actions"})
    assert "完成情况不能超过 2000 个字" in client.get("/d/alpha/meetings/actions").get_data(as_text=True)
    assert in_db(app, a, lambda: db.session.get(ActionItem, aid).done_on) is None
    assert post(client, f"{base}/actions/{aid}/done", {"done_note": "摊点已清理，纳入每日巡查",
                                                       "back": "actions"}).status_code == 302
    done = in_db(app, a, lambda: (lambda x: (x.done_on, x.done_note))(db.session.get(ActionItem, aid)))
    assert done == (today(), "摊点已清理，纳入每日巡查")
    as_user(client, "alpha-community")
    assert "摊点已清理，纳入每日巡查" in client.get(base).get_data(as_text=True)


def test_grid_worker_sees_its_grid_and_takes_in_patrol_demands(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-grid")
    form = client.get("/d/alpha/demands/new").get_data(as_text=True)
    assert re.search(r'<option (selected value="patrol"|value="patrol" selected)', form)
    # Only its grid's compounds: another grid's compound is refused, nothing written.
    resp = staff_intake(client, a, cats, compound_id=a.compound2, channel="patrol")
    assert resp.status_code == 422 and "请选择您辖区内的小区" in resp.get_data(as_text=True)
    assert in_db(app, a, lambda: db.session.execute(select(func.count(Demand.id))).scalar()) == 0
    resp = staff_intake(client, a, cats, channel="patrol", title="5号楼外墙瓷砖松动")
    assert resp.status_code == 302
    did = int(resp.headers["Location"].rsplit("/", 1)[1])
    d = demand(app, a, did)
    assert (d.channel, d.compound_id, d.status) == ("patrol", a.compound1, "new")
    assert "网格内待派单诉求" in client.get("/d/alpha/").get_data(as_text=True)
    # It follows the demand but the community dispatches it.
    assert post(client, f"/d/alpha/demands/{did}/dispatch",
                {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 403
    assert client.get(f"/d/alpha/compounds/{a.compound1}").status_code == 200
    assert client.get(f"/d/alpha/compounds/{a.compound2}").status_code == 404
    # Its grid's people and demands and what is public anyway (the compounds' accounts); not the
    # residents' bills, the evaluation of firms or the credit file.
    def reach():
        mem = db.session.execute(select(Membership).where(Membership.role == "grid_worker")).scalar_one()
        return {model.__tablename__: policy.reaches(mem, model)
                for model in (Household, Demand, Bill, LedgerEntry, Assessment, CreditRecord)}
    assert in_db(app, a, reach) == {"household": True, "demand": True, "bill": False, "ledger_entry": True,
                                    "assessment": False, "credit_record": False}
