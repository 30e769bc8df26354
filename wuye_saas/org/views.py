"""The district register: list, detail, create, edit, delete for every Resource."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import policy
from ..extensions import db
from ..pagecache import cached_page
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import crud, pickers
from .resources import BY_KEY, BY_TABLE, NAV, RESOURCES, TABLE_LABELS
from ..formutil import attach_errors, record_id
from . import owners
from .forms import EndOwnershipForm, OwnerForm
from .models import Household, Ownership

bp = tenant_blueprint("org", __name__)


def _build_form(res, obj):
    mem = current_membership()
    if obj is None and request.method == "GET":
        presets = {k: record_id(v) for k, v in request.args.items() if record_id(v) and hasattr(res.form, k)}
        form = res.form(data=presets)
    else:
        form = res.form(obj=obj)
    for name, fn in res.choices.items():
        field = getattr(form, name)
        # A blank first choice: a required select must be chosen on purpose, not defaulted.
        # Its value is "" (not None, which renders as "None" and slips past InputRequired).
        blank = "请选择…" if field.flags.required else "—"
        field.choices = [("", blank)] + fn(mem, obj, request.args)
    if res.prepare:
        res.prepare(form, obj, mem)
    return form


def _show_form(res, form, obj):
    pickers.follow(form, current_membership())
    return render("org/form.html", res=res, form=form, obj=obj), (422 if form.errors else 200)


def _save(res, form, obj) -> bool:
    """Populate and flush `obj`; False (errors on the form, nothing written) when refused."""
    if not form.validate_on_submit():
        return False
    form.populate_obj(obj)
    crud.normalise_strings(obj)
    if res.apply:
        res.apply(form, obj)
    with db.session.no_autoflush:
        problems = crud.unique_problems(obj)
    if problems:
        for field, msg in problems.items():
            getattr(form, field).errors.append(msg)
        db.session.rollback()
        return False
    db.session.add(obj)
    db.session.commit()
    return True


def _fk_chips(res, args, boxed=frozenset()):
    """(label, name, url without it) for each parent a list is narrowed to (from a detail page,
    or picked by id where its filter is a name box)."""
    chips = []
    filter_params = {f.param for f in res.filters} - boxed
    for key, col in res.fk_columns().items():
        value = args.get(key)
        if not record_id(value) or key in filter_params:
            continue
        target = BY_TABLE.get(next(iter(col.foreign_keys)).column.table.name)
        if target is None:
            continue
        parent = db.session.execute(crud.list_query(target, current_membership(), {})
                                    .where(target.model.id == int(value))).scalars().first()
        rest = {k: v for k, v in args.items() if k not in (key, "page")}
        chips.append((target.label, target.title(parent) if parent else "—",
                      url_for(f"org.{res.key}_list", **rest)))
    return chips


def _children(res, obj):
    """First rows of each child list on a detail page, with the total."""
    out = []
    for key, fk in res.children:
        child = BY_KEY[key]
        stmt = crud.list_query(child, current_membership(), {fk: str(obj.id)})
        page = db.paginate(stmt, page=1, per_page=10, error_out=False)
        out.append((child, fk, page))
    return out


def _detail_fields(res, obj):
    """(label, value, link) for each form field, foreign keys shown by name."""
    rows = []
    form = res.form(obj=obj, meta={"csrf": False})
    fks = res.fk_columns()
    for field in form:
        if field.type in ("CSRFTokenField", "HiddenField", "SelectMultipleField"):
            continue
        value = getattr(obj, field.name, None)
        link = None
        if field.name in fks and value is not None:
            target_table = next(iter(fks[field.name].foreign_keys)).column.table.name
            related = getattr(obj, field.name[:-3], None)
            value = getattr(related, "name", value)
            target = BY_TABLE.get(target_table)
            # Link only records the user may open: a firm sees its compound, not the community.
            if target and db.session.scalar(db.select(target.model.id).where(
                    target.model.id == getattr(obj, field.name), policy.visible(current_membership(), target.model))):
                link = url_for(f"org.{target.key}_detail", **{target.param: getattr(obj, field.name)})
        elif isinstance(value, bool):
            value = "是" if value else "否"
        elif field.type == "SelectField" and value is not None:
            value = {c[0]: c[1] for c in field.iter_choices()}.get(value, value)
        rows.append((field.label.text, "" if value is None else value, link))
    if res.facts:
        rows += [(label, value, None) for label, value in res.facts(obj)]
    return rows


def _register(res):
    model, key, param = res.model, res.key, res.param

    @cached_page
    def list_view():
        mem = current_membership()
        # A filter with nothing to choose from (outside the role's reach) is left out; one with
        # too much (None) is a name box.
        filters = [(f, opts) for f in res.filters if (opts := f.options(mem)) or (opts is None and f.named)]
        boxed = {f.param for f, opts in filters if opts is None}
        stmt = crud.list_query(res, mem, request.args, boxed)
        total = res.total(mem, request.args) if res.total else None
        page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False, count=total is None)
        if total is not None:
            page.total = total
        if res.page_loaded is not None:
            res.page_loaded(page.items)
        filtered = any(v for k, v in request.args.items() if k != "page")
        return render("org/list.html", "org/_table.html", res=res, page=page, filters=filters,
                      args=request.args, filtered=filtered,
                      filter_params={f.param for f in res.filters} - boxed,
                      chips=_fk_chips(res, request.args, boxed))

    def detail_view(**kw):
        obj = get_or_404(model, kw[param])
        return render("org/detail.html", res=res, obj=obj, fields=_detail_fields(res, obj),
                      children=_children(res, obj), **(_owners_part(obj) if key == "households" else {}))

    def new_view():
        require("create")
        obj = model()
        form = _build_form(res, None)
        if _save(res, form, obj):
            flash(f"已新增{res.label}“{res.title(obj)}”。", "success")
            return redirect(url_for(f"org.{key}_detail", **{param: obj.id}))
        return _show_form(res, form, None)

    def edit_view(**kw):
        obj = get_or_404(model, kw[param])
        require("edit")
        form = _build_form(res, obj)
        if _save(res, form, obj):
            flash(f"已保存{res.label}“{res.title(obj)}”。", "success")
            return redirect(url_for(f"org.{key}_detail", **{param: obj.id}))
        return _show_form(res, form, obj)

    def delete_view(**kw):
        obj = get_or_404(model, kw[param])
        require("delete")
        blockers = crud.dependents(obj, TABLE_LABELS)
        if request.method == "POST" and not blockers:
            title = res.title(obj)
            db.session.delete(obj)
            db.session.commit()
            flash(f"已删除{res.label}“{title}”。", "success")
            return redirect(url_for(f"org.{key}_list"))
        return render("org/confirm_delete.html", res=res, obj=obj, blockers=blockers), (
            409 if request.method == "POST" else 200)

    bp.add_url_rule(f"/{key}/", f"{key}_list", list_view)
    bp.add_url_rule(f"/{key}/new", f"{key}_new", new_view, methods=["GET", "POST"])
    bp.add_url_rule(f"/{key}/<int:{param}>", f"{key}_detail", detail_view)
    bp.add_url_rule(f"/{key}/<int:{param}>/edit", f"{key}_edit", edit_view, methods=["GET", "POST"])
    bp.add_url_rule(f"/{key}/<int:{param}>/delete", f"{key}_delete", delete_view, methods=["GET", "POST"])


for _res in RESOURCES:
    _register(_res)


_CHILD_KINDS = ", ".join(k for k, v in pickers.KINDS.items() if v.parent)
_PARENT_KINDS = ", ".join({v.parent: None for v in pickers.KINDS.values() if v.parent})


@bp.route(f"/options/<any({_CHILD_KINDS}):kind>/under/<any({_PARENT_KINDS}):parent_kind>")
def options(kind, parent_kind):
    """The <option>s of a child picker narrowed to its parent's pick (hx-get of pickers.follow).
    The parent's value comes as the parent select's own name (`source`), the child's current
    value as `keep`, so it stays chosen when still beneath the new parent."""
    mem = current_membership()
    raw = request.args.get(request.args.get("source", ""), "")
    parent_id = record_id(raw)   # "" or 0: nothing picked yet
    if parent_id is not None and not pickers.parent_visible(mem, parent_kind, parent_id):
        abort(404)
    try:
        choices = pickers.options(mem, kind, parent_kind, parent_id)
    except ValueError:
        abort(404)
    kept = request.args.get(request.args.get("keep", ""), "")
    return render_template("macros/_options.html", choices=choices, blank=request.args.get("blank", "—"),
                           blank_value=request.args.get("blank_value", ""),
                           selected=record_id(kept))


@bp.app_context_processor
def _org_nav():
    """The register's menu, without the sections this membership can see nothing of."""
    mem = g.get("membership")
    if mem is None:
        return {"org_nav": []}
    groups = [(group, [BY_KEY[k] for k in keys if policy.reaches(mem, BY_KEY[k].model)])
              for group, keys in NAV]
    return {"org_nav": [(group, items) for group, items in groups if items]}



