"""Forms of payments, subsidy claims and the residents' bill lookup."""
from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from ..formutil import PAYMENT_YUAN, Form, yuan_field
from ..money import to_fen
from .models import PAYMENT_METHODS


class PaymentForm(Form):
    amount = yuan_field("收款金额（元）", PAYMENT_YUAN, required="请填写收款金额。")
    method = SelectField("收款方式", choices=[(m, m) for m in PAYMENT_METHODS],
                         validators=[DataRequired("请选择收款方式。")])
    receipt_no = StringField("收据号", validators=[DataRequired("请填写收据号。"), Length(max=40),
                                                   Regexp(r"^[A-Za-z0-9\-]+$", message="收据号只能包含字母、数字和“-”。")])
    paid_on = DateField("收款日期", validators=[InputRequired("请填写收款日期。")])
    note = StringField("备注", validators=[Optional(), Length(max=200)])

    @property
    def amount_fen(self) -> int:
        return to_fen(self.amount.data)


class ClaimForm(Form):
    compound_id = SelectField("小区", coerce=int, validators=[DataRequired("请选择小区。")])
    month = StringField("月份", validators=[DataRequired("请选择月份。"),
                                             Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message="月份格式应为 2026-05。")])


class DecideForm(Form):
    decision = SelectField("审核结果", choices=[("approve", "核准"), ("reject", "退回")])
    reason = TextAreaField("理由（退回时必填）", validators=[Optional(), Length(max=200)])

    def validate_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError("退回时必须填写理由。")


class LookupForm(Form):
    code = StringField("户码", validators=[DataRequired("请输入户码。"), Length(max=16, message="户码不正确。")])
