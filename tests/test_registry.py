"""The party-building and committee registry lists (wuye_saas/committees/registry.py), on a
hand-built small district with their edge cases: an expired term counts as no committee, a
committee replaced at 换届 is history, a firm with only an instructor is in the instructor-only
list and not in the "no organisation and no instructor" list."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from wuye_saas.audit import acting_as
from wuye_saas.auth.models import Membership, User
from wuye_saas.committees import registry
from wuye_saas.committees.models import CommitteeSupervision
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .factories import credit_code
from .helpers import login


def _committee(compound, name, start, end, party, others, cross=0):
    c = m.Committee(compound=compound, kind="业委会", name=name, term_start=start, term_end=end,
                    filing_status="已备案")
    for i in range(party + others):
        c.members.append(m.CommitteeMember(name=f"{name}委员{i}", position="主任" if i == 0 else "委员",
                                           is_party_member=i < party, is_cross_appointed=i < cross))
    db.session.add(c)
    return c


@pytest.fixture
def small(app, world):
    """Alpha plus: compounds with an expired, an expiring, a party-less and a renewed committee and
    none at all; firms with no organisation, only an instructor, an ended or future instructor, an
    organisation of their own; cross-appointments current and ended."""
    a, d = world["alpha"], today()
    ids = {}
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        comm1, comm2 = db.session.get(m.Community, a.community1), db.session.get(m.Community, a.community2)

        def compound(name, comm, mode="专业物业"):
            c = m.Compound(community=comm, name=name, compound_type="商品房", management_mode=mode,
                           area_m2=Decimal("20000"))
            db.session.add(c)
            return c
        c3, c4 = compound("过期小区", comm1), compound("无委员会小区", comm1, "无人管理")
        c5, c6 = compound("未过半小区", comm1), compound("无党员小区", comm1, "自管")
        c7, c8 = compound("换届后小区", comm1), compound("二社区无委员会", comm2)
        _committee(c3, "过期业委会", date(2019, 1, 1), d - timedelta(days=10), 0, 5)
        _committee(c5, "未过半业委会", d - timedelta(days=100), d + timedelta(days=60), 1, 2, cross=1)
        k6 = _committee(c6, "无党员业委会", d - timedelta(days=10), d + timedelta(days=1000), 0, 2)
        _committee(c7, "上届业委会", d - timedelta(days=2000), d - timedelta(days=5), 0, 3)
        _committee(c7, "新一届业委会", d - timedelta(days=4), d + timedelta(days=1800), 2, 1)

        def firm(n, status, members=0):
            f = m.Firm(name=f"测试物业{n}", credit_code=credit_code(90000 + n), party_status=status, party_members=members)
            db.session.add(f)
            return f
        f3, f4, f5 = firm(3, "无", 4), firm(4, "派驻党建指导员", 1), firm(5, "无")
        f6, f7, f8 = firm(6, "无", 3), firm(7, "无"), firm(8, "派驻党建指导员")
        db.session.add_all([
            m.Instructor(firm=f4, name="在岗指导员", assigned_on=d - timedelta(days=30)),
            m.Instructor(firm=f5, name="离任指导员", assigned_on=date(2022, 1, 1), ended_on=d - timedelta(days=200)),
            m.Instructor(firm=f7, name="未到岗指导员", assigned_on=d + timedelta(days=10)),
            m.PartyOrg(kind="企业党支部", name="测试物业6党支部", firm=f6),
            m.Contract(firm=f3, compound=c4, start_date=date(2024, 1, 1), end_date=date(2030, 12, 31),
                       service_grade="三级", fee_mode="包干制", fee_rate=Decimal("0.5")),
            m.Contract(firm=f4, compound=c8, start_date=date(2024, 1, 1), end_date=date(2030, 12, 31),
                       service_grade="三级", fee_mode="包干制", fee_rate=Decimal("0.5")),
            m.CrossAppointment(person_name="质量总监", direction="社区→物业企业", appointed_role="物业服务质量总监",
                               community=comm1, firm=f3, start_date=d - timedelta(days=100)),
            m.CrossAppointment(person_name="已卸任委员", direction="物业企业→社区", appointed_role="社区居委会兼职委员",
                               community=comm1, start_date=date(2023, 1, 1), end_date=d - timedelta(days=1)),
        ])
        db.session.flush()
        db.session.add(CommitteeSupervision(committee_id=k6.id, kind="acting", reason="长期不召开会议",
                                            started_on=d - timedelta(days=3)))
        db.session.commit()
        ids.update(c3=c3.id, c4=c4.id, c8=c8.id, f3=f3.id, f4=f4.id)
    return a, ids


def _membership(username):
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one()
    return db.session.execute(select(Membership).filter_by(user_id=user.id)).scalar_one()


def _rows(spec_key, mem, **args):
    return db.session.execute(registry.LISTS[spec_key].build(mem, today(), args)).all()


def test_counts_and_rows_for_the_district(app, small):
    a, ids = small
    d = today()
    with app.app_context(), tenant_scope(a.tenant_id):
        mem = _membership("alpha-district")
        # Current committees: the two of the world, expired, expiring, party-less, renewed (the
        # replaced one is history, not "expired").
        assert registry.committee_counts(mem, d) == {"total": 6, "in_term": 5, "expired": 1, "expiring": 1,
                                                     "not_working": 1}
        assert [r.committee for r in _rows("committees", mem, state="expired")] == ["过期业委会"]
        assert [r.committee for r in _rows("committees", mem, state="expiring")] == ["未过半业委会"]
        assert [(r.committee, r.supervision) for r in _rows("committees", mem, state="not_working")] == [
            ("无党员业委会", "acting")]
        assert "上届业委会" not in {r.committee for r in _rows("committees", mem)}
        # Party members on the committees in term: 5 committees, 10 members, 5 party members.
        assert registry.party_counts(mem, d) == {"total": 5, "over_half": 3, "under_half": 2, "none": 1,
                                                 "members": 10, "party": 5}
        under = {r.committee: (r.members, r.party, r.cross) for r in _rows("party", mem, flag="under_half")}
        assert under == {"未过半业委会": (3, 1, 1), "无党员业委会": (2, 0, 0)}
        assert [r.committee for r in _rows("no_party", mem)] == ["无党员业委会"]
        # Compounds without a committee in term: the expired one counts, the renewed one does not.
        assert registry.compound_counts(mem, d) == {"total": 8, "without": 3, "mode:专业物业": 2, "mode:自管": 0,
                                                    "mode:无人管理": 1, "mode:国资托管": 0}
        without = {r.compound: (r.management_mode, r.last_term_end) for r in _rows("compounds_without", mem)}
        assert without == {"过期小区": ("专业物业", d - timedelta(days=10)), "无委员会小区": ("无人管理", None),
                           "二社区无委员会": ("专业物业", None)}
        assert [r.compound for r in _rows("compounds_without", mem, mode="无人管理")] == ["无委员会小区"]
        # Firms: the instructor-only firm is in its own list and NOT in the "neither" list; an ended
        # or not yet started posting is no instructor; a status claiming one without a record neither.
        assert registry.firm_counts(mem, d) == {"total": 8, "with_org": 3, "instructor_only": 1, "neither": 4}
        assert [(r.firm, r.instructor) for r in _rows("firms_instructor_only", mem)] == [("测试物业4", "在岗指导员")]
        assert [r.firm for r in _rows("firms_without_org", mem)] == ["测试物业3", "测试物业5", "测试物业7", "测试物业8"]
        # Cross-appointments: current by default, filters by direction and state.
        assert registry.cross_counts(mem, d) == {"current": 3, "dir:社区→业委会": 2, "dir:社区→物业企业": 1,
                                                 "dir:业委会→社区": 0, "dir:物业企业→社区": 0}
        assert [r.person for r in _rows("cross", mem, direction="社区→物业企业")] == ["质量总监"]
        assert [r.person for r in _rows("cross", mem, state="ended")] == ["已卸任委员"]


def test_lists_follow_the_membership_scope(app, small):
    a, ids = small
    d = today()
    with app.app_context(), tenant_scope(a.tenant_id):
        mem = _membership("alpha-community")   # community 1 only
        assert registry.compound_counts(mem, d)["without"] == 2
        assert {r.compound for r in _rows("compounds_without", mem)} == {"过期小区", "无委员会小区"}
        # Its firms are those serving its compounds: firm 1 (org) and 测试物业3 (neither).
        assert registry.firm_counts(mem, d) == {"total": 2, "with_org": 1, "instructor_only": 0, "neither": 1}
        assert _rows("firms_instructor_only", mem) == []
        assert registry.cross_counts(mem, d)["current"] == 2


def test_pages_counts_export_and_access(app, client, small):
    a, ids = small
    login(client, "alpha-street")
    index = client.get("/d/alpha/registry/").get_data(as_text=True)
    assert "无党组织且无指导员的物业企业" in index and "仅派驻党建指导员的物业企业" in index
    page = client.get("/d/alpha/registry/compounds_without").get_data(as_text=True)
    assert "过期小区" in page and "无委员会小区" in page and "二社区无委员会" not in page  # another street
    assert "从未成立" in page
    page = client.get("/d/alpha/registry/committees?state=not_working").get_data(as_text=True)
    assert "无党员业委会" in page and "居委会代行职责" in page and "过期业委会" not in page
    page = client.get("/d/alpha/registry/party?flag=under_half").get_data(as_text=True)
    assert "33.3%" in page and "未过半" in page
    # Exported, the share is a number with a percent format, not the text "33.3%".
    ws = load_workbook(BytesIO(client.get("/d/alpha/registry/party/export.xlsx?flag=under_half").data)).active
    col = [c.value for c in ws[4]].index("党员占比") + 1
    share = {ws.cell(r, 1).value: ws.cell(r, col) for r in range(5, ws.max_row + 1)}
    assert share["未过半业委会"].value == 0.333 and share["未过半业委会"].number_format == "0.0%"
    assert share["无党员业委会"].value == 0.0 and share["无党员业委会"].data_type == "n"
    # Export: the same filtered rows, counts on top.
    resp = client.get("/d/alpha/registry/committees/export.xlsx?state=expiring")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "业委会任期台账" and "90天内届满 1" in rows[1][0]
    assert rows[3][:4] == ("业委会/物管会", "类型", "小区", "社区")
    assert [r[0] for r in rows[4:]] == ["未过半业委会"]
    assert rows[4][6] == 60 and rows[4][7] == "90天内届满"
    resp = client.get("/d/alpha/registry/firms_without_org/export.xlsx")
    assert resp.status_code == 200
    # Firms, committees and assessors do not get the district's lists; beta sees nothing of alpha.
    for who in ("alpha-firm", "alpha-committee", "alpha-assessor"):
        client.post("/logout")
        login(client, who)
        assert client.get("/d/alpha/registry/committees").status_code == 403
    client.post("/logout")
    login(client, "beta-district")
    assert client.get("/d/alpha/registry/committees").status_code == 404
    page = client.get("/d/beta/registry/compounds_without").get_data(as_text=True)
    assert "过期小区" not in page and "所有小区都有任期内的业委会" in page
