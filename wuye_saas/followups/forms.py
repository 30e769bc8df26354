"""The closing form of a follow-up (the note is required: what was done)."""
from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..formutil import Form


class CloseForm(Form):
    note = TextAreaField("办理情况", validators=[DataRequired("请填写办理情况。"),
                                             Length(max=2000, message="办理情况不能超过 2000 个字。")])
