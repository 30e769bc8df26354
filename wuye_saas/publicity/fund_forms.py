"""Forms of the maintenance fund: the district's standard, deposits and uses."""
from __future__ import annotations

from decimal import Decimal

from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..formutil import LEDGER_YUAN, Form, decimal_field, yuan_field
from ..money import to_fen
from .fund import DEPOSIT_CATEGORIES

PERCENT = (Decimal(0), Decimal(100))
COST_YUAN = (Decimal("0.01"), Decimal(100000))


class RuleForm(Form):
    cost = yuan_field("本地住宅建筑安装工程每平方米造价（元/㎡）", COST_YUAN, required="请填写每平方米造价。",
                      name="每平方米造价")
    # The 5–8 % range is the logic's (fund.set_rule), with the statute in its message.
    rate = decimal_field("首期交存比例（%）", PERCENT, 2, "交存比例", "%", required="请填写首期交存比例。",
                         description="《住宅专项维修资金管理办法》第七条：为每平方米造价的 5% 至 8%。")
    revenue_rule = BooleanField("本区适用“公共收益补充维修资金”规定（《北京市物业管理条例》第七十四条）")
    revenue_percent = decimal_field("维修资金不足首期交存额 30% 时，公共收益补充维修资金的比例（%）", PERCENT, 2,
                                    "补充比例", "%", required="请填写补充比例。", default=Decimal(50),
                                    description="不低于 50%。")

    @property
    def cost_fen(self) -> int | None:
        return to_fen(self.cost.data) if self.cost.data is not None else None


class PostingForm(Form):
    entry_date = DateField("记账日期", validators=[InputRequired("请填写记账日期。")])
    voucher_no = StringField("凭证号", validators=[Optional(), Length(max=40)])
    note = StringField("摘要", validators=[Optional(), Length(max=200)])


class DepositForm(PostingForm):
    mode = RadioField("交存方式", choices=[("standard", "首期交存：按本区标准逐户计算（每平方米交存额 × 房屋面积）"),
                                      ("lump", "按交存总额以房屋面积分摊到各户")],
                      default="standard", validators=[InputRequired("请选择交存方式。")])
    category = SelectField("类目（按总额分摊时）", choices=[(c, c) for c in DEPOSIT_CATEGORIES])
    amount = yuan_field("交存总额（元，按总额分摊时填写）", LEDGER_YUAN)
    counterparty = StringField("交存人", default="全体业主", validators=[Optional(), Length(max=100)])


class UseForm(PostingForm):
    amount = yuan_field("使用金额（元）", LEDGER_YUAN, required="请填写使用金额。")
    counterparty = StringField("施工单位或收款人", validators=[Optional(), Length(max=100)])
    scope = RadioField("分摊范围", choices=[("all", "全体业主（按专有部分面积分摊）"),
                                        ("buildings", "所选楼栋的业主（按专有部分面积分摊）")],
                       default="all", validators=[InputRequired("请选择分摊范围。")])
    buildings = SelectMultipleField("涉及楼栋", coerce=int, validate_choice=False)
