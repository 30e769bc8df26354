"""Committee formation (组建) and re-election (换届), the candidates' joint review (联审) against
the district's checklist, filing (备案) the elected committee, and supervision of a committee
(责令整改 / 居委会代行职责). Plain functions: they flush, never commit, and refuse with
FormationProblem having written nothing.

Flow of a formation: open (候选人登记) → vetting (联审中: every active criterion × candidate is
recorded 符合/不符合 by the checking unit) → voting (the owners elect: a 选举业主委员会 vote, 民法典
第二百七十八条, whose items are the candidates who passed the review) → elected (set by the count:
a candidate is elected when his item passes; if more pass than seats, the most agreeing area,
then heads, win; the community then names one 主任 among them) → filed (the Committee and its
members — exactly those the count elected — are created; for 换届 the previous committee's term
is closed the day before). A count electing fewer than the kind's minimum sends the formation
back to vetting for a new election. Filing is due within 30 days of the election (物业管理条例
第十六条). Any unfinished formation can be cancelled with a reason.

After a correction (责令改正 not done by its due date, 撤销决定) or while the 居委会 acts for the
committee, the community may open an early 换届 before the usual 180-day window.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, case, func, select

from .. import policy, timeutil
from ..auth.models import Membership
from ..extensions import db
from ..org.models import COMMITTEE_KINDS, COMMITTEE_POSITIONS, Committee, CommitteeMember, Compound, Household
from ..votes import logic as votes
from ..votes.models import OwnerVote
from .models import (
    FORMATION_KINDS, FORMATION_STATUSES, SUPERVISION_KINDS, VETTING_GROUPS, VETTING_RESULTS, Candidate,
    CommitteeSupervision, Formation, VettingCheck, VettingCriterion,
)

# A 换届 may be opened this many days before the term ends (北京条例第四十九条: the committee
# reports 六个月 before the end and the street forms the 换届小组 within 60 days).
REELECTION_WINDOW_DAYS = 180
# Term lengths: 业委会 每届任期不超过五年 (北京市物业管理条例第四十一条; 山东省物业管理条例第三十条
# the same; 上海 三到五年, 第二十条), the common five years is used; 物管会 任期一般不超过三年
# (北京市物业管理条例第五十八条).
TERM_YEARS = {"业委会": 5, "物管会": 3}
# Seats: 业委会 五人以上单数, 三人 for small compounds (北京 第三十九条: 一百户以下; 上海 第二十条:
# 一万平方米以下); 物管会 a committee of community, owners' and residents' representatives, five
# or more (北京 第五十四条 asks 七人以上单数; districts elsewhere seat five). Up to 11 either way.
SEATS = {"业委会": (3, 11), "物管会": (5, 11)}
ACTIVE_STATUSES = ("open", "vetting", "voting", "elected")
# 物业管理条例 第十六条: the committee files with the district (street) within 30 days of its election.
FILING_DAYS = 30
RECOMMENDERS = ["社区党组织推荐", "居民委员会推荐", "业主自荐", "业主联名推荐"]   # 北京 第四十条
FULL_NAMES = {"业委会": "业主委员会", "物管会": "物业管理委员会"}

# The default checklist: 合肥市蜀山区笔架山街道's 业委会委员“五不能”“六不宜” (seeds/000: the
# street "制定业委会委员‘五不能’‘六不宜’清单，加强审核把关，取消2个小区业委会12名候选人资格").
# The seed names the two lists but does not spell their lines. The lines below are our proposal:
# the 五不能 restate the statutory disqualifications (北京市物业管理条例第三十九条: 失信被执行人,
# 与物业服务人有利益关系, 房屋使用禁止行为; 上海市住宅物业管理规定第二十条: 欠交物业费或维修资金,
# 违法搭建, 在本小区物业企业任职) plus a criminal-record check; the 六不宜 are the commonly published
# suitability lines. Each names the unit that checks it in the joint review (联审: 街道党工委统筹,
# 社区党组织和信访、民政、市场监管、公安等部门, seeds/004 第9条).
DEFAULT_CRITERIA = [
    ("must_not", "受过刑事处罚或正在被立案侦查、审查起诉的，不能担任", "派出所"),
    ("must_not", "被人民法院列为失信被执行人的，不能担任", "社区党委"),
    ("must_not", "欠交物业服务费、专项维修资金且经催交仍未交纳的，不能担任", "住建部门"),
    ("must_not", "有违法搭建、损坏房屋承重结构、擅自改变物业使用性质等行为且未改正的，不能担任", "城管部门"),
    ("must_not", "本人、配偶及直系亲属在本小区物业服务企业任职或与其有直接利益关系的，不能担任", "市场监管部门"),
    ("should_not", "组织、参与非法聚集或缠访闹访等扰乱社会秩序行为的，不宜担任", "信访部门"),
    ("should_not", "曾被罢免业委会委员职务或任期内严重失职的，不宜担任", "街道"),
    ("should_not", "长期不在本小区居住、难以正常履职的，不宜担任", "社区居委会"),
    ("should_not", "身体状况或年龄原因难以正常履职的，不宜担任", "社区居委会"),
    ("should_not", "群众认可度低、邻里关系紧张、有损社会公德行为的，不宜担任", "社区党委"),
    ("should_not", "参加邪教等非法组织或有其他不良记录的，不宜担任", "派出所"),
]


class FormationProblem(ValueError):
    def __init__(self, message: str, field: str = "form"):
        super().__init__(message)
        self.message = message
        self.field = field


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def term_end_for(kind: str, start: date) -> date:
    return add_years(start, TERM_YEARS[kind]) - timedelta(days=1)


def in_term(day: date):
    """"A committee in term" everywhere (registry, 三率): term_start ≤ day ≤ term_end."""
    return and_(Committee.term_start <= day, Committee.term_end >= day)


# --- the vetting checklist (district) ----------------------------------------------------------

def criteria_select(active_only: bool = False):
    order = {g: i for i, g in enumerate(VETTING_GROUPS)}
    stmt = select(VettingCriterion)
    if active_only:
        stmt = stmt.where(VettingCriterion.active.is_(True))
    # Group order first (五不能, 六不宜, 其他), then the district's own order.
    return stmt.order_by(case(order, value=VettingCriterion.group, else_=9), VettingCriterion.sort,
                         VettingCriterion.id)


def _criterion_values(group: str, text: str, checked_by: str, sort) -> tuple[str, str, str, int]:
    if group not in VETTING_GROUPS:
        raise FormationProblem("请选择清单类别。", "group")
    text, checked_by = (text or "").strip(), (checked_by or "").strip()
    if not text:
        raise FormationProblem("请填写审查内容。", "text")
    if len(text) > 200:
        raise FormationProblem("审查内容不能超过 200 个字。", "text")
    if not checked_by:
        raise FormationProblem("请填写负责审查的单位。", "checked_by")
    if sort is None or not 0 <= int(sort) <= 999:
        raise FormationProblem("排序号应在 0 到 999 之间。", "sort")
    return group, text, checked_by, int(sort)


def add_criterion(group: str, text: str, checked_by: str, sort: int = 0) -> VettingCriterion:
    group, text, checked_by, sort = _criterion_values(group, text, checked_by, sort)
    if db.session.execute(select(VettingCriterion.id).where(VettingCriterion.group == group,
                                                            VettingCriterion.text == text)).first():
        raise FormationProblem("清单中已有相同的审查内容。", "text")
    c = VettingCriterion(group=group, text=text, checked_by=checked_by, sort=sort, active=True)
    db.session.add(c)
    db.session.flush()
    return c


def update_criterion(c: VettingCriterion, group: str, text: str, checked_by: str, sort: int,
                     active: bool) -> None:
    group, text, checked_by, sort = _criterion_values(group, text, checked_by, sort)
    if db.session.execute(select(VettingCriterion.id).where(
            VettingCriterion.group == group, VettingCriterion.text == text, VettingCriterion.id != c.id)).first():
        raise FormationProblem("清单中已有相同的审查内容。", "text")
    c.group, c.text, c.checked_by, c.sort, c.active = group, text, checked_by, sort, bool(active)
    db.session.flush()


def seed_default_criteria() -> int:
    """Add the default 五不能、六不宜 lines the district does not have yet; how many were added."""
    have = {(g, t) for g, t in db.session.execute(select(VettingCriterion.group, VettingCriterion.text))}
    added = 0
    for sort, (group, text, unit) in enumerate(DEFAULT_CRITERIA, start=1):
        if (group, text) not in have:
            db.session.add(VettingCriterion(group=group, text=text, checked_by=unit, sort=sort, active=True))
            added += 1
    db.session.flush()
    return added


# --- which compound may open what --------------------------------------------------------------

def latest_committee(compound_id: int) -> Committee | None:
    return db.session.execute(select(Committee).where(Committee.compound_id == compound_id)
                              .order_by(Committee.term_start.desc(), Committee.id.desc()).limit(1)).scalar_one_or_none()


def active_formation(compound_id: int) -> Formation | None:
    return db.session.execute(select(Formation).where(Formation.compound_id == compound_id,
                                                      Formation.status.in_(ACTIVE_STATUSES))).scalars().first()


def early_reason(committee: Committee, day: date) -> str | None:
    """Why this committee may be re-elected early, if it may: a correction (纠错) ordered and not
    done by its due date, a 撤销决定 in its term, or the 居委会 acting for it now."""
    for s in db.session.execute(select(CommitteeSupervision).where(
            CommitteeSupervision.committee_id == committee.id).order_by(CommitteeSupervision.id.desc())).scalars():
        if s.kind == "revocation" and s.started_on >= committee.term_start:
            return f"{s.started_on:%Y-%m-%d} 撤销决定：{s.reason}"
        if s.ended_on is None and s.kind == "acting":
            return f"居委会自 {s.started_on:%Y-%m-%d} 起代行职责"
        if s.ended_on is None and s.kind == "correction" and s.due_on is not None and s.due_on < day:
            return f"责令整改期限 {s.due_on:%Y-%m-%d} 已过仍未改正"
    return None


def compound_options(m: Membership, day: date) -> list[tuple[Compound, str | None, str]]:
    """Every compound in scope with what may be opened there now: 'formation' (no committee in
    term), 'reelection' (the latest committee's term ends within REELECTION_WINDOW_DAYS or has
    ended) or None, with a short note saying why."""
    comps = db.session.execute(select(Compound).where(policy.visible(m, Compound))
                               .order_by(Compound.name)).scalars().all()
    ids = [x.id for x in comps]
    latest: dict[int, Committee] = {}
    for c in db.session.execute(select(Committee).where(Committee.compound_id.in_(ids))
                                .order_by(Committee.term_start, Committee.id)).scalars():
        latest[c.compound_id] = c  # ordered ascending: the last one wins
    busy = set(db.session.execute(select(Formation.compound_id).where(
        Formation.compound_id.in_(ids), Formation.status.in_(ACTIVE_STATUSES))).scalars())
    horizon = day + timedelta(days=REELECTION_WINDOW_DAYS)
    out = []
    for comp in comps:
        c = latest.get(comp.id)
        early = early_reason(c, day) if c is not None and c.term_start <= day <= c.term_end else None
        if comp.id in busy:
            out.append((comp, None, "组建或换届进行中"))
        elif c is not None and c.term_start <= day and c.term_end <= horizon:
            out.append((comp, "reelection", f"{c.kind}任期至 {c.term_end:%Y-%m-%d}"))
        elif early is not None:
            out.append((comp, "reelection", f"可提前换届：{early}"))
        elif c is None or not (c.term_start <= day <= c.term_end):
            out.append((comp, "formation", "无任期内的业委会（物管会）"))
        else:
            out.append((comp, None, f"{c.kind}任期至 {c.term_end:%Y-%m-%d}"))
    return out


def _check_seats(committee_kind: str, seats) -> int:
    if committee_kind not in COMMITTEE_KINDS:
        raise FormationProblem("请选择业委会或物管会。", "committee_kind")
    lo, hi = SEATS[committee_kind]
    if seats is None or not (lo <= int(seats) <= hi) or int(seats) % 2 == 0:
        raise FormationProblem(f"{committee_kind}委员人数应为 {lo} 至 {hi} 人之间的单数。", "seats")
    return int(seats)


def open_formation(m: Membership, compound_id: int, kind: str, committee_kind: str, seats: int,
                   day: date, user_id: int | None = None) -> Formation:
    """Open a 组建 or 换届 for a compound in the membership's scope."""
    if kind not in FORMATION_KINDS:
        raise FormationProblem("请选择组建或换届。", "kind")
    comp = db.session.execute(select(Compound).where(Compound.id == compound_id,
                                                     policy.visible(m, Compound))).scalar_one_or_none()
    if comp is None:
        raise FormationProblem("请选择本社区的小区。", "compound_id")
    seats = _check_seats(committee_kind, seats)
    if active_formation(comp.id) is not None:
        raise FormationProblem(f"{comp.name}已有正在进行的组建或换届，请先完成或终止。", "compound_id")
    prev = latest_committee(comp.id)
    current = prev is not None and prev.term_start <= day <= prev.term_end
    previous_id = None
    if kind == "formation":
        if current:
            raise FormationProblem(f"{comp.name}的{prev.kind}任期至 {prev.term_end:%Y-%m-%d}，仍在任期内，"
                                   "请在任期届满前 180 天内发起换届。", "kind")
    else:
        if prev is None or prev.term_start > day:
            raise FormationProblem(f"{comp.name}没有已成立的业委会（物管会），请选择“组建”。", "kind")
        if prev.term_end > day + timedelta(days=REELECTION_WINDOW_DAYS) and early_reason(prev, day) is None:
            raise FormationProblem(f"{comp.name}的{prev.kind}任期至 {prev.term_end:%Y-%m-%d}，"
                                   f"届满前 {REELECTION_WINDOW_DAYS} 天内才能发起换届"
                                   "（经责令改正逾期未改、撤销决定或居委会代行职责的，可提前换届）。", "kind")
        previous_id = prev.id
    f = Formation(compound_id=comp.id, kind=kind, committee_kind=committee_kind, seats=seats,
                  previous_committee_id=previous_id, status="open", opened_on=day, created_by_id=user_id)
    db.session.add(f)
    db.session.flush()
    return f


