"""上榜后果 that act (credit/consequences.py): hand-checked flags and follow-ups for each
consequence kind on publish, idempotence, an appeal that ends what a listing produced, the
read API, the 月抽查 that includes 加大抽查频次 firms, and who sees the flags."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from types import SimpleNamespace

from sqlalchemy import select

from wuye_saas.credit import consequences
from wuye_saas.credit.consequences import active_flags, firms_with_flag, tender_bonus_points
from wuye_saas.credit.models import FirmFlag
from wuye_saas.evaluation import cycles
from wuye_saas.evaluation.models import Appeal, Assessment, Evaluation, Standard
from wuye_saas.extensions import db
from wuye_saas.followups.models import FollowUp
from wuye_saas.timeutil import today

from .helpers import login, post, wait_for_job
from .test_appeals import _latest_run, confirmed_cycle
from .test_credit import _in, seeded
from .test_evaluation_results import enter

KINDS = {"red": [{"kind": "priority_renewal"}, {"kind": "tender_bonus", "points": "2"}],
         "yellow": [{"kind": "interview"}, {"kind": "more_spot_checks"}, {"kind": "text", "text": "限期整改"}],
         "black": [{"kind": "interview"}, {"kind": "exit_procedure"}, {"kind": "restrict_tender"},
                   {"kind": "restrict_award"}],
         "veto": [{"kind": "restrict_tender"}, {"kind": "text", "text": "通报批评"}]}


def published(app, world, client, consequences_=KINDS, veto_firm1=False):
    """confirmed_cycle (firm 1: 84.00, 4★, unlisted; firm 2: 55.00, 1★, 黑榜), with the
    standard's consequences set, finalized and published by the district."""
    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)

    def setup():
        db.session.get(Standard, std.id).consequences = consequences_
        if veto_firm1:
            enter(std, a1, "v1", vetoed=True)
    _in(app, ns, setup)
    login(client, "alpha-district")
    post(client, f"/d/alpha/evaluations/{ev.id}/finalize")
    assert wait_for_job(app, _latest_run(app, ns, ev.id))["status"] == "done"
    assert post(client, f"/d/alpha/evaluations/{ev.id}/publish").status_code == 302
    return ns, std, ev, a1, a2


def flags(app, ns):
    return _in(app, ns, lambda: [
        (f.firm_id, f.compound_id, f.kind, f.points, f.list_kind, f.revoked_at is not None)
        for f in db.session.execute(select(FirmFlag).order_by(FirmFlag.id)).scalars()])


def follow_ups(app, ns):
    return _in(app, ns, lambda: [(f.key, f.kind, f.status) for f in db.session.execute(
        select(FollowUp).order_by(FollowUp.key)).scalars()])


def appeal(app, client, ns, std, ev, assessment_id, item, decision: dict, firm_id=None):
    """The firm's manager appeals an item, the district upholds it; the recompute's result."""
    from wuye_saas.auth.models import Membership, User
    if firm_id is not None:
        def manage():
            uid = db.session.execute(select(User.id).where(User.username == "alpha-firm")).scalar_one()
            db.session.execute(select(Membership).where(Membership.user_id == uid)).scalar_one().firm_id = firm_id
        _in(app, ns, manage)
    client.post("/logout")
    login(client, "alpha-firm")
    post(client, f"/d/alpha/results/assessments/{assessment_id}/appeal", {"item_id": str(std.items[item]),
                                                                         "reason": "复核"})
    client.post("/logout")
    login(client, "alpha-district")
    appeal_id = _in(app, ns, lambda: db.session.execute(select(Appeal.id).order_by(Appeal.id.desc())).scalars().first())
    post(client, f"/d/alpha/appeals/{appeal_id}/decide", {"outcome": "uphold", "decision": "复核属实", **decision})
    out = wait_for_job(app, _latest_run(app, ns, ev.id))
    assert out["status"] == "done"
    return out["result"]


