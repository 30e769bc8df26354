"""合同备案 (contract filing) and the contract-side lists: plain functions, no Flask request.

Rules
- Who files: a firm (its manager or staff) files for itself, for a compound it serves now, a
  compound where it holds a draft contract (the winner of a selection, the incoming firm of a
  handover), or a compound no firm serves (前期物业 of a new compound). A compound it may not file
  for does not exist for it (404). The district enters historic contracts in the register; it
  files nothing itself.
- What is filed: the kind (前期物业 / 业主大会选聘), service grade, fee mode, price (元/㎡·月), term,
  and at least one attachment on the first filing (the signed contract scan: PDF/JPG/PNG by
  content, 5 MB each, as every upload of the product).
- Guided price (政府指导价): the range comes from the district's fee configuration, never from a
  second table — the fee policy version assigned to the compound on the contract's first day.
  Under 政府指导价 its grade's base rate ± float percent is the range (RULES.md: the firm's actual
  price must lie within it); a price outside it is refused next to the field with the range and
  nothing is written. Under 市场调节价, per-household pricing, or with no policy assigned, no range
  applies (the filing page says so).
- 三级联审: the community, the street, then the district review in turn; each step approves or
  returns with a reason. A returned filing is corrected by the firm and refiled: it starts again
  at the community.
- Deadlines: a step arriving on day D (Asia/Shanghai) is due at the end of the N-th working day
  after D, N from the district's FilingRule (default 0 for every step: the same working day, 潞州
  当日办结). A step arriving on a Saturday or Sunday starts on the next Monday. Public holidays and
  adjusted working days are not modelled. A step still open after its due day is overdue: shown
  on the reviewer's to-do card and on the lists, and a late decision is marked on the review.
- Filing number: given by the district's approval, unique per district and sequential per
  year of approval: 潞物备〔2026〕0001号; the prefix is the district's setting (default: its first
  character + 物备).
- Putting in force: a contract the firm entered through its filing is a draft (it does not serve)
  until the district approves; then it is in force and carries the filed terms. A draft of
  another workflow stays that workflow's to put in force (its terms are updated). A contract
  already in force (entered in the register) takes the approved terms.
- 未备案: a contract in force today with no approved filing and none in review. Register rows
  entered by the district count as 未备案 until the firm files them: they serve, so the district
  needs them filed; an ended historic contract serves nobody and is not listed.
- Expiring: in force today and ending within the district's window (default 90 days, 民法典
  第947条: the notice a firm not renewing must give). A red-listed incumbent (红榜 in its latest
  published evaluation for that compound) is shown with 优先续约.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..auth.models import Membership
from ..extensions import db
from ..fees.models import FeeAssignment, FeePolicy, FeePolicyGrade
from ..org.models import FEE_MODES, SERVICE_GRADES, Community, Compound, Contract, Firm
from ..publicity.accounts import Upload, save_upload, voucher_problem
from ..tenancy import Tenant, current_tenant_id
from ..timeutil import local, now, today
from .models import (
    CONTRACT_KINDS, LEVELS, NEXT_LEVEL, REVIEWER, ContractFiling, FilingFile, FilingReview, FilingRule,
)

DEFAULT_STEP_DAYS = 0          # 当日办结 (潞州): the same working day
DEFAULT_EXPIRING_DAYS = 90     # 民法典 第947条
MAX_STEP_DAYS = 30
MAX_TERM_YEARS = 20
OPEN = tuple(LEVELS)           # the statuses of a filing in review


class FilingProblem(Exception):
    def __init__(self, errors: dict):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- the district's rule ------------------------------------------------------------------------

@dataclass
class Rule:
    community_days: int
    street_days: int
    district_days: int
    expiring_days: int
    number_prefix: str

    def days(self, level: str) -> int:
        return getattr(self, f"{level}_days")


def default_prefix(tenant_name: str) -> str:
    return f"{(tenant_name or '区')[:1]}物备"


def rule() -> Rule:
    row = db.session.execute(select(FilingRule)).scalar_one_or_none()
    if row is not None:
        return Rule(row.community_days, row.street_days, row.district_days, row.expiring_days, row.number_prefix)
    name = db.session.execute(select(Tenant.name).where(Tenant.id == current_tenant_id())).scalar_one_or_none()
    return Rule(DEFAULT_STEP_DAYS, DEFAULT_STEP_DAYS, DEFAULT_STEP_DAYS, DEFAULT_EXPIRING_DAYS,
                default_prefix(name or ""))


def save_rule(r: Rule) -> FilingRule:
    row = db.session.execute(select(FilingRule)).scalar_one_or_none()
    if row is None:
        row = FilingRule(number_prefix=r.number_prefix)
        db.session.add(row)
    row.community_days, row.street_days, row.district_days = r.community_days, r.street_days, r.district_days
    row.expiring_days, row.number_prefix = r.expiring_days, r.number_prefix
    db.session.flush()
    return row


# --- deadlines (Asia/Shanghai, working days Monday–Friday) --------------------------------------

def local_day(at: datetime) -> date:
    """The Shanghai date of a stored (naive UTC) moment."""
    return local(at).date()


def next_working_day(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def due_day(arrived_at: datetime, days: int) -> date:
    """The last day of a step arriving at `arrived_at` (naive UTC) with `days` working days."""
    d = next_working_day(local_day(arrived_at))
    for _ in range(days):
        d = next_working_day(d + timedelta(days=1))
    return d


def overdue(f: ContractFiling, on: date) -> bool:
    return f.status in OPEN and f.due_on is not None and f.due_on < on


def overdue_clause(on: date):
    return and_(ContractFiling.status.in_(OPEN), ContractFiling.due_on < on)


def _enter_step(f: ContractFiling, level: str, at: datetime, r: Rule) -> None:
    f.status, f.step_since, f.due_on = level, at, due_day(at, r.days(level))


# --- the guided price ---------------------------------------------------------------------------

@dataclass
class GuidedRange:
    low: Decimal
    high: Decimal
    base: Decimal
    spread: Decimal
    policy_name: str

    @property
    def text(self) -> str:
        return f"{_rate(self.low)}–{_rate(self.high)} 元/㎡·月"


def _rate(x: Decimal) -> str:
    q = x.quantize(Decimal("0.01")) if x == x.quantize(Decimal("0.01")) else x.normalize()
    return f"{q:f}"


def guided_range(compound_id: int, grade: str, on: date) -> GuidedRange | None:
    """The 政府指导价 range of `grade` in the fee policy assigned to the compound on `on`, or None
    when no guided price applies there (market price, per-household pricing, nothing assigned)."""
    a = db.session.execute(select(FeeAssignment).where(
        FeeAssignment.compound_id == compound_id, FeeAssignment.valid_from <= on,
        or_(FeeAssignment.valid_to.is_(None), FeeAssignment.valid_to >= on))
        .order_by(FeeAssignment.valid_from.desc(), FeeAssignment.id.desc()).limit(1)).scalar_one_or_none()
    if a is None:
        return None
    family = func.coalesce(FeePolicy.family_id, FeePolicy.id)
    p = db.session.execute(select(FeePolicy).where(
        family == a.family_id, FeePolicy.status == "active", FeePolicy.valid_from <= on,
        or_(FeePolicy.valid_to.is_(None), FeePolicy.valid_to >= on))
        .order_by(FeePolicy.valid_from.desc(), FeePolicy.id.desc()).limit(1)).scalar_one_or_none()
    if p is None or p.price_regime != "政府指导价" or p.basis != "per_m2":
        return None
    g = db.session.execute(select(FeePolicyGrade).where(FeePolicyGrade.policy_id == p.id,
                                                        FeePolicyGrade.grade == grade)).scalar_one_or_none()
    if g is None or g.rate is None:
        return None
    spread = g.float_percent or Decimal(0)
    hundred = Decimal(100)
    return GuidedRange(g.rate * (hundred - spread) / hundred, g.rate * (hundred + spread) / hundred,
                       g.rate, spread, p.name)


def price_problem(compound_id: int, grade: str, rate: Decimal, on: date) -> str | None:
    rng = guided_range(compound_id, grade, on)
    if rng is not None and not rng.low <= rate <= rng.high:
        return f"超出政府指导价范围 {rng.text}（{rng.policy_name}，{grade}基准价 {_rate(rng.base)} 元 ±{_rate(rng.spread)}%）"
    return None


# --- who may file what --------------------------------------------------------------------------

def is_filer(m: Membership) -> bool:
    return m.role in policy.FIRM_ROLES and policy.can(m, "file", "contract_filing")


def _serving_now():
    return select(Contract.compound_id).where(Contract.in_force(today()))


def fileable_compounds(m: Membership):
    """Compound ids the firm may file a new contract for (see the rules above)."""
    if not is_filer(m):
        return select(Compound.id).where(False)
    own = select(Contract.compound_id).where(Contract.firm_id == m.firm_id,
                                             or_(Contract.in_force(today()), Contract.status == "draft"))
    return select(Compound.id).where(or_(Compound.id.in_(own), Compound.id.not_in(_serving_now())))


def may_file_for(m: Membership, compound_id: int) -> bool:
    return db.session.execute(select(Compound.id).where(
        Compound.id == compound_id, Compound.id.in_(fileable_compounds(m)))).first() is not None


def compound_choices(m: Membership) -> list[tuple[int, str]]:
    return [(cid, name) for cid, name in db.session.execute(
        select(Compound.id, Compound.name).where(Compound.id.in_(fileable_compounds(m)))
        .order_by(Compound.name)).all()]


def _has_filing(*statuses):
    return exists().where(ContractFiling.contract_id == Contract.id, ContractFiling.status.in_(statuses))


def contracts_to_file(m: Membership) -> list[Contract]:
    """The firm's contracts (in force or draft) with no approved filing and none in review."""
    if not is_filer(m):
        return []
    return list(db.session.execute(select(Contract).where(
        Contract.firm_id == m.firm_id, or_(Contract.in_force(today()), and_(Contract.status == "draft",
                                                                           Contract.end_date >= today())),
        ~_has_filing("filed", *OPEN, "returned")).options(joinedload(Contract.compound))
        .order_by(Contract.end_date)).scalars())


