"""四项清单: staff keep a community's four lists for a year; each item names its owner (1+3+N),
deadline and state; progress is reported, never rewritten; a demand enters the 需求清单 once."""
from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.demands.models import Demand
from wuye_saas.extensions import db
from wuye_saas.fourlists.models import FourListItem, FourListUpdate
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post
from .test_demands import as_user, setup_categories, staff_intake

BASE = "/d/alpha/fourlists"


def _item(a, **over):
    year = today().year
    data = {"community_id": a.community1, "year": year, "kind": "need", "title": "2 号楼加装电梯意愿摸底",
            "detail": "逐户走访", "owner_kind": "firm", "owner_name": "", "firm_id": a.firm1,
            "compound_id": a.compound1, "due_on": f"{year}-12-31", "demand_id": "", "agenda_item_id": ""}
    data.update(over)
    return data


def _count(app, ns, model=FourListItem) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.scalar(select(func.count()).select_from(model))


def _get(app, ns, item_id) -> FourListItem:
    with app.app_context(), tenant_scope(ns.tenant_id):
        item = db.session.get(FourListItem, item_id)
        db.session.expunge(item)
        return item


def _add(client, a, **over) -> int:
    resp = post(client, f"{BASE}/new", _item(a, **over))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _direct(app, ns, community_id, **over) -> int:
    """An item written straight to the database (another community's, for scope checks)."""
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        values = dict(community_id=community_id, year=today().year, kind="duty", title="消防通道清理",
                      owner_kind="department", owner_name="区消防救援大队", due_on=today(), state="planned",
                      progress=0, detail="")
        values.update(over)
        item = FourListItem(**values)
        db.session.add(item)
        db.session.commit()
        return item.id


def test_staff_add_an_item_and_everyone_in_scope_sees_it(app, client, world):
    a, b = world["alpha"], world["beta"]
    login(client, "alpha-community")
    item_id = _add(client, a)
    item = _get(app, a, item_id)
    assert (item.kind, item.owner_kind, item.owner_name, item.state, item.progress) == (
        "need", "firm", "甲区第1物业公司", "planned", 0)
    html = client.get(f"{BASE}/").get_data(as_text=True)
    assert "2 号楼加装电梯意愿摸底" in html and "甲区第1物业公司" in html
    # The owner firm and the committee of a compound in the community see it; the street too.
    for user in ("alpha-firm", "alpha-committee", "alpha-street", "alpha-district"):
        as_user(client, user)
        assert client.get(f"{BASE}/{item_id}").status_code == 200, user
    # Another community's item is not there for the community's staff; another district's neither.
    other = _direct(app, a, a.community2)
    beta_item = _direct(app, b, b.community1)
    as_user(client, "alpha-community")
    assert client.get(f"{BASE}/{other}").status_code == 404
    assert client.get(f"{BASE}/{beta_item}").status_code == 404
    assert "消防通道清理" not in client.get(f"{BASE}/").get_data(as_text=True)
    # The firm sees only items it owns.
    as_user(client, "alpha-firm")
    assert client.get(f"{BASE}/{other}").status_code == 404
    # The assessor has no part in the lists.
    as_user(client, "alpha-assessor")
    assert client.get(f"{BASE}/{item_id}").status_code == 404
    # Writing is for the community's and street's staff.
    for user in ("alpha-firm", "alpha-committee", "alpha-district"):
        as_user(client, user)
        assert post(client, f"{BASE}/new", _item(a, title="越权")).status_code == 403, user
    assert _count(app, a) == 2


def test_bad_items_are_refused_next_to_the_field_and_nothing_is_written(app, client, world):
    a = world["alpha"]
    year = today().year
    login(client, "alpha-community")
    cases = [
        (dict(due_on=""), "需求清单的事项须有完成时限"),
        (dict(due_on=f"{year - 1}-12-31"), f"完成时限不能早于清单年度（{year} 年）"),
        (dict(firm_id=""), "请选择企业"),
        (dict(owner_kind="department", firm_id="", owner_name=""), "请填写责任单位或责任人"),
        (dict(owner_kind="department", owner_name="城管"), "只有责任主体是物业服务企业时才选择企业"),
        (dict(compound_id=str(a.compound2)), "不是有效的选择"),   # a compound outside the community's scope
        (dict(title="事" * 201), "事项不能超过 200 个字"),
        (dict(year="1999"), "年度应为 2000 到 2100"),
    ]
    for over, message in cases:
        resp = post(client, f"{BASE}/new", _item(a, **over))
        assert resp.status_code == 422, over
        assert message in resp.get_data(as_text=True), (over, message)
    assert _count(app, a) == 0
    # A 资源 item may go without a deadline.
    _add(client, a, kind="resource", owner_kind="unit", firm_id="", owner_name="区人民医院", due_on="",
         title="每月一次义诊")
    assert _count(app, a) == 1


