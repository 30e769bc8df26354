"""The scoring standard builder: what keeps a standard from activating, activation, freezing,
new versions, the default standard, who may write, and the audit trail."""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.evaluation import default_standard, standards
from wuye_saas.evaluation.models import Evaluation, Standard, StandardCategory, StandardItem
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post

BASE = "/d/alpha/standards"
HX = {"HX-Request": "true"}


# --- building blocks --------------------------------------------------------------------------

def _small_standard(name="测试标准") -> Standard:
    """A valid standard without indicator-computed items: 2 categories = 100 points."""
    s = standards.create_standard(name, "compound", "100", "5")
    a = standards.add_category(s, "党建引领")
    b = standards.add_category(s, "基础服务")
    standards.add_item(s, standards.ItemData(kind="regular", name="党员从业人员", category_id=a.id, max_points=Decimal("20"),
                                             method="graded", scorer="self",
                                             levels=[{"label": "少于3人", "points": "5"}, {"label": "5人以上", "points": "20"}]))
    standards.add_item(s, standards.ItemData(kind="regular", name="保洁", category_id=b.id, max_points=Decimal("50"),
                                             method="deduction", scorer="community", deduction_per=Decimal("1")))
    standards.add_item(s, standards.ItemData(kind="regular", name="明码标价", category_id=b.id, max_points=Decimal("10"),
                                             method="yesno", scorer="community"))
    standards.add_item(s, standards.ItemData(kind="regular", name="居民满意度", category_id=b.id, max_points=Decimal("20"),
                                             method="computed", scorer="survey", question="您对物业服务是否满意？"))
    standards.add_item(s, standards.ItemData(kind="bonus", name="荣誉", max_points=Decimal("5"), method="graded",
                                             scorer="self", levels=[{"label": "无", "points": "0"},
                                                                    {"label": "市级", "points": "5"}]))
    standards.add_item(s, standards.ItemData(kind="veto", name="挪用维修资金", veto_effect="zero_black", scorer="street"))
    db.session.flush()
    db.session.expire(s)
    return s


def _item(s: Standard, name: str) -> StandardItem:
    return next(i for i in s.items if i.name == name)


def _snapshot(standard_id: int) -> dict:
    """Everything stored for a standard, to compare before and after a refused write."""
    s = db.session.get(Standard, standard_id)
    db.session.refresh(s)
    cols = lambda o: {c.key: getattr(o, c.key) for c in o.__table__.columns}  # noqa: E731
    return {"standard": cols(s),
            "categories": [cols(c) for c in db.session.execute(select(StandardCategory).where(
                StandardCategory.standard_id == standard_id).order_by(StandardCategory.id)).scalars()],
            "items": [cols(i) for i in db.session.execute(select(StandardItem).where(
                StandardItem.standard_id == standard_id).order_by(StandardItem.id)).scalars()]}


def _audit_count() -> int:
    """Audit events of standards, their categories and items (logins write their own)."""
    return db.session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.entity.in_(("standard", "standard_category", "standard_item")))).scalar()


@pytest.fixture
def alpha(app, world):
    """An app context inside district alpha."""
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        yield world["alpha"]


@pytest.fixture
def keys(monkeypatch):
    """The computed indicators the contract names (indicators.computed), pinned for these tests
    so they do not depend on that module's progress."""
    known = {k: v for k, v in standards.COMPUTED_LABELS.items()}
    monkeypatch.setattr(standards, "computed_keys", lambda: dict(known))
    return known


# --- problems() ---------------------------------------------------------------------------------

def test_a_valid_standard_has_no_problems(alpha, keys):
    s = _small_standard()
    assert standards.problems(s) == []
    assert standards.summary(s)["total"] == Decimal("100")


