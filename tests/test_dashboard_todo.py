"""The 待办 panel of the landing page (wuye_saas/dashboard/todo.py): each card counts what waits
for the acting membership, inside its scope, and its link opens the list of those items; a
handled item leaves the count on the next load (the kept page is retired by the write)."""
from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from wuye_saas import pagecache
from wuye_saas.audit import acting_as
from wuye_saas.dashboard import todo
from wuye_saas.demands.models import Demand
from wuye_saas.evaluation import workflow
from wuye_saas.evaluation.models import ASSESSMENT_STATUSES, Assessment, Evaluation
from wuye_saas.extensions import db
from wuye_saas.followups.logic import open_follow_up
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now, today

from .helpers import login as _login
from .helpers import post
from .test_demands import add_member, setup_categories, staff_intake
from .test_evaluation_workflow import ev_world, open_cycle, scores, submit_report  # noqa: F401  (ev_world: a fixture)
from .test_objections import publish
from .test_queries import count_queries

CARD = re.compile(r'href="([^"]*)"\s+data-todo="([^"]+)" data-count="(\d+)">(.*?)</a>', re.S)
ROLES = ["alpha-district", "alpha-street", "alpha-community", "alpha-firm", "alpha-committee", "alpha-assessor"]


def login(client, username):
    """Log in as a browser does, following the redirect (which shows and spends the welcome)."""
    client.post("/logout")
    client.get(_login(client, username).location)


