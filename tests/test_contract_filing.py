"""合同备案: a firm files, the community, street and district review in turn (approve / return /
refile), deadlines by Shanghai working days, the guided price range, filing numbers, the lists by
scope with 优先续约, and who sees what."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from wuye_saas.audit import acting_as
from wuye_saas.contracts import filing
from wuye_saas.contracts.models import ContractFiling, FilingFile, FilingReview
from wuye_saas.extensions import db
from wuye_saas.fees.models import FeeAssignment, FeePolicy, FeePolicyGrade
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post

PDF = b"%PDF-1.4 signed contract"


def _in(app, ns, fn):
    """fn's result in the district; ORM objects it returns stay readable (loaded, not expired)."""
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        session = db.session()
        session.expire_on_commit = False
        try:
            out = fn()
            db.session.commit()
        finally:
            session.expire_on_commit = True
        return out


def setup_district(app, ns) -> int:
    """A 政府指导价 policy (二级 1.00 ± 20 % → 0.80–1.20) assigned to both compounds and to a new
    compound no firm serves (branch 1's community): its id."""
    def make():
        p = FeePolicy(name="指导价", status="active", valid_from=date(2020, 1, 1), price_regime="政府指导价")
        p.grades = [FeePolicyGrade(grade="一级", rate=Decimal("1.40"), float_percent=Decimal("15")),
                    FeePolicyGrade(grade="二级", rate=Decimal("1.00"), float_percent=Decimal("20"))]
        db.session.add(p)
        db.session.flush()
        p.family_id = p.id
        c = m.Compound(community_id=ns.community1, name="新建小区", compound_type="商品房", management_mode="专业物业")
        db.session.add(c)
        db.session.flush()
        for cid in (ns.compound1, ns.compound2, c.id):
            db.session.add(FeeAssignment(compound_id=cid, family_id=p.id, valid_from=date(2020, 1, 1)))
        return c.id
    return _in(app, ns, make)


def _form(compound_id=None, rate="1.05", start=None, end=None, files=True, kind="early"):
    start = start or today() + timedelta(days=1)
    data = {"kind": kind, "service_grade": "二级", "fee_mode": "包干制", "fee_rate": rate,
            "start_date": start.isoformat(), "end_date": (end or start + timedelta(days=3 * 365)).isoformat()}
    if compound_id is not None:
        data["compound_id"] = str(compound_id)
    if files:
        data["files"] = [(io.BytesIO(PDF), "合同扫描件.pdf")]
    return data


def _count(app, ns, model):
    return _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(model)).scalar_one())


