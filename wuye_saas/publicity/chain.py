"""The publication hash chain: canonical form, its SHA-256, the district's signature of each
chain head, and verification.

Canonical form: JSON with sorted keys, no insignificant white space, UTF-8, non-ASCII kept
as is (`ensure_ascii=False`). Its version is stored per row (`hash_version`):
- v1 (rows published before signing): compound, sequence number, kind, title, period, the
  previous hash and the content. Not covered: the publication time and the publisher.
- v2: all of v1, plus `"v": 2`, the publication time (UTC, to the second) and the publisher as
  shown — every field a public page shows or the product computes from (on-time rates use the
  time). Each v2 row is signed (keys.py): the signature covers the district, compound,
  sequence number and this hash, i.e. the chain head at that point, and so everything before.

Rules of a sound chain: sequence numbers 1, 2, 3 … without gaps; each row links to its
predecessor's hash and its own hash recomputes; every v2 row carries a valid signature by a
trusted key; no v1 row after a v2 row (new rows are always v2).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from .. import events
from ..extensions import db
from ..tenancy import Tenant, current_tenant_id
from ..timeutil import now
from . import keys
from .models import Publication

HASH_VERSION = 2


def canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode("utf-8")


def envelope(p: Publication) -> dict:
    """What the hash of a publication covers, by its canonical form's version."""
    out = {"compound_id": p.compound_id, "seq": p.seq, "kind": p.kind, "title": p.title,
           "period_start": p.period_start.isoformat() if p.period_start else None,
           "period_end": p.period_end.isoformat() if p.period_end else None,
           "prev_hash": p.prev_hash, "content": p.content}
    if p.hash_version >= 2:
        out.update(v=p.hash_version, publisher=p.publisher,
                   published_at=p.published_at.isoformat(timespec="seconds") + "Z")
    return out


def digest(p: Publication) -> str:
    """The SHA-256 a publication must carry, computed from what is stored now."""
    return hashlib.sha256(canonical(envelope(p))).hexdigest()


def district_slug() -> str:
    return db.session.get(Tenant, current_tenant_id()).slug


def publish(compound_id: int, kind: str, title: str, content: dict, *, user=None,
            period_start: date | None = None, period_end: date | None = None,
            at: datetime | None = None, publisher: str | None = None) -> Publication:
    """Append a signed v2 publication to the compound's chain (flushes; the caller commits).
    Content is stored in its canonical JSON round-trip, so what is hashed is what is kept.
    `publisher` defaults to the user's name; `at` (naive UTC) to now — the demo's history
    passes both. Raises keys.NoSigningKey, before anything is added, without a key."""
    last = db.session.execute(select(Publication).where(Publication.compound_id == compound_id)
                              .order_by(Publication.seq.desc()).limit(1)).scalar_one_or_none()
    if publisher is None:
        publisher = getattr(user, "display_name", "") or ""
    p = Publication(compound_id=compound_id, seq=(last.seq + 1) if last else 1, kind=kind, title=title,
                    period_start=period_start, period_end=period_end,
                    content=json.loads(canonical(content)), prev_hash=last.content_hash if last else "",
                    user_id=getattr(user, "id", None), publisher=publisher,
                    published_at=(at or now()).replace(microsecond=0), hash_version=HASH_VERSION)
    p.content_hash = digest(p)
    p.key_id, p.signature = keys.sign(district_slug(), compound_id, p.seq, p.content_hash)
    db.session.add(p)
    db.session.flush()
    events.emit("publication.issued", "publication", p.id, compound_id=compound_id,
                data={"kind": kind, "seq": p.seq, "title": title})
    return p


@dataclass(frozen=True)
class Verdict:
    """The chain of a compound as far as one publication (`upto`), read from its first row."""
    status: str                 # intact | broken | unverifiable (a key not among the trusted ones)
    broken_seq: int | None      # the first publication of the chain that does not verify
    reason: str
    checked: int
    key_id: str | None = None   # the key of the signature that vouches for it (its own or a later one's)
    key: keys.PublicKey | None = None
    signed_seq: int | None = None   # the publication whose signature that is
    legacy: bool = False        # hashed as v1: its time and publisher are outside the hash

    @property
    def intact(self) -> bool:
        return self.status == "intact"


