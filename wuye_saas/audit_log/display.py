"""Audit events as a district official reads them: Chinese names for fields and codes, the name
of a referenced record instead of its id, 元 for 分, Shanghai time for stored UTC, and a summary
for records whose model gives no label."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import cache

from sqlalchemy import inspect, select

from ..audit import plain
from ..extensions import db
from ..money import fmt_yuan
from ..timeutil import fmt_datetime
from .labels import (
    HIDDEN_FIELDS, SUMMARIES, VALUE_LABELS, action_label, entity_label, field_label, value_label,
)

EMPTY = "空"
_MONTH = re.compile(r"\d{4}-\d{2}-01")
SNAPSHOT_ACTIONS = ("create", "delete")


@dataclass
class Change:
    label: str
    before: str = ""
    after: str = ""
    value: str = ""      # a snapshot's or a summary's value (no before/after)


@dataclass
class Row:
    event: object
    action: str
    entity: str
    summary: str
    is_diff: bool
    changes: list[Change] = field(default_factory=list)


@cache
def _models() -> dict[str, type]:
    return {m.class_.__tablename__: m.class_ for m in db.Model.registry.mappers
            if hasattr(m.class_, "__tablename__")}


@cache
def _foreign_keys() -> dict[tuple[str, str], str]:
    """(table, column) → the table it references."""
    out = {}
    for table in db.Model.metadata.tables.values():
        for column in table.columns:
            for fk in column.foreign_keys:
                out[(table.name, column.key)] = fk.column.table.name
    return out


def _target(entity: str, key: str) -> str | None:
    target = _foreign_keys().get((entity, key))
    if target is None and key.endswith("_id") and key[:-3] in _models():
        target = key[:-3]     # summaries of record_event, ids inside JSON values
    return target


def _is_diff(value) -> bool:
    return isinstance(value, dict) and set(value) == {"before", "after"}


def _collect(entity: str, key: str, value, refs: dict[str, set]) -> None:
    """Gather the ids a value references, to look them up once per table."""
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(entity, k if not _is_diff(value) else key, v, refs)
    elif isinstance(value, list):
        for v in value:
            _collect(entity, key, v, refs)
    elif isinstance(value, int) and not isinstance(value, bool):
        target = _target(entity, key)
        if target is not None:
            refs.setdefault(target, set()).add(value)


def _own_label(obj) -> str:
    text = getattr(obj, "audit_label", None) or getattr(obj, "name", None) or getattr(obj, "title", None)
    return str(text or "").strip()


def _resolve(refs: dict[str, set]) -> dict[tuple[str, int], str]:
    """{(table, id): name} of the referenced records this district can see."""
    names = {}
    for table, ids in refs.items():
        model = _models().get(table)
        if model is None or not ids:
            continue
        for obj in db.session.execute(select(model).where(model.id.in_(sorted(ids)))).scalars():
            label = _own_label(obj)
            names[(table, obj.id)] = label if label and not _unfinished(table, label) else \
                f"{entity_label(table)}#{obj.id}"
    return names


# Demand channels are the district's (built-in codes and its own "c<id>"): their names are read
# from the district when the log is shown, under this key of `names`.
CHANNEL = "@demand_channel"
CHANNEL_ENTITIES = ("demand", "demand_event")


def fmt(entity: str, key: str, value, names: dict, empty: str = EMPTY) -> str:
    """One value as the log shows it."""
    if value is None or value in ("", {}, []):
        return empty
    if isinstance(value, dict):
        return "；".join(f"{field_label(entity, k)}：{fmt(entity, k, v, names, empty)}" for k, v in value.items())
    if isinstance(value, list):
        sep = "；" if any(isinstance(v, dict) for v in value) else "、"
        return sep.join(fmt(entity, key, v, names, empty) for v in value) or empty
    if isinstance(value, int) and not isinstance(value, bool):
        target = _target(entity, key)
        if target is not None:
            return names.get((target, value), f"#{value}")
        if key.endswith("_fen"):
            return fmt_yuan(value)
        if key.endswith("_centi"):
            return f"{Decimal(value) / 100:,.2f}"
    if key == "channel" and isinstance(value, str) and (CHANNEL, value) in names:
        return names[(CHANNEL, value)]   # the district's name of a demand's channel, its own ones too
    labelled = value_label(entity, key, value)
    if labelled is not value:
        return str(labelled)
    if isinstance(value, str) and key == "month" and _MONTH.fullmatch(value):
        return f"{value[:4]}年{value[5:7]}月"
    if isinstance(value, str) and (key == "at" or key.endswith("_at")):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        return fmt_datetime(when)
    return str(value)


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _blank(entity: str) -> str:
    return SUMMARIES[entity].format_map(_Blank()).strip()


def _unfinished(entity: str, label: str) -> bool:
    """An empty label, or one whose model could not name what it points at yet (`申诉：`)."""
    text = label.strip()
    return not text or text.endswith(("：", ":")) or (entity in SUMMARIES and text == _blank(entity))


def _summary(entity: str, values: dict, names: dict) -> str:
    if entity not in SUMMARIES or not values:
        return ""
    shown = _Blank({k: fmt(entity, k, v, names, empty="") for k, v in values.items()})
    text = SUMMARIES[entity].format_map(shown).strip()
    return "" if text == _blank(entity) else text[:200]


def _live_values(wanted: dict[str, set]) -> dict[tuple[str, int], dict]:
    """Current column values of records whose update event carries no usable label."""
    out = {}
    for entity, ids in wanted.items():
        model = _models().get(entity)
        if model is None:
            continue
        for obj in db.session.execute(select(model).where(model.id.in_(sorted(ids)))).scalars():
            out[(entity, obj.id)] = {a.key: plain(getattr(obj, a.key)) for a in inspect(obj).mapper.column_attrs}
    return out


def rows(events) -> list[Row]:
    events = list(events)
    codes = {ev.entity: VALUE_LABELS.get(ev.entity, {}).get("name") for ev in events}
    labels = {ev.id: str(codes[ev.entity].get(ev.label, ev.label)) if codes[ev.entity] else (ev.label or "")
              for ev in events}
    need_live: dict[str, set] = {}
    for ev in events:
        if ev.action not in SNAPSHOT_ACTIONS and ev.entity_id and ev.entity in SUMMARIES \
                and _unfinished(ev.entity, labels[ev.id]):
            need_live.setdefault(ev.entity, set()).add(ev.entity_id)
    live = _live_values(need_live)

    refs: dict[str, set] = {}
    for ev in events:
        for key, value in (ev.changes or {}).items():
            _collect(ev.entity, key, value, refs)
        for key, value in live.get((ev.entity, ev.entity_id), {}).items():
            _collect(ev.entity, key, value, refs)
    names = _resolve(refs)
    if any(ev.entity in CHANNEL_ENTITIES for ev in events):
        from ..demands.logic import channel_labels   # lazy: the log reads every area
        names.update({(CHANNEL, code): name for code, name in channel_labels().items()})

    out = []
    for ev in events:
        changes = ev.changes or {}
        label = labels[ev.id]
        if _unfinished(ev.entity, label):
            values = changes if ev.action in SNAPSHOT_ACTIONS else live.get((ev.entity, ev.entity_id), {})
            label = _summary(ev.entity, values, names) or label.strip()
        is_diff = bool(changes) and all(_is_diff(v) for v in changes.values())
        shown = []
        hidden = HIDDEN_FIELDS.get(ev.entity, set())
        for key, value in changes.items():
            if key in hidden:
                continue
            text = field_label(ev.entity, key)
            if is_diff:
                shown.append(Change(text, before=fmt(ev.entity, key, value["before"], names),
                                    after=fmt(ev.entity, key, value["after"], names)))
            else:
                shown.append(Change(text, value=fmt(ev.entity, key, value, names)))
        out.append(Row(ev, action_label(ev.action), entity_label(ev.entity), label, is_diff, shown))
    return out
