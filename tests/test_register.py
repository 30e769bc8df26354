"""The organisation register (wuye_saas/org): forms, validation, scope, delete refusal, audit,
HTMX partials and paging, for every resource in org.resources.RESOURCES."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.org.resources import BY_KEY, RESOURCES
from wuye_saas.tenancy import tenant_scope

from .factories import credit_code
from .helpers import form_data, login, post


@dataclass
class Case:
    data: dict                  # a good new-form POST
    edit: tuple[str, str]       # (field, new value) for the edit
    find: dict                  # list-page args that find the new record …
    present: str                # … text of the new record on that page
    absent: str | None          # … text of a world record the args filter out
    derived: tuple = ()         # columns the server fills in (not posted as stored)
    heading: str | None = None  # the detail page's title, when not `present`


def cases(a) -> dict[str, Case]:
    """One good record per resource, in alpha's branch 1 (`a` = world["alpha"])."""
    return {
        "streets": Case({"name": "长兴街道", "code": "S9"}, ("name", "长兴南街道"),
                        {"q": "长兴"}, "长兴街道", "甲区第1街道"),
        "communities": Case({"street_id": a.street1, "name": "英雄社区", "code": "C9"}, ("code", "C10"),
                            {"q": "英雄"}, "英雄社区", "甲区第1社区"),
        "grids": Case({"community_id": a.community1, "name": "红旗网格", "keeper": "李四",
                       "keeper_phone": "138****0000"}, ("keeper", "李四光"), {"q": "红旗"}, "红旗网格", "第1网格"),
        "departments": Case({"name": "区应急管理局", "kind": "应急管理", "contact": "孙科长",
                             "phone": "0355-7654321", "active": "y"}, ("contact", "孙处长"), {"q": "应急"},
                            "区应急管理局", "甲区第1职能部门"),
        "compounds": Case({"community_id": a.community1, "grid_id": a.grid1, "name": "太行苑",
                           "address": "英雄中路1号", "compound_type": "商品房", "build_year": "2005",
                           "area_m2": "5000.25", "management_mode": "自管", "wuguan_mode": "直管"},
                          ("build_year", "2006"), {"q": "英雄中路"}, "太行苑", "甲区1号小区"),
        "buildings": Case({"compound_id": a.compound1, "name": "9号楼", "floors": "18", "units": "3",
                           "has_lift": "y"}, ("floors", "20"), {"q": "9号"}, "9号楼", "1号楼",
                          heading="甲区1号小区 9号楼"),
        "households": Case({"building_id": a.building1, "room": "902", "floor": "9", "floor_area": "96.35",
                            "owner_name": "王五", "phone_masked": "139****1111", "household_code": "",
                            "class_ids": a.household_class},
                           ("owner_name", "王五六"), {"q": "王五"}, "902", "张三",
                           derived=("household_code", "compound_id"), heading="甲区1号小区 1号楼 902"),
        "household_classes": Case({"name": "特困供养"}, ("name", "特困"), {}, "特困供养", None),
        "firms": Case({"name": "长治红星物业", "credit_code": credit_code(777), "qualification": "二级",
                       "legal_rep": "赵六", "contact_phone": "0355-1234567", "address": "",
                       "party_status": "联合党支部", "party_members": "3", "staff_count": "40"},
                      ("party_members", "8"), {"q": "红星"}, "长治红星物业", "甲区第1物业公司"),
        # A rate with four decimals: the column keeps four, so an edit must not round it.
        "contracts": Case({"firm_id": a.firm2, "compound_id": a.compound1, "start_date": "2025-01-01",
                           "end_date": "2027-12-31", "service_grade": "一级", "fee_mode": "酬金制",
                           "fee_rate": "1.2575"},
                          ("service_grade", "三级"), {"fee_mode": "酬金制"}, "2025-01-01～2027-12-31",
                          "2024-01-01～2030-12-31", heading="甲区第2物业公司 — 甲区1号小区"),
        "committees": Case({"compound_id": a.compound2, "kind": "物管会", "name": "太行物管会",
                            "term_start": "2025-01-01", "term_end": "2028-01-01", "filing_status": "已备案",
                            "filed_on": "2025-02-01"}, ("name", "太行临时物管会"), {"q": "太行"}, "太行物管会",
                           "甲区1号小区业委会"),
        "committee_members": Case({"committee_id": a.committee1, "name": "赵委员", "position": "副主任",
                                   "is_party_member": "y", "phone_masked": ""}, ("position", "委员"),
                                  {"q": "赵"}, "赵委员", "委员1"),
        "party_orgs": Case({"kind": "企业党支部", "name": "红星物业党支部", "parent_id": "", "community_id": "",
                            "compound_id": "", "firm_id": a.firm1, "secretary": "书记甲", "member_count": "7"},
                           ("secretary", "书记乙"), {"q": "红星"}, "红星物业党支部", "甲区1号小区党支部"),
        "instructors": Case({"firm_id": a.firm1, "name": "钱指导员", "unit": "区委组织部", "phone": "",
                             "assigned_on": "2025-03-01", "ended_on": ""}, ("unit", "区住建局"),
                            {"q": "钱"}, "钱指导员", "指导员1"),
        "cross_appointments": Case({"person_name": "孙交叉", "direction": "社区→物业企业", "home_role": "社区副书记",
                                    "appointed_role": "物业企业党支部副书记", "community_id": a.community1,
                                    "compound_id": "", "firm_id": a.firm1, "start_date": "2025-01-01",
                                    "end_date": "", "note": "双向进入"},
                                   ("appointed_role", "物业企业监事"), {"q": "孙"}, "孙交叉", "交叉1"),
    }


