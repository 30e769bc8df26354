"""The publication hash chain: canonical content, its SHA-256, and verification.

Canonical form: JSON with sorted keys, no insignificant white space, UTF-8, non-ASCII kept
as is (`ensure_ascii=False`). The hash covers the content together with the publication's
identity in the chain (compound, sequence number, kind, title, period) and the previous
publication's hash, so moving, retitling or re-ordering a publication breaks the chain too.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from .models import Publication


def canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode("utf-8")


def digest(p: Publication) -> str:
    """The SHA-256 a publication must carry, computed from what is stored now."""
    envelope = {"compound_id": p.compound_id, "seq": p.seq, "kind": p.kind, "title": p.title,
                "period_start": p.period_start.isoformat() if p.period_start else None,
                "period_end": p.period_end.isoformat() if p.period_end else None,
                "prev_hash": p.prev_hash, "content": p.content}
    return hashlib.sha256(canonical(envelope)).hexdigest()


def publish(compound_id: int, kind: str, title: str, content: dict, *, user=None,
            period_start: date | None = None, period_end: date | None = None) -> Publication:
    """Append a publication to the compound's chain (flushes; the caller commits).
    Content is stored in its canonical JSON round-trip, so what is hashed is what is kept."""
    last = db.session.execute(select(Publication).where(Publication.compound_id == compound_id)
                              .order_by(Publication.seq.desc()).limit(1)).scalar_one_or_none()
    p = Publication(compound_id=compound_id, seq=(last.seq + 1) if last else 1, kind=kind, title=title,
                    period_start=period_start, period_end=period_end,
                    content=json.loads(canonical(content)), prev_hash=last.content_hash if last else "",
                    user_id=getattr(user, "id", None), publisher=getattr(user, "display_name", "") or "")
    p.content_hash = digest(p)
    db.session.add(p)
    db.session.flush()
    return p


@dataclass(frozen=True)
class Verdict:
    intact: bool
    broken_seq: int | None      # the first publication of the chain that does not verify
    reason: str
    checked: int


def verify(compound_id: int, upto_seq: int | None = None) -> Verdict:
    """Recompute the chain of a compound from its first publication (up to `upto_seq`)."""
    stmt = select(Publication).where(Publication.compound_id == compound_id).order_by(Publication.seq)
    if upto_seq is not None:
        stmt = stmt.where(Publication.seq <= upto_seq)
    prev, expected_seq, n = "", 1, 0
    for p in db.session.execute(stmt).scalars():
        n += 1
        if p.seq != expected_seq:
            return Verdict(False, p.seq, f"第 {expected_seq} 号公示缺失", n)
        if p.prev_hash != prev:
            return Verdict(False, p.seq, f"第 {p.seq} 号公示与前一份公示的链接不符", n)
        if digest(p) != p.content_hash:
            return Verdict(False, p.seq, f"第 {p.seq} 号公示的内容已被改动", n)
        prev, expected_seq = p.content_hash, expected_seq + 1
    return Verdict(True, None, "公示内容及其之前的公示链完整，未被改动", n)

