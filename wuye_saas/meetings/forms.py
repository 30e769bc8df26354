"""Forms of joint meetings. Required texts are checked again by the logic (logic.py), which owns
the rules (scope of the compound, dates, states)."""
from __future__ import annotations

from wtforms import DateField, DateTimeLocalField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..formutil import Form
from .models import EVERY, KINDS, LEVELS, PARTIES

DT_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _optional_int(value):
    """'' → None for the optional record pickers (compound, demand, agenda item)."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a record of this page: the logic refuses it with its message


class MeetingForm(Form):
    title = StringField("会议名称", validators=[DataRequired("请填写会议名称。"),
                                             Length(max=100, message="会议名称不能超过 100 个字。")])
    kind = SelectField("会议类型", choices=list(KINDS.items()), validators=[DataRequired("请选择会议类型。")])
    compound_id = SelectField("关于小区", choices=[], coerce=_optional_int, validate_choice=False,
                              description="议题集中在一个小区时选择；公示会议纪要须关联小区。")
    scheduled_at = DateTimeLocalField("会议时间", format=DT_FORMAT,
                                      validators=[InputRequired("请填写会议时间。")])
    location = StringField("会议地点", validators=[Optional(), Length(max=100, message="会议地点不能超过 100 个字。")])


class AttendeeForm(Form):
    party = SelectField("参会方", choices=list(PARTIES.items()), validators=[DataRequired("请选择参会方。")])
    name = StringField("姓名", validators=[DataRequired("请填写参会人员姓名。"),
                                         Length(max=40, message="姓名不能超过 40 个字。")])
    organisation = StringField("单位/身份", validators=[Optional(), Length(max=100, message="单位不能超过 100 个字。")])


class AgendaForm(Form):
    demand_id = SelectField("关联诉求", choices=[], coerce=_optional_int, validate_choice=False,
                            description="从本次会议范围内未关闭的诉求中选择；议定结果会记入诉求的办理过程。")
    title = StringField("议题", validators=[Optional(), Length(max=200, message="议题不能超过 200 个字。")],
                        description="选择诉求时可留空，使用诉求标题。")
    detail = TextAreaField("说明", validators=[Optional(), Length(max=5000)])


class AttachForm(Form):
    agenda_item_id = SelectField("社区提交的事项", choices=[], coerce=_optional_int, validate_choice=False,
                                 validators=[DataRequired("请选择待上会的事项。")])


class OutcomeForm(Form):
    outcome = RadioField("结果", choices=[("settled", "已议定"), ("escalated", "提交街道")], default="settled",
                         validators=[DataRequired("请选择议定或提交街道。")])
    decision = TextAreaField("议定结果 / 社区意见", validators=[Optional(), Length(max=5000)])


class RecordForm(Form):
    held_at = DateTimeLocalField("召开时间", format=DT_FORMAT, validators=[InputRequired("请填写召开时间。")])
    present = SelectMultipleField("出席人员", choices=[], coerce=int, validate_choice=False)
    minutes = TextAreaField("会议纪要", validators=[Optional(), Length(max=20000)],
                            description="会议讨论情况和形成的共识；公示时与各议题结果、落实事项一并公示。")


class ActionForm(Form):
    task = StringField("落实事项", validators=[DataRequired("请填写落实事项。"),
                                           Length(max=200, message="落实事项不能超过 200 个字。")])
    owner = StringField("责任人", validators=[DataRequired("请填写责任人。"),
                                           Length(max=60, message="责任人不能超过 60 个字。")])
    owner_party = SelectField("责任方", choices=list(PARTIES.items()))
    department_id = SelectField("职能部门", choices=[], coerce=_optional_int, validate_choice=False,
                                description="责任方为职能部门时选择；该部门的账号接收并办结此事项。")
    due_on = DateField("完成时限", validators=[InputRequired("请填写完成时限。")])
    agenda_item_id = SelectField("对应议题", choices=[], coerce=_optional_int, validate_choice=False)


class DoneForm(Form):
    done_note = TextAreaField("完成情况", validators=[DataRequired("请填写完成情况。"), Length(max=2000, message="完成情况不能超过 2000 个字。")])


class CadenceForm(Form):
    level = SelectField("层级", choices=list(LEVELS.items()))
    kind = SelectField("会议类型", choices=list(KINDS.items()))
    every = SelectField("召开频次", choices=list(EVERY.items()))