# --- helpers -----------------------------------------------------------------------------

def _unbound(form_cls):
    return {name: getattr(form_cls, name) for name in dir(form_cls)
            if isinstance(getattr(form_cls, name, None), UnboundField)}


def _stored(model, data: dict, form_cls) -> dict:
    """The column values a POST of `data` must store: typed, blanks as None or ""."""
    out = {}
    for key, raw in data.items():
        col = model.__table__.c.get(key)
        if col is None:
            continue
        raw = str(raw)
        kind = col.type.python_type
        if raw == "":
            out[key] = None if col.nullable else ""
        else:
            out[key] = {bool: lambda v: True, int: int, Decimal: Decimal,
                        date: date.fromisoformat}.get(kind, str)(raw)
    for name, field in _unbound(form_cls).items():
        if field.field_class is BooleanField and name not in data:
            out[name] = False
    return out


def _row(app, tid, model, record_id) -> dict | None:
    with app.app_context(), tenant_scope(tid):
        obj = db.session.get(model, record_id)
        return None if obj is None else {c.key: getattr(obj, c.key) for c in model.__table__.c}


def _count(app, tid, model, *where) -> int:
    with app.app_context(), tenant_scope(tid):
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _events(app, tid, **filters) -> list[dict]:
    with app.app_context(), tenant_scope(tid):   # the database's wall shows a district's events in its scope
        stmt = select(AuditEvent).filter_by(tenant_id=tid, **filters).order_by(AuditEvent.id)
        return [{"action": e.action, "entity": e.entity, "entity_id": e.entity_id, "actor": e.actor,
                 "user_id": e.user_id, "changes": e.changes} for e in db.session.execute(stmt).scalars()]


def _feedback(html: str) -> list[str]:
    """The messages shown next to fields."""
    return [re.sub(r"<[^>]+>", "", t).strip() for t in
            re.findall(r'<div class="invalid-feedback[^"]*">(.*?)</div>', html, re.S)]


def _new_id(resp, key: str) -> int:
    match = re.fullmatch(rf"/d/alpha/{key}/(\d+)", resp.headers["Location"])
    assert match, resp.headers["Location"]
    return int(match.group(1))


def _table_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


@pytest.fixture
def alpha(world):
    return world["alpha"]


