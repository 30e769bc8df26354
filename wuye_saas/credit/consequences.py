"""上榜后果 that act: what each consequence a standard names for a list produces when the
evaluation is published, and the small read API the rest of the product calls (tender
eligibility and bonus, renewal, exit, the next 月抽查). Plain functions: they flush, the caller
commits.

Rules:
- Who: every assessment of a published evaluation on a list (红榜/黄榜/黑榜) gets that list's
  consequences (Standard.consequences); a vetoed one also the 一票否决 list's. Every cycle kind
  (月抽查 too): the standard's list says what follows its result.
- What each kind produces (PRODUCES below):
  约谈 → a follow-up (interview) for the staff of the compound's community (firm-wide: the district);
  free text → a follow-up, its kind by the words it names (约谈 interview, 退出 exit, 抽查
    supervision, else other) — as the free-text consequences always did;
  启动退出程序 → a follow-up (exit) and a flag on the firm in that compound (firm-wide: on the firm);
  限制参加招投标, 限制评优, 优先续约, 招投标加分 (its points), 加大抽查频次 → a flag on the firm.
  约谈 writes no flag: `active_flags` never holds 'interview'.
- Validity: a flag counts from the publication day (Shanghai) for the district's
  CreditRule.consequence_days (default 365: 烟台's one year, as credit records); valid_until is
  the first day it no longer counts.
- Once: flags are keyed `eval:<ev>:firm:<firm>:<list>:<kind>` (per firm: a firm with three
  compounds on 黑榜 is restricted once) and `eval:<ev>:a:<assessment>:<list>:exit_procedure`;
  follow-ups `eval:<ev>:<assessment>:<list>:<kind>` (one per assessment, list and kind; the keys
  of before, without the list, still count as done). Running it again writes nothing.
- An appeal that changes the result (the results are computed again): flags the firm's listing
  no longer calls for are revoked with the reason (the row stays), open follow-ups it no longer
  calls for are closed with a note, and the new listing's consequences are written.
- Reading: a flag is active on day d when valid_from ≤ d < valid_until and it was not revoked
  on or before d. 招投标加分: the highest active bonus (repeated listings do not add up).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from ..evaluation.models import CONSEQUENCE_LISTS, Assessment, Evaluation
from ..extensions import db
from ..timeutil import local, now, today
from .defaults import rule
from ..org.models import Compound
from .models import FLAG_KINDS, FirmFlag, flag_label

# Consequence kind → (follow-up kind or None, flag scope: "firm", "compound" or None).
PRODUCES = {
    "interview": ("interview", None),
    "exit_procedure": ("exit", "compound"),
    "restrict_tender": (None, "firm"),
    "restrict_award": (None, "firm"),
    "priority_renewal": (None, "firm"),
    "tender_bonus": (None, "firm"),
    "more_spot_checks": (None, "firm"),
}
# Free text: the follow-up kind by the first word it names (else "other").
TEXT_WORDS = (("约谈", "interview"), ("退出", "exit"), ("抽查", "supervision"))
FOLLOW_UP_DAYS = 30
ZERO = Decimal("0")


@dataclass
class Outcome:
    flags: int = 0
    flags_revoked: int = 0
    follow_ups: int = 0
    follow_ups_closed: int = 0

    def as_dict(self) -> dict:
        return {"flags": self.flags, "flags_revoked": self.flags_revoked, "follow_ups": self.follow_ups,
                "follow_ups_closed": self.follow_ups_closed}


@dataclass
class _FollowUp:
    kind: str
    a: Assessment
    list_kind: str
    measures: list = field(default_factory=list)


def _text_kind(text: str) -> str:
    return next((k for word, k in TEXT_WORDS if word in text), "other")


def _describe(entry: dict) -> str:
    from ..evaluation.standards import describe_consequence  # the standard owns its wording
    return describe_consequence(entry)


def _entries(ev: Evaluation) -> dict[str, list[dict]]:
    from ..evaluation.standards import consequence_entries
    return {key: consequence_entries(ev.standard, key) for key in CONSEQUENCE_LISTS}


def _where(a: Assessment) -> str:
    return a.compound.name if a.compound else "全部项目"


def _base(key: str) -> str:
    return key.split("#", 1)[0]


def apply_evaluation(ev: Evaluation) -> Outcome:
    """Bring the flags and follow-ups of a published evaluation in line with its results."""
    out = Outcome()
    if ev.status != "published":
        return out
    plan = _entries(ev)
    day = local(ev.published_at).date() if ev.published_at else today()
    until = day + timedelta(days=rule().consequence_days or 365)
    rows = db.session.execute(
        select(Assessment).where(Assessment.evaluation_id == ev.id,
                                 or_(Assessment.list_kind.is_not(None), Assessment.vetoed.is_(True)))
        .options(joinedload(Assessment.firm), joinedload(Assessment.compound)).order_by(Assessment.id)).scalars().all()

    flags: dict[str, FirmFlag] = {}
    follow_ups: dict[str, _FollowUp] = {}
    for a in rows:
        lists = ([a.list_kind] if a.list_kind in CONSEQUENCE_LISTS else []) + (["veto"] if a.vetoed else [])
        for lk in lists:
            label = CONSEQUENCE_LISTS[lk]
            for entry in plan.get(lk, []):
                kind = entry["kind"]
                fu_kind, scope = PRODUCES.get(kind, (_text_kind(entry.get("text", "")), None))
                if fu_kind:
                    key = f"eval:{ev.id}:{a.id}:{lk}:{fu_kind}"
                    follow_ups.setdefault(key, _FollowUp(fu_kind, a, lk)).measures.append(_describe(entry))
                if scope is None:
                    continue
                if scope == "firm":
                    key, compound_id = f"eval:{ev.id}:firm:{a.firm_id}:{lk}:{kind}", None
                    title = f"{ev.name}：{a.firm.name}列入{label}，{_describe(entry)}"
                else:
                    key, compound_id = f"eval:{ev.id}:a:{a.id}:{lk}:{kind}", a.compound_id
                    title = f"{ev.name}：{a.firm.name}（{_where(a)}）列入{label}，{_describe(entry)}"
                if key in flags:
                    continue
                points = Decimal(str(entry["points"])) if kind == "tender_bonus" and entry.get("points") else None
                flags[key] = FirmFlag(firm_id=a.firm_id, compound_id=compound_id, kind=kind, points=points,
                                      valid_from=day, valid_until=until, evaluation_id=ev.id, assessment_id=a.id,
                                      list_kind=lk, source_key=key, title=title[:200])

    # Flags: write what is wanted and missing, revoke what is live and no longer wanted.
    existing = db.session.execute(select(FirmFlag).where(FirmFlag.evaluation_id == ev.id)).scalars().all()
    used: dict[str, int] = {}
    live: dict[str, FirmFlag] = {}
    for f in existing:
        used[_base(f.source_key)] = used.get(_base(f.source_key), 0) + 1
        if f.revoked_at is None:
            live[_base(f.source_key)] = f
    for key, f in flags.items():
        if key in live:
            continue
        n = used.get(key, 0)
        if n:   # revoked before (an earlier appeal) and called for again: a new row
            f.source_key = f"{key}#{n + 1}"
        db.session.add(f)
        out.flags += 1
    for key, f in live.items():
        if key not in flags:
            list_name = CONSEQUENCE_LISTS.get(f.list_kind, f.list_kind)
            f.revoked_at, f.revoked_on = now(), today()
            f.revoke_reason = f"{ev.name}结果经申诉改判，不再{'一票否决' if f.list_kind == 'veto' else '列入' + list_name}"
            out.flags_revoked += 1

    # Follow-ups: the same, closing instead of revoking.
    from ..followups.logic import close_follow_up, open_follow_up  # lazy: followups is another area
    from ..followups.models import FollowUp
    have = db.session.execute(select(FollowUp).where(FollowUp.key.like(f"eval:{ev.id}:%"))).scalars().all()
    legacy = {}
    for f in have:
        parts = f.key.split(":")
        if len(parts) == 4:                 # eval:<ev>:<assessment>:<kind>, before the list was in the key
            legacy[(parts[2], parts[3])] = f
    have_keys = {f.key for f in have}
    wanted_pairs = {(str(w.a.id), w.kind) for w in follow_ups.values()}
    for key, w in follow_ups.items():
        if key in have_keys or (str(w.a.id), w.kind) in legacy:
            continue
        a = w.a
        all_measures = [_describe(e) for lk in ([a.list_kind] if a.list_kind else []) + (["veto"] if a.vetoed else [])
                        for e in plan.get(lk, [])]
        listed = "一票否决" if w.list_kind == "veto" else f"列入{CONSEQUENCE_LISTS[w.list_kind]}"
        open_follow_up(w.kind, key, f"{ev.name}：{a.firm.name}（{_where(a)}）{listed}，{'、'.join(w.measures)}",
                       detail=f"总分 {a.total}，{a.stars or 0} 星，排名第 {a.rank} 名。处理措施：{'、'.join(all_measures)}。",
                       compound_id=a.compound_id, firm_id=a.firm_id, due_on=today() + timedelta(days=FOLLOW_UP_DAYS))
        out.follow_ups += 1
    for f in have:
        if f.status != "open":
            continue
        parts = f.key.split(":")
        stale = (f.key not in follow_ups) if len(parts) == 5 else (len(parts) == 4 and (parts[2], parts[3]) not in wanted_pairs)
        if stale:
            close_follow_up(f, f"{ev.name}结果经申诉改判，该考核对象不再适用此项后果，自动办结。", None)
            out.follow_ups_closed += 1
    db.session.flush()
    return out


# --- the read API (tender eligibility, renewal, exit, spot checks) ------------------------------

def _active(on: date):
    return and_(FirmFlag.valid_from <= on, FirmFlag.valid_until > on,
                or_(FirmFlag.revoked_on.is_(None), FirmFlag.revoked_on > on))


def active_flags(firm_id: int, on: date, compound_id: int | None = None) -> set[str]:
    """The kinds of the firm's flags active on `on` (FLAG_KINDS codes). With a compound: the
    firm-wide flags and those on that compound; without: all of the firm's."""
    stmt = select(FirmFlag.kind).where(FirmFlag.firm_id == firm_id, _active(on))
    if compound_id is not None:
        stmt = stmt.where(or_(FirmFlag.compound_id.is_(None), FirmFlag.compound_id == compound_id))
    return set(db.session.execute(stmt.distinct()).scalars())


