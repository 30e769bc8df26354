"""Forms for the organisation register. Field names equal model attributes (populate_obj).
Choices of foreign-key selects are filled by the view from what the user may see."""
from __future__ import annotations

from ..formutil import (
    AREA_M2, COMPOUND_AREA_M2, RATE_YUAN_M2, Fits, Form, PlainDecimalField, decimal_field, optional_int,
)
from wtforms import (BooleanField, DateField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from . import models as m
from .pickers import Within
from .validators import area_problem, credit_code_problem


def _pick(choices):
    return [(c, c) for c in choices]


def required(label):
    return DataRequired(f"请填写{label}")


def chosen(label):
    # On the coerced id, so a blank or "None" choice cannot slip through to a NOT NULL column.
    return DataRequired(f"请选择{label}")


class Area:
    """Positive area, at most two decimals, within bounds (formutil's AREA_M2 or COMPOUND_AREA_M2)."""

    def __init__(self, bounds):
        self.bounds = bounds

    def __call__(self, form, field):
        if field.data is not None:
            problem = area_problem(field.data, self.bounds)
            if problem:
                raise ValidationError(problem)


PHONE = Regexp(r"^[0-9*\-+ ]{0,20}$", message="电话号码只能包含数字、*、-、+")
YEAR = NumberRange(1900, 2100, "建成年份应在 1900–2100 之间")


class StreetForm(Form):
    name = StringField("街道名称", validators=[required("街道名称"), Fits(m.Street.name)])
    code = StringField("街道编码", validators=[Optional(), Fits(m.Street.code)])


class CommunityForm(Form):
    street_id = SelectField("所属街道", coerce=optional_int, validators=[chosen("所属街道")])
    name = StringField("社区名称", validators=[required("社区名称"), Fits(m.Community.name)])
    code = StringField("社区编码", validators=[Optional(), Fits(m.Community.code)])


class GridForm(Form):
    community_id = SelectField("所属社区", coerce=optional_int, validators=[chosen("所属社区")])
    name = StringField("网格名称", validators=[required("网格名称"), Fits(m.Grid.name)])
    keeper = StringField("网格员", validators=[Optional(), Fits(m.Grid.keeper)])
    keeper_phone = StringField("网格员电话", validators=[Optional(), PHONE])


class DepartmentForm(Form):
    name = StringField("部门名称", validators=[required("部门名称"), Fits(m.Department.name)],
                       description="如：区城市管理综合执法局、区住房和城乡建设局")
    kind = SelectField("类别", choices=_pick(m.DEPARTMENT_KINDS))
    contact = StringField("联系人", validators=[Optional(), Fits(m.Department.contact)])
    phone = StringField("联系电话", validators=[Optional(), PHONE])
    active = BooleanField("可派单", default=True,
                          description="停用后不能再向该部门派单或交办事项，已派的照常办理。")


class CompoundForm(Form):
    community_id = SelectField("所属社区", coerce=optional_int, validators=[chosen("所属社区")])
    grid_id = SelectField("所属网格", coerce=optional_int, validators=[Optional(), Within("community_id")])
    name = StringField("小区名称", validators=[required("小区名称"), Fits(m.Compound.name)])
    address = StringField("地址", validators=[Optional(), Fits(m.Compound.address)])
    compound_type = SelectField("小区类型", choices=_pick(m.COMPOUND_TYPES))
    build_year = IntegerField("建成年份", validators=[Optional(), YEAR])
    area_m2 = PlainDecimalField("建筑面积（㎡）", validators=[Optional(), Area(COMPOUND_AREA_M2)])
    management_mode = SelectField("管理模式", choices=_pick(m.MANAGEMENT_MODES))
    wuguan_mode = SelectField("“五管”模式", coerce=lambda v: v or None,
                              choices=[("", "—")] + _pick(m.WUGUAN_MODES), validators=[Optional()])


class BuildingForm(Form):
    compound_id = SelectField("所属小区", coerce=optional_int, validators=[chosen("所属小区")])
    name = StringField("楼栋号", validators=[required("楼栋号"), Fits(m.Building.name)])
    floors = IntegerField("层数", validators=[Optional(), NumberRange(1, 200, "层数应在 1–200 之间")])
    units = IntegerField("单元数", validators=[Optional(), NumberRange(1, 50, "单元数应在 1–50 之间")])
    has_lift = BooleanField("有电梯")


class HouseholdForm(Form):
    # Only narrows the buildings (and is checked against the building): the household's
    # compound is always the building's.
    compound_id = SelectField("所属小区", coerce=optional_int, validators=[Optional()])
    building_id = SelectField("所属楼栋", coerce=optional_int, validators=[chosen("所属楼栋"), Within("compound_id")])
    room = StringField("房号", validators=[required("房号"), Fits(m.Household.room)])
    floor = IntegerField("所在楼层", validators=[Optional(), NumberRange(-5, 200, "楼层不正确")])
    floor_area = PlainDecimalField("产权面积（㎡）", validators=[InputRequired("请填写产权面积"), Area(AREA_M2)])
    owner_name = StringField("业主姓名", validators=[Optional(), Fits(m.Household.owner_name)],
                             description="新增时据此登记一位业主；已有住户的业主（含共有人、身份证号）在住户详情页登记。")
    phone_masked = StringField("联系电话（脱敏）", validators=[Optional(), PHONE])
    area_source = SelectField("面积来源", choices=list(m.AREA_SOURCES.items()), default="registry",
                              filters=[lambda v: v or "registry"],   # not sent (older clients): the registry
                              description="依次以不动产登记簿、测绘成果、买卖合同记载的面积为准（建筑物区分所有权解释第八条）。")
    developer_held = BooleanField("开发商持有（未出售或未交付）",
                                  description="开发商持有的全部房屋在业主表决中合计按一人计算（解释第九条）。")
    household_code = StringField("户码", description="居民核验身份用；留空则自动生成", validators=[
        Optional(), Regexp(r"^[A-Z0-9]{6,16}$", message="户码为 6–16 位大写字母或数字")])
    class_ids = SelectMultipleField("困难类别", coerce=int, validators=[Optional()])


class OwnerForm(Form):
    owner_name = StringField("业主姓名", validators=[required("业主姓名"), Fits(m.Person.name)])
    id_number = StringField("身份证号码", validators=[Optional(), Length(max=18, message="身份证号码为 15 或 18 位")],
                            description="只保存加密摘要和脱敏号码；同一号码即同一业主（可拥有多套房屋）。")
    phone = StringField("联系电话（保存时脱敏）", validators=[Optional(), PHONE])
    share = SelectField("共有方式", choices=[(s, s) for s in m.OWNER_SHARES])
    valid_from = DateField("取得日期", validators=[Optional()])


class EndOwnershipForm(Form):
    valid_until = DateField("产权截止日期", validators=[InputRequired("请填写截止日期。")])


class HouseholdClassForm(Form):
    name = StringField("类别名称", validators=[required("类别名称"), Fits(m.HouseholdClass.name)])


class FirmForm(Form):
    name = StringField("企业名称", validators=[required("企业名称"), Fits(m.Firm.name)])
    credit_code = StringField("统一社会信用代码", validators=[required("统一社会信用代码")])
    qualification = SelectField("资质等级", choices=_pick(m.QUALIFICATIONS))
    legal_rep = StringField("法定代表人", validators=[Optional(), Fits(m.Firm.legal_rep)])
    contact_phone = StringField("联系电话", validators=[Optional(), PHONE])
    address = StringField("地址", validators=[Optional(), Fits(m.Firm.address)])
    party_status = SelectField("党组织状况", choices=_pick(m.PARTY_STATUSES))
    party_members = IntegerField("党员人数", default=0,
                                 validators=[InputRequired("请填写党员人数"), NumberRange(0, 100000, "人数不能为负")])
    staff_count = IntegerField("从业人员数", default=0,
                               validators=[InputRequired("请填写从业人员数"), NumberRange(0, 1000000, "人数不能为负")])

    def validate_credit_code(self, field):
        field.data = (field.data or "").strip().upper()
        problem = credit_code_problem(field.data)
        if problem:
            raise ValidationError(problem)


class ContractForm(Form):
    firm_id = SelectField("物业服务企业", coerce=optional_int, validators=[chosen("物业服务企业")])
    compound_id = SelectField("服务小区", coerce=optional_int, validators=[chosen("服务小区")])
    start_date = DateField("合同开始日期", validators=[InputRequired("请填写开始日期")])
    end_date = DateField("合同结束日期", validators=[InputRequired("请填写结束日期")])
    service_grade = SelectField("服务等级", choices=_pick(m.SERVICE_GRADES))
    fee_mode = SelectField("收费方式", choices=_pick(m.FEE_MODES))
    # Four places, as the column keeps: fewer would silently round a stored rate on every edit.
    fee_rate = decimal_field("物业费标准（元/㎡·月）", RATE_YUAN_M2, 4, "物业费标准", " 元/㎡·月",
                             required="请填写物业费标准")

    def validate_end_date(self, field):
        if self.start_date.data and field.data and field.data <= self.start_date.data:
            raise ValidationError("结束日期必须晚于开始日期")


class CommitteeForm(Form):
    compound_id = SelectField("所属小区", coerce=optional_int, validators=[chosen("所属小区")])
    kind = SelectField("类型", choices=_pick(m.COMMITTEE_KINDS))
    name = StringField("名称", validators=[required("名称"), Fits(m.Committee.name)])
    term_start = DateField("任期开始", validators=[InputRequired("请填写任期开始日期")])
    term_end = DateField("任期结束", validators=[InputRequired("请填写任期结束日期")])
    filing_status = SelectField("备案状态", choices=_pick(m.FILING_STATUSES))
    filed_on = DateField("备案日期", validators=[Optional()])

    def validate_term_end(self, field):
        if self.term_start.data and field.data and field.data <= self.term_start.data:
            raise ValidationError("任期结束日期必须晚于开始日期")

    def validate_filed_on(self, field):
        if self.filing_status.data == "已备案" and not field.data:
            raise ValidationError("已备案的请填写备案日期")


class CommitteeMemberForm(Form):
    committee_id = SelectField("所属业委会/物管会", coerce=optional_int, validators=[chosen("业委会/物管会")])
    name = StringField("姓名", validators=[required("姓名"), Fits(m.CommitteeMember.name)])
    position = SelectField("职务", choices=_pick(m.COMMITTEE_POSITIONS))
    is_party_member = BooleanField("中共党员")
    is_cross_appointed = BooleanField("交叉任职")
    phone_masked = StringField("联系电话（脱敏）", validators=[Optional(), PHONE])
    # Choices: the households of the chosen committee's compound (resources._member_prepare);
    # Within refuses any other, whatever was posted.
    household_id = SelectField("本人房屋", coerce=optional_int, validate_choice=False,
                               validators=[Optional(), Within("committee_id", "committee", "member_household")],
                               description="委员本人在本小区的房屋：每半年公示委员交纳物业费情况时据此核对账单。")


class PartyOrgForm(Form):
    kind = SelectField("组织类型", choices=_pick(m.PARTY_ORG_KINDS))
    name = StringField("组织名称", validators=[required("组织名称"), Fits(m.PartyOrg.name)])
    parent_id = SelectField("上级党组织", coerce=optional_int, validators=[Optional()])
    community_id = SelectField("所在社区", coerce=optional_int, validators=[Optional()])
    compound_id = SelectField("所在小区", coerce=optional_int, validators=[Optional(), Within("community_id")])
    firm_id = SelectField("所在企业", coerce=optional_int, validators=[Optional()])
    secretary = StringField("书记", validators=[Optional(), Fits(m.PartyOrg.secretary)])
    member_count = IntegerField("党员人数", default=0,
                                validators=[InputRequired("请填写党员人数"), NumberRange(0, 100000, "人数不能为负")])

    def validate_kind(self, field):
        needs = {"社区党委": ("community_id", "所在社区"), "小区党支部": ("compound_id", "所在小区"),
                 "楼栋党小组": ("compound_id", "所在小区"), "企业党支部": ("firm_id", "所在企业"),
                 "联合党支部": ("community_id", "所在社区")}
        if field.data not in needs:
            return  # not one of the choices: the select itself already says so
        attr, label = needs[field.data]
        if not getattr(self, attr).data:
            raise ValidationError(f"{field.data}须选择{label}")


class InstructorForm(Form):
    firm_id = SelectField("派驻企业", coerce=optional_int, validators=[chosen("派驻企业")])
    name = StringField("姓名", validators=[required("姓名"), Fits(m.Instructor.name)])
    unit = StringField("工作单位", validators=[Optional(), Fits(m.Instructor.unit)])
    phone = StringField("联系电话", validators=[Optional(), PHONE])
    assigned_on = DateField("派驻日期", validators=[InputRequired("请填写派驻日期")])
    ended_on = DateField("结束日期", validators=[Optional()])

    def validate_ended_on(self, field):
        if field.data and self.assigned_on.data and field.data < self.assigned_on.data:
            raise ValidationError("结束日期不能早于派驻日期")


class CrossAppointmentForm(Form):
    person_name = StringField("姓名", validators=[required("姓名"), Fits(m.CrossAppointment.person_name)])
    direction = SelectField("任职方向", choices=_pick(m.APPOINTMENT_DIRECTIONS))
    home_role = StringField("原任职务", validators=[Optional(), Fits(m.CrossAppointment.home_role)])
    appointed_role = StringField("交叉任职职务", validators=[required("交叉任职职务"), Fits(m.CrossAppointment.appointed_role)])
    community_id = SelectField("社区", coerce=optional_int, validators=[chosen("社区")])
    compound_id = SelectField("小区", coerce=optional_int, validators=[Optional(), Within("community_id")])
    firm_id = SelectField("物业企业", coerce=optional_int, validators=[Optional()])
    start_date = DateField("开始日期", validators=[InputRequired("请填写开始日期")])
    end_date = DateField("结束日期", validators=[Optional()])
    note = TextAreaField("备注", validators=[Optional(), Fits(500)])

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("结束日期不能早于开始日期")

    def validate_direction(self, field):
        direction = field.data or ""  # None when nothing was chosen: the select reports that
        if "物业企业" in direction and not self.firm_id.data:
            raise ValidationError("涉及物业企业的交叉任职须选择物业企业")
        if "业委会" in direction and not self.compound_id.data:
            raise ValidationError("涉及业委会的交叉任职须选择小区")