# --- candidates and their joint review ----------------------------------------------------------

def _require(f: Formation, *statuses: str, field: str = "form") -> None:
    if f.status not in statuses:
        raise FormationProblem(f"该{FORMATION_KINDS[f.kind]}当前为“{FORMATION_STATUSES[f.status]}”，不能进行此操作。",
                               field)


def mask_phone(phone: str) -> str:
    """138****5678 for an 11-digit mobile; shorter numbers keep only the last four digits."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if not digits:
        return ""
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def add_candidate(f: Formation, name: str, is_party_member: bool, is_cross_appointed: bool,
                  recommended_by: str, household_id: int | None = None, phone: str = "") -> Candidate:
    _require(f, "open", field="name")
    name = (name or "").strip()
    if not name:
        raise FormationProblem("请填写候选人姓名。", "name")
    if len(name) > 40:
        raise FormationProblem("姓名不能超过 40 个字。", "name")
    if recommended_by and recommended_by not in RECOMMENDERS:
        raise FormationProblem("请选择推荐方式。", "recommended_by")
    if household_id:
        hh = db.session.get(Household, household_id)
        if hh is None or hh.compound_id != f.compound_id:
            raise FormationProblem("请选择本小区的住户。", "household_id")
    if db.session.execute(select(Candidate.id).where(Candidate.formation_id == f.id, Candidate.name == name,
                                                     Candidate.household_id == (household_id or None))).first():
        raise FormationProblem(f"候选人“{name}”已登记。", "name")
    c = Candidate(formation_id=f.id, name=name, is_party_member=bool(is_party_member),
                  is_cross_appointed=bool(is_cross_appointed), recommended_by=recommended_by or "",
                  household_id=household_id or None, phone_masked=mask_phone(phone), status="pending")
    db.session.add(c)
    db.session.flush()
    return c


def remove_candidate(f: Formation, c: Candidate) -> None:
    _require(f, "open")
    if c.formation_id != f.id:
        raise FormationProblem("候选人不属于该次组建。")
    db.session.delete(c)
    db.session.flush()


def start_vetting(f: Formation) -> None:
    _require(f, "open")
    n = db.session.execute(select(func.count(Candidate.id)).where(Candidate.formation_id == f.id)).scalar_one()
    if n < f.seats:
        raise FormationProblem(f"候选人（{n} 人）少于委员名额（{f.seats} 人），请先登记足够的候选人。")
    if not db.session.execute(criteria_select(active_only=True).limit(1)).first():
        raise FormationProblem("区里尚未配置候选人联审清单，请联系区级管理员。")
    f.status = "vetting"
    db.session.flush()


def outcome(checks: list[VettingCheck], active_ids: set[int]) -> str:
    """pending / passed / rejected: rejected on any 不符合 of an active criterion, passed when
    every active criterion is 符合."""
    results = {ch.criterion_id: ch.result for ch in checks if ch.criterion_id in active_ids}
    if any(r == "fail" for r in results.values()):
        return "rejected"
    if active_ids and all(results.get(i) == "pass" for i in active_ids):
        return "passed"
    return "pending"


def active_criterion_ids() -> set[int]:
    return set(db.session.execute(select(VettingCriterion.id).where(VettingCriterion.active.is_(True))).scalars())


def record_checks(f: Formation, c: Candidate, entries: list[dict], user_id: int | None = None) -> str:
    """Record the joint review of one candidate. `entries`: [{criterion_id, result ('pass'/'fail'
    or '' for not yet reviewed), unit, note}]. A 不符合 needs a note (the reason a candidate is
    turned away). Returns the candidate's status afterwards."""
    _require(f, "vetting")
    if c.formation_id != f.id:
        raise FormationProblem("候选人不属于该次组建。")
    active = {cr.id: cr for cr in db.session.execute(criteria_select(active_only=True)).scalars()}
    existing = {ch.criterion_id: ch for ch in c.checks}
    prepared, withdrawn = [], []
    for e in entries:
        cid, result = e.get("criterion_id"), (e.get("result") or "").strip()
        if cid not in active:
            raise FormationProblem("清单中没有这一项，或该项已停用，请刷新页面后重试。")
        if not result:
            if cid in existing:   # 未审 on a reviewed line: its conclusion is taken back
                withdrawn.append(existing[cid])
            continue
        if result not in VETTING_RESULTS:
            raise FormationProblem("审查结论只能是“符合”或“不符合”。", f"result_{cid}")
        unit, note = (e.get("unit") or "").strip(), (e.get("note") or "").strip()
        if not unit:
            raise FormationProblem(f"请填写“{active[cid].text}”的审查单位。", f"result_{cid}")
        if result == "fail" and not note:
            raise FormationProblem(f"“{active[cid].text}”不符合时请写明情况。", f"result_{cid}")
        if len(unit) > 60 or len(note) > 200:
            raise FormationProblem("审查单位不超过 60 字，情况说明不超过 200 字。", f"result_{cid}")
        prepared.append((cid, result, unit, note))
    if not prepared and not withdrawn:
        raise FormationProblem("请至少填写一项审查结论。")
    for ch in withdrawn:
        c.checks.remove(ch)
        db.session.delete(ch)
    for cid, result, unit, note in prepared:
        ch = existing.get(cid)
        if ch is None:
            ch = VettingCheck(candidate_id=c.id, criterion_id=cid)
            db.session.add(ch)
            c.checks.append(ch)
        ch.result, ch.unit, ch.note, ch.user_id = result, unit, note, user_id
    db.session.flush()
    status = outcome(c.checks, set(active))
    if c.status != status:
        c.status = status
        db.session.flush()
    return status


