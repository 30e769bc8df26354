"""Forms of demands (诉求). The logic (logic.py) checks every rule again and owns the messages
about scope and turn; these catch what a form can see by itself."""
from __future__ import annotations

from wtforms import BooleanField, IntegerField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..formutil import Form, optional_int
from .logic import MAX_HOURS
from .models import ASSIGNEE_KINDS, SATISFACTION, URGENCIES

PHONE_HELP = "11 位手机号，或带区号的固定电话（如 0355-2021234）。"


class CategoryForm(Form):
    name = StringField("分类名称", validators=[DataRequired("请填写分类名称。"),
                                            Length(max=30, message="分类名称不能超过 30 个字。")])
    deadline_hours = IntegerField("一般诉求办理时限（小时）", validators=[
        InputRequired("请填写一般诉求办理时限。"), NumberRange(1, MAX_HOURS, f"时限应在 1 到 {MAX_HOURS} 小时之间。")])
    urgent_deadline_hours = IntegerField("紧急诉求办理时限（小时）", validators=[
        InputRequired("请填写紧急诉求办理时限。"), NumberRange(1, MAX_HOURS, f"时限应在 1 到 {MAX_HOURS} 小时之间。")])
    sort = IntegerField("排序", default=0, validators=[Optional(), NumberRange(0, 9999, "排序应在 0 到 9999 之间。")],
                        description="数字小的排在前面。")
    active = BooleanField("启用", default=True)


class ChannelForm(Form):
    name = StringField("渠道名称", validators=[DataRequired("请填写渠道名称。"),
                                            Length(max=30, message="渠道名称不能超过 30 个字。")],
                       description="例如“400 党员热线”“民情恳谈会”。")
    sort = IntegerField("排序", default=100, validators=[Optional(), NumberRange(0, 9999, "排序应在 0 到 9999 之间。")],
                        description="数字小的排在前面；内置渠道为 10 到 50。")
    active = BooleanField("启用", default=True)


class _ContactFields(Form):
    category_id = SelectField("诉求分类", coerce=int, choices=[], validate_choice=False,
                              validators=[DataRequired("请选择诉求分类。")])
    title = StringField("标题", validators=[DataRequired("请填写诉求标题。"),
                                          Length(max=100, message="标题不能超过 100 个字。")],
                        description="一句话说明问题，例如“3 号楼 2 单元楼道灯不亮”。")
    description = TextAreaField("详细情况", validators=[Optional(), Length(max=2000, message="详细情况不能超过 2000 个字。")])
    contact_name = StringField("联系人", validators=[DataRequired("请填写联系人。"),
                                                  Length(max=40, message="联系人不能超过 40 个字。")])
    contact_phone = StringField("联系电话", validators=[DataRequired("请填写联系电话。"), Length(max=20)],
                                description=PHONE_HELP)


class PublicDemandForm(_ContactFields):
    household_code = StringField("户码", validators=[DataRequired("请填写户码。"), Length(max=16, message="户码不正确。")],
                                 description="物业或社区发放的本户户码，用于核实住户身份和查询办理进度。")


class StaffDemandForm(_ContactFields):
    compound_id = SelectField("小区", coerce=int, choices=[], validate_choice=False,
                              validators=[DataRequired("请选择小区。")])
    # Choices are the district's active staff channels (set by the view; logic checks again).
    channel = SelectField("受理渠道", choices=[],
                          validators=[DataRequired("请选择受理渠道。"), Length(max=20, message="请选择受理渠道。")])
    urgency = RadioField("紧急程度", choices=list(URGENCIES.items()), default="normal",
                         validators=[DataRequired("请选择紧急程度。")])
    household_code = StringField("户码（选填）", validators=[Optional(), Length(max=16, message="户码不正确。")],
                                 description="居民提供户码时填写，须属于所选小区。")


class DispatchForm(Form):
    assignee_kind = RadioField("承办方", choices=list(ASSIGNEE_KINDS.items()), default="firm",
                               validators=[DataRequired("请选择承办方。")])
    firm_id = SelectField("物业服务企业", coerce=int, choices=[], validate_choice=False, validators=[Optional()])
    volunteer_id = SelectField("选择党员志愿者", coerce=optional_int, choices=[], validate_choice=False,
                               validators=[Optional()])
    department_id = SelectField("选择职能部门", coerce=optional_int, choices=[], validate_choice=False,
                                validators=[Optional()])
    note = TextAreaField("派单说明", validators=[Optional(), Length(max=1000)])


class NoteForm(Form):
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000)])


class ResolveForm(Form):
    note = TextAreaField("办理结果", validators=[DataRequired("请填写办理结果。"),
                                              Length(max=2000, message="办理结果不能超过 2000 个字。")])
    photos = MultipleFileField("现场照片（选填，最多 5 张）",
                               description="JPG 或 PNG，每张不超过 5 MB。")


class VisitForm(Form):
    satisfaction = RadioField("回访满意度", choices=list(SATISFACTION.items()),
                              validators=[DataRequired("请选择回访满意度。")])
    note = TextAreaField("回访记录", validators=[Optional(), Length(max=2000)])
    close_anyway = BooleanField("不满意但仍关闭（例如诉求不合理或超出职责范围）")
    reason = TextAreaField("关闭理由", validators=[Optional(), Length(max=1000)])


class SuperviseForm(Form):
    note = TextAreaField("督办意见", validators=[DataRequired("请填写督办意见。"),
                                              Length(max=2000, message="督办意见不能超过 2000 个字。")])
