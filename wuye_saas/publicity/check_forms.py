"""Forms of committee checks, objections (质询) and the publicity schedule. Required texts are
checked again by the logic (checks.py / schedule.py), which owns the rules."""
from __future__ import annotations

from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..formutil import Form
from ..org.models import MANAGEMENT_MODES
from .models import FREQUENCIES, LEDGER_KINDS, PUBLICATION_KINDS


class ObjectionForm(Form):
    line = SelectField("质询的公示内容", choices=[], validate_choice=False,
                       validators=[DataRequired("请选择公示中的一项内容。")])
    question = TextAreaField("问题", validators=[DataRequired("请填写质询的问题。"), Length(max=2000)])


class AnswerForm(Form):
    answer = TextAreaField("答复", validators=[DataRequired("请填写答复内容。"), Length(max=4000)])


class RespondForm(Form):
    outcome = RadioField("处理", choices=[("accept", "认可答复"), ("escalate", "不认可，提交社区裁决")],
                         default="accept", validators=[DataRequired("请选择认可或提交社区。")])
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000)],
                         description="提交社区时必须说明对答复的异议。")


class DecideForm(Form):
    decision = TextAreaField("裁决意见", validators=[DataRequired("请填写裁决意见。"), Length(max=4000)])


class RequirementForm(Form):
    kind = SelectField("公示类型", choices=list(PUBLICATION_KINDS.items()))
    ledger_kind = SelectField("账目类型", choices=[("", "（非账目公示）")] + list(LEDGER_KINDS.items()),
                              description="账目公示必须选择；其他公示留空。")
    frequency = SelectField("频次", choices=list(FREQUENCIES.items()))
    grace_days = IntegerField("宽限天数", default=15,
                              validators=[InputRequired("请填写宽限天数。"),
                                          NumberRange(0, 90, "宽限天数应在 0 到 90 之间。")],
                              description="期末后多少天内公示仍算按时（含当天）。")
    management_mode = SelectField("适用小区", choices=[("", "全部小区")] + [(m, f"仅{m}小区") for m in MANAGEMENT_MODES])