# --- election, filing, cancelling --------------------------------------------------------------

def party_share(members) -> tuple[int, int]:
    """(party members, all) of a list of members or candidates."""
    members = list(members)
    return sum(1 for x in members if x.is_party_member), len(members)


def over_half(party: int, total: int) -> bool:
    return total > 0 and party * 2 > total


def election_title(f: Formation) -> str:
    return f"选举{f.compound.name}{FULL_NAMES[f.committee_kind]}委员（{FORMATION_KINDS[f.kind]}）"


def start_election(f: Formation) -> OwnerVote:
    """The owners' election: a 选举业主委员会 vote (a draft the community then files, publicizes,
    opens and counts like any owner vote) with one item per candidate who passed the review."""
    _require(f, "vetting")
    active = active_criterion_ids()
    states = {c.id: outcome(c.checks, active) for c in f.candidates}
    pending = [c.name for c in f.candidates if states[c.id] == "pending"]
    if pending:
        raise FormationProblem(f"{'、'.join(pending)}的联审尚未完成，请先完成联审。")
    passed = [c for c in f.candidates if states[c.id] == "passed"]
    if len(passed) < f.seats:
        raise FormationProblem(f"联审通过的候选人（{len(passed)} 人）少于委员名额（{f.seats} 人），不能组织选举。")
    description = (f"委员名额 {f.seats} 人。以下候选人均已通过联审，每位候选人为一个议题，业主对每位候选人分别表示"
                   "同意、反对或弃权；候选人所在议题通过即当选，通过人数多于名额时按同意面积、再按同意人数依次当选。")
    vote, problems = votes.create_vote(f.compound_id, "committee", election_title(f), description,
                                       items=[(c.name, c.id) for c in passed])
    if problems:
        raise FormationProblem(next(iter(problems.values())))
    for c in f.candidates:
        c.elected, c.position = False, "委员"
    f.vote_id, f.status, f.election_on = vote.id, "voting", None
    db.session.flush()
    return vote


