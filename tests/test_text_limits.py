"""Text is refused over its limit with a message next to the field, never cut to fit and
reported saved (formutil.too_long / Fits)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import String, func, select

from wuye_saas.evaluation.models import ItemScore
from wuye_saas.extensions import db
from wuye_saas.org.resources import RESOURCES
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post
from .test_evaluation_workflow import ev_world  # noqa: F401  (the fixture, found by name)
from .test_evaluation_workflow import assessment_of, open_cycle, scores, submit_report, url
from .test_register import cases


def _feedback_at(html: str, name: str) -> str:
    block = re.search(rf'name="{name}".*?<div class="invalid-feedback[^"]*">(.*?)</div>', html, re.S)
    return block.group(1).strip() if block else ""


def _self_note(app, w, score_id) -> str:
    with app.app_context(), tenant_scope(w["ns"].tenant_id):
        return db.session.get(ItemScore, score_id).self_note


def test_a_10000_character_self_report_note_is_refused_not_cut(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    a_id = scores(app, w, aid)["A"][0]
    login(client, "alpha-firm")
    long_note = "党" * 10000
    resp = post(client, url(aid, "self"), {f"s{a_id}-points": "3.00", f"s{a_id}-note": long_note,
                                           "action": "save"}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "已保存" not in html
    assert "不能超过 2000 个字（现为 10000 个字）" in _feedback_at(html, f"s{a_id}-note")
    assert scores(app, w, aid)["A"][1] is None and _self_note(app, w, a_id) == ""
    # 2,000 characters are kept whole.
    resp = post(client, url(aid, "self"), {f"s{a_id}-points": "3.00", f"s{a_id}-note": "党" * 2000,
                                           "action": "save"}, content_type="multipart/form-data")
    assert resp.status_code == 302 and _self_note(app, w, a_id) == "党" * 2000


def test_a_long_review_reason_is_refused_not_cut(app, client, ev_world):
    w, ns = ev_world, ev_world["ns"]
    aid = assessment_of(app, w, open_cycle(app, w), ns.compound1)
    login(client, "alpha-firm")
    submit_report(app, client, w, aid)
    a_id = scores(app, w, aid)["A"][0]
    login(client, "alpha-community")
    resp = post(client, url(aid, "review"), {f"s{a_id}-points": "5.00", f"s{a_id}-reason": "核" * 2001,
                                             "action": "save"})
    assert resp.status_code == 422
    assert "不能超过 2000 个字（现为 2001 个字）" in _feedback_at(resp.get_data(as_text=True), f"s{a_id}-reason")
    assert scores(app, w, aid)["A"][3:6] == (None, None, "")


def _text_fields(res):
    """(field, column length) of every register form field stored in a String(n) column."""
    for col in res.model.__table__.columns:
        field = getattr(res.form, col.key, None)
        if field is not None and isinstance(col.type, String) and col.type.length and \
                field.field_class.__name__ in ("StringField", "TextAreaField"):
            yield col.key, col.type.length


@pytest.mark.parametrize("res", RESOURCES, ids=[r.key for r in RESOURCES])
def test_register_refuses_text_longer_than_its_column(app, client, world, res):
    alpha = world["alpha"]
    login(client, "alpha-district")
    good = cases(alpha)[res.key].data
    with app.app_context(), tenant_scope(alpha.tenant_id):
        before = db.session.scalar(select(func.count()).select_from(res.model))
    for name, length in _text_fields(res):
        resp = post(client, f"/d/alpha/{res.key}/new", {**good, name: "长" * (length + 1)})
        assert resp.status_code == 422, name
        message = _feedback_at(resp.get_data(as_text=True), name)
        assert message, name   # refused next to the field: a length, or the field's own format
        if "phone" not in name and name not in ("household_code", "credit_code"):  # format checks speak first
            assert f"不能超过 {length} 个字" in message, (name, message)
    with app.app_context(), tenant_scope(alpha.tenant_id):
        assert db.session.scalar(select(func.count()).select_from(res.model)) == before


def _form_classes():
    import importlib
    import pkgutil

    import wuye_saas
    from wuye_saas.formutil import Form
    for info in pkgutil.walk_packages(wuye_saas.__path__, "wuye_saas."):
        importlib.import_module(info.name)
    todo, seen = list(Form.__subclasses__()), []
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def test_every_text_field_of_every_form_is_bounded(app):
    """A text input is bounded by a length, a pattern or its own parsing check (an amount, a
    month): none reaches the logic unbounded, where a column would cut or refuse it."""
    from wtforms import PasswordField, StringField
    from wtforms.fields.core import UnboundField
    from wtforms.validators import Length, Regexp

    unbounded = []
    for cls in _form_classes():
        for name in dir(cls):
            field = getattr(cls, name, None)
            if not isinstance(field, UnboundField) or not issubclass(field.field_class, StringField) \
                    or issubclass(field.field_class, PasswordField) or field.field_class.__name__ == "HiddenField":
                continue
            validators = field.kwargs.get("validators") or []
            if any(isinstance(v, Length) and v.max > 0 for v in validators) or \
                    any(isinstance(v, Regexp) for v in validators) or hasattr(cls, f"validate_{name}"):
                continue
            unbounded.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert unbounded == []
