"""Forms for district accounts. Format checks live here; rules that need the database (unique
username, scope inside this district, password strength) live in users.logic."""
from __future__ import annotations

from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..auth.models import ROLE_LABELS
from ..formutil import Form, optional_int
from .logic import ROLE_ORDER, SCOPES

ROLE_CHOICES = [("", "请选择角色")] + [(r, ROLE_LABELS[r]) for r in ROLE_ORDER]
PHONE = Regexp(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", message="请填写 11 位手机号或带区号的固定电话")


def _scope_select(noun: str) -> SelectField:
    # validate_choice=False: users.logic checks the id belongs to this district, with a clear message.
    return SelectField(f"所属{noun}", coerce=optional_int, validate_choice=False, validators=[Optional()])


class ScopeForm(Form):
    """Role + the scope it needs. Only the select matching the role is rendered, so a scope id
    posted under a stale role (no JavaScript) can never be read as another kind of record."""

    # An unknown role gets users.logic's own message rather than WTForms' generic one.
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False, validators=[DataRequired("请选择角色")])
    street_id = _scope_select(SCOPES["street"].noun)
    community_id = _scope_select(SCOPES["community"].noun)
    firm_id = _scope_select(SCOPES["firm"].noun)
    compound_id = _scope_select(SCOPES["compound"].noun)
    grid_id = _scope_select(SCOPES["grid"].noun)
    department_id = _scope_select(SCOPES["department"].noun)
    is_chair = BooleanField("业委会（物管会）主任")


class AccountForm(ScopeForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=60)])
    display_name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=60, message="姓名最多 60 个字")])
    phone = StringField("手机号", validators=[Optional(), PHONE])
    password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码")])
    confirm = PasswordField("确认初始密码", validators=[DataRequired("请再次输入初始密码"),
                                                   EqualTo("password", "两次输入的密码不一致")])


class MembershipForm(ScopeForm):
    username = StringField("已有账号的用户名", validators=[DataRequired("请填写用户名"), Length(max=60)])


class ResetPasswordForm(Form):
    password = PasswordField("新的初始密码", validators=[DataRequired("请设置新的初始密码")])
    confirm = PasswordField("确认新密码", validators=[DataRequired("请再次输入新密码"),
                                                 EqualTo("password", "两次输入的密码不一致")])