def elected_by_count(counted, seats: int) -> list[tuple[int, object]]:
    """(candidate id, decision) of the elected: items that passed, the most agreeing area then
    heads first (then the ballot order), at most `seats`."""
    passed = [(item, d) for item, d in counted if d.passed and item.candidate_id]
    passed.sort(key=lambda x: (-x[1].agree_area, -x[1].agree_heads, x[0].position))
    return [(item.candidate_id, d) for item, d in passed[:seats]]


def election_counted(vote: OwnerVote, counted, day: date) -> Formation | None:
    """Called when an election vote is counted: the formation's elected members, or back to
    vetting when too few were elected."""
    f = db.session.execute(select(Formation).where(Formation.vote_id == vote.id,
                                                   Formation.status == "voting")).scalar_one_or_none()
    if f is None:
        return None
    chosen = dict(elected_by_count(counted, f.seats))
    lo = SEATS[f.committee_kind][0]
    by_id = {c.id: c for c in f.candidates}
    if len(chosen) < lo:
        for c in f.candidates:
            c.elected = False
        f.status = "vetting"
        f.result_note = (f"{day:%Y-%m-%d} 计票：当选 {len(chosen)} 人，不足{f.committee_kind}最少 {lo} 人，"
                         "选举未成功，可重新组织选举。")
    else:
        for c in f.candidates:
            c.elected, c.position = c.id in chosen, "委员"
        f.status, f.election_on = "elected", day
        f.result_note = (f"{day:%Y-%m-%d} 业主投票计票：当选 {len(chosen)} 人（"
                         + "、".join(by_id[cid].name for cid in chosen if cid in by_id) + "）。")
    db.session.flush()
    return f


