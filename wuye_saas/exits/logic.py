"""Exit and handover (退出与交接): plain functions with no Flask request. They flush (the caller
commits) or raise ExitProblem having written nothing.

Rules:
- An exit starts from (1) a dismissal: a counted, passed owners' vote on 选聘和解聘物业服务企业
  (matter hire_firm) of the compound; 民法典 第946条: written notice 60 days ahead, so the exit
  takes effect on notice + 60 days; (2) a contract ending without renewal; 第947条: notice at
  least 90 days before the end, so the latest proper notice is end − 90 days (a later one is
  flagged late), and the exit takes effect on the end date; a notice given after the end (the
  firm stayed on: 第948条, a contract of no fixed term) takes effect 60 days after it;
  (3) a consequence of the evaluation (启动退出程序): like a dismissal, notice + 60 days, started
  by `start_exit` (idempotent on its source key).
- The handover deadline is the effective date plus the district's grace (ExitRule, default 0).
- The outgoing firm keeps serving until the handover is signed (第950条): its contract stays
  'active'. When the exit starts, an end date earlier than the deadline is moved to the deadline;
  while the handover is open the daily job (jobs.check_exit_deadlines) keeps the end date at
  least one day past the tick. The end as signed stays in contract.agreed_end_date. A contract
  that had already lapsed when the exit started (the firm left: 弃管) is not brought back.
- Handover lines (第949条/第950条): documents, common parts and equipment, service rooms,
  fees collected in advance, the 公共收益 and 专项维修资金 balances, open demands. Each is
  signed by the incoming side — the new firm (through its draft contract) or the committee; the
  committee alone when the owners manage themselves; the community (or the custodian firm
  through its draft contract) for a 兜底 takeover. Money and counts are taken when the line is
  signed: 预收物业费 from the outgoing firm's bills and payments in the compound (payments on
  bills of months after the signing month, plus anything paid beyond a bill's amount), entered
  by the signer only when the firm billed nothing here; the balances from the compound's ledgers.
  A line may be disputed with a reason; signing it later settles the dispute.
- When the last line is signed (the handover date, D): the outgoing contract ends on D, the
  incoming draft becomes active from D, and the compound's management mode becomes 专业物业
  (new firm), 自管 (owners) or 国资托管 (兜底), so the 三率 and 无物业小区清零 count it.
- A firm that has not completed the handover when the deadline has passed gets the district's
  record once (credit.sources.record_exit_refusal, kind exit_refusal, 扬州 合同终止拒不退出), dated
  the day after the deadline, and the community gets a follow-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from .. import policy
from ..auth.models import Membership
from ..demands.models import Demand
from ..extensions import db
from ..fees.models import Bill
from ..fees.payments import balance_select
from ..org.models import FEE_MODES, SERVICE_GRADES, Compound, Contract, Firm
from ..publicity import ledger
from ..timeutil import now, today
from ..votes.models import OwnerVote
from .models import INCOMING_KINDS, ITEM_KINDS, SOURCES, ExitRule, FirmExit, HandoverItem

DISMISSAL_NOTICE_DAYS = 60      # 民法典 第946条
NONRENEWAL_NOTICE_DAYS = 90     # 民法典 第947条
OPEN_TERM_NOTICE_DAYS = 60      # 民法典 第948条 (no fixed term: either side, 60 days)
DEFAULT_GRACE_DAYS = 0
MAX_GRACE_DAYS = 180
LAPSED_DAYS = 365   # how long after its end a contract nobody replaced can still be exited
TEXT_MAX = 2000
# The mode the compound has once the handover is signed (indicators.definitions counts 自管 and
# 国资托管 as 物业服务 without a contract, 专业物业 by its contract).
MODE_AFTER = {"firm": "专业物业", "self": "自管", "state": "国资托管"}
# Who signs for each kind of incoming side.
SIGNERS = {"firm": ("firm", "committee"), "self": ("committee",), "state": ("community", "firm")}
HOLDOVER_REASON = "退出交接期间继续服务（民法典第九百五十条）"
OPEN_DEMANDS = ("new", "dispatched", "accepted")
MONEY_KINDS = ("prepaid_fees", "public_revenue", "maintenance_fund")
LEDGER_OF = {"public_revenue": "public_revenue", "maintenance_fund": "maintenance_fund"}


class ExitProblem(ValueError):
    def __init__(self, message: str, field: str = "reason"):
        super().__init__(message)
        self.message = message
        self.field = field


def _text(value: str | None, what: str, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ExitProblem(f"请填写{what}。", field)
    if len(value) > TEXT_MAX:
        raise ExitProblem(f"{what}不能超过 {TEXT_MAX} 个字。", field)
    return value


def rule() -> ExitRule:
    r = db.session.execute(select(ExitRule)).scalar_one_or_none()
    return r or ExitRule(grace_days=DEFAULT_GRACE_DAYS, record_refusal=True)


def save_rule(grace_days: int, record_refusal: bool) -> ExitRule:
    if grace_days is None or not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise ExitProblem(f"宽限期应为 0 到 {MAX_GRACE_DAYS} 天。", "grace_days")
    r = db.session.execute(select(ExitRule)).scalar_one_or_none()
    if r is None:
        r = ExitRule()
        db.session.add(r)
    r.grace_days, r.record_refusal = grace_days, bool(record_refusal)
    db.session.flush()
    return r


# --- the legal periods --------------------------------------------------------------------------

@dataclass(frozen=True)
class Periods:
    notice_on: date
    effective_on: date
    latest_notice_on: date | None   # 第947条: the last day a non-renewal notice is in time
    late: bool


def periods(source: str, notice_on: date, contract_end: date) -> Periods:
    """The exit's dates from its notice (see the rules above)."""
    if source == "expiry":
        latest = contract_end - timedelta(days=NONRENEWAL_NOTICE_DAYS)
        effective = (contract_end if notice_on <= contract_end
                     else notice_on + timedelta(days=OPEN_TERM_NOTICE_DAYS))
        return Periods(notice_on, effective, latest, notice_on > latest)
    return Periods(notice_on, notice_on + timedelta(days=DISMISSAL_NOTICE_DAYS), None, False)


