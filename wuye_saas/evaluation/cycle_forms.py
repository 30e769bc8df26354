"""Forms of evaluation cycles and of the assessment workflow's notes. The date order, the
standard's status and the firms' contracts are checked by cycles.open_evaluation, which owns
those rules; the score rows are read from the request by the views (one row per item)."""
from __future__ import annotations

from wtforms import DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..formutil import Form
from .models import CYCLE_KINDS, UNITS


class OpenForm(Form):
    standard_id = SelectField("考核标准", coerce=int, choices=[], validate_choice=False,
                              validators=[DataRequired("请选择考核标准。")],
                              description="只能使用启用中的版本；发起后该版本即被冻结，修改须另存新版本。")
    kind = SelectField("考核类型", choices=list(CYCLE_KINDS.items()), validators=[DataRequired("请选择考核类型。")])
    name = StringField("考核名称", validators=[DataRequired("请填写考核名称。"),
                                            Length(max=100, message="考核名称不能超过 100 个字。")])
    period_start = DateField("考核期间开始", validators=[InputRequired("请填写考核期间的开始日期。")])
    period_end = DateField("考核期间结束", validators=[InputRequired("请填写考核期间的结束日期。")])
    self_report_due = DateField("企业自评截止", validators=[InputRequired("请填写企业自评截止日期。")],
                                description="截止日当天 24 时（北京时间）前可自评。")
    review_due = DateField("审核截止", validators=[InputRequired("请填写审核截止日期。")],
                           description="社区审核、街道确认的截止日；退回修改的自评也须在此日前重新提交。")
    appeal_days = IntegerField("申诉期（天）", default=7,
                               validators=[InputRequired("请填写申诉期天数。"),
                                           NumberRange(1, 60, "申诉期应为 1 到 60 天。")],
                               description="结果发布后企业可在此期限内对单项得分申诉。")
    unit = RadioField("考核对象", choices=list(UNITS.items()), default="compound",
                      validators=[DataRequired("请选择按小区还是按企业考核。")])
    firm_ids = SelectMultipleField("参加考核的物业服务企业", coerce=int, choices=[], validate_choice=False)


class NoteForm(Form):
    note = TextAreaField("意见", validators=[DataRequired("请填写意见。"), Length(max=2000)])

