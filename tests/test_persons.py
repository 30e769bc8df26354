"""Owners as persons and the count by person (建筑物区分所有权解释 第八条、第九条): several units of
one owner count once, co-owners as one, the developer's units once together, two owners with
the same name twice; the roll fixed at opening; votes with several items; the count in a fixed
number of statements; the register's owner pages and the import's owner columns."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select

from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.org import owners
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today
from wuye_saas.votes import logic, roll
from wuye_saas.votes.models import BallotChoice, OwnerVote

from .helpers import filed_with_street, login, post

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def idno(first17: str) -> str:
    """A valid 18-digit ID number from its first 17 digits (the check character added)."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def _in(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def make_compound(app, ns, units: list[tuple[str, str, tuple]]) -> dict:
    """A new compound of branch 1 with units (room, area ㎡, owners): owners are person keys
    ("dev" for a developer's unit); a person's name is the key's part before "#"."""
    def make():
        c = m.Compound(community_id=ns.community1, name=f"计票小区{len(units)}x{units[0][1]}", compound_type="商品房",
                       management_mode="专业物业")
        b = m.Building(compound=c, name="1号楼")
        db.session.add_all([c, b])
        db.session.flush()
        people, rooms = {}, {}
        for n, (room, area, keys) in enumerate(units):
            dev = keys == ("dev",)
            h = m.Household(compound_id=c.id, building_id=b.id, room=room, floor_area=Decimal(area),
                            developer_held=dev, owner_name="" if dev else "、".join(k.split("#")[0] for k in keys),
                            household_code=f"P{c.id:05d}{n:03d}")
            for k in () if dev else keys:
                if k not in people:
                    people[k] = m.Person(name=k.split("#")[0], identity_key=f"t:{c.id}:{k}")
                h.ownerships.append(m.Ownership(person=people[k]))
            db.session.add(h)
            db.session.flush()
            rooms[room] = h.id
        return {"compound": c.id, "rooms": rooms}
    return _in(app, ns, make)


def run_vote(app, ns, monkeypatch, compound, ballots: dict, matter="use_fund", items=None, close=True):
    """file → publicize → open → ballots ({household id: choice or {item position: choice}}) → close."""
    opens = today() + timedelta(days=15)

    def go():
        monkeypatch.setattr(logic, "today", today)      # a vote run earlier in the test moved it
        v, problems = logic.create_vote(compound, matter, "计票测试", "", items=items)
        assert not problems
        assert not logic.file_vote(v) and not logic.publicize_vote(v, opens, opens)
        filed_with_street(v)
        monkeypatch.setattr(logic, "today", lambda: opens)
        assert not logic.open_vote(v)
        its = logic.items_of(v)
        for hid, choice in ballots.items():
            h = db.session.get(m.Household, hid)
            if isinstance(choice, dict):
                _, problems = logic.record_ballot(v, h, choices={its[p - 1].id: c for p, c in choice.items()})
            else:
                _, problems = logic.record_ballot(v, h, choice)
            assert problems == {}
        if close:
            assert logic.close_vote(v)[1] == {}
        return v.id
    return _in(app, ns, go)


def result(app, ns, vote_id):
    return _in(app, ns, lambda: db.session.get(OwnerVote, vote_id).result)


# --- headcount by person, at the boundaries ---------------------------------------------------

def test_an_owner_of_three_units_counts_once_exactly_two_thirds_passes(app, world, monkeypatch):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "300.00", ("甲",)), ("102", "50.00", ("甲",)), ("103", "50.00", ("甲",)),
                                ("201", "100.00", ("乙",)), ("202", "100.00", ("丙",))])
    r = c["rooms"]
    vid = run_vote(app, ns, monkeypatch, c["compound"], {r["101"]: "agree", r["201"]: "agree"})
    res = result(app, ns, vid)
    assert res["lines"][0] == "参与表决面积 400.00㎡ / 600.00㎡ = 66.67% ≥ 2/3 ✓"
    assert res["lines"][1] == "参与表决人数 2人 / 3人 = 66.67% ≥ 2/3 ✓"
    assert res["passed"] is True


