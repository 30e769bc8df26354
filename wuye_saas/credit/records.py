"""Writing the credit file: records by staff with evidence, revocation, the firm's objections
and the district's decisions, and the records that follow published evaluations. Plain
functions: they flush (the caller commits) or raise CreditProblem having written nothing.

Rules:
- staff records: district and street staff, on a firm they reach, of an active kind (not one
  of those written from evaluations), dated
  today or earlier but not so long ago that the record would already have expired; evidence
  text required (files optional: PDF, JPG or PNG). Points, nature and seriousness are copied
  from the kind; valid_until = occurred_on + the kind's validity days.
- revocation: the district only, with a reason, once; the record stays in the file.
- objection (异议): the firm's manager, on a record of its own firm that is not revoked, within
  the district's window (days after the record was written, inclusive), once per record. The
  district upholds (the record is revoked: 异议成立) or rejects, with a reason.
- evaluations: when an evaluation of a kind the district configured is published, each firm
  gets one record per list it is on (红榜: good, 黄榜/黑榜: bad) and a serious one for a veto
  (which takes the place of the 黑榜 record the veto put it on), dated the publication day, keyed
  `evaluation:<evaluation>:firm:<firm>`. Computing the results again (an upheld appeal) brings
  the file in line: records of lists the firm is no longer on are revoked with the reason, the
  new ones written with source 申诉改判. Running it again writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import events, policy
from ..auth.models import Membership
from ..evaluation.models import LISTS, Assessment, Evaluation
from ..extensions import db
from ..org.models import Firm
from ..publicity.accounts import Upload, save_upload, voucher_problem
from ..timeutil import local, now, today
from .defaults import rule
from .models import CreditEvidence, CreditObjection, CreditRecord, CreditRecordKind
from ..formutil import record_id

TEXT_MAX = 2000
# List → kind code of its record.
LIST_KINDS = {"red": "eval_red", "yellow": "eval_yellow", "black": "eval_black"}
VETO_KIND = "eval_veto"


class CreditProblem(ValueError):
    def __init__(self, message: str, field: str = "evidence"):
        super().__init__(message)
        self.message = message
        self.field = field


def _text(value: str, what: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CreditProblem(f"请填写{what}。", field)
    if len(value) > TEXT_MAX:
        raise CreditProblem(f"{what}不能超过 {TEXT_MAX} 个字。", field)
    return value


def _signed(kind: CreditRecordKind):
    return kind.points if kind.nature == "good" else -kind.points


def _new_record(firm_id: int, kind: CreditRecordKind, occurred_on: date, title: str, source: str,
                evidence: str, user_id: int | None, source_ref: str | None = None) -> CreditRecord:
    rec = CreditRecord(firm_id=firm_id, kind_id=kind.id, nature=kind.nature, points=_signed(kind),
                       serious=kind.serious, title=title[:200], occurred_on=occurred_on,
                       valid_until=occurred_on + timedelta(days=kind.validity_days), source=source,
                       source_ref=source_ref, evidence=evidence, created_by_id=user_id)
    db.session.add(rec)
    db.session.flush()
    events.emit("credit.recorded", "credit_record", rec.id,
                data={"firm_id": firm_id, "nature": kind.nature, "source": source})
    return rec


# --- staff records ---------------------------------------------------------------------------------

def may_record(m: Membership) -> bool:
    return policy.can(m, "record", "credit")


def add_record(m: Membership, firm: Firm, kind_id, occurred_on: date | None, evidence: str,
               uploads: list[Upload], folder: str) -> CreditRecord:
    if not may_record(m):
        raise CreditProblem("只有区、街道工作人员可以登记信用记录。", "kind_id")
    if db.session.execute(select(Firm.id).where(Firm.id == firm.id, policy.visible(m, Firm))).first() is None:
        raise CreditProblem("该企业不在您的管辖范围内。", "kind_id")
    kind = db.session.get(CreditRecordKind, record_id(str(kind_id or ""))) if record_id(str(kind_id or "")) else None
    if kind is None or not kind.active:
        raise CreditProblem("请选择记录类型。", "kind_id")
    if kind.automatic:
        raise CreditProblem("该类记录由发布的考核结果自动生成，不能手工登记。", "kind_id")
    if occurred_on is None:
        raise CreditProblem("请填写发生日期。", "occurred_on")
    if occurred_on > today():
        raise CreditProblem("发生日期不能晚于今天。", "occurred_on")
    if occurred_on + timedelta(days=kind.validity_days) <= today():
        raise CreditProblem(f"该类记录有效期 {kind.validity_days} 天，按此日期登记时已过期，无需登记。", "occurred_on")
    evidence = _text(evidence, "事实与依据", "evidence")
    for up in uploads:
        problem = voucher_problem(up)
        if problem:
            raise CreditProblem(problem, "files")
    rec = _new_record(firm.id, kind, occurred_on, kind.name, "staff", evidence, m.user_id)
    db.session.flush()
    for up in uploads:
        name, ctype = save_upload(up, folder)
        db.session.add(CreditEvidence(record_id=rec.id, filename=up.filename.rsplit("/", 1)[-1][:200],
                                      stored_name=name, content_type=ctype, size=len(up.data)))
    db.session.flush()
    return rec


def may_revoke(m: Membership, rec: CreditRecord) -> bool:
    return policy.can(m, "revoke", "credit_decide") and rec.revoked_at is None


def revoke(m: Membership, rec: CreditRecord, reason: str) -> None:
    if not policy.can(m, "revoke", "credit_decide"):
        raise CreditProblem("只有区级管理员可以撤销信用记录。", "reason")
    if rec.revoked_at is not None:
        raise CreditProblem("该记录已撤销。", "reason")
    _revoke(rec, _text(reason, "撤销原因", "reason"), m.user_id)
    db.session.flush()


def _revoke(rec: CreditRecord, reason: str, user_id: int | None) -> None:
    rec.revoked_at, rec.revoked_on = now(), today()
    rec.revoked_by_id, rec.revoke_reason = user_id, reason


# --- objections (异议) ----------------------------------------------------------------------------

def objection_until(rec: CreditRecord) -> date:
    return local(rec.created_at).date() + timedelta(days=rule().objection_days)


def objection_problem(rec: CreditRecord) -> str | None:
    if rec.revoked_at is not None:
        return "该记录已撤销，无需提出异议。"
    if rec.objection is not None:
        return "该记录已提出过异议。"
    until = objection_until(rec)
    if today() > until:
        return f"异议期已于 {until:%Y-%m-%d} 结束。"
    return None


def _objector(m: Membership, rec: CreditRecord) -> bool:
    return policy.can(m, "object", "credit_object") and m.firm_id == rec.firm_id


def may_object(m: Membership, rec: CreditRecord) -> bool:
    return _objector(m, rec) and objection_problem(rec) is None


def file_objection(m: Membership, rec: CreditRecord, reason: str) -> CreditObjection:
    if not _objector(m, rec):
        raise CreditProblem("只有本企业的负责人可以对本企业的记录提出异议。", "reason")
    problem = objection_problem(rec)
    if problem:
        raise CreditProblem(problem, "reason")
    obj = CreditObjection(record_id=rec.id, firm_id=rec.firm_id, reason=_text(reason, "异议理由", "reason"),
                          filed_by_id=m.user_id)
    db.session.add(obj)
    db.session.flush()
    events.emit("credit.objected", "credit_record", rec.id, data={"objection_id": obj.id, "firm_id": rec.firm_id})
    return obj


def decide_objection(m: Membership, obj: CreditObjection, uphold: bool, decision: str) -> None:
    if not policy.can(m, "decide", "credit_decide"):
        raise CreditProblem("只有区级管理员可以裁定异议。", "decision")
    if obj.status != "open":
        raise CreditProblem("该异议已裁定。", "decision")
    decision = _text(decision, "裁定理由", "decision")
    obj.status = "upheld" if uphold else "rejected"
    obj.decision, obj.decided_by_id, obj.decided_at = decision, m.user_id, now()
    if uphold and obj.record.revoked_at is None:
        _revoke(obj.record, f"异议成立：{decision}", m.user_id)
    db.session.flush()


# --- records from evaluations ------------------------------------------------------------------------

@dataclass
class _Listing:
    codes: set
    lines: list


def _wanted(ev: Evaluation) -> dict[int, _Listing]:
    """Firm → the kinds of record its current results call for, with the lines of evidence."""
    rows = db.session.execute(
        select(Assessment).where(Assessment.evaluation_id == ev.id,
                                 (Assessment.list_kind.is_not(None)) | Assessment.vetoed.is_(True))
        .options(joinedload(Assessment.compound)).order_by(Assessment.id)).scalars()
    out: dict[int, _Listing] = {}
    for a in rows:
        entry = out.setdefault(a.firm_id, _Listing(set(), []))
        where = a.compound.name if a.compound else "全部项目"
        if a.vetoed:
            entry.codes.add(VETO_KIND)
            entry.lines.append(f"{where}：一票否决（{'、'.join(a.breakdown.get('vetoed_items', [])) or '否决项'}）")
        elif a.list_kind in LIST_KINDS:
            entry.codes.add(LIST_KINDS[a.list_kind])
            entry.lines.append(f"{where}：{LISTS[a.list_kind]}，总分 {a.total}，{a.stars or 0} 星")
    for entry in out.values():
        if VETO_KIND in entry.codes:
            entry.codes.discard(LIST_KINDS["black"])
    return out


def sync_evaluation(ev: Evaluation, source: str = "evaluation") -> tuple[int, int]:
    """Bring the credit file in line with the published evaluation's results; (written, revoked)."""
    if ev.status != "published" or ev.kind not in (rule().evaluation_kinds or []):
        return 0, 0
    kinds = {k.code: k for k in db.session.execute(select(CreditRecordKind).where(
        CreditRecordKind.code.in_(list(LIST_KINDS.values()) + [VETO_KIND]))).scalars()}
    prefix = f"evaluation:{ev.id}:firm:"
    existing = db.session.execute(select(CreditRecord).where(CreditRecord.source_ref.like(f"{prefix}%"))).scalars().all()
    live = {(r.firm_id, r.kind_id): r for r in existing if r.revoked_at is None}
    refs_used = {(r.firm_id, r.kind_id): 0 for r in existing}
    for r in existing:
        refs_used[(r.firm_id, r.kind_id)] += 1
    wanted = _wanted(ev)
    day = local(ev.published_at).date() if ev.published_at else today()
    written = revoked = 0
    want_keys = set()
    for firm_id, listing in sorted(wanted.items()):
        for code in sorted(listing.codes):
            kind = kinds.get(code)
            if kind is None:
                continue
            want_keys.add((firm_id, kind.id))
            if (firm_id, kind.id) in live or not kind.active:
                continue
            n = refs_used.get((firm_id, kind.id), 0)
            ref = f"{prefix}{firm_id}" + (f"#{n + 1}" if n else "")
            _new_record(firm_id, kind, day, f"{ev.name}：{kind.name}", source,
                        "；".join(listing.lines), None, source_ref=ref)
            written += 1
    for key, rec in live.items():
        if key not in want_keys:
            _revoke(rec, f"{ev.name}结果经申诉改判，不再{rec.kind.name.removeprefix('考核')}", None)
            revoked += 1
    db.session.flush()
    return written, revoked
