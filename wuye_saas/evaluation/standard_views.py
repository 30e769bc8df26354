"""The scoring standard builder: the list of standards and their versions, the builder page
with its rows edited through HTMX partials, activation, copying to a new version, adopting
the default standard. Everyone in the district reads standards (they are the published
rules); only the district admin writes. Thin views over standards.py.

HTMX: a form or confirmation is loaded into the page's editor slot; a successful write answers
with the whole builder (its summary and problems change with every row) retargeted over it;
a refusal answers 422 with the form and its messages, or 409 when the version cannot change.
Without HTMX the same routes are full pages that redirect back to the builder.
"""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, g, make_response, redirect, request, url_for
from sqlalchemy import func, select

from .. import policy
from ..extensions import db, htmx
from ..formutil import attach_errors, record_id
from ..web import get_or_404, page_arg, render, require, tenant_blueprint
from . import standards
from .default_standard import CONSEQUENCE_SOURCES
from .models import (
    CONSEQUENCE_KINDS, CONSEQUENCE_LISTS, CYCLE_KINDS, ITEM_KINDS, LISTS, METHODS, NO_SURVEY_RULES, SCORERS, STANDARD_STATUSES, UNITS, VETO_EFFECTS, Evaluation, Standard,
    StandardCategory, StandardItem,
)
from .standard_forms import (
    AdoptForm, BandsForm, CategoryForm, ConfirmForm, ConsequencesForm, ItemForm, ListRuleForm, StandardForm,
    WeightsForm,
)

bp = tenant_blueprint("standards", __name__, "/standards")

AREA = "standard"
T = "evaluation/standards/"


def _write():
    require("edit", AREA)


def _htmx() -> bool:
    return bool(htmx) and not htmx.history_restore_request


def _labels() -> dict:
    return {"statuses": STANDARD_STATUSES, "units": UNITS, "kinds": ITEM_KINDS, "methods": METHODS,
            "scorers": SCORERS, "no_survey_rules": NO_SURVEY_RULES, "veto_effects": VETO_EFFECTS, "lists": LISTS,
            "cycle_kinds": CYCLE_KINDS,
            "describe_rule": standards.describe_rule, "sources": CONSEQUENCE_SOURCES,
            "consequence_lists": CONSEQUENCE_LISTS, "consequence_entries": standards.consequence_entries,
            "describe_consequence": standards.describe_consequence, "consequence_keys": standards.consequence_keys}


def _builder_ctx(s: Standard, notice: str | None = None) -> dict:
    keys = standards.computed_keys()
    return {"s": s, "summary": standards.summary(s), "problems": standards.problems(s),
            "locked": standards.editable_problem(s), "keys": keys, "notice": notice,
            "evaluations": db.session.execute(select(func.count(Evaluation.id))
                                              .where(Evaluation.standard_id == s.id)).scalar(),
            "based_on": db.session.get(Standard, s.based_on_id) if s.based_on_id else None,
            "writer": policy.can(g.membership, "edit", AREA), **_labels()}


def _done(s: Standard, message: str):
    """After a successful write: the refreshed builder (HTMX) or a redirect with the message."""
    db.session.commit()
    if _htmx():
        resp = make_response(render(T + "detail.html", T + "_builder.html", **_builder_ctx(s, message)))
        resp.headers["HX-Retarget"] = "#builder"
        resp.headers["HX-Reswap"] = "outerHTML"
        return resp
    flash(message, "success")
    return redirect(url_for("standards.detail", standard_id=s.id))


def _panel(s: Standard, partial: str, title: str, status: int = 200, **ctx):
    """A form or confirmation: the partial into the editor slot, or a page of its own."""
    return render(T + "panel_page.html", T + partial, s=s, panel=T + partial, title=title, inline=_htmx(),
                  **_labels(), **ctx), status


def _refused(s: Standard, e: standards.StandardProblem):
    """A write the version cannot take (409): nothing was written; say why."""
    db.session.rollback()
    resp = make_response(_panel(s, "_locked.html", "不能修改", e.status, message=e.message))
    if _htmx():
        resp.headers["HX-Retarget"] = "#editor"
        resp.headers["HX-Reswap"] = "innerHTML"
    return resp


def _locked_panel(s: Standard, title: str):
    """A GET of an edit form on a version that cannot change: say so instead of a form."""
    return _panel(s, "_locked.html", title, message=standards.editable_problem(s))


# --- the list ------------------------------------------------------------------------------------