def test_one_centi_below_two_thirds_of_area_fails_with_the_same_persons(app, world, monkeypatch):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "299.99", ("甲",)), ("102", "50.01", ("甲",)), ("103", "50.00", ("甲",)),
                                ("201", "100.00", ("乙",)), ("202", "100.00", ("丙",))])
    r = c["rooms"]
    res = result(app, ns, run_vote(app, ns, monkeypatch, c["compound"], {r["101"]: "agree", r["201"]: "agree"}))
    assert res["lines"][0] == "参与表决面积 399.99㎡ / 600.00㎡ = 66.67% < 2/3 ✗"
    assert res["passed"] is False


def test_co_owners_of_a_unit_count_as_one_and_persons_linked_by_ownership_are_one(app, world, monkeypatch):
    ns = world["alpha"]
    # 丁+戊 co-own 101; 戊 alone owns 102: one owner. 己 and 庚 own one unit each: three heads.
    c = make_compound(app, ns, [("101", "100.00", ("丁", "戊")), ("102", "100.00", ("戊",)),
                                ("201", "100.00", ("己",)), ("202", "100.00", ("庚",))])
    r = c["rooms"]
    res = result(app, ns, run_vote(app, ns, monkeypatch, c["compound"],
                                   {r["101"]: "agree", r["102"]: "agree", r["201"]: "agree"}))
    assert res["total_heads"] == 3
    assert res["lines"][1] == "参与表决人数 2人 / 3人 = 66.67% ≥ 2/3 ✓"


def test_developer_units_are_one_owner_voting_or_silent_whatever_their_names(app, world, monkeypatch):
    ns = world["alpha"]
    units = [("101", "300.00", ("dev",)), ("102", "50.00", ("dev",)), ("103", "50.00", ("dev",)),
             ("201", "100.00", ("辛",)), ("202", "100.00", ("壬",))]
    c = make_compound(app, ns, units)
    r = c["rooms"]
    _in(app, ns, lambda: db.session.get(m.Household, r["102"]).__setattr__("owner_name", "鑫达置业"))
    # Voting: one developer unit and 辛 — 2 of 3 owners, 400 of 600 ㎡.
    res = result(app, ns, run_vote(app, ns, monkeypatch, c["compound"], {r["101"]: "agree", r["201"]: "agree"}))
    assert (res["total_heads"], res["part_heads"], res["agree_heads"]) == (3, 2, 2)
    assert res["passed"] is True
    # Its units voting differently: the developer takes part once and does not agree.
    res = result(app, ns, run_vote(app, ns, monkeypatch, c["compound"],
                                   {r["101"]: "agree", r["102"]: "disagree", r["201"]: "agree", r["202"]: "agree"}))
    assert (res["part_heads"], res["agree_heads"]) == (3, 2)
    assert res["lines"][2] == "同意面积（占参与表决面积） 500.00㎡ / 550.00㎡ = 90.91% > 1/2 ✓"
    # Silent: still one of the three owners.
    res = result(app, ns, run_vote(app, ns, monkeypatch, c["compound"], {r["201"]: "agree", r["202"]: "agree"}))
    assert res["lines"][1] == "参与表决人数 2人 / 3人 = 66.67% ≥ 2/3 ✓"
    assert res["lines"][0] == "参与表决面积 200.00㎡ / 600.00㎡ = 33.33% < 2/3 ✗"


def test_two_owners_called_wang_wei_are_two_persons(app, world, monkeypatch):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "100.00", ("王伟#1",)), ("102", "100.00", ("王伟#2",)),
                                ("201", "100.00", ("癸",))])
    r = c["rooms"]
    res = result(app, ns, run_vote(app, ns, monkeypatch, c["compound"], {r["101"]: "agree", r["201"]: "agree"}))
    # By name it would be 2 of 2; by person it is 2 of 3.
    assert res["lines"][1] == "参与表决人数 2人 / 3人 = 66.67% ≥ 2/3 ✓"


