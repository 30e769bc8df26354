"""Forms of 选聘: opening a selection, candidates, applications, the panel, scores, decisions,
and the district's tender rule."""
from __future__ import annotations

from decimal import Decimal

from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..formutil import Fits, Form, decimal_field, optional_int
from ..org.models import FEE_MODES, SERVICE_GRADES
from .models import MODES, PanelMember, SelectionCandidate

RATE = (Decimal("0.0001"), Decimal("100"))    # 元/㎡·月, like the register's contract rate
SCORE = (Decimal("0"), Decimal("100"))


def rate_field(label: str, required: str | None = None, **kw):
    return decimal_field(label, RATE, 4, "单价", " 元/㎡·月", required=required, **kw)


class SelectionForm(Form):
    compound_id = SelectField("小区", coerce=optional_int, validators=[InputRequired("请选择小区。")])
    mode = SelectField("选聘方式", choices=list(MODES.items()), validators=[DataRequired("请选择选聘方式。")],
                       description="业主表决：业委会比选候选企业后提交业主大会表决（民法典第二百七十八条）；"
                                   "招投标：发布招标公告，企业报名，评标委员会评分定标。")
    service_grade = SelectField("服务等级", choices=[(g, g) for g in SERVICE_GRADES])
    fee_mode = SelectField("收费方式", choices=[(f, f) for f in FEE_MODES])
    fee_rate = rate_field("物业费单价上限（元/㎡·月）", required="请填写物业费单价上限。",
                          description="报价不得高于此价；合同按选定企业的报价签订。")
    term_start = DateField("合同开始日期", validators=[InputRequired("请填写合同开始日期。")])
    term_end = DateField("合同截止日期", validators=[InputRequired("请填写合同截止日期。")])
    requirements = TextAreaField("招标要求（招投标必填）", validators=[Optional(), Fits(5000)],
                                 description="服务内容与标准、专业人员配备、管理实绩、信用状况等（上海规定第三十九条）。")
    deadline = DateField("报名截止日期（招投标必填）", validators=[Optional()])


class CandidateForm(Form):
    firm_id = SelectField("候选企业", coerce=optional_int, validators=[InputRequired("请选择候选企业。")])
    quoted_rate = rate_field("报价（元/㎡·月）", required="请填写报价。")
    note = StringField("比选说明", validators=[Optional(), Fits(SelectionCandidate.note)])


class ApplyForm(Form):
    quoted_rate = rate_field("报价（元/㎡·月）", required="请填写报价。")
    proposal = TextAreaField("服务方案摘要", validators=[DataRequired("请填写服务方案摘要。"), Fits(5000)])


class PanelForm(Form):
    name = StringField("评委姓名", validators=[DataRequired("请填写评委姓名。"), Fits(PanelMember.name)])
    unit = StringField("单位或身份", validators=[Optional(), Fits(PanelMember.unit)],
                       description="如：业主代表、物业管理专家、社区党委")


def score_form(member_ids: list[int], names: dict[int, str]):
    """One score field per panel member (m<id>), 0–100 with two places."""
    attrs = {f"m{mid}": decimal_field(f"{names[mid]}评分", SCORE, 2, "评分", " 分", required="请填写评分。")
             for mid in member_ids}
    return type("ScoreForm", (Form,), attrs)


class AwardForm(Form):
    application_id = SelectField("中标企业", coerce=optional_int, validators=[InputRequired("请选择中标企业。")])


class ReasonForm(Form):
    reason = StringField("终止原因", validators=[DataRequired("请填写终止原因。"), Fits(200)])


class RuleForm(Form):
    barred_grades = SelectMultipleField("不得参加招投标的信用等级", choices=[], validators=[Optional()],
                                        description="默认：C 级和黑名单（商丘、连云港做法）。")
    bar_black_list = BooleanField("列入最近一次考核黑榜的企业不得参加招投标")
