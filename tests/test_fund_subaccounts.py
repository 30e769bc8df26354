"""The maintenance fund by the rules: household sub-accounts (分户账) over deposits, a shared
repair, a repair of chosen buildings and interest, hand-computed to the 分; the district's
first-deposit standard (5–8 %); the 30 % warning at its exact boundary; 北京 第74条's transfer of
public revenue; the yearly publication with the sub-accounts; permissions."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.publicity import chain, fund, ledger, subaccounts
from wuye_saas.publicity.models import FundAllocation, FundRule, LedgerEntry, Publication
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post

KIND = "maintenance_fund"


def _households(app, world):
    """Compound 1: 1号楼 101 (88.50 ㎡, the world's), 1号楼 102 (61.50 ㎡), 2号楼 101 (100.00 ㎡)."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        b2 = m.Building(compound_id=a.compound1, name="2号楼")
        db.session.add(b2)
        db.session.flush()
        hb = m.Household(compound_id=a.compound1, building_id=a.building1, room="102", floor_area=Decimal("61.50"),
                         owner_name="李四", household_code="ALB102")
        hc = m.Household(compound_id=a.compound1, building_id=b2.id, room="101", floor_area=Decimal("100.00"),
                         owner_name="欧阳娜娜", household_code="ALC101")
        db.session.add_all([hb, hc])
        db.session.commit()
        return a.household1, hb.id, hc.id, b2.id


def _rule(client, **over):
    data = {"cost": "1234.56", "rate": "5.5", "revenue_percent": "50"}
    data.update(over)
    return post(client, "/d/alpha/fund/rule", data)


def _sub(app, world, start=date(2000, 1, 1), end=None):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        return {r.household_id: r for r in subaccounts.rows(a.compound1, start, end or today())}


def test_district_sets_the_first_deposit_standard_within_five_to_eight_percent(app, client, world):
    login(client, "alpha-district")
    for rate, ok in (("4.99", False), ("8.01", False), ("5", True), ("8", True)):
        resp = _rule(client, rate=rate)
        if ok:
            assert resp.status_code == 302, resp.get_data(as_text=True)
        else:
            assert resp.status_code == 422
            assert "首期交存比例应在 5% 至 8% 之间" in resp.get_data(as_text=True)
    resp = _rule(client, revenue_percent="49.99", revenue_rule="y")
    assert resp.status_code == 422 and "百分之五十以上" in resp.get_data(as_text=True)
    resp = _rule(client, cost="0")
    assert resp.status_code == 422 and "每平方米造价必须大于 0" in resp.get_data(as_text=True)
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        r = db.session.execute(select(FundRule)).scalar_one()
        assert (r.cost_fen_per_m2, r.rate_percent, r.revenue_rule) == (123456, Decimal("8.00"), False)
        events = select(func.count(AuditEvent.id)).where(AuditEvent.entity == "fund_rule")
        assert db.session.execute(events).scalar() == 2
    login(client, "alpha-committee")
    assert client.get("/d/alpha/fund/rule").status_code == 403


def test_sub_accounts_hand_computed_over_deposits_repairs_and_interest(app, client, world):
    ha, hb, hc, b2 = _households(app, world)
    a = world["alpha"]
    login(client, "alpha-district")
    assert _rule(client).status_code == 302
    login(client, "alpha-committee")
    base = f"/d/alpha/fund/{a.compound1}"
    page = client.get(f"{base}/deposit").get_data(as_text=True)
    # 1,234.56 元 × 5.5% = 67.9008 元/㎡ = 6,790.08 分/㎡; per household, half up:
    # 88.5 × 6790.08 = 600,922.08 → 600,922; 61.5 × … = 417,589.92 → 417,590; 100 × … = 679,008.
    assert 'data-testid="standard-total">¥16,975.20<' in page
    resp = post(client, f"{base}/deposit", {"mode": "standard", "entry_date": "2026-01-05", "counterparty": "全体业主",
                                            "category": "首期交存"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # 续筹 ¥1,000.01 by area (250 ㎡): 35,400.354 / 24,600.246 / 40,000.4 → the one 分 left to C (.4).
    resp = post(client, f"{base}/deposit", {"mode": "lump", "category": "续筹", "amount": "1000.01",
                                            "entry_date": "2026-02-01"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # A repair of the whole compound, ¥333.33: 11,799.882 / 8,199.918 / 13,333.2 → B then A get a 分.
    resp = post(client, f"{base}/use", {"amount": "333.33", "entry_date": "2026-03-01", "counterparty": "防水公司",
                                        "scope": "all"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # A repair of 1号楼 only, ¥100.01 over 150 ㎡: 5,900.59 / 4,100.41 → A gets the 分; C pays nothing.
    resp = post(client, f"{base}/use", {"amount": "100.01", "entry_date": "2026-03-02", "counterparty": "电梯公司",
                                        "scope": "buildings", "buildings": str(a.building1)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    sub = _sub(app, world)
    assert {h: sub[h].closing for h in (ha, hb, hc)} == {ha: 618621, hb: 429890, hc: 705676}
    # Interest ¥123.45 by balance (1,754,187): 4,353.513 / 3,025.329 / 4,966.158 → A gets the 分.
    resp = post(client, f"/d/alpha/ledgers/new?compound_id={a.compound1}&kind={KIND}",
                {"entry_date": "2026-06-30", "direction": "income", "category": "利息", "amount": "123.45",
                 "counterparty": "开户银行"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    sub = _sub(app, world)
    assert {h: (sub[h].first, sub[h].deposits, sub[h].uses, sub[h].interest, sub[h].closing) for h in (ha, hb, hc)} == {
        ha: (600922, 600922 + 35400, 11800 + 5901, 4354, 622975),
        hb: (417590, 417590 + 24600, 8200 + 4100, 3025, 432915),
        hc: (679008, 679008 + 40001, 13333, 4966, 710642)}
    with app.app_context(), tenant_scope(a.tenant_id):
        assert ledger.balance(a.compound1, KIND) == 622975 + 432915 + 710642 == 1766532
        bases = db.session.execute(select(FundAllocation.basis).order_by(FundAllocation.id)).scalars().all()
        assert bases == ["standard", "area", "area", "buildings", "balance"]
        # A period: the sub-accounts' opening at 2026-03-01 is after both deposits.
        per = {r.household_id: r for r in subaccounts.rows(a.compound1, date(2026, 3, 1), date(2026, 12, 31))}
        assert (per[ha].opening, per[ha].deposits, per[ha].closing) == (600922 + 35400, 0, 622975)
        # Reversing the 1号楼 repair takes back exactly each household's part.
        repair = db.session.execute(select(LedgerEntry).where(LedgerEntry.counterparty == "电梯公司")).scalar_one()
        ledger.reverse(repair, date(2026, 7, 1), "重复记账")
        db.session.commit()
        after = {r.household_id: r.closing for r in subaccounts.rows(a.compound1, date(2000, 1, 1), today())}
        assert after == {ha: 622975 + 5901, hb: 432915 + 4100, hc: 710642}
        assert sum(after.values()) == ledger.balance(a.compound1, KIND)
    page = client.get(base).get_data(as_text=True)
    assert 'data-testid="fund-sum">¥17,765.33<' in page and "欧***" in page and "欧阳娜娜" not in page
    assert client.get(f"/d/alpha/fund/households/{hb}").status_code == 200


def test_a_use_is_refused_with_chinese_messages_and_writes_nothing(app, client, world):
    _households(app, world)
    a = world["alpha"]
    login(client, "alpha-committee")
    base = f"/d/alpha/fund/{a.compound1}"
    resp = post(client, f"{base}/deposit", {"mode": "standard", "entry_date": "2026-01-05"})
    assert resp.status_code == 422 and "本区尚未设置首期交存标准" in resp.get_data(as_text=True)
    resp = post(client, f"{base}/use", {"amount": "10", "entry_date": "2026-03-01", "counterparty": "x",
                                        "scope": "all"})
    assert resp.status_code == 422 and "不足以支出" in resp.get_data(as_text=True)
    assert post(client, f"{base}/deposit", {"mode": "lump", "category": "首期交存", "amount": "100",
                                            "entry_date": "2026-01-05"}).status_code == 302
    resp = post(client, f"{base}/use", {"amount": "10", "entry_date": "2026-03-01", "counterparty": "x",
                                        "scope": "buildings", "buildings": str(world["alpha"].building2)})
    assert resp.status_code == 422 and "请选择本小区中本次使用涉及的楼栋" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(LedgerEntry.id))).scalar() == 1


def test_entries_before_any_household_wait_and_are_split_later_in_order(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        # Compound 2 gets its entries while it has no household with an area.
        db.session.execute(db.update(m.Household).where(m.Household.id == a.household2).values(floor_area=0))
        ledger.add_entry(a.compound2, KIND, date(2026, 1, 1), "首期交存", 10000)
        ledger.add_entry(a.compound2, KIND, date(2026, 2, 1), "利息", 101)
        db.session.commit()
        assert subaccounts.pending(a.compound2) == (2, 10101)
        # An explicit split cannot jump the queue: refused, nothing written.
        try:
            fund.use(a.compound2, 100, None, fund.Posting(date(2026, 3, 1), "施工单位"), date(2026, 3, 1))
            raise AssertionError("a use was split while earlier entries wait")
        except fund.FundProblem as exc:
            assert "2 笔维修资金分录未记入分户账" in exc.errors["mode"]
        db.session.rollback()
        db.session.execute(db.update(m.Household).where(m.Household.id == a.household2)
                           .values(floor_area=Decimal("50")))
        assert subaccounts.allocate_pending(a.compound2) == 2
        db.session.commit()
        assert subaccounts.pending(a.compound2) == (0, 0)
        assert subaccounts.balances(a.compound2) == {a.household2: 10101}


def _boundary_fund(app, world, balance_fen: int):
    """Compound 1's fund: 首期 ¥10,000.00, then a use that leaves `balance_fen`."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        ledger.add_entry(a.compound1, KIND, date(2026, 1, 1), "首期交存", 1_000_000)
        ledger.add_entry(a.compound1, KIND, date(2026, 2, 1), "使用支出", balance_fen - 1_000_000)
        db.session.commit()


def test_low_fund_warning_exactly_below_thirty_percent(app, client, world):
    """30.00 % does not warn; 29.99 % does — on the fund page, the overview filter and the
    committee's and community's to-do."""
    a = world["alpha"]
    assert fund.is_low(299_999, 1_000_000) and not fund.is_low(300_000, 1_000_000) and not fund.is_low(0, 0)
    _boundary_fund(app, world, 300_000)
    for who in ("alpha-committee", "alpha-community"):
        login(client, who)
        page = client.get(f"/d/alpha/fund/{a.compound1}").get_data(as_text=True)
        assert 'data-testid="fund-low"' not in page and "30.00%" in page
        assert "维修资金不足首期交存额 30% 的小区" not in client.get("/d/alpha/").get_data(as_text=True)
        assert f'data-compound="{a.compound1}"' not in client.get("/d/alpha/fund/?low=1").get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        ledger.add_entry(a.compound1, KIND, date(2026, 2, 2), "使用支出", -100)   # 299,900: 29.99 %
        db.session.commit()
    for who in ("alpha-committee", "alpha-community"):
        login(client, who)
        page = client.get(f"/d/alpha/fund/{a.compound1}").get_data(as_text=True)
        assert 'data-testid="fund-low"' in page and "29.99%" in page and "还需 ¥1.00" in page
        assert "维修资金不足首期交存额 30% 的小区" in client.get("/d/alpha/").get_data(as_text=True)
        assert f'data-compound="{a.compound1}"' in client.get("/d/alpha/fund/?low=1").get_data(as_text=True)
    login(client, "beta-community")
    assert "维修资金不足首期交存额 30% 的小区" not in client.get("/d/beta/").get_data(as_text=True)


def _adopt_74(app, world, percent="50"):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        fund.set_rule(200000, Decimal(6), True, Decimal(percent))
        db.session.commit()


def _parking(client, compound_id, amount):
    return post(client, f"/d/alpha/ledgers/new?compound_id={compound_id}&kind=public_revenue",
                {"entry_date": "2026-03-01", "direction": "income", "category": "停车费", "amount": amount,
                 "counterparty": "停车管理公司", "voucher_no": "PZ-9"})


def _entries(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        return [(e.kind, e.category, e.amount_fen) for e in db.session.execute(
            select(LedgerEntry).where(LedgerEntry.entry_date == date(2026, 3, 1)).order_by(LedgerEntry.id)).scalars()]


def test_public_revenue_tops_up_the_fund_only_below_thirty_percent(app, client, world):
    a = world["alpha"]
    _adopt_74(app, world)
    _boundary_fund(app, world, 300_000)          # exactly 30 %: no transfer
    login(client, "alpha-committee")
    assert _parking(client, a.compound1, "100.00").status_code == 302
    assert _entries(app, world) == [("public_revenue", "停车费", 10000)]
    with app.app_context(), tenant_scope(a.tenant_id):
        ledger.add_entry(a.compound1, KIND, date(2026, 2, 2), "使用支出", -1)   # 299,999: below
        db.session.commit()
    resp = _parking(client, a.compound1, "100.01")
    assert resp.status_code == 302
    # Half of 10,001 分 rounded up: 5,001 — out of 公共收益, into 维修资金, in the same request.
    assert _entries(app, world)[1:] == [("public_revenue", "停车费", 10001), ("public_revenue", "补充维修资金", -5001),
                                         ("maintenance_fund", "公共收益转入", 5001)]
    assert "已将其中 ¥50.01 转入专项维修资金" in client.get("/d/alpha/ledgers/").get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        ev = db.session.execute(select(AuditEvent).where(AuditEvent.label.like("公共收益补充维修资金%"))).scalar_one()
        assert ev.changes["percent"] == "50%" and ev.changes["fund_balance"] == 299_999
        assert sum(subaccounts.balances(a.compound1).values()) == ledger.balance(a.compound1, KIND) == 299_999 + 5001


def test_public_revenue_rule_is_off_by_default_and_percent_is_the_districts(app, client, world):
    a = world["alpha"]
    _boundary_fund(app, world, 100_000)
    login(client, "alpha-committee")
    assert _parking(client, a.compound1, "100.00").status_code == 302
    assert _entries(app, world) == [("public_revenue", "停车费", 10000)]
    _adopt_74(app, world, "75")
    assert _parking(client, a.compound1, "0.03").status_code == 302   # 75 % of 3 分 = 2.25 → 3
    assert _entries(app, world)[-2:] == [("public_revenue", "补充维修资金", -3), ("maintenance_fund", "公共收益转入", 3)]


def test_yearly_publication_shows_masked_sub_accounts_signed_in_the_chain(app, client, world):
    ha, hb, hc, _ = _households(app, world)
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        ledger.add_entry(a.compound1, KIND, date(2025, 6, 1), "首期交存", 250_000)   # by area: 88,500/61,500/100,000
        ledger.add_entry(a.compound1, KIND, date(2026, 1, 2), "使用支出", -25_000)
        db.session.commit()
    login(client, "alpha-committee")
    url = f"/d/alpha/publications/new?compound_id={a.compound1}&template=ledger_statement&kind={KIND}"
    resp = post(client, url, {"start": "2026-01-01", "end": "2026-01-31"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.execute(select(Publication).where(Publication.kind == "ledger_statement")).scalar_one()
        pid, seq, sub = p.id, p.seq, p.content["subaccounts"]
        assert sub["rows"] == [["1号楼 101", "张*", "88.50", 88500, 0, 8850, 0, 79650],
                               ["1号楼 102", "李*", "61.50", 61500, 0, 6150, 0, 55350],
                               ["2号楼 101", "欧***", "100.00", 100000, 0, 10000, 0, 90000]]
        assert sub["total"] == 225_000 == p.content["statements"][0]["closing"]
        assert chain.verify(a.compound1).intact
        # The rows are inside the signed hash: a changed row breaks the chain.
        p.content = {**p.content, "subaccounts": {**sub, "rows": sub["rows"][:2]}}
        db.session.flush()
        assert not chain.verify(a.compound1).intact
        db.session.rollback()
    page = client.get(f"/d/alpha/publications/{pid}").get_data(as_text=True)
    assert 'data-testid="pub-subaccounts"' in page and "欧***" in page and "欧阳娜娜" not in page
    board = client.get(f"/p/alpha/c/{a.compound1}/p/{seq}").get_data(as_text=True)
    assert "李*" in board and "¥553.50" in board and "李四" not in board


def test_fund_pages_follow_the_keeper_and_scope(app, client, world):
    a = world["alpha"]
    login(client, "alpha-firm")       # the committee keeps the fund by default: the firm only reads
    assert client.get(f"/d/alpha/fund/{a.compound1}").status_code == 200
    assert client.get(f"/d/alpha/fund/{a.compound1}/deposit").status_code == 403
    assert client.get(f"/d/alpha/fund/{a.compound2}").status_code == 404
    login(client, "alpha-committee")
    assert client.get(f"/d/alpha/fund/{a.compound2}/use").status_code == 404
    assert post(client, f"/d/alpha/fund/{a.compound2}/allocate").status_code == 404
    login(client, "beta-committee")
    assert client.get(f"/d/alpha/fund/{a.compound1}").status_code == 404
    assert client.get(f"/d/beta/fund/households/{a.household1}").status_code == 404
