"""The audit log speaks Chinese: every entity, action, field and coded value it can show has a
name, and the page shows those names (not table or column names) to the district's officials."""
from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from wuye_saas import audit
from wuye_saas.audit_log.labels import (
    ACTION_LABELS, ENTITY_LABELS, HIDDEN_FIELDS, field_label,
)
from wuye_saas.evaluation.models import Evaluation, Standard
from wuye_saas.extensions import db
from wuye_saas.publicity.models import LedgerEntry, LedgerKeeper
from wuye_saas.tenancy import tenant_scope

from .helpers import login

SOURCE = Path(__file__).resolve().parent.parent / "wuye_saas"
CJK = re.compile(r"[\u4e00-\u9fff]")
# A raw identifier a user should not see: snake_case, or an action/code word of the log.
RAW = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:create|update|delete|snapshot)\b")
HX = {"HX-Request": "true"}


def _audited_mappers():
    return [mp for mp in db.Model.registry.mappers
            if getattr(mp.class_, "__audit__", True) and hasattr(mp.class_, "__tablename__")]


def _recorded_in_source():
    """(action, entity, change keys) of every literal record_event call and every audit row the
    code writes itself (a dict with "action" and "entity")."""
    found = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) \
                    == "record_event":
                args = list(node.args) + [None] * 4
                kw = {k.arg: k.value for k in node.keywords}
                action, entity, changes = args[0], args[1], kw.get("changes", args[3])
            elif isinstance(node, ast.Dict):
                keys = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
                if not {"action", "entity"} <= keys.keys():
                    continue
                action, entity, changes = keys["action"], keys["entity"], keys.get("changes")
            else:
                continue
            if isinstance(action, ast.Constant) and isinstance(entity, ast.Constant):
                names = [k.value for k in changes.keys if isinstance(k, ast.Constant)] \
                    if isinstance(changes, ast.Dict) else []
                found.append((action.value, entity.value, names, f"{path.relative_to(SOURCE)}:{node.lineno}"))
    return found


def _cells(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
    return [re.sub(r"\s*：\s*", "：", cell) for cell in cells]


def _entity_options(html: str) -> list[tuple[str, str]]:
    select = html.split('name="entity"', 1)[1].split("</select>", 1)[0]
    return [(v, t.strip()) for v, t in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)]


# --- the vocabulary --------------------------------------------------------------------------------

def test_every_table_has_a_chinese_entity_label(app):
    """A new model needs its name in audit_log/labels.py before the log can show its rows."""
    with app.app_context():
        missing = sorted(mp.class_.__tablename__ for mp in db.Model.registry.mappers
                         if not CJK.search(ENTITY_LABELS.get(mp.class_.__tablename__, "")))
        audited = {mp.class_.__tablename__ for mp in _audited_mappers()}
    assert {"appeal", "follow_up", "compound_month", "action_item"} <= ENTITY_LABELS.keys()
    assert audited and not missing, f"no Chinese name in audit_log/labels.py ENTITY_GROUPS for: {missing}"


def test_every_column_of_an_audited_table_has_a_chinese_field_name(app):
    with app.app_context():
        raw = [f"{mp.class_.__tablename__}.{col.key} → {field_label(mp.class_.__tablename__, col.key)}"
               for mp in _audited_mappers() for col in mp.column_attrs
               if col.key not in HIDDEN_FIELDS.get(mp.class_.__tablename__, set())
               and col.key not in getattr(mp.class_, "__audit_derived__", ())   # never logged
               and not CJK.search(field_label(mp.class_.__tablename__, col.key))]
    assert not raw, "columns shown under their raw name (add them to audit_log/labels.py):\n" + "\n".join(raw)


def test_every_recorded_action_entity_and_summary_key_has_a_chinese_name(app):
    recorded = _recorded_in_source()
    actions = {a for a, *_ in recorded}
    assert {"create", "update", "snapshot"} <= actions, "the source scan found no audit events"
    assert {"import", "seed", "compound_month"} <= {e for _, e, *_ in recorded}
    assert set(audit.ACTIONS) <= ACTION_LABELS.keys()
    with app.app_context():
        for action, entity, keys, where in recorded:
            assert CJK.search(ACTION_LABELS.get(action, "")), f"action {action!r} ({where}) has no Chinese name"
            assert CJK.search(ENTITY_LABELS.get(entity, "")), f"entity {entity!r} ({where}) has no Chinese name"
            for key in keys:
                assert CJK.search(field_label(entity, key)), f"{entity}.{key} ({where}) has no Chinese name"


def test_form_labels_are_read_per_entity(app):
    """The same column name means different things in different forms: each entity gets its own."""
    with app.app_context():
        assert field_label("street", "name") == "街道名称"
        assert field_label("firm", "name") == "企业名称"
        assert field_label("evaluation", "appeal_until") == "申诉截止日期"
        assert field_label("appeal", "reason") == "申诉理由"
        assert field_label("payment", "method") == "收款方式"
        assert field_label("standard_item", "method") == "计分方式"
        assert field_label("seed", "streets") == "街道数"
        assert field_label("seed", "household_classes") == "困难类别数"


