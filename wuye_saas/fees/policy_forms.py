"""Forms of the fee policy pages; each parses to the plain values `policies` works on."""
from __future__ import annotations

import re
from decimal import Decimal

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..formutil import (
    CAP_YUAN, FLAT_YUAN, PERCENT, POINTS, RATE_YUAN_M2, Form, decimal_field, optional_int, parse_decimal, yuan_field,
)
from ..money import to_fen
from ..org.models import FEE_MODES, MANAGEMENT_MODES, SERVICE_GRADES
from ..org.pickers import Within
from ..evaluation.models import CYCLE_KINDS
from .models import BASES, GOV_MODES, HOLDBACK_BASES, HOLDBACK_DESTINATIONS, PRICE_REGIMES
from .policies import GradeData, PolicyData


def plain(x: Decimal | None) -> Decimal | None:
    """0.8500 → 0.85, 10.00 → 10 (how a person writes it; the stored scale is noise)."""
    return None if x is None else Decimal(format(x.normalize(), "f"))


def _rate(label, name="单价", **kw):
    return decimal_field(label, RATE_YUAN_M2, 4, name, " 元/㎡·月", **kw)


def _pct(label, name="百分比", **kw):
    return decimal_field(label, PERCENT, 2, name, "%", message=f"{name}须在 0 到 100 之间", **kw)


def _flat(label):
    return yuan_field(label, FLAT_YUAN, name="每户金额")