def may_file_contract(m: Membership, c: Contract) -> bool:
    return is_filer(m) and c.firm_id == m.firm_id and c in contracts_to_file(m)


# --- filing and refiling ------------------------------------------------------------------------

@dataclass
class FilingData:
    kind: str | None
    service_grade: str | None
    fee_mode: str | None
    fee_rate: Decimal | None
    start_date: date | None
    end_date: date | None


def _term_years(start: date, end: date) -> float:
    return (end - start).days / 365.25


def problems(d: FilingData, compound_id: int, contract_id: int | None = None) -> dict:
    errors = {}
    if d.kind not in CONTRACT_KINDS:
        errors["kind"] = "请选择合同类型。"
    if d.service_grade not in SERVICE_GRADES:
        errors["service_grade"] = "请选择服务等级。"
    if d.fee_mode not in FEE_MODES:
        errors["fee_mode"] = "请选择收费方式。"
    if d.fee_rate is None or d.fee_rate <= 0:
        errors["fee_rate"] = "请填写物业费标准（大于 0）。"
    if d.start_date is None:
        errors["start_date"] = "请填写合同起始日期。"
    if d.end_date is None:
        errors["end_date"] = "请填写合同终止日期。"
    if d.start_date and d.end_date:
        if d.end_date <= d.start_date:
            errors["end_date"] = "终止日期须晚于起始日期。"
        elif _term_years(d.start_date, d.end_date) > MAX_TERM_YEARS:
            errors["end_date"] = f"合同期限不能超过 {MAX_TERM_YEARS} 年。"
        else:
            clash = db.session.execute(select(Contract).where(
                Contract.compound_id == compound_id, Contract.status == "active",
                Contract.start_date <= d.end_date, Contract.end_date >= d.start_date,
                *([Contract.id != contract_id] if contract_id else [])).limit(1)).scalar_one_or_none()
            if clash is not None:
                errors["start_date"] = (f"与本小区有效合同（{clash.start_date:%Y-%m-%d} 至 {clash.end_date:%Y-%m-%d}）"
                                        "期限重叠，续签合同应从原合同期满后开始。")
    if "fee_rate" not in errors and "service_grade" not in errors and d.start_date:
        problem = price_problem(compound_id, d.service_grade, d.fee_rate, d.start_date)
        if problem:
            errors["fee_rate"] = problem
    return errors


