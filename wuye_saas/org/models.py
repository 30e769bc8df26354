"""The organisation tree of a district: streets → communities → compounds → buildings →
households, the firms serving compounds, committees and party organisations."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from ..tenancy import TenantScoped

COMPOUND_TYPES = ["商品房", "老旧小区", "安置房", "保障房", "单位房改房"]
MANAGEMENT_MODES = ["专业物业", "自管", "无人管理", "国资托管"]
WUGUAN_MODES = ["统管", "接管", "直管", "自管", "助管"]
PARTY_STATUSES = ["单独建立党组织", "联合党支部", "派驻党建指导员", "无"]
SERVICE_GRADES = ["一级", "二级", "三级"]
FEE_MODES = ["包干制", "酬金制"]
# A contract serves its compound only when in force: a draft (the winner of a selection, the
# incoming firm before its handover is signed) has dates but does not serve yet.
CONTRACT_STATUSES = {"draft": "待生效", "active": "有效"}
COMMITTEE_KINDS = ["业委会", "物管会"]
FILING_STATUSES = ["未备案", "备案中", "已备案"]
COMMITTEE_POSITIONS = ["主任", "副主任", "委员"]
PARTY_ORG_KINDS = ["社区党委", "小区党支部", "楼栋党小组", "企业党支部", "联合党支部"]
QUALIFICATIONS = ["一级", "二级", "三级", "无资质等级"]
APPOINTMENT_DIRECTIONS = ["社区→业委会", "社区→物业企业", "业委会→社区", "物业企业→社区"]
# Where a unit's floor area comes from, in the order 建筑物区分所有权解释 第八条 takes them: the
# 不动产登记簿; without a registration, the 测绘 result; without one, the purchase contract.
AREA_SOURCES = {"registry": "不动产登记簿", "survey": "测绘", "contract": "合同"}
OWNER_SHARES = ["单独所有", "共同共有", "按份共有"]
# The functional departments a district usually names (002: 联合执法; issue 16): suggestions for
# the register's form, the district keeps its own list.
DEPARTMENT_KINDS = ["城管执法", "住房建设", "消防救援", "市场监管", "公安", "生态环境", "应急管理", "其他"]


class Street(TenantScoped, db.Model):
    """街道/镇."""

    __tablename__ = "street"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(20), default="")
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    communities: Mapped[list["Community"]] = relationship(back_populates="street")


class Community(TenantScoped, db.Model):
    """社区."""

    __tablename__ = "community"
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(20), default="")
    __table_args__ = (UniqueConstraint("tenant_id", "street_id", "name"),)

    street: Mapped[Street] = relationship(back_populates="communities")


class Grid(TenantScoped, db.Model):
    """网格."""

    __tablename__ = "grid"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    keeper: Mapped[str] = mapped_column(String(40), default="")
    keeper_phone: Mapped[str] = mapped_column(String(20), default="")

    community: Mapped[Community] = relationship()


class Department(TenantScoped, db.Model):
    """职能部门 of the district (城管, 住建, 消防, 市场监管 …): demands and meeting action items are
    dispatched to it, and its own accounts (role department_staff) accept and resolve them."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20), default="其他")
    contact: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class Compound(TenantScoped, db.Model):
    """小区."""

    __tablename__ = "compound"
    __audit_derived__ = {"household_count"}   # counted from the households, whose writes the log shows
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200), default="")
    compound_type: Mapped[str] = mapped_column(String(20))
    build_year: Mapped[int | None]
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    management_mode: Mapped[str] = mapped_column(String(20), index=True)
    wuguan_mode: Mapped[str | None] = mapped_column(String(10))
    # Its households, kept by database triggers on `household` (migration d3f8a6c2e5b1), never
    # written here: the landing page sums these instead of counting a district's households.
    household_count: Mapped[int] = mapped_column(server_default="0")
    # The district's compounds in name order, walked a page at a time (收缴率 by compound).
    __table_args__ = (UniqueConstraint("tenant_id", "community_id", "name"),
                      Index("ix_compound_tenant_id_name", "tenant_id", "name", "id"))

    community: Mapped[Community] = relationship()
    grid: Mapped[Grid | None] = relationship()


_DIGITS = re.compile(r"\d+")


def natural_key(text: str) -> str:
    """Text that sorts the way numbered names are read: 2号楼 < 10号楼, and rooms by unit, then
    floor, then room — 1单元101 < 1单元102 < 1单元201 < 1单元1001 < 2单元101. Every run of digits
    is padded to six, so plain text order in any database gives it."""
    return _DIGITS.sub(lambda d: d.group().zfill(6), text or "")


def _natural_key_of(source: str):
    """Column default: the key of `source`, for bulk inserts (the importer, the demo) that pass
    the text without its key. ORM writes set it through the model's validator."""
    return lambda context: natural_key(context.get_current_parameters().get(source, ""))