def timeline(x: FirmExit) -> list[tuple[date | None, str, str]]:
    """(date, what, state) for the exit page: done / late / due / pending."""
    d = today()
    rows = []
    if x.vote_id is not None:
        vote = db.session.get(OwnerVote, x.vote_id)
        if vote is not None and vote.closes_on:
            rows.append((vote.closes_on, f"业主大会表决解聘（{vote.title}）", "done"))
    if x.source == "expiry":
        original = x.contract.agreed_end_date or x.contract.end_date
        latest = original - timedelta(days=NONRENEWAL_NOTICE_DAYS)
        rows.append((latest, "不续聘书面通知的最迟日期（合同期满前 90 日，第九百四十七条）", "done"))
    what = {"dismissal": "书面通知解聘（提前 60 日，第九百四十六条）",
            "expiry": "书面通知不再续聘", "evaluation": "考核结果启动退出程序，书面通知企业"}[x.source]
    rows.append((x.notice_on, what + ("（晚于最迟日期）" if x.notice_late else ""), "late" if x.notice_late else "done"))
    if x.status == "done" and x.handover_on and x.handover_on < x.effective_on:
        rows.append((x.effective_on, "原定退出生效日（交接已提前完成，合同于交接日终止）", "done"))
    else:
        rows.append((x.effective_on, "退出生效（合同终止）", "done" if x.effective_on <= d else "pending"))
    if x.deadline_on != x.effective_on:
        rows.append((x.deadline_on, "交接期限（含宽限期）", "done" if x.deadline_on <= d else "pending"))
    if x.status == "done":
        rows.append((x.handover_on, "交接完成，接管方开始服务", "done"))
    elif d > x.deadline_on:
        rows.append((None, f"逾期未完成交接（已超过 {(d - x.deadline_on).days} 天）", "late"))
    if x.refusal_recorded_on:
        rows.append((x.refusal_recorded_on, "记入信用档案：合同终止拒不退出", "late"))
    return sorted(rows, key=lambda r: (r[0] is None, r[0] or d))