def _file(client, ns, compound_id, **kw):
    login(client, ns.users["firm_manager"])
    resp = post(client, "/d/alpha/filings/new", _form(compound_id, **kw), content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _review(client, ns, role, fid, decision="approve", reason=""):
    client.get("/logout")
    login(client, ns.users[role])
    return post(client, f"/d/alpha/filings/{fid}/review", {"decision": decision, "reason": reason})


def test_price_outside_the_guided_range_is_refused_with_the_range_and_nothing_written(app, client, world):
    ns = world["alpha"]
    new = setup_district(app, ns)
    before = (_count(app, ns, ContractFiling), _count(app, ns, m.Contract), _count(app, ns, FilingFile))
    login(client, ns.users["firm_manager"])
    resp = post(client, "/d/alpha/filings/new", _form(new, rate="1.30"), content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "超出政府指导价范围 0.80–1.20 元/㎡·月" in html
    assert re.search(r'id="fee_rate"[^>]*is-invalid|is-invalid[^>]*id="fee_rate"', html)
    assert (_count(app, ns, ContractFiling), _count(app, ns, m.Contract), _count(app, ns, FilingFile)) == before
    # The range's ends are inside it; a non-PDF attachment is refused by its content.
    assert post(client, "/d/alpha/filings/new", _form(new, rate="0.80", files=False) | {
        "files": [(io.BytesIO(b"plain text"), "合同.pdf")]}, content_type="multipart/form-data").status_code == 422
    assert _count(app, ns, ContractFiling) == before[0]


def test_three_reviews_give_the_number_and_put_the_firms_contract_in_force(app, client, world):
    ns = world["alpha"]
    new = setup_district(app, ns)
    fid = _file(client, ns, new, rate="1.20")
    f = _in(app, ns, lambda: db.session.get(ContractFiling, fid))
    assert (f.status, f.activates) == ("community", True)
    assert _in(app, ns, lambda: db.session.get(m.Contract, f.contract_id).status) == "draft"

    # Not the street's turn yet: 403 (the record is in its scope).
    assert _review(client, ns, "street_staff", fid).status_code == 403
    assert _review(client, ns, "community_staff", fid).status_code == 302
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).status) == "street"
    assert _review(client, ns, "street_staff", fid).status_code == 302
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).status) == "district"
    assert _review(client, ns, "district_admin", fid).status_code == 302

    year = today().year
    f = _in(app, ns, lambda: db.session.get(ContractFiling, fid))
    assert (f.status, f.number, f.number_seq, f.filed_on) == ("filed", f"甲物备〔{year}〕0001号", 1, today())
    c = _in(app, ns, lambda: db.session.get(m.Contract, f.contract_id))
    assert (c.status, c.fee_rate, c.firm_id) == ("active", Decimal("1.2000"), ns.firm1)
    assert [r.level for r in _in(app, ns, lambda: list(db.session.get(ContractFiling, fid).reviews))] == \
        ["community", "street", "district"]

    # The record on the filing, the contract and the firm register pages.
    page = client.get(f"/d/alpha/filings/{fid}").get_data(as_text=True)
    assert f"甲物备〔{year}〕0001号" in page and "甲区district" in page and "甲区firm" in page
    assert f"甲物备〔{year}〕0001号" in client.get(f"/d/alpha/contracts/{c.id}").get_data(as_text=True)
    assert f"甲物备〔{year}〕0001号" in client.get(f"/d/alpha/firms/{ns.firm1}").get_data(as_text=True)

    # The next filing of the district is 0002 (the firm's register contract of compound1).
    client.get("/logout")
    login(client, ns.users["firm_manager"])
    resp = post(client, f"/d/alpha/filings/contract/{ns.contract1}",
                _form(start=date(2024, 1, 1), end=date(2030, 12, 31), rate="0.85", kind="elected"),
                content_type="multipart/form-data")
    assert resp.status_code == 302
    fid2 = int(resp.headers["Location"].rsplit("/", 1)[1])
    for role in ("community_staff", "street_staff", "district_admin"):
        assert _review(client, ns, role, fid2).status_code == 302
    f2 = _in(app, ns, lambda: db.session.get(ContractFiling, fid2))
    assert (f2.number, f2.activates) == (f"甲物备〔{year}〕0002号", False)


def test_return_needs_a_reason_and_the_corrected_filing_starts_again_at_the_community(app, client, world):
    ns = world["alpha"]
    new = setup_district(app, ns)
    fid = _file(client, ns, new)
    assert _review(client, ns, "community_staff", fid).status_code == 302
    resp = _review(client, ns, "street_staff", fid, "return")
    assert resp.status_code == 422 and "退回时必须填写理由" in resp.get_data(as_text=True)
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).status) == "street"
    assert _review(client, ns, "street_staff", fid, "return", "合同未加盖业主大会印章").status_code == 302
    f = _in(app, ns, lambda: db.session.get(ContractFiling, fid))
    assert (f.status, f.due_on) == ("returned", None)

    client.get("/logout")
    login(client, ns.users["firm_manager"])
    assert "合同未加盖业主大会印章" in client.get(f"/d/alpha/filings/{fid}/refile").get_data(as_text=True)
    # A refile outside the range is refused too, and nothing changes.
    resp = post(client, f"/d/alpha/filings/{fid}/refile", _form(rate="0.70", files=False),
                content_type="multipart/form-data")
    assert resp.status_code == 422 and "0.80–1.20" in resp.get_data(as_text=True)
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).status) == "returned"
    resp = post(client, f"/d/alpha/filings/{fid}/refile", _form(rate="0.95", files=False),
                content_type="multipart/form-data")
    assert resp.status_code == 302
    f = _in(app, ns, lambda: db.session.get(ContractFiling, fid))
    assert (f.status, f.fee_rate) == ("community", Decimal("0.9500"))
    assert _in(app, ns, lambda: db.session.get(m.Contract, f.contract_id).fee_rate) == Decimal("0.9500")
    for role in ("community_staff", "street_staff", "district_admin"):
        assert _review(client, ns, role, fid).status_code == 302
    reviews = _in(app, ns, lambda: [(r.level, r.approve) for r in db.session.get(ContractFiling, fid).reviews])
    assert reviews == [("community", True), ("street", False), ("community", True), ("street", True),
                       ("district", True)]