def test_every_resource_has_a_case(world):
    assert set(cases(world["alpha"])) == {r.key for r in RESOURCES}


# --- the generic life cycle, per resource ----------------------------------------------

@pytest.mark.parametrize("key", [r.key for r in RESOURCES])
def test_resource_life_cycle(app, client, alpha, key):
    res, case = BY_KEY[key], cases(alpha)[key]
    model, tid = res.model, alpha.tenant_id
    login(client, "alpha-district")
    base = f"/d/alpha/{key}"

    resp = client.get(f"{base}/new")
    assert resp.status_code == 200
    assert 'name="csrf_token"' in resp.get_data(as_text=True)

    # Missing required fields: 422, a Chinese message at each of them, nothing written.
    before = _count(app, tid, model)
    events_before = len(_events(app, tid))
    resp = post(client, f"{base}/new", {})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    required = [v.message for f in _unbound(res.form).values()
                for v in f.kwargs.get("validators", []) if isinstance(v, (DataRequired, InputRequired))]
    assert required, f"{key}: a form without required fields"
    shown = _feedback(html)
    for msg in required:
        assert msg in shown, (key, msg, shown)
    assert all(re.search(r"[\u4e00-\u9fff]", msg) for msg in shown), shown
    assert _count(app, tid, model) == before
    assert len(_events(app, tid)) == events_before

    # A good POST creates exactly the record and lands on its detail page.
    resp = post(client, f"{base}/new", case.data)
    assert resp.status_code == 302, _feedback(resp.get_data(as_text=True))
    new_id = _new_id(resp, key)
    assert _count(app, tid, model) == before + 1
    row = _row(app, tid, model, new_id)
    want = _stored(model, case.data, res.form)
    assert {k: row[k] for k in want if k not in case.derived} == {
        k: v for k, v in want.items() if k not in case.derived}
    assert row["tenant_id"] == tid
    detail = client.get(resp.headers["Location"])
    assert detail.status_code == 200
    assert f"<h1 class=\"h4 mb-0\"><i class=\"bi bi-{res.icon}\"></i> {case.heading or case.present}" in (
        detail.get_data(as_text=True))

    # The list finds it with the search box (or the filter the resource offers).
    page = client.get(f"{base}/", query_string=case.find).get_data(as_text=True)
    assert case.present in page
    if case.absent:
        assert case.absent not in page

    # Editing: the browser posts the form as shown, with one field changed; only it changes.
    edit_url = f"{base}/{new_id}/edit"
    sent = form_data(client.get(edit_url).get_data(as_text=True))
    field, value = case.edit
    sent[field] = value
    resp = client.post(edit_url, data=sent)
    assert resp.status_code == 302, _feedback(resp.get_data(as_text=True))
    assert resp.headers["Location"] == f"{base}/{new_id}"
    after = _row(app, tid, model, new_id)
    changed = {k for k in row if row[k] != after[k]}
    assert changed == {field}
    assert after[field] == _stored(model, {field: value}, res.form)[field]
    update = _events(app, tid, entity=model.__tablename__, action="update")
    assert [e["entity_id"] for e in update] == [new_id]
    old, new = row[field], after[field]
    assert update[0]["changes"] == {field: {"before": old if not isinstance(old, Decimal) else str(old),
                                            "after": new if not isinstance(new, Decimal) else str(new)}}
    assert update[0]["actor"] == "甲区district"


def test_household_gets_a_code_and_its_compound(app, client, alpha):
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/households/new", cases(alpha)["households"].data)
    row = _row(app, alpha.tenant_id, m.Household, _new_id(resp, "households"))
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", row["household_code"])
    assert row["compound_id"] == alpha.compound1
    assert _count(app, alpha.tenant_id, m.HouseholdClassLink,
                  m.HouseholdClassLink.household_id == row["id"],
                  m.HouseholdClassLink.household_class_id == alpha.household_class) == 1