def test_black_list_consequences_on_publish_and_the_read_api(app, world, client):
    ns, std, ev, a1, a2 = published(app, world, client)
    d = today()
    # 黑榜 (firm 2 in compound 2): 限制参加招投标 and 限制评优 on the firm, 启动退出程序 on the firm in
    # compound 2; 约谈 and 启动退出程序 as follow-ups for compound 2's community. Firm 1: nothing.
    assert flags(app, ns) == [(ns.firm2, ns.compound2, "exit_procedure", None, "black", False),
                              (ns.firm2, None, "restrict_tender", None, "black", False),
                              (ns.firm2, None, "restrict_award", None, "black", False)]
    assert follow_ups(app, ns) == [(f"eval:{ev.id}:{a2}:black:exit", "exit", "open"),
                                   (f"eval:{ev.id}:{a2}:black:interview", "interview", "open")]
    community = _in(app, ns, lambda: db.session.execute(select(FollowUp.community_id).distinct()).scalars().all())
    assert community == [ns.community2]
    valid = _in(app, ns, lambda: {(f.valid_from, f.valid_until) for f in db.session.execute(select(FirmFlag)).scalars()})
    assert valid == {(d, d + timedelta(days=365))}

    def api():
        return (active_flags(ns.firm2, d), active_flags(ns.firm2, d, compound_id=ns.compound1),
                active_flags(ns.firm2, d, compound_id=ns.compound2), active_flags(ns.firm1, d),
                firms_with_flag("restrict_tender", d), firms_with_flag("priority_renewal", d),
                tender_bonus_points(ns.firm2, d), active_flags(ns.firm2, d - timedelta(days=1)),
                active_flags(ns.firm2, d + timedelta(days=364)), active_flags(ns.firm2, d + timedelta(days=365)))
    (all_, elsewhere, there, firm1, restricted, renewing, bonus, before, last_day, expired) = _in(app, ns, api)
    assert all_ == {"restrict_tender", "restrict_award", "exit_procedure"}
    assert elsewhere == {"restrict_tender", "restrict_award"}          # the exit is compound 2's
    assert there == all_ and firm1 == set()
    assert restricted == {ns.firm2} and renewing == set() and bonus == D("0.00")
    assert before == set() and last_day == all_ and expired == set()    # one year from publication
    # Another district sees none of it.
    assert _in(app, world["beta"], lambda: firms_with_flag("restrict_tender", d)) == set()
    # Running the consequences again (a recompute with no change) writes nothing.
    again = _in(app, ns, lambda: consequences.apply_evaluation(db.session.get(Evaluation, ev.id)).as_dict())
    assert again == {"flags": 0, "flags_revoked": 0, "follow_ups": 0, "follow_ups_closed": 0}
    assert len(flags(app, ns)) == 3 and len(follow_ups(app, ns)) == 2


def test_the_districts_validity_applies(app, world, client):
    from wuye_saas.credit.models import CreditRule
    seeded(app, world["alpha"])
    _in(app, world["alpha"], lambda: setattr(db.session.execute(select(CreditRule)).scalar_one(),
                                             "consequence_days", 180))
    ns, std, ev, a1, a2 = published(app, world, client)
    d = today()
    assert _in(app, ns, lambda: {f.valid_until for f in db.session.execute(select(FirmFlag)).scalars()}) \
        == {d + timedelta(days=180)}
    assert _in(app, ns, lambda: active_flags(ns.firm2, d + timedelta(days=180))) == set()


def test_an_appeal_onto_the_red_list_adds_priority_renewal_and_the_tender_bonus(app, world, client):
    ns, std, ev, a1, a2 = published(app, world, client)
    # b1: one occurrence instead of three → 88.00, 5★: firm 1 onto the 红榜.
    result = appeal(app, client, ns, std, ev, a1, "b1", {"occurrences": "1"})
    assert (result["flags"], result["flags_revoked"]) == (2, 0)
    assert flags(app, ns)[3:] == [(ns.firm1, None, "priority_renewal", None, "red", False),
                                  (ns.firm1, None, "tender_bonus", D("2.00"), "red", False)]
    d = today()
    assert _in(app, ns, lambda: (active_flags(ns.firm1, d), tender_bonus_points(ns.firm1, d),
                                 firms_with_flag("priority_renewal", d))) \
        == ({"priority_renewal", "tender_bonus"}, D("2.00"), {ns.firm1})
    # 优先续约 and 招投标加分 open no follow-up.
    assert [k for k, _, _ in follow_ups(app, ns) if k.split(":")[2] == str(a1)] == []