def test_progress_is_reported_not_rewritten(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    item_id = _add(client, a)
    url = f"{BASE}/{item_id}/report"
    resp = post(client, url, {"state": "doing", "progress": "40", "note": ""})
    assert resp.status_code == 422 and "请写明进展情况" in resp.get_data(as_text=True)
    resp = post(client, url, {"state": "doing", "progress": "140", "note": "已摸底"})
    assert resp.status_code == 422 and "完成进度应为 0 到 100" in resp.get_data(as_text=True)
    assert _count(app, a, FourListUpdate) == 0
    assert post(client, url, {"state": "planned", "progress": "40", "note": "已走访 40 户"}).status_code == 302
    item = _get(app, a, item_id)
    assert (item.state, item.progress) == ("doing", 40)      # progress above 0 is 推进中
    # The owner firm reports too; 已完成 is 100 % whatever was typed.
    as_user(client, "alpha-firm")
    assert post(client, url, {"state": "done", "progress": "70", "note": "意愿统计表已报社区"}).status_code == 302
    item = _get(app, a, item_id)
    assert (item.state, item.progress) == ("done", 100)
    # A finished item takes no more reports from the firm.
    resp = post(client, url, {"state": "doing", "progress": "50", "note": "再补充"})
    assert resp.status_code == 422 and "你不能报告这项事项的进展" in resp.get_data(as_text=True)
    html = client.get(f"{BASE}/{item_id}").get_data(as_text=True)
    assert "已走访 40 户" in html and "意愿统计表已报社区" in html
    assert _count(app, a, FourListUpdate) == 2
    # The committee reads but does not report.
    as_user(client, "alpha-committee")
    assert post(client, url, {"state": "doing", "progress": "50", "note": "x"}).status_code == 403
    # Staff may cancel with a reason; the per cent stays.
    as_user(client, "alpha-street")
    resp = post(client, url, {"state": "dropped", "progress": "", "note": ""})
    assert resp.status_code == 422 and "请写明取消的原因" in resp.get_data(as_text=True)


def test_overdue_items_are_flagged_and_counted(app, client, world):
    a = world["alpha"]
    yesterday = today() - timedelta(days=1)
    late = _direct(app, a, a.community1, title="楼道杂物清理", due_on=yesterday,
                   year=yesterday.year)
    _direct(app, a, a.community1, title="已办完的", due_on=yesterday, state="done", progress=100,
            year=yesterday.year)
    login(client, "alpha-community")
    html = client.get(f"{BASE}/?year={yesterday.year}&overdue=1").get_data(as_text=True)
    assert "楼道杂物清理" in html and "已办完的" not in html and "逾期" in html
    assert "逾期 1" in client.get(f"{BASE}/?year={yesterday.year}").get_data(as_text=True)
    assert "逾期" in client.get(f"{BASE}/{late}").get_data(as_text=True)


def test_a_demand_enters_the_needs_list_once(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    assert staff_intake(client, a, cats).status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        demand_id = db.session.scalar(select(Demand.id))
    form = client.get(f"{BASE}/new?demand_id={demand_id}").get_data(as_text=True)
    assert "3 号楼楼道灯不亮" in form and "来自诉求" in form
    data = _item(a, title="3 号楼楼道灯不亮", demand_id=str(demand_id))
    assert post(client, f"{BASE}/new", data).status_code == 302
    resp = post(client, f"{BASE}/new", data)
    assert resp.status_code == 422 and "已列入" in resp.get_data(as_text=True)
    assert _count(app, a) == 1
    # Another district's demand id is 404, not a way in.
    assert client.get(f"{BASE}/new?demand_id=999999").status_code == 404


def test_export_writes_the_four_sheets(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    _add(client, a)
    _add(client, a, kind="duty", owner_kind="department", firm_id="", owner_name="区城管局", title="占道经营整治")
    resp = client.get(f"{BASE}/export.xlsx")
    wb = load_workbook(BytesIO(resp.data))
    assert wb.sheetnames == ["需求清单", "资源清单", "服务清单", "责任清单"]
    need = [r for r in wb["需求清单"].iter_rows(min_row=3, values_only=True)]
    duty = [r for r in wb["责任清单"].iter_rows(min_row=3, values_only=True)]
    assert [r[2] for r in need] == ["2 号楼加装电梯意愿摸底"] and [r[5] for r in duty] == ["区城管局"]
    assert list(wb["资源清单"].iter_rows(min_row=3, values_only=True)) == []


def test_every_write_is_audited(app, client, world):
    a = world["alpha"]
    login(client, "alpha-community")
    item_id = _add(client, a)
    post(client, f"{BASE}/{item_id}/report", {"state": "doing", "progress": "10", "note": "启动"})
    with app.app_context(), tenant_scope(a.tenant_id):
        entities = set(db.session.execute(select(AuditEvent.entity)).scalars())
    assert {"four_list_item", "four_list_update"} <= entities


def test_the_demand_page_links_to_its_list_item(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    login(client, "alpha-community")
    staff_intake(client, a, cats)
    with app.app_context(), tenant_scope(a.tenant_id):
        demand_id = db.session.scalar(select(Demand.id))
    page = client.get(f"/d/alpha/demands/{demand_id}").get_data(as_text=True)
    assert f"/d/alpha/fourlists/new?demand_id={demand_id}" in page
    post(client, f"{BASE}/new", _item(a, title="楼道灯", demand_id=str(demand_id)))
    page = client.get(f"/d/alpha/demands/{demand_id}").get_data(as_text=True)
    assert f"已列入 <a href=\"/d/alpha/fourlists/" in page and "fourlists/new?demand_id" not in page