def test_households_are_listed_unit_then_floor_then_room(app, client, alpha):
    """A building's register reads 1单元101, 1单元102, 1单元201 … 1单元1001, 2单元101 — whether
    the rooms came in a file (bulk insert) or through the form, and after a room is renamed."""
    from sqlalchemy import insert
    rooms = ["2单元101", "1单元1001", "1单元201", "1单元102", "1单元101", "1单元902"]
    with app.app_context(), tenant_scope(alpha.tenant_id):
        db.session.execute(insert(m.Household), [
            {"tenant_id": alpha.tenant_id, "compound_id": alpha.compound1, "building_id": alpha.building1,
             "room": room, "floor_area": Decimal("80.00"), "household_code": f"ORDER{i:03d}"}
            for i, room in enumerate(rooms)])
        db.session.commit()
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/households/new", {**cases(alpha)["households"].data, "room": "1单元301"})
    assert resp.status_code == 302
    new_id = _new_id(resp, "households")

    def listed():
        html = client.get(f"/d/alpha/households/?compound_id={alpha.compound1}").get_data(as_text=True)
        return [re.sub(r"<[^>]+>", "", row.split("</td>", 1)[0]).strip() for row in _table_rows(html)]

    # (The world's plain "101" compares as number 101, after units 1 and 2.)
    assert listed() == ["1单元101", "1单元102", "1单元201", "1单元301", "1单元902", "1单元1001", "2单元101", "101"]
    # Renamed through the form: it moves to its new place, and the log shows only the room.
    sent = form_data(client.get(f"/d/alpha/households/{new_id}/edit").get_data(as_text=True))
    assert client.post(f"/d/alpha/households/{new_id}/edit", data={**sent, "room": "2单元201"}).status_code == 302
    assert listed() == ["1单元101", "1单元102", "1单元201", "1单元902", "1单元1001", "2单元101", "2单元201", "101"]
    update = _events(app, alpha.tenant_id, entity="household", action="update")
    assert [set(e["changes"]) for e in update] == [{"room"}]


def test_buildings_are_listed_as_numbered_names_are_read(app, client, alpha):
    login(client, "alpha-district")
    for name in ("10号楼", "2号楼", "B座"):
        data = {**cases(alpha)["buildings"].data, "name": name}
        assert post(client, "/d/alpha/buildings/new", data).status_code == 302
    html = client.get(f"/d/alpha/buildings/?compound_id={alpha.compound1}").get_data(as_text=True)
    listed = [re.sub(r"<[^>]+>", "", row.split("</td>", 1)[0]).strip() for row in _table_rows(html)]
    assert listed == ["1号楼", "2号楼", "10号楼", "B座"]
    # The household form's building picker reads the same way.
    form = client.get(f"/d/alpha/households/new?building_id={alpha.building1}").get_data(as_text=True)
    picker = re.search(r'<select[^>]*name="building_id".*?</select>', form, re.S).group(0)
    assert [n for n in re.findall(r"<option[^>]*>([^<]+)</option>", picker) if " · " in n] == [
        "甲区1号小区 · 1号楼", "甲区1号小区 · 2号楼", "甲区1号小区 · 10号楼", "甲区1号小区 · B座"]


# --- specific validation ---------------------------------------------------------------

def check_refused(app, client, alpha, key, data, field, message):
    """POST `data` over the good case; it must be a 422 with `message` at `field`, no row."""
    model = BY_KEY[key].model
    before = _count(app, alpha.tenant_id, model)
    resp = post(client, f"/d/alpha/{key}/new", {**cases(alpha)[key].data, **data})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _count(app, alpha.tenant_id, model) == before
    # The message sits in the field's own feedback, right after its control.
    block = re.search(rf'name="{field}".*?<div class="invalid-feedback[^"]*">(.*?)</div>', html, re.S)
    assert block and message in block.group(1), (field, _feedback(html))