class PolicyForm(Form):
    name = StringField("政策名称", validators=[DataRequired("请填写政策名称"), Length(max=100)])
    basis = SelectField("计费方式", choices=list(BASES.items()))
    price_regime = SelectField("价格形式", choices=[(r, r) for r in PRICE_REGIMES])
    fee_mode = SelectField("收费模式", choices=[(m, m) for m in FEE_MODES])
    valid_from = DateField("生效日期", validators=[DataRequired("请填写生效日期")])
    valid_to = DateField("截止日期", validators=[Optional()])
    for_compound_id = SelectField("专用于小区", coerce=optional_int,
                                  validate_choice=True)
    rate_1 = _rate("一级 单价（元/㎡·月）")
    flat_1 = _flat("一级 每户（元/户·月）")
    float_1 = _pct("一级 浮动幅度（±%）", "浮动幅度")
    rate_2 = _rate("二级 单价（元/㎡·月）")
    flat_2 = _flat("二级 每户（元/户·月）")
    float_2 = _pct("二级 浮动幅度（±%）", "浮动幅度")
    rate_3 = _rate("三级 单价（元/㎡·月）")
    flat_3 = _flat("三级 每户（元/户·月）")
    float_3 = _pct("三级 浮动幅度（±%）", "浮动幅度")
    gov_mode = SelectField("政府承担方式", choices=list(GOV_MODES.items()))
    gov_percent = _pct("政府承担比例（%）")
    gov_per_m2 = _rate("政府承担（元/㎡·月）", "政府承担金额")
    gov_schedule = StringField("按合同年度递减（元/㎡·月，逗号分隔）", validators=[Length(max=200)],
                               description="如 0.30,0.20,0.10：第1、2、3年，之后为 0")
    gov_trial_months = IntegerField("先尝后买（政府全额承担的合同前 N 个月）", default=0,
                                    validators=[Optional(), NumberRange(min=0, max=120, message="月数须在 0 到 120 之间")])
    gov_cap = yuan_field("政府承担封顶（元/小区·月）", CAP_YUAN, name="封顶金额")
    holdback_percent = _pct("质量保证金留存（%）",
                            description="按考核结果返还的部分（湖州 第34条、绍兴 第37条）")
    holdback_kind = SelectField("依据的考核", choices=list(CYCLE_KINDS.items()), default="quarterly",
                                description="覆盖该月的这类考核结果发布后，按下列档次返还")
    holdback_basis = SelectField("返还依据", choices=list(HOLDBACK_BASES.items()), default="stars")
    holdback_kept_to = SelectField("未返还部分去向", choices=list(HOLDBACK_DESTINATIONS.items()), default="ledger",
                                   description="返还业主：按各户暂扣金额比例抵扣下期物业费")
    band_min_1 = decimal_field("第1档 门槛（星或分，及以上）", POINTS, 2, "门槛", default=Decimal(5))
    band_pct_1 = _pct("第1档 返还比例（%）", "返还比例", default=Decimal(100))
    band_min_2 = decimal_field("第2档 门槛", POINTS, 2, "门槛", default=Decimal(4))
    band_pct_2 = _pct("第2档 返还比例（%）", "返还比例", default=Decimal(90))
    band_min_3 = decimal_field("第3档 门槛", POINTS, 2, "门槛", default=Decimal(3))
    band_pct_3 = _pct("第3档 返还比例（%）", "返还比例", default=Decimal(70))
    band_min_4 = decimal_field("第4档 门槛", POINTS, 2, "门槛")
    band_pct_4 = _pct("第4档 返还比例（%）", "返还比例")
    note = TextAreaField("说明", validators=[Length(max=2000)])

    GRADE_FIELDS = [(g, f"rate_{i}", f"flat_{i}", f"float_{i}") for i, g in enumerate(SERVICE_GRADES, start=1)]

    def validate_gov_schedule(self, field):
        self.schedule = []
        text = (field.data or "").strip()
        low, high = RATE_YUAN_M2
        for piece in filter(None, re.split(r"[,，、\s]+", text)):
            value = parse_decimal(piece)
            if value is None:
                raise ValidationError(f"“{piece}”不是有效的金额")
            if value.as_tuple().exponent < -4:
                raise ValidationError(f"“{piece}”不是有效的金额（最多 4 位小数）")
            if not low <= value <= high:
                raise ValidationError(f"“{piece}”应在 {low} 到 {high} 元/㎡·月 之间")
            self.schedule.append(value)

    # Four bands; the new form starts from the default (5★ 100 %, 4★ 90 %, 3★ 70 %, else 0 %).
    BAND_FIELDS = [(f"band_min_{i}", f"band_pct_{i}") for i in range(1, 5)]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for lo, pc in self.BAND_FIELDS:
            low, pct = getattr(self, lo), getattr(self, pc)
            if (low.data is None) != (pct.data is None) and not (low.errors or pct.errors):
                (pct if pct.data is None else low).errors.append("门槛和返还比例须同时填写")
                ok = False
        return ok

    def bands(self) -> list:
        return [(getattr(self, lo).data, getattr(self, pc).data) for lo, pc in self.BAND_FIELDS
                if getattr(self, lo).data is not None and getattr(self, pc).data is not None]

    def conc_fields(self):
        return [getattr(self, n) for n in self._conc_names]

    def to_data(self) -> PolicyData:
        grades = {g: GradeData(getattr(self, r).data,
                               None if getattr(self, f).data is None else to_fen(getattr(self, f).data),
                               getattr(self, fl).data)
                  for g, r, f, fl in self.GRADE_FIELDS}
        return PolicyData(
            name=self.name.data.strip(), valid_from=self.valid_from.data, valid_to=self.valid_to.data,
            basis=self.basis.data, price_regime=self.price_regime.data, fee_mode=self.fee_mode.data,
            grades=grades, gov_mode=self.gov_mode.data, gov_percent=self.gov_percent.data,
            gov_per_m2=self.gov_per_m2.data, gov_schedule=getattr(self, "schedule", []),
            gov_trial_months=self.gov_trial_months.data or 0,
            gov_cap_fen=None if self.gov_cap.data is None else to_fen(self.gov_cap.data),
            holdback_percent=self.holdback_percent.data, holdback_kind=self.holdback_kind.data,
            holdback_basis=self.holdback_basis.data, holdback_kept_to=self.holdback_kept_to.data,
            holdback_bands=self.bands(),
            concessions={int(n[5:]): getattr(self, n).data for n in self._conc_names},
            for_compound_id=self.for_compound_id.data, note=(self.note.data or "").strip())

    def load(self, d: PolicyData) -> None:
        """Fill the fields from a policy version (edit page)."""
        for name in ("name", "basis", "price_regime", "fee_mode", "valid_from", "valid_to", "gov_mode",
                     "gov_percent", "gov_per_m2", "gov_trial_months", "holdback_percent", "holdback_kind",
                     "holdback_basis", "holdback_kept_to", "for_compound_id", "note"):
            value = getattr(d, name)
            getattr(self, name).data = plain(value) if isinstance(value, Decimal) else value
        self.gov_schedule.data = ",".join(f"{x:f}" for x in d.gov_schedule)
        self.gov_cap.data = None if d.gov_cap_fen is None else Decimal(d.gov_cap_fen) / 100
        for g, r, f, fl in self.GRADE_FIELDS:
            gd = d.grades.get(g) or GradeData()
            getattr(self, r).data = plain(gd.rate)
            getattr(self, f).data = None if gd.flat_fen is None else Decimal(gd.flat_fen) / 100
            getattr(self, fl).data = plain(gd.float_percent)
        for n in self._conc_names:
            getattr(self, n).data = plain(d.concessions.get(int(n[5:])))
        bands = sorted(d.holdback_bands, reverse=True)
        for i, (lo, pc) in enumerate(self.BAND_FIELDS):
            low, pct = bands[i] if i < len(bands) else (None, None)
            getattr(self, lo).data, getattr(self, pc).data = plain(low), plain(pct)