def _files_problem(uploads: list[Upload], required: bool) -> dict:
    if required and not uploads:
        return {"files": "请上传签订的合同扫描件（PDF、JPG 或 PNG）。"}
    for up in uploads:
        problem = voucher_problem(up)
        if problem:
            return {"files": problem}
    return {}


def _store_files(f: ContractFiling, uploads: list[Upload], folder: str) -> None:
    for up in uploads:
        name, ctype = save_upload(up, folder)
        db.session.add(FilingFile(filing_id=f.id, filename=Path(up.filename).name[:200], stored_name=name,
                                  content_type=ctype, size=len(up.data)))


def _apply_terms(f: ContractFiling, d: FilingData) -> None:
    f.kind, f.service_grade, f.fee_mode, f.fee_rate = d.kind, d.service_grade, d.fee_mode, d.fee_rate
    f.start_date, f.end_date = d.start_date, d.end_date


def _start(f: ContractFiling, user_id: int | None) -> None:
    at = now()
    f.submitted_at, f.filed_by_id = at, user_id
    _enter_step(f, "community", at, rule())


def file_new(m: Membership, compound: Compound, d: FilingData, uploads: list[Upload], folder: str) -> ContractFiling:
    """A new contract entered by the firm (a draft until filed) and its filing."""
    if not may_file_for(m, compound.id):
        raise FilingProblem({"compound_id": "您不能为该小区备案合同。"})
    errors = problems(d, compound.id) | _files_problem(uploads, required=True)
    if errors:
        raise FilingProblem(errors)
    c = Contract(firm_id=m.firm_id, compound_id=compound.id, start_date=d.start_date, end_date=d.end_date,
                 service_grade=d.service_grade, fee_mode=d.fee_mode, fee_rate=d.fee_rate, status="draft")
    db.session.add(c)
    db.session.flush()
    f = ContractFiling(contract_id=c.id, firm_id=m.firm_id, compound_id=compound.id, activates=True)
    _apply_terms(f, d)
    _start(f, m.user_id)
    db.session.add(f)
    db.session.flush()
    _store_files(f, uploads, folder)
    db.session.flush()
    return f