# --- starting an exit ----------------------------------------------------------------------------

def dismissal_votes(compound_id: int) -> list[OwnerVote]:
    """Counted, passed 选聘和解聘 votes of the compound: the decisions a dismissal can rest on."""
    return list(db.session.execute(select(OwnerVote).where(
        OwnerVote.compound_id == compound_id, OwnerVote.matter == "hire_firm", OwnerVote.status == "closed",
        OwnerVote.passed.is_(True)).order_by(OwnerVote.closes_on.desc(), OwnerVote.id.desc())).scalars())


def open_exit_of(contract_id: int) -> FirmExit | None:
    return db.session.execute(select(FirmExit).where(
        FirmExit.contract_id == contract_id, FirmExit.status == "open")).scalar_one_or_none()


def flagged_for_exit(m: Membership) -> list[tuple]:
    """[(flag, contract)]: the evaluation consequences 启动退出程序 in force today (credit/
    consequences.py: a flag on a firm in one compound) whose exit has not been started, with the
    firm's contract serving that compound. The community starts each with one step (the written
    notice is a person's act), and an appeal that lifts the listing removes it from here."""
    from ..credit.models import FirmFlag   # lazy: credit is another area
    d = today()
    flags = db.session.execute(select(FirmFlag).where(
        policy.visible(m, FirmFlag), FirmFlag.kind == "exit_procedure", FirmFlag.compound_id.is_not(None),
        FirmFlag.revoked_at.is_(None), FirmFlag.valid_from <= d, FirmFlag.valid_until > d,
        ~FirmFlag.source_key.in_(select(FirmExit.source_key).where(FirmExit.source_key.is_not(None))))
        .order_by(FirmFlag.id)).scalars().all()
    out = []
    for f in flags:
        c = db.session.execute(select(Contract).where(
            Contract.firm_id == f.firm_id, Contract.compound_id == f.compound_id, Contract.in_force(d),
            policy.visible(m, Contract), ~Contract.id.in_(select(FirmExit.contract_id).where(FirmExit.status == "open")))
            .options(joinedload(Contract.firm), joinedload(Contract.compound))
            .order_by(Contract.start_date.desc()).limit(1)).scalar_one_or_none()
        if c is not None:
            out.append((f, c))
    return out


def start_from_flag(m: Membership, flag, user_id: int | None) -> FirmExit:
    """启动退出程序 as the published evaluation decided: an exit of source 考核结果 keyed by the flag."""
    pair = next(((f, c) for f, c in flagged_for_exit(m) if f.id == flag.id), None)
    if pair is None:
        raise ExitProblem("该考核后果已不在待启动之列（已启动、已撤销或合同已不在服务）。", "contract_id")
    f, c = pair
    return start_exit(c, f.title, source_key=f.source_key, source="evaluation", user_id=user_id)


def exitable_contracts(m: Membership) -> list[Contract]:
    """Active contracts in scope with no exit: those serving today, and those ended within the
    last year on a compound nobody serves today (the firm stayed on de facto, or left: 弃管)."""
    d = today()
    other = aliased(Contract)
    served_now = select(other.id).where(other.compound_id == Contract.compound_id, other.in_force(d)).exists()
    lapsed = and_(Contract.end_date < d, Contract.end_date >= d - timedelta(days=LAPSED_DAYS), ~served_now)
    return list(db.session.execute(
        select(Contract).join(Compound, Compound.id == Contract.compound_id)
        .where(policy.visible(m, Contract), Contract.status == "active", Contract.start_date <= d,
               or_(Contract.end_date >= d, lapsed),
               ~Contract.id.in_(select(FirmExit.contract_id).where(FirmExit.status == "open")),
               ~Contract.id.in_(select(FirmExit.contract_id).where(FirmExit.status == "done")))
        .options(joinedload(Contract.firm), joinedload(Contract.compound))
        .order_by(Compound.name, Contract.start_date.desc())).unique().scalars())