@pytest.mark.parametrize("code, message", [
    (credit_code(777)[:17] + ("0" if credit_code(777)[17] != "0" else "1"), "统一社会信用代码校验位不正确"),
    (credit_code(777)[:17], "统一社会信用代码应为 18 位"),
    ("91140400000000O77X", "统一社会信用代码含有无效字符“O”"),
])
def test_firm_credit_code_is_checked(app, client, alpha, code, message):
    login(client, "alpha-district")
    check_refused(app, client, alpha, "firms", {"credit_code": code}, "credit_code", message)


@pytest.mark.parametrize("area, message", [("0", "面积必须大于 0"), ("-5", "面积必须大于 0"),
                                           ("88.123", "面积最多保留两位小数")])
def test_areas_are_checked(app, client, alpha, area, message):
    login(client, "alpha-district")
    check_refused(app, client, alpha, "households", {"floor_area": area}, "floor_area", message)
    check_refused(app, client, alpha, "compounds", {"area_m2": area}, "area_m2", message)


@pytest.mark.parametrize("key, field, value, message", [
    ("households", "floor_area", "10000.01", "面积不能超过 10,000 ㎡"),
    ("households", "floor_area", "1e20", "请填写数字"),
    ("households", "floor_area", "NaN", "请填写数字"),
    ("compounds", "area_m2", "10000000.01", "面积不能超过 10,000,000 ㎡"),
    ("compounds", "area_m2", "Infinity", "请填写数字"),
    ("contracts", "fee_rate", "100.0001", "物业费标准不能超过 100 元/㎡·月"),
    ("contracts", "fee_rate", "NaN", "请填写数字"),
])
def test_numbers_have_bounds_and_are_plain(app, client, alpha, key, field, value, message):
    """A real district's largest home, compound and price; no exponent, NaN or Infinity."""
    login(client, "alpha-district")
    check_refused(app, client, alpha, key, {field: value}, field, message)


def test_contract_must_end_after_it_starts(app, client, alpha):
    login(client, "alpha-district")
    check_refused(app, client, alpha, "contracts", {"start_date": "2026-01-01", "end_date": "2025-12-31"},
             "end_date", "结束日期必须晚于开始日期")


def test_duplicate_street_is_refused(app, client, alpha):
    login(client, "alpha-district")
    # Surrounding blanks are stripped before the comparison: the same name is the same street.
    check_refused(app, client, alpha, "streets", {"name": " 甲区第1街道 "}, "name", "已存在相同的记录")


def test_another_districts_record_is_not_a_choice(app, client, world):
    alpha, beta = world["alpha"], world["beta"]
    login(client, "alpha-district")
    check_refused(app, client, alpha, "compounds", {"community_id": beta.community1}, "community_id",
             "不是有效的选择")
    check_refused(app, client, alpha, "contracts", {"firm_id": beta.firm1}, "firm_id", "不是有效的选择")
    # Beta's community is not even offered.
    html = client.get("/d/alpha/compounds/new").get_data(as_text=True)
    assert "乙区第1社区" not in html and "甲区第1社区" in html


# --- delete ------------------------------------------------------------------------------

def test_delete_asks_then_deletes_and_audits(app, client, alpha):
    login(client, "alpha-district")
    url = f"/d/alpha/instructors/{alpha.instructor1}/delete"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "确认删除" in html and "指导员1" in html
    assert _row(app, alpha.tenant_id, m.Instructor, alpha.instructor1) is not None  # GET keeps it

    resp = post(client, url)
    assert resp.status_code == 302 and resp.headers["Location"] == "/d/alpha/instructors/"
    assert _row(app, alpha.tenant_id, m.Instructor, alpha.instructor1) is None
    [event] = _events(app, alpha.tenant_id, entity="instructor", action="delete")
    assert event["entity_id"] == alpha.instructor1
    assert event["actor"] == "甲区district"
    assert event["changes"]["name"] == "指导员1"
    assert event["changes"]["firm_id"] == alpha.firm1
    assert event["changes"]["assigned_on"] == "2024-03-01"