def file_existing(m: Membership, c: Contract, d: FilingData, uploads: list[Upload], folder: str) -> ContractFiling:
    """A contract of the firm already on record (in the register, or a draft of another workflow)."""
    if not may_file_contract(m, c):
        raise FilingProblem({"kind": "该合同已备案或正在审核中。"})
    errors = problems(d, c.compound_id, c.id) | _files_problem(uploads, required=True)
    if errors:
        raise FilingProblem(errors)
    f = ContractFiling(contract_id=c.id, firm_id=c.firm_id, compound_id=c.compound_id, activates=False)
    _apply_terms(f, d)
    _start(f, m.user_id)
    db.session.add(f)
    db.session.flush()
    _store_files(f, uploads, folder)
    db.session.flush()
    return f


def may_refile(m: Membership, f: ContractFiling) -> bool:
    return is_filer(m) and f.firm_id == m.firm_id and f.status == "returned"


def refile(m: Membership, f: ContractFiling, d: FilingData, uploads: list[Upload], folder: str) -> None:
    """A returned filing, corrected, starts again at the community."""
    if not may_refile(m, f):
        raise FilingProblem({"kind": "只有被退回的备案可以修改后重新提交。"})
    errors = problems(d, f.compound_id, f.contract_id) | _files_problem(uploads, required=False)
    if errors:
        raise FilingProblem(errors)
    _apply_terms(f, d)
    c = f.contract
    if f.activates and c.status == "draft":   # the firm's own draft follows its corrected terms
        _write_terms(c, f)
    _start(f, m.user_id)
    db.session.flush()
    _store_files(f, uploads, folder)
    db.session.flush()


