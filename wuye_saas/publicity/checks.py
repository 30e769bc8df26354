"""Committee checks and objections (质询) on publications: plain functions that flush (the caller
commits) or raise CheckProblem, having written nothing.

Flow: a committee member of the compound marks a publication checked, or raises an objection on
one of its lines → the keeper answers → the asker's committee accepts or escalates with a note →
community staff of the compound's community decide. The committee's note has no column of its
own: it is recorded as an audit event of the objection, and the timeline reads the audit trail.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload

from .. import audit, events, policy
from ..audit import AuditEvent
from ..auth.models import Membership
from ..extensions import db
from ..org.models import Compound
from ..timeutil import now
from .accounts import keeper_of as ledger_keeper, keepers as ledger_keepers
from .models import LEDGER_KINDS, OBJECTION_STATUSES, Objection, Publication, PublicationCheck

FIRM_ROLES = policy.FIRM_ROLES
# Publications that are not about one ledger: who is answerable for them.
KIND_KEEPER = {"standing_notice": "firm", "disclosure": "firm", "vote_notice": "committee",
               "vote_result": "committee", "committee_news": "committee", "committee_rules": "committee",
               "committee_fees": "committee", "annual_budget": "firm", "annual_account": "firm"}
KIND_LEDGER = {"fund_use": "maintenance_fund"}
COMMITTEE_KINDS = ("committee_news", "committee_rules", "committee_fees")


class CheckProblem(ValueError):
    def __init__(self, message: str, field: str = "question"):
        super().__init__(message)
        self.message = message
        self.field = field


# --- who is who -------------------------------------------------------------------------------

def ledger_kind_of(p: Publication) -> str | None:
    """The ledger a statement reports on: its content's one statement snapshot names the kind
    (templates_content.ledger_statement); `ledger_kind` is accepted as well."""
    content = p.content if isinstance(p.content, dict) else {}
    if content.get("ledger_kind"):
        return content["ledger_kind"]
    statements = content.get("statements") or []
    if p.kind == "ledger_statement" and len(statements) == 1 and isinstance(statements[0], dict):
        return statements[0].get("kind")
    return KIND_LEDGER.get(p.kind)


class Context:
    """What deciding "who acts" needs, read once per request and only if asked: each ledger
    kind's keeper and the compounds in the membership's scope (so a list of objections costs no
    query per row; a community's staff, who keeps nothing, reads neither)."""

    def __init__(self, m: Membership):
        self._m = m

    @cached_property
    def keepers(self) -> dict[str, str]:
        return ledger_keepers()

    @cached_property
    def compounds(self) -> set[int]:
        return set(db.session.execute(select(Compound.id).where(policy.visible(self._m, Compound))).scalars())


def context(m: Membership) -> Context:
    return Context(m)


def keeper_of(p: Publication, ctx: Context | None = None) -> str:
    """'firm' or 'committee': who answers objections on this publication."""
    kind = ledger_kind_of(p)
    if kind in LEDGER_KINDS:
        return ctx.keepers[kind] if ctx else ledger_keeper(kind)
    return KIND_KEEPER.get(p.kind, "firm")


def is_committee_of(m: Membership, p: Publication) -> bool:
    return m.active and m.role == "committee_member" and m.compound_id == p.compound_id


def is_keeper(m: Membership, p: Publication, ctx: Context | None = None) -> bool:
    if not m.active or (m.role != "committee_member" and m.role not in FIRM_ROLES):
        return False
    ctx = ctx or context(m)
    if keeper_of(p, ctx) == "committee":
        return is_committee_of(m, p)
    # A firm keeps the compounds it serves now (the policy's compound scope).
    return m.active and m.role in FIRM_ROLES and p.compound_id in ctx.compounds


def is_deciding_community(m: Membership, p: Publication) -> bool:
    return (m.active and m.role == "community_staff" and m.community_id is not None
            and p.compound.community_id == m.community_id)


def lines(p: Publication) -> list[dict]:
    """The publication's content lines [{key, label, value}], the units an objection points at."""
    content = p.content if isinstance(p.content, dict) else {}
    return [ln for ln in content.get("lines", []) if isinstance(ln, dict) and ln.get("key")]


# --- the steps ---------------------------------------------------------------------------------

def mark_checked(p: Publication, m: Membership) -> PublicationCheck:
    if not is_committee_of(m, p):
        raise CheckProblem("只有本小区业委会（物管会）成员可以核对公示。", "check")
    done = db.session.execute(select(PublicationCheck.id).where(
        PublicationCheck.publication_id == p.id, PublicationCheck.user_id == m.user_id)).first()
    if done:
        raise CheckProblem("您已核对过这份公示。", "check")
    check = PublicationCheck(publication_id=p.id, user_id=m.user_id)
    db.session.add(check)
    db.session.flush()
    return check


def raise_objection(p: Publication, m: Membership, line_key: str, question: str) -> Objection:
    if not is_committee_of(m, p):
        raise CheckProblem("只有本小区业委会（物管会）成员可以提出质询。", "line")
    if p.kind == "meeting_minutes":
        # Minutes are the community's record of a meeting the committee attended, not a firm's
        # or committee's account: disagreement goes back to the meeting, not to an answerer.
        raise CheckProblem("联席会议纪要由社区发布，不适用质询；如有异议请向社区提出，或列入下次联席会议议题。", "line")
    if p.kind == "evaluation_result":
        # The district's decision, published with the evaluation: the firm contests it by appeal.
        raise CheckProblem("考核结果由区里发布，不适用质询；物业服务企业可在申诉期内申诉，业委会意见可向社区反映。", "line")
    if p.kind in COMMITTEE_KINDS:
        # The committee's own documents: it would be asking itself.
        raise CheckProblem("业委会自己发布的文件不适用质询；业主如有异议可向业委会或社区提出。", "line")
    line = next((ln for ln in lines(p) if str(ln["key"]) == (line_key or "")), None)
    if line is None:
        raise CheckProblem("请选择公示中的一项内容。", "line")
    question = (question or "").strip()
    if not question:
        raise CheckProblem("请填写质询的问题。", "question")
    text = f"{line.get('label', line['key'])}：{line.get('value', '')}"
    obj = Objection(publication_id=p.id, line=text[:200], question=question, asked_by=m.user_id, status="open")
    db.session.add(obj)
    db.session.flush()
    events.emit("objection.raised", "objection", obj.id, compound_id=p.compound_id,
                data={"publication_id": p.id})
    return obj


def answer(obj: Objection, m: Membership, text: str) -> None:
    if not is_keeper(m, obj.publication):
        raise CheckProblem("只有该公示的记账方可以答复质询。", "answer")
    if obj.status != "open":
        raise CheckProblem(f"该质询{OBJECTION_STATUSES[obj.status]}，不能再答复。", "answer")
    text = (text or "").strip()
    if not text:
        raise CheckProblem("请填写答复内容。", "answer")
    obj.answer, obj.answered_at, obj.status = text, now(), "answered"
    db.session.flush()


def respond(obj: Objection, m: Membership, accept: bool, note: str) -> None:
    """The asker's committee accepts the answer or escalates it to the community."""
    if not is_committee_of(m, obj.publication):
        raise CheckProblem("只有提出质询的小区业委会（物管会）可以认可或提交社区。", "note")
    if obj.status != "answered":
        raise CheckProblem(f"该质询{OBJECTION_STATUSES[obj.status]}，现在不能认可或提交社区。", "note")
    note = (note or "").strip()
    if not accept and not note:
        raise CheckProblem("提交社区时请说明对答复的异议。", "note")
    obj.status = "accepted" if accept else "escalated"
    db.session.flush()
    if note:  # no column for it: the audit trail carries the committee's note (see timeline)
        audit.record_event("update", "objection", obj.audit_label, {"note": {"before": "", "after": note}},
                           entity_id=obj.id)
        db.session.flush()


def decide(obj: Objection, m: Membership, text: str) -> None:
    if not is_deciding_community(m, obj.publication):
        raise CheckProblem("只有该小区所在社区的工作人员可以裁决。", "decision")
    if obj.status != "escalated":
        raise CheckProblem(f"该质询{OBJECTION_STATUSES[obj.status]}，不是待社区裁决的质询。", "decision")
    text = (text or "").strip()
    if not text:
        raise CheckProblem("请填写裁决意见。", "decision")
    obj.decision, obj.decided_at, obj.status = text, now(), "decided"
    db.session.flush()


# --- what to show ------------------------------------------------------------------------------

def next_step(obj: Objection, m: Membership, ctx: Context | None = None) -> str | None:
    """What this membership may do on the objection now: answer / respond / decide / None."""
    p = obj.publication
    if obj.status == "open" and is_keeper(m, p, ctx):
        return "answer"
    if obj.status == "answered" and is_committee_of(m, p):
        return "respond"
    if obj.status == "escalated" and is_deciding_community(m, p):
        return "decide"
    return None


STEP_TITLES = {"answered": "答复", "accepted": "业委会认可答复", "escalated": "业委会提交社区",
               "decided": "社区裁决"}


@dataclass
class Step:
    at: datetime
    actor: str
    title: str
    text: str


def timeline(obj: Objection) -> list[Step]:
    """The objection's history from its audit events: raised, answered, accepted/escalated
    (with the committee's note), decided."""
    events = db.session.execute(select(AuditEvent).where(
        # AuditEvent is not tenant-filtered centrally (platform events have no district).
        AuditEvent.tenant_id == obj.tenant_id,
        AuditEvent.entity == "objection", AuditEvent.entity_id == obj.id).order_by(AuditEvent.id)).scalars()
    steps: list[Step] = []
    for ev in events:
        ch = ev.changes or {}
        if ev.action == "create":
            steps.append(Step(ev.at, ev.actor, "提出质询", ch.get("question", "")))
        elif "note" in ch and steps:
            steps[-1].text = ch["note"].get("after", "")
        elif "status" in ch:
            status = ch["status"].get("after")
            text = (ch.get("answer") or ch.get("decision") or {}).get("after", "")
            steps.append(Step(ev.at, ev.actor, STEP_TITLES.get(status, OBJECTION_STATUSES.get(status, status)), text))
    return steps


def publications_select(m: Membership, state: str | None = None, q: str = ""):
    """Publications in scope, newest first; state: unchecked / checked (by this user) / objected."""
    mine = exists().where(PublicationCheck.publication_id == Publication.id, PublicationCheck.user_id == m.user_id)
    objected = exists().where(Objection.publication_id == Publication.id)
    stmt = (select(Publication).where(policy.visible(m, Publication))
            .options(joinedload(Publication.compound)).order_by(Publication.published_at.desc(), Publication.id.desc()))
    if state == "checked":
        stmt = stmt.where(mine)
    elif state == "unchecked":
        stmt = stmt.where(~mine)
    elif state == "objected":
        stmt = stmt.where(objected)
    if q.strip():
        stmt = stmt.where(Publication.title.contains(q.strip()))
    return stmt


def publication_marks(m: Membership, ids: list[int]) -> dict[int, dict]:
    """Per publication: checked by me?, how many checks, how many objections."""
    out = {i: {"mine": False, "checks": 0, "objections": 0} for i in ids}
    if not ids:
        return out
    for pid, uid in db.session.execute(select(PublicationCheck.publication_id, PublicationCheck.user_id)
                                       .where(PublicationCheck.publication_id.in_(ids))):
        out[pid]["checks"] += 1
        out[pid]["mine"] = out[pid]["mine"] or uid == m.user_id
    for pid, n in db.session.execute(select(Objection.publication_id, func.count(Objection.id))
                                     .where(Objection.publication_id.in_(ids)).group_by(Objection.publication_id)):
        out[pid]["objections"] = n
    return out


def objections_select(m: Membership, status: str | None = None, q: str = "", todo: bool = False):
    """Objections in scope, newest first; `todo`: only those waiting for this membership's step."""
    stmt = select(Objection).where(policy.visible(m, Objection))
    if todo:
        # Who acts depends on the publication's keeper (a district setting): decided per row,
        # over the unfinished objections in scope only (a compound's, a firm's, a community's).
        pending = db.session.execute(stmt.where(Objection.status.in_(("open", "answered", "escalated")))
                                     .options(joinedload(Objection.publication).joinedload(Publication.compound))
                                     ).scalars().all()
        ctx = context(m)
        stmt = stmt.where(Objection.id.in_([o.id for o in pending if next_step(o, m, ctx)]))
    if status in OBJECTION_STATUSES:
        stmt = stmt.where(Objection.status == status)
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Objection.line.like(like), Objection.question.like(like)))
    return (stmt.options(joinedload(Objection.publication).joinedload(Publication.compound))
            .order_by(Objection.asked_at.desc(), Objection.id.desc()))