# --- the page --------------------------------------------------------------------------------------

@pytest.fixture
def alpha(world):
    return world["alpha"]


@pytest.fixture
def logged(app, alpha):
    """Events of the later areas in alpha's log: an evaluation published, a ledger entry (分),
    a ledger keeper changed (its model has no label), a snapshot summary."""
    with app.app_context(), tenant_scope(alpha.tenant_id), audit.acting_as(None, "测试区管理员"):
        std = Standard(name="测试评分标准", status="active", unit="compound")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="quarterly", name="2026年第三季度季测评", status="finalized",
                        period_start=date(2026, 7, 1), period_end=date(2026, 9, 30),
                        self_report_due=date(2026, 10, 10), review_due=date(2026, 10, 20))
        keeper = LedgerKeeper(kind="public_revenue", keeper="firm")
        db.session.add_all([ev, keeper, LedgerEntry(compound_id=alpha.compound1, kind="public_revenue",
                                                     entry_date=date(2026, 9, 30), category="停车费",
                                                     amount_fen=123456)])
        db.session.commit()
        db.session.refresh(ev)
        db.session.refresh(keeper)     # loaded, so the audit sees the values before the change
        ev.status, ev.appeal_until = "published", date(2026, 12, 2)
        keeper.keeper = "committee"
        audit.record_event("snapshot", "compound_month", "统计快照：2 个小区",
                           changes={"month": "2026-11-01", "filled": [], "compounds": 2})
        db.session.commit()
    return alpha


def test_an_update_shows_chinese_field_names_and_values(client, logged):
    login(client, "alpha-district")
    html = client.get("/d/alpha/audit/?entity=evaluation&action=update", headers=HX).get_data(as_text=True)
    cells = _cells(html)
    text = " ".join(cells)
    assert "考核 #" in text and "2026年第三季度季测评" in text and "修改" in text
    assert "申诉截止日期：" in text and "2026-12-02" in text
    assert "状态：" in text and "已定稿 → 已发布" in text
    assert "appeal_until" not in html and "finalized" not in text
    assert not [c for c in cells if RAW.search(c)], [c for c in cells if RAW.search(c)]


def test_the_whole_log_shows_no_raw_names(client, logged):
    login(client, "alpha-district")
    cells = _cells(client.get("/d/alpha/audit/", headers=HX).get_data(as_text=True))
    text = " ".join(cells)
    # Money in 分 is shown in 元; a snapshot summary has its own action name; ids are names.
    assert "¥1,234.56" in text and "123456" not in text
    assert "生成快照" in text and "月度统计快照" in text and "小区数：2" in text
    assert "甲区1号小区" in text
    assert "记账人设置" in text and "账目" in text and "评分标准" in text
    raw = sorted({m.group(0) for c in cells for m in [RAW.search(c)] if m})
    assert not raw, f"raw names shown in the audit log: {raw}"


def test_a_record_without_a_label_gets_a_summary(client, logged):
    login(client, "alpha-district")
    html = client.get("/d/alpha/audit/?entity=ledger_keeper", headers=HX).get_data(as_text=True)
    cells = _cells(html)
    # The create event from its snapshot, the update from the record as it is now.
    summaries = [c for c in cells if c.startswith("记账人设置 #")]
    assert len(summaries) == 2
    assert "公共收益：物业服务企业" in summaries[1]
    assert "公共收益：业委会/物管会" in summaries[0]
    assert "记账人：物业服务企业 → 业委会/物管会" in " ".join(cells)


def test_the_entity_filter_lists_chinese_names_grouped(client, logged):
    login(client, "alpha-district")
    html = client.get("/d/alpha/audit/").get_data(as_text=True)
    options = _entity_options(html)
    values = [v for v, _ in options if v]
    assert {"evaluation", "ledger_keeper", "ledger_entry", "compound_month", "street"} <= set(values)
    assert all(CJK.search(text) and text not in ENTITY_LABELS for _, text in options), options
    assert ("evaluation", "考核") in options and ("compound_month", "月度统计快照") in options
    # In the product's menu order, grouped: the register before the later areas.
    assert values.index("street") < values.index("ledger_entry") < values.index("evaluation")
    assert '<optgroup label="组织架构">' in html and '<optgroup label="考核评价">' in html
    # The snapshot action can be chosen and filtered.
    assert '<option value="snapshot"' in html and "生成快照" in html
    only = " ".join(_cells(client.get("/d/alpha/audit/?action=snapshot", headers=HX).get_data(as_text=True)))
    assert "生成快照" in only and "月度统计快照" in only and "新增" not in only and "修改" not in only
