"""Forms of the volunteer register, teams, tasks and point exchanges."""
from __future__ import annotations

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import HOURS_DAY, Form, decimal_field, int_field, optional_int
from .logic import EXCHANGE_MAX, POINTS_MAX
from .models import LEADER_ROLES


def _text(label, limit, required=None, **kw):
    first = [DataRequired(required)] if required else [Optional()]
    return StringField(label, validators=[*first, Length(max=limit, message=f"{label}不能超过 {limit} 个字。")], **kw)


class VolunteerForm(Form):
    community_id = SelectField("社区", coerce=optional_int)
    name = _text("姓名", 40, "请填写姓名。")
    organisation = _text("工作单位 / 所在党组织", 100)
    is_party_member = BooleanField("党员")
    reported_on = DateField("到社区报到日期（在职党员双报到）", validators=[Optional()])
    team_id = SelectField("志愿服务队", coerce=optional_int, validators=[Optional()])
    building_id = SelectField("联系楼栋（包楼道）", coerce=optional_int, validators=[Optional()])
    area_note = _text("楼道 / 单元", 60, description="例如：2单元全部楼层")
    phone = _text("联系电话", 20)
    active = BooleanField("在册", default=True)


class TeamForm(Form):
    community_id = SelectField("社区", coerce=optional_int)
    name = _text("服务队名称", 60, "请填写服务队名称。")
    leader = _text("队长", 40)
    note = _text("说明", 300)


class TaskForm(Form):
    community_id = SelectField("社区", coerce=optional_int)
    kind = SelectField("类型", choices=[("task", "志愿服务任务"), ("project", "服务项目")])
    title = _text("任务名称", 200, "请填写任务名称。")
    detail = TextAreaField("内容", validators=[Optional(), Length(max=2000, message="内容不能超过 2000 个字。")])
    compound_id = SelectField("小区", coerce=optional_int, validators=[Optional()])


class ClaimForm(Form):
    volunteer_id = SelectField("认领的志愿者", coerce=optional_int, validate_choice=False, validators=[Optional()])
    team_id = SelectField("或认领的服务队", coerce=optional_int, validate_choice=False, validators=[Optional()])


class FinishForm(Form):
    hours = decimal_field("服务时长（小时）", HOURS_DAY, 1, "服务时长", " 小时", required="请填写服务时长。")
    points = int_field("积分", 0, POINTS_MAX, "积分", required="请填写积分。")
    result = TextAreaField("完成情况", validators=[DataRequired("请填写完成情况。"),
                                               Length(max=2000, message="完成情况不能超过 2000 个字。")])


class ExchangeForm(Form):
    points = int_field("兑换积分", 1, EXCHANGE_MAX, "兑换积分", required="请填写兑换积分。")
    item = _text("兑换物品或服务", 100, "请填写兑换的物品或服务。")


class LeaderForm(Form):
    building_id = SelectField("楼栋", coerce=optional_int)
    role = SelectField("职责", choices=list(LEADER_ROLES.items()))
    unit_no = _text("单元", 20, description="单元长、党员中心户必填，例如：2单元")
    name = _text("姓名", 40, "请填写姓名。")
    phone = _text("联系电话", 20)
    is_party_member = BooleanField("党员")
    since = DateField("任职日期", validators=[Optional()])
