"""The assessment workflow: the firm's self-report with evidence → community review (a changed
score needs a reason; the report can be returned for correction) → street confirmation (may
send it back to the community) → district finalization (results helper). Assessors score the
items assigned to them. Every score passes through `rules.item_points`.

Plain functions: they flush, the caller commits. A refusal raises WorkflowProblem (422, with
{field: message} for the form) or Locked (409: the step is not open — submitted, past the
deadline, wrong stage), in both cases having written nothing.

Who scores what (the item's `scorer`):
- self / community → the community review (firm-wide assessments: the district admin);
- street → the street confirmation (firm-wide: the district admin);
- assessor → the assessor the district assigned to the item;
- committee → the owners' committee (业委会履约评价) of the assessed compound: its members
  score these items, each with a note, from the opening of the cycle until the community
  review is done; the review closes their turn, and an item still unscored then counts 0 (the
  result page says so). Blocking the review instead would let a silent or missing committee
  stall the cycle; counting it full would reward the firm for the silence.
- survey / system, and every `computed` item → the results job, never typed in.
The firm self-scores every item that staff or an assessor score (self, community, street,
assessor) — not the committee's opinion of it — except veto items (一票否决), which the
reviewing level records as occurred or not.
Review scores of every level go to `review_points` (+ `review_occurrences`, `review_reason`,
`reviewer_id`); the results job turns them into `final_points`.

Deadlines are whole days in Shanghai: a draft can be self-reported up to the end of
`self_report_due`; a report the reviewer returned can be corrected up to the end of
`review_due` (a return usually comes after the self-report deadline). Once the firm's turn
has passed without a submission, the reviewer scores the assessment without a self-report.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..auth.models import Membership
from ..extensions import db
from ..formutil import too_long
from ..timeutil import now, today
from .models import ASSESSMENT_STATUSES, EVALUATION_STATUSES, Assessment, Evidence, ItemScore, StandardItem
from .rules import ScoreProblem, item_points

EVIDENCE_MAX = 5 * 1024 * 1024
# Type by content (magic bytes), never by the file name or the browser's claim.
EVIDENCE_TYPES = {b"%PDF-": ("pdf", "application/pdf"), b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
                  b"\xff\xd8\xff": ("jpg", "image/jpeg")}
EVIDENCE_EXTS = {".pdf", ".png", ".jpg", ".jpeg"}
HUMAN_SCORERS = ("self", "community", "street", "assessor")
LEVEL_OF_SCORER = {"self": "community", "community": "community", "street": "street", "assessor": "assessor",
                   "committee": "committee"}
# The committee scores until the community review is done.
COMMITTEE_OPEN = ("draft", "submitted", "returned")
ACTIVE_CYCLE = ("open", "reviewing")
# A self-report note, a review reason and a return note: refused above this, never cut.
NOTE_MAX = 2000


class WorkflowProblem(ValueError):
    status = 422

    def __init__(self, message: str, field: str = "form", errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {field: message}


class Locked(WorkflowProblem):
    """The step is closed (already submitted, wrong stage, past the deadline): 409."""
    status = 409


@dataclass
class Entry:
    """What a form row sent for one item score (strings as typed)."""
    points: str | None = None
    occurrences: str | None = None
    text: str = ""              # the firm's note, or the reviewer's reason
    veto: str | None = None     # veto items: "1" occurred, "0" did not

    @property
    def blank(self) -> bool:
        if self.veto is not None and self.veto != "":
            return False
        return all(v is None or str(v).strip() == "" for v in (self.points, self.occurrences))


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Outcome:
    stored: list[Path] = field(default_factory=list)   # evidence files written


# --- what each item needs ----------------------------------------------------------------------

def self_scorable(item: StandardItem) -> bool:
    return item.kind != "veto" and item.method != "computed" and item.scorer in HUMAN_SCORERS


def level_of(item: StandardItem) -> str | None:
    """Which review level scores the item: community / street / assessor, None for the system."""
    if item.method == "computed":
        return None
    return LEVEL_OF_SCORER.get(item.scorer)


def required_for_submit(item: StandardItem) -> bool:
    """Bonus items are claims (left empty = nothing claimed); the rest must be self-scored."""
    return self_scorable(item) and item.kind == "regular"


def needs_evidence(item: StandardItem, points: Decimal | None) -> bool:
    """An evidence-required item needs a file once scored; a bonus claimed at 0 claims nothing."""
    return item.evidence_required and points is not None and not (item.kind == "bonus" and points == 0)


def field_name(score: ItemScore, part: str) -> str:
    return f"s{score.id}-{part}"


def _points(item: StandardItem, entry: Entry) -> tuple[Decimal, int | None]:
    if item.method == "deduction":
        p = item_points(item, occurrences=entry.occurrences)
        return p, int(str(entry.occurrences).strip())
    return item_points(item, points=entry.points), None


def _veto(entry: Entry) -> bool | None:
    if entry.veto in ("1", "0"):
        return entry.veto == "1"
    return None


# --- who may act now ----------------------------------------------------------------------------

def _ev_status(a: Assessment) -> str:
    return EVALUATION_STATUSES.get(a.evaluation.status, a.evaluation.status)


def _a_status(a: Assessment) -> str:
    return ASSESSMENT_STATUSES.get(a.status, a.status)


def self_report_closed(a: Assessment) -> str | None:
    """Why the firm cannot change its self-report now (None: it can)."""
    ev, d = a.evaluation, today()
    if a.status == "draft":
        if ev.status != "open":
            return f"该考核已{_ev_status(a)}，不能再自评。"
        if d > ev.self_report_due:
            return f"自评已于 {ev.self_report_due:%Y-%m-%d} 截止。"
        return None
    if a.status == "returned":
        if ev.status not in ACTIVE_CYCLE:
            return f"该考核已{_ev_status(a)}，不能再修改自评。"
        if d > ev.review_due:
            return f"退回修改已于审核截止日 {ev.review_due:%Y-%m-%d} 截止。"
        return None
    return f"自评{_a_status(a)}，不能再修改。"


def firm_turn_over(a: Assessment) -> bool:
    """The firm did not submit in time: the reviewer scores without a self-report."""
    d = today()
    return (a.status == "draft" and d > a.evaluation.self_report_due) or \
        (a.status == "returned" and d > a.evaluation.review_due)


def is_firm_of(m: Membership, a: Assessment) -> bool:
    return m.active and m.role in policy.FIRM_ROLES and m.firm_id == a.firm_id


def is_reviewer(m: Membership, a: Assessment) -> bool:
    """Community staff of the compound's community; firm-wide assessments: the district."""
    if not m.active:
        return False
    if a.compound_id is None:
        return m.role == policy.DISTRICT
    return m.role == "community_staff" and m.community_id == a.compound.community_id