def tender_bonus_points(firm_id: int, on: date) -> Decimal:
    """The 招投标加分 a firm carries on `on`: the highest active bonus, 0 when none."""
    best = db.session.execute(select(db.func.max(FirmFlag.points)).where(
        FirmFlag.firm_id == firm_id, FirmFlag.kind == "tender_bonus", _active(on))).scalar()
    return Decimal(str(best)).quantize(Decimal("0.01")) if best is not None else Decimal("0.00")


def firms_with_flag(kind: str, on: date) -> set[int]:
    """The firms with an active flag of this kind on `on`."""
    if kind not in FLAG_KINDS:
        raise ValueError(f"unknown flag kind: {kind}")
    return set(db.session.execute(select(FirmFlag.firm_id).where(FirmFlag.kind == kind, _active(on))
                                  .distinct()).scalars())


def flag_labels(m, on: date, firm_ids=None) -> dict[int, list[str]]:
    """The distinct labels of each firm's active flags that the membership may see (all firms,
    or those given), e.g. ["限制参加招投标", "启动退出程序（阳光小区）"], ordered by kind: one
    statement for a page of firms, reading only the columns the labels need (objects for a
    page's ~80 flags and their compounds were a third of the firm list's time)."""
    from .. import policy
    out: dict[int, list[str]] = {}
    if not policy.reaches(m, FirmFlag) or (firm_ids is not None and not list(firm_ids)):
        return out
    stmt = (select(FirmFlag.firm_id, FirmFlag.kind, FirmFlag.points, Compound.name)
            .outerjoin(Compound, Compound.id == FirmFlag.compound_id)
            .where(policy.visible(m, FirmFlag), _active(on))
            .order_by(FirmFlag.valid_from.desc(), FirmFlag.id))
    if firm_ids is not None:
        stmt = stmt.where(FirmFlag.firm_id.in_(list(firm_ids)))
    order = {kind: i for i, kind in enumerate(FLAG_KINDS)}
    rows: dict[int, list] = {}
    for firm_id, kind, points, compound in db.session.execute(stmt):
        rows.setdefault(firm_id, []).append((kind, points, compound))
    for firm_id, flags in rows.items():
        flags.sort(key=lambda f: order.get(f[0], len(order)))   # stable: newest first within a kind
        labels = out[firm_id] = []
        for kind, points, compound in flags:
            label = flag_label(kind, points) + (f"（{compound}）" if compound is not None else "")
            if label not in labels:
                labels.append(label)
    return out


def history(m, firm_id: int) -> list[FirmFlag]:
    """Every flag of the firm the membership may see, newest first (revoked and expired too)."""
    from .. import policy
    return list(db.session.execute(
        select(FirmFlag).where(FirmFlag.firm_id == firm_id, policy.visible(m, FirmFlag))
        .options(joinedload(FirmFlag.compound)).order_by(FirmFlag.valid_from.desc(), FirmFlag.id)).scalars())


def state_on(f: FirmFlag, day: date) -> str:
    if f.revoked_on is not None and f.revoked_on <= day:
        return "revoked"
    if day >= f.valid_until:
        return "expired"
    return "valid" if f.valid_from <= day else "pending"