class Building(TenantScoped, db.Model):
    """楼栋."""

    __tablename__ = "building"
    __audit_derived__ = {"name_key"}   # follows name, which the log shows
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    # Long enough for a 40-character name of one-digit runs: 20 × 6 + 20.
    name_key: Mapped[str] = mapped_column(String(140), default=_natural_key_of("name"), server_default="")
    floors: Mapped[int | None]
    units: Mapped[int | None]
    has_lift: Mapped[bool] = mapped_column(default=False)
    __table_args__ = (UniqueConstraint("tenant_id", "compound_id", "name"),)

    compound: Mapped[Compound] = relationship()

    @validates("name")
    def _keep_name_key(self, _key, name):
        self.name_key = natural_key(name)
        return name


class HouseholdClass(TenantScoped, db.Model):
    """A district-configured household class (低保, 特困, 残疾, 优抚 …)."""

    __tablename__ = "household_class"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


def household_label(building_name: str, room: str) -> str:
    """How a household is named everywhere: building and room ("3号楼 1单元302"). A room alone
    repeats in every building of the compound."""
    return f"{building_name} {room}"


class Household(TenantScoped, db.Model):
    """户: one exclusive unit (专有部分) with its legal floor area."""

    __tablename__ = "household"
    __audit_derived__ = {"room_key"}   # follows room, which the log shows
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    room: Mapped[str] = mapped_column(String(20))
    # Long enough for a 20-character room of one-digit runs: 10 × 6 + 10.
    room_key: Mapped[str] = mapped_column(String(80), default=_natural_key_of("room"), server_default="")
    floor: Mapped[int | None]
    floor_area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    owner_name: Mapped[str] = mapped_column(String(60), default="")
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    # Resident verification code (public pages); unique within the district.
    household_code: Mapped[str] = mapped_column(String(16))
    # Still the developer's (unsold or sold but undelivered): all such units of a compound are
    # one owner for headcount (解释 第九条), whatever owner names they carry.
    developer_held: Mapped[bool] = mapped_column(default=False, server_default=false())
    area_source: Mapped[str] = mapped_column(String(10), default="registry", server_default="registry")
    __table_args__ = (UniqueConstraint("tenant_id", "household_code"),
                      UniqueConstraint("tenant_id", "building_id", "room"),
                      # The register's order: a page of 20 reads 20 index entries, not a sort of the district.
                      Index("ix_household_list_order", "tenant_id", "compound_id", "building_id", "room_key"))

    compound: Mapped[Compound] = relationship()
    building: Mapped[Building] = relationship()
    class_links: Mapped[list["HouseholdClassLink"]] = relationship(
        back_populates="household", cascade="all, delete-orphan")
    ownerships: Mapped[list["Ownership"]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="Ownership.id")

    @validates("room")
    def _keep_room_key(self, _key, room):
        self.room_key = natural_key(room)
        return room

    @property
    def label(self) -> str:
        return household_label(self.building.name, self.room)

    @property
    def audit_label(self):
        # A row new in this flush has only building_id: its relationship does not load yet.
        building = self.building or (db.session.get(Building, self.building_id) if self.building_id else None)
        return household_label(building.name, self.room) if building else self.room


class Person(TenantScoped, db.Model):
    """An owner as a person (业主): identified by `identity_key`, never by the name — two owners
    called 王伟 are two persons. The key is "id:" + a keyed hash of the ID-card number when the
    register has it (the number itself is never stored, only masked), else a key the register
    gave (a migrated unit's owner is "hh:<household id>", one entered without a number "u:…")."""

    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    identity_key: Mapped[str] = mapped_column(String(80))
    id_masked: Mapped[str] = mapped_column(String(20), default="")
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    __table_args__ = (UniqueConstraint("tenant_id", "identity_key"),)

    ownerships: Mapped[list["Ownership"]] = relationship(back_populates="person")

    @property
    def audit_label(self):
        return f"{self.name}（{self.id_masked}）" if self.id_masked else self.name


class Ownership(TenantScoped, db.Model):
    """A person owns a unit (alone or with co-owners) from a day until a day (None: still)."""

    __tablename__ = "ownership"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    share: Mapped[str] = mapped_column(String(10), default="单独所有")
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    # A unit's owners by (unit, district): every query carries the district's filter, and an index
    # on the unit alone loses to the district's own in SQLite's planner (a scan per unit).
    __table_args__ = (Index("ix_ownership_unit", "household_id", "tenant_id"),)

    household: Mapped[Household] = relationship(back_populates="ownerships")
    person: Mapped[Person] = relationship(back_populates="ownerships")

    @property
    def audit_label(self):
        person = self.person or (db.session.get(Person, self.person_id) if self.person_id else None)
        return person.name if person else ""


