"""The demo district (`flask --app wsgi seed-demo`) and `flask --app wsgi create-platform-admin`."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.auth.models import Membership, User
from wuye_saas.demands.models import Demand
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.org.resources import CODE_ALPHABET
from wuye_saas.org.validators import credit_code_problem
from wuye_saas.tenancy import system_scope, tenant_by_slug, tenant_scope
from wuye_saas.evaluation.models import AssessorAssignment, StandardItem
from wuye_saas.fees.models import Bill, Payment
from wuye_saas.publicity import chain, keys
from wuye_saas.publicity.models import Publication
from wuye_saas.timeutil import local, today

from .helpers import login

SMALL = ["--compounds", "12", "--households", "1000"]
ROLES = {"district": "district_admin", "street": "street_staff", "community": "community_staff",
         "firm": "firm_manager", "committee": "committee_member", "assessor": "assessor",
         "grid": "grid_worker", "department": "department_staff"}


def seed(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def row_counts(app) -> dict:
    """Rows of every table, across districts."""
    with app.app_context(), system_scope():
        return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in db.metadata.sorted_tables}


def _active(d):
    return (m.Contract.start_date <= d) & (m.Contract.end_date >= d)


def test_default_demo_district_is_realistic_and_usable(app):
    res = seed(app, "seed-demo")
    assert res.exit_code == 0, res.output
    assert "已创建演示区县“潞州区（演示）”" in res.output and "demo-firm" in res.output

    d = today()
    with app.app_context():
        tenant = tenant_by_slug("demo")
        assert (tenant.name, tenant.region) == ("潞州区（演示）", "山西省长治市")
        with tenant_scope(tenant.id):
            q = lambda stmt: db.session.execute(stmt).all()  # noqa: E731
            assert len(q(select(m.Street.id))) >= 6
            per_street = q(select(func.count(m.Community.id)).group_by(m.Community.street_id))
            assert all(3 <= n <= 5 for (n,) in per_street)

            # Management modes in 潞州's proportions (504 / 520 / 127 of 1151).
            modes = dict(q(select(m.Compound.management_mode, func.count()).group_by(m.Compound.management_mode)))
            n = sum(modes.values())
            assert n >= 150
            for mode, real in {"专业物业": 504, "自管": 520, "无人管理": 127}.items():
                assert abs(modes[mode] / n - real / 1151) < 0.03, (mode, modes)
            years = q(select(func.min(m.Compound.build_year), func.max(m.Compound.build_year)))[0]
            assert 1975 <= years[0] and years[1] <= 2022

            floors = q(select(func.min(m.Building.floors), func.max(m.Building.floors)))[0]
            assert 5 <= floors[0] and floors[1] <= 33
            per_compound = q(select(func.count(m.Building.id)).group_by(m.Building.compound_id))
            assert len(per_compound) == n and all(6 <= k <= 30 for (k,) in per_compound)
            assert q(select(func.count()).where(m.Building.floors >= 8, ~m.Building.has_lift)) == [(0,)]

            # Firms: valid 统一社会信用代码, party status in 合肥's proportions (284 / 53 of 621).
            firms = q(select(m.Firm.credit_code, m.Firm.party_status))
            assert len(firms) >= 20
            assert [c for c, _ in firms if credit_code_problem(c)] == []
            status = [s for _, s in firms]
            assert abs(status.count("单独建立党组织") / len(firms) - 284 / 621) < 0.05
            assert 1 <= status.count("联合党支部") <= 4 and status.count("无") >= 1
            instructed = q(select(m.Firm.id).where(m.Firm.party_status == "派驻党建指导员"))
            with_instructor = q(select(m.Instructor.firm_id).where(m.Instructor.ended_on.is_(None)))
            assert {i for (i,) in instructed} == {i for (i,) in with_instructor}

            # Households: ≥ 20,000, areas positive with 2 decimals, unique codes.
            rows = q(select(m.Household.floor_area, m.Household.household_code, m.Household.phone_masked))
            assert len(rows) >= 20_000
            areas = [Decimal(a) for a, _, _ in rows]
            assert all(Decimal("45") <= a <= Decimal("160") and a == a.quantize(Decimal("0.01")) for a in areas)
            codes = [c for _, c, _ in rows]
            assert len(set(codes)) == len(codes)
            assert all(len(c) == 8 and set(c) <= set(CODE_ALPHABET) for c in codes)
            assert all(re.fullmatch(r"1\d\d\*{4}\d{4}", p) for _, _, p in rows)
            classes = dict(q(select(m.HouseholdClass.name, func.count(m.HouseholdClassLink.id))
                             .join(m.HouseholdClassLink).group_by(m.HouseholdClass.name)))
            assert classes["低保"] == round(len(rows) * 0.03) and classes["特困"] == round(len(rows) * 0.01)
            assert classes["残疾"] > 0 and classes["优抚"] > 0

            # Every 专业物业 compound has a contract valid today; some older ones have expired.
            served = select(m.Contract.compound_id).where(_active(d))
            unserved = q(select(m.Compound.name).where(m.Compound.management_mode == "专业物业",
                                                       m.Compound.id.not_in(served)))
            assert unserved == []
            assert q(select(func.count()).where(m.Contract.end_date < d))[0][0] > 0
            bands = {"一级": ("1.20", "1.60"), "二级": ("0.80", "1.20"), "三级": ("0.50", "0.80")}
            contracts = q(select(m.Contract.service_grade, m.Contract.fee_mode, m.Contract.fee_rate))
            for grade, fee_mode, rate in contracts:
                lo, hi = bands[grade]
                assert Decimal(lo) <= Decimal(rate) <= Decimal(hi) and fee_mode in m.FEE_MODES
            assert sum(f == "包干制" for _, f, _ in contracts) > len(contracts) * 0.7

            # Committees: 5–9 members, most with a party-member majority.
            sizes = q(select(m.CommitteeMember.committee_id, func.count(), func.sum(
                m.CommitteeMember.is_party_member.cast(db.Integer))).group_by(m.CommitteeMember.committee_id))
            assert sizes and all(5 <= k <= 9 for _, k, _ in sizes)
            assert sum(1 for _, k, p in sizes if p * 2 > k) / len(sizes) > 0.7
            kinds = {k for (k,) in q(select(m.PartyOrg.kind).distinct())}
            assert kinds == set(m.PARTY_ORG_KINDS)

            # One summary audit event for the bulk inserts, with the real counts.
            ev = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "seed")).scalar_one()
            assert ev.tenant_id == tenant.id and ev.changes["households"] == len(rows)
            assert ev.changes["compounds"] == n

            # The demo accounts: one per role, all in one branch of the tree.
            mems = {u.username.split("-", 1)[1]: mem for mem, u in q(
                select(Membership, User).join(User, User.id == Membership.user_id))}
            assert {k: v.role for k, v in mems.items()} == ROLES
            street, community = mems["street"].street, mems["community"].community
            assert street.name == "英雄南路街道" and community.street_id == street.id
            firm_compounds = set(db.session.execute(select(m.Contract.compound_id).where(
                m.Contract.firm_id == mems["firm"].firm_id, _active(d))).scalars())
            comm_compounds = set(db.session.execute(select(m.Compound.id).where(
                m.Compound.community_id == community.id)).scalars())
            assert firm_compounds & comm_compounds and firm_compounds - comm_compounds
            # The grid worker walks the demo compound's grid; the department account is 区城管局's.
            assert mems["grid"].grid.community_id == community.id
            assert mems["grid"].grid_id == db.session.get(m.Compound, mems["committee"].compound_id).grid_id
            assert mems["department"].department.name == "区城管局"
            given = db.session.execute(select(Demand.status).where(
                Demand.department_id == mems["department"].department_id,
                Demand.compound_id == mems["committee"].compound_id)).scalars().all()
            assert {"dispatched", "accepted"} <= set(given)
            assert db.session.execute(select(func.count(Demand.id)).where(
                Demand.assignee_kind == "department", Demand.department_id.is_(None))).scalar() == 0
            chair = mems["committee"]
            assert chair.is_chair and chair.compound_id in comm_compounds
            assert db.session.execute(select(m.Committee.id).where(
                m.Committee.compound_id == chair.compound_id)).first() is not None
            labels = {k: f"潞州区（演示） · {mem.role_label} · {mem.scope_label}" for k, mem in mems.items()}
            other = sorted(comm_compounds - firm_compounds)[0]

            # An exit in handover in the demo community: the demo firm takes over by its draft
            # contract, half the checklist signed, one line disputed; the outgoing firm still serves.
            from wuye_saas.exits.models import FirmExit
            x = db.session.execute(select(FirmExit)).scalar_one()
            assert x.status == "open" and x.compound.community_id == community.id
            assert [i.status for i in x.items].count("signed") == 3 and "disputed" in [i.status for i in x.items]
            assert x.incoming_contract.firm_id == mems["firm"].firm_id and x.incoming_contract.status == "draft"
            assert x.contract.serves(d) and x.compound_id not in firm_compounds

        with system_scope():
            admin = db.session.execute(select(User).filter_by(username="platform-admin")).scalar_one()
            assert admin.is_platform_admin
            assert db.session.execute(select(Membership).filter_by(user_id=admin.id)).first() is None

    for suffix in ROLES:
        c = app.test_client()
        resp = login(c, f"demo-{suffix}", "demo1234")
        assert resp.headers["Location"] == "/d/demo/"
        page = c.get("/d/demo/")
        assert page.status_code == 200 and labels[suffix] in page.get_data(as_text=True)
    assert login(app.test_client(), "platform-admin", "demo1234").headers["Location"] == "/admin/"

    # The demo firm sees exactly the compounds it has a valid contract for.
    c = app.test_client()
    login(c, "demo-firm", "demo1234")
    html = c.get("/d/demo/compounds/").get_data(as_text=True)
    assert set(map(int, re.findall(r'/d/demo/compounds/(\d+)"', html))) == firm_compounds
    assert c.get(f"/d/demo/compounds/{other}").status_code == 404
    assert c.get(f"/d/demo/compounds/{min(firm_compounds)}").status_code == 200

    # The story's bills were issued on their month's first morning, before anyone paid them.
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        issued = db.session.execute(select(Bill.month, Bill.issued_at).distinct()).all()
        assert issued and all(local(at).date() == month for month, at in issued)
        early = db.session.execute(select(func.count()).select_from(Payment).join(Bill, Bill.id == Payment.bill_id)
                                   .where(Payment.paid_on < Bill.month)).scalar_one()
        assert early == 0

    # 无物业小区清零 under way: month by month fewer 无人管理 compounds without a contract, the
    # ones cleared served by the 兜底 firm from a date inside the snapshots' year.
    from wuye_saas.dashboard.board import NO_SERVICE
    from wuye_saas.indicators.models import CompoundMonth as CM
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        per_month = [n for _, n in db.session.execute(
            select(CM.month, func.count()).where(NO_SERVICE).group_by(CM.month).order_by(CM.month))]
        none = db.session.execute(select(func.count()).where(m.Compound.management_mode == "无人管理")).scalar_one()
    assert len(per_month) == 12 and per_month[0] == none
    assert per_month == sorted(per_month, reverse=True) and per_month[-1] == none - none * 3 // 10

    # The demo assessor has the standard's third-party item to score in both cycles.
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        assigned = db.session.execute(select(StandardItem.name).join(
            AssessorAssignment, AssessorAssignment.item_id == StandardItem.id)).scalars().all()
        assert assigned == ["绿化养护", "绿化养护"]
    c = app.test_client()
    login(c, "demo-assessor", "demo1234")
    page = c.get("/d/demo/evaluations/").get_data(as_text=True)
    assert "月抽查" in page and "还没有与您相关的考核" not in page

    # The compounds' committees scored their firms in the finished quarter, most of them with an
    # opinion; the demo committee has this month's sheet of its compound still to score.
    from wuye_saas.evaluation.models import Assessment, Evaluation, ItemScore
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        quarter = db.session.execute(
            select(ItemScore.review_points, ItemScore.review_reason, ItemScore.final_points)
            .join(StandardItem, StandardItem.id == ItemScore.item_id)
            .join(Assessment, Assessment.id == ItemScore.assessment_id)
            .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
            .where(Evaluation.kind == "quarterly", StandardItem.scorer == "committee")).all()
        scored = [r for r in quarter if r.review_points is not None]
        assert len(scored) > len(quarter) * 3 // 4 and all(r.review_reason for r in scored)
        assert len({r.review_points for r in scored}) > 1
        assert all(r.final_points == r.review_points for r in scored if r.final_points is not None)
    c = app.test_client()
    login(c, "demo-committee", "demo1234")
    assert "待业委会评价的考核项" in c.get("/d/demo/").get_data(as_text=True)
    # The finished quarter's 质量保证金: all three months released by the published 季测评, some
    # of it kept in the compounds' 公共收益 (the parts add up), and the demo firm sees its own.
    from wuye_saas.evaluation.cycles import suggest
    from wuye_saas.fees.models import HoldbackRelease as HR
    from wuye_saas.publicity.models import LedgerEntry
    quarter = suggest("quarterly", d)
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        rows = db.session.execute(select(HR.month, HR.firm_id, HR.withheld_fen, HR.released_fen, HR.kept_fen)).all()
        assert {mo for mo, *_ in rows} == {quarter["period_start"].replace(month=quarter["period_start"].month + i)
                                           for i in range(3)}
        assert all(w == r + k and w > 0 for _, _, w, r, k in rows)
        assert sum(r for *_, r, _ in rows) > 0 and sum(k for *_, k in rows) > 0
        assert db.session.execute(select(func.sum(LedgerEntry.amount_fen)).where(
            LedgerEntry.category == "质量保证金留存")).scalar() == sum(k for *_, k in rows)
        own = {f for _, f, *_ in rows if f == mems["firm"].firm_id}
    assert own
    c = app.test_client()
    login(c, "demo-firm", "demo1234")
    page = c.get("/d/demo/fees/holdback/").get_data(as_text=True)
    assert "质量保证金释放" in page and "还没有释放记录" not in page

    # 专项维修资金分户账: the demo compound's fund is kept per household, below 30 % of its first
    # deposit (the committee's to-do and the fund page warn), and its yearly statement publishes
    # every sub-account with masked names; the sub-accounts add up to the fund.
    from wuye_saas.publicity import fund, ledger, subaccounts
    from wuye_saas.publicity.models import Publication as Pub
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        cid = mems["committee"].compound_id
        st = fund.status(cid)
        assert st.first > 0 and st.low and subaccounts.pending(cid) == (0, 0)
        assert subaccounts.total(cid, d) == ledger.balance(cid, "maintenance_fund") == st.balance
        yearly = db.session.execute(select(Pub).where(Pub.compound_id == cid, Pub.kind == "ledger_statement",
                                                      Pub.title.contains("专项维修资金"))
                                    .order_by(Pub.seq.desc())).scalars().first()
        assert yearly is not None and yearly.content["subaccounts"]["rows"]
        assert all(r[1].endswith("*") or not r[1] for r in yearly.content["subaccounts"]["rows"])
        # One of each publication built from the data: 酬金制 final accounts and budgets, the
        # committee members' fee payments (billed units, masked names), the evaluation results.
        by_kind = dict(db.session.execute(select(Pub.kind, func.count()).group_by(Pub.kind)).all())
        assert by_kind.get("annual_account", 0) >= 1 and by_kind.get("annual_budget", 0) >= 1
        assert by_kind.get("evaluation_result", 0) >= 10
        fees = db.session.execute(select(Pub).where(Pub.compound_id == cid, Pub.kind == "committee_fees")).scalar_one()
        rows = fees.content["table"]["rows"]
        assert len(rows) >= 3 and all(r[1].endswith("*") for r in rows)
        assert all(r[3] and r[3] > 0 for r in rows) and {r[6] for r in rows} <= {"已缴清", "部分缴纳", "未缴"}
        account = db.session.execute(select(Pub).where(Pub.kind == "annual_account").limit(1)).scalar_one()
        f = account.content["figures"]
        assert f["carried_over"] == f["carried_in"] + f["income_total"] - f["spending_total"]
    c = app.test_client()
    login(c, "demo-committee", "demo1234")
    assert "维修资金不足首期交存额 30% 的小区" in c.get("/d/demo/").get_data(as_text=True)
    assert 'data-testid="fund-low"' in c.get(f"/d/demo/fund/{cid}").get_data(as_text=True)

    # The credit file's automatic sources: missed publications and escalated demands.
    from wuye_saas.credit.models import CreditRecord
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        assert {"publicity", "demands", "evaluation"} <= set(db.session.execute(
            select(CreditRecord.source).distinct()).scalars())
    # The demo community's 四项清单: all four lists filled, a need from a demand and one from the
    # joint meeting, 为民服务项目 with progress, one done and one overdue.
    from wuye_saas.fourlists.models import FourListItem as FL
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        items = db.session.execute(select(FL)).scalars().all()
        assert {i.kind for i in items} == {"need", "resource", "service", "duty"}
        assert any(i.demand_id for i in items) and any(i.agenda_item_id for i in items)
        assert sum(i.priority for i in items) >= 3 and any(i.state == "done" for i in items)
        assert any(i.overdue(d) for i in items)
    c = app.test_client()
    login(c, "demo-community", "demo1234")
    page = c.get("/d/demo/fourlists/").get_data(as_text=True)
    assert "地下车库照明和排水改造" in page and "逾期" in page

    # 党员志愿者: everyone a demand went to is registered; their demands are their tasks, the
    # resolved ones finished with points; the demo community has a team, claims and an exchange.
    from wuye_saas.volunteers.models import PointExchange, Volunteer, VolunteerTask
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        to_volunteers = db.session.scalar(select(func.count()).select_from(Demand).where(
            Demand.assignee_kind == "volunteer"))
        assert to_volunteers > 0 and db.session.scalar(select(func.count()).select_from(VolunteerTask).where(
            VolunteerTask.kind == "demand")) == to_volunteers
        assert db.session.scalar(select(func.count()).select_from(Volunteer).where(
            Volunteer.reported_on.is_not(None))) > 10
        assert db.session.scalar(select(func.sum(VolunteerTask.points)).where(VolunteerTask.state == "done")) > 0
        assert db.session.scalar(select(func.count()).select_from(PointExchange)) == 1
    page = c.get("/d/demo/volunteers/").get_data(as_text=True)
    assert "红色轻骑兵志愿服务队" in page and "李卫东" in page
    # The demo committee sees its compound's 楼栋长 and 党员中心户.
    cm = app.test_client()
    login(cm, "demo-committee", "demo1234")
    page = cm.get("/d/demo/volunteers/leaders/").get_data(as_text=True)
    assert "楼栋长" in page and "党员中心户" in page and "吴桂兰" in page

    # Meeting cadence adopted: the page flags communities that did not meet last month.
    page = c.get("/d/demo/meetings/cadence").get_data(as_text=True)
    assert "社区联席会议 · 每月" in page and "上一期未召开" in page

    # 002: the street passed the parking matter (from the community's meeting) on to the district's
    # joint meeting, which settled it and dispatched it to departments, the demo's department too.
    from wuye_saas.meetings.models import ActionItem, AgendaItem, Meeting
    with app.app_context(), tenant_scope(tenant_by_slug("demo").id):
        dm = db.session.execute(select(Meeting).where(Meeting.level == "district")).scalar_one()
        assert dm.street_id is None and dm.status == "published"
        item = db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == dm.id,
                                                           AgendaItem.escalated_from_id.is_not(None))).scalar_one()
        street_item = db.session.get(AgendaItem, item.escalated_from_id)
        community_item = db.session.get(AgendaItem, street_item.escalated_from_id)
        assert (item.level, street_item.level, community_item.level) == ("district", "street", "community")
        assert item.outcome == "settled" and street_item.outcome == community_item.outcome == "escalated"
        owners = db.session.execute(select(ActionItem.department_id).where(
            ActionItem.agenda_item_id == item.id)).scalars().all()
        assert len(owners) == 2 and all(owners)
    d = app.test_client()
    login(d, "demo-department", "demo1234")
    assert "联合街道综合执法队清理小区周边占道经营" in d.get("/d/demo/meetings/actions").get_data(as_text=True)
    e = app.test_client()
    login(e, "demo-district", "demo1234")
    assert 'data-testid="cadence-district-joint"' in e.get("/d/demo/meetings/cadence").get_data(as_text=True)

    # A second run says so and changes nothing.
    before = row_counts(app)
    again = seed(app, "seed-demo")
    assert again.exit_code == 0 and "演示区县“demo”已存在，未做任何修改。" in again.output
    assert row_counts(app) == before


def _snapshot(app, slug):
    with app.app_context():
        tid = tenant_by_slug(slug).id
        with tenant_scope(tid):
            return {
                "compounds": db.session.execute(select(
                    m.Compound.name, m.Compound.compound_type, m.Compound.management_mode,
                    m.Compound.build_year, m.Compound.address).order_by(m.Compound.id)).all(),
                "households": db.session.execute(select(
                    m.Household.room, m.Household.floor_area, m.Household.owner_name,
                    m.Household.household_code).order_by(m.Household.id)).all(),
                "firms": db.session.execute(select(m.Firm.name, m.Firm.credit_code).order_by(m.Firm.id)).all(),
                "contracts": db.session.execute(select(
                    m.Contract.start_date, m.Contract.end_date, m.Contract.fee_rate).order_by(m.Contract.id)).all(),
            }


def test_seed_is_deterministic_and_scales_down(app):
    for slug in ("d1", "d2"):
        res = seed(app, "seed-demo", "--slug", slug, "--name", f"演示{slug}", *SMALL)
        assert res.exit_code == 0, res.output
    one, two = _snapshot(app, "d1"), _snapshot(app, "d2")
    assert one == two
    # Two years of publications, each a signed v2 row whose (backdated) time is inside its hash.
    with app.app_context(), tenant_scope(tenant_by_slug("d1").id):
        pubs = db.session.execute(select(Publication)).scalars().all()
        assert len(pubs) > 20 and {(p.hash_version, len(p.signature or "")) for p in pubs} == {(2, 128)}
        assert (today() - local(min(p.published_at for p in pubs)).date()).days > 365
        (key,) = keys.trusted("d1").values()
        assert {p.key_id for p in pubs} == {key.key_id} and key.valid_from == min(p.published_at for p in pubs)
        assert all(chain.verify(c).intact for c in {p.compound_id for p in pubs})
    assert len(one["compounds"]) == 12 and len(one["households"]) >= 720
    # The platform admin is created by the first run only.
    with app.app_context(), system_scope():
        admins = db.session.execute(select(User.username).where(User.is_platform_admin)).scalars().all()
    assert admins == ["platform-admin"]


def test_seed_at_another_size_still_seeds_the_exit(app):
    """At 20 compounds the demo community's other contract began less than 40 days ago; the exit
    (its notice dated 40 days back) must pick a contract that had begun by then, not fail the seed."""
    from wuye_saas.exits.models import FirmExit
    res = seed(app, "seed-demo", "--slug", "d20", "--name", "演示20", "--compounds", "20",
               "--households", "5000", "--bill-months", "0")
    assert res.exit_code == 0, res.output
    with app.app_context(), tenant_scope(tenant_by_slug("d20").id):
        (x,) = db.session.execute(select(FirmExit)).scalars().all()
        assert x.contract.start_date <= x.notice_on


def test_seed_refuses_bad_input_and_writes_nothing(app):
    before = row_counts(app)
    cases = [(["--slug", "d3", "--password", "short1"], "密码至少 8 位。"),
             (["--slug", "d3", "--password", "onlyletters"], "密码需同时包含字母和数字。"),
             (["--slug", "bad slug"], "区县标识“bad slug”：标识为 2–40 位小写英文字母"),
             (["--slug", "admin"], "区县标识“admin”：“admin”是系统保留字"),
             (["--slug", "d3", "--compounds", "3"], "--compounds")]
    for args, message in cases:
        res = seed(app, "seed-demo", *args, *SMALL[2:])
        assert res.exit_code != 0 and message in res.output, res.output
    assert row_counts(app) == before

    # A taken account name stops the whole seed before anything is written.
    res = seed(app, "create-platform-admin", "d3-firm", "--password", "Secret-pass-1")
    assert res.exit_code == 0
    before = row_counts(app)
    res = seed(app, "seed-demo", "--slug", "d3", *SMALL)
    assert res.exit_code == 1 and "用户名“d3-firm”：该用户名已被使用，请换一个" in res.output
    assert row_counts(app) == before
    with app.app_context():
        assert tenant_by_slug("d3") is None


def test_create_platform_admin(app):
    res = seed(app, "create-platform-admin", "ops.admin", input="Secret-pass-1\nSecret-pass-1\n")
    assert res.exit_code == 0 and "已创建平台管理员“ops.admin”。" in res.output
    with app.app_context(), system_scope():
        user = db.session.execute(select(User).filter_by(username="ops.admin")).scalar_one()
        assert user.is_platform_admin and user.display_name == "平台管理员"
        assert db.session.execute(select(Membership).filter_by(user_id=user.id)).first() is None
    assert login(app.test_client(), "ops.admin", "Secret-pass-1").headers["Location"] == "/admin/"

    before = row_counts(app)
    for args, message in [(["OPS.admin", "--password", "Other-pass-2"], "用户名“OPS.admin”：该用户名已被使用，请换一个"),
                          (["someone", "--password", "12345678"], "密码需同时包含字母和数字。"),
                          (["x", "--password", "Secret-pass-1"], "用户名“x”：用户名为 3–60 位英文字母、数字或 - _ . 符号")]:
        res = seed(app, "create-platform-admin", *args)
        assert res.exit_code == 1 and message in res.output, res.output
    res = seed(app, "create-platform-admin", "ops2", input="Secret-pass-1\nSecret-pass-9\n")
    assert res.exit_code == 1 and "两次输入的密码不一致，未创建账号。" in res.output
    assert row_counts(app) == before

    # seed-demo keeps an existing platform-admin account as it is.
    seed(app, "create-platform-admin", "platform-admin", "--password", "Own-pass-77")
    res = seed(app, "seed-demo", "--slug", "d5", *SMALL)
    assert res.exit_code == 0 and "platform-admin" not in res.output
    with app.app_context(), system_scope():
        admin = db.session.execute(select(User).filter_by(username="platform-admin")).scalar_one()
        assert admin.check_password("Own-pass-77") and not admin.check_password("demo1234")


def test_demo_workflow_times_are_in_order_and_votes_can_be_seen(app):
    """No step of the demo happens before the one it follows, nor after now: a street
    confirmation never precedes the community review, a ballot falls inside its voting period,
    a compound's publications are dated in chain order."""
    from wuye_saas.demands.models import DemandEvent
    from wuye_saas.meetings.models import Meeting
    from wuye_saas.evaluation.models import Assessment, Evaluation, Evidence, ItemScore, Survey, SurveyResponse
    from wuye_saas.publicity import chain
    from wuye_saas.publicity.models import Publication
    from wuye_saas.timeutil import now
    from wuye_saas.votes.logic import NOTICE_DAYS
    from wuye_saas.votes.models import Ballot, OwnerVote

    assert seed(app, "seed-demo", "--slug", "order", *SMALL).exit_code == 0
    end = now()

    def in_order(*times):
        present = [t for t in times if t is not None]
        return present == sorted(present) and all(t <= end for t in present)

    with app.app_context(), tenant_scope(tenant_by_slug("order").id):
        rows = lambda stmt: db.session.execute(stmt).all()  # noqa: E731
        steps = rows(select(Evaluation.created_at, Assessment.submitted_at, Assessment.reviewed_at,
                            Assessment.confirmed_at, Assessment.finalized_at, Evaluation.results_at,
                            Evaluation.published_at).join(Evaluation, Evaluation.id == Assessment.evaluation_id))
        assert len(steps) >= 10 and sum(1 for s in steps if s[3]) >= 3
        assert [s for s in steps if not in_order(*s)] == []
        late_evidence = rows(select(Evidence.uploaded_at, Assessment.submitted_at)
                             .join(ItemScore, ItemScore.id == Evidence.item_score_id)
                             .join(Assessment, Assessment.id == ItemScore.assessment_id)
                             .where(Assessment.submitted_at.is_not(None)))
        assert late_evidence and [e for e in late_evidence if not in_order(*e)] == []

        demands = rows(select(Demand.received_at, Demand.dispatched_at, Demand.accepted_at, Demand.resolved_at,
                              Demand.closed_at))
        assert demands and [d for d in demands if not in_order(*d)] == []
        assert [e for e in rows(select(Demand.received_at, DemandEvent.at).join(Demand)) if not in_order(*e)] == []

        meetings = rows(select(Meeting.created_at, Meeting.scheduled_at, Meeting.held_at).where(
            Meeting.held_at.is_not(None)))
        assert meetings and [mt for mt in meetings if not in_order(*mt)] == []

        answered = rows(select(Survey.opens_on, SurveyResponse.created_at, Survey.closes_on, Evaluation.created_at)
                        .select_from(SurveyResponse).join(Survey, Survey.id == SurveyResponse.survey_id)
                        .join(Evaluation, Evaluation.id == Survey.evaluation_id))
        assert answered and [a for a in answered if not (a[0] <= local(a[1]).date() <= a[2] and a[3] < a[1] <= end)] == []

        for cid in db.session.execute(select(Publication.compound_id).distinct()).scalars():
            dated = db.session.execute(select(Publication.published_at).where(Publication.compound_id == cid)
                                       .order_by(Publication.seq)).scalars().all()
            assert in_order(*dated), cid

        # Votes: one counted (its result published), one open with ballots, each after its notice.
        votes = db.session.execute(select(OwnerVote).order_by(OwnerVote.id)).scalars().all()
        assert {v.status for v in votes} >= {"open", "closed"}
        for v in votes:
            assert in_order(v.created_at, v.filed_at)
            assert local(v.filed_at).date() <= v.publicized_on
            assert v.publicized_on + timedelta(days=NOTICE_DAYS) <= v.opens_on <= v.closes_on
            ballots = db.session.execute(select(Ballot.recorded_at).where(Ballot.vote_id == v.id)).scalars().all()
            # Voting has not opened on a vote still in its notice period (the 选聘 demo's): no ballots.
            assert (ballots or v.status == "publicized") and \
                all(v.opens_on <= local(b).date() <= v.closes_on and b <= end for b in ballots)
            kinds = dict(rows(select(Publication.kind, Publication.published_at).where(
                Publication.compound_id == v.compound_id, Publication.title.contains(v.title))))
            assert local(kinds["vote_notice"]).date() == v.publicized_on
            if v.status == "closed":
                assert v.passed is not None and v.result["lines"] and v.closes_on <= local(kinds["vote_result"]).date()
            assert chain.verify(v.compound_id).intact