def test_the_count_does_not_change_when_ownership_changes_after_closing(app, world, monkeypatch):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "100.00", ("甲",)), ("102", "100.00", ("甲",)), ("201", "100.00", ("乙",))])
    r = c["rooms"]
    vid = run_vote(app, ns, monkeypatch, c["compound"], {r["101"]: "agree", r["201"]: "agree"})
    before = result(app, ns, vid)
    assert before["total_heads"] == 2

    def sell():
        h = db.session.get(m.Household, r["102"])
        owners.end_ownership(owners.current_owners(h.id)[0], today() - timedelta(days=1))
        owners.add_owner(h, "新业主", idno("14040219900101123"))
        v = db.session.get(OwnerVote, vid)
        recount = logic.tally(v)
        return recount.total_heads, recount.part_heads, roll.register_heads(c["compound"], today())
    total, part, now_heads = _in(app, ns, sell)
    assert len({head for _, head in now_heads.values()}) == 3      # the register today: three owners
    assert (total, part) == (2, 2)                                  # the vote's roll: still two
    assert result(app, ns, vid) == before


def test_a_unit_added_after_opening_is_not_on_the_roll(app, world, monkeypatch):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "100.00", ("甲",))])
    vid = run_vote(app, ns, monkeypatch, c["compound"], {}, close=False)

    def late():
        h = m.Household(compound_id=c["compound"], building_id=db.session.get(m.Household, c["rooms"]["101"]).building_id,
                        room="999", floor_area=Decimal("50"), household_code="LATE0001")
        db.session.add(h)
        db.session.flush()
        return logic.record_ballot(db.session.get(OwnerVote, vid), h, "agree")
    ballot, problems = _in(app, ns, late)
    assert ballot is None and "不在本次表决的表决权登记名册中" in problems["choice"]


# --- statements do not grow with the compound ----------------------------------------------