def test_an_appeal_off_the_black_list_ends_what_the_listing_produced(app, world, client):
    ns, std, ev, a1, a2 = published(app, world, client)
    # b1: 7 occurrences instead of 20 → 71.00, 3★: firm 2 off the 黑榜, onto the 黄榜.
    result = appeal(app, client, ns, std, ev, a2, "b1", {"occurrences": "7"}, firm_id=ns.firm2)
    assert _in(app, ns, lambda: db.session.get(Assessment, a2).list_kind) == "yellow"
    assert (result["flags"], result["flags_revoked"], result["follow_ups"], result["follow_ups_closed"]) == (1, 3, 2, 2)
    assert flags(app, ns) == [(ns.firm2, ns.compound2, "exit_procedure", None, "black", True),
                              (ns.firm2, None, "restrict_tender", None, "black", True),
                              (ns.firm2, None, "restrict_award", None, "black", True),
                              (ns.firm2, None, "more_spot_checks", None, "yellow", False)]
    reasons = _in(app, ns, lambda: set(db.session.execute(select(FirmFlag.revoke_reason).where(
        FirmFlag.revoked_at.is_not(None))).scalars()))
    assert reasons == {"2026年第一季度季测评结果经申诉改判，不再列入黑榜"}
    # The 黑榜's follow-ups are closed with a note; the 黄榜's 约谈 and the free-text measure opened.
    assert follow_ups(app, ns) == [(f"eval:{ev.id}:{a2}:black:exit", "exit", "closed"),
                                   (f"eval:{ev.id}:{a2}:black:interview", "interview", "closed"),
                                   (f"eval:{ev.id}:{a2}:yellow:interview", "interview", "open"),
                                   (f"eval:{ev.id}:{a2}:yellow:other", "other", "open")]
    note = _in(app, ns, lambda: db.session.execute(select(FollowUp.close_note).where(
        FollowUp.status == "closed")).scalars().first())
    assert "申诉改判" in note
    d = today()
    assert _in(app, ns, lambda: (active_flags(ns.firm2, d), firms_with_flag("restrict_tender", d))) \
        == ({"more_spot_checks"}, set())
    # Computing again changes nothing.
    again = _in(app, ns, lambda: consequences.apply_evaluation(db.session.get(Evaluation, ev.id)).as_dict())
    assert again == {"flags": 0, "flags_revoked": 0, "follow_ups": 0, "follow_ups_closed": 0}


def test_veto_consequences_and_lifting_the_veto(app, world, client):
    ns, std, ev, a1, a2 = published(app, world, client, veto_firm1=True)
    # Firm 1 vetoed: on the 黑榜 (its consequences) and the 一票否决 list's (限制参加招投标 again —
    # its own key — and a free-text 通报批评 follow-up).
    firm1 = [f for f in flags(app, ns) if f[0] == ns.firm1]
    assert sorted((k, lk) for _, _, k, _, lk, _ in firm1) == [
        ("exit_procedure", "black"), ("restrict_award", "black"), ("restrict_tender", "black"),
        ("restrict_tender", "veto")]
    assert (f"eval:{ev.id}:{a1}:veto:other", "other", "open") in follow_ups(app, ns)
    result = appeal(app, client, ns, std, ev, a1, "v1", {})
    assert result["flags_revoked"] == 4
    assert _in(app, ns, lambda: active_flags(ns.firm1, today())) == set()
    assert _in(app, ns, lambda: firms_with_flag("restrict_tender", today())) == {ns.firm2}


def test_free_text_consequences_of_old_standards_keep_working(app, world, client):
    """Standards written before the kinds: bare text lines read as free text — follow-ups by
    the words they name, no flags."""
    old = {"red": ["优先续约"], "yellow": ["约谈"], "black": ["约谈", "启动退出程序"]}
    seeded(app, world["alpha"])
    ns, std, ev, a1, a2 = confirmed_cycle(app, world)
    # A follow-up under the key of before (without the list) counts as done.
    _in(app, ns, lambda: db.session.add(FollowUp(kind="interview", key=f"eval:{ev.id}:{a2}:interview",
                                                 title="旧待办", status="open")))
    _in(app, ns, lambda: setattr(db.session.get(Standard, std.id), "consequences", old))
    login(client, "alpha-district")
    post(client, f"/d/alpha/evaluations/{ev.id}/finalize")
    wait_for_job(app, _latest_run(app, ns, ev.id))
    post(client, f"/d/alpha/evaluations/{ev.id}/publish")
    assert flags(app, ns) == []
    assert follow_ups(app, ns) == [(f"eval:{ev.id}:{a2}:black:exit", "exit", "open"),
                                   (f"eval:{ev.id}:{a2}:interview", "interview", "open")]