def filing_due(f: Formation) -> date | None:
    """The day the elected committee must be filed by (30 days after its election)."""
    return f.election_on + timedelta(days=FILING_DAYS) if f.election_on and f.status == "elected" else None


def filing_overdue(day: date):
    """SQL: elected, not yet filed, and the 30 days are over."""
    return and_(Formation.status == "elected", Formation.election_on < day - timedelta(days=FILING_DAYS))


def record_election(f: Formation, positions: dict[int, str], note: str = "") -> None:
    """Name the positions of the members the count elected: {candidate_id: 主任/副主任/委员},
    exactly the elected, one 主任."""
    _require(f, "elected", field="elected")
    by_id = {c.id: c for c in f.candidates}
    elected = {c.id for c in f.candidates if c.elected}
    if set(positions) != elected:
        others = [by_id[i].name for i in set(positions) - elected if i in by_id]
        if others:
            raise FormationProblem(f"{'、'.join(others)}未经业主投票当选，不能担任委员。", "elected")
        raise FormationProblem("请为每一位当选委员选择职务。", "elected")
    for cid, pos in positions.items():
        if pos not in COMMITTEE_POSITIONS:
            raise FormationProblem(f"请为{by_id[cid].name}选择职务。", "elected")
    if sum(1 for p in positions.values() if p == "主任") != 1:
        raise FormationProblem("当选委员中必须有且只有一名主任。", "elected")
    for cid, pos in positions.items():
        by_id[cid].position = pos
    if note.strip():
        f.result_note = (f.result_note + "\n" + note.strip()).strip()
    db.session.flush()