def _bulk_compound(ns, n: int) -> int:
    c = m.Compound(community_id=ns.community1, name=f"大小区{n}", compound_type="商品房", management_mode="专业物业")
    b = m.Building(compound=c, name="1号楼")
    db.session.add_all([c, b])
    db.session.flush()
    rows = [{"tenant_id": ns.tenant_id, "compound_id": c.id, "building_id": b.id, "room": str(i),
             "floor_area": Decimal("90.50"), "owner_name": f"业主{i}", "household_code": f"B{n:04d}{i:06d}",
             "developer_held": i % 50 == 0} for i in range(n)]
    hids = db.session.execute(insert(m.Household).returning(m.Household.id, sort_by_parameter_order=True),
                              rows).scalars().all()
    pids = db.session.execute(insert(m.Person).returning(m.Person.id, sort_by_parameter_order=True), [
        {"tenant_id": ns.tenant_id, "name": f"业主{i}", "identity_key": f"bulk:{n}:{i}"} for i in range(n * 4 // 5)
    ]).scalars().all()
    db.session.execute(insert(m.Ownership), [
        {"tenant_id": ns.tenant_id, "household_id": hid, "person_id": pids[i % len(pids)], "share": "单独所有"}
        for i, hid in enumerate(hids) if i % 50])
    return c.id


def test_the_count_takes_the_same_statements_for_n_and_2n_units(app, world, monkeypatch):
    ns = world["alpha"]
    opens = today() + timedelta(days=15)
    monkeypatch.setattr(logic, "today", lambda: opens)

    def statements(n):
        cid = _bulk_compound(ns, n)
        v, _ = logic.create_vote(cid, "use_fund", "语句数", "", items=["议题一", "议题二"])
        v.status, v.opens_on, v.closes_on, v.publicized_on = "publicized", opens, opens, today()
        filed_with_street(v)
        assert not logic.open_vote(v)
        its = logic.items_of(v)
        for h in db.session.execute(select(m.Household).where(m.Household.compound_id == cid)
                                    .limit(n * 3 // 5)).scalars():
            logic.record_ballot(v, h, choices={its[0].id: "agree", its[1].id: "disagree"})
        db.session.flush()
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            counted = logic.tally_items(v)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen), counted[0][1].total_heads
    small, heads_small = _in(app, ns, lambda: statements(100))
    large, heads_large = _in(app, ns, lambda: statements(200))
    assert small == large
    # The persons owning a unit (79 of 80, 157 of 160: the developer holds every 50th unit) and the developer.
    assert (heads_small, heads_large) == (80, 158)


# --- votes with several items -----------------------------------------------------------------

def test_a_vote_with_several_items_counts_each_on_its_own_through_the_ballot_sheet(app, client, world, monkeypatch):
    ns = world["alpha"]
    login(client, "alpha-committee")
    resp = post(client, "/d/alpha/votes/new", {"matter": "other", "title": "两项事项", "description": "",
                                                "items": "增设快递柜\n更换门禁\n"})
    assert resp.status_code == 302
    vid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    base = f"/d/alpha/votes/{vid}"
    assert post(client, f"{base}/file").status_code == 302
    opens = today() + timedelta(days=15)
    assert post(client, f"{base}/publicize", {"opens_on": opens.isoformat(), "closes_on": opens.isoformat()}).status_code == 302
    _in(app, ns, lambda: filed_with_street(db.session.get(OwnerVote, vid)))
    monkeypatch.setattr(logic, "today", lambda: opens)
    assert post(client, f"{base}/open").status_code == 302
    items = _in(app, ns, lambda: [(i.id, i.title) for i in logic.items_of(db.session.get(OwnerVote, vid))])
    assert [t for _, t in items] == ["增设快递柜", "更换门禁"]
    sheet = client.get(f"{base}/ballots").get_data(as_text=True)
    assert f'name="item_{items[0][0]}"' in sheet and f'name="item_{items[1][0]}"' in sheet
    hx = {"HX-Request": "true"}
    resp = post(client, f"{base}/ballots/{ns.household1}", {f"item_{items[0][0]}": "agree",
                                                           f"item_{items[1][0]}": "disagree"}, headers=hx)
    assert resp.status_code == 200 and "已保存" in resp.get_data(as_text=True)
    # A bad choice is refused next to the row; the recorded choices stay.
    resp = post(client, f"{base}/ballots/{ns.household1}", {f"item_{items[0][0]}": "maybe"}, headers=hx)
    assert "请选择同意、反对或弃权" in resp.get_data(as_text=True)
    picks = _in(app, ns, lambda: sorted(db.session.execute(select(BallotChoice.item_id, BallotChoice.choice)).all()))
    assert picks == [(items[0][0], "agree"), (items[1][0], "disagree")]
    assert post(client, f"{base}/close").status_code == 302
    res = result(app, ns, vid)
    assert [(i["title"], i["passed"]) for i in res["items"]] == [("增设快递柜", True), ("更换门禁", False)]
    assert res["summary"] == "共 2 个议题，通过 1 个：增设快递柜。"
    page = client.get(base).get_data(as_text=True)
    assert page.count('data-testid="vote-item"') == 2


def test_a_single_question_vote_keeps_its_one_item_and_choice(app, world, monkeypatch):
    ns = world["alpha"]
    vid = run_vote(app, ns, monkeypatch, ns.compound1, {ns.household1: "agree"})
    res = result(app, ns, vid)
    assert "items" not in res and res["passed"] is True
    assert _in(app, ns, lambda: [(i.position, i.title, i.passed) for i in db.session.get(OwnerVote, vid).items]) == [
        (1, "计票测试", True)]


# --- the register's owners ------------------------------------------------------------------

def test_owners_are_found_by_id_number_never_by_name(app, client, world):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "90.00", ()), ("102", "90.00", ()), ("103", "90.00", ())])
    r = c["rooms"]
    login(client, "alpha-district")
    wang1, wang2 = idno("11010119800101001"), idno("11010119850202002")
    url = "/d/alpha/households/{}/owners"
    assert post(client, url.format(r["101"]), {"owner_name": "王伟", "id_number": wang1, "share": "单独所有"}).status_code == 302
    assert post(client, url.format(r["102"]), {"owner_name": "王伟", "id_number": wang1, "share": "单独所有"}).status_code == 302
    assert post(client, url.format(r["103"]), {"owner_name": "王伟", "id_number": wang2, "share": "共同共有"}).status_code == 302
    assert post(client, url.format(r["103"]), {"owner_name": "李娜", "share": "共同共有"}).status_code == 302

    def state():
        persons = db.session.execute(select(m.Person.name, m.Person.id_masked)
                                     .join(m.Ownership).where(m.Ownership.household_id.in_(r.values()))
                                     .distinct().order_by(m.Person.id_masked)).all()
        return persons, db.session.get(m.Household, r["103"]).owner_name, roll.register_heads(c["compound"], today())
    persons, name103, heads = _in(app, ns, state)
    assert persons == [("李娜", ""), ("王伟", "1101" + "*" * 10 + wang1[-4:]),
                       ("王伟", "1101" + "*" * 10 + wang2[-4:])]
    assert name103 == "王伟、李娜"
    assert heads[r["101"]][1] == heads[r["102"]][1] != heads[r["103"]][1]   # one 王伟 owns two units
    page = client.get(f"/d/alpha/households/{r['103']}").get_data(as_text=True)
    assert 'data-testid="owners"' in page and "1101**********" + wang2[-4:] in page and wang2 not in page

    before = _in(app, ns, lambda: db.session.scalar(select(func.count()).select_from(m.Ownership)))
    bad = [({"owner_name": "张伟", "id_number": wang1}, "该身份证号码已登记为业主“王伟”"),
           ({"owner_name": "赵六", "id_number": wang1[:17] + ("0" if wang1[17] != "0" else "1")}, "校验位不正确"),
           ({"owner_name": "", "id_number": ""}, "请填写业主姓名"),
           ({"owner_name": "王伟", "id_number": wang1}, "王伟已是该户的业主")]
    for data, message in bad:
        resp = post(client, url.format(r["101"]), {"share": "单独所有", **data})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), message
    assert _in(app, ns, lambda: db.session.scalar(select(func.count()).select_from(m.Ownership))) == before

    # Ending an ownership keeps it as history and the unit's name follows the current owners.
    oid = _in(app, ns, lambda: owners.current_owners(r["103"])[1].id)
    end = f"/d/alpha/households/{r['103']}/owners/{oid}/end"
    assert post(client, end, {}).status_code == 422
    assert post(client, end, {"valid_until": (today() - timedelta(days=1)).isoformat()}).status_code == 302
    assert _in(app, ns, lambda: db.session.get(m.Household, r["103"]).owner_name) == "王伟"
    labels = _in(app, ns, lambda: db.session.execute(select(AuditEvent.entity, AuditEvent.label).where(
        AuditEvent.entity.in_(["person", "ownership"]), AuditEvent.action == "create")).all())
    assert ("ownership", "李娜") in labels and ("person", "王伟（1101**********" + wang2[-4:] + "）") in labels