@pytest.mark.parametrize("breaks, message", [
    (lambda s: setattr(_item(s, "保洁"), "max_points", Decimal("45")), "基本项满分合计 95 分，须等于标准总分 100 分。"),
    (lambda s: setattr(s, "total_points", Decimal("120")), "基本项满分合计 100 分，须等于标准总分 120 分。"),
    (lambda s: setattr(_item(s, "党员从业人员"), "levels", [{"label": "a", "points": "5"}, {"label": "b", "points": "25"}]),
     "“党员从业人员”：各档分值须在 0 到满分 20 分之间。"),
    (lambda s: setattr(_item(s, "党员从业人员"), "levels", [{"label": "a", "points": "5"}, {"label": "b", "points": "15"}]),
     "“党员从业人员”：须有一档为满分 20 分。"),
    (lambda s: setattr(_item(s, "党员从业人员"), "levels", [{"label": "a", "points": "-1"}, {"label": "b", "points": "20"}]),
     "“党员从业人员”：各档分值须在 0 到满分 20 分之间。"),
    (lambda s: setattr(_item(s, "保洁"), "deduction_per", Decimal("0")), "“保洁”：每次扣分须大于 0。"),
    (lambda s: setattr(_item(s, "保洁"), "deduction_per", None), "“保洁”：每次扣分须大于 0。"),
    (lambda s: (setattr(_item(s, "明码标价"), "method", "computed"), setattr(_item(s, "明码标价"), "scorer", "system"),
                setattr(_item(s, "明码标价"), "computed_key", "no_such_rate")),
     "“明码标价”：计算指标“no_such_rate”不存在。"),
    (lambda s: (setattr(_item(s, "明码标价"), "method", "computed"), setattr(_item(s, "明码标价"), "scorer", "system")),
     "“明码标价”：请选择计算指标。"),
    (lambda s: setattr(_item(s, "居民满意度"), "method", "yesno"), "“居民满意度”：居民满意度测评打分的项须为“系统数据计算”。"),
    (lambda s: setattr(_item(s, "挪用维修资金"), "veto_effect", None), "“挪用维修资金”：一票否决项须选择否决后果。"),
    (lambda s: setattr(s, "star_bands", [{"stars": 5, "min": "85"}, {"stars": 4, "min": "85"}, {"stars": 1, "min": "0"}]),
     "星级最低分须严格从高到低递减。"),
    (lambda s: setattr(s, "star_bands", [{"stars": 5, "min": "85"}, {"stars": 4, "min": "60"}]),
     "最低一档星级的最低分须为 0，使每个总分都有星级。"),
    (lambda s: setattr(s, "star_bands", []), "请设置星级标准。"),
    (lambda s: setattr(s, "cycle_weights", {"monthly": 40, "quarterly": 50, "annual": 0}), "年度考核各周期权重合计为 90%，须为 100%。"),
    (lambda s: setattr(s, "list_rules", [r for r in s.list_rules if r["list"] != "red"]), "须至少设一条红榜规则。"),
    (lambda s: setattr(s, "list_rules", [r for r in s.list_rules if r["list"] != "black"]), "须至少设一条黑榜规则。"),
    (lambda s: setattr(s, "bonus_cap", Decimal("0")), "设有加分项时，加分上限须大于 0。"),
])
def test_problems_names_each_bad_configuration(alpha, keys, breaks, message):
    s = _small_standard()
    s.list_rules = copy.deepcopy(s.list_rules)
    breaks(s)
    found = standards.problems(s)
    assert message in found, found


def test_computed_items_need_the_indicators_module(alpha, monkeypatch):
    s = _small_standard()
    item = _item(s, "明码标价")
    item.method, item.scorer, item.computed_key = "computed", "system", "collection_rate"
    monkeypatch.setattr(standards, "computed_keys", lambda: {})
    assert "“明码标价”：系统计算指标尚未就绪，暂不能使用系统数据计算项。" in standards.problems(s)
    monkeypatch.setattr(standards, "computed_keys", lambda: {"collection_rate": "缴费率"})
    assert standards.problems(s) == []


def test_an_empty_category_is_a_problem(alpha, keys):
    s = _small_standard()
    standards.add_category(s, "空分类")
    assert "分类“空分类”还没有评分项。" in standards.problems(s)


# --- activation ------------------------------------------------------------------------------------

def test_activation_is_refused_while_problems_exist_and_writes_nothing(app, client, world, keys):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = _small_standard()
        _item(s, "保洁").max_points = Decimal("40")
        db.session.commit()
        sid = s.id
        before, events = _snapshot(sid), _audit_count()
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/{sid}/activate")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "不能启用" in html and "基本项满分合计 90 分，须等于标准总分 100 分。" in html
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert _snapshot(sid) == before
        assert _audit_count() == events
        assert db.session.get(Standard, sid).status == "draft"
    # the builder shows the same problems and the running sum
    page = client.get(f"{BASE}/{sid}").get_data(as_text=True)
    assert "90 / 100" in page and "基本项满分合计 90 分" in page