def is_confirmer(m: Membership, a: Assessment) -> bool:
    """Street staff of the compound's street; firm-wide assessments: the district."""
    if not m.active:
        return False
    if a.compound_id is None:
        return m.role == policy.DISTRICT
    return m.role == "street_staff" and m.street_id == a.compound.community.street_id


def review_closed(a: Assessment) -> str | None:
    if a.evaluation.status not in ACTIVE_CYCLE:
        return f"该考核已{_ev_status(a)}，不能再审核。"
    if a.status == "submitted" or firm_turn_over(a):
        return None
    if a.status in ("draft", "returned"):
        return "企业尚未提交自评，暂不能审核。"
    return f"该考核对象{_a_status(a)}，不能再修改社区审核。"


def confirm_closed(a: Assessment) -> str | None:
    if a.evaluation.status not in ACTIVE_CYCLE:
        return f"该考核已{_ev_status(a)}，不能再确认。"
    if a.status == "reviewed":
        return None
    if a.status == "confirmed":
        return "街道已确认，不能再修改。"
    return f"该考核对象{_a_status(a)}，社区审核通过后才能由街道确认。"


def assess_closed(a: Assessment) -> str | None:
    if a.evaluation.status not in ACTIVE_CYCLE:
        return f"该考核已{_ev_status(a)}，不能再测评打分。"
    if a.status == "finalized":
        return "该考核对象已定稿，不能再测评打分。"
    return None


def is_committee_of(m: Membership, a: Assessment) -> bool:
    """A member of the owners' committee of the assessed compound."""
    return m.active and m.role == "committee_member" and a.compound_id is not None and m.compound_id == a.compound_id


def committee_closed(a: Assessment) -> str | None:
    if a.evaluation.status not in ACTIVE_CYCLE:
        return f"该考核已{_ev_status(a)}，业委会不能再评分。"
    if a.status not in COMMITTEE_OPEN:
        return "社区已完成审核，业委会评分已截止。"
    return None


