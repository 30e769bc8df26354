"""选聘: selecting a compound's property-service firm, as plain functions that flush (the view
commits once) and refuse with {field: message}, writing nothing.

Rules
- Who acts for the owners (`acting_party`): the compound's committee when it is in term
  (term_start ≤ day ≤ term_end) and not under 居委会代行职责 — the same facts committees/ keeps
  (latest committee, its open supervision); otherwise the community acts for it (代行, seeds/004
  第11条). Owners' votes are run by the committee (votes/), so the vote mode is the committee's;
  the community acting for it selects by tender.
- By owners' vote (民法典 第278条 选聘物业服务企业): the committee compares candidate firms and
  proposes one; the selection creates the owner vote (matter hire_firm) with votes.logic, and the
  vote follows its own workflow and count. When it is counted (`vote_counted`): passed → the firm
  gets the contract draft; failed → the selection says so and another candidate can be proposed.
- By tender (招投标): the notice (requirements, price ceiling, term, deadline) is published on
  the compound's board; firms apply until the end of the deadline day (Shanghai). A firm may not
  apply when `eligibility` gives a reason: a credit grade the district bars (default C and
  黑名单 — 商丘: 黑榜 firms barred from tenders; 连云港: black-listed firms may not bid) or, when the
  district bars it (default yes), the 黑榜 of the latest published evaluation that assessed it.
- A firm's lists: those of its assessments in the latest published evaluation that assessed it
  (published on or before the day); its list is the worst of them (黑 → 黄 → 红), as a result on
  several lists gets the worst.
- Red-list bonus (`bonus`): the 招投标加分 a published evaluation's list put on the firm (the
  standard's 上榜后果, the 红榜 by default, with its points: 2.00 unless the district says — RULES.md
  names the bonus, 淮南/潞州 招投标优先, not its size), while in force; added exactly (Decimal) to
  its panel average and shown separately. Also a bar: 限制参加招投标, the same way.
- Panel (评标委员会): at least PANEL_MIN members, an odd number (参照《前期物业管理招标投标管理暂行
  办法》: 5 人以上单数). Each member scores each applicant 0–100 (two places) after the deadline;
  average = the members' sum ÷ their number, rounded half up to 0.01 (the sheet's two places);
  total = average + bonus; rank by total (equal totals share a rank). The winner is a first-ranked
  applicant still eligible on the day of the award; the result (every applicant's scores, average,
  bonus, total, rank) is published on the compound's board.
- The contract draft (`Contract.status == "draft"`): the winner's quote (≤ the ceiling) as the
  price, the selection's service grade, fee mode and term. It comes into force when both sides
  have signed and no other contract serves the compound on its start date (`activate_if_free`);
  otherwise it waits: "待原物业交接完成后生效" (exit & handover activates it then).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import event, exists, false, inspect, or_, select
from sqlalchemy.orm import Session, joinedload

from .. import policy, timeutil
from ..committees import logic as committees
from ..credit import consequences, grading
from ..credit.models import BLACKLIST
from ..evaluation.models import LISTS, Assessment, Evaluation
from ..extensions import db
from ..org.models import FEE_MODES, SERVICE_GRADES, Compound, Contract, Firm
from ..publicity import publications
from ..publicity.templates_content import line
from ..timeutil import SHANGHAI
from ..votes import logic as votes
from ..votes.models import OwnerVote
from .models import (
    ACTING, MODES, STATUSES, HiringRule, PanelMember, PanelScore, Selection, SelectionCandidate,
    TenderApplication,
)

DEFAULT_BARRED = ["C", BLACKLIST]          # 商丘 / 连云港
SCORE_RANGE = (Decimal("0"), Decimal("100"))
PANEL_MIN = 5
CENT = Decimal("0.01")
GRADES = ["AAA", "AA", "A", "B", "C", BLACKLIST]
WORST_FIRST = ("black", "yellow", "red")
ACTIVE = ("draft", "voting", "vote_failed", "open")
WAITING_HANDOVER = "待原物业交接完成后生效"


def today() -> date:
    return timeutil.today()


# --- the district's rule ---------------------------------------------------------------------

def rule() -> HiringRule:
    r = db.session.execute(select(HiringRule)).scalar_one_or_none()
    return r or HiringRule(barred_grades=list(DEFAULT_BARRED), bar_black_list=True)


def save_rule(barred: list[str], bar_black_list: bool) -> dict:
    unknown = [g for g in barred if g not in GRADES]
    if unknown:
        return {"barred_grades": "请从列出的信用等级中选择。"}
    r = db.session.execute(select(HiringRule)).scalar_one_or_none()
    if r is None:
        r = HiringRule()
        db.session.add(r)
    r.barred_grades = [g for g in GRADES if g in barred]
    r.bar_black_list = bar_black_list
    db.session.flush()
    return {}


# --- standing, eligibility and bonus ---------------------------------------------------------

def _end_of_day_utc(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


def lists_of(firm_ids: list[int], on: date) -> dict[int, tuple[Evaluation | None, set[str]]]:
    """Each firm's latest published evaluation that assessed it (by the day) and its lists there;
    one query for any number of firms."""
    rows = db.session.execute(
        select(Assessment.firm_id, Evaluation, Assessment.list_kind)
        .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
        .where(Assessment.firm_id.in_(firm_ids), Evaluation.status == "published",
               Evaluation.published_at < _end_of_day_utc(on))).all()
    out: dict[int, tuple[Evaluation | None, set[str]]] = {f: (None, set()) for f in firm_ids}
    for firm_id, ev, kind in rows:
        current, kinds = out[firm_id]
        if current is None or (ev.published_at, ev.id) > (current.published_at, current.id):
            out[firm_id] = (ev, {kind} if kind else set())
        elif current.id == ev.id and kind:
            kinds.add(kind)
    return out


def firm_lists(firm_id: int, on: date) -> tuple[Evaluation | None, set[str]]:
    return lists_of([firm_id], on)[firm_id]


def worst_list(kinds: set[str]) -> str | None:
    return next((k for k in WORST_FIRST if k in kinds), None)


def lists_text(kinds: set[str]) -> str:
    return "、".join(LISTS[k] for k in WORST_FIRST if k in kinds)


def _bar(firm: Firm, s: grading.Standing, ev: Evaluation | None, kinds: set[str], r: HiringRule) -> str | None:
    barred = list(r.barred_grades or [])
    if s.grade in barred:
        shown = s.grade if s.grade == BLACKLIST else f"{s.grade}（{s.score} 分）"
        return (f"{firm.name}信用等级为{shown}，本区规定信用等级为{'、'.join(barred)}的企业不得参加招投标"
                f"（商丘、连云港做法）。")
    if r.bar_black_list and "black" in kinds:
        return f"{firm.name}列入{ev.name}黑榜，黑榜企业不得参加招投标（商丘、连云港做法）。"
    return None


def eligibility(firm: Firm, on: date, standing=None) -> str | None:
    """Why the firm may not apply to a tender on the day, or None. One place for the bars: the
    district's grade and 黑榜 bars, and 限制参加招投标, a consequence a published list put on the
    firm (credit/consequences.py). `standing`: the firm's credit standing on the day, when the
    caller has read it already."""
    ev, kinds = firm_lists(firm.id, on)
    reason = _bar(firm, standing if standing is not None else grading.standing(firm.id, on), ev, kinds, rule())
    if reason is None and "restrict_tender" in consequences.active_flags(firm.id, on):
        reason = f"{firm.name}因考核上榜被限制参加招投标（考核结果的上榜后果，有效期内）。"
    return reason


def barred_firms(on: date) -> list[tuple[Firm, str]]:
    """The district's firms that may not apply on the day, with the reason `eligibility` gives.
    The grades and lists of all firms are read at once to find the firms with a bar against
    them; each of those is then judged by `eligibility` itself, so the list says what applying
    would say."""
    firms = db.session.execute(select(Firm).order_by(Firm.name)).scalars().all()
    ids = [f.id for f in firms]
    grades, lists, r = grading.standings(on, ids), lists_of(ids, on), rule()
    restricted = consequences.firms_with_flag("restrict_tender", on)
    out = []
    for f in firms:
        if _bar(f, grades[f.id], *lists[f.id], r) or f.id in restricted:
            reason = eligibility(f, on)
            if reason:
                out.append((f, reason))
    return out


def bonus(firm: Firm, on: date) -> Decimal:
    """The bonus the firm carries on the day (0 when none), exact to 0.01: 招投标加分, the
    consequence the district attached to a list (the 红榜 by default) with its points, in force
    for its period after the evaluation was published (credit/consequences.py)."""
    return Decimal(consequences.tender_bonus_points(firm.id, on)).quantize(CENT)


@dataclass
class FirmStanding:
    grade: str
    score: Decimal
    lists: str
    evaluation: str
    barred: str | None
    bonus: Decimal


def standings(firm_ids: list[int], on: date) -> dict[int, FirmStanding]:
    """Grade, lists, bar and bonus of each firm, for the pages that compare firms."""
    if not firm_ids:
        return {}
    grades, lists = grading.standings(on, firm_ids), lists_of(firm_ids, on)
    firms = {f.id: f for f in db.session.execute(select(Firm).where(Firm.id.in_(firm_ids))).scalars()}
    out = {}
    for fid in firm_ids:
        ev, kinds = lists[fid]
        s = grades[fid]
        # The bar and the bonus by the one function of each (a page compares a handful of firms).
        out[fid] = FirmStanding(s.grade, s.score, lists_text(kinds), ev.name if ev else "",
                                eligibility(firms[fid], on), bonus(firms[fid], on))
    return out


# --- who acts for the owners -----------------------------------------------------------------

def acting_party(compound_id: int, day: date) -> str:
    c = committees.latest_committee(compound_id)
    if c is None or not (c.term_start <= day <= c.term_end):
        return "community"
    s = committees.open_supervision_of(c.id)
    return "community" if s is not None and s.kind == "acting" else "committee"


def may_act(m, compound: Compound, day: date) -> bool:
    """The membership acts for the compound's owners now (opens, runs and signs selections)."""
    if not policy.can(m, "run", "selection"):
        return False
    party = acting_party(compound.id, day)
    if m.role == "committee_member":
        return party == "committee" and m.compound_id == compound.id
    if m.role == "community_staff":
        return party == "community" and m.community_id == compound.community_id
    return False