def _keep_serving(c: Contract, until: date) -> None:
    """The outgoing contract serves at least until `until` (第950条); the signed end is kept."""
    if c.end_date < until:
        if c.agreed_end_date is None:
            c.agreed_end_date = c.end_date
        c.end_date, c.end_reason = until, HOLDOVER_REASON


def start_exit(contract: Contract, reason: str, source_key: str | None = None, *, source: str = "evaluation",
               notice_on: date | None = None, vote: OwnerVote | None = None,
               user_id: int | None = None) -> FirmExit:
    """Start the exit of the contract's firm from its compound. Idempotent on `source_key`
    (another area's consequence run again returns the exit it started); an exit already under
    way for the contract is returned as it is."""
    if source_key:
        source_key = source_key.strip()[:80]
        found = db.session.execute(select(FirmExit).where(FirmExit.source_key == source_key)).scalar_one_or_none()
        if found is not None:
            return found
    if source not in SOURCES:
        raise ExitProblem("请选择退出原因。", "source")
    if contract is None or contract.status != "active":
        raise ExitProblem("请选择一份有效的物业服务合同。", "contract_id")
    running = open_exit_of(contract.id)
    if running is not None:
        if source_key:
            return running
        raise ExitProblem("该合同已在退出交接中。", "contract_id")
    notice_on = notice_on or today()
    if notice_on > today():
        raise ExitProblem("通知日期不能晚于今天。", "notice_on")
    if notice_on < contract.start_date:
        raise ExitProblem("通知日期不能早于合同开始日期。", "notice_on")
    reason = _text(reason, "退出原因说明", "reason", required=source == "evaluation")
    if source == "dismissal":
        if vote is None or vote.compound_id != contract.compound_id or vote.matter != "hire_firm" \
                or vote.status != "closed" or not vote.passed:
            raise ExitProblem("解聘须以本小区已计票通过的“选聘和解聘物业服务企业”表决为依据。", "vote_id")
        if vote.closes_on and notice_on < vote.closes_on:
            raise ExitProblem(f"解聘通知应在表决结束（{vote.closes_on:%Y-%m-%d}）之后发出。", "notice_on")
    else:
        vote = None
    if source != "expiry" and contract.end_date < notice_on:
        raise ExitProblem("合同已期满，请按“合同期满不续聘”办理。", "source")
    p = periods(source, notice_on, contract.agreed_end_date or contract.end_date)
    deadline = p.effective_on + timedelta(days=rule().grace_days)
    serving = contract.end_date >= today()
    x = FirmExit(compound_id=contract.compound_id, firm_id=contract.firm_id, contract_id=contract.id,
                 source=source, source_key=source_key or None, vote_id=vote.id if vote else None, reason=reason,
                 notice_on=p.notice_on, effective_on=p.effective_on, notice_late=p.late, deadline_on=deadline,
                 status="open", outgoing_serving=serving, started_by_id=user_id)
    db.session.add(x)
    db.session.flush()
    for sort, kind in enumerate(ITEM_KINDS):
        db.session.add(HandoverItem(exit_id=x.id, kind=kind, sort=sort, status="pending"))
    # A term ending before the handover deadline runs on until the handover (第950条).
    if serving:
        _keep_serving(contract, max(deadline, today() + timedelta(days=1)))
    db.session.flush()
    return x


# --- the incoming side ---------------------------------------------------------------------------

