"""Forms of the credit file: a staff record, revocation, objection, decision, rule and kinds."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import (
    BooleanField, DateField, DecimalField, IntegerField, MultipleFileField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from ..evaluation.models import CYCLE_KINDS
from ..formutil import Form

BASE_SOURCES = {"evaluation": "最近一次年度考核总分（没有时用基础分）", "fixed": "固定基础分"}


class RecordForm(Form):
    # The logic checks the kind (and says why an automatic one cannot be chosen).
    kind_id = SelectField("记录类型", validators=[DataRequired("请选择记录类型。")], validate_choice=False)
    occurred_on = DateField("发生日期", validators=[InputRequired("请填写发生日期。")])
    evidence = TextAreaField("事实与依据", validators=[DataRequired("请填写事实与依据。"),
                                                   Length(max=2000, message="事实与依据不能超过 2000 个字。")],
                             description="写明事实、文号或来源，企业可查看并在异议期内提出异议。")
    files = MultipleFileField("证明材料", description="可选，PDF、JPG 或 PNG，每个不超过 5 MB。")


class RevokeForm(Form):
    reason = TextAreaField("撤销原因", validators=[DataRequired("请填写撤销原因。"),
                                               Length(max=2000, message="撤销原因不能超过 2000 个字。")])


class ObjectionForm(Form):
    reason = TextAreaField("异议理由", validators=[DataRequired("请填写异议理由。"),
                                               Length(max=2000, message="异议理由不能超过 2000 个字。")])


class DecideForm(Form):
    outcome = RadioField("裁定结果", choices=[("upheld", "异议成立（撤销该记录）"), ("rejected", "异议驳回（记录保留）")],
                         validators=[InputRequired("请选择裁定结果。")])
    decision = TextAreaField("裁定理由", validators=[DataRequired("请填写裁定理由。"),
                                                 Length(max=2000, message="裁定理由不能超过 2000 个字。")])


def _band(label):
    return DecimalField(label, places=2, validators=[InputRequired(f"请填写{label}。"),
                                                      NumberRange(0, 1000, f"{label}应在 0 到 1000 之间。")])


class RuleForm(Form):
    base_source = RadioField("基础分", choices=list(BASE_SOURCES.items()), validators=[InputRequired("请选择基础分来源。")])
    base_points = DecimalField("基础分", places=2, validators=[InputRequired("请填写基础分。"),
                                                              NumberRange(0, 1000, "基础分应在 0 到 1000 之间。")])
    aaa = _band("AAA 级最低分")
    aa = _band("AA 级最低分")
    a = _band("A 级最低分")
    b = _band("B 级最低分")
    objection_days = IntegerField("异议期（天）", validators=[InputRequired("请填写异议期天数。"),
                                                         NumberRange(1, 365, "异议期应在 1 到 365 天之间。")])
    warning_bad_count = IntegerField("警示名单：有效不良记录达到（条）", validators=[
        InputRequired("请填写列入警示名单的不良记录条数。"), NumberRange(1, 100, "条数应在 1 到 100 之间。")])
    evaluation_kinds = SelectMultipleField("自动生成记录的考核类型", choices=list(CYCLE_KINDS.items()))
    consequence_days = IntegerField("上榜后果有效期（天）", validators=[
        InputRequired("请填写上榜后果的有效期。"), NumberRange(1, 3650, "有效期应在 1 到 3650 天之间。")],
        description="限制参加招投标、优先续约等标记自考核结果发布之日起的有效天数（默认一年）。")
    overdue_demands_threshold = IntegerField("每月逾期升级诉求达到（件）计一条不良记录", validators=[
        InputRequired("请填写件数。"), NumberRange(1, 1000, "件数应在 1 到 1000 之间。")],
        description="同一企业同一自然月内超过办理时限被升级街道的诉求件数（青岛：三次黄牌为红牌）。")

    def validate_b(self, field):
        mins = [self.aaa.data, self.aa.data, self.a.data, field.data]
        if None not in mins and not all(x > y for x, y in zip(mins, mins[1:])):
            raise ValidationError("各等级最低分须从 AAA 到 B 依次递减。")


class KindForm(Form):
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=60, message="名称不能超过 60 个字。")])
    points = StringField("分值", validators=[DataRequired("请填写分值。")], description="正数；优良记录加分，不良记录扣分。")
    validity_days = IntegerField("有效期（天）", validators=[InputRequired("请填写有效期。"),
                                                       NumberRange(1, 3650, "有效期应在 1 到 3650 天之间。")])
    serious = BooleanField("严重失信（有效期内列入黑名单）")
    active = BooleanField("启用")

    def validate_points(self, field):
        try:
            value = Decimal(str(field.data).strip())
        except InvalidOperation:
            raise ValidationError("分值应为数字，最多两位小数，例如 5 或 2.5。") from None
        if not value.is_finite() or value <= 0 or value > 100 or value != value.quantize(Decimal("0.01")):
            raise ValidationError("分值应大于 0、不超过 100，最多两位小数。")