def openable_compounds(m, day: date) -> list[Compound]:
    comps = db.session.execute(select(Compound).where(policy.visible(m, Compound))
                               .order_by(Compound.name)).scalars().all()
    return [c for c in comps if may_act(m, c, day)]


# --- opening -----------------------------------------------------------------------------------

def active_selection(compound_id: int) -> Selection | None:
    return db.session.execute(select(Selection).where(Selection.compound_id == compound_id,
                                                      Selection.status.in_(ACTIVE))).scalars().first()


def open_selection(m, compound: Compound, mode: str, service_grade: str, fee_mode: str, fee_rate: Decimal | None,
                   term_start: date | None, term_end: date | None, requirements: str, deadline: date | None,
                   user=None) -> tuple[Selection | None, dict]:
    day = today()
    if not may_act(m, compound, day):
        return None, {"compound_id": "您当前不能代表该小区业主发起选聘。"}
    party = acting_party(compound.id, day)
    if mode not in MODES:
        return None, {"mode": "请选择选聘方式。"}
    if mode == "vote" and party != "committee":
        return None, {"mode": "业主表决由业委会（物管会）组织；居委会代行期间请采用招投标方式选聘。"}
    if service_grade not in SERVICE_GRADES:
        return None, {"service_grade": "请选择服务等级。"}
    if fee_mode not in FEE_MODES:
        return None, {"fee_mode": "请选择收费方式。"}
    if fee_rate is None or fee_rate <= 0:
        return None, {"fee_rate": "请填写物业费单价上限（大于 0）。"}
    if term_start is None:
        return None, {"term_start": "请填写合同开始日期。"}
    if term_end is None or term_end <= term_start:
        return None, {"term_end": "合同截止日期应晚于开始日期。"}
    if mode == "tender":
        if not requirements.strip():
            return None, {"requirements": "请填写招标要求（服务内容、人员配备、管理实绩等）。"}
        if deadline is None or deadline < day:
            return None, {"deadline": "报名截止日期不能早于今天。"}
        if term_start <= deadline:
            return None, {"term_start": "合同开始日期应晚于报名截止日期。"}
    current = active_selection(compound.id)
    if current is not None:
        return None, {"compound_id": f"该小区已有进行中的选聘（{current.title}），请先完成或终止。"}
    sel = Selection(compound_id=compound.id, mode=mode, acting=party, status="draft",
                    title=f"{compound.name}选聘物业服务企业（{MODES[mode]}）", service_grade=service_grade,
                    fee_mode=fee_mode, fee_rate=fee_rate, term_start=term_start, term_end=term_end,
                    requirements=requirements.strip(), deadline=deadline if mode == "tender" else None,
                    created_by_id=getattr(user, "id", None))
    db.session.add(sel)
    db.session.flush()
    return sel, {}


