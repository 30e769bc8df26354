"""Fee policies and their assignment to compounds: validation, versions, activation.

Plain functions (no request): the views parse a form into `PolicyData`, call these, and show
the returned problems ({field name: Chinese message}) next to the fields. Functions only add
and flush; the view commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..org.models import SERVICE_GRADES, Community, Compound
from .models import DEFAULT_HOLDBACK_BANDS, Bill, FeeAssignment, FeeConcession, FeePolicy, FeePolicyGrade

HUNDRED = Decimal(100)


@dataclass
class GradeData:
    rate: Decimal | None = None           # 元/㎡·月
    flat_fen: int | None = None           # 分/户·月
    float_percent: Decimal | None = None  # 政府指导价 ± %


@dataclass
class PolicyData:
    """Everything a policy version holds, as plain values (what the form parses to)."""
    name: str
    valid_from: date
    valid_to: date | None = None
    basis: str = "per_m2"
    price_regime: str = "市场调节价"
    fee_mode: str = "包干制"
    grades: dict = field(default_factory=dict)        # grade → GradeData
    gov_mode: str = "none"
    gov_percent: Decimal | None = None
    gov_per_m2: Decimal | None = None
    gov_schedule: list = field(default_factory=list)  # [Decimal] by contract year
    gov_trial_months: int = 0
    gov_cap_fen: int | None = None
    holdback_percent: Decimal | None = None
    # The holdback's release rule (fees/holdback.py): the evaluation kind, stars or score, and
    # the bands [(min, percent)], highest first.
    holdback_kind: str = "quarterly"
    holdback_basis: str = "stars"
    holdback_kept_to: str = "ledger"   # where the part not released goes (holdback.py rule 5)
    holdback_bands: list = field(default_factory=lambda: [(Decimal(b["min"]), Decimal(b["percent"]))
                                                          for b in DEFAULT_HOLDBACK_BANDS])
    concessions: dict = field(default_factory=dict)   # household_class_id → percent
    for_compound_id: int | None = None
    note: str = ""

    @classmethod
    def of(cls, p: FeePolicy) -> "PolicyData":
        return cls(
            name=p.name, valid_from=p.valid_from, valid_to=p.valid_to, basis=p.basis,
            price_regime=p.price_regime, fee_mode=p.fee_mode,
            grades={g.grade: GradeData(g.rate, g.flat_fen, g.float_percent) for g in p.grades},
            gov_mode=p.gov_mode, gov_percent=p.gov_percent, gov_per_m2=p.gov_per_m2,
            gov_schedule=[Decimal(str(x)) for x in p.gov_schedule or []],
            gov_trial_months=p.gov_trial_months or 0, gov_cap_fen=p.gov_cap_fen,
            holdback_percent=p.holdback_percent, holdback_kind=p.holdback_kind or "quarterly",
            holdback_basis=p.holdback_basis or "stars", holdback_kept_to=p.holdback_kept_to or "ledger",
            holdback_bands=[(Decimal(str(b["min"])), Decimal(str(b["percent"])))
                            for b in (p.holdback_bands if p.holdback_bands is not None else DEFAULT_HOLDBACK_BANDS)],
            concessions={c.household_class_id: c.percent for c in p.concessions},
            for_compound_id=p.for_compound_id, note=p.note or "")


def _pct_problem(value: Decimal | None) -> str | None:
    if value is not None and not (0 <= value <= 100):
        return "百分比须在 0 到 100 之间"
    return None


def _lowest_rates(d: PolicyData) -> dict[str, Decimal]:
    """The lowest 元/㎡·月 each priced grade can be billed at (guided: base − float)."""
    out = {}
    for grade, g in d.grades.items():
        if g.rate is None:
            continue
        low = g.rate
        if d.price_regime == "政府指导价" and g.float_percent is not None:
            low = g.rate * (HUNDRED - g.float_percent) / HUNDRED
        out[grade] = low
    return out


def problems(d: PolicyData, family_id: int | None = None, exclude_id: int | None = None) -> dict[str, str]:
    """Why the policy cannot be saved, by form field; empty when it can."""
    errs: dict[str, str] = {}
    if (clash := name_taken(d.name, family_id)) is not None:
        errs["name"] = f"区内已有同名的收费政策（{clash.name}），请换一个名称"
    if d.valid_to is not None and d.valid_to < d.valid_from:
        errs["valid_to"] = "截止日期不能早于生效日期"
    priced = 0
    for i, grade in enumerate(SERVICE_GRADES, start=1):
        g = d.grades.get(grade) or GradeData()
        if g.rate is not None and g.rate < 0:
            errs[f"rate_{i}"] = "单价不能为负数"
        if g.flat_fen is not None and g.flat_fen < 0:
            errs[f"flat_{i}"] = "每户金额不能为负数"
        if g.float_percent is not None and not (0 <= g.float_percent <= 100):
            errs[f"float_{i}"] = "浮动幅度须在 0 到 100 之间"
        if d.basis == "per_household":
            if g.rate is not None and g.flat_fen is None:
                errs[f"flat_{i}"] = f"按户收费须填写{grade}每户金额"
            priced += g.flat_fen is not None
        else:
            if g.flat_fen is not None and g.rate is None:
                errs[f"rate_{i}"] = f"按面积收费须填写{grade}单价"
            priced += g.rate is not None
            if d.price_regime == "政府指导价" and g.rate is not None and g.float_percent is None:
                errs[f"float_{i}"] = f"政府指导价须填写{grade}的浮动幅度"
    if not priced:
        key = "flat_1" if d.basis == "per_household" else "rate_1"
        errs.setdefault(key, "按户收费须至少填写一个等级的每户金额" if d.basis == "per_household"
                        else "至少填写一个服务等级的单价")
    if d.price_regime == "政府指导价" and d.basis == "per_household":
        errs["price_regime"] = "政府指导价按建筑面积定价，请选择“按建筑面积”计费"

    lows = _lowest_rates(d) if d.basis == "per_m2" else {}
    if d.gov_mode == "percent":
        if d.gov_percent is None:
            errs["gov_percent"] = "请填写政府承担比例"
        elif (p := _pct_problem(d.gov_percent)):
            errs["gov_percent"] = p
    elif d.gov_mode == "per_m2":
        if d.gov_per_m2 is None:
            errs["gov_per_m2"] = "请填写政府每平方米承担金额"
        elif d.gov_per_m2 < 0:
            errs["gov_per_m2"] = "金额不能为负数"
        else:
            over = [f"{g}（{r.normalize():f}）" for g, r in lows.items() if d.gov_per_m2 > r]
            if over:
                errs["gov_per_m2"] = f"政府承担 {d.gov_per_m2.normalize():f} 元/㎡ 超过{'、'.join(over)}的单价，补贴会超过应收费用"
    elif d.gov_mode == "declining":
        if not d.gov_schedule:
            errs["gov_schedule"] = "请按合同年度填写递减金额，如 0.30,0.20,0.10"
        for year, amount in enumerate(d.gov_schedule, start=1):
            if amount < 0:
                errs["gov_schedule"] = f"第{year}年的金额不能为负数"
                break
            over = [f"{g}（{r.normalize():f}）" for g, r in lows.items() if amount > r]
            if over:
                errs["gov_schedule"] = f"第{year}年 {amount.normalize():f} 元/㎡ 超过{'、'.join(over)}的单价，补贴会超过应收费用"
                break
    if d.gov_trial_months < 0:
        errs["gov_trial_months"] = "月数不能为负数"
    if d.gov_cap_fen is not None and d.gov_cap_fen < 0:
        errs["gov_cap"] = "封顶金额不能为负数"
    if (p := _pct_problem(d.holdback_percent)):
        errs["holdback_percent"] = p
    if d.holdback_percent and not d.holdback_bands:
        errs["band_min_1"] = "留存质量保证金时，请至少填写一档返还比例"
    elif (p := bands_problem(d.holdback_basis, d.holdback_bands)):
        errs["band_min_1"] = p
    for class_id, pct in d.concessions.items():
        if (p := _pct_problem(pct)):
            errs[f"conc_{class_id}"] = p
    if family_id is not None and "valid_to" not in errs:
        clash = overlapping_version(family_id, d.valid_from, d.valid_to, exclude_id)
        if clash is not None:
            errs["valid_from"] = (f"与第 {clash.version} 版的有效期（{period(clash.valid_from, clash.valid_to)}）重叠")
    return errs


def bands_problem(basis: str, bands: list) -> str | None:
    """Why the release bands [(min, percent)] do not make a rule: stars are whole 0–5, each
    threshold once, and a better result never releases less."""
    if basis == "stars" and any(m != m.to_integral_value() or not 0 <= m <= 5 for m, _ in bands):
        return "按星级返还时，门槛须为 0 到 5 的整数星"
    mins = [m for m, _ in bands]
    if len(set(mins)) != len(mins):
        return "各档的门槛不能重复"
    ordered = sorted(bands, reverse=True)
    if any(hi[1] < lo[1] for hi, lo in zip(ordered, ordered[1:])):
        return "结果更好的档次返还比例不能低于较差的档次"
    return None


def name_taken(name: str, family_id: int | None) -> FeePolicy | None:
    """A version of another family with this name: names tell policies apart in pickers,
    assignments and bills, so one name is one family per district (its versions share it)."""
    stmt = select(FeePolicy).where(func.lower(FeePolicy.name) == (name or "").strip().lower())
    if family_id is not None:
        stmt = stmt.where(func.coalesce(FeePolicy.family_id, FeePolicy.id) != family_id)
    return db.session.execute(stmt.limit(1)).scalars().first()


def period(start: date, end: date | None) -> str:
    return f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}" if end else f"{start:%Y-%m-%d} 起长期"


def _overlaps(col_from, col_to, start: date, end: date | None):
    """SQL: the row's [from, to] meets [start, end] (open ends are forever)."""
    cond = or_(col_to.is_(None), col_to >= start)
    return and_(cond, col_from <= end) if end is not None else cond