def test_activating_retires_the_previous_active_version_of_the_same_name(app, client, world, keys):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s1 = _small_standard()
        standards.activate(s1)
        other = _small_standard("另一标准")
        standards.activate(other)
        s2 = standards.new_version(s1)
        db.session.commit()
        ids = s1.id, s2.id, other.id
    login(client, "alpha-district")
    assert "将停用" in client.get(f"{BASE}/{ids[1]}/activate").get_data(as_text=True)
    resp = post(client, f"{BASE}/{ids[1]}/activate")
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        got = {i: db.session.get(Standard, i) for i in ids}
        assert (got[ids[0]].status, got[ids[1]].status, got[ids[2]].status) == ("retired", "active", "active")
        assert got[ids[1]].activated_at is not None
        assert standards.active_standard().id == ids[1]


# --- frozen ---------------------------------------------------------------------------------------

def _write_routes(sid: int, cid: int, iid: int) -> list[tuple[str, dict]]:
    return [
        (f"{BASE}/{sid}/settings", {"name": "改名", "unit": "firm", "total_points": "90", "bonus_cap": "0"}),
        (f"{BASE}/{sid}/categories/new", {"name": "新分类"}),
        (f"/d/alpha/standards/categories/{cid}/edit", {"name": "改名分类"}),
        (f"/d/alpha/standards/categories/{cid}/delete", {}),
        (f"{BASE}/{sid}/items/new?kind=regular", {"name": "新项", "category_id": str(cid), "max_points": "5",
                                                  "method": "yesno", "scorer": "community"}),
        (f"/d/alpha/standards/items/{iid}/edit", {"name": "改项", "category_id": str(cid), "max_points": "20",
                                                  "method": "yesno", "scorer": "community"}),
        (f"/d/alpha/standards/items/{iid}/delete", {}),
        (f"{BASE}/{sid}/bands", {"min5": "90", "min4": "80", "min3": "70", "min2": "60", "min1": "0"}),
        (f"{BASE}/{sid}/lists/edit", {"list_kind": "red", "rule": "top_rank", "value": "3"}),
        (f"{BASE}/{sid}/lists/delete?index=0", {}),
        (f"{BASE}/{sid}/consequences", {"red_kinds": "priority_renewal", "yellow_kinds": "interview",
                                        "black_text": "退出"}),
        (f"{BASE}/{sid}/weights", {"monthly": "50", "quarterly": "50", "annual": "0"}),
        (f"{BASE}/{sid}/activate", {}),
        (f"{BASE}/{sid}/delete", {}),
    ]


def test_a_frozen_standard_refuses_every_edit_with_409_and_stays_unchanged(app, client, world, keys):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = _small_standard()
        standards.activate(s)
        standards.freeze(s)
        db.session.commit()
        sid, cid, iid = s.id, s.categories[0].id, s.items[0].id
        before, events = _snapshot(sid), _audit_count()
    login(client, "alpha-district")
    for url, data in _write_routes(sid, cid, iid):
        for headers in ({}, HX):
            resp = post(client, url, data, headers=headers)
            assert resp.status_code == 409, (url, resp.status_code)
            assert "不能" in resp.get_data(as_text=True), url
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert _snapshot(sid) == before
        assert _audit_count() == events
    page = client.get(f"{BASE}/{sid}").get_data(as_text=True)
    assert "已用于考核，已冻结" in page and "复制为新版本" in page
    assert f"/items/{iid}/edit" not in page and "新增分类" not in page
    # The edit forms of a frozen version say why instead of offering a form.
    form_page = client.get(f"/d/alpha/standards/items/{iid}/edit").get_data(as_text=True)
    assert "已冻结" in form_page and 'name="max_points"' not in form_page


def test_a_draft_in_use_is_frozen_by_freeze_and_freeze_keeps_the_first_time(alpha):
    s = _small_standard()
    standards.freeze(s)
    first = s.frozen_at
    standards.freeze(s)
    assert s.frozen_at == first
    with pytest.raises(standards.NotEditable) as e:
        standards.add_category(s, "再加一个")
    assert e.value.status == 409 and "已冻结" in e.value.message


# --- new versions ---------------------------------------------------------------------------------