def cancel(sel: Selection, reason: str) -> dict:
    if sel.status not in ("draft", "vote_failed", "open"):
        if sel.status == "voting":
            return {"reason": "业主表决进行中，不能终止；请待计票后再处理。"}
        return {"reason": f"该选聘当前“{STATUSES[sel.status]}”，不能终止。"}
    reason = (reason or "").strip()
    if not reason:
        return {"reason": "请填写终止原因。"}
    sel.status, sel.outcome_note = "cancelled", f"已终止：{reason}"
    db.session.flush()
    return {}


# --- by owners' vote -------------------------------------------------------------------------

def _check_quote(sel: Selection, quoted: Decimal | None, field: str) -> dict:
    if quoted is None or quoted <= 0:
        return {field: "请填写报价（元/㎡·月，大于 0）。"}
    if quoted > sel.fee_rate:
        return {field: f"报价不能高于本次选聘的单价上限 {sel.fee_rate.normalize():f} 元/㎡·月。"}
    return {}


def add_candidate(sel: Selection, firm: Firm, quoted: Decimal | None, note: str) -> dict:
    if sel.mode != "vote" or sel.status not in ("draft", "vote_failed"):
        return {"firm_id": "只有筹备中或表决未通过的业主表决选聘可以添加候选企业。"}
    if any(c.firm_id == firm.id for c in sel.candidates):
        return {"firm_id": f"{firm.name}已是候选企业。"}
    problems = _check_quote(sel, quoted, "quoted_rate")
    if problems:
        return problems
    db.session.add(SelectionCandidate(selection_id=sel.id, firm_id=firm.id, quoted_rate=quoted,
                                      note=(note or "").strip()))
    db.session.flush()
    db.session.refresh(sel, ["candidates"])
    return {}


