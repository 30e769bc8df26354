"""Forms of 重大事项报备."""
from __future__ import annotations

from wtforms import MultipleFileField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..formutil import LEDGER_YUAN, Form, yuan_field
from ..money import to_fen


class FileForm(Form):
    summary = TextAreaField("书面报备内容（事项、理由、拟表决方案）",
                            validators=[DataRequired("请填写报备内容（事项、理由、拟表决方案）。"), Length(max=5000)])
    files = MultipleFileField("报备材料", description="可选：签字盖章的报备表、业委会会议纪要、报价等，PDF、JPG 或 PNG，"
                                                    "最多 5 个，每个不超过 5 MB。")


class DecideForm(Form):
    decision = SelectField("签收结果", choices=[("acknowledge", "签收"), ("return", "退回业委会")])
    reason = TextAreaField("退回理由（退回时必填）", validators=[Optional(), Length(max=300)])

    def validate_reason(self, field):
        if self.decision.data == "return" and not (field.data or "").strip():
            raise ValidationError("退回时必须填写理由。")


class RuleForm(Form):
    threshold = yuan_field("支出报备标准（元）：超过此金额的支出作为重大事项报备", LEDGER_YUAN,
                           required="请填写报备标准金额。")

    @property
    def threshold_fen(self) -> int | None:
        return to_fen(self.threshold.data)
