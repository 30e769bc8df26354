"""Forms of notifications: a person's preferences, the district's channel settings and templates."""
from __future__ import annotations

from wtforms import IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import Form
from .models import PROVIDERS
from .templates import INBOX_KINDS


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PreferenceForm(Form):
    sms_kinds = MultiCheckbox("同时发短信的提醒", choices=list(INBOX_KINDS.items()), validate_choice=False)
    wechat_kinds = MultiCheckbox("同时发微信的提醒", choices=list(INBOX_KINDS.items()), validate_choice=False)
    phone = StringField("接收短信的手机号", validators=[Optional(), Length(max=20, message="手机号不能超过 20 位。")],
                        description="留空则使用账号登记的手机号。")
    wechat_openid = StringField("微信 OpenID", validators=[Optional(), Length(max=64, message="OpenID 不能超过 64 个字符。")],
                                description="关注本区公众号后取得；不用微信提醒可留空。")


class ChannelForm(Form):
    provider = SelectField("服务商", choices=list(PROVIDERS.items()))
    endpoint = StringField("接口地址", validators=[Optional(), Length(max=300, message="接口地址不能超过 300 个字符。")],
                           description="留空使用服务商的正式地址（阿里云 https://dysmsapi.aliyuncs.com/，微信 https://api.weixin.qq.com）。")
    key_id = StringField("AccessKey ID / AppID", validators=[Optional(), Length(max=100, message="不能超过 100 个字符。")])
    secret = PasswordField("AccessKey Secret / AppSecret",
                           validators=[Optional(), Length(max=200, message="不能超过 200 个字符。")],
                           description="只保存在服务器上，不再显示；留空表示不修改。")
    sign_name = StringField("短信签名", validators=[Optional(), Length(max=40, message="短信签名不能超过 40 个字。")])
    rate_per_minute = IntegerField("每分钟最多发送（条）", validators=[
        InputRequired("请填写每分钟发送上限。"), NumberRange(1, 6000, "每分钟发送上限应在 1 到 6000 之间。")])
    quiet_start = IntegerField("免打扰开始（时）", validators=[
        InputRequired("请填写免打扰开始的整点。"), NumberRange(0, 23, "请填写 0 到 23 之间的整点。")])
    quiet_end = IntegerField("免打扰结束（时）", validators=[
        InputRequired("请填写免打扰结束的整点。"), NumberRange(0, 23, "请填写 0 到 23 之间的整点。")])


class TemplateForm(Form):
    text = TextAreaField("模板内容", validators=[InputRequired("请填写模板内容。"),
                                              Length(max=300, message="模板内容不能超过 300 个字。")])
    sms_template_code = StringField("阿里云短信模板编号", validators=[Optional(), Length(max=40, message="不能超过 40 个字符。")])
    wechat_template_id = StringField("微信模板 ID", validators=[Optional(), Length(max=64, message="不能超过 64 个字符。")])
