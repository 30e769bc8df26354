"""Forms of ledger entries, reversals and publications."""
from __future__ import annotations

from wtforms import DateField, IntegerField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, StopValidation, ValidationError

from decimal import Decimal

from ..formutil import LEDGER_YUAN, Form, int_field, yuan_field
from ..money import to_fen
from .accounts import CATEGORIES, DIRECTIONS
from .reports import HALVES, INCOME_ITEMS, REMUNERATION, SPENDING_ITEMS
from .templates_content import STANDING_DEFAULTS


class EntryForm(Form):
    entry_date = DateField("记账日期", validators=[InputRequired("请填写记账日期。")])
    direction = RadioField("收支方向", choices=list(DIRECTIONS.items()), default="income",
                           validators=[InputRequired("请选择收入或支出。")])
    category = SelectField("类目", validators=[DataRequired("请选择类目。")])
    amount = yuan_field("金额（元）", LEDGER_YUAN, required="请填写金额。")
    counterparty = StringField("对方单位或个人", validators=[DataRequired("请填写对方单位或个人。"), Length(max=100)])
    voucher_no = StringField("凭证号", validators=[Optional(), Length(max=40)])
    note = StringField("摘要", validators=[Optional(), Length(max=200)])
    vouchers = MultipleFileField("凭证文件", description="可选，PDF、JPG 或 PNG，每个不超过 5 MB。")

    def set_kind(self, kind: str):
        # Grouped by direction: the category must belong to the chosen direction (checked in logic).
        self.category.choices = {DIRECTIONS[d]: [(c, c) for c in cats] for d, cats in CATEGORIES[kind].items()}



class ReverseForm(Form):
    reason = TextAreaField("冲销原因", validators=[DataRequired("请填写冲销原因。"), Length(max=180)])


class PeriodMixin:
    def validate_end(self, field):
        if self.start.data and field.data and self.start.data > field.data:
            raise ValidationError("结束日期不能早于开始日期。")


class StandingNoticeForm(Form):
    payer = StringField("收费对象", default=STANDING_DEFAULTS["payer"],
                        validators=[DataRequired("请填写收费对象。"), Length(max=200)])
    service_content = TextAreaField("服务内容", validators=[DataRequired("请填写服务内容。"), Length(max=2000)],
                                    description="例如：共用部位和设施设备的维修养护、公共区域清洁、秩序维护、绿化养护等。")
    items = StringField("收费项目", default=STANDING_DEFAULTS["items"],
                        validators=[DataRequired("请填写收费项目。"), Length(max=200)])
    basis_text = TextAreaField("收费依据", default=STANDING_DEFAULTS["basis_text"],
                               validators=[DataRequired("请填写收费依据。"), Length(max=500)])
    applies_from = DateField("执行日期", validators=[Optional()],
                             description="收费标准调整时填写新标准的执行日期：须至少提前一个月公示，"
                                         "否则账单开具时不按新标准计收。留空为今天。")


class DisclosureForm(PeriodMixin, Form):
    start = DateField("公示期起", validators=[InputRequired("请填写公示期起始日期。")])
    end = DateField("公示期止", validators=[InputRequired("请填写公示期截止日期。")])
    services = TextAreaField("服务事项", validators=[DataRequired("请填写服务事项。"), Length(max=2000)])
    staff = TextAreaField("负责人员", validators=[DataRequired("请填写负责人员。"), Length(max=1000)],
                          description="项目负责人、客服、维修等岗位的负责人及联系电话。")
    quality = TextAreaField("质量要求", validators=[DataRequired("请填写质量要求。"), Length(max=2000)])
    performance = TextAreaField("履行情况", validators=[DataRequired("请填写合同履行情况。"), Length(max=2000)])


class CommitteeNewsForm(PeriodMixin, Form):
    """北京 第44条（八）: the committee reports its work to the owners regularly; 第45条: what a
    meeting decided is posted within three days."""
    start = DateField("通报期间起", validators=[InputRequired("请填写通报期间的起始日期。")])
    end = DateField("通报期间止", validators=[InputRequired("请填写通报期间的截止日期。")])
    work = TextAreaField("工作情况", validators=[DataRequired("请填写本期工作情况。"), Length(max=5000)],
                         description="例如：召开业委会会议次数、督促物业整改事项、维修资金与公共收益监督情况。")
    decisions = TextAreaField("会议确定事项", validators=[Optional(), Length(max=5000)],
                              description="业委会会议确定的事项（须过半数委员签字同意），会后三日内公示。")