def test_new_version_copies_everything_with_new_ids_and_leaves_the_old_one(app, client, world, keys):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = standards.adopt_default("复制测试标准")
        standards.activate(s)
        ev = Evaluation(standard_id=s.id, kind="quarterly", name="2025年第四季度季测评", period_start=date(2025, 10, 1),
                        period_end=date(2025, 12, 31), self_report_due=date(2026, 1, 10), review_due=date(2026, 1, 20))
        db.session.add(ev)
        standards.freeze(s)
        db.session.commit()
        old_id, ev_id = s.id, ev.id
        before = _snapshot(old_id)
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/{old_id}/copy")
    assert resp.status_code == 302
    new_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        old, new = db.session.get(Standard, old_id), db.session.get(Standard, new_id)
        assert (new.name, new.version, new.status, new.based_on_id, new.frozen_at) == ("复制测试标准", 2, "draft", old_id, None)
        for attr in ("unit", "total_points", "bonus_cap", "star_bands", "list_rules", "consequences", "cycle_weights"):
            assert getattr(new, attr) == getattr(old, attr), attr
        assert [c.name for c in new.categories] == [c.name for c in old.categories]
        assert not {c.id for c in new.categories} & {c.id for c in old.categories}
        assert not {i.id for i in new.items} & {i.id for i in old.items}
        fields = ("kind", "name", "criterion", "max_points", "method", "scorer", "levels", "deduction_per",
                  "computed_key", "evidence_required", "veto_effect", "sort")
        assert [tuple(getattr(i, f) for f in fields) for i in new.items] == \
               [tuple(getattr(i, f) for f in fields) for i in old.items]
        # each copied item sits in the copy of its category
        new_cats = {c.id: c.name for c in new.categories}
        old_cats = {c.id: c.name for c in old.categories}
        assert [new_cats.get(i.category_id) for i in new.items] == [old_cats.get(i.category_id) for i in old.items]
        assert standards.problems(new) == []
        item = next(i for i in new.items if i.name == "保洁（垃圾日产日清等）")
        item_id, cat_id = item.id, item.category_id
    # editing the copy leaves the old version and its evaluation alone
    resp = post(client, f"/d/alpha/standards/items/{item_id}/edit",
                {"name": "保洁", "category_id": str(cat_id), "max_points": "8", "method": "deduction", "deduction_per": "2",
                 "scorer": "community"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.get(StandardItem, item_id).max_points == Decimal("8.00")
        assert _snapshot(old_id) == before
        assert db.session.get(Evaluation, ev_id).standard_id == old_id
        assert "基本项满分合计 98 分，须等于标准总分 100 分。" in standards.problems(db.session.get(Standard, new_id))


# --- the default standard ----------------------------------------------------------------------

def test_the_default_standard_adopts_to_exactly_100_points_and_activates(app, client, world, keys):
    login(client, "alpha-district")
    page = client.get(f"{BASE}/adopt").get_data(as_text=True)
    assert "党建引领" in page and "居民满意度" in page
    resp = post(client, f"{BASE}/adopt", {"name": default_standard.NAME})
    assert resp.status_code == 302
    sid = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = db.session.get(Standard, sid)
        summary = standards.summary(s)
        assert {c["category"].name: c["sum"] for c in summary["categories"]} == {
            "党建引领": 15, "基础服务": 40, "信息公开与财务规范": 15, "诉求响应与沟通": 10, "居民满意度": 20}
        assert summary["total"] == Decimal("100") == s.total_points
        assert [i.name for i in summary["veto"]] == ["挪用/骗取/套取维修资金", "合同终止拒不退出", "物业原因致安全事故/群访"]
        assert all(i.veto_effect == "zero_black" for i in summary["veto"])
        assert [(i.name, i.max_points) for i in summary["bonus"]] == [("表彰荣誉加分", Decimal("5.00"))]
        assert s.bonus_cap == Decimal("5.00")
        party = next(i for i in s.items if i.name == "项目党组织/党员从业人员")
        assert [lv["points"] for lv in party.levels] == ["1", "3", "5"]
        cleaning = next(i for i in s.items if i.name.startswith("保洁"))
        assert (cleaning.method, cleaning.deduction_per) == ("deduction", Decimal("1.00"))
        asked = [(i.question, i.method, i.computed_key, i.max_points) for i in s.items if i.scorer == "survey"]
        # Residents are asked four plain questions; none of them is the scoring formula.
        assert [q for q, *_ in asked] == ["您对小区公共区域的卫生保洁和垃圾清运是否满意？",
                                          "您对小区门岗值守、安全巡逻和车辆停放秩序是否满意？",
                                          "您对物业报修的响应速度和维修质量是否满意？",
                                          "总体来看，您对本小区的物业服务是否满意？"]
        assert {(m_, k, p) for _, m_, k, p in asked} == {("computed", None, Decimal("3.75"))}
        assert {i.no_survey_rule for i in s.items if i.scorer == "survey"} == {"zero"}
        # The owners' committee opinion (config: 0.1 beside the survey's 0.3) shares the 20 points.
        assert [(i.name, i.method, i.max_points, i.category.name) for i in s.items if i.scorer == "committee"] == [
            ("业主委员会履约评价", "points", Decimal("5.00"), "居民满意度")]
        assert all(i.question == "" for i in s.items if i.scorer != "survey")
        assert {i.computed_key for i in s.items if i.scorer == "system"} == {"demand_on_time_rate", "publicity_compliance_rate"}
        assert [(b["stars"], b["min"]) for b in s.star_bands] == [(5, "85"), (4, "80"), (3, "70"), (2, "60"), (1, "0")]
        assert s.cycle_weights == {"monthly": 40, "quarterly": 60, "annual": 0}
        assert s.consequences["black"] == [{"kind": "interview"}, {"kind": "exit_procedure"},
                                           {"kind": "restrict_tender"}, {"kind": "restrict_award"}]
        assert s.consequences["red"] == [{"kind": "priority_renewal"}, {"kind": "tender_bonus", "points": "2"}]
        assert standards.problems(s) == []
    assert post(client, f"{BASE}/{sid}/activate").status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.get(Standard, sid).status == "active"
        count = db.session.execute(select(func.count(Standard.id))).scalar()
    # a second adoption under the same name and version is refused, clearly, writing nothing
    resp = post(client, f"{BASE}/adopt", {"name": default_standard.NAME})
    assert resp.status_code == 422
    assert f"已有“{default_standard.NAME}”第1版评分标准，不能重复采用" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(func.count(Standard.id))).scalar() == count


def test_the_default_uses_only_indicators_the_contract_names():
    keys = {i.get("key") for _, items in default_standard.CATEGORIES for i in items if i.get("key")}
    assert keys <= set(standards.COMPUTED_LABELS)
    try:
        from wuye_saas.indicators.computed import COMPUTED
    except ImportError:
        return
    assert keys <= set(COMPUTED)


# --- the builder through the web ---------------------------------------------------------------

def _new_draft(client, name="自建标准") -> int:
    resp = post(client, f"{BASE}/new", {"name": name, "unit": "compound", "total_points": "100", "bonus_cap": "0"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_build_a_standard_with_htmx_rows(app, client, world, keys):
    login(client, "alpha-district")
    sid = _new_draft(client)
    # a category, answered with the whole builder swapped over the old one
    resp = post(client, f"{BASE}/{sid}/categories/new", {"name": "服务质量"}, headers=HX)
    assert resp.status_code == 200 and resp.headers["HX-Retarget"] == "#builder"
    assert 'id="builder"' in resp.get_data(as_text=True) and "已新增分类“服务质量”。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        cid = db.session.execute(select(StandardCategory.id).where(StandardCategory.standard_id == sid)).scalar_one()
    # the item form is a partial for htmx
    form = client.get(f"{BASE}/{sid}/items/new?kind=regular&category_id={cid}", headers=HX).get_data(as_text=True)
    assert "<html" not in form and 'name="levels"' in form
    # a graded item whose levels miss the maximum: 422, the message next to the field, nothing written
    bad = {"name": "党员", "category_id": str(cid), "max_points": "100", "method": "graded", "scorer": "self",
           "levels": "少于3人 1\n3至5人 3"}
    resp = post(client, f"{BASE}/{sid}/items/new?kind=regular", bad, headers=HX)
    assert resp.status_code == 422
    assert "须有一档为满分 100 分。" in resp.get_data(as_text=True) and "is-invalid" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/{sid}/items/new?kind=regular", {**bad, "levels": "少于3人 1\n多 几分"})
    assert resp.status_code == 422 and "第 2 行应为“档次说明 分值”" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(func.count(StandardItem.id)).where(StandardItem.standard_id == sid)).scalar() == 0
    resp = post(client, f"{BASE}/{sid}/items/new?kind=regular", {**bad, "levels": "少于3人 1\n3至5人 30\n5人以上 100"}, headers=HX)
    assert resp.status_code == 200 and "5人以上 100分" in resp.get_data(as_text=True)
    assert 'data-testid="no-problems"' in resp.get_data(as_text=True)
    # a veto item needs its effect
    resp = post(client, f"{BASE}/{sid}/items/new?kind=veto", {"name": "拒不退出", "scorer": "street", "veto_effect": ""})
    assert resp.status_code == 422 and "一票否决项须选择否决后果。" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/{sid}/items/new?kind=veto",
                {"name": "拒不退出", "scorer": "street", "veto_effect": "zero_black"}).status_code == 302
    # survey-scored items must be computed
    resp = post(client, f"{BASE}/{sid}/items/new?kind=bonus", {"name": "满意度", "max_points": "5", "method": "yesno",
                                                               "scorer": "survey"})
    assert resp.status_code == 422 and "居民满意度测评打分的项须为“系统数据计算”。" in resp.get_data(as_text=True)
    # weights must add up to 100; bands must descend
    resp = post(client, f"{BASE}/{sid}/weights", {"monthly": "40", "quarterly": "50", "annual": "0"}, headers=HX)
    assert resp.status_code == 422 and "合计为 90%，须为 100%" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/{sid}/bands", {"min5": "80", "min4": "85", "min3": "70", "min2": "60", "min1": "0"})
    assert resp.status_code == 422 and "星级最低分须严格从高到低递减。" in resp.get_data(as_text=True)
    # list rules: add one, edit it, delete it after confirmation
    resp = post(client, f"{BASE}/{sid}/lists/edit", {"list_kind": "red", "rule": "top_rank", "value": "3"})
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        rules = db.session.get(Standard, sid).list_rules
        assert rules[-1] == {"list": "red", "rule": "top_rank", "value": 3}
        n = len(rules) - 1
    assert post(client, f"{BASE}/{sid}/lists/edit?index={n}", {"list_kind": "red", "rule": "top_rank", "value": "5"}).status_code == 302
    confirm = client.get(f"{BASE}/{sid}/lists/delete?index={n}", headers=HX).get_data(as_text=True)
    assert "确定删除红榜规则“排名前5名”吗？" in confirm
    assert post(client, f"{BASE}/{sid}/lists/delete?index={n}").status_code == 302
    resp = post(client, f"{BASE}/{sid}/lists/edit", {"list_kind": "red", "rule": "stars_at_least", "value": ""})
    assert resp.status_code == 422 and "请填写条件的数值。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert len(db.session.get(Standard, sid).list_rules) == n
    # consequences: kinds the product understands, 招投标加分 with its points, free-text lines
    resp = post(client, f"{BASE}/{sid}/consequences", {"red_kinds": ["priority_renewal", "tender_bonus"],
                                                        "yellow_kinds": "interview"})
    assert resp.status_code == 422 and "选择了招投标加分，请填写加分分值。" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/{sid}/consequences", {"red_kinds": "tender_bonus", "red_points": "25"})
    assert resp.status_code == 422 and "加分分值不能超过 20 分" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/{sid}/consequences", {
        "red_kinds": ["priority_renewal", "tender_bonus"], "red_points": "2.5", "yellow_kinds": "interview",
        "black_kinds": ["interview", "exit_procedure"], "black_text": "通报街道\n\n约谈法定代表人"}).status_code == 302
    # the whole thing now activates
    assert post(client, f"{BASE}/{sid}/activate").status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = db.session.get(Standard, sid)
        assert s.status == "active" and s.consequences["red"] == [{"kind": "priority_renewal"},
                                                                   {"kind": "tender_bonus", "points": "2.5"}]
        assert s.consequences["black"] == [{"kind": "interview"}, {"kind": "exit_procedure"},
                                           {"kind": "text", "text": "通报街道"}, {"kind": "text", "text": "约谈法定代表人"}]


