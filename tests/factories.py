"""A small but complete district for tests: two branches (street → community → compound →
building → household, firm → contract, committee, party orgs …) and one user per role,
scoped to branch 1. Returns plain ids so tests never hold ORM objects across requests."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from types import SimpleNamespace


from wuye_saas.audit import acting_as
from wuye_saas.auth.models import Membership, User, hash_password
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.org.validators import credit_code_check_char
from wuye_saas.tenancy import Tenant, tenant_scope

from .helpers import PASSWORD

ROLES = ["district_admin", "street_staff", "community_staff", "firm_manager", "committee_member", "assessor",
         "grid_worker", "department_staff"]
USER_SUFFIX = {"district_admin": "district", "street_staff": "street", "community_staff": "community",
               "firm_manager": "firm", "committee_member": "committee", "assessor": "assessor",
               "grid_worker": "grid", "department_staff": "department"}


def credit_code(n: int) -> str:
    body = f"91140400{n:09d}"
    return body + credit_code_check_char(body)


@cache
def _password_hash() -> str:
    # Every test user has the same password: hash once.
    return hash_password(PASSWORD)


def make_user(username: str, display: str) -> User:
    user = User(username=username, display_name=display)
    user.password_hash = _password_hash()
    db.session.add(user)
    return user


def build_district(slug: str, name: str) -> SimpleNamespace:
    tenant = Tenant(slug=slug, name=name, region="山西省长治市")
    db.session.add(tenant)
    db.session.flush()
    ns = SimpleNamespace(tenant_id=tenant.id, slug=slug, users={})
    seed = 1000 * tenant.id
    with tenant_scope(tenant.id), acting_as(None, "测试"):
        branches = []
        for i in (1, 2):
            street = m.Street(name=f"{name}第{i}街道", code=f"S{i}")
            community = m.Community(street=street, name=f"{name}第{i}社区")
            grid = m.Grid(community=community, name=f"第{i}网格", keeper="网格员")
            compound = m.Compound(community=community, grid=grid, name=f"{name}{i}号小区",
                                  compound_type="老旧小区", build_year=1990, area_m2=Decimal("12000.50"),
                                  management_mode="专业物业")
            building = m.Building(compound=compound, name=f"{i}号楼", floors=6, units=2)
            household = m.Household(compound=compound, building=building, room="101", floor=1,
                                    floor_area=Decimal("88.50"), owner_name="张三",
                                    household_code=f"{slug[:2].upper()}{i}CODE1")
            firm = m.Firm(name=f"{name}第{i}物业公司", credit_code=credit_code(seed + i),
                          party_status="单独建立党组织", party_members=5)
            contract = m.Contract(firm=firm, compound=compound, start_date=date(2024, 1, 1),
                                  end_date=date(2030, 12, 31), service_grade="二级", fee_mode="包干制",
                                  fee_rate=Decimal("0.85"))
            committee = m.Committee(compound=compound, kind="业委会", name=f"{name}{i}号小区业委会",
                                    term_start=date(2023, 1, 1), term_end=date(2028, 1, 1))
            member = m.CommitteeMember(committee=committee, name=f"委员{i}", is_party_member=True)
            party_org = m.PartyOrg(kind="小区党支部", name=f"{name}{i}号小区党支部", compound=compound,
                                   community=community)
            instructor = m.Instructor(firm=firm, name=f"指导员{i}", assigned_on=date(2024, 3, 1))
            cross = m.CrossAppointment(person_name=f"交叉{i}", direction="社区→业委会", appointed_role="委员",
                                       community=community, compound=compound, start_date=date(2024, 1, 1))
            department = m.Department(name=f"{name}第{i}职能部门", kind="城管执法")
            db.session.add_all([street, community, grid, compound, building, household, firm, contract,
                                committee, member, party_org, instructor, cross, department])
            branches.append(locals().copy())
        hclass = m.HouseholdClass(name="低保")
        db.session.add(hclass)
        db.session.flush()
        for i, br in enumerate(branches, start=1):
            for key in ("street", "community", "grid", "compound", "building", "household", "firm",
                        "contract", "committee", "member", "party_org", "instructor", "cross", "department"):
                setattr(ns, f"{key}{i}", br[key].id)
        ns.household_class = hclass.id
        b1 = branches[0]
        for role in ROLES:
            user = make_user(f"{slug}-{USER_SUFFIX[role]}", f"{name}{USER_SUFFIX[role]}")
            db.session.flush()
            scope = {"street_staff": {"street_id": b1["street"].id},
                     "community_staff": {"community_id": b1["community"].id},
                     "firm_manager": {"firm_id": b1["firm"].id},
                     "committee_member": {"compound_id": b1["compound"].id, "is_chair": True},
                     "grid_worker": {"grid_id": b1["grid"].id},
                     "department_staff": {"department_id": b1["department"].id}}.get(role, {})
            mem = Membership(user_id=user.id, role=role, **scope)
            db.session.add(mem)
            db.session.flush()
            ns.users[role] = user.username
        db.session.commit()
    return ns
