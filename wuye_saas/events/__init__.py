"""Domain events: what happened in a district that someone outside the page may wait for.

`emit` writes a DomainEvent row in the same transaction as the change it reports and calls the
registered handlers there too (notifications, webhooks). Handlers only write rows — inbox items,
outbox messages, webhook deliveries — which the job queue sends after the commit. So a change
that is rolled back tells nobody, and a committed one cannot lose its messages (a transactional
outbox). A handler must not commit.

The kinds are an interface: API clients subscribe to them by these names.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from ..timeutil import now

KINDS = {
    "demand.submitted": "诉求受理",
    "demand.dispatched": "诉求派单",
    "demand.accepted": "诉求接单",
    "demand.resolved": "诉求办结",
    "demand.visited": "诉求回访",
    "demand.reopened": "诉求退回重办",
    "demand.closed": "诉求关闭",
    "demand.escalated": "诉求逾期升级",
    "demand.supervised": "诉求督办",
    "evaluation.published": "考核结果发布",
    "publication.issued": "公示发布",
    "objection.raised": "公示质询",
    "vote.opened": "业主表决开始",
    "credit.recorded": "信用记录登记",
    "credit.objected": "信用记录异议",
    "evaluation.assigned": "第三方测评指派",
}


class DomainEvent(TenantScoped, db.Model):
    """One thing that happened: its kind, the record it is about and a few plain values."""

    __tablename__ = "domain_event"
    __audit__ = False   # derived from an audited change, written with it
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(30))       # "demand", "evaluation", …
    subject_id: Mapped[int]
    compound_id: Mapped[int | None]
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (Index("ix_domain_event_subject", "subject", "subject_id"),)

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)


_HANDLERS: list[Callable[[DomainEvent], None]] = []


def handler(fn: Callable[[DomainEvent], None]) -> Callable[[DomainEvent], None]:
    """Register fn to be called with every emitted event, inside the emitting transaction."""
    _HANDLERS.append(fn)
    return fn


def emit(kind: str, subject: str, subject_id: int, *, compound_id: int | None = None,
         data: dict | None = None, at: datetime | None = None) -> DomainEvent:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    ev = DomainEvent(kind=kind, subject=subject, subject_id=subject_id, compound_id=compound_id,
                     data=data or {}, at=at or now())
    db.session.add(ev)
    db.session.flush()
    for fn in _HANDLERS:
        fn(ev)
    return ev