def overlapping_version(family_id: int, start: date, end: date | None, exclude_id: int | None):
    stmt = select(FeePolicy).where(FeePolicy.family_id == family_id,
                                   _overlaps(FeePolicy.valid_from, FeePolicy.valid_to, start, end))
    if exclude_id is not None:
        stmt = stmt.where(FeePolicy.id != exclude_id)
    return db.session.execute(stmt.order_by(FeePolicy.version)).scalars().first()


def _apply(p: FeePolicy, d: PolicyData) -> None:
    p.name, p.valid_from, p.valid_to = d.name, d.valid_from, d.valid_to
    p.basis, p.price_regime, p.fee_mode = d.basis, d.price_regime, d.fee_mode
    p.gov_mode = d.gov_mode
    # Only the parameter of the chosen mode is kept, so a stale value never bills.
    p.gov_percent = d.gov_percent if d.gov_mode == "percent" else None
    p.gov_per_m2 = d.gov_per_m2 if d.gov_mode == "per_m2" else None
    p.gov_schedule = [f"{x:f}" for x in d.gov_schedule] if d.gov_mode == "declining" else None
    p.gov_trial_months, p.gov_cap_fen = d.gov_trial_months, d.gov_cap_fen
    p.holdback_percent, p.for_compound_id, p.note = d.holdback_percent, d.for_compound_id, d.note
    p.holdback_kind, p.holdback_basis, p.holdback_kept_to = d.holdback_kind, d.holdback_basis, d.holdback_kept_to
    p.holdback_bands = [{"min": f"{m.normalize():f}", "percent": f"{pct.normalize():f}"}
                        for m, pct in sorted(d.holdback_bands, reverse=True)]
    grades = {g.grade: g for g in p.grades}
    for grade in SERVICE_GRADES:
        g = d.grades.get(grade)
        keep = g is not None and (g.rate is not None or g.flat_fen is not None)
        row = grades.get(grade)
        if not keep:
            if row is not None:
                p.grades.remove(row)
            continue
        if row is None:
            row = FeePolicyGrade(grade=grade)
            p.grades.append(row)
        row.rate = g.rate
        row.flat_fen = g.flat_fen
        row.float_percent = g.float_percent if d.price_regime == "政府指导价" else None
    conc = {c.household_class_id: c for c in p.concessions}
    for class_id, pct in d.concessions.items():
        row = conc.get(class_id)
        if not pct:
            if row is not None:
                p.concessions.remove(row)
            continue
        if row is None:
            p.concessions.append(FeeConcession(household_class_id=class_id, percent=pct))
        elif row.percent != pct:
            row.percent = pct


