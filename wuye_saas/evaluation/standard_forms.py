"""Forms of the scoring standard builder. They parse and check the shape of what is typed;
standards.py owns the rules (sums, levels, keys) and its refusals are shown next to the fields."""
from __future__ import annotations

import re
from decimal import Decimal

from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..formutil import POINTS, Form, decimal_field, optional_int
from .models import CONSEQUENCE_KINDS, CONSEQUENCE_LISTS, CYCLE_KINDS, LISTS, METHODS, NO_SURVEY_DEFAULT, NO_SURVEY_RULES, SCORERS, UNITS, VETO_EFFECTS
from .rules import ScoreProblem, to_points
from .standards import LIST_RULES, SCORE_RULES, ItemData

POINTS_MSG = "请填写数字，最多两位小数。"


def _points(label, name=None, **kw):
    return decimal_field(label, POINTS, 2, name or label, " 分", **kw)


class StandardForm(Form):
    name = StringField("标准名称", validators=[DataRequired("请填写标准名称。"), Length(max=100, message="标准名称不能超过 100 个字。")])
    unit = SelectField("考核单位", choices=list(UNITS.items()),
                       description="按项目：每个企业服务的每个小区各评一份；按企业：每个企业评一份。")
    total_points = decimal_field("标准总分", (Decimal("0.01"), POINTS[1]), 2, "标准总分", " 分", default=Decimal("100"),
                                 required="请填写标准总分。", description="基本项满分合计须等于此分数才能启用。")
    bonus_cap = _points("加分上限", required="请填写加分上限（没有加分项时填 0）。", default=Decimal("0"),
                        description="加分项合计最多加这么多分（如扬州：荣誉加分最多 5 分）。")
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class AdoptForm(Form):
    name = StringField("标准名称", validators=[DataRequired("请填写标准名称。"), Length(max=100, message="标准名称不能超过 100 个字。")])


class CategoryForm(Form):
    name = StringField("分类名称", validators=[DataRequired("请填写分类名称。"), Length(max=60, message="分类名称不能超过 60 个字。")])
    sort = IntegerField("排序", validators=[Optional(), NumberRange(0, 100000, "排序须为 0 到 100000 的整数。")],
                        description="数字小的排在前面；留空排在最后。")


LEVEL_LINE = re.compile(r"^(.*?)[\s=＝:：]+([-+]?\d+(?:\.\d+)?)\s*分?$")


def parse_levels(text: str) -> list[dict]:
    """One level a line: "说明 分值" (or 说明=分值 / 说明：分值); ValidationError naming the line."""
    out = []
    for n, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        match = LEVEL_LINE.match(line)
        if not match or not match.group(1).strip():
            raise ValidationError(f"第 {n} 行应为“档次说明 分值”，例如“党员5人以上 5”。")
        try:
            points = to_points(match.group(2))
        except ScoreProblem as e:
            raise ValidationError(f"第 {n} 行：{e.message}") from None
        out.append({"label": match.group(1).strip(), "points": str(points)})
    return out


def levels_text(levels: list) -> str:
    return "\n".join(f"{lv.get('label', '')} {lv.get('points', '')}" for lv in levels or [])


