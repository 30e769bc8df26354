"""What the register shows and edits, one Resource per model (see crud.Resource)."""
from __future__ import annotations

import secrets
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..formutil import record_id
from ..timeutil import today
from . import forms, owners, pickers
from . import models as m
from .crud import Column, Filter, Resource, options

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def new_household_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def yes_no(v) -> str:
    return "是" if v else "否"


def _fixed(values):
    return lambda mem: [(v, v) for v in values]


def _id(value: str) -> int:
    """A filter's chosen record id; ValueError (the filter is left out) for what names none."""
    n = record_id(value)
    if n is None:
        raise ValueError(value)
    return n


def _opts(model, **kw):
    return lambda mem: [(str(i), label) for i, label in options(model, mem, **kw)]


def _few(model):
    """A filter's options, or None past pickers.FILTER_CHOICES (the list offers a name box)."""
    def few(mem):
        got = options(model, mem, limit=pickers.FILTER_CHOICES + 1)
        return [(str(i), label) for i, label in got] if len(got) <= pickers.FILTER_CHOICES else None
    return few


def _named(col, model):
    return lambda text: col.in_(pickers.named(model, text))


def rate_text(rate) -> str:
    """元/㎡·月 with two decimals, or all four when the rate has them (0.85, 1.2575)."""
    two = f"{rate:.2f}"
    return two if Decimal(two) == rate else f"{rate.normalize():f}"


def _contract_status(c) -> str:
    d = today()
    if c.status == "draft":
        return "待生效"
    if c.start_date > d:
        return "未开始"
    state = "有效" if c.end_date >= d else "已到期"
    # An exit moved the end (ended at the handover, or serving on until it): the signed term stays visible.
    if c.agreed_end_date and c.agreed_end_date != c.end_date:
        state += f"（原定至 {c.agreed_end_date:%Y-%m-%d}；{c.end_reason}）" if c.end_reason else \
            f"（原定至 {c.agreed_end_date:%Y-%m-%d}）"
    return state


def _active_firm_of_compound(compound_ids):
    """{compound_id: firm name} of currently valid contracts, one query for a whole page."""
    d = today()
    rows = db.session.execute(
        select(m.Contract.compound_id, m.Firm.name).join(m.Firm)
        .where(m.Contract.compound_id.in_(compound_ids), m.Contract.in_force(d))).all()
    return dict(rows)


def _firm_filter(value):
    return _served_by(m.Contract.firm_id == int(value))


def _firm_named(text):
    return _served_by(m.Contract.firm_id.in_(pickers.named(m.Firm, text)))


def _served_by(which):
    """Compounds whose contract in force today is with the firm(s) `which` says."""
    return m.Compound.id.in_(select(m.Contract.compound_id).where(which, m.Contract.in_force(today())))


def _street_of_compound(value):
    return m.Compound.community_id.in_(select(m.Community.id).where(m.Community.street_id == int(value)))


def _buildings_choice(mem, obj, args):
    """Every visible building, named with its compound; pickers.follow narrows them to the
    household's compound for display."""
    return options(m.Building, mem, label=lambda b: f"{b.compound.name} · {b.name}",
                   order=[m.Building.compound_id, m.Building.name_key], load=[joinedload(m.Building.compound)])


def _household_total(mem, args):
    """The unfiltered (or one compound's) household count from compound.household_count,
    whose visibility is the households' (both follow the compound); None for other filters."""
    if any(v for k, v in args.items() if k not in ("page", "compound_id")):
        return None
    stmt = select(func.coalesce(func.sum(m.Compound.household_count), 0)).where(policy.visible(mem, m.Compound))
    if record_id(args.get("compound_id")):
        stmt = stmt.where(m.Compound.id == record_id(args.get("compound_id")))
    return db.session.execute(stmt).scalar_one()


def _household_prepare(form, obj, mem):
    form.class_ids.choices = options(m.HouseholdClass, mem)
    if not form.compound_id.data and form.building_id.data and not form.is_submitted():
        # "新增住户" from a building's page: show the building's compound chosen.
        b = db.session.get(m.Building, form.building_id.data)
        form.compound_id.data = b.compound_id if b is not None else None
    if obj is not None and obj.id and not form.is_submitted():
        form.class_ids.data = [link.household_class_id for link in obj.class_links]