def _problem(p: Publication, expected_seq: int, prev: str, seen_v2: bool, slug: str,
             trusted: dict) -> tuple[str, str, keys.SignatureCheck | None]:
    """(status, reason, signature check) of the first rule this row breaks, or ("ok", "", the
    signature check of a v2 row)."""
    if p.seq != expected_seq:
        return "broken", f"第 {expected_seq} 号公示缺失", None
    if p.prev_hash != prev:
        return "broken", f"第 {p.seq} 号公示与前一份公示的链接不符", None
    if p.hash_version not in (1, HASH_VERSION):
        return "broken", f"第 {p.seq} 号公示的指纹版本未知", None
    if digest(p) != p.content_hash:
        return "broken", f"第 {p.seq} 号公示在发布后被改动，与其指纹不符", None
    if p.hash_version == 1:
        if seen_v2 or p.signature:
            return "broken", f"第 {p.seq} 号是未签名的旧版公示，却排在已签名的公示之后", None
        return "ok", "", None
    sig = keys.check(slug, p.compound_id, p.seq, p.content_hash, p.key_id, p.signature, p.published_at, trusted)
    if sig.status == "missing":
        return "broken", f"第 {p.seq} 号公示没有本区密钥的签名", sig
    if sig.status == "unknown_key":
        return ("unverifiable", f"第 {p.seq} 号公示的签名无法验证：签名密钥 {p.key_id} 不在本区公布的可信公钥中"
                "（可能是伪造的签名，也可能是服务器缺少该公钥文件）", sig)
    if sig.status == "retired":
        return "broken", f"第 {p.seq} 号公示由已停用的密钥 {p.key_id} 在停用后签名", sig
    if sig.status == "invalid":
        return "broken", f"第 {p.seq} 号公示的签名无效", sig
    return "ok", "", sig


def verify(compound_id: int, upto_seq: int | None = None) -> Verdict:
    """Check the compound's chain from its first publication; the verdict is about the
    publications up to `upto_seq` (all when None). Later rows are read only to find the
    signature that vouches for an unsigned v1 publication."""
    rows = db.session.execute(select(Publication).where(Publication.compound_id == compound_id)
                              .order_by(Publication.seq)).scalars().all()
    slug = district_slug()
    trusted = keys.trusted(slug)
    target = upto_seq if upto_seq is not None else (rows[-1].seq if rows else 0)
    prev, expected, seen_v2, checked, legacy = "", 1, False, 0, False
    for p in rows:
        status, reason, sig = _problem(p, expected, prev, seen_v2, slug, trusted)
        if status != "ok":
            if expected > target:
                break    # a fault after the publication asked about vouches for nothing
            return Verdict(status, expected, reason, checked + 1, key_id=p.key_id if sig else None)
        if p.seq <= target:
            checked += 1
            legacy = p.hash_version == 1
        if p.hash_version >= 2:
            seen_v2 = True
            if p.seq >= target:
                key = sig.key
                reason = ("内容及其之前的公示链完整，未被改动" if legacy else
                          "公示内容、发布时间、发布人及其之前的公示链完整，未被改动")
                return Verdict("intact", None, reason, checked, key.key_id, key, p.seq, legacy)
        prev, expected = p.content_hash, expected + 1
    return Verdict("intact", None, "内容及其之前的公示链完整，未被改动", checked, legacy=legacy)


@dataclass(frozen=True)
class HeadCheck:
    """A chain head as printed on a notice (sequence number, hash, signature) against the
    chain as it is now."""
    signature: keys.SignatureCheck
    status: str                  # held | missing | different | broken | forged
    verdict: Verdict | None = None
    row: Publication | None = None
    last: int = 0                # the compound's last sequence number now (0: none)


def check_head(compound_id: int, seq: int, head: str, signature: str, key_id: str | None = None) -> HeadCheck:
    """First whether the district signed this head (else the notice proves nothing), then
    whether the chain still holds it: the row there, with that hash, in a sound chain."""
    sig = keys.check(district_slug(), compound_id, seq, head, key_id or None, signature)
    if not sig.valid:
        return HeadCheck(sig, "forged")
    last = db.session.execute(select(db.func.max(Publication.seq))
                              .where(Publication.compound_id == compound_id)).scalar_one() or 0
    row = db.session.execute(select(Publication).where(Publication.compound_id == compound_id,
                                                       Publication.seq == seq)).scalar_one_or_none()
    if row is None:
        return HeadCheck(sig, "missing", last=last)
    if row.content_hash != head:
        return HeadCheck(sig, "different", row=row, last=last)
    verdict = verify(compound_id, upto_seq=seq)
    return HeadCheck(sig, "held" if verdict.intact else "broken", verdict, row, last)