def test_a_survey_item_asks_residents_a_question_of_its_own(app, client, world, keys):
    """Residents read the question on the survey, not the scoring formula: it is required."""
    login(client, "alpha-district")
    sid = _new_draft(client)
    survey = {"name": "满意度", "max_points": "5", "method": "computed", "scorer": "survey",
              "criterion": "得分 = 5 × 满意率"}
    resp = post(client, f"{BASE}/{sid}/items/new?kind=bonus", survey)
    assert resp.status_code == 422 and "居民满意度测评打分的项须填写居民问题" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(StandardItem.id).where(StandardItem.standard_id == sid,
                                                                StandardItem.scorer == "survey")).first() is None
    assert post(client, f"{BASE}/{sid}/items/new?kind=bonus",
                {**survey, "question": " 您对物业服务是否满意？ "}).status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(StandardItem.question).where(
            StandardItem.standard_id == sid, StandardItem.scorer == "survey")).scalar_one() == "您对物业服务是否满意？"


def test_a_survey_item_chooses_what_it_earns_without_a_valid_survey(app, client, world, keys):
    """The rule is a select with Chinese labels; 计 0 分 unless chosen otherwise; a made-up rule
    is refused next to the field and nothing is written."""
    login(client, "alpha-district")
    sid = _new_draft(client)
    form = client.get(f"{BASE}/{sid}/items/new?kind=bonus").get_data(as_text=True)
    assert "无有效测评时（居民满意度测评）" in form and "沿用上次有效测评的满意率" in form
    survey = {"name": "满意度", "max_points": "5", "method": "computed", "scorer": "survey",
              "question": "您对物业服务是否满意？"}
    resp = post(client, f"{BASE}/{sid}/items/new?kind=bonus", {**survey, "no_survey_rule": "always_full"})
    assert resp.status_code == 422 and "请选择无有效测评时的计分规则。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.execute(select(StandardItem.id).where(StandardItem.standard_id == sid)).first() is None
    assert post(client, f"{BASE}/{sid}/items/new?kind=bonus", survey).status_code == 302
    assert post(client, f"{BASE}/{sid}/items/new?kind=bonus",
                {**survey, "name": "总体满意度", "no_survey_rule": "last"}).status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        rules = dict(db.session.execute(select(StandardItem.name, StandardItem.no_survey_rule)
                                        .where(StandardItem.standard_id == sid)).all())
    assert rules == {"满意度": "zero", "总体满意度": "last"}
    builder = client.get(f"{BASE}/{sid}").get_data(as_text=True)
    assert "无有效测评：计 0 分" in builder and "无有效测评：沿用上次有效测评的满意率" in builder