def _member_prepare(form, obj, mem):
    """A member's own unit is picked among the households of the chosen committee's compound
    (none before a committee is chosen); pickers.follow reloads them when the committee changes."""
    cid = form.committee_id.data
    units = pickers.options(mem, "member_household", "committee", cid) if cid else []
    form.household_id.choices = [("", "—（未登记）")] + units


def _household_apply(form, obj):
    building = db.session.get(m.Building, obj.building_id)
    obj.compound_id = building.compound_id
    if not obj.household_code:
        obj.household_code = new_household_code()
    wanted = set(form.class_ids.data or [])
    for link in list(obj.class_links):
        if link.household_class_id not in wanted:
            obj.class_links.remove(link)
    have = {link.household_class_id for link in obj.class_links}
    for cid in wanted - have:
        obj.class_links.append(m.HouseholdClassLink(household_class_id=cid, valid_from=today()))
    if obj.id is None and obj.owner_name and not obj.developer_held:
        # A new unit with an owner's name: that owner as a person of their own (the detail page
        # links a person owning several units by ID number, and adds co-owners).
        person, _ = owners.person_for(obj.owner_name)
        obj.ownerships.append(m.Ownership(person_id=person.id, share="单独所有"))


def _household_facts(h):
    since = "、".join(f"{link.household_class.name}（{link.valid_from:%Y-%m-%d}起）" for link in h.class_links)
    return [("困难类别", since or "无")]


def _owners_cell(h) -> str:
    return "开发商持有" if h.developer_held else h.owner_name


def _compound_facts(c):
    firms = _active_firm_of_compound([c.id])
    return [("现物业服务企业", firms.get(c.id, "无（无有效合同）"))]


def _credit_standing(firm):
    """The firm's credit standing today: a list page's firms read together before it renders
    (`_firms_page`), any other firm when asked (a detail page) — never the whole district's."""
    from flask import g

    from ..credit.grading import standings  # lazy: credit is another area
    got = g.setdefault("credit_standings", {})
    if firm.id not in got:
        got.update(standings(today(), [firm.id]))
    return got.get(firm.id)


def _credit_grade(firm) -> str:
    s = _credit_standing(firm)
    return s.grade if s else ""


def _consequence_flags(firm) -> list[str]:
    """The firm's active 上榜后果 flags the viewer may see (read as the standing is)."""
    from flask import g

    from ..credit.consequences import flag_labels  # lazy: credit is another area
    asked, got = g.setdefault("flags_asked", set()), g.setdefault("consequence_flags", {})
    if firm.id not in asked:
        got.update(flag_labels(g.membership, today(), [firm.id]))
        asked.add(firm.id)
    return got.get(firm.id, [])


def _firms_page(firms) -> None:
    """The standings and flags of a page's firms, two statements for the page: they were the
    whole district's, read to show twenty."""
    from flask import g

    from ..credit.consequences import flag_labels
    from ..credit.grading import standings
    ids = [f.id for f in firms]
    g.setdefault("credit_standings", {}).update(standings(today(), ids))
    g.setdefault("consequence_flags", {}).update(flag_labels(g.membership, today(), ids))
    g.setdefault("flags_asked", set()).update(ids)


def _flags_text(firm) -> str:
    return "、".join(_consequence_flags(firm))


def _firm_facts(firm):
    from ..contracts import filing   # the filing area reads the register, not the other way round
    s = _credit_standing(firm)
    facts = [("信用等级", f"{s.grade}（{s.score} 分{'，列入警示名单' if s.warned else ''}）")] if s else []
    flags = _consequence_flags(firm)
    filed = filing.firm_fact(firm)
    return facts + ([("上榜后果", "、".join(flags))] if flags else []) + ([("合同备案", filed)] if filed else [])


def _contract_facts(c):
    from ..contracts import filing
    return [("合同备案", filing.contract_fact(c))]


def _classes_of(h) -> str:
    return "、".join(link.household_class.name for link in h.class_links)


def _all(model, **kw):
    return lambda mem, obj, args: options(model, mem, **kw)