# --- a unit's owners (persons) ------------------------------------------------------------------

def _owners_part(h, owner_form=None, end_forms=None):
    all_rows = db.session.execute(db.select(Ownership).where(Ownership.household_id == h.id)
                                  .order_by(Ownership.valid_until.is_not(None), Ownership.id)).scalars().all()
    current = {o.id for o in owners.current_owners(h.id)}
    return {"ownerships": all_rows, "current_ids": current,
            "owner_form": owner_form or OwnerForm(formdata=None), "end_forms": end_forms or {},
            "end_form": EndOwnershipForm(formdata=None)}


def _household_page(h, status, **forms):
    res = BY_KEY["households"]
    return render("org/detail.html", res=res, obj=h, fields=_detail_fields(res, h), children=_children(res, h),
                  **_owners_part(h, **forms)), status


@bp.route("/households/<int:household_id>/owners", methods=["POST"])
def add_owner(household_id):
    h = get_or_404(Household, household_id)
    require("edit")
    form = OwnerForm()
    if form.validate_on_submit():
        o, problems = owners.add_owner(h, form.owner_name.data, form.id_number.data or "", form.phone.data or "",
                                       form.share.data, form.valid_from.data)
        if not problems:
            db.session.commit()
            flash(f"已登记业主{o.person.name}。", "success")
            return redirect(url_for("org.households_detail", household_id=h.id) + "#owners")
        db.session.rollback()
        attach_errors(form, problems)
    return _household_page(h, 422, owner_form=form)


@bp.route("/households/<int:household_id>/owners/<int:ownership_id>/end", methods=["POST"])
def end_ownership(household_id, ownership_id):
    h = get_or_404(Household, household_id)
    o = get_or_404(Ownership, ownership_id)
    require("edit")
    if o.household_id != h.id:
        abort(404)
    form = EndOwnershipForm()
    if form.validate_on_submit():
        problems = owners.end_ownership(o, form.valid_until.data)
        if not problems:
            db.session.commit()
            flash(f"{o.person.name}的产权记录已截止于 {o.valid_until:%Y-%m-%d}。", "success")
            return redirect(url_for("org.households_detail", household_id=h.id) + "#owners")
        db.session.rollback()
        attach_errors(form, problems)
    return _household_page(h, 422, end_forms={o.id: form})
