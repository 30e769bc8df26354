"""Forms of billing: start a run, issue a credit note."""
from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..formutil import CREDIT_YUAN, Fits, Form, yuan_field


class RunForm(Form):
    month = StringField("账单月份", validators=[DataRequired("请填写账单月份"), Fits(10)],
                        render_kw={"type": "month", "placeholder": "例如 2025-03"})
    # The choices depend on the role; the value is checked by billing.resolve_scope.
    scope = SelectField("开具范围", validate_choice=False, validators=[DataRequired("请选择开具范围")])


def _amount(label):
    return yuan_field(label, CREDIT_YUAN, default=0, render_kw={"step": "0.01", "min": "0", "inputmode": "decimal"})


class CreditForm(Form):
    gov = _amount("冲减政府承担（元）")
    firm = _amount("冲减企业让利（元）")
    resident = _amount("冲减居民缴纳（元）")
    reason = TextAreaField("冲减原因", validators=[DataRequired("请填写冲减原因"),
                                                 Length(max=200, message="原因不超过 200 字")])