def test_the_committee_scores_only_compound_items_and_never_a_veto(app, client, world, keys):
    login(client, "alpha-district")
    sid = _new_draft(client)
    veto = {"name": "业委会否决", "veto_effect": "zero_black", "scorer": "committee"}
    resp = post(client, f"{BASE}/{sid}/items/new?kind=veto", veto)
    assert resp.status_code == 422 and "一票否决情形由社区或街道认定，不能由业主委员会认定。" in resp.get_data(as_text=True)
    opinion = {"name": "业委会评价", "max_points": "5", "method": "points", "scorer": "committee"}
    assert post(client, f"{BASE}/{sid}/items/new?kind=bonus", opinion).status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = db.session.get(Standard, sid)
        assert [(i.name, i.scorer) for i in s.items] == [("业委会评价", "committee")]
        s.unit = "firm"   # switched afterwards: activation names the item's problem
        assert "按企业考核的标准不能设业主委员会评分的项（业委会按小区评价）。" in standards.problems(s)
        db.session.rollback()


def test_deleting_a_category_asks_first_and_takes_its_items(app, client, world, keys):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = _small_standard()
        db.session.commit()
        sid, cid = s.id, next(c.id for c in s.categories if c.name == "基础服务")
    login(client, "alpha-district")
    confirm = client.get(f"/d/alpha/standards/categories/{cid}/delete").get_data(as_text=True)
    assert "确定删除分类“基础服务”及其中的 3 个评分项吗？" in confirm
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert db.session.get(StandardCategory, cid) is not None   # the GET wrote nothing
    resp = post(client, f"/d/alpha/standards/categories/{cid}/delete", headers=HX)
    assert resp.status_code == 200 and "已删除分类“基础服务”及其 3 个评分项。" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = db.session.get(Standard, sid)
        assert [c.name for c in s.categories] == ["党建引领"]
        assert sorted(i.name for i in s.items) == sorted(["挪用维修资金", "荣誉", "党员从业人员"])
        assert "基本项满分合计 20 分，须等于标准总分 100 分。" in standards.problems(s)