def file_committee(f: Formation, filed_on: date) -> Committee:
    """备案: the committee the owners elected becomes the compound's Committee with its members —
    only after a counted election, and only with the members it elected."""
    vote = db.session.get(OwnerVote, f.vote_id) if f.vote_id else None
    if vote is None or vote.status != "closed":
        raise FormationProblem("尚未经业主投票选举（选举业主委员会，民法典第二百七十八条）并计票，不能备案。", "filed_on")
    _require(f, "elected", field="filed_on")
    elected = [c for c in f.candidates if c.elected]
    if not elected:
        raise FormationProblem("业主投票未选出委员，不能备案。", "filed_on")
    if sum(1 for c in elected if c.position == "主任") != 1:
        raise FormationProblem("请先为当选委员确定职务（须有且只有一名主任），再备案。", "filed_on")
    if filed_on < f.election_on:
        raise FormationProblem("备案日期不能早于选举日期。", "filed_on")
    comp = f.compound
    start = f.election_on
    committee = Committee(compound_id=comp.id, kind=f.committee_kind,
                          name=f"{comp.name}{FULL_NAMES[f.committee_kind]}", term_start=start,
                          term_end=term_end_for(f.committee_kind, start), filing_status="已备案",
                          filed_on=filed_on)
    db.session.add(committee)
    db.session.flush()
    order = {p: i for i, p in enumerate(COMMITTEE_POSITIONS)}
    for c in sorted(elected, key=lambda c: (order[c.position], c.id)):
        db.session.add(CommitteeMember(committee_id=committee.id, name=c.name, position=c.position,
                                       is_party_member=c.is_party_member, is_cross_appointed=c.is_cross_appointed,
                                       phone_masked=c.phone_masked))
    prev = f.previous_committee
    if prev is not None and prev.term_end >= start:
        # The old term ends when the new one starts (换届): one committee in term at a time.
        prev.term_end = start - timedelta(days=1)
    f.committee_id, f.status = committee.id, "filed"
    db.session.flush()
    return committee