def test_due_days_follow_shanghai_working_days():
    # 2026-03-06 is a Friday. 15:30 UTC is 23:30 in Shanghai (Friday); 16:30 UTC is Saturday 00:30.
    assert filing.due_day(datetime(2026, 3, 6, 15, 30), 0) == date(2026, 3, 6)
    assert filing.due_day(datetime(2026, 3, 6, 16, 30), 0) == date(2026, 3, 9)     # → Monday
    assert filing.due_day(datetime(2026, 3, 5, 1, 0), 1) == date(2026, 3, 6)       # Thursday + 1
    assert filing.due_day(datetime(2026, 3, 6, 1, 0), 2) == date(2026, 3, 10)      # Friday + 2 → Tuesday
    f = ContractFiling(status="community", due_on=date(2026, 3, 6))
    assert not filing.overdue(f, date(2026, 3, 6))       # the same working day: still in time
    assert filing.overdue(f, date(2026, 3, 7))           # from the next day on: missed
    f.status = "filed"
    assert not filing.overdue(f, date(2026, 3, 7))


def test_a_missed_deadline_is_flagged_on_the_list_the_todo_card_and_the_late_review(app, client, world, monkeypatch):
    ns = world["alpha"]
    new = setup_district(app, ns)
    # Filed at Friday 2026-03-06 10:00 Shanghai: the community's step is due that day.
    monkeypatch.setattr(filing, "now", lambda: datetime(2026, 3, 6, 2, 0))
    monkeypatch.setattr(filing, "today", lambda: date(2026, 3, 6))
    fid = _file(client, ns, new, start=date(2026, 4, 1))
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).due_on) == date(2026, 3, 6)

    from wuye_saas.contracts import views
    from wuye_saas.dashboard import todo
    for day, late in ((date(2026, 3, 6), False), (date(2026, 3, 7), True)):
        monkeypatch.setattr(views, "today", lambda day=day: day)
        client.get("/logout")
        login(client, ns.users["community_staff"])
        html = client.get("/d/alpha/filings/?tab=review&late=1").get_data(as_text=True)
        assert ("新建小区" in html) is late
        with app.test_request_context(), tenant_scope(ns.tenant_id):
            from wuye_saas.auth.models import Membership, User
            user = db.session.execute(select(User).filter_by(username=ns.users["community_staff"])).scalar_one()
            mem = db.session.execute(select(Membership).filter_by(user_id=user.id)).scalar_one()
            card = next(c for c in todo.cards(mem, datetime(2026, 3, 7), day) if c.key == "filings_review")
            assert (card.count, card.danger) == (1, late)
    # Decided on Monday: the step passes and its review is marked late.
    monkeypatch.setattr(filing, "now", lambda: datetime(2026, 3, 9, 2, 0))
    monkeypatch.setattr(filing, "today", lambda: date(2026, 3, 9))
    assert _review(client, ns, "community_staff", fid).status_code == 302
    r = _in(app, ns, lambda: db.session.execute(select(FilingReview)).scalar_one())
    assert (r.late, r.due_on) == (True, date(2026, 3, 6))
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).due_on) == date(2026, 3, 9)