def test_delete_of_a_compound_with_buildings_is_refused(app, client, alpha):
    login(client, "alpha-district")
    url = f"/d/alpha/compounds/{alpha.compound1}/delete"
    assert "不能删除" in client.get(url).get_data(as_text=True)
    events = len(_events(app, alpha.tenant_id))
    resp = post(client, url)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "楼栋：1 条" in html and "住户：1 条" in html and "物业服务合同：1 条" in html
    assert _row(app, alpha.tenant_id, m.Compound, alpha.compound1) is not None
    assert _count(app, alpha.tenant_id, m.Building) == 2
    assert len(_events(app, alpha.tenant_id)) == events


# --- roles -------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["alpha-street", "alpha-community", "alpha-firm", "alpha-committee"])
def test_other_roles_cannot_write_the_register(app, client, alpha, username):
    login(client, username)
    # Compound 1 is in every one of these scopes: a 403, not a 404.
    assert client.get(f"/d/alpha/compounds/{alpha.compound1}").status_code == 200
    for path in ("new", f"{alpha.compound1}/edit", f"{alpha.compound1}/delete"):
        assert client.get(f"/d/alpha/compounds/{path}").status_code == 403, path
    before = _count(app, alpha.tenant_id, m.Compound)
    assert post(client, "/d/alpha/compounds/new", cases(alpha)["compounds"].data).status_code == 403
    assert post(client, f"/d/alpha/compounds/{alpha.compound1}/edit",
                {**cases(alpha)["compounds"].data, "name": "改名"}).status_code == 403
    assert post(client, f"/d/alpha/compounds/{alpha.compound1}/delete").status_code == 403
    assert _count(app, alpha.tenant_id, m.Compound) == before
    assert _row(app, alpha.tenant_id, m.Compound, alpha.compound1)["name"] == "甲区1号小区"
    # No button offers what would be refused.
    assert "新增小区" not in client.get("/d/alpha/compounds/").get_data(as_text=True)


@pytest.mark.parametrize("username, sees, hidden", [
    ("alpha-street", ["甲区1号小区"], ["甲区2号小区"]),
    ("alpha-community", ["甲区1号小区"], ["甲区2号小区"]),
    ("alpha-firm", ["甲区1号小区"], ["甲区2号小区"]),
    ("alpha-committee", ["甲区1号小区"], ["甲区2号小区"]),
    ("alpha-district", ["甲区1号小区", "甲区2号小区"], []),
])
def test_compound_list_shows_only_the_scope(client, world, username, sees, hidden):
    login(client, username)
    html = client.get("/d/alpha/compounds/").get_data(as_text=True)
    for name in sees:
        assert name in html
    for name in hidden + ["乙区1号小区"]:
        assert name not in html
    assert len(_table_rows(html)) == len(sees)


def test_firm_sees_only_its_contracted_compound(app, client, alpha):
    # A third compound in the firm's community, not contracted to it, stays invisible to it.
    with app.app_context(), tenant_scope(alpha.tenant_id):
        db.session.add(m.Compound(community_id=alpha.community1, name="无合同小区", compound_type="商品房",
                                  management_mode="自管"))
        db.session.commit()
    login(client, "alpha-firm")
    html = client.get("/d/alpha/compounds/").get_data(as_text=True)
    assert [n for n in ("甲区1号小区", "甲区2号小区", "无合同小区") if n in html] == ["甲区1号小区"]
    firms = client.get("/d/alpha/firms/").get_data(as_text=True)
    assert "甲区第1物业公司" in firms and "甲区第2物业公司" not in firms
    login(client, "alpha-community")
    assert "无合同小区" in client.get("/d/alpha/compounds/").get_data(as_text=True)


# --- audit -------------------------------------------------------------------------------