def mode(m: Membership, a: Assessment) -> str | None:
    """What the membership can do on the assessment now: self / review / confirm / assess /
    committee."""
    if is_firm_of(m, a) and policy.can(m, "write", "self_report") and self_report_closed(a) is None:
        return "self"
    if is_reviewer(m, a) and policy.can(m, "write", "review") and review_closed(a) is None:
        return "review"
    if is_confirmer(m, a) and policy.can(m, "write", "confirm") and confirm_closed(a) is None:
        return "confirm"
    if m.role == "assessor" and policy.can(m, "write", "assess") and assess_closed(a) is None:
        return "assess"
    if is_committee_of(m, a) and policy.can(m, "write", "committee_score") and committee_closed(a) is None:
        return "committee"
    return None


# --- reading an assessment ----------------------------------------------------------------------

def scores_of(m: Membership, a: Assessment) -> list[ItemScore]:
    """The item scores the membership may see (an assessor: only its assigned items), in the
    standard's order, with their items and evidence loaded."""
    return list(db.session.execute(
        select(ItemScore).join(StandardItem, StandardItem.id == ItemScore.item_id)
        .where(ItemScore.assessment_id == a.id, policy.visible(m, ItemScore))
        .options(selectinload(ItemScore.item).selectinload(StandardItem.category), selectinload(ItemScore.evidence))
        .order_by(StandardItem.sort, StandardItem.id)).scalars())


def _level_scores(a: Assessment, level: str) -> list[ItemScore]:
    return [s for s in _all_scores(a) if level_of(s.item) == level]


def _all_scores(a: Assessment) -> list[ItemScore]:
    return list(db.session.execute(select(ItemScore).where(ItemScore.assessment_id == a.id)
                                   .options(selectinload(ItemScore.item), selectinload(ItemScore.evidence))
                                   .order_by(ItemScore.id)).scalars())


# --- evidence files ------------------------------------------------------------------------------

def evidence_problem(up: Upload) -> str | None:
    if Path(up.filename).suffix.lower() not in EVIDENCE_EXTS:
        return f"“{up.filename}”不是 JPG、PNG 或 PDF 文件"
    if not up.data:
        return f"“{up.filename}”是空文件"
    if len(up.data) > EVIDENCE_MAX:
        return f"“{up.filename}”超过 5 MB"
    if _sniff(up.data) is None:
        return f"“{up.filename}”的内容不是 JPG、PNG 或 PDF"
    return None


def _sniff(data: bytes):
    return next((v for magic, v in EVIDENCE_TYPES.items() if data.startswith(magic)), None)


def evidence_path(folder: str, stored_name: str) -> Path:
    return Path(folder) / "evidence" / stored_name


