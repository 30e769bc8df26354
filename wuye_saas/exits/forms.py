"""Forms of exits: starting one, naming the incoming side, signing and disputing a handover
line, and the district's rule."""
from __future__ import annotations

from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..formutil import CREDIT_YUAN, RATE_YUAN_M2, Form, decimal_field, int_field, yuan_field
from ..org.models import FEE_MODES, SERVICE_GRADES
from .logic import MAX_GRACE_DAYS, TEXT_MAX
from .models import INCOMING_KINDS, SOURCES

TEXT = Length(max=TEXT_MAX, message=f"不能超过 {TEXT_MAX} 个字。")


class StartForm(Form):
    contract_id = SelectField("退出的物业服务合同", coerce=str, validators=[InputRequired("请选择合同。")])
    source = SelectField("退出原因", choices=[(k, v) for k, v in SOURCES.items() if k != "evaluation"],
                         validators=[InputRequired("请选择退出原因。")])
    vote_id = SelectField("解聘表决（已计票通过）", coerce=str, validators=[Optional()],
                          description="业主大会“选聘和解聘物业服务企业”的表决；解聘时必选。")
    notice_on = DateField("书面通知日期", validators=[InputRequired("请填写书面通知日期。")],
                          description="解聘：通知后 60 日生效（第九百四十六条）；不续聘：应在期满前 90 日通知（第九百四十七条）。")
    reason = TextAreaField("说明", validators=[Optional(), TEXT])


class IncomingForm(Form):
    kind = SelectField("接管方", choices=list(INCOMING_KINDS.items()), validators=[InputRequired("请选择接管方。")])
    draft_id = SelectField("待生效的合同", coerce=str, validators=[Optional()],
                           description="选聘或招标产生的合同草稿；没有时在下面填写新合同。")
    firm_id = SelectField("接管企业", coerce=str, validators=[Optional()])
    end_date = DateField("合同截止日期", validators=[Optional()])
    service_grade = SelectField("服务等级", choices=[("", "请选择")] + [(g, g) for g in SERVICE_GRADES],
                                validators=[Optional()])
    fee_mode = SelectField("收费方式", choices=[("", "请选择")] + [(f, f) for f in FEE_MODES], validators=[Optional()])
    fee_rate = decimal_field("物业费标准（元/㎡·月）", RATE_YUAN_M2, 4, "物业费标准", " 元/㎡·月")


class SignForm(Form):
    note = TextAreaField("签收说明", validators=[Optional(), TEXT])
    amount = yuan_field("移交金额（元，原企业无账单时填写）", CREDIT_YUAN, name="移交金额")


class DisputeForm(Form):
    reason = TextAreaField("争议理由", validators=[InputRequired("请填写争议理由。"), TEXT])


class RuleForm(Form):
    grace_days = int_field("交接宽限期（天）", 0, MAX_GRACE_DAYS, "宽限期", " 天", required="请填写宽限期。",
                           description="退出生效日加宽限期为交接期限；逾期未完成交接的企业记入信用档案。")
    record_refusal = BooleanField("逾期未交接记入信用档案（合同终止拒不退出）")