@bp.route("/")
def index():
    args = request.args
    q = args.get("q", "").strip()
    names = select(Standard.name).group_by(Standard.name).order_by(func.max(Standard.id).desc())
    if q:
        names = names.where(Standard.name.contains(q))
    status = args.get("status", "")
    if status in STANDARD_STATUSES:
        names = names.where(Standard.name.in_(select(Standard.name).where(Standard.status == status)))
    page = db.paginate(names, page=page_arg(), per_page=20, error_out=False)
    versions: dict[str, list] = {n: [] for n in page.items}
    if page.items:
        for v in db.session.execute(select(Standard).where(Standard.name.in_(page.items))
                                    .order_by(Standard.version.desc())).scalars():
            versions[v.name].append(v)
    ids = [v.id for vs in versions.values() for v in vs]
    used = dict(db.session.execute(select(Evaluation.standard_id, func.count(Evaluation.id))
                                   .where(Evaluation.standard_id.in_(ids)).group_by(Evaluation.standard_id)).all()) if ids else {}
    items = dict(db.session.execute(select(StandardItem.standard_id, func.count(StandardItem.id))
                                    .where(StandardItem.standard_id.in_(ids)).group_by(StandardItem.standard_id)).all()) if ids else {}
    return render(T + "index.html", T + "_list.html", page=page, versions=versions, used=used, item_counts=items,
                  args=args, filtered=bool(q or status), active=standards.active_standard(), **_labels())


@bp.route("/new", methods=["GET", "POST"])
def new():
    _write()
    form = StandardForm()
    if form.validate_on_submit():
        try:
            s = standards.create_standard(form.name.data, form.unit.data, form.total_points.data,
                                          form.bonus_cap.data, form.note.data)
        except standards.StandardProblem as e:
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            db.session.commit()
            flash(f"已新建评分标准“{s.audit_label}”（草稿）：星级、榜单和权重已按本区默认填好，请添加分类和评分项。", "success")
            return redirect(url_for("standards.detail", standard_id=s.id))
    return render(T + "new.html", form=form, **_labels()), (422 if form.errors else 200)


@bp.route("/adopt", methods=["GET", "POST"])
def adopt():
    _write()
    form = AdoptForm()
    if request.method == "GET":
        form.name.data = standards.default.NAME
    elif form.validate_on_submit():
        try:
            s = standards.adopt_default(form.name.data)
        except standards.StandardProblem as e:
            db.session.rollback()
            attach_errors(form, {"name": e.message})
        else:
            db.session.commit()
            flash(f"已采用默认评分标准“{s.audit_label}”（草稿）。可按本区情况修改后启用。", "success")
            return redirect(url_for("standards.detail", standard_id=s.id))
    return render(T + "adopt.html", form=form, d=standards.default_preview(), **_labels()), (422 if form.errors else 200)


# --- the builder ---------------------------------------------------------------------------------

@bp.route("/<int:standard_id>")
def detail(standard_id):
    s = get_or_404(Standard, standard_id)
    versions = db.session.execute(select(Standard.id, Standard.version, Standard.status).where(Standard.name == s.name)
                                  .order_by(Standard.version)).all()
    return render(T + "detail.html", T + "_builder.html", versions=versions, **_builder_ctx(s))