def test_a_monthly_spot_check_includes_every_firm_with_more_spot_checks(app, world, client):
    ns, std, ev, a1, a2 = published(app, world, client, consequences_={"black": [{"kind": "more_spot_checks"}]})
    assert _in(app, ns, lambda: cycles.spot_check_firms(today())) == {ns.firm2}
    d = today()
    first = date(d.year, d.month, 1)
    start = date(first.year - (first.month == 1), 12 if first.month == 1 else first.month - 1, 1)

    def open_monthly(kind, name):
        return cycles.open_evaluation(SimpleNamespace(user_id=None), db.session.get(Standard, std.id), kind, name,
                                      start, first - timedelta(days=1), d, d, 7, [ns.firm1], True)

    def targets(kind, name):
        e = open_monthly(kind, name)
        return sorted((a.firm_id, a.compound_id) for a in e.assessments)
    # Only firm 1 ticked: the 月抽查 includes firm 2 with all its compounds anyway …
    assert _in(app, ns, lambda: targets("monthly", "月抽查A")) == [(ns.firm1, ns.compound1), (ns.firm2, ns.compound2)]
    # … a 季测评 takes what was chosen.
    assert _in(app, ns, lambda: targets("quarterly", "季测评B")) == [(ns.firm1, ns.compound1)]
    # The form marks it.
    page = client.get(f"/d/alpha/evaluations/new/firms?period_start={start}&period_end={first - timedelta(days=1)}")
    assert page.get_data(as_text=True).count('data-testid="spot-check"') == 1


def test_who_sees_the_flags(app, world, client):
    ns, std, ev, a1, a2 = published(app, world, client)
    client.post("/logout")
    # The district: on firm 2's credit file and in the firm register.
    login(client, "alpha-district")
    page = client.get(f"/d/alpha/credit/firms/{ns.firm2}").get_data(as_text=True)
    assert 'data-testid="consequence-flags"' in page and "限制参加招投标" in page and "启动退出程序" in page
    register = client.get("/d/alpha/firms/").get_data(as_text=True)
    assert "上榜后果" in register and "启动退出程序（甲区2号小区）、限制参加招投标、限制评优" in register
    grades = client.get("/d/alpha/credit/").get_data(as_text=True)
    assert grades.count('data-testid="flag"') == 3
    client.post("/logout")
    # Firm 1's manager: its own file (no flags), never firm 2's.
    login(client, "alpha-firm")
    own = client.get("/d/alpha/credit/").get_data(as_text=True)
    assert "没有上榜后果" in own and "限制参加招投标" not in own
    assert client.get(f"/d/alpha/credit/firms/{ns.firm2}").status_code == 404
    assert "限制参加招投标" not in client.get("/d/alpha/firms/").get_data(as_text=True)
    client.post("/logout")
    # Street 1 staff: firm 2 serves street 2 — nothing of it.
    login(client, "alpha-street")
    assert "限制参加招投标" not in client.get("/d/alpha/firms/").get_data(as_text=True)
    client.post("/logout")
    # The assessor: no part in the credit file, no flags through the API's scoped reader.
    from wuye_saas.auth.models import Membership
    def seen(role):
        m = db.session.execute(select(Membership).where(Membership.role == role)).scalar_one()
        return consequences.flag_labels(m, today())
    assert _in(app, ns, lambda: seen("assessor")) == {} and _in(app, ns, lambda: seen("committee_member")) == {}
    assert set(_in(app, ns, lambda: seen("district_admin"))) == {ns.firm2}
    login(client, "alpha-assessor")
    assert client.get(f"/d/alpha/credit/firms/{ns.firm2}").status_code in (403, 404)


def test_flags_and_their_revocation_are_audited_in_chinese(app, world, client):
    from wuye_saas.audit import AuditEvent
    from wuye_saas.audit_log import labels

    ns, std, ev, a1, a2 = published(app, world, client)
    appeal(app, client, ns, std, ev, a2, "b1", {"occurrences": "7"}, firm_id=ns.firm2)
    rows = _in(app, ns, lambda: [(e.action, e.label, sorted(e.changes)) for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.entity == "firm_flag").order_by(AuditEvent.id)).scalars()])
    created = [r for r in rows if r[0] == "create"]
    assert len(created) == 4 and created[0][1] == "2026年第一季度季测评：甲区第2物业公司（甲区2号小区）列入黑榜，启动退出程序"
    revoked = [r for r in rows if r[0] == "update"]
    assert len(revoked) == 3 and all({"revoke_reason", "revoked_at", "revoked_on"} <= set(r[2]) for r in revoked)
    assert labels.entity_label("firm_flag") == "上榜后果标记"
    assert labels.field_label("firm_flag", "kind") == "后果类型"
    assert labels.value_label("firm_flag", "kind", "restrict_tender") == "限制参加招投标"
    assert labels.field_label("credit_rule", "consequence_days") == "上榜后果有效期（天）"
    # The audit log page shows it in Chinese.
    client.post("/logout")
    login(client, "alpha-district")
    page = client.get("/d/alpha/audit/?entity=firm_flag").get_data(as_text=True)
    assert "上榜后果标记" in page