def _store(score: ItemScore, up: Upload, folder: str, out: Outcome) -> None:
    ext, ctype = _sniff(up.data)
    name = f"{uuid.uuid4().hex}.{ext}"   # random: the stored name never comes from the user
    path = evidence_path(folder, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(up.data)
    out.stored.append(path)
    db.session.add(Evidence(item_score_id=score.id, filename=Path(up.filename).name[:200] or f"证明材料.{ext}",
                            stored_name=name, content_type=ctype, size=len(up.data)))


def delete_evidence(m: Membership, ev: Evidence, folder: str) -> Path:
    """Remove one file of a self-report still being written; the path to unlink after commit."""
    score = ev.score
    a = score.assessment
    if not is_firm_of(m, a):
        raise Locked("只有被考核企业可以删除自己的证明材料。")
    why = self_report_closed(a)
    if why:
        raise Locked(why)
    path = evidence_path(folder, ev.stored_name)
    db.session.delete(ev)
    db.session.flush()
    return path


# --- the firm's self-report ----------------------------------------------------------------------

def save_self_report(m: Membership, a: Assessment, entries: dict[int, Entry], uploads: dict[int, list[Upload]],
                     folder: str, submit: bool = False) -> Outcome:
    """Save the self-scores, notes and new evidence files (a draft may be partial); with
    `submit`, every required item must be scored and every evidence-required item must have
    a file, and the report goes to review. Written files are listed in the outcome so the
    caller can remove them if the commit fails."""
    if not is_firm_of(m, a):
        raise Locked("只有被考核企业可以填写自评。")
    why = self_report_closed(a)
    if why:
        raise Locked(why)
    scores = [s for s in _all_scores(a) if self_scorable(s.item)]
    errors: dict[str, str] = {}
    values: dict[int, tuple[Decimal | None, int | None]] = {}
    for s in scores:
        e = entries.get(s.id, Entry())
        if problem := too_long((e.text or "").strip(), NOTE_MAX):
            errors[field_name(s, "note")] = f"“{s.item.name}”的说明{problem}。"
        if e.blank:
            values[s.id] = (None, None)
            continue
        try:
            values[s.id] = _points(s.item, e)
        except ScoreProblem as p:
            errors[field_name(s, "occ" if p.field == "occurrences" else "points")] = p.message
    known = {s.id for s in scores}
    for sid, ups in uploads.items():
        if sid not in known:
            raise WorkflowProblem("该考核项不需要企业上传证明材料。", "evidence")
        bad = [p for p in (evidence_problem(u) for u in ups) if p]
        if bad:
            errors[f"s{sid}-files"] = "；".join(bad)
    if submit and not errors:
        for s in scores:
            pts = values[s.id][0]
            if required_for_submit(s.item) and pts is None:
                errors[field_name(s, "occ" if s.item.method == "deduction" else "points")] = \
                    f"提交前请为“{s.item.name}”自评打分。"
            if needs_evidence(s.item, pts) and not s.evidence and not uploads.get(s.id):
                errors[field_name(s, "files")] = f"“{s.item.name}”须上传至少一份证明材料。"
    if errors:
        raise WorkflowProblem(next(iter(errors.values())), errors=errors)
    out = Outcome()
    for s in scores:
        pts, occ = values[s.id]
        e = entries.get(s.id, Entry())
        s.self_points, s.self_occurrences = pts, occ
        s.self_note = (e.text or "").strip()
        for up in uploads.get(s.id, []):
            _store(s, up, folder, out)
    if submit:
        a.status, a.submitted_at, a.return_note = "submitted", now(), ""
    db.session.flush()
    return out


# --- reviews: community, street, assessor --------------------------------------------------------

def _score_level(m: Membership, scores: list[ItemScore], entries: dict[int, Entry], complete: bool) -> None:
    """Validate and write one level's review scores; a score that differs from the self-score
    needs a reason, an occurred veto needs the facts."""
    errors: dict[str, str] = {}
    writes = []
    for s in scores:
        e = entries.get(s.id, Entry())
        reason = (e.text or "").strip()
        if problem := too_long(reason, NOTE_MAX):
            errors[field_name(s, "reason")] = f"“{s.item.name}”的理由{problem}。"
            continue
        if s.item.kind == "veto":
            occurred = _veto(e)
            if occurred is None:
                if complete:
                    errors[field_name(s, "veto")] = f"请确认“{s.item.name}”是否发生。"
                continue
            if occurred and not reason:
                errors[field_name(s, "reason")] = "认定一票否决情形时须写明事实和依据。"
                continue
            writes.append((s, Decimal("0.00"), None, reason, occurred))
            continue
        if e.blank:
            if complete and s.item.kind != "bonus":   # a bonus left empty awards nothing
                errors[field_name(s, "occ" if s.item.method == "deduction" else "points")] = \
                    f"请为“{s.item.name}”打分。"
            continue
        try:
            pts, occ = _points(s.item, e)
        except ScoreProblem as p:
            errors[field_name(s, "occ" if p.field == "occurrences" else "points")] = p.message
            continue
        if s.self_points is not None and pts != s.self_points and not reason:
            errors[field_name(s, "reason")] = f"评分与企业自评（{s.self_points} 分）不同，请填写理由。"
            continue
        writes.append((s, pts, occ, reason, False))
    if errors:
        raise WorkflowProblem(next(iter(errors.values())), errors=errors)
    for s, pts, occ, reason, vetoed in writes:
        s.review_points, s.review_occurrences, s.vetoed = pts, occ, vetoed
        s.review_reason = reason
        s.reviewer_id = m.user_id


def save_review(m: Membership, a: Assessment, entries: dict[int, Entry], finish: bool = False) -> None:
    """Community review of the self/community items; `finish` marks the assessment reviewed
    and needs every one of them scored."""
    if not is_reviewer(m, a):
        raise Locked("只有该小区所在社区的工作人员可以审核（按企业考核的由区级审核）。")
    why = review_closed(a)
    if why:
        raise Locked(why)
    _score_level(m, _level_scores(a, "community"), entries, finish)
    if finish:
        a.status, a.reviewed_at, a.reviewed_by_id = "reviewed", now(), m.user_id
    db.session.flush()


def return_to_firm(m: Membership, a: Assessment, note: str) -> None:
    """Send a submitted report back to the firm for correction, with what to correct."""
    if not is_reviewer(m, a):
        raise Locked("只有该小区所在社区的工作人员可以退回自评。")
    if a.evaluation.status not in ACTIVE_CYCLE:
        raise Locked(f"该考核已{_ev_status(a)}，不能再退回。")
    if a.status != "submitted":
        raise Locked(f"该考核对象{_a_status(a)}，只有已提交的自评可以退回企业修改。")
    note = (note or "").strip()
    if not note:
        raise WorkflowProblem("请写明需要企业修改的内容。", "note")
    if problem := too_long(note, NOTE_MAX):
        raise WorkflowProblem(f"退回意见{problem}。", "note")
    a.status, a.return_note = "returned", note
    db.session.flush()


def save_confirmation(m: Membership, a: Assessment, entries: dict[int, Entry], finish: bool = False) -> None:
    """Street confirmation: score the street items; `finish` confirms the assessment."""
    if not is_confirmer(m, a):
        raise Locked("只有该小区所在街道的工作人员可以确认（按企业考核的由区级确认）。")
    why = confirm_closed(a)
    if why:
        raise Locked(why)
    _score_level(m, _level_scores(a, "street"), entries, finish)
    if finish:
        a.status, a.confirmed_at, a.confirmed_by_id = "confirmed", now(), m.user_id
    db.session.flush()


def send_back(m: Membership, a: Assessment, note: str) -> None:
    """The street sends a reviewed assessment back to the community review, with a note."""
    if not is_confirmer(m, a):
        raise Locked("只有该小区所在街道的工作人员可以退回社区重审。")
    why = confirm_closed(a)
    if why:
        raise Locked(why)
    note = (note or "").strip()
    if not note:
        raise WorkflowProblem("请写明退回社区重新审核的理由。", "note")
    if problem := too_long(note, NOTE_MAX):
        raise WorkflowProblem(f"退回理由{problem}。", "note")
    # Back in the community's queue; the note stays on the assessment until the next step.
    a.status, a.reviewed_at, a.reviewed_by_id, a.return_note = "submitted", None, None, note
    db.session.flush()


def save_assessor_scores(m: Membership, a: Assessment, entries: dict[int, Entry]) -> int:
    """An assessor scores its assigned items (the policy limits the rows it sees); a partial
    save is fine. The number of items now scored by it."""
    if m.role != "assessor" or not m.active:
        raise Locked("只有第三方测评机构可以测评打分。")
    why = assess_closed(a)
    if why:
        raise Locked(why)
    mine = [s for s in scores_of(m, a) if level_of(s.item) == "assessor"]
    _score_level(m, mine, entries, complete=False)
    db.session.flush()
    return sum(1 for s in mine if s.review_points is not None)


def save_committee_scores(m: Membership, a: Assessment, entries: dict[int, Entry]) -> int:
    """The compound's committee scores its items (0..max, each with a note); a partial save is
    fine, a blank row leaves that item as it was. The number of its items now scored."""
    if not is_committee_of(m, a):
        raise Locked("只有该小区的业主委员会可以评价。")
    why = committee_closed(a)
    if why:
        raise Locked(why)
    mine = [s for s in _all_scores(a) if level_of(s.item) == "committee"]
    errors: dict[str, str] = {}
    for s in mine:
        e = entries.get(s.id, Entry())
        note = (e.text or "").strip()
        if problem := too_long(note, NOTE_MAX):
            errors[field_name(s, "reason")] = f"“{s.item.name}”的评价意见{problem}。"
        elif not e.blank and not note:
            errors[field_name(s, "reason")] = f"请写明业委会对“{s.item.name}”的评价意见。"
    if errors:
        raise WorkflowProblem(next(iter(errors.values())), errors=errors)
    _score_level(m, mine, entries, complete=False)
    db.session.flush()
    return sum(1 for s in mine if s.review_points is not None)


# --- summaries -----------------------------------------------------------------------------------

def pending_counts(a: Assessment) -> dict[str, int]:
    """Unscored items per level (what still blocks the next step)."""
    out = {"self": 0, "community": 0, "street": 0, "assessor": 0, "committee": 0}
    for s in _all_scores(a):
        if self_scorable(s.item) and required_for_submit(s.item) and s.self_points is None:
            out["self"] += 1
        lv = level_of(s.item)
        if lv and s.review_points is None:
            out[lv] += 1
    return out

