"""Forms of 合同备案: the filing (new or of a contract on record), a review step, the district's rule."""
from __future__ import annotations

from wtforms import DateField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..formutil import RATE_YUAN_M2, Fits, Form, decimal_field, int_field, optional_int
from ..org.models import FEE_MODES, SERVICE_GRADES
from .filing import MAX_STEP_DAYS
from .models import CONTRACT_KINDS, FilingRule


def _pick(values):
    return [("", "请选择…")] + [(v, v) for v in values]


class FilingForm(Form):
    kind = SelectField("合同类型", choices=[("", "请选择…")] + list(CONTRACT_KINDS.items()),
                       validators=[DataRequired("请选择合同类型。")])
    service_grade = SelectField("服务等级", choices=_pick(SERVICE_GRADES), validators=[DataRequired("请选择服务等级。")])
    fee_mode = SelectField("收费方式", choices=_pick(FEE_MODES), validators=[DataRequired("请选择收费方式。")])
    fee_rate = decimal_field("物业费标准（元/㎡·月）", RATE_YUAN_M2, 4, "物业费标准", " 元/㎡·月",
                             required="请填写物业费标准。",
                             description="政府指导价小区须在本等级基准价的浮动范围内。")
    start_date = DateField("合同起始日期", validators=[InputRequired("请填写合同起始日期。")])
    end_date = DateField("合同终止日期", validators=[InputRequired("请填写合同终止日期。")])
    files = MultipleFileField("合同附件", description="签订的合同扫描件等，PDF、JPG 或 PNG，每个不超过 5 MB。")


class NewFilingForm(FilingForm):
    compound_id = SelectField("小区", coerce=optional_int, validate_choice=False,
                              validators=[InputRequired("请选择小区。")],
                              description="本企业正在服务、持有待生效合同，或尚无物业服务的小区。")



class ReviewForm(Form):
    decision = RadioField("审核意见", choices=[("approve", "通过"), ("return", "退回企业修改")],
                          validators=[InputRequired("请选择审核意见。")])
    reason = TextAreaField("意见说明", validators=[Length(max=300, message="意见说明不能超过 300 个字。")],
                           description="退回时必须写明理由，企业据此修改后重新提交。")


class RuleForm(Form):
    community_days = int_field("社区审核时限（工作日）", 0, MAX_STEP_DAYS, "社区审核时限", " 个工作日",
                               required="请填写社区审核时限。", description="0 表示当日办结。")
    street_days = int_field("街道审核时限（工作日）", 0, MAX_STEP_DAYS, "街道审核时限", " 个工作日",
                            required="请填写街道审核时限。", description="0 表示当日办结。")
    district_days = int_field("区级审核时限（工作日）", 0, MAX_STEP_DAYS, "区级审核时限", " 个工作日",
                              required="请填写区级审核时限。", description="0 表示当日办结。")
    expiring_days = int_field("即将到期提醒（天）", 1, 365, "即将到期提醒", " 天", required="请填写提醒天数。",
                              description="民法典第947条：不续聘的应在期满前 90 日书面通知。")
    number_prefix = StringField("备案编号前缀", validators=[DataRequired("请填写备案编号前缀。"),
                                                       Fits(FilingRule.number_prefix)],
                                description="如“潞物备”，编号形如 潞物备〔2026〕0001号。")
