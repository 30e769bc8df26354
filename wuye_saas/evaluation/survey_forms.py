"""Forms of resident satisfaction surveys: opening them (staff), their dates, and the residents'
answer sheet, whose questions are the standard's survey items. The rules (window, scope, one
answer per household) live in surveys.py."""
from __future__ import annotations

from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from ..formutil import Form, int_field
from .models import SURVEY_ANSWERS


class OpenForm(Form):
    evaluation_id = int_field("考核", 1, 2**31 - 1, "考核编号", required="请选择考核。")
    compound_id = SelectField("小区", coerce=int, choices=[], validate_choice=False, validators=[Optional()],
                              description="只开启一个小区时选择；“为全部小区开启”不看此项。")
    opens_on = DateField("开始日期", validators=[InputRequired("请填写测评开始日期。")],
                         description="不早于考核期间的开始日。")
    closes_on = DateField("截止日期", validators=[InputRequired("请填写测评截止日期。")])


class DatesForm(Form):
    opens_on = DateField("开始日期", validators=[InputRequired("请填写测评开始日期。")])
    closes_on = DateField("截止日期", validators=[InputRequired("请填写测评截止日期。")])


def answer_form(items, formdata=None):
    """The answer sheet: one 满意/基本满意/不满意 choice per survey item (field q<item id>)."""

    class AnswerForm(Form):
        survey_id = HiddenField()
        household_code = StringField("户码", validators=[DataRequired("请填写户码。"),
                                                       Length(max=16, message="户码不正确。")],
                                     description="物业或社区发放的本户户码，只用于核实每户参加一次，不会与您的评价一起显示。")
        comment = TextAreaField("意见和建议（选填）", validators=[Optional(), Length(max=1000, message="意见不能超过 1000 个字。")])

    for n, item in enumerate(items, 1):
        # Residents read the item's question, never its scoring criterion.
        ask = f"请回答第 {n} 题：{item.question or item.name}"
        setattr(AnswerForm, f"q{item.id}", RadioField(
            item.question or item.name, choices=list(SURVEY_ANSWERS.items()), validate_choice=False,
            validators=[InputRequired(ask), AnyOf(list(SURVEY_ANSWERS), ask)]))
    return AnswerForm() if formdata is None else AnswerForm(formdata=formdata)
