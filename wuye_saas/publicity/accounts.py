"""Who keeps which ledger, the entry and reversal workflows, voucher files, ledger listings.
Plain functions (no Flask request): they flush, the view commits."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, or_, select

from .. import policy
from ..extensions import db
from ..org.models import Compound, Contract
from . import fund, ledger
from .models import KEEPERS, LEDGER_KINDS, LedgerEntry, LedgerKeeper, LedgerVoucher

# Who keeps a kind when the district has not said: owners' money with the committee (民法典
# 第282条, 维修资金 by the owners' assembly), the fee account of 酬金制 with the firm.
DEFAULT_KEEPERS = {"public_revenue": "committee", "maintenance_fund": "committee", "fee_account": "firm"}

DIRECTIONS = {"income": "收入", "spending": "支出"}
CATEGORIES = {
    "public_revenue": {"income": ["停车费", "广告费", "场地租赁", "快递柜", "其他收入"],
                       "spending": ["公共设施维修", "补充维修资金", "其他支出"]},
    "maintenance_fund": {"income": ["首期交存", "续筹", "利息", fund.REVENUE_IN],
                         "spending": ["使用支出", "其他支出"]},
    "fee_account": {"income": ["物业费收入", "其他收入"],
                    "spending": ["人员费用", "公共设施设备运行维护", "清洁卫生", "绿化养护", "秩序维护",
                                 "办公费用", "物业服务酬金", "其他支出"]},
}

VOUCHER_MAX = 5 * 1024 * 1024
# Type by content (magic bytes), not by the name or the browser's claim.
VOUCHER_TYPES = {b"%PDF": ("pdf", "application/pdf"), b"\x89PNG": ("png", "image/png"),
                 b"\xff\xd8\xff": ("jpg", "image/jpeg")}
VOUCHER_EXTS = {".pdf", ".png", ".jpg", ".jpeg"}


def keeper_of(kind: str) -> str:
    row = db.session.execute(select(LedgerKeeper.keeper).where(LedgerKeeper.kind == kind)).scalar_one_or_none()
    return row or DEFAULT_KEEPERS[kind]


def keepers() -> dict[str, str]:
    """Every ledger kind's keeper in the district (one query)."""
    chosen = dict(db.session.execute(select(LedgerKeeper.kind, LedgerKeeper.keeper)).all())
    return {kind: chosen.get(kind) or default for kind, default in DEFAULT_KEEPERS.items()}


def set_keepers(choices: dict[str, str]) -> list[str]:
    """Store the district's keeper of each ledger kind ({kind: "firm" | "committee"}); the kinds
    changed. Flushes; the caller commits. Entries already made stay as they are."""
    changed = []
    for kind, keeper in choices.items():
        if kind not in LEDGER_KINDS or keeper not in KEEPERS:
            raise ValueError(kind)
        row = db.session.execute(select(LedgerKeeper).where(LedgerKeeper.kind == kind)).scalar_one_or_none()
        if row is None:
            db.session.add(LedgerKeeper(kind=kind, keeper=keeper))
            if keeper != DEFAULT_KEEPERS[kind]:
                changed.append(kind)
        elif row.keeper != keeper:
            row.keeper = keeper
            changed.append(kind)
    db.session.flush()
    return changed


def current_contract(compound_id: int, on: date) -> Contract | None:
    return db.session.execute(select(Contract).where(
        Contract.compound_id == compound_id, Contract.in_force(on))
        .order_by(Contract.start_date.desc(), Contract.id.desc()).limit(1)).scalar_one_or_none()


def kinds_for(compound_id: int, on: date) -> list[str]:
    """The ledgers a compound keeps: 物业费收支 only under a 酬金制 contract."""
    c = current_contract(compound_id, on)
    return [k for k in LEDGER_KINDS if k != "fee_account" or (c is not None and c.fee_mode == "酬金制")]


def _in_scope(m, compound_id: int) -> bool:
    return db.session.execute(select(Compound.id).where(
        Compound.id == compound_id, policy.visible(m, Compound))).first() is not None


def keeps(m, compound_id: int, kind: str) -> bool:
    """May this membership write the compound's ledger of this kind? The role must be a keeper
    role at all (policy), match the district's keeper for the kind, and reach the compound."""
    if not policy.can(m, "write", "ledger") or kind not in LEDGER_KINDS:
        return False
    keeper = keeper_of(kind)
    if m.role in policy.FIRM_ROLES:
        ok = keeper == "firm"
    else:
        ok = keeper == "committee" and m.role == "committee_member" and m.compound_id == compound_id
    return ok and _in_scope(m, compound_id)


def keepable(m, on: date) -> list[tuple[Compound, str]]:
    """(compound, kind) pairs this membership may write, for the 'new entry' chooser."""
    if not policy.can(m, "write", "ledger"):
        return []
    comps = db.session.execute(select(Compound).where(policy.visible(m, Compound)).order_by(Compound.name)).scalars()
    return [(c, k) for c in comps for k in kinds_for(c.id, on) if keeps(m, c.id, k)]


# --- vouchers -------------------------------------------------------------------------------

@dataclass
class Upload:
    filename: str
    data: bytes


def voucher_problem(up: Upload) -> str | None:
    if Path(up.filename).suffix.lower() not in VOUCHER_EXTS:
        return f"“{up.filename}”不是 PDF、JPG 或 PNG 文件"
    if len(up.data) > VOUCHER_MAX:
        return f"“{up.filename}”超过 5 MB"
    if not up.data:
        return f"“{up.filename}”是空文件"
    if _sniff(up.data) is None:
        return f"“{up.filename}”的内容不是 PDF、JPG 或 PNG"
    return None


