"""Forms of owner votes and maintenance-fund applications."""
from __future__ import annotations

from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..formutil import LEDGER_YUAN, Form, yuan_field
from ..money import to_fen
from ..org.pickers import Within
from .models import CHOICES, MATTERS


class VoteForm(Form):
    # The compound is the committee member's own (a committee runs its compound's votes only).
    matter = SelectField("表决事项（民法典第二百七十八条）", choices=list(MATTERS.items()),
                         validators=[DataRequired("请选择表决事项。")])
    title = StringField("标题", validators=[DataRequired("请填写表决标题。"), Length(max=200)])
    description = TextAreaField("事项说明", validators=[Optional(), Length(max=5000)])
    items = TextAreaField("表决议题（可选，每行一个）", validators=[Optional(), Length(max=6000)],
                          description="一次表决多个事项时逐行填写，每个议题分别计票；留空则只表决上面的标题一项。")

    @property
    def item_titles(self) -> list[str]:
        return [t.strip() for t in (self.items.data or "").splitlines() if t.strip()]


class PublicizeForm(Form):
    opens_on = DateField("表决开始日期", validators=[InputRequired("请填写表决开始日期。")])
    closes_on = DateField("表决截止日期", validators=[InputRequired("请填写表决截止日期。")])


class BallotForm(Form):
    # A single question's choice; a vote of several items posts item_<id> per item (checked in
    # logic.record_ballot). Who the owner is comes from the register, never from the sheet.
    choice = SelectField("表决意见", choices=[("", "未投票")] + list(CHOICES.items()), validators=[Optional()])


class FundForm(Form):
    compound_id = SelectField("小区", coerce=int, validators=[DataRequired("请选择小区。")])
    item = StringField("维修项目", validators=[DataRequired("请填写维修项目。"), Length(max=200)])
    budget = yuan_field("预算金额（元）", LEDGER_YUAN, required="请填写预算金额。")
    contractor = StringField("施工单位", validators=[DataRequired("请填写施工单位。"), Length(max=100)])
    quotes = TextAreaField("报价情况（比价、询价记录）", validators=[Optional(), Length(max=5000)])
    emergency = BooleanField("应急维修（电梯、屋面渗漏、水泵、外墙、排水、消防等危及安全的情形，可免于业主表决）")
    vote_id = SelectField("业主表决", coerce=int, validators=[Optional(), Within("compound_id")],
                          description="关联本小区已发起的“使用维修资金”表决，或新建一个表决草稿交业委会办理。")
    scope = RadioField("分摊范围", choices=[("all", "全体业主（按专有部分面积分摊）"),
                                        ("buildings", "所选楼栋的业主（按专有部分面积分摊）")],
                       default="all", validators=[Optional()])   # not sent: the whole compound
    buildings = SelectMultipleField("涉及楼栋", coerce=int, validate_choice=False,
                                    description="只涉及部分楼栋的维修（如某栋楼的电梯、屋面），由这些楼栋的业主分摊。")

    @property
    def building_ids(self) -> list[int] | None:
        return sorted(set(self.buildings.data or [])) if self.scope.data == "buildings" else None

    @property
    def budget_fen(self) -> int | None:
        return to_fen(self.budget.data)


class ResubmitForm(Form):
    item = StringField("维修项目", validators=[DataRequired("请填写维修项目。"), Length(max=200)])
    budget = yuan_field("预算金额（元）", LEDGER_YUAN, required="请填写预算金额。")
    contractor = StringField("施工单位", validators=[DataRequired("请填写施工单位。"), Length(max=100)])
    quotes = TextAreaField("报价情况", validators=[Optional(), Length(max=5000)])

    @property
    def budget_fen(self) -> int | None:
        return to_fen(self.budget.data)


class ReviewForm(Form):
    decision = SelectField("审核结果", choices=[("approve", "同意"), ("return", "退回申请人")])
    approved = yuan_field("核准金额（元，区级审核填写）", LEDGER_YUAN)
    reason = TextAreaField("意见（退回时必填）", validators=[Optional(), Length(max=300)])

    def validate_reason(self, field):
        if self.decision.data == "return" and not (field.data or "").strip():
            raise ValidationError("退回时必须填写理由。")

    @property
    def approved_fen(self) -> int | None:
        return None if self.approved.data is None else to_fen(self.approved.data)