def test_owner_routes_are_the_district_s_and_out_of_scope_is_404(app, client, world):
    ns, beta = world["alpha"], world["beta"]
    oid = _in(app, ns, lambda: owners.add_owner(db.session.get(m.Household, ns.household1), "张三")[0].id)
    add = f"/d/alpha/households/{ns.household1}/owners"
    end = f"/d/alpha/households/{ns.household1}/owners/{oid}/end"
    login(client, "alpha-community")     # sees the unit, does not keep the register
    assert post(client, add, {"owner_name": "李四", "share": "单独所有"}).status_code == 403
    assert post(client, end, {"valid_until": today().isoformat()}).status_code == 403
    assert post(client, f"/d/alpha/households/{ns.household2}/owners", {"owner_name": "李四"}).status_code == 404
    client.post("/logout")
    login(client, "beta-district")
    assert post(client, f"/d/beta/households/{ns.household1}/owners", {"owner_name": "李四"}).status_code == 404
    assert post(client, f"/d/beta/households/{beta.household1}/owners/{oid}/end",
                {"valid_until": today().isoformat()}).status_code == 404
    assert _in(app, ns, lambda: [o.person.name for o in owners.current_owners(ns.household1)]) == ["张三"]


def test_a_developer_unit_takes_no_owner(app, world):
    ns = world["alpha"]
    c = make_compound(app, ns, [("101", "90.00", ("dev",))])
    o, problems = _in(app, ns, lambda: owners.add_owner(db.session.get(m.Household, c["rooms"]["101"]), "张三"))
    assert o is None and "开发商持有" in problems["owner_name"]


