"""A NUL byte or another control character is bad input, not a 500: refused with a message next
to the field on every form, a Chinese 400 page in an address or a query, and nothing written.
PostgreSQL cannot store a NUL in text at all (it raised), so each case also holds there."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from wuye_saas.auth.models import User
from wuye_saas.demands.models import Demand
from wuye_saas.evaluation.models import SurveyResponse
from wuye_saas.extensions import db
from wuye_saas.org.models import Street
from wuye_saas.tenancy import system_scope, tenant_scope

from .helpers import PASSWORD, csrf_token, login, post
from .test_demands import setup_categories
from .test_surveys import _evaluation, _public

MESSAGE = "不能包含不可见的控制字符"
PAGE = "不可见的控制字符（如 NUL）"
BAD = ["a\x00b", "a\x01b", "a\x1bb", "a\x0bb"]


def _count(app, ns, model) -> int:
    with app.app_context(), tenant_scope(ns.tenant_id):
        return db.session.execute(select(func.count(model.id))).scalar_one()


@pytest.mark.parametrize("bad", BAD)
def test_login_form(app, client, world, bad):
    resp = client.post("/login", data={"username": "alpha-" + bad, "password": PASSWORD,
                                       "csrf_token": csrf_token(client)})
    assert resp.status_code == 200 and MESSAGE in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "alpha-district", "password": bad,
                                       "csrf_token": csrf_token(client)})
    assert MESSAGE in resp.get_data(as_text=True)
    assert client.get("/d/alpha/").status_code == 302   # not logged in


def test_tab_newline_and_return_are_ordinary_text(app, client, world):
    login(client, "alpha-district")
    resp = post(client, "/d/alpha/streets/new", {"name": "新建\t街道"})
    assert resp.status_code == 302


@pytest.mark.parametrize("bad", BAD[:2])
def test_bill_lookup_by_form_and_by_link(app, client, world, bad):
    resp = post(client, "/p/alpha/bill", {"code": "AL1" + bad})
    assert resp.status_code == 422 and MESSAGE in resp.get_data(as_text=True)
    resp = client.get("/p/alpha/bill", query_string={"code": "AL1" + bad})
    assert resp.status_code == 400 and PAGE in resp.get_data(as_text=True)


def test_public_demand(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    url = f"/p/alpha/c/{a.compound1}/demand"
    client.get(url)
    good = {"category_id": str(next(iter(cats.values()))), "title": "垃圾没清运", "description": "楼下",
            "household_code": "AL1CODE1", "contact_name": "张三", "contact_phone": "13912345678"}
    for field in ("title", "description", "contact_name", "household_code"):
        resp = post(client, url, {**good, field: good[field] + "\x00"})
        assert resp.status_code == 422 and MESSAGE in resp.get_data(as_text=True), field
    # A field no form knows, carrying a NUL: refused as a whole, nothing written.
    resp = post(client, url, {**good, "extra": "\x00"})
    assert resp.status_code == 400 and PAGE in resp.get_data(as_text=True)
    resp = post(client, url, {**good, "ex\x00tra": "1"})
    assert resp.status_code == 400
    assert _count(app, a, Demand) == 0


def test_public_survey(app, client, world):
    ns = world["alpha"]
    e = _evaluation(app, ns)
    resp = _public(client, ns, e, "AL1CODE1\x00")
    assert resp.status_code == 422 and MESSAGE in resp.get_data(as_text=True)
    url = f"/p/{ns.slug}/c/{ns.compound1}/survey"
    resp = post(client, url, {"survey_id": str(e["survey"]), "household_code": "AL1CODE1",
                              f"q{e['a']}": "satisfied", f"q{e['b']}": "satisfied", "comment": "灯\x00坏了"})
    assert resp.status_code == 422 and MESSAGE in resp.get_data(as_text=True)
    resp = post(client, url, {"survey_id": str(e["survey"]) + "\x00", "household_code": "AL1CODE1",
                              f"q{e['a']}": "satisfied", f"q{e['b']}": "satisfied"})
    assert resp.status_code in (400, 404)
    assert _count(app, ns, SurveyResponse) == 0


def test_logged_in_forms(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    streets = _count(app, a, Street)
    for data in ({"name": "新\x00街道"}, {"name": "新街道", "code": "\x07"}):
        resp = post(client, "/d/alpha/streets/new", data)
        assert resp.status_code == 422 and MESSAGE in resp.get_data(as_text=True), data
    # A value the form does not read is refused before anything is written.
    resp = post(client, "/d/alpha/streets/new", {"name": "新街道", "note": "\x00"})
    assert resp.status_code == 400 and PAGE in resp.get_data(as_text=True)
    assert _count(app, a, Street) == streets
    resp = post(client, "/d/alpha/users/new", {"username": "new-one", "display_name": "新\x00人",
                                               "password": "Good-pass-123", "role": "district_admin"})
    assert resp.status_code == 422 and MESSAGE in resp.get_data(as_text=True)
    resp = post(client, "/account/password", {"current": PASSWORD, "new": "Better-pass\x0099",
                                              "confirm": "Better-pass\x0099"})
    assert resp.status_code == 200 and MESSAGE in resp.get_data(as_text=True)
    with app.app_context(), system_scope():
        assert db.session.execute(select(func.count(User.id)).filter_by(username="new-one")).scalar_one() == 0


@pytest.mark.parametrize("url", ["/d/alpha/compounds/?q=%00", "/d/alpha/demands/?status=new%01",
                                 "/d/al%00pha/", "/p/alpha/demand?number=%00&code=x", "/login?next=/d/%00"])
def test_addresses_and_queries_are_a_chinese_400(client, world, url):
    login(client, "alpha-district")
    resp = client.get(url)
    assert resp.status_code == 400 and PAGE in resp.get_data(as_text=True), url