def draft_contracts(compound_id: int) -> list[Contract]:
    taken = select(FirmExit.incoming_contract_id).where(FirmExit.incoming_contract_id.is_not(None))
    return list(db.session.execute(select(Contract).where(
        Contract.compound_id == compound_id, Contract.status == "draft", ~Contract.id.in_(taken))
        .options(joinedload(Contract.firm)).order_by(Contract.id)).scalars())


def _signed_any(x: FirmExit) -> bool:
    return any(i.status == "signed" for i in x.items)


@dataclass
class NewContract:
    firm_id: int | None
    end_date: date | None
    service_grade: str
    fee_mode: str
    fee_rate: object


def set_incoming(x: FirmExit, kind: str, draft_id: int | None = None, new: NewContract | None = None) -> None:
    """Who takes over. A new firm needs a draft contract (an existing one of the compound, e.g.
    a selection's winner, or one entered here); a 兜底 takeover may have the custodian firm's
    draft; the owners' self-management has none. Fixed once a line is signed."""
    if x.status != "open":
        raise ExitProblem("交接已完成。", "kind")
    if _signed_any(x):
        raise ExitProblem("已有交接事项签收，不能再更改接管方。", "kind")
    if kind not in INCOMING_KINDS:
        raise ExitProblem("请选择接管方。", "kind")
    contract = None
    if kind in ("firm", "state"):
        if draft_id:
            contract = next((c for c in draft_contracts(x.compound_id) if c.id == draft_id), None)
            if contract is None:
                raise ExitProblem("请选择本小区待生效的合同。", "draft_id")
        elif new is not None and new.firm_id:
            contract = _new_draft(x, new)
        elif kind == "firm":
            raise ExitProblem("请选择或填写新物业服务企业的合同。", "draft_id")
        if contract is not None and contract.firm_id == x.firm_id:
            raise ExitProblem("接管企业不能是退出的企业。", "firm_id" if not draft_id else "draft_id")
    x.incoming_kind, x.incoming_contract_id = kind, contract.id if contract else None
    db.session.flush()


def _new_draft(x: FirmExit, new: NewContract) -> Contract:
    firm = db.session.get(Firm, new.firm_id)
    if firm is None:
        raise ExitProblem("请选择接管企业。", "firm_id")
    start = max(x.effective_on, today())
    if new.end_date is None or new.end_date <= start:
        raise ExitProblem(f"合同截止日期应晚于 {start:%Y-%m-%d}。", "end_date")
    if new.service_grade not in SERVICE_GRADES:
        raise ExitProblem("请选择服务等级。", "service_grade")
    if new.fee_mode not in FEE_MODES:
        raise ExitProblem("请选择收费方式。", "fee_mode")
    if new.fee_rate is None or new.fee_rate <= 0:
        raise ExitProblem("请填写物业费单价。", "fee_rate")
    # Dated from the exit's effective day for now; the handover date replaces it (complete()).
    c = Contract(firm_id=firm.id, compound_id=x.compound_id, start_date=start, end_date=new.end_date,
                 service_grade=new.service_grade, fee_mode=new.fee_mode, fee_rate=new.fee_rate, status="draft")
    db.session.add(c)
    db.session.flush()
    return c


# --- figures of the money and demand lines --------------------------------------------------------

def prepaid_fen(x: FirmExit, on: date) -> int | None:
    """预收物业费 of the outgoing firm in the compound on `on`: payments on its bills of months after
    `on`'s month, plus what was paid beyond any other bill's amount. None when it billed nothing
    here (the signer enters the amount then)."""
    cutoff = on.replace(day=1)
    rows = balance_select(None, Bill.compound_id == x.compound_id, Bill.firm_id == x.firm_id).add_columns(
        Bill.month.label("month")).subquery()
    ahead = case((rows.c.month > cutoff, rows.c.paid),
                 else_=case((rows.c.paid > rows.c.due, rows.c.paid - rows.c.due), else_=0))
    n, total = db.session.execute(select(func.count(), func.coalesce(func.sum(ahead), 0)).select_from(rows)).one()
    return int(total) if n else None