def remove_candidate(sel: Selection, cand: SelectionCandidate) -> dict:
    if cand.selection_id != sel.id or cand.outcome:
        return {"candidate": "已提交表决的候选企业不能移除。"}
    if sel.status not in ("draft", "vote_failed"):
        return {"candidate": "当前不能移除候选企业。"}
    db.session.delete(cand)
    db.session.flush()
    return {}


def vote_title(firm: Firm, compound: Compound) -> str:
    return f"选聘{firm.name}为{compound.name}物业服务企业"


def propose(sel: Selection, cand: SelectionCandidate) -> tuple[OwnerVote | None, dict]:
    """The committee proposes one candidate: the owner vote (选聘物业服务企业) is created as a draft
    through votes.logic; it is filed, publicized, opened and counted on the vote's pages."""
    if sel.mode != "vote" or sel.status not in ("draft", "vote_failed"):
        return None, {"candidate": "只有筹备中或表决未通过的选聘可以提名。"}
    if cand.selection_id != sel.id or cand.outcome:
        return None, {"candidate": "该候选企业已提交过表决，请提名其他候选企业。"}
    others = [c for c in sel.candidates if c.id != cand.id]
    compared = "；".join(f"{c.firm.name} 报价 {c.quoted_rate.normalize():f} 元/㎡·月"
                        + (f"（{c.note}）" if c.note else "") for c in others) or "无"
    description = (f"拟选聘{cand.firm.name}为本小区物业服务企业。\n服务等级：{sel.service_grade}；收费方式：{sel.fee_mode}；"
                   f"物业费单价：{cand.quoted_rate.normalize():f} 元/㎡·月；"
                   f"合同期限：{sel.term_start:%Y-%m-%d} 至 {sel.term_end:%Y-%m-%d}。\n"
                   f"业委会比选的其他候选企业：{compared}。")
    if cand.note:
        description += f"\n提名理由：{cand.note}"
    vote, problems = votes.create_vote(sel.compound_id, "hire_firm", vote_title(cand.firm, sel.compound), description)
    if vote is None:
        return None, problems
    cand.vote_id, cand.outcome = vote.id, "proposed"
    sel.vote_id, sel.status = vote.id, "voting"
    sel.outcome_note = ""
    db.session.flush()
    return vote, {}


