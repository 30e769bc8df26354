"""重大事项报备 (seed 004): before a major matter goes to the owners, the committee reports it to
the community party organisation and files it in writing with the street; the street
acknowledges (签收) or returns it with a reason. The owner vote opens only on an acknowledged
filing (`gate`, called by votes.logic.open_vote).

Rules:
- Every owner vote is a major matter: its matters are those of 民法典 第278条 (votes.MATTERS).
- Spending is a major matter with its amount above the district's threshold (MatterRule,
  DEFAULT_THRESHOLD_FEN when unset): a vote tied to a fund application whose budget is above it
  opens only on a filing that names at least that budget.
- The community's staff note 已报告社区党组织 first; the street acknowledges only after that.
- A return needs a reason; the committee then files again (the returned filing stays on record).
- The written filing may carry up to MAX_FILES documents (PDF/JPG/PNG, 5 MB each, the same check
  as ledger vouchers), each kept with its SHA-256.

Functions flush and never commit; refusals are {field: message} and write nothing.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy, timeutil
from ..extensions import db
from ..money import fmt_yuan
from ..votes.models import FundApplication, OwnerVote
from ..publicity.accounts import Upload, save_upload, voucher_problem
from .models import FILING_STATUSES, MatterFiling, MatterFilingFile, MatterRule

MAX_FILES = 5

DEFAULT_THRESHOLD_FEN = 50_000_00      # 5 万元 until the district sets its own
MAX_THRESHOLD_FEN = 100_000_000_00      # 1 亿元, the form's bound (formutil.LEDGER_YUAN)
# A vote may be filed with the street from its draft until it opens.
FILABLE = {"draft", "filed", "publicized"}


def threshold_fen() -> int:
    rule = db.session.execute(select(MatterRule)).scalar_one_or_none()
    return rule.threshold_fen if rule else DEFAULT_THRESHOLD_FEN


def set_threshold(fen: int | None) -> dict:
    if fen is None or fen <= 0:
        return {"threshold": "报备标准金额必须大于 0。"}
    if fen > MAX_THRESHOLD_FEN:
        return {"threshold": "报备标准金额过大。"}
    rule = db.session.execute(select(MatterRule)).scalar_one_or_none()
    if rule is None:
        db.session.add(MatterRule(threshold_fen=fen))
    else:
        rule.threshold_fen = fen
    db.session.flush()
    return {}


def spending_of(vote: OwnerVote) -> int | None:
    """The largest budget of the fund applications tied to the vote, if any."""
    budgets = db.session.execute(select(FundApplication.budget_fen)
                                 .where(FundApplication.vote_id == vote.id)).scalars().all()
    return max(budgets) if budgets else None


def filings_of(vote: OwnerVote) -> list[MatterFiling]:
    return list(db.session.execute(select(MatterFiling).where(MatterFiling.vote_id == vote.id)
                                   .order_by(MatterFiling.id.desc())).scalars())


def current(vote: OwnerVote) -> MatterFiling | None:
    """The vote's latest filing not returned (at most one is live at a time)."""
    return db.session.execute(select(MatterFiling).where(
        MatterFiling.vote_id == vote.id, MatterFiling.status != "returned")
        .order_by(MatterFiling.id.desc())).scalars().first()


def gate(vote: OwnerVote) -> str | None:
    """Why the vote may not open yet, or None."""
    filing = current(vote)
    if filing is None or filing.status != "acknowledged":
        return ("该表决事项尚未经街道签收重大事项报备，不能开始表决：业委会须先报告社区党组织并向街道书面报备，"
                "街道签收后方可开始。")
    spending, limit = spending_of(vote), threshold_fen()
    if spending is not None and spending > limit and (filing.spending_fen or 0) < spending:
        return (f"关联的维修资金申请金额 {fmt_yuan(spending)} 超过区定报备标准 {fmt_yuan(limit)}，"
                f"已签收的报备未载明该金额，须按申请金额重新报备街道并经签收。")
    return None