def cancel_formation(f: Formation, reason: str) -> None:
    _require(f, *ACTIVE_STATUSES, field="reason")
    reason = (reason or "").strip()
    if not reason:
        raise FormationProblem("请填写终止原因。", "reason")
    f.status, f.result_note = "cancelled", f"终止原因：{reason}"
    db.session.flush()


def formations_select(m: Membership, status: str = "", kind: str = "", q: str = "", day: date | None = None):
    stmt = (select(Formation).join(Compound, Compound.id == Formation.compound_id)
            .where(policy.visible(m, Formation)).order_by(Formation.opened_on.desc(), Formation.id.desc()))
    if status in FORMATION_STATUSES:
        stmt = stmt.where(Formation.status == status)
    elif status == "active":
        stmt = stmt.where(Formation.status.in_(ACTIVE_STATUSES))
    elif status == "overdue":
        stmt = stmt.where(filing_overdue(day or timeutil.today()))
    if kind in FORMATION_KINDS:
        stmt = stmt.where(Formation.kind == kind)
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()))
    return stmt


def candidate_counts(formation_ids: list[int]) -> dict[int, dict]:
    out = {i: {"total": 0, "passed": 0, "rejected": 0, "elected": 0} for i in formation_ids}
    if not formation_ids:
        return out
    for fid, status, elected, n in db.session.execute(
            select(Candidate.formation_id, Candidate.status, Candidate.elected, func.count(Candidate.id))
            .where(Candidate.formation_id.in_(formation_ids))
            .group_by(Candidate.formation_id, Candidate.status, Candidate.elected)):
        out[fid]["total"] += n
        if status in ("passed", "rejected"):
            out[fid][status] += n
        if elected:
            out[fid]["elected"] += n
    return out