RESOURCES: list[Resource] = [
    Resource(
        key="streets", model=m.Street, label="街道", form=forms.StreetForm, icon="signpost-split",
        columns=[Column("街道名称", lambda o: o.name, link=True), Column("编码", lambda o: o.code)],
        search=[m.Street.name], search_hint="街道名称", order_by=[m.Street.name],
        children=[("communities", "street_id")],
    ),
    Resource(
        key="communities", model=m.Community, label="社区", form=forms.CommunityForm, icon="houses",
        columns=[Column("社区名称", lambda o: o.name, link=True), Column("所属街道", lambda o: o.street.name),
                 Column("编码", lambda o: o.code)],
        search=[m.Community.name], search_hint="社区名称",
        filters=[Filter("street_id", "街道", _opts(m.Street), lambda v: m.Community.street_id == _id(v))],
        order_by=[m.Community.street_id, m.Community.name], load=[joinedload(m.Community.street)],
        choices={"street_id": _all(m.Street)},
        children=[("compounds", "community_id"), ("grids", "community_id")],
    ),
    Resource(
        key="grids", model=m.Grid, label="网格", form=forms.GridForm, icon="grid-3x3",
        columns=[Column("网格名称", lambda o: o.name, link=True), Column("所属社区", lambda o: o.community.name),
                 Column("网格员", lambda o: o.keeper), Column("电话", lambda o: o.keeper_phone)],
        search=[m.Grid.name, m.Grid.keeper], search_hint="网格名称或网格员",
        filters=[Filter("community_id", "社区", _opts(m.Community), lambda v: m.Grid.community_id == _id(v))],
        order_by=[m.Grid.community_id, m.Grid.name], load=[joinedload(m.Grid.community)],
        choices={"community_id": _all(m.Community)},
    ),
    Resource(
        key="departments", model=m.Department, label="职能部门", form=forms.DepartmentForm, icon="bank",
        columns=[Column("部门名称", lambda o: o.name, link=True), Column("类别", lambda o: o.kind),
                 Column("联系人", lambda o: o.contact), Column("电话", lambda o: o.phone),
                 Column("可派单", lambda o: yes_no(o.active))],
        search=[m.Department.name, m.Department.contact], search_hint="部门名称或联系人",
        filters=[Filter("kind", "类别", _fixed(m.DEPARTMENT_KINDS), lambda v: m.Department.kind == v)],
        order_by=[m.Department.name],
    ),
    Resource(
        key="compounds", model=m.Compound, label="小区", form=forms.CompoundForm, icon="buildings",
        columns=[Column("小区名称", lambda o: o.name, link=True),
                 Column("社区", lambda o: o.community.name),
                 Column("类型", lambda o: o.compound_type),
                 Column("管理模式", lambda o: o.management_mode),
                 Column("建成年份", lambda o: o.build_year or "")],
        search=[m.Compound.name, m.Compound.address], search_hint="小区名称或地址",
        filters=[Filter("street", "街道", _opts(m.Street), _street_of_compound),
                 Filter("community_id", "社区", _few(m.Community), lambda v: m.Compound.community_id == _id(v),
                        _named(m.Compound.community_id, m.Community)),
                 Filter("mode", "管理模式", _fixed(m.MANAGEMENT_MODES), lambda v: m.Compound.management_mode == v),
                 Filter("type", "小区类型", _fixed(m.COMPOUND_TYPES), lambda v: m.Compound.compound_type == v),
                 Filter("firm", "物业企业", _few(m.Firm), _firm_filter, _firm_named)],
        order_by=[m.Compound.community_id, m.Compound.name], load=[joinedload(m.Compound.community)],
        choices={"community_id": _all(m.Community), "grid_id": _all(m.Grid)},
        facts=_compound_facts,
        children=[("buildings", "compound_id"), ("households", "compound_id"), ("contracts", "compound_id"),
                  ("committees", "compound_id"), ("party_orgs", "compound_id")],
    ),
    Resource(
        key="buildings", model=m.Building, label="楼栋", form=forms.BuildingForm, icon="building",
        columns=[Column("楼栋", lambda o: o.name, link=True), Column("小区", lambda o: o.compound.name),
                 Column("层数", lambda o: o.floors or ""), Column("单元", lambda o: o.units or ""),
                 Column("电梯", lambda o: yes_no(o.has_lift))],
        search=[m.Building.name], search_hint="楼栋号",
        order_by=[m.Building.compound_id, m.Building.name_key], load=[joinedload(m.Building.compound)],
        choices={"compound_id": _all(m.Compound)},
        title=lambda o: f"{o.compound.name} {o.name}",
        children=[("households", "building_id")],
    ),
    Resource(
        key="households", model=m.Household, label="住户", form=forms.HouseholdForm, icon="house-door",
        columns=[Column("房号", lambda o: o.room, link=True), Column("小区", lambda o: o.compound.name),
                 Column("楼栋", lambda o: o.building.name), Column("产权面积（㎡）", lambda o: o.floor_area),
                 Column("业主", _owners_cell), Column("困难类别", _classes_of),
                 Column("户码", lambda o: o.household_code)],
        search=[m.Household.room, m.Household.owner_name, m.Household.household_code],
        search_hint="房号、业主或户码",
        filters=[Filter("compound_id", "小区", _few(m.Compound), lambda v: m.Household.compound_id == _id(v),
                        _named(m.Household.compound_id, m.Compound)),
                 Filter("class", "困难类别", _opts(m.HouseholdClass),
                        lambda v: m.Household.id.in_(select(m.HouseholdClassLink.household_id)
                                                     .where(m.HouseholdClassLink.household_class_id == _id(v))))],
        order_by=[m.Household.compound_id, m.Household.building_id, m.Household.room_key],
        load=[joinedload(m.Household.compound), joinedload(m.Household.building),
              joinedload(m.Household.class_links).joinedload(m.HouseholdClassLink.household_class)],
        choices={"compound_id": _all(m.Compound), "building_id": _buildings_choice},
        title=lambda o: f"{o.compound.name} {o.label}",
        prepare=_household_prepare, apply=_household_apply, facts=_household_facts, total=_household_total,
    ),
    Resource(
        key="household_classes", model=m.HouseholdClass, label="困难类别", form=forms.HouseholdClassForm,
        icon="tags", columns=[Column("类别名称", lambda o: o.name, link=True)], order_by=[m.HouseholdClass.name],
    ),
    Resource(
        key="firms", model=m.Firm, label="物业企业", form=forms.FirmForm, icon="briefcase",
        columns=[Column("企业名称", lambda o: o.name, link=True), Column("统一社会信用代码", lambda o: o.credit_code),
                 Column("资质", lambda o: o.qualification), Column("党组织状况", lambda o: o.party_status),
                 Column("党员", lambda o: o.party_members), Column("信用等级", _credit_grade),
                 Column("上榜后果", _flags_text)], page_loaded=_firms_page,
        search=[m.Firm.name, m.Firm.credit_code], search_hint="企业名称或信用代码",
        filters=[Filter("party", "党组织状况", _fixed(m.PARTY_STATUSES), lambda v: m.Firm.party_status == v),
                 Filter("qualification", "资质等级", _fixed(m.QUALIFICATIONS), lambda v: m.Firm.qualification == v)],
        order_by=[m.Firm.name],
        children=[("contracts", "firm_id"), ("instructors", "firm_id"), ("party_orgs", "firm_id")],
        facts=_firm_facts,
    ),
    Resource(
        key="contracts", model=m.Contract, label="物业服务合同", form=forms.ContractForm, icon="file-earmark-text",
        columns=[Column("合同期限", lambda o: o.audit_label, link=True), Column("企业", lambda o: o.firm.name),
                 Column("小区", lambda o: o.compound.name), Column("服务等级", lambda o: o.service_grade),
                 Column("收费方式", lambda o: o.fee_mode), Column("标准（元/㎡·月）", lambda o: rate_text(o.fee_rate)),
                 Column("状态", _contract_status)],
        filters=[Filter("grade", "服务等级", _fixed(m.SERVICE_GRADES), lambda v: m.Contract.service_grade == v),
                 Filter("fee_mode", "收费方式", _fixed(m.FEE_MODES), lambda v: m.Contract.fee_mode == v)],
        order_by=[m.Contract.start_date.desc()],
        load=[joinedload(m.Contract.firm), joinedload(m.Contract.compound)],
        choices={"firm_id": _all(m.Firm), "compound_id": _all(m.Compound)},
        title=lambda o: f"{o.firm.name} — {o.compound.name}",
        facts=_contract_facts,
    ),
    Resource(
        key="committees", model=m.Committee, label="业委会/物管会", form=forms.CommitteeForm, icon="people",
        columns=[Column("名称", lambda o: o.name, link=True), Column("类型", lambda o: o.kind),
                 Column("小区", lambda o: o.compound.name),
                 Column("任期", lambda o: f"{o.term_start:%Y-%m-%d}～{o.term_end:%Y-%m-%d}"),
                 Column("备案", lambda o: o.filing_status)],
        search=[m.Committee.name], search_hint="名称",
        filters=[Filter("kind", "类型", _fixed(m.COMMITTEE_KINDS), lambda v: m.Committee.kind == v),
                 Filter("filing", "备案状态", _fixed(m.FILING_STATUSES), lambda v: m.Committee.filing_status == v)],
        order_by=[m.Committee.compound_id], load=[joinedload(m.Committee.compound)],
        choices={"compound_id": _all(m.Compound)},
        children=[("committee_members", "committee_id")],
    ),
    Resource(
        key="committee_members", model=m.CommitteeMember, label="委员", form=forms.CommitteeMemberForm,
        icon="person-badge",
        columns=[Column("姓名", lambda o: o.name, link=True), Column("所属", lambda o: o.committee.name),
                 Column("职务", lambda o: o.position), Column("党员", lambda o: yes_no(o.is_party_member)),
                 Column("交叉任职", lambda o: yes_no(o.is_cross_appointed))],
        search=[m.CommitteeMember.name], search_hint="姓名",
        filters=[Filter("party", "党员", lambda mem: [("1", "是"), ("0", "否")],
                        lambda v: m.CommitteeMember.is_party_member == (v == "1"))],
        order_by=[m.CommitteeMember.committee_id, m.CommitteeMember.id],
        load=[joinedload(m.CommitteeMember.committee)],
        choices={"committee_id": _all(m.Committee)},
        prepare=_member_prepare,
    ),
    Resource(
        key="party_orgs", model=m.PartyOrg, label="党组织", form=forms.PartyOrgForm, icon="flag",
        columns=[Column("组织名称", lambda o: o.name, link=True), Column("类型", lambda o: o.kind),
                 Column("书记", lambda o: o.secretary), Column("党员人数", lambda o: o.member_count)],
        search=[m.PartyOrg.name, m.PartyOrg.secretary], search_hint="组织名称或书记",
        filters=[Filter("kind", "组织类型", _fixed(m.PARTY_ORG_KINDS), lambda v: m.PartyOrg.kind == v)],
        order_by=[m.PartyOrg.kind, m.PartyOrg.name],
        choices={"parent_id": _all(m.PartyOrg), "community_id": _all(m.Community),
                 "compound_id": _all(m.Compound), "firm_id": _all(m.Firm)},
    ),
    Resource(
        key="instructors", model=m.Instructor, label="党建指导员", form=forms.InstructorForm, icon="person-check",
        columns=[Column("姓名", lambda o: o.name, link=True), Column("派驻企业", lambda o: o.firm.name),
                 Column("工作单位", lambda o: o.unit), Column("派驻日期", lambda o: o.assigned_on),
                 Column("结束日期", lambda o: o.ended_on or "在岗")],
        search=[m.Instructor.name, m.Instructor.unit], search_hint="姓名或单位",
        order_by=[m.Instructor.assigned_on.desc()], load=[joinedload(m.Instructor.firm)],
        choices={"firm_id": _all(m.Firm)},
    ),
    Resource(
        key="cross_appointments", model=m.CrossAppointment, label="交叉任职", form=forms.CrossAppointmentForm,
        icon="arrow-left-right",
        columns=[Column("姓名", lambda o: o.person_name, link=True), Column("方向", lambda o: o.direction),
                 Column("原任职务", lambda o: o.home_role), Column("交叉任职职务", lambda o: o.appointed_role),
                 Column("社区", lambda o: o.community.name), Column("开始", lambda o: o.start_date)],
        search=[m.CrossAppointment.person_name], search_hint="姓名",
        filters=[Filter("direction", "方向", _fixed(m.APPOINTMENT_DIRECTIONS),
                        lambda v: m.CrossAppointment.direction == v)],
        order_by=[m.CrossAppointment.start_date.desc()], load=[joinedload(m.CrossAppointment.community)],
        choices={"community_id": _all(m.Community), "compound_id": _all(m.Compound),
                 "firm_id": _all(m.Firm)},
        title=lambda o: o.person_name,
    ),
]

BY_KEY = {r.key: r for r in RESOURCES}
BY_TABLE = {r.model.__tablename__: r for r in RESOURCES}
TABLE_LABELS = {r.model.__tablename__: r.label for r in RESOURCES} | {"membership": "账号角色", "contract_filing": "合同备案"}

# The navigation groups of the register.
NAV = [
    ("组织架构", ["streets", "communities", "grids", "departments"]),
    ("小区与住户", ["compounds", "buildings", "households", "household_classes"]),
    ("物业企业", ["firms", "contracts"]),
    ("业委会", ["committees", "committee_members"]),
    ("党建", ["party_orgs", "instructors", "cross_appointments"]),
]