def vote_counted(vote: OwnerVote) -> Selection | None:
    """A hire_firm vote was counted: move its selection on (passed → the contract draft;
    failed → another candidate may be proposed). Idempotent: a selection not waiting on the vote
    is left alone."""
    sel = db.session.execute(select(Selection).where(Selection.vote_id == vote.id,
                                                     Selection.status == "voting")).scalar_one_or_none()
    if sel is None or vote.status != "closed" or vote.passed is None:
        return None
    cand = next((c for c in sel.candidates if c.vote_id == vote.id), None)
    if cand is None:
        return None
    if vote.passed:
        cand.outcome = "passed"
        _award(sel, cand.firm, cand.quoted_rate or sel.fee_rate)
        sel.outcome_note = f"业主表决通过：{vote.title}。已生成合同草稿，待双方签订。"
    else:
        cand.outcome = "failed"
        sel.status = "vote_failed"
        sel.outcome_note = f"业主表决未通过：{vote.title}。可另行提名候选企业提交表决。"
    return sel


@event.listens_for(Session, "before_flush")
def _follow_hire_votes(session, flush_context, instances):
    """votes.logic.close_vote sets a vote closed and counted; a selection waiting on a hire_firm
    vote follows it in the same transaction, whichever page counted it."""
    for obj in list(session.dirty):
        if isinstance(obj, OwnerVote) and obj.matter == "hire_firm" and obj.status == "closed":
            hist = inspect(obj).attrs.status.history
            if "closed" in (hist.added or ()):
                with session.no_autoflush:
                    vote_counted(obj)


# --- by tender ---------------------------------------------------------------------------------

def notice_content(sel: Selection) -> dict:
    r = rule()
    bars = [f"信用等级为{'、'.join(r.barred_grades)}的企业不得报名"] if r.barred_grades else []
    if r.bar_black_list:
        bars.append("列入最近一次考核黑榜的企业不得报名")
    lines = [line("compound", sel.compound.name, "小区"),
             line("mode", MODES[sel.mode], "选聘方式"),
             line("acting", ACTING[sel.acting], "招标人"),
             line("grade", sel.service_grade, "服务等级"),
             line("fee_mode", sel.fee_mode, "收费方式"),
             line("ceiling", f"{sel.fee_rate.normalize():f} 元/㎡·月（报价不得高于此价）", "单价上限"),
             line("term", f"{sel.term_start:%Y年%m月%d日} 至 {sel.term_end:%Y年%m月%d日}", "合同期限"),
             line("requirements", sel.requirements, "招标要求"),
             line("deadline", f"{sel.deadline:%Y年%m月%d日} 24 时", "报名截止"),
             line("bars", "；".join(bars) or "无", "资格条件"),
             line("bonus", "考核结果附有“招投标加分”后果（默认红榜）的企业，在其有效期内按所定分值加分", "红榜加分"),
             line("method", f"评标委员会（{PANEL_MIN} 人以上单数）逐一评分（百分制），取平均分（保留两位小数）"
                            "加红榜加分为总分，总分最高者中标", "评标办法")]
    return {"selection_id": sel.id, "lines": lines}


def publish_tender(sel: Selection, user=None) -> dict:
    if sel.mode != "tender" or sel.status != "draft":
        return {"action": "只有筹备中的招投标选聘可以发布招标公告。"}
    if sel.deadline is None or sel.deadline < today():
        return {"action": "报名截止日期已过，请终止后重新发起。"}
    pub = publications.publish(sel.compound, "tender_notice", notice_content(sel), f"物业选聘招标公告：{sel.title}",
                               user=user)
    sel.status, sel.notice_publication_id = "open", pub.id
    db.session.flush()
    return {}


def applications_open(sel: Selection, on: date) -> bool:
    return sel.mode == "tender" and sel.status == "open" and sel.deadline is not None and on <= sel.deadline


def scoring_open(sel: Selection, on: date) -> bool:
    return sel.mode == "tender" and sel.status == "open" and sel.deadline is not None and on > sel.deadline


def application_of(sel: Selection, firm_id: int) -> TenderApplication | None:
    return next((a for a in sel.applications if a.firm_id == firm_id), None)


def apply(sel: Selection, firm: Firm, quoted: Decimal | None, proposal: str, user=None) -> tuple[TenderApplication | None, dict]:
    on = today()
    if not applications_open(sel, on):
        return None, {"quoted_rate": "该招标不在报名期内。"}
    if application_of(sel, firm.id) is not None:
        return None, {"quoted_rate": f"{firm.name}已报名。"}
    reason = eligibility(firm, on)
    if reason:
        return None, {"eligibility": reason}
    problems = _check_quote(sel, quoted, "quoted_rate")
    if problems:
        return None, problems
    if not (proposal or "").strip():
        return None, {"proposal": "请填写服务方案摘要。"}
    ev, kinds = firm_lists(firm.id, on)
    app = TenderApplication(selection_id=sel.id, firm_id=firm.id, quoted_rate=quoted, proposal=proposal.strip(),
                            grade=grading.standing(firm.id, on).grade, lists=lists_text(kinds),
                            bonus=bonus(firm, on), user_id=getattr(user, "id", None))
    db.session.add(app)
    db.session.flush()
    return app, {}