def test_filing_numbers_are_sequential_and_unique_per_district_and_year(app, world):
    ns = world["alpha"]
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert filing._next_number("甲物备", 2026) == (1, "甲物备〔2026〕0001号")
    def filed(seq, year):
        f = ContractFiling(contract_id=ns.contract1, firm_id=ns.firm1, compound_id=ns.compound1, kind="early",
                           service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1"), start_date=date(2026, 1, 1),
                           end_date=date(2027, 1, 1), status="filed", number_year=year, number_seq=seq,
                           number=f"甲物备〔{year}〕{seq:04d}号")
        db.session.add(f)
    _in(app, ns, lambda: [filed(1, 2025), filed(2, 2025), filed(1, 2026)])
    with app.app_context(), tenant_scope(ns.tenant_id):
        assert filing._next_number("甲物备", 2026) == (2, "甲物备〔2026〕0002号")
        assert filing._next_number("甲物备", 2025) == (3, "甲物备〔2025〕0003号")
    # Another district counts its own.
    with app.app_context(), tenant_scope(world["beta"].tenant_id):
        assert filing._next_number("乙物备", 2026) == (1, "乙物备〔2026〕0001号")
    with pytest.raises(Exception):
        _in(app, ns, lambda: filed(1, 2026))


def test_a_firm_cannot_file_for_another_districts_compound_or_one_another_firm_serves(app, client, world):
    ns, other = world["alpha"], world["beta"]
    setup_district(app, ns)
    login(client, ns.users["firm_manager"])
    for cid in (other.compound1, ns.compound2):
        resp = post(client, "/d/alpha/filings/new", _form(cid), content_type="multipart/form-data")
        assert resp.status_code == 404
    assert _count(app, ns, ContractFiling) == 0
    # Another firm's contract, and the district's own attempt to file.
    assert client.get(f"/d/alpha/filings/contract/{ns.contract2}").status_code == 404
    client.get("/logout")
    login(client, ns.users["district_admin"])
    assert client.get("/d/alpha/filings/new").status_code == 403


def test_scope_of_filings_and_the_committee_sees_only_the_filed_one(app, client, world):
    ns = world["alpha"]
    setup_district(app, ns)
    client.get("/logout")
    login(client, ns.users["firm_manager"])
    resp = post(client, f"/d/alpha/filings/contract/{ns.contract1}",
                _form(start=date(2024, 1, 1), end=date(2030, 12, 31), rate="0.85"), content_type="multipart/form-data")
    fid = int(resp.headers["Location"].rsplit("/", 1)[1])
    client.get("/logout")
    login(client, ns.users["committee_member"])
    assert client.get(f"/d/alpha/filings/{fid}").status_code == 404
    assert client.get("/d/alpha/filings/?tab=unfiled").status_code == 403
    for role in ("community_staff", "street_staff", "district_admin"):
        _review(client, ns, role, fid)
    client.get("/logout")
    login(client, ns.users["committee_member"])
    page = client.get(f"/d/alpha/filings/{fid}")
    assert page.status_code == 200 and "已备案" in page.get_data(as_text=True)
    # Out of scope: beta's users never see it; a community of another branch neither.
    client.get("/logout")
    login(client, world["beta"].users["district_admin"])
    assert client.get(f"/d/alpha/filings/{fid}").status_code == 404
    def other_branch():
        from wuye_saas.auth.models import Membership
        mem = db.session.execute(select(Membership).join(Membership.user).where(
            Membership.role == "community_staff")).scalar_one()
        mem.community_id = ns.community2
    _in(app, ns, other_branch)
    client.get("/logout")
    login(client, ns.users["community_staff"])
    assert client.get(f"/d/alpha/filings/{fid}").status_code == 404
    assert post(client, f"/d/alpha/filings/{fid}/review", {"decision": "approve"}).status_code == 404


