"""Subsidy claims: the government part of a compound's month, claimed by the firm that billed
it and approved or rejected by the district; approved claims are what finance pays."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..org.models import Compound, Firm
from ..timeutil import fmt_datetime, now
from .models import CLAIM_STATUSES, Bill, CreditNote, SubsidyClaim


def claimable(firm_id: int, compound_id: int, month: date) -> tuple[int, int]:
    """(government part after credit notes, bill count) of the firm's bills of that month."""
    credited = (select(CreditNote.bill_id, func.sum(CreditNote.gov_fen).label("gov"))
                .group_by(CreditNote.bill_id).subquery())
    row = db.session.execute(
        select(func.coalesce(func.sum(Bill.gov_fen - func.coalesce(credited.c.gov, 0)), 0),
               func.count(Bill.id))
        .outerjoin(credited, credited.c.bill_id == Bill.id)
        .where(Bill.firm_id == firm_id, Bill.compound_id == compound_id, Bill.month == month)).one()
    return int(row[0]), int(row[1])


def breakdown(claim: SubsidyClaim) -> list[tuple[str, int, int, int]]:
    """What the claim is made of, as the district checks it: the firm's bills of that compound
    and month by household class — (class, bills, amount due, government part after credit
    notes). Their total is what could be claimed now (see `claimable`)."""
    credited = (select(CreditNote.bill_id, func.sum(CreditNote.gov_fen).label("gov"))
                .group_by(CreditNote.bill_id).subquery())
    rows = db.session.execute(
        select(Bill.classes, func.count(Bill.id), func.sum(Bill.base_fen),
               func.sum(Bill.gov_fen - func.coalesce(credited.c.gov, 0)))
        .outerjoin(credited, credited.c.bill_id == Bill.id)
        .where(Bill.firm_id == claim.firm_id, Bill.compound_id == claim.compound_id, Bill.month == claim.month)
        .group_by(Bill.classes)).all()
    out = [(classes or "一般住户", int(n), int(base), int(gov)) for classes, n, base, gov in rows]
    return sorted(out, key=lambda r: (-r[3], r[0]))


def claim_compounds(firm_id: int) -> list[tuple[int, str]]:
    """Compounds the firm has billed (what it can claim for)."""
    stmt = (select(Compound.id, Compound.name)
            .where(Compound.id.in_(select(Bill.compound_id).where(Bill.firm_id == firm_id)))
            .order_by(Compound.name))
    return [(r.id, r.name) for r in db.session.execute(stmt)]


def create_claim(firm_id: int, compound_id: int, month: date) -> tuple[SubsidyClaim | None, dict]:
    """Submit the claim (flushed) or say why not, writing nothing. A rejected claim of the same
    compound and month is resubmitted with the amounts recomputed (one claim per month)."""
    amount, count = claimable(firm_id, compound_id, month)
    if count == 0:
        return None, {"month": "该小区该月没有本企业开具的账单，无可申领的补贴。"}
    if amount <= 0:
        return None, {"month": "该月账单中政府承担部分为 0，无需申领。"}
    existing = db.session.execute(select(SubsidyClaim).where(
        SubsidyClaim.compound_id == compound_id, SubsidyClaim.month == month)).scalar_one_or_none()
    if existing is not None and existing.status != "rejected":
        return None, {"month": f"该小区该月已有补贴申领（{CLAIM_STATUSES[existing.status]}），不能重复申领。"}
    claim = existing or SubsidyClaim(compound_id=compound_id, month=month)
    claim.firm_id, claim.amount_fen, claim.bill_count = firm_id, amount, count
    claim.status, claim.reason, claim.submitted_at, claim.decided_at = "submitted", "", now(), None
    db.session.add(claim)
    db.session.flush()
    return claim, {}


def decide(claim: SubsidyClaim, approve: bool, reason: str) -> dict:
    """Approve or reject a submitted claim; a rejection needs its reason."""
    reason = (reason or "").strip()
    if claim.status != "submitted":
        return {"decision": "该申领已审核，不能重复审核。"}
    if not approve and not reason:
        return {"reason": "退回时必须填写理由。"}
    claim.status = "approved" if approve else "rejected"
    claim.reason = reason
    claim.decided_at = now()
    db.session.flush()
    return {}


def claims_select(m, month: date | None = None, status: str | None = None, firm_id: int | None = None):
    # Compound and firm names are shown on every row: load them with the claims, not per row.
    stmt = (select(SubsidyClaim).where(policy.visible(m, SubsidyClaim))
            .options(joinedload(SubsidyClaim.compound), joinedload(SubsidyClaim.firm)))
    if month:
        stmt = stmt.where(SubsidyClaim.month == month)
    if status in CLAIM_STATUSES:
        stmt = stmt.where(SubsidyClaim.status == status)
    if firm_id:
        stmt = stmt.where(SubsidyClaim.firm_id == firm_id)
    return stmt.order_by(SubsidyClaim.month.desc(), SubsidyClaim.id.desc())


def totals(m, **filters) -> tuple[int, int, int]:
    """(claims, bills, amount 分) of the filtered list, in one query."""
    sub = claims_select(m, **filters).order_by(None).subquery()
    row = db.session.execute(select(func.count(), func.coalesce(func.sum(sub.c.bill_count), 0),
                                    func.coalesce(func.sum(sub.c.amount_fen), 0)).select_from(sub)).one()
    return int(row[0]), int(row[1]), int(row[2])


def claim_firms(m) -> list[tuple[int, str]]:
    stmt = (select(Firm.id, Firm.name).where(Firm.id.in_(
        select(SubsidyClaim.firm_id).where(policy.visible(m, SubsidyClaim)))).order_by(Firm.name))
    return [(r.id, r.name) for r in db.session.execute(stmt)]


def workbook(claims: list[SubsidyClaim]):
    """The filtered claims as Excel, with a totals line (amounts in 元 as numbers, 元 format)."""
    from openpyxl import Workbook

    from ..excel import append, yuan
    wb = Workbook()
    ws = wb.active
    ws.title = "补贴申领"
    ws.append(["月份", "小区", "物业企业", "账单数", "申领金额（元）", "状态", "审核时间", "理由"])
    for c in claims:
        append(ws, [f"{c.month:%Y-%m}", c.compound.name, c.firm.name, c.bill_count, yuan(c.amount_fen),
                   CLAIM_STATUSES[c.status], fmt_datetime(c.decided_at),
                   c.reason])
    append(ws, ["合计", "", "", sum(c.bill_count for c in claims),
                yuan(sum(c.amount_fen for c in claims)), "", "", ""])
    for col, width in zip("ABCDEFGH", (10, 20, 24, 10, 16, 10, 18, 30)):
        ws.column_dimensions[col].width = width
    return wb
