"""Publishing from templates, the 'statement vs ledger' re-check, and the lists of publications
(staff pages and the public board). Plain functions: they flush, the view commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from .. import audit, policy
from ..extensions import db
from ..money import fmt_yuan
from ..org.models import Compound
from . import chain, ledger, subaccounts
from .accounts import current_contract, keeps, kinds_for
from .models import LEDGER_KINDS, Objection, Publication
from .templates_content import COMMITTEE_TEMPLATES, REMUNERATED_TEMPLATES


def may_publish(m, compound_id: int, template: str, kind: str | None, today: date) -> bool:
    """Standing notice and 943 disclosures: the firm serving the compound now. A ledger
    statement: whoever keeps that ledger (the district's LedgerKeeper rule)."""
    if not policy.can(m, "write", "publish"):
        return False
    if template == "ledger_statement":
        return kind in kinds_for(compound_id, today) and keeps(m, compound_id, kind)
    if template in ("standing_notice", "disclosure") and m.role in policy.FIRM_ROLES:
        c = current_contract(compound_id, today)
        return c is not None and c.firm_id == m.firm_id
    if template in COMMITTEE_TEMPLATES:
        return m.active and m.role == "committee_member" and m.compound_id == compound_id
    if template in REMUNERATED_TEMPLATES and m.role in policy.FIRM_ROLES:
        # 酬金制: the firm of the current contract reports the owners' money it manages.
        c = current_contract(compound_id, today)
        return c is not None and c.fee_mode == "酬金制" and c.firm_id == m.firm_id
    return False


def publishable(m, today: date) -> list[tuple[Compound, str, str | None]]:
    """(compound, template, ledger kind) the membership may publish, for the chooser."""
    if not policy.can(m, "write", "publish"):
        return []
    out = []
    for c in db.session.execute(select(Compound).where(policy.visible(m, Compound))
                                .order_by(Compound.name)).scalars():
        for t in ("standing_notice", "disclosure", *REMUNERATED_TEMPLATES, *COMMITTEE_TEMPLATES):
            if may_publish(m, c.id, t, None, today):
                out.append((c, t, None))
        out += [(c, "ledger_statement", k) for k in kinds_for(c.id, today)
                if may_publish(m, c.id, "ledger_statement", k, today)]
    return out


def publish(compound: Compound, template: str, content: dict, title: str, *, user=None,
            start: date | None = None, end: date | None = None, at: datetime | None = None,
            publisher: str | None = None) -> Publication:
    """Append to the compound's chain and audit it (Publication itself is not ORM-audited)."""
    p = chain.publish(compound.id, template, title, content, user=user, period_start=start, period_end=end,
                      at=at, publisher=publisher)
    audit.record_event("create", "publication", title, entity_id=p.id,
                       changes={"seq": p.seq, "content_hash": p.content_hash, "key_id": p.key_id})
    return p


@dataclass
class Recheck:
    applicable: bool                     # the publication carries ledger figures
    diffs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diffs


FIGURES = {"opening": "期初余额", "income": "本期收入合计", "spending": "本期支出合计", "closing": "期末余额"}


def recheck(p: Publication) -> Recheck:
    """Compare the ledger figures a publication snapshotted with the ledger as it is now. The
    chain proves the snapshot was not changed; this shows whether the ledger behind it was."""
    snaps = (p.content or {}).get("statements") or []
    out = Recheck(bool(snaps))
    _recheck_subaccounts(p, out)
    for s in snaps:
        try:
            start, end = date.fromisoformat(s["start"]), date.fromisoformat(s["end"])
            now = ledger.statement(p.compound_id, s["kind"], start, end)
        except (KeyError, TypeError, ValueError):
            out.diffs.append("公示中的账目数据格式不正确")
            continue
        name = LEDGER_KINDS.get(s["kind"], s["kind"])
        for key, label in FIGURES.items():
            if s.get(key) != getattr(now, key):
                out.diffs.append(f"{name}{label}：公示 {fmt_yuan(s.get(key))}，账目现为 {fmt_yuan(getattr(now, key))}")
        published = {c: (i, sp) for c, i, sp in s.get("by_category", [])}
        current = {c: (i, sp) for c, i, sp in now.by_category}
        for c in sorted(set(published) | set(current)):
            if published.get(c, (0, 0)) != current.get(c, (0, 0)):
                a, b = published.get(c, (0, 0)), current.get(c, (0, 0))
                out.diffs.append(f"{name}“{c}”：公示 收入 {fmt_yuan(a[0])} 支出 {fmt_yuan(a[1])}，"
                                 f"账目现为 收入 {fmt_yuan(b[0])} 支出 {fmt_yuan(b[1])}")
    return out


def _recheck_subaccounts(p: Publication, out: Recheck) -> None:
    """The household sub-accounts' total as published against the sub-accounts now."""
    sub = (p.content or {}).get("subaccounts")
    if not isinstance(sub, dict) or not p.period_start or not p.period_end:
        return
    now = subaccounts.total(p.compound_id, p.period_end)
    if sub.get("total") != now:
        out.diffs.append(f"分户账合计：公示 {fmt_yuan(sub.get('total'))}，分户账现为 {fmt_yuan(now)}")


# --- lists ----------------------------------------------------------------------------------

def publications_query(m, compound_id: int | None = None, kind: str | None = None, q: str = ""):
    stmt = (select(Publication).where(policy.visible(m, Publication))
            .order_by(Publication.published_at.desc(), Publication.id.desc()))
    if compound_id:
        stmt = stmt.where(Publication.compound_id == compound_id)
    if kind:
        stmt = stmt.where(Publication.kind == kind)
    if q.strip():
        stmt = stmt.where(Publication.title.contains(q.strip()))
    return stmt


def public_compounds_query(q: str = ""):
    """Every compound of the district (the tenant filter applies), for residents to find theirs;
    the most recently published first, then the rest by name."""
    latest = (select(Publication.compound_id, func.max(Publication.published_at).label("at"))
              .group_by(Publication.compound_id).subquery())
    stmt = (select(Compound).outerjoin(latest, latest.c.compound_id == Compound.id)
            .order_by(latest.c.at.is_(None), latest.c.at.desc(), Compound.name, Compound.id))
    if q.strip():
        stmt = stmt.where(Compound.name.contains(q.strip()) | Compound.address.contains(q.strip()))
    return stmt


def publication_counts(compound_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(select(Publication.compound_id, func.count(Publication.id))
                                   .where(Publication.compound_id.in_(compound_ids))
                                   .group_by(Publication.compound_id)).all())


def compound_or_none(compound_id: int) -> Compound | None:
    return db.session.execute(select(Compound).where(Compound.id == compound_id)).scalar_one_or_none()


def board_query(compound_id: int):
    return (select(Publication).where(Publication.compound_id == compound_id)
            .order_by(Publication.seq.desc()))


def by_seq(compound_id: int, seq: int) -> Publication | None:
    return db.session.execute(select(Publication).where(
        Publication.compound_id == compound_id, Publication.seq == seq)).scalar_one_or_none()


def objections_of(publication_ids: list[int]) -> dict[int, list[Objection]]:
    out: dict[int, list[Objection]] = {}
    for o in db.session.execute(select(Objection).where(Objection.publication_id.in_(publication_ids))
                                .order_by(Objection.asked_at, Objection.id)).scalars():
        out.setdefault(o.publication_id, []).append(o)
    return out