def test_audit_log_shows_and_filters_an_edit(app, client, alpha):
    login(client, "alpha-district")
    url = f"/d/alpha/streets/{alpha.street1}/edit"
    sent = form_data(client.get(url).get_data(as_text=True))
    sent["code"] = "S1-新"
    assert client.post(url, data=sent).status_code == 302
    [event] = _events(app, alpha.tenant_id, entity="street", action="update")
    assert event["changes"] == {"code": {"before": "S1", "after": "S1-新"}}
    assert event["actor"] == "甲区district" and event["entity_id"] == alpha.street1

    hx = {"HX-Request": "true"}
    rows = _table_rows(client.get("/d/alpha/audit/?entity=street&action=update", headers=hx)
                       .get_data(as_text=True))
    assert len(rows) == 1
    assert "甲区district" in rows[0] and "S1-新" in rows[0] and "修改" in rows[0]
    # The world was created by "测试": filtering by action keeps those apart.
    created = _table_rows(client.get("/d/alpha/audit/?entity=street&action=create", headers=hx)
                          .get_data(as_text=True))
    assert len(created) == 2 and all("测试" in r and "S1-新" not in r for r in created)
    other = client.get("/d/alpha/audit/?entity=compound&action=update", headers=hx).get_data(as_text=True)
    assert "没有符合条件的审计记录" in other
    full = client.get("/d/alpha/audit/").get_data(as_text=True)
    assert "S1-新" in full and "<html" in full
    # Beta's log does not hold alpha's edit.
    login(client, "beta-district")
    assert "S1-新" not in client.get("/d/beta/audit/").get_data(as_text=True)


@pytest.mark.parametrize("username", ["alpha-street", "alpha-community", "alpha-firm",
                                      "alpha-committee", "alpha-assessor"])
def test_audit_log_is_for_the_district_admin(client, world, username):
    login(client, username)
    assert client.get("/d/alpha/audit/").status_code == 403


# --- HTMX and paging ---------------------------------------------------------------------

def test_htmx_gets_the_partial_and_every_response_varies(client, alpha):
    login(client, "alpha-district")
    partial = client.get("/d/alpha/compounds/?q=1号", headers={"HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in html
    assert "甲区1号小区" in html and "甲区2号小区" not in html
    restore = client.get("/d/alpha/compounds/", headers={"HX-Request": "true",
                                                          "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)
    assert "<html" in client.get("/d/alpha/compounds/").get_data(as_text=True)
    for resp in (partial, restore, client.get("/d/alpha/compounds/"),
                 client.get(f"/d/alpha/compounds/{alpha.compound1}"),
                 client.get("/d/alpha/compounds/new"), client.get("/d/alpha/compounds/999999"),
                 post(client, "/d/alpha/streets/new", {"name": "变化街道"}), client.get("/login")):
        vary = [v.strip() for h in resp.headers.getlist("Vary") for v in h.split(",")]
        assert "HX-Request" in vary, resp.request.path


def test_lists_page_by_twenty(app, client, alpha):
    with app.app_context(), tenant_scope(alpha.tenant_id):
        db.session.add_all([m.Street(name=f"分页街道{i:02d}") for i in range(1, 24)])
        db.session.commit()
    login(client, "alpha-district")
    first = client.get("/d/alpha/streets/").get_data(as_text=True)
    second = client.get("/d/alpha/streets/?page=2").get_data(as_text=True)
    names = lambda html: re.findall(r'/d/alpha/streets/\d+">([^<]+)</a>', html)  # noqa: E731
    assert len(names(first)) == 20 and len(names(second)) == 5
    assert "共 25 条，第 2/2 页" in second
    everything = {f"分页街道{i:02d}" for i in range(1, 24)} | {"甲区第1街道", "甲区第2街道"}
    assert set(names(first)) | set(names(second)) == everything
    assert not set(names(first)) & set(names(second))
    # Search and paging together: the page link keeps the query.
    searched = client.get("/d/alpha/streets/?q=分页").get_data(as_text=True)
    assert "page=2" in searched and "q=" in searched
    assert len(names(client.get("/d/alpha/streets/?q=分页&page=2").get_data(as_text=True))) == 3


def test_empty_list_says_so(client, alpha):
    login(client, "alpha-district")
    html = client.get("/d/alpha/streets/?q=不存在的街道").get_data(as_text=True)
    assert "没有符合条件的街道" in html
    assert not re.search(r"/d/alpha/streets/\d+\"", html)