def policy_form(classes, compounds, **kw) -> PolicyForm:
    """A PolicyForm with one concession field per household class of the district."""
    attrs = {f"conc_{cid}": _pct(f"{name} 企业让利（%）") for cid, name in classes}
    cls = type("DistrictPolicyForm", (PolicyForm,), attrs)
    form = cls(**kw)
    form._conc_names = list(attrs)
    form.for_compound_id.choices = [("", "全区通用（不限小区）")] + compounds
    return form


class NewVersionForm(Form):
    old_until = DateField("原版本执行至", validators=[DataRequired("请填写原版本的最后一天")],
                          description="新版本从次日起生效，原版本的截止日期改为该日")


class ActivateForm(Form):
    pass


class AssignForm(Form):
    family_id = SelectField("收费政策", coerce=optional_int, validators=[DataRequired("请选择收费政策")])
    target = SelectField("分配范围", choices=[("compound", "单个小区"), ("bulk", "按街道/社区批量")])
    compound_id = SelectField("小区", coerce=optional_int)
    street_id = SelectField("街道", coerce=optional_int)
    community_id = SelectField("社区", coerce=optional_int, validators=[Within("street_id")])
    management_mode = SelectField("管理模式", choices=[("", "全部管理模式")] + [(m, m) for m in MANAGEMENT_MODES])
    valid_from = DateField("开始日期", validators=[DataRequired("请填写开始日期")])
    valid_to = DateField("截止日期", validators=[Optional()])

    def validate_compound_id(self, field):
        if self.target.data == "compound" and not field.data:
            raise ValidationError("请选择小区")

    def validate_street_id(self, field):
        if self.target.data == "bulk" and not field.data and not self.community_id.data:
            raise ValidationError("批量分配请选择街道或社区")


class EndAssignmentForm(Form):
    last_day = DateField("执行至（最后一天）", validators=[DataRequired("请填写结束日期")])


class SimulateForm(Form):
    class Meta:
        csrf = False  # a GET that reads only

    policy_id = SelectField("政策版本", coerce=optional_int,
                            validators=[DataRequired("请选择政策版本")])
    scope = SelectField("测算范围", choices=[("district", "全区"), ("street", "街道"), ("compound", "小区")])
    street_id = SelectField("街道", coerce=optional_int)
    compound_id = SelectField("小区", coerce=optional_int)
    month = StringField("起始月份", validators=[DataRequired("请选择起始月份")])

    def validate_month(self, field):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", field.data or ""):
            raise ValidationError("月份格式应为 YYYY-MM")

    def validate_street_id(self, field):
        if self.scope.data == "street" and not field.data:
            raise ValidationError("请选择街道")

    def validate_compound_id(self, field):
        if self.scope.data == "compound" and not field.data:
            raise ValidationError("请选择小区")