def test_a_new_standard_needs_a_free_name(app, client, world):
    login(client, "alpha-district")
    _new_draft(client, "同名标准")
    resp = post(client, f"{BASE}/new", {"name": "同名标准", "unit": "compound", "total_points": "100", "bonus_cap": "0"})
    assert resp.status_code == 422 and "已有名为“同名标准”的评分标准" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/new", {"name": "总分为零", "unit": "compound", "total_points": "0", "bonus_cap": "0"})
    assert resp.status_code == 422 and "标准总分必须大于 0" in resp.get_data(as_text=True)
    for points, message in [("1000.01", "标准总分不能超过 1,000 分"), ("1e20", "请填写数字"), ("NaN", "请填写数字")]:
        resp = post(client, f"{BASE}/new", {"name": "总分过大", "unit": "compound", "total_points": points,
                                            "bonus_cap": "0"})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), points
    resp = post(client, f"{BASE}/new", {"name": "加分过大", "unit": "compound", "total_points": "100",
                                        "bonus_cap": "Infinity"})
    assert resp.status_code == 422 and "请填写数字" in resp.get_data(as_text=True)


# --- who may write ------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["alpha-street", "alpha-community", "alpha-firm", "alpha-committee", "alpha-assessor"])
def test_only_the_district_admin_writes(app, client, world, keys, user):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = _small_standard()
        db.session.commit()
        sid, cid, iid = s.id, s.categories[0].id, s.items[0].id
        before = _snapshot(sid)
    login(client, user)
    # everyone reads the district's rules, without edit controls
    page = client.get(f"{BASE}/{sid}")
    assert page.status_code == 200 and "党员从业人员" in page.get_data(as_text=True)
    assert "新增分类" not in page.get_data(as_text=True)
    assert client.get(f"{BASE}/").status_code == 200
    for url in (f"{BASE}/new", f"{BASE}/adopt", f"{BASE}/{sid}/settings", f"/d/alpha/standards/items/{iid}/edit"):
        assert client.get(url).status_code == 403, url
    for url, data in _write_routes(sid, cid, iid) + [(f"{BASE}/new", {"name": "x", "unit": "compound",
                                                                      "total_points": "100", "bonus_cap": "0"}),
                                                     (f"{BASE}/adopt", {"name": "x"}), (f"{BASE}/{sid}/copy", {})]:
        assert post(client, url, data).status_code == 403, url
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        assert _snapshot(sid) == before
        assert db.session.execute(select(func.count(Standard.id))).scalar() == 1