def open_demands_select(x: FirmExit):
    return (select(Demand).where(Demand.compound_id == x.compound_id, Demand.status.in_(OPEN_DEMANDS))
            .order_by(Demand.received_at, Demand.id))


def open_demand_count(x: FirmExit) -> int:
    return int(db.session.execute(select(func.count()).select_from(
        open_demands_select(x).order_by(None).subquery())).scalar_one())


def live_figures(x: FirmExit, on: date | None = None) -> dict[str, dict]:
    """kind → {"fen"|"count": the figure as it stands now, "entered": the signer must enter it}."""
    on = on or today()
    pre = prepaid_fen(x, on)
    return {"prepaid_fees": {"fen": pre, "entered": pre is None},
            "public_revenue": {"fen": ledger.balance(x.compound_id, "public_revenue")},
            "maintenance_fund": {"fen": ledger.balance(x.compound_id, "maintenance_fund")},
            "open_demands": {"count": open_demand_count(x)}}


# --- signing ---------------------------------------------------------------------------------------

def side_of(m: Membership, x: FirmExit) -> str | None:
    """The incoming side this membership signs for, if any (the scope already admitted it)."""
    if x.status != "open" or x.incoming_kind is None or not policy.can(m, "sign", "handover"):
        return None
    allowed = SIGNERS[x.incoming_kind]
    if m.role in policy.FIRM_ROLES:
        ok = x.incoming_contract is not None and x.incoming_contract.firm_id == m.firm_id
        return "firm" if ok and "firm" in allowed else None
    if m.role == "committee_member":
        return "committee" if m.compound_id == x.compound_id and "committee" in allowed else None
    if m.role == "community_staff":
        return "community" if "community" in allowed else None
    return None


def sign(m: Membership, item: HandoverItem, note: str, entered_fen: int | None = None) -> bool:
    """Sign one line for the incoming side; True when it completed the handover."""
    x = item.exit
    side = side_of(m, x)
    if side is None:
        raise ExitProblem("只有接管方（新企业、业委会或兜底托管的社区）可以签收交接事项。", "note")
    if item.status == "signed":
        raise ExitProblem("该事项已签收。", "note")
    note = _text(note, "签收说明", "note", required=False)
    d = today()
    if item.kind == "prepaid_fees":
        figure = prepaid_fen(x, d)
        if figure is None:
            if entered_fen is None or entered_fen < 0:
                raise ExitProblem("原企业在本小区没有账单，请填写移交的预收物业费金额（没有填 0）。", "amount")
            figure = entered_fen
        item.amount_fen = figure
    elif item.kind in LEDGER_OF:
        item.amount_fen = ledger.balance(x.compound_id, LEDGER_OF[item.kind])
    elif item.kind == "open_demands":
        item.count = open_demand_count(x)
    item.status, item.side, item.signed_by_id, item.signed_at, item.note = "signed", side, m.user_id, now(), note
    db.session.flush()
    if all(i.status == "signed" for i in x.items):
        complete(x, d)
        return True
    return False


def dispute(m: Membership, item: HandoverItem, reason: str) -> None:
    if side_of(m, item.exit) is None:
        raise ExitProblem("只有接管方可以对交接事项提出争议。", "reason")
    if item.status == "signed":
        raise ExitProblem("该事项已签收，不能再提出争议。", "reason")
    item.status, item.dispute_reason, item.disputed_at = "disputed", _text(reason, "争议理由", "reason"), now()
    db.session.flush()


