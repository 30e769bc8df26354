"""The district's scoring standard: building it (categories, items, bonus and veto items, star
bands, list rules and their consequences, annual cycle weights), checking it, activating it,
freezing it once an evaluation uses it, and copying it to a new version.

Plain functions with no request: they flush, never commit, and refuse with StandardProblem
(a Chinese message and the form field it belongs to) having written nothing. Only a draft that
no evaluation has used can change (`editable_problem`); a frozen version is kept as it was so
the evaluations on it keep their rules — editing means `new_version`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select, update

from ..extensions import db
from ..timeutil import now
from . import default_standard as default
from .models import (
    CONSEQUENCE_KINDS, CONSEQUENCE_LISTS, CYCLE_KINDS, ITEM_KINDS, LISTS, METHODS, NO_SURVEY_DEFAULT, NO_SURVEY_RULES, SCORERS, UNITS, VETO_EFFECTS,
    Evaluation, Standard,
    StandardCategory, StandardItem,
)
from .rules import ScoreProblem, to_points

ZERO = Decimal("0.00")
# A list rule is one condition ({"list", "rule", "value"}; the results job reads exactly these):
# "value" is stars, points or a number of places; veto takes none. Rules of one list are
# alternatives; when a result matches several lists the results take the worst.
LIST_RULES = {"stars_at_least": "星级不低于", "stars_at_most": "星级不高于",
              "score_at_least": "总分不低于", "score_below": "总分低于", "top_rank": "排名前（名）",
              "bottom_rank": "排名后（名）", "veto": "触发一票否决"}
STAR_RULES = {"stars_at_least", "stars_at_most"}
RANK_RULES = {"top_rank", "bottom_rank"}
SCORE_RULES = {"score_at_least", "score_below"}
# Labels of the computed indicators the contract names; the indicators module may carry its own.
COMPUTED_LABELS = {"demand_on_time_rate": "诉求按时办结率", "demand_satisfaction_rate": "诉求回访满意率",
                   "collection_rate": "物业费缴费率", "publicity_compliance_rate": "按时公示率"}


class StandardProblem(ValueError):
    def __init__(self, message: str, field: str = "name", status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class NotEditable(StandardProblem):
    """A frozen, active or retired version: the write is refused as a conflict (409)."""

    def __init__(self, message: str):
        super().__init__(message, "standard", 409)


# --- reading -----------------------------------------------------------------------------------

def active_standard() -> Standard | None:
    """The standard in force: the most recently activated active version."""
    return db.session.execute(select(Standard).where(Standard.status == "active")
                              .order_by(Standard.activated_at.desc(), Standard.id.desc()).limit(1)).scalar()


def computed_keys() -> dict[str, str]:
    """{key: label} of the indicators a computed item may use; empty while the indicators
    module is not there (the builder then says so)."""
    try:
        from ..indicators.computed import COMPUTED
    except ImportError:
        return {}
    return {key: getattr(v, "label", None) or COMPUTED_LABELS.get(key, key) for key, v in COMPUTED.items()}


def editable_problem(s: Standard) -> str | None:
    if s.frozen_at is not None:
        return f"“{s.audit_label}”已用于考核，已冻结，不能修改；请复制为新版本后修改。"
    if s.status != "draft":
        return f"“{s.audit_label}”{'已启用' if s.status == 'active' else '已停用'}，不能修改；请复制为新版本后修改。"
    return None


def ensure_editable(s: Standard) -> None:
    problem = editable_problem(s)
    if problem:
        raise NotEditable(problem)


def in_use(s: Standard) -> bool:
    return db.session.execute(select(Evaluation.id).where(Evaluation.standard_id == s.id).limit(1)).first() is not None


def summary(s: Standard) -> dict:
    """Regular items' max points per category and in total, against the standard's total."""
    cats = [{"category": c, "items": [i for i in s.items if i.kind == "regular" and i.category_id == c.id]}
            for c in s.categories]
    for c in cats:
        c["sum"] = sum((Decimal(i.max_points) for i in c["items"]), ZERO)
    total = sum((c["sum"] for c in cats), ZERO)
    return {"categories": cats, "total": total, "target": Decimal(s.total_points),
            "bonus": [i for i in s.items if i.kind == "bonus"], "veto": [i for i in s.items if i.kind == "veto"]}


# --- checks ------------------------------------------------------------------------------------

def fmt_points(value) -> str:
    """Points as people write them: 5, 0.5, 12.25."""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _dec(value) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return to_points(value)
    except ScoreProblem:
        return None


def item_issues(item, categories: set[int] | None = None, keys: dict | None = None) -> dict[str, str]:
    """{field: message} of what is wrong with one item (a StandardItem or anything with its
    attributes); the save refuses on these and `problems` lists them."""
    keys = computed_keys() if keys is None else keys
    out: dict[str, str] = {}
    if not (item.name or "").strip():
        out["name"] = "请填写评分项名称。"
    if item.kind not in ITEM_KINDS:
        out["kind"] = "请选择评分项类型。"
        return out
    top = _dec(item.max_points)
    if item.kind == "veto":
        if item.veto_effect not in VETO_EFFECTS:
            out["veto_effect"] = "一票否决项须选择否决后果。"
        if item.scorer == "committee":
            out["scorer"] = "一票否决情形由社区或街道认定，不能由业主委员会认定。"
        return out
    if item.kind == "regular" and (item.category_id is None or (categories is not None and item.category_id not in categories)):
        out["category_id"] = "基本项须归入本标准的一个分类。"
    if top is None or top <= 0:
        out["max_points"] = "满分须大于 0。"
        top = None
    if item.method not in METHODS:
        out["method"] = "请选择计分方式。"
    if item.scorer not in SCORERS:
        out["scorer"] = "请选择评分方。"
    if item.scorer == "survey" and item.no_survey_rule not in NO_SURVEY_RULES:
        out["no_survey_rule"] = "请选择无有效测评时的计分规则。"
    if item.scorer == "survey" and item.method != "computed":
        out["method"] = "居民满意度测评打分的项须为“系统数据计算”。"
    elif item.method == "graded":
        points = []
        for level in item.levels or []:
            p = _dec(level.get("points") if isinstance(level, dict) else None)
            if p is None:
                out["levels"] = "各档分值须为数字，最多两位小数。"
                break
            points.append(p)
        if "levels" not in out:
            if not points:
                out["levels"] = "分档评分须至少设一档。"
            elif len(set(points)) != len(points):
                out["levels"] = "各档分值不能重复。"
            elif top is not None and any(p < 0 or p > top for p in points):
                out["levels"] = f"各档分值须在 0 到满分 {fmt_points(top)} 分之间。"
            elif top is not None and top not in points:
                out["levels"] = f"须有一档为满分 {fmt_points(top)} 分。"
    elif item.method == "deduction":
        per = _dec(item.deduction_per)
        if per is None or per <= 0:
            out["deduction_per"] = "每次扣分须大于 0。"
        elif top is not None and per > top:
            out["deduction_per"] = f"每次扣分不能超过满分 {fmt_points(top)} 分。"
    elif item.method == "computed":
        if item.scorer not in ("system", "survey"):
            out["scorer"] = "系统数据计算的项，评分方须为“系统”或“居民满意度测评”。"
        elif item.scorer == "system":
            if not item.computed_key:
                out["computed_key"] = "请选择计算指标。"
            elif item.computed_key not in keys:
                out["computed_key"] = (f"计算指标“{item.computed_key}”不存在。" if keys
                                       else "系统计算指标尚未就绪，暂不能使用系统数据计算项。")
    return out


def band_problems(bands: list, total) -> list[str]:
    """Star bands: highest stars first, strictly descending minimums, the last at 0."""
    if not bands:
        return ["请设置星级标准。"]
    out = []
    stars = [b.get("stars") for b in bands]
    mins = [_dec(b.get("min")) for b in bands]
    if any(not isinstance(s, int) or s < 1 or s > 5 for s in stars):
        out.append("星级须为 1 到 5 星。")
    elif any(a <= b for a, b in zip(stars, stars[1:])):
        out.append("星级须从高到低排列，且不能重复。")
    if any(m is None for m in mins):
        out.append("各星级的最低分须为数字。")
        return out
    if any(m < 0 or m > Decimal(total) for m in mins):
        out.append(f"各星级的最低分须在 0 到总分 {fmt_points(total)} 分之间。")
    if any(a <= b for a, b in zip(mins, mins[1:])):
        out.append("星级最低分须严格从高到低递减。")
    if mins[-1] != 0:
        out.append("最低一档星级的最低分须为 0，使每个总分都有星级。")
    return out


def rule_problem(rule: dict) -> str | None:
    """What is wrong with one condition of a list rule ({"rule", "value"})."""
    kind = rule.get("rule")
    if kind not in LIST_RULES:
        return "请选择榜单规则的条件。"
    if kind == "veto":
        return None
    value = rule.get("value")
    if kind in SCORE_RULES:
        v = _dec(value)
        return None if v is not None and v >= 0 else "分数条件须填写不小于 0 的分数。"
    if not isinstance(value, int) or isinstance(value, bool):
        return "星级或名次须填写整数。"
    if kind in STAR_RULES and not 0 <= value <= 5:
        return "星级须在 0 到 5 之间。"
    if kind in RANK_RULES and value < 1:
        return "名次须至少为 1。"
    return None


def list_rule_problems(rules: list) -> list[str]:
    out = []
    for n, r in enumerate(rules or [], 1):
        if r.get("list") not in LISTS:
            out.append(f"第 {n} 条榜单规则未选择榜单。")
        problem = rule_problem(r)
        if problem:
            out.append(f"第 {n} 条榜单规则：{problem}")
    lists = {r.get("list") for r in rules or []}
    if "red" not in lists:
        out.append("须至少设一条红榜规则。")
    if "black" not in lists:
        out.append("须至少设一条黑榜规则。")
    return out


def weight_problems(weights: dict) -> list[str]:
    values = [(weights or {}).get(k) for k in CYCLE_KINDS]
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 100 for v in values):
        return ["年度考核权重须为 0 到 100 的整数百分比。"]
    if sum(values) != 100:
        return [f"年度考核各周期权重合计为 {sum(values)}%，须为 100%。"]
    return []


def problems(s: Standard) -> list[str]:
    """Everything that keeps `s` from being activated; empty = it can be."""
    out = []
    keys = computed_keys()
    cats = {c.id for c in s.categories}
    total = Decimal(s.total_points)
    if total <= 0:
        out.append("标准总分须大于 0。")
    if s.unit not in UNITS:
        out.append("请选择考核单位（按项目或按企业）。")
    if s.unit != "compound" and any(i.scorer == "committee" for i in s.items):
        out.append("按企业考核的标准不能设业主委员会评分的项（业委会按小区评价）。")
    regular = [i for i in s.items if i.kind == "regular"]
    if not regular:
        out.append("还没有基本评分项。")
    for c in s.categories:
        if not any(i.category_id == c.id for i in regular):
            out.append(f"分类“{c.name}”还没有评分项。")
    for i in s.items:
        for message in item_issues(i, cats, keys).values():
            out.append(f"“{i.name}”：{message}")
    regular_sum = sum((_dec(i.max_points) or ZERO for i in regular), ZERO)
    if regular and regular_sum != total:
        out.append(f"基本项满分合计 {fmt_points(regular_sum)} 分，须等于标准总分 {fmt_points(total)} 分。")
    bonus = [i for i in s.items if i.kind == "bonus"]
    cap = Decimal(s.bonus_cap or 0)
    if cap < 0:
        out.append("加分上限不能为负数。")
    elif bonus and cap <= 0:
        out.append("设有加分项时，加分上限须大于 0。")
    out += band_problems(s.star_bands or [], total)
    out += list_rule_problems(s.list_rules or [])
    out += weight_problems(s.cycle_weights or {})
    return out


# --- list rules as words ------------------------------------------------------------------------

def consequence_entries(s: Standard, key: str) -> list[dict]:
    """The list's consequences as entries ({"kind", "points"?, "text"?}); a bare string (what
    standards held before the kinds existed) reads as free text, so old data keeps working."""
    out = []
    for entry in (s.consequences or {}).get(key) or []:
        if isinstance(entry, str):
            entry = {"kind": "text", "text": entry}
        if isinstance(entry, dict) and entry.get("kind") in CONSEQUENCE_KINDS:
            out.append(entry)
    return out


def describe_consequence(entry: dict) -> str:
    if entry.get("kind") == "text":
        return str(entry.get("text", ""))
    if entry.get("kind") == "tender_bonus" and entry.get("points") is not None:
        return f"招投标加分 {fmt_points(entry['points'])} 分"
    return CONSEQUENCE_KINDS.get(entry.get("kind"), "")


def consequence_keys(s: Standard) -> list[str]:
    """The lists whose consequences the standard sets: 一票否决 too when it has veto items."""
    has_veto = any(i.kind == "veto" for i in s.items)
    return [k for k in CONSEQUENCE_LISTS if k != "veto" or has_veto]


def describe_rule(rule: dict) -> str:
    kind, v = rule.get("rule"), rule.get("value")
    return {"stars_at_least": f"{v}星及以上", "stars_at_most": f"{v}星及以下",
            "score_at_least": f"总分{v}分及以上", "score_below": f"总分低于{v}分",
            "top_rank": f"排名前{v}名", "bottom_rank": f"排名后{v}名", "veto": "触发一票否决"}.get(kind, str(kind))


# --- writing: the standard itself -------------------------------------------------------------

def _name_taken(name: str, version: int, exclude_id: int | None = None) -> bool:
    stmt = select(Standard.id).where(Standard.name == name, Standard.version == version)
    if exclude_id is not None:
        stmt = stmt.where(Standard.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _check_settings(name: str, unit: str, total_points, bonus_cap) -> tuple[str, Decimal, Decimal]:
    name = (name or "").strip()
    if not name:
        raise StandardProblem("请填写标准名称。", "name")
    if len(name) > 100:
        raise StandardProblem("标准名称不能超过 100 个字。", "name")
    if unit not in UNITS:
        raise StandardProblem("请选择考核单位。", "unit")
    total = _dec(total_points)
    if total is None or total <= 0:
        raise StandardProblem("标准总分须为大于 0 的数，最多两位小数。", "total_points")
    cap = _dec(bonus_cap) if bonus_cap not in (None, "") else ZERO
    if cap is None or cap < 0:
        raise StandardProblem("加分上限须为不小于 0 的数，最多两位小数。", "bonus_cap")
    return name, total, cap


def create_standard(name: str, unit: str = "compound", total_points="100", bonus_cap="0", note: str = "") -> Standard:
    """A new draft, version 1, with no items yet; star bands, list rules, consequences and
    cycle weights start from the district defaults so only the items need building."""
    name, total, cap = _check_settings(name, unit, total_points, bonus_cap)
    if db.session.execute(select(Standard.id).where(Standard.name == name).limit(1)).first():
        raise StandardProblem(f"已有名为“{name}”的评分标准；要修改它，请在原标准上“复制为新版本”。", "name")
    s = Standard(name=name, version=1, status="draft", unit=unit, total_points=total, bonus_cap=cap,
                 note=(note or "").strip(), star_bands=copy.deepcopy(default.STAR_BANDS),
                 list_rules=copy.deepcopy(default.LIST_RULES), consequences=copy.deepcopy(default.CONSEQUENCES),
                 cycle_weights=dict(default.CYCLE_WEIGHTS))
    db.session.add(s)
    db.session.flush()
    return s


def update_settings(s: Standard, name: str, unit: str, total_points, bonus_cap, note: str) -> Standard:
    ensure_editable(s)
    name, total, cap = _check_settings(name, unit, total_points, bonus_cap)
    if name != s.name:
        # A renamed draft starts its own line of versions: the name must be free.
        if db.session.execute(select(Standard.id).where(Standard.name == name, Standard.id != s.id).limit(1)).first():
            raise StandardProblem(f"已有名为“{name}”的评分标准。", "name")
    s.name, s.unit, s.total_points, s.bonus_cap, s.note = name, unit, total, cap, (note or "").strip()
    db.session.flush()
    return s


def freeze(s: Standard) -> Standard:
    """Called when an evaluation is opened on `s`: from now on it never changes."""
    if s.frozen_at is None:
        s.frozen_at = now()
        db.session.flush()
    return s


def activate(s: Standard) -> Standard:
    """Put a draft in force; the previous active version of the same name retires. Refused,
    writing nothing, while `problems(s)` is not empty."""
    if s.status != "draft":
        raise NotEditable(f"“{s.audit_label}”不是草稿，不能再次启用。")
    found = problems(s)
    if found:
        raise StandardProblem(f"“{s.audit_label}”还有 {len(found)} 个问题，不能启用：" + "；".join(found), "activate")
    for old in db.session.execute(select(Standard).where(Standard.name == s.name, Standard.status == "active",
                                                         Standard.id != s.id)).scalars():
        old.status = "retired"
    s.status = "active"
    s.activated_at = now()
    db.session.flush()
    return s


def new_version(s: Standard) -> Standard:
    """A deep copy of `s` as the next draft version of its name: categories and items copied
    with new ids (each item in the copy of its category). `s` and its evaluations are untouched."""
    latest = db.session.execute(select(func.max(Standard.version)).where(Standard.name == s.name)).scalar() or 0
    new = Standard(name=s.name, version=latest + 1, status="draft", unit=s.unit, total_points=s.total_points,
                   bonus_cap=s.bonus_cap, star_bands=copy.deepcopy(s.star_bands or []),
                   list_rules=copy.deepcopy(s.list_rules or []), consequences=copy.deepcopy(s.consequences or {}),
                   cycle_weights=copy.deepcopy(s.cycle_weights or {}), based_on_id=s.id, note=s.note)
    db.session.add(new)
    db.session.flush()
    cat_map = {}
    for c in s.categories:
        nc = StandardCategory(standard_id=new.id, name=c.name, sort=c.sort)
        db.session.add(nc)
        db.session.flush()
        cat_map[c.id] = nc.id
    for i in s.items:
        db.session.add(StandardItem(
            standard_id=new.id, category_id=cat_map.get(i.category_id), kind=i.kind, name=i.name,
            criterion=i.criterion, question=i.question, no_survey_rule=i.no_survey_rule, max_points=i.max_points,
            method=i.method, scorer=i.scorer, levels=copy.deepcopy(i.levels or []), deduction_per=i.deduction_per, computed_key=i.computed_key,
            evidence_required=i.evidence_required, veto_effect=i.veto_effect, sort=i.sort))
    db.session.flush()
    db.session.refresh(new)
    return new


def delete_standard(s: Standard) -> None:
    """Delete a draft nobody used, with its categories and items (the audit trail keeps them)."""
    ensure_editable(s)
    if in_use(s):
        raise NotEditable(f"“{s.audit_label}”已有考核使用，不能删除。")
    for i in list(s.items):
        db.session.delete(i)
    db.session.flush()
    for c in list(s.categories):
        db.session.delete(c)
    db.session.flush()
    db.session.execute(update(Standard).where(Standard.based_on_id == s.id).values(based_on_id=None))
    db.session.delete(s)
    db.session.flush()


# --- writing: categories and items -------------------------------------------------------------

def _category_name(s: Standard, name: str, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise StandardProblem("请填写分类名称。", "name")
    if len(name) > 60:
        raise StandardProblem("分类名称不能超过 60 个字。", "name")
    if any(c.name == name and c.id != exclude_id for c in s.categories):
        raise StandardProblem(f"本标准已有分类“{name}”。", "name")
    return name


def add_category(s: Standard, name: str, sort: int | None = None) -> StandardCategory:
    ensure_editable(s)
    name = _category_name(s, name)
    if sort is None:
        sort = max((c.sort for c in s.categories), default=0) + 10
    c = StandardCategory(standard_id=s.id, name=name, sort=sort)
    db.session.add(c)
    db.session.flush()
    db.session.expire(s, ["categories", "items"])
    return c


def update_category(c: StandardCategory, name: str, sort: int | None) -> StandardCategory:
    ensure_editable(c.standard)
    c.name = _category_name(c.standard, name, c.id)
    if sort is not None:
        c.sort = sort
    db.session.flush()
    return c


def delete_category(c: StandardCategory) -> int:
    """Delete a category with its items; the number of items deleted."""
    s = c.standard
    ensure_editable(s)
    items = [i for i in s.items if i.category_id == c.id]
    for i in items:
        db.session.delete(i)
    db.session.flush()
    db.session.delete(c)
    db.session.flush()
    db.session.expire(s, ["categories", "items"])
    return len(items)


@dataclass
class ItemData:
    """An item as the form parses it."""
    kind: str = "regular"
    name: str = ""
    criterion: str = ""
    question: str = ""
    no_survey_rule: str = NO_SURVEY_DEFAULT
    category_id: int | None = None
    max_points: Decimal | None = None
    method: str = "graded"
    scorer: str = "community"
    levels: list = field(default_factory=list)      # [{"label", "points"}]
    deduction_per: Decimal | None = None
    computed_key: str | None = None
    evidence_required: bool = False
    veto_effect: str | None = None
    sort: int | None = None

    def normalised(self) -> "ItemData":
        """Drop what the kind and method do not use, so a stored item holds only what counts."""
        d = copy.copy(self)
        d.name, d.criterion = (d.name or "").strip(), (d.criterion or "").strip()
        # Only residents are asked a question: other scorers keep none.
        d.question = (d.question or "").strip() if d.scorer == "survey" else ""
        if d.scorer != "survey":
            d.no_survey_rule = NO_SURVEY_DEFAULT
        if d.kind == "veto":
            d.category_id, d.max_points, d.method, d.levels = None, ZERO, "yesno", []
            d.deduction_per = d.computed_key = None
            return d
        d.veto_effect = None
        if d.kind == "bonus":
            d.category_id = None
        if d.scorer == "survey" and d.method == "computed":
            d.computed_key = None   # the rate is the compound's survey, not an indicator
        if d.method != "graded":
            d.levels = []
        if d.method != "deduction":
            d.deduction_per = None
        if d.method != "computed":
            d.computed_key = None
        return d


FIELDS = ("kind", "name", "criterion", "question", "no_survey_rule", "category_id", "max_points", "method", "scorer", "levels", "deduction_per",
          "computed_key", "evidence_required", "veto_effect")


def _check_item(s: Standard, d: ItemData) -> None:
    if len(d.name) > 100:
        raise StandardProblem("评分项名称不能超过 100 个字。", "name")
    issues = item_issues(d, {c.id for c in s.categories})
    if issues:
        name, message = next(iter(issues.items()))
        raise StandardProblem(message, name)
    if d.scorer == "committee" and s.unit != "compound":
        raise StandardProblem("业主委员会按小区评价，按企业考核的标准不能设业委会评分的项。", "scorer")
    if d.scorer == "survey" and not d.question:
        raise StandardProblem("居民满意度测评打分的项须填写居民问题（居民作答时看到的问题）。", "question")
    if len(d.question) > 200:
        raise StandardProblem("居民问题不能超过 200 个字。", "question")


def add_item(s: Standard, data: ItemData) -> StandardItem:
    ensure_editable(s)
    d = data.normalised()
    _check_item(s, d)
    sort = d.sort if d.sort is not None else max((i.sort for i in s.items), default=0) + 10
    item = StandardItem(standard_id=s.id, sort=sort, **{k: getattr(d, k) for k in FIELDS})
    db.session.add(item)
    db.session.flush()
    db.session.expire(s, ["categories", "items"])
    return item


def update_item(item: StandardItem, data: ItemData) -> StandardItem:
    s = item.standard
    ensure_editable(s)
    d = data.normalised()
    d.kind = item.kind   # a row stays in its section (regular, bonus, veto)
    if d.kind == "veto":
        d = d.normalised()
    _check_item(s, d)
    for k in FIELDS:
        setattr(item, k, getattr(d, k))
    if d.sort is not None:
        item.sort = d.sort
    db.session.flush()
    return item


def delete_item(item: StandardItem) -> None:
    s = item.standard
    ensure_editable(s)
    db.session.delete(item)
    db.session.flush()
    db.session.expire(s, ["categories", "items"])


# --- writing: bands, list rules, consequences, weights -----------------------------------------

def set_bands(s: Standard, bands: list[dict]) -> None:
    ensure_editable(s)
    found = band_problems(bands, s.total_points)
    if found:
        raise StandardProblem(found[0], "bands")
    s.star_bands = [{"stars": b["stars"], "min": str(_dec(b["min"]))} for b in bands]
    db.session.flush()


def save_list_rule(s: Standard, rule: dict, index: int | None = None) -> None:
    """Add a list rule, or replace the one at `index`."""
    ensure_editable(s)
    if rule.get("list") not in LISTS:
        raise StandardProblem("请选择榜单。", "list_kind")
    problem = rule_problem(rule)
    if problem:
        raise StandardProblem(problem, "rule" if rule.get("rule") not in LIST_RULES else "value")
    rules = copy.deepcopy(s.list_rules or [])
    if index is None:
        rules.append(rule)
    elif 0 <= index < len(rules):
        rules[index] = rule
    else:
        raise StandardProblem("该榜单规则已不存在，请刷新页面。", "list_kind")
    s.list_rules = rules
    db.session.flush()


def delete_list_rule(s: Standard, index: int) -> dict:
    ensure_editable(s)
    rules = copy.deepcopy(s.list_rules or [])
    if not 0 <= index < len(rules):
        raise StandardProblem("该榜单规则已不存在，请刷新页面。", "index")
    gone = rules.pop(index)
    s.list_rules = rules
    db.session.flush()
    return gone


# 招投标加分: points within (0, 20], two places (a tender's scoring sheet has 100 points).
BONUS_POINTS = (Decimal("0.01"), Decimal("20"))


def set_consequences(s: Standard, by_list: dict[str, dict]) -> None:
    """Each list's consequences: {key: {"kinds": [kind codes], "points": Decimal | None (招投标
    加分), "text": free text, one measure per line}}. The 一票否决 list only when the standard
    has veto items. Stored in CONSEQUENCE_KINDS order, free-text lines after."""
    ensure_editable(s)
    out = {}
    for key in consequence_keys(s):
        given = by_list.get(key) or {}
        kinds = [k for k in given.get("kinds") or []]
        unknown = [k for k in kinds if k not in CONSEQUENCE_KINDS or k == "text"]
        if unknown:
            raise StandardProblem("请从列出的后果中选择。", f"{key}_kinds")
        entries = []
        for kind in CONSEQUENCE_KINDS:
            if kind not in kinds:
                continue
            if kind == "tender_bonus":
                points = given.get("points")
                if points is None:
                    raise StandardProblem("选择了招投标加分，请填写加分分值。", f"{key}_points")
                points = Decimal(str(points))
                if not BONUS_POINTS[0] <= points <= BONUS_POINTS[1] or points != points.quantize(Decimal("0.01")):
                    raise StandardProblem("加分分值应大于 0、不超过 20，最多两位小数。", f"{key}_points")
                entries.append({"kind": kind, "points": fmt_points(points)})
            else:
                entries.append({"kind": kind})
        lines = [ln.strip() for ln in (given.get("text") or "").splitlines() if ln.strip()]
        if any(len(ln) > 100 for ln in lines):
            raise StandardProblem("每条措施不能超过 100 个字。", f"{key}_text")
        entries += [{"kind": "text", "text": ln} for ln in lines]
        out[key] = entries
    s.consequences = out
    db.session.flush()


def set_weights(s: Standard, weights: dict[str, int]) -> None:
    ensure_editable(s)
    found = weight_problems(weights)
    if found:
        raise StandardProblem(found[0], "monthly")
    s.cycle_weights = {k: weights[k] for k in CYCLE_KINDS}
    db.session.flush()


# --- the default standard ----------------------------------------------------------------------

def adopt_default(name: str = default.NAME) -> Standard:
    """A draft copy of the ready default standard (default_standard.py) under `name`, version 1.
    Refused when that name and version exist already."""
    name = (name or "").strip()
    if not name:
        raise StandardProblem("请填写标准名称。", "name")
    if _name_taken(name, 1):
        raise StandardProblem(f"已有“{name}”第1版评分标准，不能重复采用；请换一个名称，"
                              "或在已有标准上“复制为新版本”。", "name")
    s = Standard(name=name, version=1, status="draft", unit=default.UNIT, total_points=Decimal(default.TOTAL),
                 bonus_cap=Decimal(default.BONUS_CAP), note=default.NOTE,
                 star_bands=copy.deepcopy(default.STAR_BANDS), list_rules=copy.deepcopy(default.LIST_RULES),
                 consequences=copy.deepcopy(default.CONSEQUENCES), cycle_weights=dict(default.CYCLE_WEIGHTS))
    db.session.add(s)
    db.session.flush()
    sort = 0
    for n, (cat_name, items) in enumerate(default.CATEGORIES, 1):
        c = StandardCategory(standard_id=s.id, name=cat_name, sort=n * 10)
        db.session.add(c)
        db.session.flush()
        for spec in items:
            sort += 10
            db.session.add(_default_item(s, spec, "regular", sort, c.id))
    for spec in default.BONUS_ITEMS:
        sort += 10
        db.session.add(_default_item(s, spec, "bonus", sort))
    for spec in default.VETO_ITEMS:
        sort += 10
        db.session.add(StandardItem(standard_id=s.id, kind="veto", name=spec["name"], criterion=spec["criterion"],
                                    max_points=ZERO, method="yesno", scorer="street", veto_effect="zero_black",
                                    sort=sort))
    db.session.flush()
    db.session.refresh(s)
    return s


def _default_item(s: Standard, spec: dict, kind: str, sort: int, category_id: int | None = None) -> StandardItem:
    return StandardItem(
        standard_id=s.id, category_id=category_id, kind=kind, name=spec["name"], criterion=spec.get("criterion", ""),
        question=spec.get("question", ""), no_survey_rule=spec.get("no_survey", NO_SURVEY_DEFAULT),
        max_points=Decimal(spec["max"]), method=spec["method"], scorer=spec["scorer"],
        levels=[{"label": label, "points": points} for label, points in spec.get("levels", [])],
        deduction_per=Decimal(spec["per"]) if spec.get("per") else None, computed_key=spec.get("key"),
        evidence_required=spec.get("evidence", False), sort=sort)


def default_preview() -> dict:
    """The default standard as the adopt page shows it (no database)."""
    cats = [{"name": n, "items": items, "sum": sum(Decimal(i["max"]) for i in items)} for n, items in default.CATEGORIES]
    return {"categories": cats, "total": sum(c["sum"] for c in cats), "bonus": default.BONUS_ITEMS,
            "bonus_cap": default.BONUS_CAP, "veto": default.VETO_ITEMS, "bands": default.STAR_BANDS,
            "rules": default.LIST_RULES, "consequences": default.CONSEQUENCES,
            "sources": default.CONSEQUENCE_SOURCES, "weights": default.CYCLE_WEIGHTS, "name": default.NAME}
