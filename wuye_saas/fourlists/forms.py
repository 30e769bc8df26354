"""The item form and the progress report of the 四项清单."""
from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import Form, int_field, optional_int
from .logic import NOTE_MAX, YEAR_MAX, YEAR_MIN
from .models import KINDS, OWNER_KINDS, STATES


class ItemForm(Form):
    community_id = SelectField("社区", coerce=optional_int)
    year = int_field("年度", YEAR_MIN, YEAR_MAX, "年度", required="请填写年度。")
    kind = SelectField("清单类别", choices=list(KINDS.items()))
    title = StringField("事项", validators=[DataRequired("请填写事项。"),
                                          Length(max=200, message="事项不能超过 200 个字。")])
    detail = TextAreaField("内容说明", validators=[Optional(), Length(max=2000, message="内容说明不能超过 2000 个字。")])
    owner_kind = SelectField("责任主体（1+3+N）", choices=list(OWNER_KINDS.items()))
    owner_name = StringField("责任单位 / 责任人", validators=[
        Optional(), Length(max=100, message="责任单位不能超过 100 个字。")],
        description="责任主体为物业服务企业时，选下面的企业即可。")
    firm_id = SelectField("物业服务企业", coerce=optional_int, validators=[Optional()])
    compound_id = SelectField("涉及小区", coerce=optional_int, validators=[Optional()])
    due_on = DateField("完成时限", validators=[Optional()], description="需求、服务、责任清单必填。")
    priority = BooleanField("列为年度为民服务项目（重点推进）")
    # Where a 需求 item came from (a demand or a meeting's agenda item): carried by the form.
    demand_id = HiddenField()
    agenda_item_id = HiddenField()


class ReportForm(Form):
    state = SelectField("状态", choices=list(STATES.items()))
    progress = int_field("完成进度（%）", 0, 100, "完成进度")
    # Required by the logic, whose message says what is missing (取消 needs the reason).
    note = TextAreaField("进展情况", validators=[Length(max=NOTE_MAX, message=f"进展情况不能超过 {NOTE_MAX} 个字。")])
