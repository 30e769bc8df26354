"""Exit and handover (退出与交接): the notice periods of 民法典 第946/947条 from dates, the outgoing
firm still serving until the handover is signed and the incoming contract not before it, the
refusal record after the deadline (once), 无物业小区清零 after a 兜底 takeover, scope and isolation."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from wuye_saas import policy
from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.auth.models import Membership
from wuye_saas.credit.defaults import seed_defaults
from wuye_saas.credit.models import CreditRecord
from wuye_saas.credit.sources import record_exit_refusal
from wuye_saas.demands.logic import dispatch_firms
from wuye_saas.exits import logic
from wuye_saas.exits.jobs import check_exit_deadlines
from wuye_saas.exits.models import ExitRule, FirmExit, HandoverItem
from wuye_saas.extensions import db
from wuye_saas.fees.models import Bill, BillingRun, FeePolicy, Payment
from wuye_saas.followups.models import FollowUp
from wuye_saas.indicators import snapshots
from wuye_saas.jobs import create_run, start
from wuye_saas.org import models as m
from wuye_saas.publicity import ledger
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import SHANGHAI, now, today
from wuye_saas.votes.models import OwnerVote

from .factories import make_user
from .helpers import login, post, wait_for_job
from .test_demands import setup_categories, staff_intake

BASE = "/d/alpha/exits"


def _in(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


# --- the legal periods ----------------------------------------------------------------------------

@pytest.mark.parametrize("notice, effective", [
    (date(2027, 1, 1), date(2027, 3, 2)),     # January + February of a common year
    (date(2026, 12, 31), date(2027, 3, 1)),   # from a month's (and year's) end
    (date(2027, 12, 31), date(2028, 2, 29)),  # into a leap day
    (date(2028, 1, 31), date(2028, 3, 31)),   # a leap February inside
    (date(2028, 2, 29), date(2028, 4, 29)),   # from the leap day
])
def test_dismissal_takes_effect_60_days_after_the_written_notice(notice, effective):
    for source in ("dismissal", "evaluation"):
        p = logic.periods(source, notice, date(2030, 12, 31))
        assert (p.notice_on, p.effective_on, p.late, p.latest_notice_on) == (notice, effective, False, None)


@pytest.mark.parametrize("end, latest", [
    (date(2027, 3, 31), date(2026, 12, 31)),  # back over a common February
    (date(2028, 3, 31), date(2028, 1, 1)),    # back over a leap February
    (date(2028, 5, 31), date(2028, 3, 2)),
    (date(2026, 12, 31), date(2026, 10, 2)),
])
def test_non_renewal_needs_90_days_notice_before_the_end(end, latest):
    on_time = logic.periods("expiry", latest, end)
    assert (on_time.effective_on, on_time.latest_notice_on, on_time.late) == (end, latest, False)
    late = logic.periods("expiry", latest + timedelta(days=1), end)
    assert (late.effective_on, late.late) == (end, True)
    # Notice after the end (the firm stayed on: no fixed term, 第948条): 60 days from the notice.
    after = logic.periods("expiry", end + timedelta(days=10), end)
    assert (after.effective_on, after.late) == (end + timedelta(days=70), True)


# --- setting up ------------------------------------------------------------------------------------

def _vote(app, a, compound, closes_on, matter="hire_firm", passed=True, status="closed") -> int:
    def go():
        v = OwnerVote(compound_id=compound, matter=matter, title="解聘现物业服务企业", status=status,
                      opens_on=closes_on - timedelta(days=20), closes_on=closes_on, passed=passed,
                      total_area_centi=100, total_heads=1, result={"lines": []})
        db.session.add(v)
        db.session.flush()
        return v.id
    return _in(app, a, go)


def _firm_user(app, a, firm_id, username) -> str:
    def go():
        user = make_user(username, "接管企业经理")
        db.session.flush()
        db.session.add(Membership(user_id=user.id, role="firm_manager", firm_id=firm_id))
    _in(app, a, go)
    return username


def _exit(app, a, contract_id=None) -> SimpleNamespace:
    """The exit of the contract as plain values (no ORM object outlives its session)."""
    def go():
        x = db.session.execute(select(FirmExit).where(FirmExit.contract_id == (contract_id or a.contract1))).scalar_one()
        return SimpleNamespace(**{c.key: getattr(x, c.key) for c in FirmExit.__table__.columns})
    return _in(app, a, go)


def _contract(app, a, cid):
    return _in(app, a, lambda: (lambda c: (c.status, c.start_date, c.end_date, c.agreed_end_date, c.end_reason))(
        db.session.get(m.Contract, cid)))


def _membership(username):
    return db.session.execute(select(Membership).join(Membership.user).where(
        Membership.user.property.mapper.class_.username == username)).scalar_one()


def _start_dismissal(app, client, a, notice):
    vote = _vote(app, a, a.compound1, notice - timedelta(days=1))
    login(client, "alpha-committee")
    resp = post(client, f"{BASE}/new", {"contract_id": str(a.contract1), "source": "dismissal",
                                       "vote_id": str(vote), "notice_on": notice.isoformat(), "reason": ""})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return _exit(app, a)


# --- the workflow ------------------------------------------------------------------------------------

def test_dismissal_needs_a_counted_passed_vote_and_writes_nothing_without(app, client, world):
    a = world["alpha"]
    d = today()
    login(client, "alpha-committee")
    page = client.get(f"{BASE}/new").get_data(as_text=True)
    assert "甲区1号小区 · 甲区第1物业公司" in page and "甲区2号小区" not in page   # its compound only
    resp = post(client, f"{BASE}/new", {"contract_id": str(a.contract1), "source": "dismissal", "vote_id": "",
                                       "notice_on": d.isoformat()})
    assert resp.status_code == 422
    assert "解聘须以本小区已计票通过的“选聘和解聘物业服务企业”表决为依据" in resp.get_data(as_text=True)
    failed = _vote(app, a, a.compound1, d - timedelta(days=1), passed=False)
    other = _vote(app, a, a.compound1, d - timedelta(days=1), matter="use_fund")
    for vote in (failed, other):   # not offered, and refused when posted anyway
        assert post(client, f"{BASE}/new", {"contract_id": str(a.contract1), "source": "dismissal",
                                           "vote_id": str(vote), "notice_on": d.isoformat()}).status_code == 422
    future = post(client, f"{BASE}/new", {"contract_id": str(a.contract1), "source": "expiry",
                                         "notice_on": (d + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "通知日期不能晚于今天" in future.get_data(as_text=True)
    assert _in(app, a, lambda: db.session.execute(select(func.count(FirmExit.id))).scalar_one()) == 0
    assert _contract(app, a, a.contract1)[2] == date(2030, 12, 31)


def test_outgoing_firm_serves_until_the_handover_is_signed_then_the_new_firm(app, client, world):
    a = world["alpha"]
    d = today()
    notice = d - timedelta(days=3)
    x = _start_dismissal(app, client, a, notice)
    assert (x.source, x.notice_on, x.effective_on, x.deadline_on) == (
        "dismissal", notice, notice + timedelta(days=60), notice + timedelta(days=60))
    page = client.get(f"{BASE}/{x.id}").get_data(as_text=True)
    assert "书面通知解聘（提前 60 日，第九百四十六条）" in page and "业主大会表决解聘" in page
    assert page.count('data-item=') == 7

    # The incoming firm: a draft contract entered here (firm 2), not in force before the handover.
    firm2_user = _firm_user(app, a, a.firm2, "alpha-incoming")
    resp = post(client, f"{BASE}/{x.id}/incoming", {"kind": "firm", "draft_id": "", "firm_id": str(a.firm2),
                                                   "end_date": "2031-12-31", "service_grade": "一级",
                                                   "fee_mode": "包干制", "fee_rate": "1.20"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    x = _exit(app, a)
    draft = x.incoming_contract_id
    assert _contract(app, a, draft)[0] == "draft"

    def serving():
        tomorrow = d + timedelta(days=1)
        firms = {c.firm_id for c in db.session.execute(select(m.Contract).where(
            m.Contract.compound_id == a.compound1, m.Contract.in_force(tomorrow))).scalars()}
        out = {"dispatch": [f.id for f in dispatch_firms(a.compound1)], "tomorrow": firms}
        for name in ("alpha-firm", firm2_user):
            mem = _membership(name)
            out[name] = db.session.execute(select(m.Compound.id).where(
                m.Compound.id == a.compound1, policy.visible(mem, m.Compound))).first() is not None
        return out

    assert _in(app, a, serving) == {"dispatch": [a.firm1], "tomorrow": {a.firm1},
                                    "alpha-firm": True, firm2_user: False}
    # A demand of the compound goes to the outgoing firm; the incoming firm's draft takes none.
    client.post("/logout")
    login(client, "alpha-community")
    demand = int(staff_intake(client, a, setup_categories(app, a)).headers["Location"].rsplit("/", 1)[1])
    refused = post(client, f"/d/alpha/demands/{demand}/dispatch", {"assignee_kind": "firm", "firm_id": a.firm2})
    assert refused.status_code == 422
    assert post(client, f"/d/alpha/demands/{demand}/dispatch",
                {"assignee_kind": "firm", "firm_id": a.firm1}).status_code == 302
    # The outgoing firm sees its exit; the incoming firm the exit it takes over (not the compound).
    client.post("/logout")
    login(client, "alpha-firm")
    assert client.get(f"{BASE}/{x.id}").status_code == 200
    client.post("/logout")
    login(client, firm2_user)
    page = client.get(f"{BASE}/{x.id}").get_data(as_text=True)
    assert "以接管企业身份签收" in page

    # Half the lines signed by the new firm, one disputed: the outgoing firm still serves.
    items = _in(app, a, lambda: {i.kind: i.id for i in db.session.execute(
        select(HandoverItem).where(HandoverItem.exit_id == x.id)).scalars()})
    for kind in ("documents", "common_parts", "service_rooms"):
        assert post(client, f"{BASE}/items/{items[kind]}/sign", {"note": "已清点"}).status_code == 302
    resp = post(client, f"{BASE}/items/{items['public_revenue']}/dispute", {"reason": ""})
    assert resp.status_code == 422 and "请填写争议理由" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/items/{items['public_revenue']}/dispute",
                {"reason": "缺少 2025 年停车收益凭证"}).status_code == 302
    assert _in(app, a, serving)["dispatch"] == [a.firm1]
    assert _contract(app, a, draft)[0] == "draft"

    # The money lines: the ledgers' balances, prepaid fees entered when the firm billed nothing here.
    _in(app, a, lambda: (ledger.add_entry(a.compound1, "public_revenue", d, "停车", 123456),
                         ledger.add_entry(a.compound1, "maintenance_fund", d, "首期", 5000000)))
    resp = post(client, f"{BASE}/items/{items['prepaid_fees']}/sign", {"note": ""})
    assert resp.status_code == 422 and "请填写移交的预收物业费金额" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/items/{items['prepaid_fees']}/sign", {"amount": "1234.50"}).status_code == 302
    for kind in ("public_revenue", "maintenance_fund"):
        assert post(client, f"{BASE}/items/{items[kind]}/sign", {"note": ""}).status_code == 302
    assert _in(app, a, serving)["dispatch"] == [a.firm1]
    resp = post(client, f"{BASE}/items/{items['open_demands']}/sign", {"note": "接收未办结诉求 1 件"})
    assert resp.status_code == 302

    rows = _in(app, a, lambda: {i.kind: (i.status, i.amount_fen, i.count, i.side) for i in db.session.execute(
        select(HandoverItem).where(HandoverItem.exit_id == x.id)).scalars()})
    assert rows["prepaid_fees"] == ("signed", 123450, None, "firm")
    assert rows["public_revenue"] == ("signed", 123456, None, "firm")
    assert rows["maintenance_fund"] == ("signed", 5000000, None, "firm")
    assert rows["open_demands"] == ("signed", None, 1, "firm")
    x = _exit(app, a)
    assert (x.status, x.handover_on) == ("done", d)
    assert _contract(app, a, a.contract1) == ("active", date(2024, 1, 1), d, date(2030, 12, 31),
                                              f"业主大会解聘，{d:%Y-%m-%d}完成交接")
    assert _contract(app, a, draft)[:3] == ("active", d, date(2031, 12, 31))
    assert _in(app, a, lambda: db.session.get(m.Compound, a.compound1).management_mode) == "专业物业"
    after = _in(app, a, serving)
    assert after["tomorrow"] == {a.firm2} and after[firm2_user] is True
    # Signed lines are not signed twice.
    resp = post(client, f"{BASE}/items/{items['documents']}/sign", {"note": "again"})
    assert resp.status_code == 422
    events = _in(app, a, lambda: db.session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.entity == "handover_item", AuditEvent.action == "update")).scalar_one())
    assert events >= 8


def test_prepaid_fees_come_from_the_outgoing_firms_bills_and_payments(app, world):
    a = world["alpha"]
    d = today()
    this_month = d.replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)

    def go():
        pol = FeePolicy(name="探针", valid_from=date(2024, 1, 1))
        run = BillingRun(month=this_month, scope_kind="firm", scope_id=a.firm1, scope_label="测试")
        db.session.add_all([pol, run])
        db.session.flush()
        pol.family_id = pol.id
        bills = []
        for month, paid in ((this_month, 9000), (next_month, 5000)):   # this month overpaid by 2000
            b = Bill(household_id=a.household1, compound_id=a.compound1, firm_id=a.firm1, policy_id=pol.id,
                     billing_run_id=run.id, month=month, area=Decimal("88.50"), rate=Decimal("0.85"),
                     base_fen=7000, gov_fen=0, firm_fen=0, resident_fen=7000)
            db.session.add(b)
            db.session.flush()
            db.session.add(Payment(bill_id=b.id, amount_fen=paid, method="现金", receipt_no=f"T{month:%m}",
                                   paid_on=d))
            bills.append(b)
        x = FirmExit(compound_id=a.compound1, firm_id=a.firm1, contract_id=a.contract1, source="expiry",
                     notice_on=d, effective_on=d, deadline_on=d)
        other = FirmExit(compound_id=a.compound1, firm_id=a.firm2, contract_id=a.contract1, source="expiry",
                         notice_on=d, effective_on=d, deadline_on=d)
        return logic.prepaid_fen(x, d), logic.prepaid_fen(other, d)

    assert _in(app, a, go) == (5000 + 2000, None)


def test_refusal_record_after_the_deadline_once_and_the_term_runs_on(app, world):
    a = world["alpha"]
    d = today()

    def start_expiry():
        seed_defaults()
        c = db.session.get(m.Contract, a.contract1)
        c.end_date = d + timedelta(days=10)
        db.session.flush()
        x = logic.start_exit(c, "", source="expiry", notice_on=d)
        return x.id, x.effective_on, x.deadline_on, x.notice_late

    xid, effective, deadline, late = _in(app, a, start_expiry)
    assert (effective, deadline, late) == (d + timedelta(days=10), d + timedelta(days=10), True)

    def run(day):
        at = datetime.combine(day, time(0, 30), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
        run_id = _in(app, a, lambda: (lambda r: (start(r), r.id)[1])(
            create_run(check_exit_deadlines, "测试", at.isoformat())))
        return wait_for_job(app, run_id)

    out = run(deadline)                      # the deadline day itself: not late yet
    assert out["status"] == "done" and out["result"]["recorded"] == 0
    late_day = deadline + timedelta(days=5)
    out = run(late_day)
    assert out["result"] == {"checked": 1, "recorded": 1, "day": late_day.isoformat()}
    assert run(late_day + timedelta(days=1))["result"]["recorded"] == 0

    def records():
        return [(r.firm_id, r.kind.code, r.occurred_on, r.points, r.serious, r.source, r.title)
                for r in db.session.execute(select(CreditRecord)).scalars()]

    assert _in(app, a, records) == [(a.firm1, "exit_refusal", deadline + timedelta(days=1), Decimal("-20.00"), True,
                                     "exit", "甲区1号小区合同终止后拒不退出")]
    # Calling the function again (another helper's caller) writes nothing new.
    _in(app, a, lambda: record_exit_refusal(a.firm1, a.compound1, late_day, f"exit:{xid}", "再次"))
    assert len(_in(app, a, records)) == 1
    # The firm still serves: its term runs on past the ticks while the handover is open.
    status, _start, end, agreed, reason = _contract(app, a, a.contract1)
    assert (status, end, agreed) == ("active", late_day + timedelta(days=2), d + timedelta(days=10))
    assert reason == logic.HOLDOVER_REASON
    follow = _in(app, a, lambda: [(f.kind, f.compound_id, f.firm_id) for f in db.session.execute(
        select(FollowUp)).scalars()])
    assert follow == [("exit", a.compound1, a.firm1)]


def test_district_grace_moves_the_deadline_and_can_turn_the_record_off(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    resp = post(client, f"{BASE}/settings", {"grace_days": "999"})
    assert resp.status_code == 422 and "宽限期应为 0 到 180 天之间的整数" in resp.get_data(as_text=True)
    assert post(client, f"{BASE}/settings", {"grace_days": "15"}).status_code == 302
    assert _in(app, a, lambda: (lambda r: (r.grace_days, r.record_refusal))(logic.rule())) == (15, False)
    d = today()
    x = _in(app, a, lambda: (lambda x: (x.effective_on, x.deadline_on))(logic.start_exit(
        db.session.get(m.Contract, a.contract2), "考核连续两次黑榜", "eval:9:2:exit", notice_on=d)))
    assert x == (d + timedelta(days=60), d + timedelta(days=75))
    # The same consequence again returns the same exit.
    again = _in(app, a, lambda: logic.start_exit(db.session.get(m.Contract, a.contract2), "考核连续两次黑榜",
                                                 "eval:9:2:exit").id)
    assert _in(app, a, lambda: db.session.execute(select(func.count(FirmExit.id))).scalar_one()) == 1
    assert again == _exit(app, a, a.contract2).id
    # Past the deadline with the record switched off: a follow-up, no record.
    assert _in(app, a, lambda: (seed_defaults(), logic.check_exit(_exit_obj(a.contract2), d + timedelta(days=80)))[1]) is False
    assert _in(app, a, lambda: db.session.execute(select(func.count(CreditRecord.id))).scalar_one()) == 0
    client.post("/logout")
    login(client, "alpha-community")
    assert client.get(f"{BASE}/settings").status_code == 403


def _exit_obj(contract_id):
    return db.session.execute(select(FirmExit).where(FirmExit.contract_id == contract_id)).scalar_one()


# --- 无物业小区清零 ------------------------------------------------------------------------------

def _no_service_shown(client) -> int:
    html = client.get("/d/alpha/").get_data(as_text=True)
    return int(re.search(r'<div class="stat-value text-danger">(\d+) <span class="fs-6 fw-normal">个</span></div>\s*'
                         r'<div class="stat-label">无物业小区', html).group(1))


def test_takeover_by_the_custodian_clears_an_unmanaged_compound(app, client, world):
    """A 无人管理 compound whose firm left when its contract lapsed (弃管) is a 无物业小区; the exit
    does not bring the gone firm back, and the community's 兜底 takeover clears it (国资托管)."""
    a = world["alpha"]
    d = today()

    def setup():
        seed_defaults()
        c = db.session.get(m.Contract, a.contract1)
        c.end_date = d - timedelta(days=30)
        db.session.get(m.Compound, a.compound1).management_mode = "无人管理"
        state = m.Firm(name="区国资物业公司", credit_code="91140400000000999X", party_status="单独建立党组织")
        db.session.add(state)
        db.session.flush()
        return state.id

    state_firm = _in(app, a, setup)

    def snap():
        snapshots.snapshot(a.tenant_id, d.replace(day=1), now())

    _in(app, a, snap)
    login(client, "alpha-district")
    assert _no_service_shown(client) == 1
    client.post("/logout")

    login(client, "alpha-community")
    resp = post(client, f"{BASE}/new", {"contract_id": str(a.contract1), "source": "expiry",
                                       "notice_on": d.isoformat(), "reason": "原企业已撤离"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    x = _exit(app, a)
    assert (x.outgoing_serving, x.effective_on) == (False, d + timedelta(days=60))
    assert _contract(app, a, a.contract1)[2] == d - timedelta(days=30)   # not revived
    assert post(client, f"{BASE}/{x.id}/incoming", {"kind": "state", "firm_id": str(state_firm),
                                                   "end_date": "2029-12-31", "service_grade": "三级",
                                                   "fee_mode": "包干制", "fee_rate": "0.50"}).status_code == 302
    _in(app, a, snap)
    client.post("/logout")
    login(client, "alpha-district")
    assert _no_service_shown(client) == 1      # a draft does not serve
    client.post("/logout")
    login(client, "alpha-community")
    items = _in(app, a, lambda: [i.id for i in db.session.execute(
        select(HandoverItem).where(HandoverItem.exit_id == x.id).order_by(HandoverItem.sort)).scalars()])
    for item in items:
        assert post(client, f"{BASE}/items/{item}/sign", {"note": "社区兜底接管", "amount": "0"}).status_code == 302
    x = _exit(app, a)
    assert x.status == "done"
    assert _contract(app, a, a.contract1)[2] == d - timedelta(days=30)
    assert _in(app, a, lambda: db.session.get(m.Compound, a.compound1).management_mode) == "国资托管"
    _in(app, a, snap)
    client.post("/logout")
    login(client, "alpha-district")
    assert _no_service_shown(client) == 0


# --- scope ------------------------------------------------------------------------------------------

def test_scope_out_of_scope_is_404_before_403(app, client, world):
    a, b = world["alpha"], world["beta"]
    d = today()
    xid = _in(app, a, lambda: logic.start_exit(db.session.get(m.Contract, a.contract2), "考核退出",
                                               "eval:1:2:exit", notice_on=d).id)
    item = _in(app, a, lambda: db.session.execute(select(HandoverItem.id).where(
        HandoverItem.exit_id == xid)).scalars().first())
    # Branch 1's community, committee and firm do not see branch 2's exit.
    for user in ("alpha-community", "alpha-committee", "alpha-firm", "alpha-assessor", "beta-district"):
        login(client, user)
        slug = "beta" if user.startswith("beta") else "alpha"
        assert client.get(f"/d/{slug}/exits/{xid}").status_code == 404, user
        assert post(client, f"/d/{slug}/exits/items/{item}/sign", {"note": "x"}).status_code == 404, user
        assert post(client, f"/d/{slug}/exits/{xid}/incoming", {"kind": "self"}).status_code == 404, user
        assert "甲区2号小区" not in client.get(f"/d/{slug}/exits/?tab=all").get_data(as_text=True)
        client.post("/logout")
    # The street (branch 1) neither; the district sees it and may name the incoming side, not sign.
    login(client, "alpha-district")
    assert client.get(f"{BASE}/{xid}").status_code == 200
    assert "甲区2号小区" in client.get(f"{BASE}/").get_data(as_text=True)
    assert post(client, f"{BASE}/items/{item}/sign", {"note": "x"}).status_code == 403
    assert post(client, f"{BASE}/{xid}/incoming", {"kind": "self"}).status_code == 302
    # The committee of another compound is not the incoming side: branch 2's items are not its own.
    client.post("/logout")
    assert b.tenant_id != a.tenant_id


def test_todo_cards_open_the_lists_they_count(app, client, world):
    """Community: exits in progress and overdue handovers; the outgoing firm its exits; the incoming
    firm the handovers it signs. Each card's link lists exactly what it counts."""
    from .test_dashboard_todo import cards, login as login_landing

    a = world["alpha"]
    d = today()

    def go():
        old = logic.start_exit(db.session.get(m.Contract, a.contract1), "考核退出", "eval:3:1:exit",
                               notice_on=d - timedelta(days=61))       # effective yesterday: overdue
        draft = m.Contract(firm_id=a.firm2, compound_id=a.compound1, start_date=d, end_date=date(2031, 1, 1),
                           service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1.00"), status="draft")
        db.session.add(draft)
        db.session.flush()
        logic.set_incoming(old, "firm", draft.id)
    _in(app, a, go)
    _firm_user(app, a, a.firm2, "alpha-taker")
    login_landing(client, "alpha-community")
    got = cards(client)
    assert (got["exits_open"].count, got["exits_overdue"].count) == (1, 1)
    assert "已过交接期限 1 个" in got["exits_overdue"].text
    for key in ("exits_open", "exits_overdue"):
        assert client.get(got[key].href).get_data(as_text=True).count("查看</a>") == 1
    login_landing(client, "alpha-firm")
    got = cards(client)
    assert got["exits_out"].count == 1 and "其中 1 个已过交接期限" in got["exits_out"].text
    assert "exits_in" not in got
    login_landing(client, "alpha-taker")
    got = cards(client)
    assert got["exits_in"].count == 1 and "exits_out" not in got
    page = client.get(got["exits_in"].href).get_data(as_text=True)
    assert page.count("查看</a>") == 1 and "甲区1号小区" in page


def test_the_contract_register_keeps_the_signed_term_visible(app, client, world):
    a = world["alpha"]
    d = today()

    def go():
        x = logic.start_exit(db.session.get(m.Contract, a.contract1), "考核退出", "eval:5:1:exit", notice_on=d)
        logic.set_incoming(x, "self")
        member = _membership("alpha-committee")
        for item in x.items:
            logic.sign(member, item, "业主自行管理，已接收", entered_fen=0)
        return x.status
    assert _in(app, a, go) == "done"
    assert _in(app, a, lambda: db.session.get(m.Compound, a.compound1).management_mode) == "自管"
    login(client, "alpha-district")
    page = client.get("/d/alpha/contracts/").get_data(as_text=True)
    assert f"已到期（原定至 2030-12-31；考核结果启动退出程序，{d:%Y-%m-%d}完成交接）" in page or \
        f"有效（原定至 2030-12-31；考核结果启动退出程序，{d:%Y-%m-%d}完成交接）" in page


def test_contracts_offered_for_an_exit(app, world):
    """Serving ones, and a lapsed one only where nobody serves the compound now (弃管)."""
    a = world["alpha"]
    d = today()

    def go():
        old = m.Contract(firm_id=a.firm2, compound_id=a.compound1, start_date=date(2020, 1, 1),
                         end_date=d - timedelta(days=30), service_grade="二级", fee_mode="包干制",
                         fee_rate=Decimal("1.00"))
        db.session.add(old)
        c2 = db.session.get(m.Contract, a.contract2)
        c2.end_date = d - timedelta(days=30)              # compound 2: nobody serves it now
        db.session.flush()
        district = _membership("alpha-district")
        return old.id, sorted(c.id for c in logic.exitable_contracts(district))
    old, offered = _in(app, a, go)
    assert offered == sorted([a.contract1, a.contract2]) and old not in offered


def test_an_evaluation_consequence_is_started_from_its_flag_once(app, client, world):
    """启动退出程序 on a published list: the flag waits on the exits page until the community
    starts it (the written notice is a person's act); once started it is not offered again, and
    another district's flag is 404."""
    from wuye_saas.credit.models import FirmFlag
    a, b = world["alpha"], world["beta"]
    with app.app_context():
        for ns in (a, b):
            with tenant_scope(ns.tenant_id):
                db.session.add(FirmFlag(firm_id=ns.firm1, compound_id=ns.compound1, kind="exit_procedure",
                                        valid_from=today() - timedelta(days=1), valid_until=today() + timedelta(days=364),
                                        list_kind="black", source_key="eval:9:a:1:black:exit_procedure",
                                        title="2026年度考核：第1物业公司（1号小区）列入黑榜，启动退出程序"))
                db.session.commit()
        with tenant_scope(a.tenant_id):
            flag_id = db.session.execute(select(FirmFlag.id)).scalar_one()
        with tenant_scope(b.tenant_id):
            beta_flag = db.session.execute(select(FirmFlag.id)).scalar_one()
    login(client, "alpha-community")
    page = client.get("/d/alpha/exits/").get_data(as_text=True)
    assert "考核结果要求启动退出程序（1）" in page and "列入黑榜，启动退出程序" in page
    assert post(client, f"/d/alpha/exits/from-flag/{beta_flag}").status_code == 404
    resp = post(client, f"/d/alpha/exits/from-flag/{flag_id}")
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(a.tenant_id):
        x = db.session.execute(select(FirmExit)).scalar_one()
        assert (x.source, x.source_key, x.firm_id, x.compound_id) == (
            "evaluation", "eval:9:a:1:black:exit_procedure", a.firm1, a.compound1)
        assert x.effective_on == today() + timedelta(days=60)
    assert "考核结果要求启动退出程序" not in client.get("/d/alpha/exits/").get_data(as_text=True)
    post(client, f"/d/alpha/exits/from-flag/{flag_id}")
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.scalar(select(func.count()).select_from(FirmExit)) == 1
