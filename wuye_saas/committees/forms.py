"""Forms of committee formation, the vetting checklist and supervision. The logic
(committees/logic.py) owns the rules and checks them again; these parse and give the field
messages."""
from __future__ import annotations

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..formutil import Form, int_field, optional_int
from ..org.models import COMMITTEE_KINDS
from .logic import RECOMMENDERS
from .models import FORMATION_KINDS, SUPERVISION_KINDS, VETTING_GROUPS


class CriterionForm(Form):
    group = SelectField("类别", choices=list(VETTING_GROUPS.items()), validators=[DataRequired("请选择清单类别。")])
    text = StringField("审查内容", validators=[DataRequired("请填写审查内容。"),
                                           Length(max=200, message="审查内容不能超过 200 个字。")])
    checked_by = StringField("审查单位", default="社区党委",
                             validators=[DataRequired("请填写负责审查的单位。"), Length(max=60)],
                             description="联审时由哪个单位核实，例如 社区党委、派出所、民政、住建、信访。")
    sort = IntegerField("排序", default=0, validators=[InputRequired("请填写排序号。"),
                                                      NumberRange(0, 999, "排序号应在 0 到 999 之间。")])


class CriterionEditForm(CriterionForm):
    active = BooleanField("启用（停用后不再用于新的联审）", default=True)


class FormationForm(Form):
    compound_id = SelectField("小区", coerce=optional_int, validators=[DataRequired("请选择小区。")])
    kind = SelectField("类型", choices=list(FORMATION_KINDS.items()), validators=[DataRequired("请选择组建或换届。")],
                       description="组建：小区没有任期内的业委会（物管会）；换届：现任任期 180 天内届满或已届满。")
    committee_kind = SelectField("组织", choices=[(k, k) for k in COMMITTEE_KINDS],
                                 validators=[DataRequired("请选择业委会或物管会。")])
    seats = int_field("委员名额", 1, 99, "委员名额", " 人", required="请填写委员名额。", default=5,
                      description="业委会 3–11 人单数（五人以上，小型小区可三人）；物管会 5–11 人单数。")


class CandidateForm(Form):
    name = StringField("姓名", validators=[DataRequired("请填写候选人姓名。"), Length(max=40, message="姓名不能超过 40 个字。")])
    household_id = SelectField("所在住户（可选）", coerce=optional_int, validators=[Optional()], validate_choice=False)
    phone = StringField("联系电话（保存时脱敏）", validators=[Optional(), Regexp(r"^[0-9\- ]{0,20}$", message="电话号码只能包含数字和 -")])
    recommended_by = SelectField("推荐方式", choices=[("", "请选择…")] + [(r, r) for r in RECOMMENDERS],
                                 validators=[DataRequired("请选择推荐方式。")])
    is_party_member = BooleanField("中共党员")
    is_cross_appointed = BooleanField("社区“两委”成员（交叉任职）")


class ElectionForm(Form):
    # The election's date and members come from the count; the community names the positions.
    note = TextAreaField("说明（可选）", validators=[Optional(), Length(max=2000)])


class FileForm(Form):
    filed_on = DateField("备案日期", validators=[InputRequired("请填写备案日期。")])


class CancelForm(Form):
    reason = TextAreaField("终止原因", validators=[DataRequired("请填写终止原因。"), Length(max=1000)])


class SupervisionForm(Form):
    kind = SelectField("监督措施", choices=list(SUPERVISION_KINDS.items()), validators=[DataRequired("请选择监督措施。")])
    reason = TextAreaField("原因", validators=[DataRequired("请填写原因。"), Length(max=2000)])
    due_on = DateField("整改期限", validators=[Optional()], description="责令整改必填；撤销决定、居委会代行职责不填。")


class EndSupervisionForm(Form):
    end_note = TextAreaField("结束说明", validators=[DataRequired("请填写结束说明（整改情况或恢复履职情况）。"),
                                                 Length(max=2000)])