class ItemForm(Form):
    name = StringField("评分项", validators=[DataRequired("请填写评分项名称。"), Length(max=100, message="评分项名称不能超过 100 个字。")])
    category_id = SelectField("所属分类", coerce=optional_int,
                              choices=[], validate_choice=False)
    criterion = TextAreaField("评分标准（细则）", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    question = StringField("居民问题（居民满意度测评）", validators=[Optional(), Length(max=200, message="居民问题不能超过 200 个字。")],
                           description="居民作答页面上显示的问题，如“您对小区公共区域的卫生保洁是否满意？”；评分方为居民满意度测评的项必填。")
    # Checked by standards.item_issues (only survey items use it); a form without it keeps the default.
    no_survey_rule = SelectField("无有效测评时（居民满意度测评）", choices=list(NO_SURVEY_RULES.items()),
                                 validate_choice=False,
                                 description="小区没有测评或答卷不足总户数 70% 时本项如何计分。默认计 0 分："
                                             "有效测评是企业的义务（中物协一级：每年至少一次，满意率 ≥ 80%）。")
    max_points = _points("满分")
    method = SelectField("计分方式", choices=list(METHODS.items()))
    scorer = SelectField("评分方", choices=list(SCORERS.items()),
                         description="企业自评的项由社区审核；居民满意度测评打分的项须为“系统数据计算”。")
    levels = TextAreaField("分档（分档评分）", render_kw={"rows": 3, "placeholder": "党员少于3人 1\n党员3至5人 3\n党员5人以上 5"},
                           description="每行一档：档次说明 分值。须有一档为满分，各档在 0 到满分之间。")
    deduction_per = _points("每次扣分（按次扣分）", "每次扣分",
                            description="每发现一处不符合扣的分数，扣完为止。")
    computed_key = SelectField("计算指标（系统数据计算）", choices=[], validate_choice=False)
    evidence_required = BooleanField("须上传佐证材料")
    veto_effect = SelectField("否决后果", choices=[("", "请选择…")] + list(VETO_EFFECTS.items()))
    sort = IntegerField("排序", validators=[Optional(), NumberRange(0, 100000, "排序须为 0 到 100000 的整数。")])

    def __init__(self, *args, kind: str = "regular", **kw):
        super().__init__(*args, **kw)
        self.kind = kind
        # Fields a section does not show arrive empty: the logic checks what the kind needs.
        self.veto_effect.validate_choice = False
        if kind == "veto":
            self.method.validate_choice = False

    def validate_max_points(self, field):
        if self.kind == "veto":
            return
        if field.data is None:
            raise ValidationError("请填写满分（数字，最多两位小数）。")
        if field.data <= 0:
            raise ValidationError("满分须大于 0。")

    def validate_levels(self, field):
        if self.kind != "veto" and self.method.data == "graded":
            self._levels = parse_levels(field.data)

    def to_data(self, kind: str) -> ItemData:
        return ItemData(kind=kind, name=self.name.data or "", criterion=self.criterion.data or "",
                        question=self.question.data or "", no_survey_rule=self.no_survey_rule.data or NO_SURVEY_DEFAULT,
                        category_id=self.category_id.data, max_points=self.max_points.data,
                        method=self.method.data, scorer=self.scorer.data,
                        levels=getattr(self, "_levels", None) or [], deduction_per=self.deduction_per.data,
                        computed_key=self.computed_key.data or None, evidence_required=bool(self.evidence_required.data),
                        veto_effect=self.veto_effect.data or None, sort=self.sort.data)

    def load(self, item) -> None:
        self.name.data, self.criterion.data, self.category_id.data = item.name, item.criterion, item.category_id
        self.question.data, self.no_survey_rule.data = item.question, item.no_survey_rule
        self.max_points.data, self.method.data, self.scorer.data = item.max_points, item.method, item.scorer
        self.levels.data, self.deduction_per.data = levels_text(item.levels), item.deduction_per
        self.computed_key.data, self.evidence_required.data = item.computed_key or "", item.evidence_required
        self.veto_effect.data, self.sort.data = item.veto_effect or "", item.sort


BAND_STARS = (5, 4, 3, 2, 1)


class BandsForm(Form):
    """The minimum total of each star level; a blank level is not awarded."""
    min5 = _points("五星", "分数线")
    min4 = _points("四星", "分数线")
    min3 = _points("三星", "分数线")
    min2 = _points("二星", "分数线")
    min1 = _points("一星", "分数线")

    def bands(self) -> list[dict]:
        return [{"stars": n, "min": str(getattr(self, f"min{n}").data)} for n in BAND_STARS
                if getattr(self, f"min{n}").data is not None]

    def load(self, bands: list) -> None:
        for b in bands or []:
            if b.get("stars") in BAND_STARS:
                getattr(self, f"min{b['stars']}").data = Decimal(str(b["min"]))


RULE_CHOICES = list(LIST_RULES.items())


class ListRuleForm(Form):
    list_kind = SelectField("榜单", choices=list(LISTS.items()))
    rule = SelectField("条件", choices=RULE_CHOICES)
    value = StringField("数值", description="星级、分数或名次；“触发一票否决”不填。")
    proposal = BooleanField("本区试行（建议性规则）")

    def validate_value(self, field):
        if self.rule.data == "veto" or self.rule.data not in LIST_RULES:
            self._value = None
            return
        value = (field.data or "").strip()
        if not value:
            raise ValidationError("请填写条件的数值。")
        if self.rule.data in SCORE_RULES:
            try:
                self._value = str(to_points(value))
            except ScoreProblem:
                raise ValidationError(POINTS_MSG) from None
        elif re.fullmatch(r"\d{1,4}", value):
            self._value = int(value)
        else:
            raise ValidationError("星级或名次须填写整数。")

    def to_rule(self) -> dict:
        rule = {"list": self.list_kind.data, "rule": self.rule.data}
        if self._value is not None:
            rule["value"] = self._value
        if self.proposal.data:
            rule["proposal"] = True
        return rule

    def load(self, rule: dict) -> None:
        self.list_kind.data, self.rule.data = rule.get("list"), rule.get("rule")
        self.value.data = "" if rule.get("value") is None else str(rule["value"])
        self.proposal.data = bool(rule.get("proposal"))


def _consequence_fields(key: str, label: str) -> dict:
    choices = [(k, v) for k, v in CONSEQUENCE_KINDS.items() if k != "text"]
    return {
        f"{key}_kinds": SelectMultipleField(f"{label}：后果", choices=choices, widget=ListWidget(prefix_label=False),
                                            option_widget=CheckboxInput(),
                                            validate_choice=True),
        f"{key}_points": decimal_field(f"{label}：招投标加分（分）", (Decimal("0.01"), Decimal("20")), 2, "加分分值",
                                       " 分", description="选择“招投标加分”时填写。"),
        f"{key}_text": TextAreaField(f"{label}：其他措施", render_kw={"rows": 2},
                                     validators=[Optional(), Length(max=2000, message="其他措施不能超过 2000 个字。")],
                                     description="每行一条，发布结果时生成待办。"),
    }


# One group of fields per list (and 一票否决): the kinds, the bonus points, free-text measures.
ConsequencesForm = type("ConsequencesForm", (Form,), {
    name: f for key, label in CONSEQUENCE_LISTS.items() for name, f in _consequence_fields(key, label).items()})


def _weight(label: str):
    return IntegerField(label, validators=[InputRequired(f"请填写{label}的权重（整数百分比，可为 0）。"),
                                           NumberRange(0, 100, "权重须为 0 到 100 的整数。")])


class WeightsForm(Form):
    monthly = _weight(CYCLE_KINDS["monthly"])
    quarterly = _weight(CYCLE_KINDS["quarterly"])
    annual = _weight(CYCLE_KINDS["annual"])


class ConfirmForm(Form):
    """A bare form: CSRF for the confirm buttons (activate, copy, delete)."""