# --- supervision -------------------------------------------------------------------------------

def open_supervision_of(committee_id: int) -> CommitteeSupervision | None:
    return db.session.execute(select(CommitteeSupervision).where(
        CommitteeSupervision.committee_id == committee_id, CommitteeSupervision.ended_on.is_(None))
    ).scalars().first()


def open_supervisions(committee_ids: list[int]) -> dict[int, CommitteeSupervision]:
    if not committee_ids:
        return {}
    rows = db.session.execute(select(CommitteeSupervision).where(
        CommitteeSupervision.committee_id.in_(committee_ids), CommitteeSupervision.ended_on.is_(None))).scalars()
    return {s.committee_id: s for s in rows}


def start_supervision(committee: Committee, kind: str, reason: str, due_on: date | None,
                      day: date) -> CommitteeSupervision:
    """责令整改 (with a due date), 撤销决定 (物业管理条例 第十九条: a decision of the owners' meeting
    or committee against the law is revoked) or 居委会代行职责 (seeds/004 第11条: 社区党组织会同街道
    责令限期改正; 无法正常运行的, 经业主大会决定由社区居委会代行职责并由街道重新组织换届改选)."""
    if kind not in SUPERVISION_KINDS:
        raise FormationProblem("请选择监督方式。", "kind")
    reason = (reason or "").strip()
    if not reason:
        raise FormationProblem("请填写原因。", "reason")
    if kind == "correction":
        if due_on is None:
            raise FormationProblem("责令整改须写明整改期限。", "due_on")
        if due_on <= day:
            raise FormationProblem("整改期限应晚于今天。", "due_on")
    else:
        due_on = None
    current = open_supervision_of(committee.id)
    if current is not None:
        raise FormationProblem(f"该{committee.kind}正处于“{SUPERVISION_KINDS[current.kind]}”，请先结束后再登记。",
                               "kind")
    s = CommitteeSupervision(committee_id=committee.id, kind=kind, reason=reason, started_on=day, due_on=due_on)
    db.session.add(s)
    db.session.flush()
    return s


def end_supervision(s: CommitteeSupervision, note: str, day: date) -> None:
    if s.ended_on is not None:
        raise FormationProblem("该监督措施已结束。", "end_note")
    note = (note or "").strip()
    if not note:
        raise FormationProblem("请填写结束说明（整改情况或恢复履职情况）。", "end_note")
    s.ended_on, s.end_note = day, note
    db.session.flush()