GOOD = idno("11010519491231002")


@pytest.mark.parametrize("number, ok", [(GOOD, True), (GOOD[:17] + ("0" if GOOD[17] != "0" else "1"), False),
                                        ("123", False), ("110105491231002", True), ("1101051949123100AB", False)])
def test_id_numbers_are_checked(number, ok):
    assert (owners.id_problem(number) is None) is ok


# --- committees: filing deadline and early 换届 ----------------------------------------------

def test_filing_is_due_within_30_days_and_overdue_ones_are_listed(app, client, world):
    from wuye_saas.committees import logic as committees
    from wuye_saas.committees.models import Formation
    ns = world["alpha"]
    day = today()

    def make():
        c = m.Compound(community_id=ns.community1, name="待备案小区", compound_type="商品房", management_mode="专业物业")
        db.session.add(c)
        db.session.flush()
        late = Formation(compound_id=c.id, kind="formation", committee_kind="业委会", status="elected", seats=3,
                         opened_on=day - timedelta(days=90), election_on=day - timedelta(days=31))
        due = Formation(compound_id=ns.compound2, kind="formation", committee_kind="业委会", status="elected",
                        seats=3, opened_on=day - timedelta(days=60), election_on=day - timedelta(days=30))
        db.session.add_all([late, due])
        db.session.flush()
        return late.id, committees.filing_due(late), committees.filing_due(due)
    late_id, late_due, due_due = _in(app, ns, make)
    assert late_due == day - timedelta(days=1) and due_due == day
    login(client, "alpha-community")
    page = client.get("/d/alpha/committees/formations/?status=overdue").get_data(as_text=True)
    assert f"/formations/{late_id}" in page and "备案逾期" in page
    assert client.get("/d/alpha/committees/formations/?status=overdue").get_data(as_text=True).count("查看") == 1
    detail = client.get(f"/d/alpha/committees/formations/{late_id}").get_data(as_text=True)
    assert f"备案期限：{late_due}" in detail and "已逾期" in detail
    todo = client.get("/d/alpha/").get_data(as_text=True)
    assert "逾期未备案的业委会" in todo


def test_early_reelection_after_a_correction_not_done_or_a_revocation(app, world):
    from wuye_saas.auth.models import Membership
    from wuye_saas.committees import logic as committees
    ns = world["alpha"]
    day = today()

    def attempt(on):
        staff = Membership(tenant_id=ns.tenant_id, role="district_admin")
        try:
            f = committees.open_formation(staff, ns.compound1, "reelection", "业委会", 3, on)
        except committees.FormationProblem as e:
            db.session.rollback()
            return e.message
        db.session.rollback()
        return f.kind

    assert "届满前 180 天内才能发起换届" in _in(app, ns, lambda: attempt(day))
    _in(app, ns, lambda: committees.start_supervision(db.session.get(m.Committee, ns.committee1), "correction",
                                                      "公共收益未公示", day + timedelta(days=10), day))
    assert "可提前换届" in _in(app, ns, lambda: attempt(day))          # the correction is still due
    assert _in(app, ns, lambda: attempt(day + timedelta(days=11))) == "reelection"
    assert _in(app, ns, lambda: committees.early_reason(db.session.get(m.Committee, ns.committee2), day)) is None
    _in(app, ns, lambda: committees.start_supervision(db.session.get(m.Committee, ns.committee2), "revocation",
                                                      "业委会擅自决定续聘物业", None, day))
    assert "撤销决定" in _in(app, ns, lambda: committees.early_reason(db.session.get(m.Committee, ns.committee2), day))


# --- import ---------------------------------------------------------------------------------

def _household_rows(app, ns, rows: list[dict]) -> list[list]:
    from wuye_saas.importer.logic import KINDS

    def names():
        b = db.session.get(m.Building, ns.building1)
        comp = b.compound
        return comp.community.street.name, comp.community.name, comp.name, b.name
    street, community, compound, building = _in(app, ns, names)
    cols = KINDS["households"].cols
    base = {"street": street, "community": community, "compound": compound, "building": building}
    return [[c.header for c in cols]] + [[{**base, **r}.get(c.key, "") for c in cols] for r in rows]


