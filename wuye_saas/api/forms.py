"""The district admin's form of an API client."""
from __future__ import annotations

from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import Form
from . import logic
from .models import SCOPES


class ApiClientForm(Form):
    name = StringField("客户端名称", validators=[DataRequired("请填写客户端名称。"), Length(max=80, message="不能超过 80 个字。")],
                       description="调用方的名称，如“12345 市民热线平台”，审计日志以此记录其操作")
    scopes = SelectMultipleField("权限范围", choices=list(SCOPES.items()),
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validate_choice=True)
    firm_id = SelectField("代表的物业服务企业", coerce=int, default=0,
                          description="只在选择“登记缴费”时必填：客户端只能为该企业服务的小区登记缴费，只读到该企业的数据")
    rate_per_minute = IntegerField("每分钟调用上限", default=logic.RATE_DEFAULT,
                                   validators=[InputRequired("请填写每分钟调用上限。"),
                                               NumberRange(logic.RATE_MIN, logic.RATE_MAX,
                                                           f"应在 {logic.RATE_MIN} 到 {logic.RATE_MAX} 之间。")])
