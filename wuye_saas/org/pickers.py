"""Pickers that follow their parent. A child select declares the parent it must belong to with
the `Within` validator; that one declaration gives the server-side refusal (所选网格不属于所选社区),
the narrowing of the rendered choices, and the hx- attributes on the parent select that fetch the
narrowed <option>s from `org.options` when the parent changes. No JavaScript of our own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import url_for
from sqlalchemy import or_, select
from wtforms.validators import ValidationError

from .. import policy
from ..extensions import db
from ..formutil import record_id
from ..votes.models import VOTE_STATUSES, FundApplication, OwnerVote
from . import models as m


@dataclass(frozen=True)
class Kind:
    model: type
    noun: str
    parent: str | None = None          # the kind one level up
    fk: str | None = None              # this model's column naming that parent
    label: Callable[[Any], str] = lambda o: o.name
    order: tuple = ()
    where: Callable[[], Any] | None = None   # which records of the model may be picked at all
    # When the parent is not a column of the model: parent id → the values `fk` must be among.
    via: Callable[[int], Any] | None = None


# The organisation tree, top to bottom.
KINDS: dict[str, Kind] = {
    "street": Kind(m.Street, "街道", order=(m.Street.name,)),
    "community": Kind(m.Community, "社区", "street", "street_id", order=(m.Community.name,)),
    "grid": Kind(m.Grid, "网格", "community", "community_id", order=(m.Grid.name,)),
    "compound": Kind(m.Compound, "小区", "community", "community_id", order=(m.Compound.name,)),
    "building": Kind(m.Building, "楼栋", "compound", "compound_id", order=(m.Building.name_key,)),
    "household": Kind(m.Household, "住户", "building", "building_id", label=lambda o: o.room,
                      order=(m.Household.room_key,)),
    # A 维修资金 application's vote: the compound's 使用维修资金 votes not yet used, not failed.
    "vote": Kind(OwnerVote, "表决", "compound", "compound_id",
                 label=lambda v: f"{v.title}（{VOTE_STATUSES[v.status]}）", order=(OwnerVote.id.desc(),),
                 where=lambda: (OwnerVote.matter == "use_fund")
                 & OwnerVote.id.not_in(select(FundApplication.vote_id).where(FundApplication.vote_id.is_not(None)))
                 & or_(OwnerVote.passed.is_(None), OwnerVote.passed)),
    # A committee member's own unit: a household of the committee's compound.
    "committee": Kind(m.Committee, "业委会/物管会", order=(m.Committee.name,)),
    "member_household": Kind(m.Household, "房屋", "committee", "compound_id", label=lambda o: o.label,
                             order=(m.Household.building_id, m.Household.room_key),
                             via=lambda cid: select(m.Committee.compound_id).where(m.Committee.id == cid)),
}


def under(kind: str, parent_kind: str, parent_id: int):
    """WHERE clause: records of `kind` anywhere beneath the `parent_kind` record `parent_id`."""
    k = KINDS[kind]
    if k.parent is None:
        raise ValueError(f"{kind} is not beneath {parent_kind}")
    col = getattr(k.model, k.fk)
    if k.parent == parent_kind:
        return col.in_(k.via(parent_id)) if k.via else col == parent_id
    return col.in_(select(KINDS[k.parent].model.id).where(under(k.parent, parent_kind, parent_id)))


def belongs(kind: str, record_id: int, parent_kind: str, parent_id: int) -> bool:
    model = KINDS[kind].model
    return db.session.scalar(select(model.id).where(
        model.id == record_id, under(kind, parent_kind, parent_id))) is not None


def options(mem, kind: str, parent_kind: str | None = None, parent_id: int | None = None):
    """[(id, label)] of `kind` the membership may see, beneath the parent when one is given."""
    k = KINDS[kind]
    stmt = policy.scoped(select(k.model), mem, k.model).order_by(*k.order)
    if k.where is not None:
        stmt = stmt.where(k.where())
    if parent_id is not None:
        stmt = stmt.where(under(kind, parent_kind, parent_id))
    return [(o.id, k.label(o)) for o in db.session.execute(stmt).scalars()]


def communities(mem) -> list[m.Community]:
    """The communities the membership sees, by name (a list's filter, a community select)."""
    return db.session.execute(select(m.Community).where(policy.visible(mem, m.Community))
                              .order_by(m.Community.name)).scalars().all()


def community_choices(form, mem) -> None:
    """A community's work form (四项清单, 志愿服务): its community select and, where it has one, its
    compound select (blank: the whole community; the first 2,000 by name), in the membership's scope."""
    form.community_id.choices = [(None, "请选择社区")] + [(c.id, c.name) for c in communities(mem)]
    if "compound_id" in form:
        compounds = db.session.execute(select(m.Compound).where(policy.visible(mem, m.Compound))
                                       .order_by(m.Compound.name).limit(2000)).scalars()
        form.compound_id.choices = [(None, "—（全社区）")] + [(c.id, c.name) for c in compounds]


def parent_visible(mem, parent_kind: str, parent_id: int) -> bool:
    model = KINDS[parent_kind].model
    return db.session.scalar(select(model.id).where(
        model.id == parent_id, policy.visible(mem, model))) is not None


class Within:
    """Validator of a child select: its record must lie beneath the record chosen in the select
    `parent_field`. Kinds default to the field names (grid_id → grid)."""

    def __init__(self, parent_field: str, parent_kind: str | None = None, kind: str | None = None):
        self.parent_field = parent_field
        self.parent_kind = parent_kind or parent_field.removesuffix("_id")
        self.kind = kind

    def kind_of(self, field) -> str:
        return self.kind or field.name.removesuffix("_id")

    def __call__(self, form, field):
        parent_id = form[self.parent_field].data
        if not field.data or not parent_id:
            return  # an empty pick is the field's own validators' business
        kind = self.kind_of(field)
        if not belongs(kind, field.data, self.parent_kind, parent_id):
            raise ValidationError(f"所选{KINDS[kind].noun}不属于所选{KINDS[self.parent_kind].noun}")


BLANKS = ("", None, 0)


def _withins(form):
    for field in form:
        for v in field.validators:
            if isinstance(v, Within):
                yield field, v


def follow(form, mem) -> None:
    """Before rendering: each child select lists only the records beneath its parent's current
    pick, and each parent select reloads its child's <option>s over HTMX when it changes (a
    child that is itself a parent reloads its own child in turn, on htmx:afterSwap)."""
    for field, v in _withins(form):
        parent = form[v.parent_field]
        kind = v.kind_of(field)
        # The choice that picks no record: "" (—, 请选择…), or 0 where it means "a new one".
        blank_value, blank = next(((value, label) for value, label in field.choices if value in BLANKS), ("", "—"))
        if parent.data:
            keep = {i for i, _ in options(mem, kind, v.parent_kind, parent.data)}
            field.choices = [(value, label) for value, label in field.choices
                             if value in BLANKS or optional_id(value) in keep]
        url = url_for("org.options", kind=kind, parent_kind=v.parent_kind, source=parent.name,
                      keep=field.name, blank=blank, blank_value=blank_value if blank_value is not None else "")
        trigger = "change"
        if any(p is parent for p, _ in _withins(form)):
            trigger = "change, htmx:afterSwap"  # its own options were just reloaded by its parent
        parent.render_kw = dict(parent.render_kw or {}, **{
            "hx-get": url, "hx-target": f"#{field.id}", "hx-swap": "innerHTML",
            "hx-trigger": trigger, "hx-include": f"#{field.id}", "hx-sync": "this:replace"})


def optional_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- a list's filter by compound or firm --------------------------------------------------------

# Past this many records a <select> of them is no longer something a person scrolls through, and
# rendering a thousand <option>s was most of a list page's cost in a large district, on every
# request: there the filter is a box for (part of) the name instead.
FILTER_CHOICES = 60
NOUNS = {m.Compound: "小区", m.Firm: "物业企业"}


def named(model, text: str):
    """SELECT of the ids of `model` (a compound, a firm) whose name contains `text` (the caller's
    list is scoped)."""
    return select(model.id).where(model.name.contains(text, autoescape=True))


@dataclass(frozen=True)
class NamePick:
    """A list's filter by compound or firm as the request brings it: `choices` to pick from, or
    None where there are too many (the list shows the name box); the record picked by id (a
    select, a link from elsewhere) with its name; the name typed."""
    model: type
    param: str
    choices: list[tuple[int, str]] | None
    picked: int | None
    picked_name: str | None
    name: str

    @property
    def noun(self) -> str:
        return NOUNS[self.model]

    @property
    def name_param(self) -> str:
        return f"{self.param}_name"

    def where(self, col) -> list:
        """WHERE clauses on a column holding the model's ids."""
        return (([col == self.picked] if self.picked else [])
                + ([col.in_(named(self.model, self.name))] if self.name else []))

    def without_picked(self, args) -> dict:
        """The request's arguments without the picked record (the chip's link), from page 1."""
        return {k: v for k, v in args.items() if k not in (self.param, "page")}


def name_pick(mem, args, model, param: str, among=None) -> NamePick:
    """The filter of a list by `model` (Compound or Firm), among the records the membership sees
    (and, given `among`, a function of the membership returning a SELECT of ids, those the list
    has anything for). The choices' statement is built once per scope (`policy.built`)."""
    def build():
        stmt = select(model.id, model.name).where(policy.visible(mem, model))
        if among is not None:
            stmt = stmt.where(model.id.in_(among(mem)))
        return stmt.order_by(model.name).limit(FILTER_CHOICES + 1)
    rows = db.session.execute(policy.built("name_pick", mem, build, model, among)).all()
    choices = [(r.id, r.name) for r in rows] if len(rows) <= FILTER_CHOICES else None
    picked = record_id(args.get(param))
    picked_name = None
    if picked and choices is None:
        picked_name = db.session.scalar(select(model.name).where(model.id == picked, policy.visible(mem, model)))
    # The box is only there when the choices are not: a name left in a link is not a hidden filter.
    name = (args.get(f"{param}_name") or "").strip()[:40] if choices is None else ""
    return NamePick(model, param, choices, picked, picked_name, name)
