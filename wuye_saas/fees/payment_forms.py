"""Forms of payments, subsidy claims and the residents' bill lookup."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from ..formutil import Form
from .models import PAYMENT_METHODS


def yuan_to_fen(text: str) -> int | None:
    """'123.45' → 12345; None unless a plain amount with at most two decimals."""
    try:
        value = Decimal((text or "").strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value.as_tuple().exponent < -2:
        return None
    return int(value * 100)


class PaymentForm(Form):
    amount = StringField("收款金额（元）", validators=[DataRequired("请填写收款金额。")])
    method = SelectField("收款方式", choices=[(m, m) for m in PAYMENT_METHODS],
                         validators=[DataRequired("请选择收款方式。")])
    receipt_no = StringField("收据号", validators=[DataRequired("请填写收据号。"), Length(max=40),
                                                   Regexp(r"^[A-Za-z0-9\-]+$", message="收据号只能包含字母、数字和“-”。")])
    paid_on = DateField("收款日期", validators=[InputRequired("请填写收款日期。")])
    note = StringField("备注", validators=[Optional(), Length(max=200)])

    def validate_amount(self, field):
        fen = yuan_to_fen(field.data)
        if fen is None:
            raise ValidationError("请填写金额，最多两位小数，例如 123.45。")
        if fen <= 0:
            raise ValidationError("金额必须大于 0。")

    @property
    def amount_fen(self) -> int:
        return yuan_to_fen(self.amount.data)


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