def add_panel_member(sel: Selection, name: str, unit: str) -> dict:
    if sel.mode != "tender" or sel.status not in ("draft", "open"):
        return {"name": "只有未定标的招标可以组建评标委员会。"}
    name = (name or "").strip()
    if not name:
        return {"name": "请填写评委姓名。"}
    db.session.add(PanelMember(selection_id=sel.id, name=name, unit=(unit or "").strip()))
    db.session.flush()
    db.session.refresh(sel, ["panel"])
    return {}


def remove_panel_member(sel: Selection, member: PanelMember) -> dict:
    if member.selection_id != sel.id or sel.status not in ("draft", "open"):
        return {"name": "当前不能移除评委。"}
    if db.session.execute(select(PanelScore.id).where(PanelScore.member_id == member.id)).first():
        return {"name": f"{member.name}已评分，不能移除。"}
    db.session.delete(member)
    db.session.flush()
    return {}


def average(points: list[Decimal]) -> Decimal:
    """The panel's average: exact sum ÷ count, rounded half up to 0.01."""
    return (sum(points, Decimal(0)) / len(points)).quantize(CENT, rounding=ROUND_HALF_UP)


def record_scores(sel: Selection, app: TenderApplication, points: dict[int, Decimal | None]) -> dict:
    """One applicant's scores from every panel member, then the averages, totals and ranks."""
    if not scoring_open(sel, today()):
        return {"scores": "报名截止后、定标前才能录入评分。"}
    if app.selection_id != sel.id:
        return {"scores": "该投标不属于本次招标。"}
    members = sel.panel
    if not members:
        return {"scores": "请先组建评标委员会。"}
    missing = [mb.name for mb in members if points.get(mb.id) is None]
    if missing:
        return {"scores": f"请录入每位评委的评分（缺：{'、'.join(missing)}）。"}
    bad = [mb.name for mb in members if not SCORE_RANGE[0] <= points[mb.id] <= SCORE_RANGE[1]]
    if bad:
        return {"scores": f"评分应在 0 到 100 之间（{'、'.join(bad)}）。"}
    have = {s.member_id: s for s in app.scores}
    for mb in members:
        s = have.get(mb.id)
        if s is None:
            db.session.add(PanelScore(application_id=app.id, member_id=mb.id, points=points[mb.id]))
        elif s.points != points[mb.id]:
            s.points = points[mb.id]
    db.session.flush()
    db.session.refresh(app, ["scores"])
    rank(sel)
    return {}


def rank(sel: Selection) -> None:
    """Averages and totals of the applicants scored by every member; ranks by total."""
    member_ids = {mb.id for mb in sel.panel}
    scored = []
    for a in sel.applications:
        mine = {s.member_id: s.points for s in a.scores if s.member_id in member_ids}
        if member_ids and set(mine) == member_ids:
            avg = average([Decimal(p) for p in mine.values()])
            if a.average != avg:
                a.average = avg
            total = avg + Decimal(a.bonus)
            if a.total != total:
                a.total = total
            scored.append(a)
        else:
            a.average = a.total = a.rank = None
    for a in scored:
        r = 1 + sum(1 for b in scored if b.total > a.total)
        if a.rank != r:
            a.rank = r
    db.session.flush()


def award_problem(sel: Selection) -> str | None:
    if not scoring_open(sel, today()):
        return "报名截止后、定标前才能确定中标企业。"
    n = len(sel.panel)
    if n < PANEL_MIN or n % 2 == 0:
        return f"评标委员会应为 {PANEL_MIN} 人以上单数，现为 {n} 人。"
    if not sel.applications:
        return "没有企业报名，不能定标；可终止本次招标后重新发起。"
    unscored = [a.firm.name for a in sel.applications if a.total is None]
    if unscored:
        return f"尚有投标未经全体评委评分：{'、'.join(unscored)}。"
    return None