def _published_red(ns, firm_id, compound_id):
    from wuye_saas.evaluation.models import Assessment, Evaluation, Standard
    std = Standard(name="年度标准", status="active", unit="compound")
    db.session.add(std)
    db.session.flush()
    old = Evaluation(standard_id=std.id, kind="annual", name="2024年度", status="published",
                     period_start=date(2024, 1, 1), period_end=date(2024, 12, 31),
                     self_report_due=date(2025, 1, 10), review_due=date(2025, 1, 20))
    new = Evaluation(standard_id=std.id, kind="annual", name="2025年度", status="published",
                     period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                     self_report_due=date(2026, 1, 10), review_due=date(2026, 1, 20))
    db.session.add_all([old, new])
    db.session.flush()
    db.session.add_all([Assessment(evaluation_id=old.id, firm_id=ns.firm2, compound_id=ns.compound2, list_kind="red"),
                        Assessment(evaluation_id=new.id, firm_id=ns.firm2, compound_id=ns.compound2, list_kind="yellow"),
                        Assessment(evaluation_id=new.id, firm_id=firm_id, compound_id=compound_id, list_kind="red")])
    # What publishing the 红榜 writes under the default standard's consequences: 优先续约 for a year.
    from wuye_saas.credit.models import FirmFlag
    from wuye_saas.timeutil import today
    db.session.flush()
    db.session.add(FirmFlag(firm_id=firm_id, kind="priority_renewal", valid_from=today() - timedelta(days=30),
                            valid_until=today() + timedelta(days=335), evaluation_id=new.id, list_kind="red",
                            source_key=f"test:red:{firm_id}", title="优先续约"))


def test_lists_by_scope_expiring_with_priority_renewal_and_export(app, client, world):
    ns = world["alpha"]
    setup_district(app, ns)
    def ending_soon():
        for cid in (ns.contract1, ns.contract2):
            db.session.get(m.Contract, cid).end_date = today() + timedelta(days=60)
        _published_red(ns, ns.firm1, ns.compound1)
    _in(app, ns, ending_soon)

    login(client, ns.users["district_admin"])
    html = client.get("/d/alpha/filings/?tab=unfiled").get_data(as_text=True)
    assert "甲区1号小区" in html and "甲区2号小区" in html     # register rows in force count as 未备案
    html = client.get("/d/alpha/filings/?tab=expiring").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)
    row1 = next(r for r in rows if "甲区1号小区" in r)
    row2 = next(r for r in rows if "甲区2号小区" in r)
    assert "优先续约" in row1 and "优先续约" not in row2     # firm2's latest list is yellow
    assert "60 天" in row1

    wb = load_workbook(io.BytesIO(client.get("/d/alpha/filings/export.xlsx?tab=expiring").data))
    cells = [[c for c in row] for row in wb.active.iter_rows(values_only=True)]
    assert cells[0][-1] == "优先续约"
    by_compound = {r[2]: r for r in cells[1:-1]}
    assert by_compound["甲区1号小区"][-1] == "是（红榜）" and by_compound["甲区2号小区"][-1] is None

    client.get("/logout")
    login(client, ns.users["community_staff"])                  # branch 1 only
    html = client.get("/d/alpha/filings/?tab=expiring").get_data(as_text=True)
    assert "甲区1号小区" in html and "甲区2号小区" not in html
    client.get("/logout")
    login(client, ns.users["street_staff"])
    html = client.get("/d/alpha/filings/?tab=unfiled").get_data(as_text=True)
    assert "甲区1号小区" in html and "甲区2号小区" not in html

    # A filing in review leaves 未备案 and shows in 审核中 with who holds it.
    client.get("/logout")
    login(client, ns.users["firm_manager"])
    post(client, f"/d/alpha/filings/contract/{ns.contract1}",
         _form(start=date(2024, 1, 1), end=today() + timedelta(days=60), rate="0.85"), content_type="multipart/form-data")
    client.get("/logout")
    login(client, ns.users["district_admin"])
    assert "甲区1号小区" not in client.get("/d/alpha/filings/?tab=unfiled").get_data(as_text=True)
    html = client.get("/d/alpha/filings/?tab=review").get_data(as_text=True)
    assert "甲区1号小区" in html and "社区办理" in html