def create_policy(d: PolicyData) -> tuple[FeePolicy | None, dict]:
    errs = problems(d)
    if errs:
        return None, errs
    p = FeePolicy(version=1, status="draft")
    _apply(p, d)
    db.session.add(p)
    try:
        db.session.flush()
    except IntegrityError:  # the unique (tenant, name, version): a same-named twin saved meanwhile
        db.session.rollback()
        return None, {"name": "区内已有同名的收费政策，请换一个名称"}
    p.family_id = p.id  # a family is named by its first version
    db.session.flush()
    return p, {}


def has_billed(p: FeePolicy) -> bool:
    return bool(db.session.execute(select(exists().where(Bill.policy_id == p.id))).scalar())


def locked_reason(p: FeePolicy) -> str | None:
    """Why this version can no longer be edited (bills rest on it), or None."""
    if p.frozen or (p.status != "draft" and has_billed(p)):
        return "该版本已用于出账，不能再修改；如需调整，请创建新版本。"
    if p.status == "retired":
        return "该版本已停用，不能再修改；如需调整，请创建新版本。"
    return None


def update_policy(p: FeePolicy, d: PolicyData) -> dict:
    if (why := locked_reason(p)):
        return {"name": why}
    errs = problems(d, p.family_id, p.id)
    if not errs:
        _apply(p, d)
        db.session.flush()
    return errs