@bp.route("/<int:standard_id>/settings", methods=["GET", "POST"])
def settings(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    form = StandardForm(obj=s if request.method == "GET" else None)
    if request.method == "GET" and standards.editable_problem(s):
        return _locked_panel(s, "基本信息")
    if form.validate_on_submit():
        try:
            standards.update_settings(s, form.name.data, form.unit.data, form.total_points.data, form.bonus_cap.data,
                                      form.note.data)
        except standards.StandardProblem as e:
            if e.status == 409:
                return _refused(s, e)
            db.session.rollback()
            attach_errors(form, {e.field: e.message})
        else:
            return _done(s, "已保存基本信息。")
    elif request.method == "POST" and standards.editable_problem(s):
        return _refused(s, standards.NotEditable(standards.editable_problem(s)))
    return _panel(s, "_settings_form.html", "基本信息", 422 if form.errors else 200, form=form)


def _confirm(s: Standard, title: str, text: str, action: str, button: str, danger: bool = True, status: int = 200,
             **ctx):
    return _panel(s, "_confirm.html", title, status, form=ConfirmForm(), text=text, action=action, button=button,
                  danger=danger, **ctx)


@bp.route("/<int:standard_id>/activate", methods=["GET", "POST"])
def activate(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    action = url_for("standards.activate", standard_id=s.id)
    found = standards.problems(s)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            standards.activate(s)
        except standards.StandardProblem as e:
            if e.status == 409:
                return _refused(s, e)
            db.session.rollback()
            return _confirm(s, "启用评分标准", "", action, "启用", danger=False, status=422, problems=found)
        return _done(s, f"“{s.audit_label}”已启用。")
    if s.status != "draft":
        return _panel(s, "_locked.html", "启用评分标准", message=f"“{s.audit_label}”不是草稿，不能再次启用。")
    same = db.session.execute(select(Standard).where(Standard.name == s.name, Standard.status == "active",
                                                     Standard.id != s.id)).scalars().all()
    text = f"启用“{s.audit_label}”后，新开的考核可以使用它。" + (
        "同名的" + "、".join(f"第{o.version}版" for o in same) + "将停用（已用它开展的考核不受影响）。" if same else "")
    return _confirm(s, "启用评分标准", text, action, "启用", danger=False, problems=found)


@bp.route("/<int:standard_id>/copy", methods=["GET", "POST"])
def copy(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        new = standards.new_version(s)
        db.session.commit()
        flash(f"已复制为“{new.audit_label}”（草稿）。原版本及用它开展的考核保持不变。", "success")
        if _htmx():
            resp = make_response("")
            resp.headers["HX-Redirect"] = url_for("standards.detail", standard_id=new.id)
            return resp
        return redirect(url_for("standards.detail", standard_id=new.id))
    return _confirm(s, "复制为新版本", f"将“{s.audit_label}”的分类、评分项、星级、榜单和权重复制为一个新的草稿版本。"
                    "原版本保持不变，已用它开展的考核仍按原版本计分。",
                    url_for("standards.copy", standard_id=s.id), "复制为新版本", danger=False)


@bp.route("/<int:standard_id>/delete", methods=["GET", "POST"])
def delete(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        label = s.audit_label
        try:
            standards.delete_standard(s)
        except standards.StandardProblem as e:
            return _refused(s, e)
        db.session.commit()
        flash(f"已删除草稿“{label}”。", "success")
        if _htmx():
            resp = make_response("")
            resp.headers["HX-Redirect"] = url_for("standards.index")
            return resp
        return redirect(url_for("standards.index"))
    if standards.editable_problem(s):
        return _locked_panel(s, "删除评分标准")
    return _confirm(s, "删除草稿", f"确定删除草稿“{s.audit_label}”及其 {len(s.categories)} 个分类、{len(s.items)} 个评分项吗？"
                    "审计日志保留删除记录。", url_for("standards.delete", standard_id=s.id), "确认删除")


# --- categories ----------------------------------------------------------------------------------

def _category_write(s: Standard, form: CategoryForm, run, message: str, partial_ctx: dict):
    if request.method == "GET" and standards.editable_problem(s):
        return _locked_panel(s, partial_ctx["title"])
    if form.validate_on_submit():
        try:
            run()
        except standards.StandardProblem as e:
            if e.status == 409:
                return _refused(s, e)
            db.session.rollback()
            attach_errors(form, {"name": e.message})
        else:
            return _done(s, message)
    elif request.method == "POST" and standards.editable_problem(s):
        return _refused(s, standards.NotEditable(standards.editable_problem(s)))
    return _panel(s, "_category_form.html", partial_ctx.pop("title"), 422 if form.errors else 200, form=form,
                  **partial_ctx)


@bp.route("/<int:standard_id>/categories/new", methods=["GET", "POST"])
def category_new(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    form = CategoryForm()
    return _category_write(s, form, lambda: standards.add_category(s, form.name.data, form.sort.data),
                           f"已新增分类“{(form.name.data or '').strip()}”。",
                           {"title": "新增分类", "action": url_for("standards.category_new", standard_id=s.id)})


@bp.route("/categories/<int:standard_category_id>/edit", methods=["GET", "POST"])
def category_edit(standard_category_id):
    c = get_or_404(StandardCategory, standard_category_id)
    _write()
    form = CategoryForm(obj=c if request.method == "GET" else None)
    return _category_write(c.standard, form, lambda: standards.update_category(c, form.name.data, form.sort.data),
                           "已保存分类。",
                           {"title": "修改分类", "action": url_for("standards.category_edit", standard_category_id=c.id)})


@bp.route("/categories/<int:standard_category_id>/delete", methods=["GET", "POST"])
def category_delete(standard_category_id):
    c = get_or_404(StandardCategory, standard_category_id)
    _write()
    name, n = c.name, sum(1 for i in c.standard.items if i.category_id == c.id)
    return _delete_step(c.standard, "删除分类",
                        f"确定删除分类“{name}”" + (f"及其中的 {n} 个评分项" if n else "") + "吗？",
                        url_for("standards.category_delete", standard_category_id=c.id),
                        lambda: standards.delete_category(c),
                        lambda removed: f"已删除分类“{name}”" + (f"及其 {removed} 个评分项。" if removed else "。"))


def _delete_step(s: Standard, title: str, question: str, action: str, remove, done):
    """GET: the confirmation (or why this version cannot change); POST: remove, then the
    builder with `done(what remove returned)`, or 409 with the reason and nothing written."""
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            message = done(remove())
        except standards.StandardProblem as e:
            return _refused(s, e)
        return _done(s, message)
    if standards.editable_problem(s):
        return _locked_panel(s, title)
    return _confirm(s, title, question, action, "确认删除")


# --- items ---------------------------------------------------------------------------------------

def _item_form(s: Standard, kind: str, item: StandardItem | None = None) -> ItemForm:
    form = ItemForm(kind=kind)
    form.category_id.choices = [(c.id, c.name) for c in s.categories]
    keys = standards.computed_keys()
    form.computed_key.choices = [("", "请选择…" if keys else "（系统计算指标尚未就绪）")] + list(keys.items())
    if request.method == "GET":
        if item is not None:
            form.load(item)
        elif record_id(request.args.get("category_id")):
            form.category_id.data = record_id(request.args["category_id"])
        if kind == "veto" and item is None:
            form.veto_effect.data = "zero_black"
    return form


def _item_write(s: Standard, kind: str, form: ItemForm, run, message, title: str, action: str, item=None):
    if request.method == "GET" and standards.editable_problem(s):
        return _locked_panel(s, title)
    if form.validate_on_submit():
        try:
            saved = run(form.to_data(kind))
        except standards.StandardProblem as e:
            if e.status == 409:
                return _refused(s, e)
            db.session.rollback()
            attach_errors(form, {e.field if e.field in form._fields else "name": e.message})
        else:
            return _done(s, message(saved))
    elif request.method == "POST" and standards.editable_problem(s):
        return _refused(s, standards.NotEditable(standards.editable_problem(s)))
    return _panel(s, "_item_form.html", title, 422 if form.errors else 200, form=form, kind=kind, action=action,
                  item=item, keys=standards.computed_keys())


@bp.route("/<int:standard_id>/items/new", methods=["GET", "POST"])
def item_new(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    kind = request.values.get("kind", "regular")
    if kind not in ITEM_KINDS:
        kind = "regular"
    form = _item_form(s, kind)
    return _item_write(s, kind, form, lambda d: standards.add_item(s, d), lambda i: f"已新增{ITEM_KINDS[kind]}“{i.name}”。",
                       f"新增{ITEM_KINDS[kind]}", url_for("standards.item_new", standard_id=s.id, kind=kind))


@bp.route("/items/<int:standard_item_id>/edit", methods=["GET", "POST"])
def item_edit(standard_item_id):
    item = get_or_404(StandardItem, standard_item_id)
    _write()
    s = item.standard
    form = _item_form(s, item.kind, item)
    return _item_write(s, item.kind, form, lambda d: standards.update_item(item, d), lambda i: f"已保存“{i.name}”。",
                       f"修改{ITEM_KINDS[item.kind]}", url_for("standards.item_edit", standard_item_id=item.id), item)


@bp.route("/items/<int:standard_item_id>/delete", methods=["GET", "POST"])
def item_delete(standard_item_id):
    item = get_or_404(StandardItem, standard_item_id)
    _write()
    name = item.name
    return _delete_step(item.standard, "删除评分项", f"确定删除{ITEM_KINDS[item.kind]}“{name}”吗？",
                        url_for("standards.item_delete", standard_item_id=item.id),
                        lambda: standards.delete_item(item), lambda _: f"已删除评分项“{name}”。")


# --- star bands, list rules, consequences, weights -----------------------------------------------

def _simple(s: Standard, form, partial: str, title: str, run, message: str, field: str, **ctx):
    """The shape of the standard-wide settings forms: parse → logic → builder, or the form."""
    if request.method == "GET" and standards.editable_problem(s):
        return _locked_panel(s, title)
    if form.validate_on_submit():
        try:
            run()
        except standards.StandardProblem as e:
            if e.status == 409:
                return _refused(s, e)
            db.session.rollback()
            attach_errors(form, {e.field if e.field in form._fields else field: e.message})
        else:
            return _done(s, message)
    elif request.method == "POST" and standards.editable_problem(s):
        return _refused(s, standards.NotEditable(standards.editable_problem(s)))
    return _panel(s, partial, title, 422 if form.errors else 200, form=form, **ctx)


@bp.route("/<int:standard_id>/bands", methods=["GET", "POST"])
def bands(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    form = BandsForm()
    if request.method == "GET":
        form.load(s.star_bands)
    return _simple(s, form, "_bands_form.html", "星级标准", lambda: standards.set_bands(s, form.bands()),
                   "已保存星级标准。", "min5")


def _rule_index(s: Standard) -> int | None:
    raw = request.values.get("index", "")
    if raw.isascii() and raw.isdigit() and int(raw) < len(s.list_rules or []):
        return int(raw)
    return None


@bp.route("/<int:standard_id>/lists/edit", methods=["GET", "POST"])
def list_rule(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    index = _rule_index(s)
    form = ListRuleForm()
    if request.method == "GET" and index is not None:
        form.load(s.list_rules[index])
    title = "修改榜单规则" if index is not None else "新增榜单规则"
    return _simple(s, form, "_list_rule_form.html", title, lambda: standards.save_list_rule(s, form.to_rule(), index),
                   "已保存榜单规则。", "list_kind", index=index)


@bp.route("/<int:standard_id>/lists/delete", methods=["GET", "POST"])
def list_rule_delete(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    index = _rule_index(s)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            if index is None:
                raise standards.StandardProblem("该榜单规则已不存在，请刷新页面。", "index")
            gone = standards.delete_list_rule(s, index)
        except standards.StandardProblem as e:
            if e.status == 409:
                return _refused(s, e)
            db.session.rollback()
            return _panel(s, "_locked.html", "删除榜单规则", 422, message=e.message)
        return _done(s, f"已删除{LISTS[gone['list']]}规则：{standards.describe_rule(gone)}。")
    if standards.editable_problem(s):
        return _locked_panel(s, "删除榜单规则")
    if index is None:
        # No rule named: the rules to choose from, each with its own delete button.
        return _panel(s, "_list_rules_delete.html", "删除榜单规则", form=ConfirmForm())
    rule = s.list_rules[index]
    return _confirm(s, "删除榜单规则", f"确定删除{LISTS.get(rule.get('list'), '')}规则“{standards.describe_rule(rule)}”吗？",
                    url_for("standards.list_rule_delete", standard_id=s.id, index=index), "确认删除")


@bp.route("/<int:standard_id>/consequences", methods=["GET", "POST"])
def consequences(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    form = ConsequencesForm()
    keys = standards.consequence_keys(s)
    if request.method == "GET":
        for key in keys:
            entries = standards.consequence_entries(s, key)
            form[f"{key}_kinds"].data = [e["kind"] for e in entries if e["kind"] != "text"]
            bonus = next((e for e in entries if e["kind"] == "tender_bonus"), None)
            form[f"{key}_points"].data = Decimal(str(bonus["points"])) if bonus and bonus.get("points") else None
            form[f"{key}_text"].data = "\n".join(e.get("text", "") for e in entries if e["kind"] == "text")
    return _simple(s, form, "_consequences_form.html", "上榜后果",
                   lambda: standards.set_consequences(s, {k: {"kinds": form[f"{k}_kinds"].data,
                                                              "points": form[f"{k}_points"].data,
                                                              "text": form[f"{k}_text"].data} for k in keys}),
                   "已保存上榜后果。", "red_kinds", keys=keys, kind_labels=CONSEQUENCE_KINDS)


@bp.route("/<int:standard_id>/weights", methods=["GET", "POST"])
def weights(standard_id):
    s = get_or_404(Standard, standard_id)
    _write()
    form = WeightsForm()
    if request.method == "GET":
        for key in CYCLE_KINDS:
            getattr(form, key).data = (s.cycle_weights or {}).get(key, 0)
    return _simple(s, form, "_weights_form.html", "年度考核权重",
                   lambda: standards.set_weights(s, {k: getattr(form, k).data for k in CYCLE_KINDS}),
                   "已保存年度考核权重。", "monthly")


@bp.app_context_processor
def _standard_nav():
    """The 考核评价 menu's standards entry: the district's published rules, for every role."""
    mem = g.get("membership")
    if mem is None or g.get("tenant") is None:
        return {"standard_nav": []}
    return {"standard_nav": [("standards.index", "clipboard-data", "评分标准")]}



@bp.app_template_filter("pts")
def _pts(value) -> str:
    """Points without trailing zeros: 5, 0.5, 12.25 (every evaluation page uses this one)."""
    if value is None or value == "":
        return "—"
    return standards.fmt_points(value)