def _write_terms(c: Contract, f: ContractFiling) -> None:
    c.start_date, c.end_date, c.service_grade = f.start_date, f.end_date, f.service_grade
    c.fee_mode, c.fee_rate = f.fee_mode, f.fee_rate


# --- review -------------------------------------------------------------------------------------

def review_level(m: Membership, f: ContractFiling) -> str | None:
    """The step this membership may decide now (the record is already in its scope)."""
    level = f.status if f.status in OPEN else None
    return level if level and m.role == REVIEWER[level] and policy.can(m, "review", "contract_review") else None


def _next_number(prefix: str, year: int) -> tuple[int, str]:
    last = db.session.execute(select(func.max(ContractFiling.number_seq)).where(
        ContractFiling.number_year == year)).scalar_one()
    seq = (last or 0) + 1
    return seq, f"{prefix}〔{year}〕{seq:04d}号"


def review(m: Membership, f: ContractFiling, approve: bool, reason: str) -> None:
    level = review_level(m, f)
    if level is None:
        raise FilingProblem({"reason": "该备案当前不在您的审核环节。"})
    reason = (reason or "").strip()
    if not approve and not reason:
        raise FilingProblem({"reason": "退回时必须填写理由。"})
    at, on = now(), today()
    db.session.add(FilingReview(filing_id=f.id, level=level, approve=approve, reason=reason, due_on=f.due_on,
                                late=f.due_on is not None and on > f.due_on, user_id=m.user_id, reviewed_at=at))
    if not approve:
        f.status, f.due_on = "returned", None
        db.session.flush()
        return
    nxt = NEXT_LEVEL[level]
    if nxt != "filed":
        _enter_step(f, nxt, at, rule())
        db.session.flush()
        return
    # The district approves: the filed terms are checked again (the fee policy or the compound's
    # other contracts may have changed since the firm filed), then the number, then the contract.
    stale = problems(filing_data(f), f.compound_id, f.contract_id)
    if stale:
        raise FilingProblem({"reason": "；".join(v.rstrip("。") for v in stale.values()) + "。请退回企业更正。"})
    f.number_seq, f.number = _next_number(rule().number_prefix, on.year)
    f.number_year, f.status, f.due_on = on.year, "filed", None
    f.filed_at, f.filed_on, f.approved_by_id = at, on, m.user_id
    c = f.contract
    _write_terms(c, f)
    if f.activates:
        c.status = "active"
    db.session.flush()


# --- lists --------------------------------------------------------------------------------------

def is_list_reader(m: Membership) -> bool:
    """The contract-side lists: staff of the district, street and community, and a firm (its own)."""
    return m.role in {"district_admin", "street_staff", "community_staff"} | policy.FIRM_ROLES


def filings_select(m: Membership, status: str = "", q: str = ""):
    stmt = (select(ContractFiling).where(policy.visible(m, ContractFiling))
            .join(Compound, Compound.id == ContractFiling.compound_id)
            .join(Firm, Firm.id == ContractFiling.firm_id)
            .options(joinedload(ContractFiling.compound), joinedload(ContractFiling.firm)))
    if status == "open":
        stmt = stmt.where(ContractFiling.status.in_(OPEN))
    elif status:
        stmt = stmt.where(ContractFiling.status == status)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Compound.name.like(like), Firm.name.like(like), ContractFiling.number.like(like)))
    return stmt.order_by(ContractFiling.submitted_at.desc(), ContractFiling.id.desc())