def file_matter(vote: OwnerVote, summary: str, user=None, uploads: list[Upload] = (), folder: str = ""
                ) -> tuple[MatterFiling | None, dict]:
    """The committee files the vote's matter with the street (in writing: the summary and its
    documents)."""
    summary = (summary or "").strip()
    if vote.status not in FILABLE:
        return None, {"action": "表决已开始或已结束，不能再报备。"}
    live = current(vote)
    if live is not None and (live.status == "filed" or gate(vote) is None):
        return None, {"action": "本表决事项已有报备在办或已签收，无需重复报备。"}
    if not summary:
        return None, {"summary": "请填写报备内容（事项、理由、拟表决方案）。"}
    if len(summary) > 5000:
        return None, {"summary": "报备内容不超过 5000 个字。"}
    if len(uploads) > MAX_FILES:
        return None, {"files": f"报备材料最多 {MAX_FILES} 个文件。"}
    for up in uploads:
        problem = voucher_problem(up)
        if problem:
            return None, {"files": problem}
    if live is not None:           # acknowledged for a smaller amount: this one replaces it
        live.status, live.return_reason = "returned", "申请金额变更，已重新报备。"
    filing = MatterFiling(compound_id=vote.compound_id, vote_id=vote.id, matter=vote.matter, title=vote.title,
                          summary=summary, spending_fen=spending_of(vote), status="filed",
                          filed_at=timeutil.now(), filed_by_id=getattr(user, "id", None))
    db.session.add(filing)
    db.session.flush()
    for up in uploads:
        name, ctype = save_upload(up, folder)
        db.session.add(MatterFilingFile(filing_id=filing.id, filename=Path(up.filename).name[:200], stored_name=name,
                                        content_type=ctype, size=len(up.data),
                                        sha256=hashlib.sha256(up.data).hexdigest()))
    db.session.flush()
    return filing, {}


def note_party_report(filing: MatterFiling, user=None) -> dict:
    """已报告社区党组织, recorded by the community's staff."""
    if filing.status != "filed":
        return {"action": "只有待签收的报备可以登记报告社区党组织。"}
    if filing.party_reported_at is not None:
        return {"action": "已登记报告社区党组织。"}
    filing.party_reported_at, filing.party_reported_by_id = timeutil.now(), getattr(user, "id", None)
    db.session.flush()
    return {}


def decide(filing: MatterFiling, acknowledge: bool, reason: str = "", user=None) -> dict:
    """The street acknowledges (签收) or returns with a reason."""
    reason = (reason or "").strip()
    if filing.status != "filed":
        return {"action": "该报备已处理。"}
    if acknowledge and filing.party_reported_at is None:
        return {"action": "须先由社区登记“已报告社区党组织”，街道方可签收。"}
    if not acknowledge and not reason:
        return {"reason": "退回时必须填写理由。"}
    if len(reason) > 300:
        return {"reason": "理由不超过 300 个字。"}
    filing.status = "acknowledged" if acknowledge else "returned"
    filing.return_reason = "" if acknowledge else reason
    filing.decided_at, filing.decided_by_id = timeutil.now(), getattr(user, "id", None)
    db.session.flush()
    return {}


def filings_select(m, status: str | None = None, q: str = ""):
    stmt = (select(MatterFiling).where(policy.visible(m, MatterFiling))
            .options(joinedload(MatterFiling.compound)))
    if status in FILING_STATUSES:
        stmt = stmt.where(MatterFiling.status == status)
    if q:
        stmt = stmt.where(MatterFiling.title.contains(q))
    return stmt.order_by(MatterFiling.filed_at.desc(), MatterFiling.id.desc())


def todo_select(m):
    """Filings waiting for this membership: the street's to acknowledge (after the party
    report), the community's to note as reported. None for other roles."""
    if m.role == "street_staff":
        return filings_select(m, "filed").where(MatterFiling.party_reported_at.is_not(None))
    if m.role == "community_staff":
        return filings_select(m, "filed").where(MatterFiling.party_reported_at.is_(None))
    return None


def file_and_acknowledge(vote: OwnerVote, summary: str, at=None) -> MatterFiling:
    """The whole filing in one step, for the demo and for tests that open votes: filed, the
    party report noted and the street's acknowledgement, at `at` (default now)."""
    filing, problems = file_matter(vote, summary)
    assert not problems, problems
    at = at or timeutil.now()
    filing.filed_at = filing.party_reported_at = filing.decided_at = at
    filing.status = "acknowledged"
    db.session.flush()
    return filing
