"""Demands (诉求): categories, staff intake, the full life cycle with who may do each step,
what a firm sees, residents' submission and tracking (wuye_saas/demands/)."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.demands import logic
from wuye_saas.demands.models import Demand, DemandCategory, DemandEvent, DemandPhoto
from wuye_saas.extensions import db
from wuye_saas.tenancy import system_scope, tenant_scope
from wuye_saas.timeutil import local, now

from .factories import make_user
from .helpers import login, post

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def setup_categories(app, ns) -> dict[str, int]:
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        logic.ensure_default_categories()
        db.session.commit()
        return {c.name: c.id for c in logic.categories()}


def add_member(app, ns, username: str, role: str, **scope) -> None:
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        user = make_user(username, username)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, role=role, **scope))
        db.session.commit()


def as_user(client, username):
    client.post("/logout")
    login(client, username)


def demand(app, ns, demand_id) -> Demand:
    with app.app_context(), tenant_scope(ns.tenant_id):
        d = db.session.get(Demand, demand_id)
        db.session.expunge(d)
        return d


def kinds(app, ns, demand_id) -> list[str]:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return list(db.session.execute(select(DemandEvent.kind).where(DemandEvent.demand_id == demand_id)
                                       .order_by(DemandEvent.id)).scalars())


def staff_intake(client, ns, cats, **over):
    data = {"compound_id": ns.compound1, "channel": "hotline_12345", "category_id": cats["维修"],
            "urgency": "normal", "title": "3 号楼楼道灯不亮", "description": "晚上很黑",
            "contact_name": "李女士", "contact_phone": "13912345678", "household_code": ""}
    data.update(over)
    return post(client, "/d/alpha/demands/new", data)


def test_categories_defaults_on_request_edit_and_deactivate(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    html = client.get("/d/alpha/demands/categories").get_data(as_text=True)
    assert "使用默认分类" in html and 'data-category="' not in html   # a GET writes nothing
    assert post(client, "/d/alpha/demands/categories/seed").status_code == 302
    html = client.get("/d/alpha/demands/categories").get_data(as_text=True)
    for name in ("维修", "环境卫生", "停车", "安全隐患", "收费争议", "文明养犬", "加装电梯", "其他"):
        assert f'data-category="{name}"' in html
    post(client, "/d/alpha/demands/categories/seed")  # a second time adds nothing
    with app.app_context(), tenant_scope(a.tenant_id):
        cats = {c.name: (c.deadline_hours, c.urgent_deadline_hours, c.active) for c in logic.categories()}
        assert cats["安全隐患"] == (24, 4, True) and cats["加装电梯"] == (360, 120, True)
        assert cats["收费争议"] == (120, 48, True) and len(cats) == 8
        assert db.session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "demand_category", AuditEvent.action == "create")).scalar_one() == 8
        repair = db.session.execute(select(DemandCategory.id).filter_by(name="维修")).scalar_one()

    # Bad input: message next to the field, nothing written.
    resp = post(client, "/d/alpha/demands/categories", {"name": "维修", "deadline_hours": "48",
                                                        "urgent_deadline_hours": "12", "sort": "5", "active": "y"})
    assert resp.status_code == 422 and "已有同名分类。" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/demands/categories", {"name": "供暖", "deadline_hours": "24",
                                                        "urgent_deadline_hours": "48", "sort": "5", "active": "y"})
    assert resp.status_code == 422 and "紧急诉求的时限不能长于一般诉求。" in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/demands/categories", {"name": "供暖", "deadline_hours": "0",
                                                        "urgent_deadline_hours": "0", "sort": "5", "active": "y"})
    assert resp.status_code == 422 and "时限应在 1 到 2160 小时之间。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(DemandCategory.id))).scalar_one() == 8
    assert post(client, "/d/alpha/demands/categories", {"name": "供暖", "deadline_hours": "24",
                                                        "urgent_deadline_hours": "6", "sort": "85",
                                                        "active": "y"}).status_code == 302

    # A used category cannot be deleted, only deactivated; then staff cannot pick it.
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        mem = db.session.execute(select(Membership).filter_by(role="community_staff")).scalar_one()
        logic.intake(mem, a.compound1, logic.Intake(repair, "漏水", "", "王先生", "13800000000",
                                                     channel="visit"))
        db.session.commit()
    assert "不能删除" in client.get(f"/d/alpha/demands/categories/{repair}/delete").get_data(as_text=True)
    resp = post(client, f"/d/alpha/demands/categories/{repair}/delete")
    assert resp.status_code == 409 and "请改为停用" in resp.get_data(as_text=True)
    assert post(client, f"/d/alpha/demands/categories/{repair}/edit",
                {"name": "维修", "deadline_hours": "72", "urgent_deadline_hours": "24", "sort": "10"}
                ).status_code == 302  # the unchecked box deactivates
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.get(DemandCategory, repair).active is False
    as_user(client, "alpha-community")
    html = client.get("/d/alpha/demands/new").get_data(as_text=True)
    assert f'<option value="{repair}">维修</option>' not in html and ">供暖</option>" in html
    assert client.get("/d/alpha/demands/categories").status_code == 403
    assert post(client, "/d/alpha/demands/categories/seed").status_code == 403


def test_intake_number_deadline_and_refusals(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    before = now()
    resp = staff_intake(client, a, cats, household_code="al1code1")  # case-insensitive code
    assert resp.status_code == 302
    resp2 = staff_intake(client, a, cats, urgency="urgent", channel="patrol", category_id=cats["安全隐患"],
                         title="外墙瓷砖脱落")
    assert resp2.status_code == 302
    first = int(resp.headers["Location"].rsplit("/", 1)[1])
    second = int(resp2.headers["Location"].rsplit("/", 1)[1])
    d1, d2 = demand(app, a, first), demand(app, a, second)
    day = local(before).strftime("%Y%m%d")
    if d2.number.startswith(f"SQ{day}"):  # not across Shanghai midnight
        assert (d1.number, d2.number) == (f"SQ{day}-0001", f"SQ{day}-0002")
    assert d1.deadline_at - d1.received_at == timedelta(hours=72)
    assert d2.deadline_at - d2.received_at == timedelta(hours=4)  # 安全隐患, urgent
    assert d1.status == "new" and d1.channel == "hotline_12345" and d1.household_id == a.household1
    assert d2.urgency == "urgent" and d2.household_id is None
    assert kinds(app, a, first) == ["submitted"]

    bad = [({"compound_id": a.compound2}, "请选择您辖区内的小区。"),          # another community's compound
           ({"household_code": "AL2CODE1"}, "户码与本小区不符"),              # a code of another compound
           ({"contact_phone": "12345"}, "请填写 11 位手机号或带区号的固定电话"),
           ({"channel": "online"}, "不是有效的选择。"),
           ({"title": ""}, "请填写诉求标题。")]
    for over, message in bad:
        resp = staff_intake(client, a, cats, **over)
        assert resp.status_code == 422, over
        assert message in resp.get_data(as_text=True), over
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(Demand.id))).scalar_one() == 2
    # Landlines are fine.
    assert staff_intake(client, a, cats, contact_phone="0355-2021234").status_code == 302

    # Who may enter demands: staff, not the firm or the committee.
    for who in ("alpha-firm", "alpha-committee", "alpha-district"):
        as_user(client, who)
        assert client.get("/d/alpha/demands/new").status_code == 403
        assert staff_intake(client, a, cats).status_code == 403


def test_full_life_cycle_and_who_may_do_each_step(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    add_member(app, a, "alpha-community2", "community_staff", community_id=a.community2)
    add_member(app, a, "alpha-firm2", "firm_manager", firm_id=a.firm2)

    login(client, "alpha-community")
    resp = staff_intake(client, a, cats)
    did = int(resp.headers["Location"].rsplit("/", 1)[1])
    url = f"/d/alpha/demands/{did}"

    # Others' turn: the committee sees it but cannot dispatch; another community never sees it.
    as_user(client, "alpha-committee")
    assert client.get(url).status_code == 200
    assert post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 403
    as_user(client, "alpha-community2")
    assert client.get(url).status_code == 404
    assert post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 404
    as_user(client, "alpha-firm")
    assert client.get(url).status_code == 404  # not dispatched to it (yet)
    as_user(client, "alpha-street")
    resp = post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1})
    assert resp.status_code == 403 and "逾期升级后，街道也可以派单" in resp.get_data(as_text=True)

    # Dispatch: only a firm with an active contract on the compound.
    as_user(client, "alpha-community")
    page = client.get(url).get_data(as_text=True)
    assert f'<option selected value="{a.firm1}">' in page  # the compound's contracted firm by default
    resp = post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm2})
    assert resp.status_code == 422 and "只能派给与本小区有有效服务合同的物业服务企业。" in resp.get_data(as_text=True)
    assert demand(app, a, did).status == "new" and kinds(app, a, did) == ["submitted"]
    assert post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1,
                                            "note": "请尽快处理"}).status_code == 302

    # The firm: another firm gets 404; resolving before accepting is out of turn (409, nothing written).
    as_user(client, "alpha-firm2")
    assert client.get(url).status_code == 404
    assert post(client, f"{url}/accept").status_code == 404
    as_user(client, "alpha-firm")
    assert "请尽快处理" in client.get(url).get_data(as_text=True)
    resp = post(client, f"{url}/resolve", {"note": "已更换灯泡"})
    assert resp.status_code == 409 and "不能办结（请先接单）" in resp.get_data(as_text=True)
    assert demand(app, a, did).status == "dispatched"
    assert post(client, f"{url}/accept", {"note": "今天下午到场"}).status_code == 302
    assert post(client, f"{url}/accept").status_code == 409  # twice

    # Resolve with a photo; a fake image is refused first, writing nothing.
    resp = post(client, f"{url}/resolve", {"note": "已更换灯泡",
                                           "photos": [(io.BytesIO(b"not an image"), "现场.jpg")]},
                content_type="multipart/form-data")
    assert resp.status_code == 422 and "“现场.jpg”的内容不是 JPG 或 PNG 图片" in resp.get_data(as_text=True)
    resp = post(client, f"{url}/resolve", {"note": "已更换灯泡", "photos": [
        (io.BytesIO(PNG), f"{i}.png") for i in range(6)]}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "最多上传 5 张照片。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(DemandPhoto.id))).scalar_one() == 0
    assert demand(app, a, did).status == "accepted"
    resp = post(client, f"{url}/resolve", {"note": "已更换灯泡", "photos": [
        (io.BytesIO(PNG), "现场1.png"), (io.BytesIO(JPG), "现场2.JPG")]}, content_type="multipart/form-data")
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        photos = db.session.execute(select(DemandPhoto).order_by(DemandPhoto.id)).scalars().all()
        assert [(p.filename, p.content_type, p.size) for p in photos] == [
            ("现场1.png", "image/png", len(PNG)), ("现场2.JPG", "image/jpeg", len(JPG))]
        photo_ids = [p.id for p in photos]
    got = client.get(f"/d/alpha/demands/photos/{photo_ids[0]}")
    assert got.status_code == 200 and got.data == PNG
    assert post(client, f"{url}/visit", {"satisfaction": "satisfied"}).status_code == 403  # not the firm's step

    # Photos follow the demand's scope.
    as_user(client, "alpha-firm2")
    assert client.get(f"/d/alpha/demands/photos/{photo_ids[0]}").status_code == 404
    as_user(client, "alpha-community2")
    assert client.get(f"/d/alpha/demands/photos/{photo_ids[0]}").status_code == 404

    # Return visit, unsatisfied → reopened to the same firm with a fresh deadline.
    as_user(client, "alpha-community")
    resp = post(client, f"{url}/visit", {"satisfaction": "unsatisfied", "close_anyway": "y"})
    assert resp.status_code == 422 and "不满意但仍关闭时，请说明理由。" in resp.get_data(as_text=True)
    assert demand(app, a, did).status == "resolved"
    before = now()
    assert post(client, f"{url}/visit", {"satisfaction": "unsatisfied", "note": "灯还是不亮"}).status_code == 302
    d = demand(app, a, did)
    assert (d.status, d.reopen_count, d.firm_id, d.satisfaction) == ("dispatched", 1, a.firm1, "unsatisfied")
    assert d.resolved_at is None and d.accepted_at is None
    assert before + timedelta(hours=72) <= d.deadline_at <= now() + timedelta(hours=72)
    assert post(client, f"{url}/visit", {"satisfaction": "satisfied"}).status_code == 409  # not resolved now

    as_user(client, "alpha-firm")
    assert post(client, f"{url}/accept").status_code == 302
    assert post(client, f"{url}/resolve", {"note": "更换了线路"}).status_code == 302
    as_user(client, "alpha-community")
    assert post(client, f"{url}/visit", {"satisfaction": "basically", "note": "居民基本满意"}).status_code == 302
    d = demand(app, a, did)
    assert (d.status, d.satisfaction, d.reopen_count) == ("closed", "basically", 1)
    assert d.closed_at is not None and logic.on_time(d)
    assert kinds(app, a, did) == ["submitted", "dispatched", "accepted", "resolved", "visited", "reopened",
                                  "accepted", "resolved", "visited", "closed"]
    html = client.get(url).get_data(as_text=True)
    assert html.count('data-kind="resolved"') == 2 and "该诉求已关闭。" in html
    assert post(client, f"{url}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 409
    assert kinds(app, a, did)[-1] == "closed"

    # Every step is audited with its actor.
    with app.app_context(), system_scope():
        actors = set(db.session.execute(select(AuditEvent.actor).where(
            AuditEvent.entity == "demand", AuditEvent.entity_id == did)).scalars())
        assert {"甲区community", "甲区firm"} <= actors
        assert db.session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "demand_event", AuditEvent.action == "create")).scalar_one() == 10


def test_volunteer_assignee_is_recorded_on_behalf_and_firm_sees_only_its_own(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    ids = [int(staff_intake(client, a, cats, title=t).headers["Location"].rsplit("/", 1)[1])
           for t in ("派给志愿者", "派给物业", "未派单")]
    vol, firm, undispatched = ids
    resp = post(client, f"/d/alpha/demands/{vol}/dispatch", {"assignee_kind": "department", "department_id": ""})
    assert resp.status_code == 422 and "请选择本区在册的职能部门" in resp.get_data(as_text=True)
    # 党员接单 goes to a volunteer registered with the community (党员志愿者).
    assert post(client, "/d/alpha/volunteers/new", {
        "community_id": a.community1, "name": "郝建国", "organisation": "", "is_party_member": "y",
        "reported_on": "", "team_id": "", "building_id": "", "area_note": "", "phone": "",
        "active": "y"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        from wuye_saas.volunteers.models import Volunteer
        vid = db.session.scalar(select(Volunteer.id))
    assert post(client, f"/d/alpha/demands/{vol}/dispatch",
                {"assignee_kind": "volunteer", "volunteer_id": vid}).status_code == 302
    assert post(client, f"/d/alpha/demands/{firm}/dispatch",
                {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 302
    # The dispatching community records the volunteer's acceptance and resolution (the UI says so).
    page = client.get(f"/d/alpha/demands/{vol}").get_data(as_text=True)
    assert "由您代为登记接单" in page
    assert post(client, f"/d/alpha/demands/{vol}/accept").status_code == 302
    assert post(client, f"/d/alpha/demands/{vol}/resolve", {"note": "志愿者已协调"}).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        actors = db.session.execute(select(DemandEvent.actor).where(
            DemandEvent.demand_id == vol, DemandEvent.kind.in_(("accepted", "resolved")))).scalars().all()
    assert actors == ["郝建国（甲区community代为登记）"] * 2
    # The community cannot accept for a firm.
    assert post(client, f"/d/alpha/demands/{firm}/accept").status_code == 403

    as_user(client, "alpha-firm")
    html = client.get("/d/alpha/demands/").get_data(as_text=True)
    assert "派给本企业的诉求" in html and "派给物业" in html
    assert "派给志愿者" not in html and "未派单" not in html
    for other in (vol, undispatched):
        assert client.get(f"/d/alpha/demands/{other}").status_code == 404
    export = client.get("/d/alpha/demands/export.xlsx")
    assert export.status_code == 200
    from openpyxl import load_workbook
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert [r[5] for r in rows[1:-1]] == ["派给物业"]


def test_list_tabs_counts_and_filters(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    for t, cat in (("甲", "维修"), ("乙", "停车"), ("丙", "停车")):
        staff_intake(client, a, cats, title=f"诉求{t}", category_id=cats[cat])
    with app.app_context(), tenant_scope(a.tenant_id):
        ids = list(db.session.execute(select(Demand.id).order_by(Demand.id)).scalars())
        # One overdue: its deadline passed an hour ago.
        db.session.get(Demand, ids[0]).deadline_at = now() - timedelta(hours=1)
        db.session.commit()
    post(client, f"/d/alpha/demands/{ids[1]}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1})
    html = client.get("/d/alpha/demands/").get_data(as_text=True)
    counts = dict(re.findall(r'data-tab="(\w+)">[^<]*<span[^>]*>(\d+)<', html))
    assert counts == {"all": "3", "new": "2", "handling": "1", "resolved": "0", "closed": "0",
                      "overdue": "1", "escalated": "0"}
    html = client.get("/d/alpha/demands/?tab=overdue").get_data(as_text=True)
    assert "诉求甲" in html and "诉求乙" not in html and "已逾期" in html
    html = client.get(f"/d/alpha/demands/?category={cats['停车']}").get_data(as_text=True)
    assert "诉求乙" in html and "诉求丙" in html and "诉求甲" not in html
    assert 'data-tab="all">全部 <span class="badge rounded-pill text-bg-light border">2<' in html
    number = demand(app, a, ids[2]).number
    html = client.get(f"/d/alpha/demands/?q={number}").get_data(as_text=True)
    assert "诉求丙" in html and "诉求乙" not in html
    assert "没有符合条件的诉求。" in client.get("/d/alpha/demands/?q=不存在").get_data(as_text=True)
    # One state: 已派单 holds only the dispatched one; the tab counts follow the filter.
    html = client.get("/d/alpha/demands/?status=dispatched").get_data(as_text=True)
    assert "诉求乙" in html and "诉求甲" not in html and "诉求丙" not in html
    assert 'data-tab="new">待派单 <span class="badge rounded-pill text-bg-light border">0<' in html
    assert '<option value="dispatched" selected>已派单</option>' in html
    # An unknown state filters nothing.
    html = client.get("/d/alpha/demands/?status=bogus").get_data(as_text=True)
    assert all(f"诉求{t}" in html for t in "甲乙丙")
    # HTMX gets the partial.
    part = client.get("/d/alpha/demands/?tab=new", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in part and "诉求丙" in part and "诉求乙" not in part


def test_public_submission_and_tracking(app, client, world):
    a = world["alpha"]
    setup_categories(app, a)
    page = client.get(f"/p/alpha/c/{a.compound1}/")
    assert f"/p/alpha/c/{a.compound1}/demand" in page.get_data(as_text=True)
    form_url = f"/p/alpha/c/{a.compound1}/demand"
    html = client.get(form_url).get_data(as_text=True)
    assert "反映诉求" in html
    cat = re.search(r'<option value="(\d+)">环境卫生</option>', html).group(1)
    good = {"category_id": cat, "title": "垃圾两天没清运", "description": "2 号楼下垃圾桶满了",
            "household_code": "al1code1", "contact_name": "张三", "contact_phone": "13912345678"}

    def count():
        with app.app_context(), tenant_scope(a.tenant_id):
            return db.session.execute(select(func.count(Demand.id))).scalar_one()

    for over, message in ((({"household_code": "NOPE"}), "户码与本小区不符"),
                          (({"household_code": "AL2CODE1"}), "户码与本小区不符"),  # another compound's
                          (({"household_code": ""}), "请填写户码。"),
                          (({"contact_phone": "1391234"}), "请填写 11 位手机号"),
                          (({"title": "长" * 101}), "标题不能超过 100 个字。"),
                          (({"category_id": "0"}), "请选择诉求分类。")):
        resp = post(client, form_url, {**good, **over})
        assert resp.status_code == 422, over
        assert message in resp.get_data(as_text=True), over
    assert count() == 0
    # Without the CSRF token nothing is accepted either.
    assert client.post(form_url, data=good).status_code == 400
    assert count() == 0

    resp = post(client, form_url, good)
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.execute(select(Demand)).scalar_one()
        number = d.number
        assert (d.channel, d.household_id, d.compound_id, d.urgency) == ("online", a.household1, a.compound1, "normal")
        assert d.deadline_at - d.received_at == timedelta(hours=48)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'data-testid="number">{number}<' in html and "诉求已提交" in html

    # Tracking needs both the number and the household code of that demand.
    assert client.get("/p/alpha/demand").status_code == 200
    resp = client.get(f"/p/alpha/demand?number={number}&code=")
    assert resp.status_code == 422 and "请填写户码。" in resp.get_data(as_text=True)
    resp = client.get(f"/p/alpha/demand?number={number}&code=AL2CODE1")
    assert resp.status_code == 404 and "未找到该诉求" in resp.get_data(as_text=True)
    assert client.get(f"/p/beta/demand?number={number}&code=AL1CODE1").status_code == 404  # another district

    # Staff handle it; the resident sees the steps, never staff names or the visit note.
    login(client, "alpha-community")
    post(client, f"/d/alpha/demands/{d.id}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm1})
    as_user(client, "alpha-firm")
    post(client, f"/d/alpha/demands/{d.id}/accept")
    post(client, f"/d/alpha/demands/{d.id}/resolve", {"note": "已清运"})
    as_user(client, "alpha-community")
    post(client, f"/d/alpha/demands/{d.id}/visit", {"satisfaction": "satisfied", "note": "内部记录：张三很满意"})
    client.post("/logout")
    resp = client.get(f"/p/alpha/demand?number={number.lower()}&code=AL1CODE1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-testid="status">已关闭<' in html
    for step in ("诉求已受理", "已派单", "承办方已接单", "已办结", "社区已回访", "诉求已关闭", "已清运", "满意度：满意"):
        assert step in html, step
    assert "甲区community" not in html and "甲区firm" not in html and "内部记录" not in html
    assert "13912345678" not in html


def test_numbers_continue_past_numbers_written_elsewhere_and_per_district(app, client, world):
    """A number an import (or the demo's history) wrote without the counter is never given again;
    each district counts on its own."""
    from wuye_saas.demands.logic import next_number
    a, b = world["alpha"], world["beta"]
    cats = setup_categories(app, a)
    at = now()
    day = local(at).strftime("%Y%m%d")
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.add(Demand(number=f"SQ{day}-0007", compound_id=a.compound1, category_id=cats["维修"],
                              channel="visit", title="导入的诉求", deadline_at=at))
        db.session.commit()
    login(client, "alpha-community")
    did = int(staff_intake(client, a, cats).headers["Location"].rsplit("/", 1)[1])
    number = demand(app, a, did).number
    if number.startswith(f"SQ{day}"):  # not across Shanghai midnight
        assert number == f"SQ{day}-0008"
        with app.app_context(), tenant_scope(b.tenant_id):
            assert next_number(at) == f"SQ{day}-0001"


def test_the_list_total_is_its_tab_count_under_every_filter(app, client, world):
    """诉求 list: the pager's total is the tab's count (the page counts once), for a tab, a
    category and the overdue tab alike, and only the demands in scope are counted."""
    a = world["alpha"]
    cats = setup_categories(app, a)
    at = now().replace(microsecond=0)
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        for n in range(25):   # compound 1 (community 1): 23 new, 2 closed; 5 past their deadline
            db.session.add(Demand(number=f"SQ-L{n:04d}", compound_id=a.compound1,
                                  category_id=cats["维修"] if n % 2 else cats["环境卫生"], channel="online",
                                  title=f"列表{n}", status="closed" if n < 2 else "new", received_at=at,
                                  deadline_at=at - timedelta(hours=1) if 2 <= n < 7 else at + timedelta(days=3)))
        db.session.add(Demand(number="SQ-L9999", compound_id=a.compound2, category_id=cats["维修"],
                              channel="online", title="别的社区", received_at=at, deadline_at=at + timedelta(days=3)))
        db.session.commit()
    as_user(client, "alpha-community")

    def pager(query):
        html = client.get("/d/alpha/demands/", query_string=query).get_data(as_text=True)
        return re.search(r"共 (\d+) 条(?:，第 (\d+)/(\d+) 页)?", html).groups()
    assert pager({}) == ("25", "1", "2")
    assert pager({"page": 2}) == ("25", "2", "2")
    assert pager({"tab": "new"}) == ("23", "1", "2")
    assert pager({"tab": "closed"}) == ("2", None, None)
    assert pager({"tab": "overdue"}) == ("5", None, None)
    assert pager({"category": cats["维修"]}) == ("12", None, None)        # odd n: 12 of 25
    assert pager({"tab": "new", "category": cats["维修"]}) == ("11", None, None)
    past = client.get("/d/alpha/demands/", query_string={"tab": "new", "page": 9}).get_data(as_text=True)
    assert "这一页已超出范围（共 23 件）" in past and "还没有诉求" not in past and "page=1" in past