class HouseholdClassLink(TenantScoped, db.Model):
    """A household belongs to a class from a date on (fees apply it from then)."""

    __tablename__ = "household_class_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    household_class_id: Mapped[int] = mapped_column(ForeignKey("household_class.id"), index=True)
    valid_from: Mapped[date]
    __table_args__ = (UniqueConstraint("household_id", "household_class_id"),)

    household: Mapped[Household] = relationship(back_populates="class_links")
    household_class: Mapped[HouseholdClass] = relationship()


class Firm(TenantScoped, db.Model):
    """物业服务企业."""

    __tablename__ = "firm"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18))
    qualification: Mapped[str] = mapped_column(String(20), default="无资质等级")
    legal_rep: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    party_status: Mapped[str] = mapped_column(String(20), index=True)
    party_members: Mapped[int] = mapped_column(default=0)
    staff_count: Mapped[int] = mapped_column(default=0)
    __table_args__ = (UniqueConstraint("tenant_id", "credit_code"),)


class Contract(TenantScoped, db.Model):
    """物业服务合同 between a firm and a compound."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    service_grade: Mapped[str] = mapped_column(String(10))
    fee_mode: Mapped[str] = mapped_column(String(10))
    # 元/㎡·月, a rate (Decimal), not an amount of money.
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active", index=True)
    # Set when an exit moves end_date (ended early at the handover, or kept serving past its term
    # until the handover, 民法典 第950条): the end as signed, and why it moved.
    agreed_end_date: Mapped[date | None]
    end_reason: Mapped[str] = mapped_column(String(60), default="", server_default="")

    firm: Mapped[Firm] = relationship()
    compound: Mapped[Compound] = relationship()

    @classmethod
    def in_force(cls, start: date, end: date | None = None):
        """SQL: the contract serves on some day of [start, end] (one day when end is None).
        The one definition of "serving" every area uses."""
        return and_(cls.status == "active", cls.start_date <= (end or start), cls.end_date >= start)

    def serves(self, start: date, end: date | None = None) -> bool:
        return self.status == "active" and self.start_date <= (end or start) and self.end_date >= start

    @property
    def audit_label(self):
        return f"{self.start_date:%Y-%m-%d}～{self.end_date:%Y-%m-%d}"


class Committee(TenantScoped, db.Model):
    """业委会 or 物管会 of a compound."""

    __tablename__ = "committee"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    term_start: Mapped[date]
    term_end: Mapped[date]
    filing_status: Mapped[str] = mapped_column(String(10), default="未备案")
    filed_on: Mapped[date | None]

    compound: Mapped[Compound] = relationship()
    members: Mapped[list["CommitteeMember"]] = relationship(back_populates="committee")


class CommitteeMember(TenantScoped, db.Model):
    __tablename__ = "committee_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[str] = mapped_column(String(10), default="委员")
    is_party_member: Mapped[bool] = mapped_column(default=False)
    is_cross_appointed: Mapped[bool] = mapped_column(default=False)
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    # The member's own unit in the committee's compound (北京 第44条（八）: the committee publishes
    # its members' fee payments every half year, read from this unit's bills); None: not linked.
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)

    committee: Mapped[Committee] = relationship(back_populates="members")
    household: Mapped[Household | None] = relationship()


class PartyOrg(TenantScoped, db.Model):
    """党组织: 社区党委, 小区党支部, 楼栋党小组, 企业党支部, 联合党支部."""

    __tablename__ = "party_org"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_org.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    secretary: Mapped[str] = mapped_column(String(40), default="")
    member_count: Mapped[int] = mapped_column(default=0)

    parent: Mapped["PartyOrg | None"] = relationship(remote_side=[id])
    community: Mapped[Community | None] = relationship()
    compound: Mapped[Compound | None] = relationship()
    building: Mapped[Building | None] = relationship()
    firm: Mapped[Firm | None] = relationship()


class Instructor(TenantScoped, db.Model):
    """党建指导员 assigned to a firm."""

    __tablename__ = "instructor"
    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    assigned_on: Mapped[date]
    ended_on: Mapped[date | None]

    firm: Mapped[Firm] = relationship()


class CrossAppointment(TenantScoped, db.Model):
    """双向进入、交叉任职: a person of one side serving on the other."""

    __tablename__ = "cross_appointment"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_name: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(20))
    home_role: Mapped[str] = mapped_column(String(60), default="")
    appointed_role: Mapped[str] = mapped_column(String(60))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firm.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")

    community: Mapped[Community] = relationship()
    compound: Mapped[Compound | None] = relationship()
    firm: Mapped[Firm | None] = relationship()

    @property
    def audit_label(self):
        return self.person_name