def test_another_districts_standard_is_404(app, client, world, keys):
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        s = _small_standard()
        db.session.commit()
        sid, cid, iid = s.id, s.categories[0].id, s.items[0].id
    login(client, "beta-district")
    assert client.get(f"/d/beta/standards/{sid}").status_code == 404
    assert client.get(f"/d/beta/standards/items/{iid}/edit").status_code == 404
    assert post(client, f"/d/beta/standards/categories/{cid}/delete").status_code == 404
    assert post(client, f"/d/beta/standards/{sid}/copy").status_code == 404
    assert client.get(f"{BASE}/{sid}").status_code == 404


# --- audit -------------------------------------------------------------------------------------

def test_builder_writes_are_audited(app, client, world, keys):
    login(client, "alpha-district")
    sid = _new_draft(client, "审计标准")
    assert post(client, f"{BASE}/{sid}/categories/new", {"name": "党建引领"}).status_code == 302
    assert post(client, f"{BASE}/{sid}/weights", {"monthly": "30", "quarterly": "70", "annual": "0"}).status_code == 302
    with app.app_context(), tenant_scope(world["alpha"].tenant_id):
        events = db.session.execute(select(AuditEvent).where(AuditEvent.entity.in_(("standard", "standard_category")))
                                    .order_by(AuditEvent.id)).scalars().all()
        got = [(e.action, e.entity, e.label) for e in events]
        assert ("create", "standard", "审计标准（第1版）") in got
        assert ("create", "standard_category", "党建引领") in got
        update = next(e for e in events if e.action == "update" and e.entity == "standard")
        assert update.changes["cycle_weights"] == {"before": {"monthly": 40, "quarterly": 60, "annual": 0},
                                                  "after": {"monthly": 30, "quarterly": 70, "annual": 0}}
        assert all(e.actor == "甲区district" for e in events)