def award(sel: Selection, app: TenderApplication, user=None) -> dict:
    problem = award_problem(sel)
    if problem:
        return {"winner": problem}
    if app.selection_id != sel.id or app.rank != 1:
        return {"winner": "中标企业应为总分排名第一的投标企业。"}
    reason = eligibility(app.firm, today())
    if reason:
        return {"winner": f"该企业现已不符合投标资格：{reason}"}
    _award(sel, app.firm, app.quoted_rate)
    pub = publications.publish(sel.compound, "hiring_result", result_content(sel, app),
                               f"物业选聘结果公示：{sel.title}", user=user)
    sel.result_publication_id = pub.id
    sel.outcome_note = f"评标结果：{app.firm.name}中标（总分 {app.total}）。已生成合同草稿，待双方签订。"
    db.session.flush()
    return {}


def result_content(sel: Selection, winner: TenderApplication) -> dict:
    members = sel.panel
    lines = [line("compound", sel.compound.name, "小区"), line("mode", MODES[sel.mode], "选聘方式"),
             line("panel", "、".join(f"{mb.name}（{mb.unit}）" if mb.unit else mb.name for mb in members), "评标委员会")]
    rows = []
    for a in sorted(sel.applications, key=lambda x: (x.rank or 10**6, x.firm.name)):
        scores = {s.member_id: s.points for s in a.scores}
        per = "，".join(f"{mb.name} {Decimal(scores[mb.id]).quantize(CENT)}" for mb in members)
        text = (f"第 {a.rank} 名 · 报价 {a.quoted_rate.normalize():f} 元/㎡·月 · 信用等级 {a.grade}"
                f"{' · ' + a.lists if a.lists else ''}\n评委评分：{per}\n平均分 {a.average} + 红榜加分 {a.bonus} = 总分 {a.total}")
        lines.append(line(f"applicant{a.id}", text, a.firm.name))
        rows.append({"firm": a.firm.name, "rank": a.rank, "quoted_rate": str(a.quoted_rate), "grade": a.grade,
                     "lists": a.lists, "scores": [str(scores[mb.id]) for mb in members], "average": str(a.average),
                     "bonus": str(a.bonus), "total": str(a.total)})
    lines += [line("winner", winner.firm.name, "中标企业"),
              line("contract", f"服务等级 {sel.service_grade}，{sel.fee_mode}，物业费单价 {winner.quoted_rate.normalize():f} "
                               f"元/㎡·月，合同期限 {sel.term_start:%Y年%m月%d日} 至 {sel.term_end:%Y年%m月%d日}", "合同主要条款")]
    return {"selection_id": sel.id, "winner": winner.firm.name, "members": [mb.name for mb in members],
            "applicants": rows, "lines": lines}


# --- the contract draft and signing -----------------------------------------------------------

def _award(sel: Selection, firm: Firm, rate: Decimal) -> Contract:
    # tenant_id given: this also runs inside a flush (vote_counted), after the tenancy stamp.
    c = Contract(tenant_id=sel.tenant_id, firm_id=firm.id, compound_id=sel.compound_id, start_date=sel.term_start, end_date=sel.term_end,
                 service_grade=sel.service_grade, fee_mode=sel.fee_mode, fee_rate=rate, status="draft")
    db.session.add(c)
    sel.contract, sel.winner_firm_id, sel.status = c, firm.id, "awarded"
    return c


def activate_if_free(contract: Contract) -> tuple[bool, str]:
    """Bring a signed draft into force unless another contract serves the compound past its first
    day (the outgoing firm keeps serving until its handover is signed; exit & handover calls this
    again then). A selection's draft needs both signatures first."""
    if contract.status == "active":
        return True, "合同已生效。"
    sel = db.session.execute(select(Selection).where(Selection.contract_id == contract.id)).scalar_one_or_none()
    if sel is not None and (sel.firm_signed_at is None or sel.owners_signed_at is None):
        return False, "待双方签订后生效。"
    # Another firm still serving past the day this one would start blocks it; a contract whose
    # last day is that day (the handover day, exits.logic.complete) does not.
    first_day = max(contract.start_date, today())
    busy = db.session.execute(select(Contract.id).where(
        Contract.compound_id == contract.compound_id, Contract.id != contract.id,
        Contract.in_force(first_day), Contract.end_date > first_day).limit(1)).first()
    if busy is not None:
        return False, WAITING_HANDOVER
    contract.status = "active"
    db.session.flush()
    return True, "合同已生效。"


def signing_side(m, sel: Selection) -> str | None:
    """'firm' or 'owners' when this membership signs the selection's draft now."""
    if sel.status != "awarded" or sel.contract is None or sel.contract.status != "draft":
        return None
    if m.role == "firm_manager" and m.firm_id == sel.winner_firm_id and sel.firm_signed_at is None \
            and policy.can(m, "sign", "contract_sign"):
        return "firm"
    if sel.owners_signed_at is None and may_act(m, sel.compound, today()):
        return "owners"
    return None