class CommitteeRulesForm(Form):
    """管理规约 and 业主大会议事规则 as the owners adopted them (民法典 第278条: decided by the owners)."""
    doc = SelectField("文件", choices=[("管理规约", "管理规约"), ("业主大会议事规则", "业主大会议事规则")],
                      validators=[InputRequired("请选择文件。")])
    adopted_on = DateField("业主大会通过日期", validators=[InputRequired("请填写业主大会通过的日期。")])
    vote_id = SelectField("业主表决", coerce=str, validate_choice=False, choices=[("", "（未在系统中表决）")],
                          description="在系统中计票通过的表决，公示时一并列出表决结果。")
    body = TextAreaField("正文", validators=[DataRequired("请填写文件正文。"), Length(max=20000)])


AMOUNT_YUAN = (Decimal("0"), Decimal("100000000"))
CARRIED_YUAN = (Decimal("-100000000"), Decimal("100000000"))


class AnnualBudgetForm(Form):
    """酬金制 年度预算: amounts in 元 (whole 分); an empty amount is 0."""
    year = int_field("年度", 2000, 2100, "年度", " 年", required="请填写年度。")
    carried_in = yuan_field("上年结转（元）", CARRIED_YUAN, name="上年结转",
                            description="上一年度物业服务资金的结余（亏损填负数），没有填 0。")


def _amount_fields(cls):
    for name, category in INCOME_ITEMS:
        setattr(cls, name, yuan_field(f"收入 · {category}（元）", AMOUNT_YUAN, name=category))
    for name, category in SPENDING_ITEMS:
        setattr(cls, name, yuan_field(f"支出 · {category}（元）", AMOUNT_YUAN, name=category))
    setattr(cls, "remuneration", yuan_field(f"{REMUNERATION}（元）", AMOUNT_YUAN, name=REMUNERATION,
                                            description="物业服务企业按合同约定提取的酬金（固定金额或按比例）。"))
    return cls


# Made before the amounts, so a final account's form shows it above them.
_SOURCE = RadioField("数据来源", choices=[("ledger", "由物业费收支账生成"), ("entered", "手工填写")],
                     default="ledger", validators=[InputRequired("请选择数据来源。")],
                     description="由账目生成时，上年结转（年初余额）和各项金额均按该年度物业费收支账汇总，不用填写。")
_amount_fields(AnnualBudgetForm)


class AnnualAccountForm(AnnualBudgetForm):
    """酬金制 年度决算: computed from the 物业费收支 ledger, or entered."""
    source = _SOURCE


def amounts_of(form) -> dict[str, int]:
    """The entered amounts in 分 by field name (empty: 0)."""
    names = [n for n, _ in INCOME_ITEMS + SPENDING_ITEMS] + ["remuneration"]
    return {n: to_fen(getattr(form, n).data) if getattr(form, n).data is not None else 0 for n in names}


class CommitteeFeesForm(Form):
    """北京 第44条（八）: every half year the members' property-fee payments."""
    year = int_field("年度", 2000, 2100, "年度", " 年", required="请填写年度。")
    half = SelectField("半年", coerce=str, choices=[(str(k), v) for k, v in HALVES.items()],
                       validators=[InputRequired("请选择上半年或下半年。")])


class StatementForm(PeriodMixin, Form):
    start = DateField("公示期起", validators=[InputRequired("请填写公示期起始日期。")])
    end = DateField("公示期止", validators=[InputRequired("请填写公示期截止日期。")])


def texts_of(form) -> dict:
    return {f.name: (f.data or "").strip() for f in form
            if f.type in ("StringField", "TextAreaField")}


def _compact_hex(value):
    """Hex typed from paper: spaces, line breaks and upper case are fine."""
    return "".join((value or "").split()).lower()


def _positive(form, field):
    if field.errors:            # not a number: WTForms has said so already
        raise StopValidation()
    if not 1 <= field.data <= 10**9:
        raise ValidationError("公示编号应为正整数。")


class HeadForm(Form):
    """A chain head from a printed notice: what its QR code carries, or typed from its text.
    Short field names keep the QR code's address short."""
    seq = IntegerField("公示编号", validators=[InputRequired("请填写公告上的公示编号。"), _positive])
    h = StringField("指纹（SHA-256）", filters=[_compact_hex],
                    validators=[DataRequired("请填写公告上的指纹。"), Regexp(r"^[0-9a-f]{64}$", message="指纹应为 64 位十六进制数字（0-9、a-f）。")])
    sig = TextAreaField("签名", filters=[_compact_hex], render_kw={"rows": 2, "spellcheck": "false"},
                      validators=[DataRequired("请填写公告上的签名。"), Regexp(r"^[0-9a-f]{128}$", message="签名应为 128 位十六进制数字（0-9、a-f）。")])
    k = StringField("签名密钥编号", filters=[lambda v: (v or "").strip()],
                    validators=[Optional(), Length(max=40, message="密钥编号最多 40 位。")],
                    description="可不填：不填时用本区公布的每把公钥核对。")