def _sniff(data: bytes):
    return next((v for magic, v in VOUCHER_TYPES.items() if data.startswith(magic)), None)


def voucher_path(folder: str, stored_name: str) -> Path:
    return Path(folder) / "vouchers" / stored_name


def save_upload(up: Upload, folder: str) -> tuple[str, str]:
    """Write a checked upload (voucher_problem is None) under a random name; (name, type)."""
    ext, ctype = _sniff(up.data)
    name = f"{uuid.uuid4().hex}.{ext}"   # random: the stored name never comes from the user
    path = voucher_path(folder, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(up.data)
    return name, ctype


def _store(entry: LedgerEntry, up: Upload, folder: str) -> LedgerVoucher:
    name, ctype = save_upload(up, folder)
    v = LedgerVoucher(entry_id=entry.id, filename=Path(up.filename).name[:200], stored_name=name,
                      content_type=ctype, size=len(up.data))
    db.session.add(v)
    return v


# --- writes ---------------------------------------------------------------------------------

@dataclass
class EntryData:
    entry_date: date
    direction: str
    category: str
    amount_fen: int          # positive; the direction gives the sign
    counterparty: str = ""
    voucher_no: str = ""
    note: str = ""


def record_entry(m, compound_id: int, kind: str, d: EntryData, uploads: list[Upload], folder: str,
                 today: date, user=None) -> tuple[LedgerEntry | None, dict, int]:
    """Add an entry with its vouchers: (entry, {}, 分 moved into the fund); (None, {field:
    message}, 0) and nothing written when refused. A public-revenue income also moves the fund's
    share of it where 北京 第74条 applies (fund.revenue_transfer)."""
    errors = {}
    if kind not in kinds_for(compound_id, today):
        errors["category"] = "该小区当前合同不是酬金制，不设物业费收支账"
    if d.entry_date > today:
        errors["entry_date"] = "记账日期不能晚于今天"
    if d.category not in CATEGORIES.get(kind, {}).get(d.direction, []):
        errors["category"] = f"“{d.category}”不是{DIRECTIONS.get(d.direction, '')}类目"
    if d.amount_fen <= 0:
        errors["amount"] = "金额必须大于 0"
    bad = [p for p in (voucher_problem(u) for u in uploads) if p]
    if bad:
        errors["vouchers"] = "；".join(bad)
    if errors:
        return None, errors, 0
    sign = 1 if d.direction == "income" else -1
    try:
        entry = ledger.add_entry(compound_id, kind, d.entry_date, d.category, sign * d.amount_fen,
                                 counterparty=d.counterparty, voucher_no=d.voucher_no, note=d.note, user=user)
    except ledger.LedgerProblem as exc:
        return None, {exc.field if exc.field != "kind" else "category": str(exc)}, 0
    for up in uploads:
        _store(entry, up, folder)
    pair = fund.revenue_transfer(entry, user=user)
    db.session.flush()
    return entry, {}, pair[1].amount_fen if pair else 0


def reversal_of(entry: LedgerEntry) -> LedgerEntry | None:
    return db.session.execute(select(LedgerEntry).where(LedgerEntry.reverses_id == entry.id)).scalar_one_or_none()


def reverse_entry(entry: LedgerEntry, reason: str, today: date, user=None) -> tuple[LedgerEntry | None, str | None]:
    try:
        return ledger.reverse(entry, today, reason, user=user), None
    except ledger.LedgerProblem as exc:
        return None, str(exc)


# --- reads ----------------------------------------------------------------------------------

def compounds_query(m, q: str = ""):
    stmt = select(Compound).where(policy.visible(m, Compound)).order_by(Compound.name, Compound.id)
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()))
    return stmt


def balances(compound_ids: list[int]) -> dict[tuple[int, str], int]:
    rows = db.session.execute(select(LedgerEntry.compound_id, LedgerEntry.kind, func.sum(LedgerEntry.amount_fen))
                              .where(LedgerEntry.compound_id.in_(compound_ids))
                              .group_by(LedgerEntry.compound_id, LedgerEntry.kind)).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def entries_query(compound_id: int, kind: str, q: str = "", start: date | None = None, end: date | None = None):
    stmt = (select(LedgerEntry).where(LedgerEntry.compound_id == compound_id, LedgerEntry.kind == kind)
            .order_by(LedgerEntry.entry_date.desc(), LedgerEntry.id.desc()))
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(LedgerEntry.category.like(like), LedgerEntry.counterparty.like(like),
                              LedgerEntry.voucher_no.like(like), LedgerEntry.note.like(like)))
    if start:
        stmt = stmt.where(LedgerEntry.entry_date >= start)
    if end:
        stmt = stmt.where(LedgerEntry.entry_date <= end)
    return stmt


def reversed_by(entry_ids: list[int]) -> dict[int, int]:
    """original id → id of the entry that reversed it."""
    rows = db.session.execute(select(LedgerEntry.reverses_id, LedgerEntry.id)
                              .where(LedgerEntry.reverses_id.in_(entry_ids))).all()
    return {r[0]: r[1] for r in rows}


def entered_by(entries) -> dict[int, str]:
    """user id → display name of who entered each entry (users are not tenant-owned)."""
    from ..auth.models import User
    ids = {e.user_id for e in entries if e.user_id}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