def sign(m, sel: Selection) -> tuple[str | None, dict]:
    side = signing_side(m, sel)
    if side is None:
        return None, {"sign": "该合同草稿当前不需要您签订。"}
    if side == "firm":
        sel.firm_signed_at = timeutil.now()
    else:
        sel.owners_signed_at = timeutil.now()
    db.session.flush()
    _, message = activate_if_free(sel.contract)
    return message, {}


# --- lists ---------------------------------------------------------------------------------------

TABS = {"": "全部", "active": "进行中", "apply": "可报名", "prepare": "待提名/发布", "scoring": "待评标",
        "sign": "待签订", "awarded": "已选定", "cancelled": "已终止"}


def tabs_for(m) -> dict[str, str]:
    if m.role in policy.FIRM_ROLES:
        keys = ["", "apply", "sign", "awarded"] if m.role == "firm_manager" else ["", "awarded"]
    elif m.role in ("committee_member", "community_staff"):
        keys = ["", "active", "prepare", "scoring", "sign", "awarded", "cancelled"]
    else:
        keys = ["", "active", "awarded", "cancelled"]
    return {k: TABS[k] for k in keys}


def barred(m, on: date, standing=None) -> bool:
    """The membership's firm may apply to no tender on the day (the page says why: `eligibility`)."""
    return m.firm_id is None or bool(eligibility(db.session.get(Firm, m.firm_id), on, standing))


def selections_select(m, tab: str = "", q: str = "", mode: str = "", check_bar: bool = True):
    """The selections of a list tab. The 可报名 tab reads the firm's bars (`barred`) unless
    `check_bar` is False: then the caller applies them (the to-do card, whose statements are
    built once a day)."""
    on = today()
    stmt = select(Selection).where(policy.visible(m, Selection)).options(joinedload(Selection.compound))
    party = {"committee_member": "committee", "community_staff": "community"}.get(m.role)
    if tab == "active":
        stmt = stmt.where(Selection.status.in_(ACTIVE))
    elif tab == "apply":
        applied = exists().where(TenderApplication.selection_id == Selection.id,
                                 TenderApplication.firm_id == m.firm_id)
        stmt = stmt.where(Selection.mode == "tender", Selection.status == "open", Selection.deadline >= on, ~applied)
        if check_bar and barred(m, on):
            stmt = stmt.where(false())       # a barred firm may apply to none (the page says why)
    elif tab == "prepare":
        stmt = stmt.where(Selection.status.in_(("draft", "vote_failed")), Selection.acting == party)
    elif tab == "scoring":
        stmt = stmt.where(Selection.status == "open", Selection.deadline < on, Selection.acting == party)
    elif tab == "sign":
        draft = Selection.contract_id.in_(select(Contract.id).where(Contract.status == "draft"))
        if m.role in policy.FIRM_ROLES:
            stmt = stmt.where(Selection.status == "awarded", draft, Selection.winner_firm_id == m.firm_id,
                              Selection.firm_signed_at.is_(None))
        else:
            stmt = stmt.where(Selection.status == "awarded", draft, Selection.owners_signed_at.is_(None),
                              Selection.acting == party)
    elif tab in ("awarded", "cancelled"):
        stmt = stmt.where(Selection.status == tab)
    if mode in MODES:
        stmt = stmt.where(Selection.mode == mode)
    if q:
        stmt = stmt.where(or_(Selection.title.contains(q), Selection.compound_id.in_(
            select(Compound.id).where(Compound.name.contains(q)))))
    return stmt.order_by(Selection.created_at.desc(), Selection.id.desc())


def candidate_firms(sel: Selection) -> list[Firm]:
    """Firms of the district not yet candidates (or applicants) of the selection."""
    taken = {c.firm_id for c in sel.candidates}
    return [f for f in db.session.execute(select(Firm).order_by(Firm.name)).scalars() if f.id not in taken]


def stage(sel: Selection, on: date) -> str:
    if sel.status == "open":
        return "报名中" if applications_open(sel, on) else "报名已截止 · 评标中"
    if sel.status == "awarded" and sel.contract is not None:
        return "已选定 · 合同" + ("已生效" if sel.contract.status == "active" else "待生效")
    return STATUSES[sel.status]