def in_review_select(m: Membership, on: date, late_only: bool = False, q: str = ""):
    stmt = filings_select(m, "open", q).order_by(None).order_by(ContractFiling.due_on, ContractFiling.id)
    return stmt.where(overdue_clause(on)) if late_only else stmt


def todo_select(m: Membership):
    """The filings waiting for this membership's step (its to-do card)."""
    level = next((lv for lv, role in REVIEWER.items() if role == m.role), None)
    if level is None or not policy.can(m, "review", "contract_review"):
        return None
    return filings_select(m, level)


def _contracts(m: Membership, q: str):
    stmt = (select(Contract).where(policy.visible(m, Contract))
            .join(Compound, Compound.id == Contract.compound_id).join(Firm, Firm.id == Contract.firm_id)
            .options(joinedload(Contract.compound).joinedload(Compound.community).joinedload(Community.street),
                     joinedload(Contract.firm)))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Compound.name.like(like), Firm.name.like(like)))
    return stmt


def unfiled_select(m: Membership, on: date, q: str = ""):
    return (_contracts(m, q).where(Contract.in_force(on), ~_has_filing("filed", *OPEN))
            .order_by(Contract.end_date, Contract.id))


def expiring_select(m: Membership, on: date, days: int, q: str = ""):
    return (_contracts(m, q).where(Contract.in_force(on), Contract.end_date <= on + timedelta(days=days))
            .order_by(Contract.end_date, Contract.id))


def renewal_priority(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """(firm, compound) pairs whose firm holds 优先续约 today: a consequence the district attached to
    a list (the 红榜 by default) of a published evaluation (credit/consequences.py) — 潞州: 续约权 for
    firms the evaluation rates well. The one place this is read."""
    if not pairs:
        return set()
    from ..credit.consequences import firms_with_flag   # lazy: credit is another area
    holders = firms_with_flag("priority_renewal", today())
    return {p for p in pairs if p[0] in holders}


def latest_filing(contract_id: int) -> ContractFiling | None:
    return db.session.execute(select(ContractFiling).where(ContractFiling.contract_id == contract_id)
                              .order_by(ContractFiling.id.desc()).limit(1)).scalar_one_or_none()


def filings_of_firm(firm_id: int) -> list[ContractFiling]:
    return list(db.session.execute(select(ContractFiling).where(
        ContractFiling.firm_id == firm_id, ContractFiling.status == "filed")
        .options(joinedload(ContractFiling.compound), joinedload(ContractFiling.approved_by))
        .order_by(ContractFiling.filed_at.desc())).scalars())


def filing_data(f: ContractFiling | Contract, kind: str | None = None) -> FilingData:
    return FilingData(getattr(f, "kind", kind), f.service_grade, f.fee_mode, f.fee_rate, f.start_date, f.end_date)


# --- the filing record on the register's pages --------------------------------------------------

def _who(user) -> str:
    return user.display_name if user is not None else "（账号已删除）"


def record_text(f: ContractFiling) -> str:
    """Who, when, number of an approved filing, as the register shows it."""
    return (f"{f.number}（{f.filed_on:%Y-%m-%d} 由{_who(f.approved_by)}核准备案，"
            f"{_who(f.filed_by)}报送）")


def contract_fact(c: Contract) -> str:
    f = latest_filing(c.id)
    if f is None:
        return "未备案"
    if f.status == "filed":
        return "已备案：" + record_text(f)
    if f.status == "returned":
        return "备案已退回企业修改"
    return f"备案审核中（{LEVELS[f.status]}，时限 {f.due_on:%Y-%m-%d}{'，已逾期' if overdue(f, today()) else ''}）"


def firm_fact(firm: Firm) -> str | None:
    filed = filings_of_firm(firm.id)
    if not filed:
        return None
    return f"{len(filed)} 份合同已备案，最近：{filed[0].compound.name} " + record_text(filed[0])
