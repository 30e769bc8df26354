"""党员志愿者: the register (双报到), teams, tasks claimed and finished with hours and points,
exchanges within the balance, and 党员接单: a demand dispatched to a registered volunteer."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from wuye_saas.audit import acting_as
from wuye_saas.demands.models import Demand
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today
from wuye_saas.volunteers.models import PointExchange, Volunteer, VolunteerTask, VolunteerTeam

from .helpers import login, post
from .test_demands import as_user, setup_categories, staff_intake

BASE = "/d/alpha/volunteers"


def _volunteer(a, **over):
    data = {"community_id": a.community1, "name": "郝建国", "organisation": "区住建局机关党支部",
            "is_party_member": "y", "reported_on": str(today() - timedelta(days=30)), "team_id": "",
            "building_id": str(a.building1), "area_note": "2单元", "phone": "13912345678", "active": "y"}
    data.update(over)
    return data


def _id(resp) -> int:
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _count(app, ns, model) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.scalar(select(func.count()).select_from(model))


def test_register_a_party_member_who_reported_to_the_community(app, client, world):
    a, b = world["alpha"], world["beta"]
    login(client, "alpha-community")
    vid = _id(post(client, f"{BASE}/new", _volunteer(a)))
    page = client.get(f"{BASE}/{vid}").get_data(as_text=True)
    assert "郝建国" in page and "139****5678" in page and "13912345678" not in page and "1号楼" in page
    cases = [
        (dict(name=""), "请填写姓名"),
        (dict(is_party_member="", reported_on=str(today())), "只有党员登记到社区报到的日期"),
        (dict(reported_on=str(today() + timedelta(days=1))), "报到日期不能晚于今天"),
        (dict(building_id=str(a.building2)), "不是有效的选择"),     # another community's building
        (dict(community_id=str(a.community2)), "不是有效的选择"),
        (dict(phone="1391234"), None),                              # 7 digits: accepted
        (dict(phone="12ab"), "联系电话应为 7–12 位数字"),
    ]
    for over, message in cases:
        resp = post(client, f"{BASE}/new", _volunteer(a, **over))
        if message is None:
            assert resp.status_code == 302
            continue
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), (over, message)
    assert _count(app, a, Volunteer) == 2
    # Who sees the register: staff in scope; not the firm, the committee, another district.
    for user in ("alpha-street", "alpha-district"):
        as_user(client, user)
        assert client.get(f"{BASE}/{vid}").status_code == 200
    for user in ("alpha-firm", "alpha-committee", "alpha-assessor", "beta-community"):
        as_user(client, user)
        assert client.get(f"/d/{user.split('-')[0]}/volunteers/{vid}").status_code in (404,), user
    as_user(client, "alpha-district")
    assert post(client, f"{BASE}/new", _volunteer(a, name="区里")).status_code == 403


def test_tasks_are_claimed_finished_and_points_exchanged_within_the_balance(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    vid = _id(post(client, f"{BASE}/new", _volunteer(a)))
    assert post(client, f"{BASE}/teams/new", {"community_id": a.community1, "name": "红色轻骑兵", "leader": "李军",
                                             "note": ""}).status_code == 302
    resp = post(client, f"{BASE}/teams/new", {"community_id": a.community1, "name": "红色轻骑兵", "leader": "",
                                             "note": ""})
    assert resp.status_code == 422 and "本社区已有“红色轻骑兵”" in resp.get_data(as_text=True)
    tid = _id(post(client, f"{BASE}/tasks/new", {"community_id": a.community1, "kind": "task",
                                                 "title": "3 号楼楼道清理", "detail": "", "compound_id": a.compound1}))
    # Claim: one volunteer or one team, not both, not neither.
    with app.app_context(), tenant_scope(a.tenant_id):
        team = db.session.scalar(select(VolunteerTeam.id))
    resp = post(client, f"{BASE}/tasks/{tid}/claim", {"volunteer_id": vid, "team_id": team})
    assert resp.status_code == 422 and "二选一" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/tasks/{tid}/claim", {"volunteer_id": vid, "team_id": ""}).status_code == 302
    resp = post(client, f"{BASE}/tasks/{tid}/claim", {"volunteer_id": vid, "team_id": ""})
    assert resp.status_code == 422 and "该任务已被认领" in resp.get_data(as_text=True)
    # Finish with hours and points.
    resp = post(client, f"{BASE}/tasks/{tid}/finish", {"hours": "25", "points": "5", "result": "清理完毕"})
    assert resp.status_code == 422 and "服务时长不能超过 24 小时" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/tasks/{tid}/finish", {"hours": "2.55", "points": "5", "result": "清理完毕"})
    assert resp.status_code == 422 and "最多保留 1 位小数" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/tasks/{tid}/finish", {"hours": "2.5", "points": "12",
                                                      "result": "清理杂物 3 车"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        t = db.session.get(VolunteerTask, tid)
        assert (t.state, t.hours_tenths, t.points, t.done_on) == ("done", 25, 12, today())
    # Exchanges: within the balance only.
    resp = post(client, f"{BASE}/{vid}/exchange", {"points": "13", "item": "洗衣液"})
    assert resp.status_code == 422 and "积分余额不足：现有 12 分" in resp.get_data(as_text=True)
    assert _count(app, a, PointExchange) == 0
    assert post(client, f"{BASE}/{vid}/exchange", {"points": "10", "item": "洗衣液"}).status_code == 302
    page = client.get(f"{BASE}/{vid}").get_data(as_text=True)
    assert "2 分" in page and "洗衣液" in page and "2.5 小时" in page
    resp = post(client, f"{BASE}/{vid}/exchange", {"points": "3", "item": "毛巾"})
    assert resp.status_code == 422 and "现有 2 分" in resp.get_data(as_text=True)
    # The counts by community.
    html = client.get(f"{BASE}/").get_data(as_text=True)
    assert "甲区第1社区" in html and "郝建国" in html


def test_party_member_takes_a_demand(app, client, world):
    """党员接单: dispatch names a registered volunteer; the task follows the demand; points are
    recorded only once the demand is resolved."""
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    vid = _id(post(client, f"{BASE}/new", _volunteer(a)))
    other = _id(post(client, f"{BASE}/new", _volunteer(a, name="王芳", is_party_member="", reported_on="")))
    demand_id = _id(staff_intake(client, a, cats, title="独居老人家中水管漏水"))
    url = f"/d/alpha/demands/{demand_id}/dispatch"
    resp = post(client, url, {"assignee_kind": "volunteer", "volunteer_id": ""})
    assert resp.status_code == 422 and "请选择本社区在册的党员志愿者" in resp.get_data(as_text=True)
    # A volunteer of another community cannot take it.
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        far = Volunteer(community_id=a.community2, name="外社区", organisation="", area_note="", phone="")
        db.session.add(far)
        db.session.commit()
        far_id = far.id
    resp = post(client, url, {"assignee_kind": "volunteer", "volunteer_id": far_id})
    assert resp.status_code == 422
    assert post(client, url, {"assignee_kind": "volunteer", "volunteer_id": vid}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.get(Demand, demand_id)
        task = db.session.execute(select(VolunteerTask).where(VolunteerTask.demand_id == demand_id)).scalar_one()
        assert (d.assignee_kind, d.assignee_name) == ("volunteer", "郝建国")
        assert (task.kind, task.state, task.volunteer_id) == ("demand", "claimed", vid)
        tid = task.id
    # Dispatched again to another volunteer: the task moves with it.
    assert post(client, url, {"assignee_kind": "volunteer", "volunteer_id": other}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(VolunteerTask, tid).volunteer_id == other
    assert post(client, url, {"assignee_kind": "volunteer", "volunteer_id": vid}).status_code == 302
    # Not before the demand is resolved.
    resp = post(client, f"{BASE}/tasks/{tid}/finish", {"hours": "1", "points": "3", "result": "已修好"})
    assert resp.status_code == 422 and "诉求办结后才能登记" in resp.get_data(as_text=True)
    assert post(client, f"/d/alpha/demands/{demand_id}/accept").status_code == 302
    assert post(client, f"/d/alpha/demands/{demand_id}/resolve", {"note": "已更换阀门"}).status_code == 302
    assert post(client, f"{BASE}/tasks/{tid}/finish", {"hours": "1", "points": "3", "result": "已修好"}).status_code == 302
    page = client.get(f"{BASE}/{vid}").get_data(as_text=True)
    assert "独居老人家中水管漏水" in page and "党员接单" in page
    # Dispatched to a firm instead, an unfinished task would go away (here it is done: it stays).
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(VolunteerTask, tid).points == 3


def test_building_leaders_kept_by_the_community_seen_by_the_committee(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    url = f"{BASE}/leaders/"
    base = {"building_id": a.building1, "role": "building", "unit_no": "", "name": "赵大勇", "phone": "13800001111",
            "is_party_member": "y", "since": ""}
    assert post(client, url, base).status_code == 302
    resp = post(client, url, dict(base, name="钱二"))
    assert resp.status_code == 422 and "1号楼已有楼栋长：赵大勇" in resp.get_data(as_text=True)
    resp = post(client, url, dict(base, role="unit", name="孙三"))
    assert resp.status_code == 422 and "单元长请写明单元" in resp.get_data(as_text=True)
    assert post(client, url, dict(base, role="unit", unit_no="2单元", name="孙三")).status_code == 302
    assert post(client, url, dict(base, role="party_household", unit_no="2单元", name="李四")).status_code == 302
    assert post(client, url, dict(base, role="party_household", unit_no="2单元", name="周五")).status_code == 302
    resp = post(client, url, dict(base, building_id=a.building2, name="外小区"))
    assert resp.status_code == 422
    from wuye_saas.volunteers.models import BuildingLeader
    assert _count(app, a, BuildingLeader) == 4
    # The committee of the compound sees them (phones masked) and cannot add; the firm does not see them.
    as_user(client, "alpha-committee")
    page = client.get(url).get_data(as_text=True)
    assert "赵大勇" in page and "138****1111" in page and "登记</button>" not in page
    assert post(client, url, dict(base, name="业委会加")).status_code == 403
    as_user(client, "alpha-firm")
    assert client.get(url).status_code == 200 and "赵大勇" not in client.get(url).get_data(as_text=True)
    # Removing asks first (data-confirm) and is the community's.
    as_user(client, "alpha-community")
    with app.app_context(), tenant_scope(a.tenant_id):
        lid = db.session.scalar(select(BuildingLeader.id).where(BuildingLeader.name == "赵大勇"))
    assert "data-confirm=\"移除楼栋长 赵大勇？\"" in client.get(url).get_data(as_text=True)
    assert post(client, f"{BASE}/leaders/{lid}/remove").status_code == 302
    assert _count(app, a, BuildingLeader) == 3


def test_the_dashboard_counts_volunteering_by_street_and_community(app, client, world):
    a, b = world["alpha"], world["beta"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        v1 = Volunteer(community_id=a.community1, name="郝建国", is_party_member=True, reported_on=today())
        v2 = Volunteer(community_id=a.community1, name="李梅", is_party_member=False)
        gone = Volunteer(community_id=a.community1, name="王强", active=False)
        v3 = Volunteer(community_id=a.community2, name="赵敏", is_party_member=True, reported_on=today())
        db.session.add_all([v1, v2, gone, v3])
        db.session.flush()
        db.session.add_all([
            VolunteerTask(community_id=a.community1, title="楼道清理", state="done", volunteer_id=v1.id,
                          done_on=today(), hours_tenths=25, points=12),
            VolunteerTask(community_id=a.community1, title="独居老人探访", state="done", volunteer_id=v2.id,
                          done_on=today(), hours_tenths=10, points=5),
            VolunteerTask(community_id=a.community1, title="未完成的任务", state="claimed", volunteer_id=v1.id,
                          hours_tenths=30, points=30),
            VolunteerTask(community_id=a.community2, title="垃圾分类督导", state="done", volunteer_id=v3.id,
                          done_on=today(), hours_tenths=40, points=8)])
        db.session.commit()
    with app.app_context(), tenant_scope(b.tenant_id), acting_as(None, "测试"):
        db.session.add(Volunteer(community_id=b.community1, name="乙区志愿者", reported_on=today()))
        db.session.commit()

    def row(html, name):
        card = html.split('data-testid="volunteering"', 1)[1].split("</table>", 1)[0]
        cells = card.split(name, 1)[1].split("</tr>", 1)[0]
        return re.findall(r'<td class="text-end">([^<]*)</td>', cells)

    login(client, "alpha-district")
    html = client.get("/d/alpha/").get_data(as_text=True)
    # volunteers (active), reported, done, hours, points — by street; the inactive one and the
    # unfinished task are not counted, beta's volunteer never.
    assert row(html, "甲区第1街道") == ["2", "1", "2", "3.5", "17"]
    assert row(html, "甲区第2街道") == ["1", "1", "1", "4.0", "8"]
    assert row(html, "全区合计") == ["3", "2", "3", "7.5", "25"]
    login(client, "alpha-street")
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert row(html, "甲区第1社区") == ["2", "1", "2", "3.5", "17"] and "甲区第2社区" not in html.split(
        'data-testid="volunteering"', 1)[1].split("</table>", 1)[0]
    # The district drilled into street 2 sees that street's community only.
    login(client, "alpha-district")
    html = client.get(f"/d/alpha/?level=street&street_id={a.street2}").get_data(as_text=True)
    assert row(html, "甲区第2社区") == ["1", "1", "1", "4.0", "8"]