def cards(client) -> dict[str, SimpleNamespace]:
    resp = client.get("/d/alpha/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    panel = page[page.index('data-testid="todo"'):]
    return {key: SimpleNamespace(href=htmllib.unescape(href), count=int(n), text=re.sub(r"<[^>]+>|\s+", " ", body),
                                 cache=resp.headers.get("X-Page-Cache"))
            for href, key, n, body in CARD.findall(panel)}


def new_demand(client, a, cats, **over) -> int:
    resp = staff_intake(client, a, cats, **over)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def dispatch(client, demand_id, firm_id):
    return post(client, f"/d/alpha/demands/{demand_id}/dispatch", {"assignee_kind": "firm", "firm_id": firm_id})


def numbers(app, a, ids) -> set[str]:
    with app.app_context(), tenant_scope(a.tenant_id):
        return set(db.session.execute(select(Demand.number).where(Demand.id.in_(ids))).scalars())


def listed_numbers(client, href) -> set[str]:
    return set(re.findall(r'<tr data-number="([^"]+)"', client.get(href).get_data(as_text=True)))


# --- demands -------------------------------------------------------------------------------------

def test_firm_counts_the_demands_dispatched_to_it_and_the_count_drops_once_accepted(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    add_member(app, a, "alpha-community2", "community_staff", community_id=a.community2)
    add_member(app, a, "alpha-firm2", "firm_manager", firm_id=a.firm2)
    login(client, "alpha-community")
    mine = [new_demand(client, a, cats, title=t) for t in ("待接甲", "待接乙")]
    undispatched = new_demand(client, a, cats, title="未派丙")
    for did in mine:
        assert dispatch(client, did, a.firm1).status_code == 302
    login(client, "alpha-community2")   # the other firm's demand, in the other branch
    other = new_demand(client, a, cats, compound_id=a.compound2, title="乙企业的")
    assert dispatch(client, other, a.firm2).status_code == 302

    login(client, "alpha-firm")
    got = cards(client)
    assert got["demands_dispatched"].count == 2 and "待接单诉求" in got["demands_dispatched"].text
    assert "demands_accepted" not in got and "已逾期" not in got["demands_dispatched"].text
    # The link opens the firm's list on its 待接单 tab, which exists and is the active one: exactly those two.
    assert got["demands_dispatched"].href == "/d/alpha/demands/?tab=dispatched"
    page = client.get(got["demands_dispatched"].href).get_data(as_text=True)
    assert re.search(r'class="nav-link active\s*"\s*href="[^"]*"\s*data-tab="dispatched">待接单 <span[^>]*>2</span>', page)
    assert 'data-tab="new"' not in page   # a firm never dispatches
    assert listed_numbers(client, got["demands_dispatched"].href) == numbers(app, a, mine)
    assert numbers(app, a, [undispatched, other]).isdisjoint(listed_numbers(client, got["demands_dispatched"].href))

    # The page is kept until a write; the firm accepts one through the product's route.
    assert cards(client)["demands_dispatched"].cache == "hit"
    resp = post(client, f"/d/alpha/demands/{mine[0]}/accept", {"note": "下午到场"})
    assert resp.status_code == 302
    client.get(resp.location)           # the demand's page, with the message
    got = cards(client)
    assert got["demands_dispatched"].cache == "miss"
    assert got["demands_dispatched"].count == 1 and got["demands_accepted"].count == 1
    assert "处理中诉求" in got["demands_accepted"].text and got["demands_accepted"].href == "/d/alpha/demands/?tab=accepted"
    # Each card's list holds its one state: the accepted one has left 待接单.
    assert listed_numbers(client, got["demands_accepted"].href) == numbers(app, a, mine[:1])
    assert listed_numbers(client, got["demands_dispatched"].href) == numbers(app, a, mine[1:])

    # An overdue one says so on its card.
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.get(Demand, mine[1]).deadline_at = now() - timedelta(hours=1)
        db.session.commit()
    got = cards(client)
    assert "其中 1 件已逾期" in got["demands_dispatched"].text and "已逾期" not in got["demands_accepted"].text

    login(client, "alpha-firm2")        # the other firm counts only its own
    got = cards(client)
    assert got["demands_dispatched"].count == 1 and "demands_accepted" not in got
    assert listed_numbers(client, got["demands_dispatched"].href) == numbers(app, a, [other])


def test_community_counts_new_demands_to_dispatch_and_resolved_ones_to_visit(app, client, world):
    a = world["alpha"]
    cats = setup_categories(app, a)
    add_member(app, a, "alpha-community2", "community_staff", community_id=a.community2)
    login(client, "alpha-community")
    ids = [new_demand(client, a, cats, title=t) for t in ("新甲", "新乙", "新丙")]
    login(client, "alpha-community2")
    elsewhere = new_demand(client, a, cats, compound_id=a.compound2, title="别的社区")

    login(client, "alpha-community")
    got = cards(client)
    assert got["demands_new"].count == 3 and "待派单诉求" in got["demands_new"].text
    assert got["demands_new"].href == "/d/alpha/demands/?tab=new"
    assert listed_numbers(client, got["demands_new"].href) == numbers(app, a, ids)
    assert "demands_resolved" not in got

    # Dispatch one; the department's acceptance and resolution are recorded by the community,
    # which then owes the return visit (回访).
    did = ids[0]
    assert post(client, f"/d/alpha/demands/{did}/dispatch",
                {"assignee_kind": "department", "department_id": a.department1}).status_code == 302
    assert post(client, f"/d/alpha/demands/{did}/accept").status_code == 302
    assert post(client, f"/d/alpha/demands/{did}/resolve", {"note": "已协调"}).status_code == 302
    got = cards(client)
    assert got["demands_new"].count == 2 and got["demands_resolved"].count == 1
    assert "待回访诉求" in got["demands_resolved"].text
    assert listed_numbers(client, got["demands_resolved"].href) == numbers(app, a, [did])
    assert numbers(app, a, [elsewhere]).isdisjoint(listed_numbers(client, got["demands_new"].href))

    # The street has nothing of it until a demand is escalated.
    login(client, "alpha-street")
    assert "demands_escalated" not in cards(client)
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.get(Demand, ids[1]).escalated_at = now()
        db.session.commit()
    got = cards(client)
    assert got["demands_escalated"].count == 1 and got["demands_escalated"].href == "/d/alpha/demands/?tab=escalated"
    assert listed_numbers(client, got["demands_escalated"].href) == numbers(app, a, [ids[1]])


# --- publications and objections -----------------------------------------------------------------

def test_committee_counts_its_compounds_publications_to_check_and_objections_move_between_sides(app, client, world):
    a = world["alpha"]
    first = publish(app, a, a.compound1, title="第一季度物业费收支")
    second = publish(app, a, a.compound1, title="第二季度物业费收支")
    publish(app, a, a.compound2, title="别的小区的收支")

    login(client, "alpha-committee")
    got = cards(client)
    card = got["publications_unchecked"]
    assert card.count == 2 and "待核对公示" in card.text
    assert card.href == "/d/alpha/checks/?view=publications&state=unchecked"
    listing = client.get(card.href).get_data(as_text=True)
    assert "第一季度物业费收支" in listing and "第二季度物业费收支" in listing and "别的小区的收支" not in listing
    assert "objections" not in got

    assert post(client, f"/d/alpha/checks/publications/{first}/check").status_code == 302
    assert cards(client)["publications_unchecked"].count == 1
    assert post(client, f"/d/alpha/checks/publications/{second}/objections",
                {"line": "spending", "question": "支出明细是什么？"}).status_code == 302
    assert "objections" not in cards(client)   # the firm keeps 物业费收支: its turn to answer

    login(client, "alpha-firm")
    got = cards(client)
    assert got["objections"].count == 1 and "待答复质询" in got["objections"].text
    listing = client.get(got["objections"].href).get_data(as_text=True)
    assert "支出明细是什么？" in listing
    oid = int(re.search(r"/checks/objections/(\d+)", listing).group(1))
    assert post(client, f"/d/alpha/checks/objections/{oid}/answer", {"answer": "见附件明细"}).status_code == 302
    assert "objections" not in cards(client)

    login(client, "alpha-committee")
    got = cards(client)
    assert got["objections"].count == 1 and "待处理质询" in got["objections"].text


# --- evaluation ----------------------------------------------------------------------------------

def test_self_reports_and_reviews_per_evaluation(app, client, ev_world):
    w, a = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    login(client, "alpha-firm")
    got = cards(client)
    card = got[f"assessments_self_draft_{eid}"]
    assert card.count == 2 and "待自评" in card.text and "测试季测评小区" in card.text   # compounds 1 and 3
    assert card.href == f"/d/alpha/evaluations/{eid}?status=draft"
    rows = client.get(card.href).get_data(as_text=True).count('href="/d/alpha/assessments/')
    assert rows == 2

    with app.app_context(), tenant_scope(a.tenant_id):
        aid = db.session.execute(select(Assessment.id).where(Assessment.evaluation_id == eid,
                                                              Assessment.compound_id == a.compound1)).scalar_one()
    submit_report(app, client, w, aid)
    assert cards(client)[f"assessments_self_draft_{eid}"].count == 1

    login(client, "alpha-community")
    card = cards(client)[f"assessments_review_submitted_{eid}"]
    assert card.count == 1 and "待审核自评" in card.text
    assert client.get(card.href).get_data(as_text=True).count('href="/d/alpha/assessments/') == 1
    login(client, "alpha-street")
    assert not any(k.startswith("assessments_") for k in cards(client))

    # The assessor: the assessments that still have an item assigned to it without a score.
    login(client, "alpha-district")
    assert post(client, f"/d/alpha/evaluations/{eid}/assessors",
                {f"item-{w['std']['D']}": str(w["assessor"])}).status_code == 302
    login(client, "alpha-assessor")
    card = cards(client)[f"assess_{eid}"]
    assert card.count == 3 and "待测评打分" in card.text and card.href == f"/d/alpha/evaluations/{eid}"
    score = {k: v[0] for k, v in scores(app, w, aid).items()}
    assert post(client, f"/d/alpha/assessments/{aid}/assess", {f"s{score['D']}-points": "6.00"}).status_code == 302
    assert cards(client)[f"assess_{eid}"].count == 2


def test_a_cycle_is_ready_to_finalize_only_once_every_assessment_is_confirmed(app, client, ev_world):
    """待定稿的考核对象: the district's card for a running cycle whose assessments the streets
    have all confirmed, with their count; one unconfirmed assessment keeps it off."""
    w, a = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    login(client, "alpha-district")
    key = f"evaluations_ready_{eid}"
    assert key not in cards(client)                      # drafts: nothing to finalize

    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        rows = db.session.execute(select(Assessment).where(Assessment.evaluation_id == eid)
                                  .order_by(Assessment.id)).scalars().all()
        assert len(rows) == 3
        for asm in rows:
            asm.status = "confirmed"
        rows[-1].status = "reviewed"
        db.session.commit()
        last = rows[-1].id
    pagecache.clear()
    assert key not in cards(client)                      # one still waits for its street

    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        db.session.get(Assessment, last).status = "confirmed"
        db.session.commit()
    pagecache.clear()
    card = cards(client)[key]
    assert card.count == 3 and "待定稿的考核对象" in card.text and "已全部街道确认" in card.text
    assert card.href == f"/d/alpha/evaluations/{eid}?status=confirmed"
    login(client, "alpha-street")                        # the district's step alone
    assert key not in cards(client)


def test_the_sql_forms_agree_with_the_workflow(app, ev_world):
    """todo's clauses against workflow.self_report_closed / review_closed / confirm_closed, over
    every assessment status, cycle status and deadline before, on and after today."""
    w, a = ev_world, ev_world["ns"]
    eid = open_cycle(app, w)
    on = today()
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        ev = db.session.get(Evaluation, eid)
        assessments = db.session.execute(select(Assessment).where(Assessment.evaluation_id == eid)).scalars().all()
        checked = 0
        for ev_status in ("draft", "open", "reviewing", "finalized", "published"):
            for self_off in (-1, 0, 1):
                for review_off in (-1, 0, 1):
                    ev.status = ev_status
                    ev.self_report_due, ev.review_due = on + timedelta(days=self_off), on + timedelta(days=review_off)
                    for i, asm in enumerate(assessments):
                        asm.status = list(ASSESSMENT_STATUSES)[(i + self_off + review_off) % len(ASSESSMENT_STATUSES)]
                    for status in ASSESSMENT_STATUSES:
                        assessments[0].status = status
                        db.session.flush()
                        for clause, rule in ((todo.self_report_open(on), workflow.self_report_closed),
                                             (todo.review_open(on), workflow.review_closed),
                                             (todo.confirm_open(), workflow.confirm_closed)):
                            sql = set(db.session.execute(select(Assessment.id).join(Evaluation).where(
                                Assessment.evaluation_id == eid, clause)).scalars())
                            expected = {x.id for x in assessments if rule(x) is None}
                            assert sql == expected, (ev_status, self_off, review_off)
                            checked += 1
        db.session.rollback()
    assert checked == 5 * 3 * 3 * len(ASSESSMENT_STATUSES) * 3


# --- nothing waiting, follow-ups, isolation --------------------------------------------------------

def test_nothing_waiting_shows_the_empty_state(app, client, world):
    for user in ROLES:
        login(client, user)
        page = client.get("/d/alpha/").get_data(as_text=True)
        assert "待办事项" in page and "暂无待办事项" in page and "data-todo=" not in page, user


def test_follow_ups_are_the_staffs_with_the_overdue_ones_counted(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id), acting_as(None, "测试"):
        open_follow_up("other", "t:1", "约谈物业", compound_id=a.compound1, due_on=today() - timedelta(days=1))
        open_follow_up("other", "t:2", "回访业主", compound_id=a.compound1, due_on=today() + timedelta(days=5))
        open_follow_up("other", "t:3", "别的社区的事", compound_id=a.compound2)
        db.session.commit()
    for user, n in (("alpha-community", 2), ("alpha-street", 2), ("alpha-district", 3)):
        login(client, user)
        card = cards(client)["followups_open"]
        assert card.count == n and "待办督办" in card.text and "其中 1 件已过期" in card.text, user
        assert card.href == "/d/alpha/followups/?status=open"
        listing = client.get(card.href).get_data(as_text=True)
        assert "约谈物业" in listing and "回访业主" in listing
        assert ("别的社区的事" in listing) == (user == "alpha-district")
    login(client, "alpha-committee")   # reads its compound's follow-ups, does not close them
    assert "暂无待办事项" in client.get("/d/alpha/").get_data(as_text=True)


def test_another_districts_items_are_never_counted(app, client, world):
    b = world["beta"]
    cats = setup_categories(app, b)
    client.post("/logout")
    _login(client, "beta-community")
    resp = post(client, "/d/beta/demands/new", {
        "compound_id": b.compound1, "channel": "visit", "category_id": cats["维修"], "urgency": "normal",
        "title": "乙区的诉求", "description": "", "contact_name": "王", "contact_phone": "13912345678",
        "household_code": ""})
    assert resp.status_code == 302
    login(client, "alpha-community")
    assert "暂无待办事项" in client.get("/d/alpha/").get_data(as_text=True)


# --- cost ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["alpha-firm", "alpha-committee", "alpha-community"])
def test_the_panel_costs_the_same_queries_for_more_items(app, client, world, user):
    a = world["alpha"]
    cats = setup_categories(app, a)

    def grow(n):
        login(client, "alpha-community")
        for i in range(n):
            did = new_demand(client, a, cats, title=f"诉求{i}")
            if i % 2:
                dispatch(client, did, a.firm1)
        login(client, "alpha-committee")
        for i in range(n):
            pid = publish(app, a, a.compound1, title=f"公示{i}")
            post(client, f"/d/alpha/checks/publications/{pid}/objections", {"line": "income", "question": f"问题{i}"})

    grow(2)
    login(client, user)
    pagecache.clear()                   # measure a rendered page, not a kept one
    with count_queries(app) as few:
        got = cards(client)
    assert got and all(c.cache == "miss" for c in got.values())
    grow(8)
    login(client, user)
    pagecache.clear()
    with count_queries(app) as many:
        more = cards(client)
    assert all(c.cache == "miss" for c in more.values())
    assert sum(c.count for c in more.values()) > sum(c.count for c in got.values())
    assert len(many) == len(few), f"{user}: {len(few)} queries with few items, {len(many)} with more"


def test_a_generic_batch_counts_its_district_only_is_seen_as_a_statement_and_leaves_the_plan_mode(app, world):
    """extensions.kept_row: the batch goes to PostgreSQL as one pipeline with its plan mode,
    compiled once per district; it counts this district's rows (the kept filter, also for the
    owner's role, which no policy holds), the engine's listeners see it, and the transaction's
    plan mode is `auto` again after it."""
    from sqlalchemy import func, text

    from wuye_saas.extensions import kept_row
    from wuye_saas.org.models import Street
    from wuye_saas.tenancy import kept

    a, b = world["alpha"], world["beta"]
    with app.app_context():
        with tenant_scope(b.tenant_id):   # the other district has streets too
            assert db.session.execute(select(func.count(Street.id))).scalar_one() > 0
            db.session.rollback()
        stmt = kept(select(func.count(Street.id), func.min(Street.id)))
        with tenant_scope(a.tenant_id):
            own = tuple(db.session.execute(select(func.count(Street.id), func.min(Street.id))).one())
            db.session.rollback()
            with count_queries(app) as seen:
                for custom in (False, False, True):   # compiled on the first, reused after
                    assert tuple(kept_row(stmt, custom=custom)) == own == (2, a.street1)
                    mode = db.session.execute(text("SHOW plan_cache_mode")).scalar_one() \
                        if db.engine.dialect.name == "postgresql" else "auto"
                    assert mode == "auto", custom
            assert len([s for s in seen if "street" in s]) == 3
            db.session.rollback()
