"""Forms of appeals (申诉) and their decisions. The rules (window, one open appeal per item,
points by the item's method) are checked again by publishing.py, which owns them."""
from __future__ import annotations

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import Form


class AppealForm(Form):
    item_id = SelectField("申诉的考核项目", choices=[], validate_choice=False,
                          validators=[DataRequired("请选择申诉的考核项目。")])
    reason = TextAreaField("申诉理由", validators=[DataRequired("请填写申诉理由。"), Length(max=2000)],
                           description="说明对该项得分有异议的事实和依据。")


class DecideAppealForm(Form):
    outcome = RadioField("裁定", choices=[("reject", "驳回申诉，维持原分"), ("uphold", "申诉成立，改定分值")],
                         default="reject", validators=[DataRequired("请选择裁定结果。")])
    points = StringField("改定分值", validators=[Optional(), Length(max=12)],
                         description="分档、是/否项填写改定的分值。")
    occurrences = StringField("改定扣分次数", validators=[Optional(), Length(max=6)],
                              description="按次扣分项填写认定的扣分次数。")
    decision = TextAreaField("裁定意见", validators=[DataRequired("请填写裁定意见。"), Length(max=2000)])
