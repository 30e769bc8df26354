"""compound.household_count: how many households each compound has, kept exact by the writes.

The household list showed its total by counting the district's households on every request
(300,000 at the size of a large district); it sums these counts of the compounds shown
instead. Households written through the ORM (the register's forms: new, moved to another
building's compound, deleted) are noted at flush and their compounds recounted just before
the commit; the bulk inserts (seed, import) call `refresh` themselves. A recount reads the
compound's households after locking the compound's row, so two writers cannot both store
what each saw.
"""
from __future__ import annotations

from itertools import chain

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..tenancy import current_tenant_id, tenant_scope
from .models import Compound, Household

_PENDING = "household_count_pending"  # session.info: {tenant_id: {compound_id}}


def refresh(compound_ids) -> None:
    ids = sorted({int(i) for i in compound_ids if i is not None})
    if not ids:
        return
    db.session.execute(select(Compound.id).where(Compound.id.in_(ids)).order_by(Compound.id).with_for_update())
    compound, household = Compound.__table__, Household.__table__
    db.session.execute(update(compound).where(compound.c.id.in_(ids), compound.c.tenant_id == current_tenant_id())
                       .values(household_count=select(func.count()).where(household.c.compound_id == compound.c.id)
                               .scalar_subquery()))


@event.listens_for(Session, "after_flush")
def _note_flushed(session, flush_context):
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Household):
            hist = inspect(obj).attrs.compound_id.history
            ids = set(hist.added or ()) | set(hist.deleted or ()) | {obj.compound_id}
            session.info.setdefault(_PENDING, {}).setdefault(obj.tenant_id, set()).update(ids)


@event.listens_for(Session, "before_commit")
def _refresh_pending(session):
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this event: its writes must be noted first
    for tid, ids in sorted(session.info.pop(_PENDING, {}).items()):
        with tenant_scope(tid):
            refresh(ids)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)