def test_import_registers_owners_co_owners_and_the_developer(app, client, world):
    from .test_import import csv_bytes, run_import
    ns = world["alpha"]
    a, b = idno("14040219700101001"), idno("14040219720202002")
    rows = _household_rows(app, ns, [
        {"room": "301", "floor_area": "90.00", "owner_name": "王伟", "owner_id": a},
        {"room": "302", "floor_area": "80.00", "owner_name": "王伟", "owner_id": a.lower(), "area_source": "测绘"},
        {"room": "303", "floor_area": "70.00", "owner_name": "王伟", "owner_id": b, "co_owners": "李娜:、张强"},
        {"room": "304", "floor_area": "60.00", "owner_name": "鑫达置业", "developer_held": "是"},
    ])
    login(client, "alpha-district")
    _, run = run_import(app, client, "households", "owners.csv", csv_bytes(rows))
    assert run["result"]["ok"] is True, run["result"]

    def state():
        hs = {h.room: h for h in db.session.execute(select(m.Household).where(
            m.Household.room.in_(["301", "302", "303", "304"]))).scalars()}
        owners_of = {room: sorted((o.person.name, o.person.id_masked, o.share) for o in h.ownerships)
                     for room, h in hs.items()}
        heads = roll.register_heads(ns.compound1, today())
        return ({r: (h.owner_name, h.developer_held, h.area_source) for r, h in hs.items()}, owners_of,
                {r: heads[h.id][1] for r, h in hs.items()})
    units, owned, heads = _in(app, ns, state)
    assert units == {"301": ("王伟", False, "registry"), "302": ("王伟", False, "survey"),
                     "303": ("王伟、李娜、张强", False, "registry"), "304": ("鑫达置业", True, "registry")}
    masked_a, masked_b = "1404" + "*" * 10 + a[-4:], "1404" + "*" * 10 + b[-4:]
    assert owned["301"] == [("王伟", masked_a, "单独所有")] and owned["304"] == []
    assert owned["303"] == [("张强", "", "共同共有"), ("李娜", "", "共同共有"), ("王伟", masked_b, "共同共有")]
    assert heads["301"] == heads["302"] != heads["303"] and heads["304"] == "dev"


def test_import_refuses_bad_owner_rows_with_their_reasons_and_writes_nothing(app, client, world):
    from .test_import import csv_bytes, run_import
    ns = world["alpha"]
    a = idno("14040219700101001")
    wrong = a[:17] + ("1" if a[17] != "1" else "2")
    rows = _household_rows(app, ns, [
        {"room": "401", "floor_area": "90.00", "owner_name": "王伟", "owner_id": wrong},
        {"room": "402", "floor_area": "90.00", "owner_name": "王伟", "owner_id": a},
        {"room": "403", "floor_area": "90.00", "owner_name": "王卫", "owner_id": a},
        {"room": "404", "floor_area": "90.00", "owner_name": "", "co_owners": "李娜"},
        {"room": "405", "floor_area": "90.00", "owner_name": "赵六", "area_source": "估算"},
    ])
    before = _in(app, ns, lambda: (db.session.scalar(select(func.count()).select_from(m.Person)),
                                   db.session.scalar(select(func.count()).select_from(m.Household))))
    login(client, "alpha-district")
    _, run = run_import(app, client, "households", "bad.csv", csv_bytes(rows))
    res = run["result"]
    assert res["ok"] is False and res["imported"] == 0
    reasons = {e["line"]: " ".join(e["reasons"]) for e in res["errors"]}
    assert set(reasons) == {2, 4, 5, 6}
    assert "校验位不正确" in reasons[2]
    assert "与第 3 行同一号码的姓名“王伟”不一致" in reasons[4]
    assert "须填写业主姓名" in reasons[5]
    assert "【面积来源】应为以下之一" in reasons[6]
    assert _in(app, ns, lambda: (db.session.scalar(select(func.count()).select_from(m.Person)),
                                 db.session.scalar(select(func.count()).select_from(m.Household)))) == before