def complete(x: FirmExit, day: date) -> None:
    """The handover is signed: contracts and the compound's mode change on `day`."""
    incoming = x.incoming_contract
    if incoming is not None and incoming.end_date < day:
        raise ExitProblem(f"接管合同已于 {incoming.end_date:%Y-%m-%d} 到期，请先更正合同。", "note")
    out = x.contract
    if x.outgoing_serving:
        if out.agreed_end_date is None:
            out.agreed_end_date = out.end_date
        out.end_date = max(day, out.start_date)
    out.end_reason = f"{SOURCES[x.source]}，{day:%Y-%m-%d}完成交接"[:60]
    if incoming is not None:
        # In force from the handover day, unless it is a selection's draft still waiting for a
        # signature (hiring signs it into force then): one rule for both areas.
        from ..hiring.logic import activate_if_free   # lazy: hiring is another area
        incoming.start_date = day
        db.session.flush()
        activate_if_free(incoming)
    x.compound.management_mode = MODE_AFTER[x.incoming_kind]
    x.status, x.handover_on = "done", day
    db.session.flush()


# --- the deadline ---------------------------------------------------------------------------------

def open_exits():
    return select(FirmExit).where(FirmExit.status == "open").order_by(FirmExit.id)


def check_exit(x: FirmExit, day: date) -> bool:
    """The daily check of one open exit: the outgoing firm still serves tomorrow; past the deadline
    it gets the district's record (once) and the community a follow-up. True when recorded now."""
    from ..credit.sources import record_exit_refusal
    from ..followups.logic import open_follow_up

    if x.outgoing_serving:
        _keep_serving(x.contract, day + timedelta(days=1))
    if day <= x.deadline_on or x.refusal_recorded_on is not None:
        return False
    occurred = x.deadline_on + timedelta(days=1)
    pending = [i.label for i in x.items if i.status != "signed"]
    evidence = (f"{x.compound.name}：{SOURCES[x.source]}，{x.notice_on:%Y-%m-%d}书面通知，"
                f"{x.effective_on:%Y-%m-%d}合同终止，交接期限{x.deadline_on:%Y-%m-%d}，"
                f"逾期未完成交接（未签收：{'、'.join(pending) or '无'}）。")
    open_follow_up("exit", f"exit_overdue:{x.id}", f"{x.firm.name}逾期未退出{x.compound.name}"[:200],
                   detail=evidence, compound_id=x.compound_id, firm_id=x.firm_id, due_on=x.deadline_on)
    if not rule().record_refusal:
        return False
    record_exit_refusal(x.firm_id, x.compound_id, occurred, f"exit:{x.id}", evidence)
    x.refusal_recorded_on = occurred
    db.session.flush()
    return True


# --- lists ------------------------------------------------------------------------------------------

TABS = {"open": "交接中", "overdue": "逾期未交接", "done": "已完成", "all": "全部"}


# A firm's two parts in exits: the compounds it leaves, those it takes over (its draft contract).
FIRM_SIDES = {"out": "本企业退出", "in": "本企业接管"}


def exits_select(m: Membership, tab: str = "open", q: str = "", on: date | None = None, side: str = ""):
    on = on or today()
    stmt = select(FirmExit).where(policy.visible(m, FirmExit))
    if m.role in policy.FIRM_ROLES and side == "out":
        stmt = stmt.where(FirmExit.firm_id == m.firm_id)
    elif m.role in policy.FIRM_ROLES and side == "in":
        stmt = stmt.where(FirmExit.incoming_contract_id.in_(select(Contract.id).where(Contract.firm_id == m.firm_id)))
    if tab == "open":
        stmt = stmt.where(FirmExit.status == "open")
    elif tab == "overdue":
        stmt = stmt.where(FirmExit.status == "open", FirmExit.deadline_on < on)
    elif tab == "done":
        stmt = stmt.where(FirmExit.status == "done")
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(FirmExit.compound_id.in_(select(Compound.id).where(Compound.name.like(like))),
                              FirmExit.firm_id.in_(select(Firm.id).where(Firm.name.like(like)))))
    return stmt.order_by(FirmExit.status == "done", FirmExit.deadline_on, FirmExit.id)