def latest_version(family_id: int) -> FeePolicy:
    return db.session.execute(select(FeePolicy).where(FeePolicy.family_id == family_id)
                              .order_by(FeePolicy.version.desc())).scalars().first()


def new_version(p: FeePolicy, old_until: date) -> tuple[FeePolicy | None, str | None]:
    """Copy `p` as the family's next draft from the day after `old_until`, and close `p`'s
    validity on `old_until` (versions never overlap)."""
    latest = latest_version(p.family_id)
    if latest.id != p.id:
        return None, f"该政策已有第 {latest.version} 版，请在最新版本上创建新版本。"
    if old_until < p.valid_from:
        return None, f"日期不能早于本版本的生效日期 {p.valid_from:%Y-%m-%d}"
    if p.valid_to is not None and old_until >= p.valid_to:
        return None, f"日期须早于本版本的截止日期 {p.valid_to:%Y-%m-%d}"
    d = PolicyData.of(p)
    d.valid_from, d.valid_to = old_until + timedelta(days=1), p.valid_to
    new = FeePolicy(family_id=p.family_id, version=p.version + 1, status="draft")
    _apply(new, d)
    p.valid_to = old_until
    db.session.add(new)
    db.session.flush()
    return new, None


def activate(p: FeePolicy) -> str | None:
    if p.status != "draft":
        return "只有草稿版本可以生效。"
    p.status = "active"
    db.session.flush()
    return None


# --- assignments ----------------------------------------------------------------------------

