"""Tenant and scope isolation over the whole app, with no hand-kept list of routes.

Every GET rule under a tenant slug is probed. Its id arguments are mapped to models by name
(`<tablename>_id`), so a new route is covered as soon as it exists, and a route the probe cannot
map fails the suite instead of being skipped. Expectations inside a district come from
`policy.visible`, the same rule the views apply, not from a copy of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import product
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from wuye_saas import policy
from wuye_saas.auth.models import Membership, User
from wuye_saas.extensions import db
from wuye_saas.fees.models import Bill, BillingRun, FeeAssignment, FeePolicy, Payment, SubsidyClaim
from wuye_saas.importer.jobs import JOB_KIND as IMPORT_KIND, import_register
from wuye_saas.jobs import JobRun
from wuye_saas.org import models as m
from wuye_saas.tenancy import Tenant, system_scope, tenant_scope

from .factories import ROLES, USER_SUFFIX
from .helpers import login

TENANTS = ("alpha", "beta")
BRANCHES = (1, 2)
PUBLIC_PREFIX = "/p/"  # public resident pages: anonymous by design
# The world fixture's attribute name → table, where they differ.
WORLD_ATTRS = {"member": "committee_member", "cross": "cross_appointment"}
# Integer route arguments that are not record ids: the value every probe compound has (the
# board's publication number within a compound's chain; probe_world publishes number 1).
FIXED_ARGS = {"seq": ["1"]}
# Endpoints whose GET legitimately answers a district admin with something other than 200 on
# its own records: endpoint → the expected status. Empty today; a new entry needs a reason.
ADMIN_SPECIAL: dict[str, int] = {
    "claims.new": 403,  # a subsidy claim is submitted by the firm manager; the district decides it
    "votes.new": 403,   # an owner vote is run by the compound's committee; the district only sees it
    "funds.new": 403,   # a fund application comes from the firm or the committee; the district reviews it
    "committees.new_formation": 403,  # community staff open a 组建/换届; the district files nothing itself
    "demands.new": 403,  # demands are entered by community/street staff; the district configures categories
    "results.compound": 403,  # the committee's view of the firm serving its compound; the district has the rankings
    "assessments.delete_evidence": 403,  # only the assessed firm removes its own evidence
    "meetings.edit": 403,  # the probed meeting is a community's: its staff run it; the district reads it
    "fourlists.new": 403,   # a community's 四项清单 is kept by its community and street; the district reads
    "fourlists.edit": 403,
    "volunteers.new": 403,   # the register is kept by community and street staff; the district reads it
    "volunteers.edit": 403,
    "volunteers.new_team": 403,
    "volunteers.new_task": 403,
    "contracts.new": 403,            # a firm files its own contracts; the district reviews them
    "contracts.file_contract": 403,
    "contracts.refile": 403,
    "hiring.new": 403,     # a selection is opened by the committee (or the community acting for it)
    "hiring.apply": 403,   # firms apply to tenders; the district sets the rule
    "fund.deposit": 403,   # the fund's keeper (committee or firm) posts deposits and uses; the district sees
    "fund.use": 403,
}


@dataclass(frozen=True)
class Probe:
    rule: object              # werkzeug Rule
    ids: dict[str, type]      # argument name → mapped class
    # <any(a, b):arg> arguments: a fixed set of values, not records; every value is probed.
    choices: dict[str, list[str]] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint

    @property
    def public(self) -> bool:
        return self.rule.rule.startswith(PUBLIC_PREFIX)

    def urls(self, slug: str, ids: dict[str, int] | None = None) -> list[str]:
        names = sorted(self.choices)
        return [self.rule.build({"tenant_slug": slug, **(ids or {}), **dict(zip(names, values))},
                                append_unknown=False)[1]
                for values in product(*(sorted(self.choices[n]) for n in names))]


def _models_by_table() -> dict[str, type]:
    return {mp.class_.__tablename__: mp.class_ for mp in db.Model.registry.mappers}


def collect_probes(app) -> list[Probe]:
    """Every tenant GET rule with its id arguments mapped; fails naming any it cannot map."""
    tables = _models_by_table()
    probes, uncovered = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "tenant_slug" not in rule.arguments:
            continue
        ids, choices, bad = {}, {}, []
        for arg in sorted(rule.arguments - {"tenant_slug"}):
            conv = rule._converters.get(arg)
            model = tables.get(arg[:-3]) if arg.endswith("_id") else None
            if isinstance(conv, IntegerConverter) and model is not None:
                ids[arg] = model
            elif isinstance(conv, AnyConverter):
                choices[arg] = sorted(conv.items)
            elif arg in FIXED_ARGS:
                choices[arg] = FIXED_ARGS[arg]
            else:
                bad.append(arg)
        if bad:
            uncovered.append(f"{rule.rule} ({rule.endpoint}): argument(s) {', '.join(bad)}")
        else:
            probes.append(Probe(rule, ids, choices))
    if uncovered:
        pytest.fail("route not covered by the isolation probe: a record id must be "
                    "<int:<tablename>_id>, a fixed set of values <any(a, b):name>:\n  "
                    + "\n  ".join(uncovered))
    return probes


def _first_rows(model, tenant_id: int) -> list[int]:
    """Two records of `model` in a tenant, for tables the world fixture does not name."""
    if model is User:
        stmt = (select(Membership.user_id).where(Membership.tenant_id == tenant_id)
                .order_by(Membership.id))
    elif "tenant_id" in model.__table__.c:
        stmt = select(model.id).where(model.tenant_id == tenant_id).order_by(model.id)
    else:
        pytest.fail(f"the isolation probe cannot tell which district a {model.__tablename__} "
                    "row belongs to: teach tests/test_isolation.py::_first_rows")
    with system_scope():
        rows = list(dict.fromkeys(db.session.execute(stmt).scalars()))[:2]
    if not rows:
        pytest.fail(f"no {model.__tablename__} row in a test district: create one in "
                    "tests/test_isolation.py::probe_world so its routes are probed")
    return rows if len(rows) == 2 else rows * 2  # one row serves as both "branches"


@pytest.fixture
def probe_world(app, world):
    """The two districts plus the rows the world fixture lacks; {table: {slug: {branch: id}}}."""
    probes = collect_probes(app)
    ids: dict[str, dict[str, dict[int, int]]] = {}
    with app.app_context():
        for slug in TENANTS:
            ns = world[slug]
            with tenant_scope(ns.tenant_id):
                for branch in BRANCHES:
                    # An import in progress: the kind the job pages (status, import result) show.
                    db.session.add(JobRun(kind=IMPORT_KIND, label=f"导入住户（探针{branch}.xlsx）",
                                          func=import_register.job_path, status="running", progress=40))
                    db.session.add(m.HouseholdClassLink(household_id=getattr(ns, f"household{branch}"),
                                                        household_class_id=ns.household_class,
                                                        valid_from=date(2024, 1, 1)))
                    _add_fee_records(ns, branch)
                    _add_publicity_records(ns, branch)
                    _add_check_records(ns, branch)
                    _add_vote_records(ns, branch)
                    _add_committee_records(ns, branch)
                    _add_evaluation_records(ns, branch)
                    _add_survey_records(ns, branch)
                    _add_meeting_records(ns, branch)
                    _add_demand_records(ns, branch)
                    _add_appeal_records(ns, branch)
                    _add_credit_records(ns, branch)
                    _add_holdback_records(ns, branch)
                    _add_fourlist_records(ns, branch)
                    _add_volunteer_records(ns, branch)
                    _add_filing_records(ns, branch)
                    _add_exit_records(ns, branch)
                    _add_hiring_records(ns, branch)
                    _add_matter_records(ns, branch)
                    _add_api_client_records(ns, branch)
                    _add_webhook_records(ns, branch)
                db.session.commit()
            for attr, value in vars(ns).items():
                name = attr.rstrip("12")
                if attr[-1:] in "12" and isinstance(value, int):
                    table = WORLD_ATTRS.get(name, name)
                    ids.setdefault(table, {}).setdefault(slug, {})[int(attr[-1])] = value
            # One shared class per district: both "branches" use it.
            ids.setdefault("household_class", {})[slug] = {1: ns.household_class, 2: ns.household_class}
        needed = {model for p in probes for model in p.ids.values()}
        for model in needed:
            table = model.__tablename__
            if table in ids:
                continue
            for slug in TENANTS:
                first, second = _first_rows(model, world[slug].tenant_id)
                ids.setdefault(table, {})[slug] = {1: first, 2: second}
    return SimpleNamespace(probes=probes, ids=ids, tenant={s: world[s].tenant_id for s in TENANTS})


def _add_fee_records(ns, branch: int) -> None:
    """A policy assigned to the branch's compound and a billed month of its household with a
    payment and a subsidy claim, so every fee route is probed (the firm is the branch's)."""
    firm, compound = getattr(ns, f"firm{branch}"), getattr(ns, f"compound{branch}")
    fee_policy = FeePolicy(name=f"探针收费政策{branch}", valid_from=date(2024, 1, 1))
    run = BillingRun(month=date(2026, 1, 1), scope_kind="firm", scope_id=firm, scope_label="探针")
    db.session.add_all([fee_policy, run])
    db.session.flush()
    fee_policy.family_id = fee_policy.id
    db.session.add(FeeAssignment(compound_id=compound, family_id=fee_policy.id, valid_from=date(2024, 1, 1)))
    bill = Bill(household_id=getattr(ns, f"household{branch}"), compound_id=compound, firm_id=firm,
                policy_id=fee_policy.id, billing_run_id=run.id, month=date(2026, 1, 1), area=88.5,
                rate=0.85, base_fen=7523, gov_fen=1000, firm_fen=0, resident_fen=6523)
    db.session.add(bill)
    db.session.flush()
    db.session.add_all([
        Payment(bill_id=bill.id, amount_fen=1000, method="现金", receipt_no=f"PROBE-{branch}",
                paid_on=date(2026, 1, 5)),
        SubsidyClaim(compound_id=compound, firm_id=firm, month=date(2026, 1, 1), amount_fen=1000,
                     bill_count=1)])


def _add_publicity_records(ns, branch: int) -> None:
    """A public-revenue entry of the branch's compound with a voucher file on disk, and the
    compound's first publication (number 1, which the board's <seq> routes are probed with)."""
    from flask import current_app

    from wuye_saas.publicity import chain
    from wuye_saas.publicity.accounts import voucher_path
    from wuye_saas.publicity.models import LedgerEntry, LedgerVoucher
    compound = getattr(ns, f"compound{branch}")
    entry = LedgerEntry(compound_id=compound, kind="public_revenue", entry_date=date(2026, 1, 2),
                        category="停车费", amount_fen=50000, counterparty="探针")
    db.session.add(entry)
    db.session.flush()
    name = f"probe-{ns.slug}-{branch}.pdf"
    path = voucher_path(current_app.config["UPLOAD_FOLDER"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 probe")
    db.session.add(LedgerVoucher(entry_id=entry.id, filename="凭证.pdf", stored_name=name,
                                 content_type="application/pdf", size=14))
    chain.publish(compound, "ledger_statement", f"探针账目公示{branch}",
                  {"lines": [{"key": "期末余额", "label": "期末余额", "value": "¥500.00"}]})
    # The member's own unit: the register's member pages list the compound's units.
    db.session.get(m.CommitteeMember, getattr(ns, f"member{branch}")).household_id = getattr(ns, f"household{branch}")


def _add_check_records(ns, branch: int) -> None:
    """A publication of the branch's compound (another helper's, when it made one) with an
    objection on it, and one publicity requirement, so the checks routes are probed."""
    from wuye_saas.publicity import chain
    from wuye_saas.publicity.models import Objection, Publication, PublicityRequirement
    compound = getattr(ns, f"compound{branch}")
    pub_id = db.session.execute(select(Publication.id).where(Publication.compound_id == compound)
                                .order_by(Publication.id).limit(1)).scalar()
    if pub_id is None:
        pub_id = chain.publish(compound, "standing_notice", f"探针公示{branch}",
                               {"lines": [{"key": "firm", "label": "物业服务企业", "value": "探针"}]}).id
    db.session.add_all([Objection(publication_id=pub_id, line="物业服务企业：探针", question="探针质询"),
                        PublicityRequirement(kind="ledger_statement", ledger_kind="public_revenue",
                                             frequency="quarterly", grace_days=15,
                                             management_mode=[None, "专业物业"][branch - 1])])


def _add_vote_records(ns, branch: int) -> None:
    """An open owner vote of the branch's compound with one ballot, and a fund application
    on it at district review, so the votes and funds routes are probed."""
    from wuye_saas.votes.models import Ballot, FundApplication, FundReview, OwnerVote, VoteItem
    vote = OwnerVote(compound_id=getattr(ns, f"compound{branch}"), matter="use_fund", title=f"探针表决{branch}",
                     status="open", opens_on=date(2026, 1, 1), closes_on=date(2026, 1, 15))
    db.session.add(vote)
    db.session.flush()
    fund = FundApplication(compound_id=vote.compound_id, applicant="firm", item=f"探针维修{branch}",
                           budget_fen=100000, contractor="探针施工", vote_id=vote.id, status="district")
    db.session.add_all([Ballot(vote_id=vote.id, household_id=getattr(ns, f"household{branch}"), choice="agree",
                               area_centi=8850, owner_key="张三"), fund])
    db.session.flush()
    db.session.add(FundReview(application_id=fund.id, level="community", approve=True))
    # The unit's owner as a person, so the owner routes of the register are probed too.
    person = m.Person(name=f"探针业主{branch}", identity_key=f"probe:{branch}")
    db.session.add_all([VoteItem(vote_id=vote.id, position=1, title=vote.title),
                        m.Ownership(household_id=getattr(ns, f"household{branch}"), person=person)])


def _add_demand_records(ns, branch: int) -> None:
    """A category and a demand of the branch's compound dispatched to the branch's firm, resolved
    with a photo file on disk, so the demand routes (detail, photo, category pages) are probed."""
    from datetime import datetime

    from flask import current_app

    from wuye_saas.demands.logic import photo_path
    from wuye_saas.demands.models import Demand, DemandCategory, DemandChannel, DemandEvent, DemandPhoto
    cat = DemandCategory(name=f"探针分类{branch}", deadline_hours=72, urgent_deadline_hours=24)
    db.session.add(cat)
    db.session.add(DemandChannel(code=f"probe{branch}", name=f"探针渠道{branch}"))   # its edit page
    db.session.flush()
    at = datetime(2026, 1, 5, 2, 0)
    demand = Demand(number=f"SQ20260105-000{branch}", compound_id=getattr(ns, f"compound{branch}"),
                    category_id=cat.id, channel="online", title=f"探针诉求{branch}", status="resolved",
                    received_at=at, deadline_at=datetime(2026, 1, 8, 2, 0), assignee_kind="firm",
                    firm_id=getattr(ns, f"firm{branch}"), assignee_name="探针物业", resolved_at=at)
    db.session.add(demand)
    db.session.flush()
    event = DemandEvent(demand_id=demand.id, kind="resolved", actor="探针", note="已修复")
    db.session.add(event)
    db.session.flush()
    name = f"probe-{ns.slug}-{branch}.png"
    path = photo_path(current_app.config["UPLOAD_FOLDER"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\nprobe")
    db.session.add(DemandPhoto(event_id=event.id, filename="现场.png", stored_name=name, content_type="image/png",
                               size=13))


def _add_meeting_records(ns, branch: int) -> None:
    """A planned community meeting about the branch's compound (its edit page answers) with an
    attendee, an escalated item (and the street's pending copy of it) and an action item, so the
    meetings routes are probed."""
    from wuye_saas.meetings.models import ActionItem, AgendaItem, Meeting, MeetingAttendee
    from wuye_saas.timeutil import now
    meeting = Meeting(level="community", kind="joint", title=f"探针联席会议{branch}", street_id=getattr(ns, f"street{branch}"),
                      community_id=getattr(ns, f"community{branch}"), compound_id=getattr(ns, f"compound{branch}"),
                      scheduled_at=now(), status="planned")
    db.session.add(meeting)
    db.session.flush()
    item = AgendaItem(meeting_id=meeting.id, street_id=meeting.street_id, community_id=meeting.community_id,
                      compound_id=meeting.compound_id, title=f"探针议题{branch}", outcome="escalated", decision="提交街道")
    db.session.add_all([MeetingAttendee(meeting_id=meeting.id, party="committee", name="委员", present=True), item])
    db.session.flush()
    db.session.add_all([
        AgendaItem(street_id=meeting.street_id, community_id=meeting.community_id, compound_id=meeting.compound_id,
                   title=f"探针议题{branch}", escalated_from_id=item.id),
        ActionItem(meeting_id=meeting.id, agenda_item_id=item.id, task="探针事项", owner="物业", owner_party="firm",
                   due_on=date(2026, 1, 31))])


def _add_district_meeting(ns) -> dict[str, int]:
    """A planned district joint meeting (no street) with an attendee, an item a street meeting
    passed on (street → district, from the street's own item) and an action item dispatched to
    the branch-1 department: the district level's records, probed by
    test_district_meeting_routes_follow_the_policy."""
    from wuye_saas.meetings.models import ActionItem, AgendaItem, Meeting, MeetingAttendee
    from wuye_saas.timeutil import now
    street_meeting = Meeting(level="street", kind="joint", title="探针街道会议", street_id=ns.street1,
                             scheduled_at=now(), held_at=now(), status="held")
    meeting = Meeting(level="district", kind="joint", title="探针区联席会议", scheduled_at=now(), status="planned")
    db.session.add_all([street_meeting, meeting])
    db.session.flush()
    street_item = AgendaItem(level="street", meeting_id=street_meeting.id, street_id=ns.street1,
                             title="探针街道议题", outcome="escalated", decision="提交区联席会议")
    db.session.add(street_item)
    db.session.flush()
    item = AgendaItem(level="district", meeting_id=meeting.id, street_id=ns.street1, title="探针街道议题",
                      escalated_from_id=street_item.id)
    attendee = MeetingAttendee(meeting_id=meeting.id, party="department", name="局长", present=None)
    db.session.add_all([item, attendee])
    db.session.flush()
    action = ActionItem(meeting_id=meeting.id, agenda_item_id=item.id, task="联合执法", owner="局长",
                        owner_party="department", department_id=ns.department1, due_on=date(2026, 1, 31))
    db.session.add(action)
    db.session.flush()
    return {"meeting": meeting.id, "meeting_attendee": attendee.id, "agenda_item": item.id, "action_item": action.id}


def test_district_meeting_routes_follow_the_policy(app, client, world):
    """Every GET route naming meeting records, on the district level's records: the district
    admin runs them (200), the department given the action item reads them, every other alpha
    role gets what the policy says (no street or community sees the district meeting), and
    beta's roles 404."""
    tables = {"meeting", "meeting_attendee", "agenda_item", "action_item"}
    probes = [p for p in collect_probes(app)
              if p.ids and {mdl.__tablename__ for mdl in p.ids.values()} <= tables]
    assert {p.endpoint for p in probes} >= {"meetings.detail", "meetings.edit"}
    with app.app_context():
        with tenant_scope(world["alpha"].tenant_id):
            records = _add_district_meeting(world["alpha"])
            db.session.commit()
    failures, seen = [], {}
    for role in ROLES:
        username = f"alpha-{USER_SUFFIX[role]}"
        client.post("/logout")
        login(client, username)
        for probe in probes:
            ids = {arg: records[mdl.__tablename__] for arg, mdl in probe.ids.items()}
            with app.app_context(), tenant_scope(world["alpha"].tenant_id):
                visible = _visible(_membership_of(username), probe, ids)
            seen[(role, probe.endpoint)] = visible
            want = (200,) if role == "district_admin" else (200, 403) if visible else (404,)
            _check(client, probe.urls("alpha", ids), _status(*want), failures, username, str(want))
        client.post("/logout")
        login(client, f"beta-{USER_SUFFIX[role]}")
        for probe in probes:
            ids = {arg: records[mdl.__tablename__] for arg, mdl in probe.ids.items()}
            _check(client, probe.urls("alpha", ids) + probe.urls("beta", ids), _status(404), failures,
                   f"beta-{USER_SUFFIX[role]}", "404")
    assert not failures, "\n".join(failures)
    # Not vacuous: the department reads the meeting its action item is in; streets and
    # communities do not see the district meeting.
    assert seen[("department_staff", "meetings.detail")] is True
    assert seen[("street_staff", "meetings.detail")] is False
    assert seen[("community_staff", "meetings.detail")] is False


def _add_evaluation_records(ns, branch: int) -> None:
    """An active standard, an open cycle on it with the branch's firm × compound assessment,
    its item scores (one the committee scores), an evidence file on disk, and (branch 1 only)
    the assessor assigned to the assessor-scored item, so the evaluation, assessment, score and
    evidence routes are probed."""
    from flask import current_app

    from wuye_saas.auth.models import Membership
    from wuye_saas.evaluation.models import (
        Assessment, AssessorAssignment, Evaluation, Evidence, ItemScore, Standard, StandardCategory, StandardItem,
    )
    from wuye_saas.evaluation.workflow import evidence_path
    std = Standard(name=f"探针考核标准{branch}", status="active", unit="compound")
    db.session.add(std)
    db.session.flush()
    cat = StandardCategory(standard_id=std.id, name="日常管理")
    db.session.add(cat)
    db.session.flush()
    items = [StandardItem(standard_id=std.id, category_id=cat.id, name="探针自评项", max_points=5, method="yesno",
                          scorer="self", evidence_required=True),
             StandardItem(standard_id=std.id, category_id=cat.id, name="探针测评项", max_points=5, method="yesno",
                          scorer="assessor"),
             # The compound's committee sees the running assessment (only this item) of its branch.
             StandardItem(standard_id=std.id, category_id=cat.id, name="探针业委会项", max_points=5, method="points",
                          scorer="committee")]
    ev = Evaluation(standard_id=std.id, kind="quarterly", name=f"探针季测评{branch}", status="open",
                    period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                    self_report_due=date(2099, 4, 10), review_due=date(2099, 4, 20))
    db.session.add_all(items + [ev])
    db.session.flush()
    a = Assessment(evaluation_id=ev.id, firm_id=getattr(ns, f"firm{branch}"), compound_id=getattr(ns, f"compound{branch}"))
    db.session.add(a)
    db.session.flush()
    scores = [ItemScore(assessment_id=a.id, item_id=i.id) for i in items]
    db.session.add_all(scores)
    db.session.flush()
    name = f"probe-{ns.slug}-{branch}.png"
    path = evidence_path(current_app.config["UPLOAD_FOLDER"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\nprobe")
    evidence = Evidence(item_score_id=scores[0].id, filename="名册.png", stored_name=name, content_type="image/png",
                        size=13)
    db.session.add(evidence)
    if branch == 1:
        assessor = db.session.execute(select(Membership.id).where(Membership.role == "assessor")).scalar_one()
        db.session.add(AssessorAssignment(evaluation_id=ev.id, item_id=items[1].id, membership_id=assessor))
    db.session.flush()
    for table, row in (("evaluation", ev), ("assessment", a), ("item_score", scores[0]), ("evidence", evidence)):
        setattr(ns, f"{table}{branch}", row.id)


def _add_survey_records(ns, branch: int) -> None:
    """An open satisfaction survey of the branch's compound with one answer, in the district's
    first evaluation (the workflow probe's when it made one, else a small one of our own), so
    the survey routes and the public answer page are probed."""
    from wuye_saas.evaluation.models import Evaluation, Standard, StandardItem, Survey, SurveyResponse
    ev_id = db.session.execute(select(Evaluation.id).order_by(Evaluation.id).limit(1)).scalar()
    if ev_id is None:
        std = Standard(name="探针测评标准")
        db.session.add(std)
        db.session.flush()
        ev = Evaluation(standard_id=std.id, kind="quarterly", name="探针季测评", status="open",
                        period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                        self_report_due=date(2026, 4, 10), review_due=date(2026, 4, 20))
        db.session.add_all([StandardItem(standard_id=std.id, name="探针满意度", max_points=20, method="computed",
                                         scorer="survey"), ev])
        db.session.flush()
        ev_id = ev.id
    survey = Survey(evaluation_id=ev_id, compound_id=getattr(ns, f"compound{branch}"), opens_on=date(2026, 1, 1),
                    closes_on=date(2099, 12, 31))
    db.session.add(survey)
    db.session.flush()
    db.session.add(SurveyResponse(survey_id=survey.id, household_id=getattr(ns, f"household{branch}"),
                                  answers={}, comment="探针意见"))


def _add_committee_records(ns, branch: int) -> None:
    """A 换届 of the branch's compound in joint review with a candidate checked on one criterion,
    an open supervision of the branch's committee and a term-expiry follow-up of its community,
    so the formation, vetting, supervision and follow-up routes are probed."""
    from wuye_saas.committees.models import (
        Candidate, CommitteeSupervision, Formation, VettingCheck, VettingCriterion,
    )
    from wuye_saas.followups.models import FollowUp
    compound, committee = getattr(ns, f"compound{branch}"), getattr(ns, f"committee{branch}")
    criterion = VettingCriterion(group="must_not", text=f"探针审查项{branch}", checked_by="派出所")
    formation = Formation(compound_id=compound, kind="reelection", committee_kind="业委会", seats=3,
                          previous_committee_id=committee, status="vetting", opened_on=date(2026, 1, 2))
    db.session.add_all([criterion, formation])
    db.session.flush()
    candidate = Candidate(formation_id=formation.id, name=f"探针候选人{branch}", is_party_member=True)
    db.session.add(candidate)
    db.session.flush()
    db.session.add_all([
        VettingCheck(candidate_id=candidate.id, criterion_id=criterion.id, result="pass", unit="派出所"),
        CommitteeSupervision(committee_id=committee, kind="correction", reason="探针整改",
                             started_on=date(2026, 1, 3), due_on=date(2026, 2, 3)),
        FollowUp(kind="term_expiry", key=f"probe:{branch}", title=f"探针提醒{branch}", compound_id=compound,
                 committee_id=committee, community_id=getattr(ns, f"community{branch}"),
                 street_id=getattr(ns, f"street{branch}"))])


def _add_appeal_records(ns, branch: int) -> None:
    """An open appeal on an assessment of the branch's firm and compound (the workflow probe's
    when it made one, else one in a small published evaluation of our own with its results), so
    the results and appeal routes are probed."""
    from wuye_saas.evaluation.models import Appeal, Assessment, Evaluation, ItemScore, Standard, StandardItem
    from wuye_saas.timeutil import now
    firm, compound = getattr(ns, f"firm{branch}"), getattr(ns, f"compound{branch}")
    a = db.session.execute(select(Assessment).where(Assessment.firm_id == firm, Assessment.compound_id == compound)
                           .order_by(Assessment.id).limit(1)).scalar()
    if a is None:
        ev = db.session.execute(select(Evaluation).where(Evaluation.name == "探针考核结果")).scalar()
        if ev is None:
            std = Standard(name="探针结果标准", status="active", star_bands=[{"stars": 5, "min": "85"}])
            db.session.add(std)
            db.session.flush()
            db.session.add(StandardItem(standard_id=std.id, name="探针项目", max_points=100, method="yesno",
                                        scorer="community"))
            ev = Evaluation(standard_id=std.id, kind="quarterly", name="探针考核结果", status="published",
                            period_start=date(2025, 10, 1), period_end=date(2025, 12, 31),
                            self_report_due=date(2026, 1, 10), review_due=date(2026, 1, 20), results_at=now(),
                            published_at=now(), appeal_until=date(2099, 1, 1))
            db.session.add(ev)
            db.session.flush()
        a = Assessment(evaluation_id=ev.id, firm_id=firm, compound_id=compound, status="finalized",
                       base_total=100, bonus_total=0, total=100, stars=5, list_kind="red", rank=1,
                       breakdown={"categories": [], "no_data": []})
        db.session.add(a)
        db.session.flush()
    item_id = db.session.execute(select(StandardItem.id).where(StandardItem.standard_id == a.evaluation.standard_id)
                                 .order_by(StandardItem.id).limit(1)).scalar()
    if not db.session.execute(select(ItemScore.id).where(ItemScore.assessment_id == a.id,
                                                         ItemScore.item_id == item_id)).first():
        db.session.add(ItemScore(assessment_id=a.id, item_id=item_id, self_points=100, final_points=100))
    db.session.add(Appeal(assessment_id=a.id, item_id=item_id, reason=f"探针申诉{branch}", old_points=100))


def _add_credit_records(ns, branch: int) -> None:
    """The district's credit kinds (once), a record of the branch's firm with an evidence file on
    disk and the firm's objection to it, and a kept quarter grade, so the credit routes are probed."""
    from flask import current_app

    from wuye_saas.credit.defaults import seed_defaults
    from wuye_saas.credit.models import (
        CreditEvidence, CreditGrade, CreditObjection, CreditRecord, CreditRecordKind,
    )
    from wuye_saas.publicity.accounts import voucher_path
    if branch == 1:
        seed_defaults()
    kind = db.session.execute(select(CreditRecordKind).where(CreditRecordKind.code == "criticised")).scalar_one()
    firm = getattr(ns, f"firm{branch}")
    rec = CreditRecord(firm_id=firm, kind_id=kind.id, nature="bad", points=-kind.points, title=f"探针通报{branch}",
                       occurred_on=date(2026, 1, 5), valid_until=date(2027, 1, 5), source="staff", evidence="探针")
    db.session.add(rec)
    db.session.flush()
    name = f"probe-credit-{ns.slug}-{branch}.pdf"
    path = voucher_path(current_app.config["UPLOAD_FOLDER"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 probe")
    db.session.add_all([
        CreditEvidence(record_id=rec.id, filename="通报.pdf", stored_name=name, content_type="application/pdf",
                       size=14),
        CreditObjection(record_id=rec.id, firm_id=firm, reason="探针异议"),
        CreditGrade(firm_id=firm, quarter_end=date(2025, 12, 31), base=80, good=0, bad=0, score=80, grade="AA")])


def _add_holdback_records(ns, branch: int) -> None:
    """A 质量保证金 posting of the branch's firm and compound (on the branch's fee policy and
    assessment), so the release pages are probed."""
    from wuye_saas.evaluation.models import Assessment
    from wuye_saas.fees.models import HoldbackRelease
    firm, compound = getattr(ns, f"firm{branch}"), getattr(ns, f"compound{branch}")
    a = db.session.execute(select(Assessment).where(Assessment.firm_id == firm, Assessment.compound_id == compound)
                           .order_by(Assessment.id).limit(1)).scalar_one()
    pid = db.session.execute(select(FeePolicy.id).where(FeePolicy.name == f"探针收费政策{branch}")).scalar_one()
    db.session.add(HoldbackRelease(evaluation_id=a.evaluation_id, assessment_id=a.id, compound_id=compound,
                                   firm_id=firm, policy_id=pid, month=date(2026, 1, 1), basis="stars", stars=4,
                                   percent=90, withheld_fen=1000, released_fen=900, kept_fen=100, reason="探针"))


def _add_fourlist_records(ns, branch: int) -> None:
    """A 四项清单 item of the branch's community owned by the branch's firm, with a progress
    report, so the list's item pages are probed."""
    from wuye_saas.fourlists.models import FourListItem, FourListUpdate
    item = FourListItem(community_id=getattr(ns, f"community{branch}"), year=2026, kind="duty",
                        title=f"探针清单事项{branch}", owner_kind="firm", owner_name="探针企业",
                        firm_id=getattr(ns, f"firm{branch}"), due_on=date(2026, 12, 31), state="doing",
                        progress=10, detail="")
    db.session.add(item)
    db.session.flush()
    db.session.add(FourListUpdate(item_id=item.id, state="doing", progress=10, note="探针进展", author="探针"))


def _add_volunteer_records(ns, branch: int) -> None:
    """A volunteer of the branch's community with a claimed task, so the register's pages are probed."""
    from wuye_saas.volunteers.models import BuildingLeader, Volunteer, VolunteerTask
    v = Volunteer(community_id=getattr(ns, f"community{branch}"), name=f"探针志愿者{branch}", organisation="",
                  is_party_member=True, area_note="", phone="")
    db.session.add(v)
    db.session.flush()
    db.session.add(VolunteerTask(community_id=v.community_id, title=f"探针任务{branch}", detail="", kind="task",
                                 state="claimed", volunteer_id=v.id, result=""))
    db.session.add(BuildingLeader(building_id=getattr(ns, f"building{branch}"), compound_id=getattr(ns, f"compound{branch}"),
                                  role="building", unit_no="", name=f"探针楼栋长{branch}", phone=""))


def _add_filing_records(ns, branch: int) -> None:
    """A 合同备案 of the branch's contract, returned to the firm (so its refile page answers the
    firm), with its community review and an attachment on disk."""
    from flask import current_app

    from wuye_saas.contracts.models import ContractFiling, FilingFile, FilingReview
    from wuye_saas.publicity.accounts import voucher_path
    f = ContractFiling(contract_id=getattr(ns, f"contract{branch}"), firm_id=getattr(ns, f"firm{branch}"),
                       compound_id=getattr(ns, f"compound{branch}"), kind="early", service_grade="二级",
                       fee_mode="包干制", fee_rate=0.85, start_date=date(2024, 1, 1), end_date=date(2030, 12, 31),
                       status="returned")
    db.session.add(f)
    db.session.flush()
    name = f"probe-filing-{ns.slug}-{branch}.pdf"
    path = voucher_path(current_app.config["UPLOAD_FOLDER"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 probe")
    db.session.add_all([
        FilingReview(filing_id=f.id, level="community", approve=False, reason="探针退回"),
        FilingFile(filing_id=f.id, filename="合同.pdf", stored_name=name, content_type="application/pdf", size=14)])


def _add_hiring_records(ns, branch: int) -> None:
    """A published tender of the branch's compound with the branch's firm's application, a panel
    member and a score, and a vote-mode selection's candidate, so the hiring routes are probed."""
    from decimal import Decimal

    from wuye_saas.hiring.models import PanelMember, PanelScore, Selection, SelectionCandidate, TenderApplication
    from wuye_saas.publicity.models import Publication
    compound, firm = getattr(ns, f"compound{branch}"), getattr(ns, f"firm{branch}")
    # Published: its notice is the compound's first publication (the publicity probe's).
    pub_id = db.session.execute(select(Publication.id).where(Publication.compound_id == compound)
                                .order_by(Publication.id).limit(1)).scalar()
    terms = dict(service_grade="二级", fee_mode="包干制", fee_rate=Decimal("1"), term_start=date(2099, 1, 1),
                 term_end=date(2100, 12, 31))
    tender = Selection(compound_id=compound, mode="tender", status="open", acting="committee",
                       title=f"探针招标{branch}", requirements="探针要求", deadline=date(2098, 12, 1),
                       notice_publication_id=pub_id, **terms)
    db.session.add(tender)
    db.session.flush()
    application = TenderApplication(selection_id=tender.id, firm_id=firm, quoted_rate=Decimal("1"), proposal="探针方案",
                                    grade="AA")
    member = PanelMember(selection_id=tender.id, name=f"探针评委{branch}")
    db.session.add_all([application, member])
    db.session.flush()
    voting = Selection(compound_id=compound, mode="vote", status="draft", acting="committee",
                       title=f"探针表决选聘{branch}", **terms)
    db.session.add_all([PanelScore(application_id=application.id, member_id=member.id, points=Decimal("80")), voting])
    db.session.flush()
    db.session.add(SelectionCandidate(selection_id=voting.id, firm_id=firm, quoted_rate=Decimal("1")))
    setattr(ns, f"selection{branch}", tender.id)
    setattr(ns, f"tender_application{branch}", application.id)


def _ids_for(probe: Probe, ids, slug: str, branch: int) -> dict[str, int]:
    return {arg: ids[model.__tablename__][slug][branch] for arg, model in probe.ids.items()}


def _branches(probe: Probe):
    return BRANCHES if probe.ids else (1,)


def _membership_of(username: str) -> Membership:
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one()
    return db.session.execute(select(Membership).filter_by(user_id=user.id)).scalar_one()


def _visible(mem: Membership, probe: Probe, record_ids: dict[str, int]) -> bool:
    """Whether every record the route names is in the membership's scope, per the policy."""
    for arg, model in probe.ids.items():
        stmt = select(model.id).where(model.id == record_ids[arg], policy.visible(mem, model))
        if db.session.execute(stmt).first() is None:
            return False
    return True


def _check(client, urls: list[str], ok, failures: list, who: str, want: str):
    for url in urls:
        try:
            resp = client.get(url)
        except Exception as exc:  # noqa: BLE001  (TESTING re-raises view errors: report them all)
            failures.append(f"{who} GET {url} raised {type(exc).__name__}: {exc}")
            continue
        if not ok(resp):
            failures.append(f"{who} GET {url} → {resp.status_code} "
                            f"{resp.headers.get('Location', '')}, expected {want}")


def _status(*codes):
    return lambda resp: resp.status_code in codes


def test_every_tenant_route_is_probed(app):
    probes = collect_probes(app)
    assert len(probes) > 20, [p.rule.rule for p in probes]
    # The register alone contributes detail, edit and delete pages for every resource.
    assert sum(1 for p in probes if p.ids) >= 3 * 14
    assert any(p.endpoint == "jobs.status" for p in probes)


@pytest.mark.parametrize("role", ROLES)
def test_beta_roles_get_404_for_everything_of_alpha(app, client, probe_world, role):
    ids = probe_world.ids
    username = f"beta-{USER_SUFFIX[role]}"
    login(client, username)
    failures = []
    for probe in probe_world.probes:
        for branch in _branches(probe):
            alpha_ids = _ids_for(probe, ids, "alpha", branch)
            if not probe.public:  # public pages are open to all; their ids are checked below
                _check(client, probe.urls("alpha", alpha_ids), _status(404), failures,
                       username, "404 (alpha's slug)")
            if probe.ids:
                _check(client, probe.urls("beta", alpha_ids), _status(404), failures,
                       username, "404 (alpha's id under beta's slug)")
    assert not failures, "\n".join(failures)
    # Not vacuous: the same session does reach beta's own pages.
    assert client.get("/d/beta/").status_code == 200


def test_anonymous_is_sent_to_login_or_404(app, client, probe_world):
    def to_login_or_404(resp):
        return resp.status_code == 404 or (
            resp.status_code == 302 and resp.headers["Location"].startswith("/login"))

    failures = []
    for probe in probe_world.probes:
        alpha_ids = _ids_for(probe, probe_world.ids, "alpha", 1)
        if probe.public:
            # Public pages are open, but never show another district's record.
            if probe.ids:
                _check(client, probe.urls("beta", alpha_ids), _status(404), failures, "anonymous", "404")
        else:
            _check(client, probe.urls("alpha", alpha_ids), to_login_or_404, failures,
                   "anonymous", "a redirect to /login or 404")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "district_admin"])
def test_alpha_roles_see_only_their_scope(app, client, probe_world, role):
    ids = probe_world.ids
    username = f"alpha-{USER_SUFFIX[role]}"
    login(client, username)
    expected = []  # (branch, urls, visible per the policy)
    with app.app_context(), tenant_scope(probe_world.tenant["alpha"]):
        mem = _membership_of(username)
        for probe in probe_world.probes:
            for branch in BRANCHES if probe.ids else ():
                record_ids = _ids_for(probe, ids, "alpha", branch)
                # Public pages show any compound of the district, in scope or not.
                expected.append((branch, probe.urls("alpha", record_ids),
                                 probe.public or _visible(mem, probe, record_ids)))
    failures = []
    for _, urls, visible in expected:
        if visible:
            _check(client, urls, _status(200, 403), failures, username, "200/403 (in scope)")
        else:
            _check(client, urls, _status(404), failures, username, "404 (out of scope)")
    assert not failures, "\n".join(failures)
    # Not vacuous either way: branch 2 lies outside every role's scope except what the policy
    # opens to all (the assessor's firms, the district's household classes), and each role
    # reaches at least one record of branch 1 (its street, community, firm or compound).
    assert sum(1 for b, _, v in expected if b == 2 and not v) >= 3 * 10
    assert sum(1 for b, _, v in expected if b == 1 and v) >= 3


# The only org records the policy opens beyond a role's own branch: the assessor evaluates
# every firm (and sees their instructors); household classes are district-wide settings, and the
# departments are whom any staff can give work to. A department's own accounts see only their
# department and what was given to it; the assessor has no part in dispatching.
OPEN_BEYOND_SCOPE = {"assessor": {"firm", "instructor"}}
DISTRICT_WIDE = {"household_class": set(ROLES) - {"department_staff"},
                 "department": set(ROLES) - {"department_staff", "assessor"}}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "district_admin"])
def test_policy_keeps_branch_two_out_of_scope(app, probe_world, role):
    """Guards the expectations above: they follow the policy, so the policy is pinned here."""
    tables = _models_by_table()
    with app.app_context(), tenant_scope(probe_world.tenant["alpha"]):
        mem = _membership_of(f"alpha-{USER_SUFFIX[role]}")
        seen = {}
        for table, by_slug in probe_world.ids.items():
            model = tables.get(table)
            if model is None or model.__module__ != m.__name__:
                continue
            stmt = select(model.id).where(model.id == by_slug["alpha"][2], policy.visible(mem, model))
            seen[table] = db.session.execute(stmt).first() is not None
    expected = {t: role in DISTRICT_WIDE.get(t, ()) or t in OPEN_BEYOND_SCOPE.get(role, set()) for t in seen}
    assert len(seen) >= 14
    assert seen == expected


def test_alpha_roles_pages_without_ids_do_not_fail(app, client, probe_world):
    """Lists, forms and dashboards answer every role of the district without a server error."""
    failures = []
    for role in ROLES:
        username = f"alpha-{USER_SUFFIX[role]}"
        login(client, username)
        for probe in probe_world.probes:
            if not probe.ids:
                _check(client, probe.urls("alpha"), _status(200, 302, 403), failures,
                       username, "200/302/403")
    assert not failures, "\n".join(failures)


# The publish form takes its compound and template from the query string, not the route: probed here.
PUBLICATION_FORMS = ("standing_notice", "disclosure", "committee_news", "committee_rules", "committee_fees",
                     "annual_budget", "annual_account")


@pytest.mark.parametrize("role", ROLES)
def test_publication_forms_of_another_compound_are_404(app, client, probe_world, role):
    """GET and POST of every template's form: 404 for a compound out of the role's scope (and for
    another district's), 403 for one in scope that the role may not publish for; never 200."""
    from .helpers import post
    alpha, beta = f"alpha-{USER_SUFFIX[role]}", f"beta-{USER_SUFFIX[role]}"
    compound2, beta_compound = probe_world.ids["compound"]["alpha"][2], probe_world.ids["compound"]["beta"][1]
    with app.app_context(), tenant_scope(probe_world.tenant["alpha"]):
        visible = db.session.execute(select(m.Compound.id).where(
            m.Compound.id == compound2, policy.visible(_membership_of(alpha), m.Compound))).first() is not None
    failures = []
    login(client, alpha)
    for tpl in PUBLICATION_FORMS:
        url = f"/d/alpha/publications/new?compound_id={compound2}&template={tpl}"
        for method, resp in (("GET", client.get(url)), ("POST", post(client, url, {"year": "2025", "half": "1"}))):
            want = 403 if visible else 404
            if resp.status_code != want:
                failures.append(f"{alpha} {method} {url} → {resp.status_code}, expected {want}")
    client.post("/logout")
    login(client, beta)
    for tpl in PUBLICATION_FORMS:
        url = f"/d/beta/publications/new?compound_id={compound2}&template={tpl}"
        if client.get(url).status_code != 404:
            failures.append(f"{beta} GET {url}: alpha's compound under beta's slug, expected 404")
        url = f"/d/alpha/publications/new?compound_id={beta_compound}&template={tpl}"
        if client.get(url).status_code != 404:
            failures.append(f"{beta} GET {url}: alpha's slug, expected 404")
    assert not failures, "\n".join(failures)


def test_district_admin_reaches_every_record_of_its_district(app, client, probe_world):
    login(client, "alpha-district")
    failures, probed = [], 0
    for probe in probe_world.probes:
        want = ADMIN_SPECIAL.get(probe.endpoint, 200)
        for branch in _branches(probe):
            urls = probe.urls("alpha", _ids_for(probe, probe_world.ids, "alpha", branch))
            _check(client, urls, _status(want), failures, "alpha-district", str(want))
            probed += len(urls)
    assert not failures, "\n".join(failures)
    assert probed > 20


def test_public_pages_are_open_on_active_districts_only(app, client, probe_world):
    """/p/ pages need no login: 200 for anyone on an active district, 404 on an unknown or
    suspended one (never a hint that it exists)."""
    public = [p for p in probe_world.probes if p.public and not p.ids]
    assert public, "no public page to probe"
    failures = []
    for who in ("anonymous", "beta-district", "alpha-firm"):
        if who != "anonymous":
            login(client, who)
        for probe in public:
            for slug in TENANTS:
                _check(client, probe.urls(slug), _status(200), failures, who, "200 (active district)")
            _check(client, probe.urls("no-such-district"), _status(404), failures, who, "404 (unknown)")
    with app.app_context(), system_scope():
        db.session.execute(db.update(Tenant).where(Tenant.slug == "beta").values(active=False))
        db.session.commit()
    client.post("/logout")
    for probe in public:
        _check(client, probe.urls("beta"), _status(404), failures, "anonymous", "404 (suspended)")
        _check(client, probe.urls("alpha"), _status(200), failures, "anonymous", "200 (active district)")
    assert not failures, "\n".join(failures)


def _add_matter_records(ns, branch: int) -> None:
    """A 重大事项报备 of the branch's vote awaiting the street, with a document on disk, so the
    matters pages are probed."""
    from flask import current_app

    from wuye_saas.matters.models import MatterFiling, MatterFilingFile
    from wuye_saas.publicity.accounts import voucher_path
    from wuye_saas.votes.models import OwnerVote
    vote = db.session.execute(select(OwnerVote).where(
        OwnerVote.compound_id == getattr(ns, f"compound{branch}"))).scalars().first()
    filing = MatterFiling(compound_id=vote.compound_id, vote_id=vote.id, matter=vote.matter, title=vote.title,
                          summary="探针报备", status="filed")
    db.session.add(filing)
    db.session.flush()
    name = f"probe-matter-{ns.slug}-{branch}.pdf"
    path = voucher_path(current_app.config["UPLOAD_FOLDER"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 probe")
    db.session.add(MatterFilingFile(filing_id=filing.id, filename="报备表.pdf", stored_name=name,
                                    content_type="application/pdf", size=14, sha256="0" * 64))
    db.session.flush()


def _add_webhook_records(ns, branch: int) -> None:
    """An API client (the district's, not a branch's) with a webhook subscription per branch and a
    delivery, so the webhook pages are probed (district admin only: everyone else gets 404)."""
    from wuye_saas.api.models import ApiClient
    from wuye_saas.webhooks.models import WebhookDelivery, WebhookSubscription
    client = ApiClient(name=f"探针客户端{branch}", scopes=["demands:read"], key_id=f"probe-{ns.slug}-{branch}",
                       secret_hash="0" * 64)
    db.session.add(client)
    db.session.flush()
    sub = WebhookSubscription(client_id=client.id, url="https://example.invalid/hook", kinds=["demand.resolved"],
                              secret="whsec_probe")
    db.session.add(sub)
    db.session.flush()
    db.session.add(WebhookDelivery(uid=f"probe-{ns.slug}-{branch}", subscription_id=sub.id, kind="demand.resolved",
                                   body="{}"))
    # A message of the district's outbox that failed (its resend is the admin's).
    from wuye_saas.notifications.models import OutboxMessage
    db.session.add(OutboxMessage(idem_key=f"probe-{ns.slug}-{branch}", channel="sms", kind="demand.resolved",
                                 recipient="13800000000", body="探针短信", status="failed"))
    db.session.flush()


def _add_exit_records(ns, branch: int) -> None:
    """An exit of the branch's firm from the branch's compound with its handover lines, so the
    exit pages are probed."""
    from wuye_saas.exits.models import ITEM_KINDS, FirmExit, HandoverItem
    x = FirmExit(compound_id=getattr(ns, f"compound{branch}"), firm_id=getattr(ns, f"firm{branch}"),
                 contract_id=getattr(ns, f"contract{branch}"), source="expiry", notice_on=date(2026, 1, 5),
                 effective_on=date(2030, 12, 31), deadline_on=date(2030, 12, 31))
    db.session.add(x)
    db.session.flush()
    db.session.add_all([HandoverItem(exit_id=x.id, kind=k, sort=i) for i, k in enumerate(ITEM_KINDS)])
    # An evaluation's 启动退出程序 on the branch's firm in its compound: the exits page offers it.
    from wuye_saas.credit.models import FirmFlag
    db.session.add(FirmFlag(firm_id=getattr(ns, f"firm{branch}"), compound_id=getattr(ns, f"compound{branch}"),
                            kind="exit_procedure", valid_from=date(2026, 1, 1), valid_until=date(2031, 1, 1),
                            list_kind="black", source_key=f"probe:exit:{branch}", title=f"探针启动退出程序{branch}"))


def _add_api_client_records(ns, branch: int) -> None:
    """An API client per branch (the admin's rotate and revoke pages). The JSON API itself is
    under /api/v1/<district>/ with a bearer token, not a session: tests/test_api.py probes every
    one of its routes (test_a_client_of_alpha_gets_404_for_every_object_of_beta)."""
    from wuye_saas.api import logic as api_logic
    client, _ = api_logic.create(f"探针接口客户端{branch}", ["register:read"], None, 60, None)
    setattr(ns, f"api_client{branch}", client.id)


def test_api_routes_are_not_session_routes(app):
    """The API's routes take the district as <district>, never <tenant_slug>: a session's
    membership is never looked up for them (web._tenant_from_url), and they are probed by
    tests/test_api.py with tokens instead of the sessions above."""
    api_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert api_rules and not any("tenant_slug" in r.arguments for r in api_rules)
