"""Forms of the platform admin. Rules needing the database live in admin.logic."""
from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..formutil import Form
from ..users.forms import PHONE


class AdminAccountForm(Form):
    admin_username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=60)])
    admin_display_name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=60, message="姓名最多 60 个字")])
    admin_phone = StringField("手机号", validators=[Optional(), PHONE])
    admin_password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码")])
    admin_confirm = PasswordField("确认初始密码", validators=[DataRequired("请再次输入初始密码"),
                                                         EqualTo("admin_password", "两次输入的密码不一致")])


class DistrictForm(AdminAccountForm):
    name = StringField("区县名称", validators=[DataRequired("请填写区县名称"), Length(max=80, message="名称最多 80 个字")])
    slug = StringField("访问标识", validators=[DataRequired("请填写访问标识"), Length(max=40, message="标识最多 40 位")])
    region = StringField("所属地区", validators=[Optional(), Length(max=120, message="地区最多 120 个字")])