def bulk_compounds(street_id: int | None, community_id: int | None, mode: str | None, within=None):
    """The compounds of a street or community (optionally of one management mode)."""
    stmt = select(Compound).join(Community, Compound.community_id == Community.id)
    if community_id:
        stmt = stmt.where(Compound.community_id == community_id)
    elif street_id:
        stmt = stmt.where(Community.street_id == street_id)
    if mode:
        stmt = stmt.where(Compound.management_mode == mode)
    if within is not None:
        stmt = stmt.where(within)
    return list(db.session.execute(stmt.order_by(Compound.id)).scalars())


def assign(family: FeePolicy, compounds: list[Compound], start: date, end: date | None) -> tuple[list, dict]:
    """Assign the family to each compound for [start, end]; refuses all when any would
    overlap an existing assignment (the message names the compound and that period)."""
    if end is not None and end < start:
        return [], {"valid_to": "截止日期不能早于开始日期"}
    if not compounds:
        return [], {"compound_id": "没有符合条件的小区"}
    owner = family.for_compound_id
    if owner is not None and any(c.id != owner for c in compounds):
        return [], {"compound_id": f"“{family.name}”是{family.for_compound.name}的专用政策，只能分配给该小区"}
    ids = [c.id for c in compounds]
    clashes = db.session.execute(
        select(FeeAssignment).where(FeeAssignment.compound_id.in_(ids),
                                    _overlaps(FeeAssignment.valid_from, FeeAssignment.valid_to, start, end))
        .order_by(FeeAssignment.compound_id)).scalars().all()
    if clashes:
        shown = "；".join(f"{a.compound.name}已有分配（{period(a.valid_from, a.valid_to)}）" for a in clashes[:5])
        more = f" 等 {len(clashes)} 个小区" if len(clashes) > 5 else ""
        return [], {"valid_from": f"时间段重叠：{shown}{more}"}
    rows = [FeeAssignment(compound_id=i, family_id=family.family_id, valid_from=start, valid_to=end) for i in ids]
    db.session.add_all(rows)
    db.session.flush()
    return rows, {}


def end_assignment(a: FeeAssignment, last_day: date) -> str | None:
    if last_day < a.valid_from:
        return f"结束日期不能早于开始日期 {a.valid_from:%Y-%m-%d}"
    if a.valid_to is not None and last_day >= a.valid_to:
        return f"该分配已于 {a.valid_to:%Y-%m-%d} 结束，结束日期须早于它"
    a.valid_to = last_day
    db.session.flush()
    return None


def family_query(q: str = "", status: str = ""):
    """Latest version of each family, searched by name and filtered by that version's status."""
    latest = (select(FeePolicy.family_id, func.max(FeePolicy.version).label("v"))
              .group_by(FeePolicy.family_id).subquery())
    stmt = select(FeePolicy).join(latest, and_(FeePolicy.family_id == latest.c.family_id,
                                               FeePolicy.version == latest.c.v))
    if q:
        stmt = stmt.where(FeePolicy.name.ilike(f"%{q}%"))
    if status:
        stmt = stmt.where(FeePolicy.status == status)
    return stmt.order_by(FeePolicy.family_id.desc())


def versions_of(family_ids: list[int]) -> dict[int, list[FeePolicy]]:
    out: dict[int, list] = {}
    if family_ids:
        for p in db.session.execute(select(FeePolicy).where(FeePolicy.family_id.in_(family_ids))
                                    .order_by(FeePolicy.version.desc())).scalars():
            out.setdefault(p.family_id, []).append(p)
    return out


def assignment_query(family_id: int | None = None, q: str = "", current_on: date | None = None):
    stmt = select(FeeAssignment).join(Compound, FeeAssignment.compound_id == Compound.id)
    if family_id:
        stmt = stmt.where(FeeAssignment.family_id == family_id)
    if q:
        stmt = stmt.where(Compound.name.ilike(f"%{q}%"))
    if current_on is not None:
        stmt = stmt.where(FeeAssignment.valid_from <= current_on,
                          or_(FeeAssignment.valid_to.is_(None), FeeAssignment.valid_to >= current_on))
    return stmt.order_by(Compound.name, FeeAssignment.valid_from.desc())