def test_the_demo_shows_filed_in_review_overdue_unfiled_and_priority_renewal(app, client):
    from .test_seed import SMALL, seed
    res = seed(app, "seed-demo", "--slug", "filing", "--password", "demo1234", *SMALL)
    assert res.exit_code == 0, res.output
    login(client, "filing-district", "demo1234")
    html = client.get("/d/filing/filings/?status=filed").get_data(as_text=True)
    assert re.search(r"潞物备〔\d{4}〕0001号", html)
    html = client.get("/d/filing/filings/?tab=review&late=1").get_data(as_text=True)
    assert html.count(">已逾期</span>") == 1 and "共 1 条" in html
    assert "社区办理" in client.get("/d/filing/filings/?tab=review").get_data(as_text=True)
    assert "合同期限" in client.get("/d/filing/filings/?tab=unfiled").get_data(as_text=True)
    assert "优先续约</span>" in client.get("/d/filing/filings/?tab=expiring").get_data(as_text=True)
    client.get("/logout")
    login(client, "filing-street", "demo1234")
    cards = client.get("/d/filing/").get_data(as_text=True)
    assert "待审核合同备案" in cards and "已超过审核时限" in cards


def test_the_district_cannot_approve_terms_that_no_longer_fit_and_nothing_is_numbered(app, client, world):
    ns = world["alpha"]
    new = setup_district(app, ns)
    fid = _file(client, ns, new, rate="1.15")
    assert _review(client, ns, "community_staff", fid).status_code == 302
    assert _review(client, ns, "street_staff", fid).status_code == 302
    def narrower():   # the district narrows 二级 to 1.00 ± 10 % while the filing is in review
        g = db.session.execute(select(FeePolicyGrade).where(FeePolicyGrade.grade == "二级")).scalar_one()
        g.float_percent = Decimal("10")
    _in(app, ns, narrower)
    resp = _review(client, ns, "district_admin", fid)
    assert resp.status_code == 422 and "超出政府指导价范围 0.90–1.10 元/㎡·月" in resp.get_data(as_text=True)
    f = _in(app, ns, lambda: db.session.get(ContractFiling, fid))
    assert (f.status, f.number) == ("district", None)
    assert _in(app, ns, lambda: db.session.get(m.Contract, f.contract_id).status) == "draft"
    assert _count(app, ns, FilingReview) == 2


def test_district_settings_set_the_deadlines_and_the_number_prefix(app, client, world, monkeypatch):
    ns = world["alpha"]
    new = setup_district(app, ns)
    login(client, ns.users["street_staff"])
    assert client.get("/d/alpha/filings/settings").status_code == 403
    client.get("/logout")
    login(client, ns.users["district_admin"])
    good = {"community_days": "1", "street_days": "0", "district_days": "2", "expiring_days": "60",
            "number_prefix": "潞物备"}
    for bad, message in (({"community_days": "31"}, "社区审核时限应为 0 到 30 个工作日之间的整数"),
                         ({"number_prefix": "很长的备案编号前缀超出十个字"}, "10")):
        resp = post(client, "/d/alpha/filings/settings", good | bad)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    from wuye_saas.contracts.models import FilingRule
    assert _count(app, ns, FilingRule) == 0
    assert post(client, "/d/alpha/filings/settings", good).status_code == 302
    # Filed on Friday 2026-03-06: one working day for the community → due Monday.
    monkeypatch.setattr(filing, "now", lambda: datetime(2026, 3, 6, 2, 0))
    fid = _file(client, ns, new, start=date(2026, 4, 1))
    f = _in(app, ns, lambda: db.session.get(ContractFiling, fid))
    assert f.due_on == date(2026, 3, 9)
    # The attachment: the firm and the reviewers open it; another district's user gets 404.
    file_id = _in(app, ns, lambda: db.session.execute(select(FilingFile.id)).scalar_one())
    assert client.get(f"/d/alpha/filings/files/{file_id}").data == PDF
    for role in ("community_staff", "street_staff", "district_admin"):
        assert _review(client, ns, role, fid).status_code == 302
    assert _in(app, ns, lambda: db.session.get(ContractFiling, fid).number).startswith("潞物备〔")
    client.get("/logout")
    login(client, world["beta"].users["district_admin"])
    assert client.get(f"/d/alpha/filings/files/{file_id}").status_code == 404
