"""The audit trail records what a value was before a change, also when the record was read in
an earlier transaction (after a commit SQLAlchemy forgets loaded values until they are used)."""
from __future__ import annotations

from sqlalchemy import select

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope


def test_an_edit_after_a_commit_records_the_old_value(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        street = db.session.execute(select(m.Street).order_by(m.Street.id)).scalars().first()
        old = street.name
        db.session.commit()             # every loaded value of `street` is expired now
        street.name = "改名后的街道"
        db.session.commit()
        ev = db.session.execute(select(AuditEvent).where(
            AuditEvent.entity == "street", AuditEvent.action == "update",
            AuditEvent.entity_id == street.id)).scalars().one()
        assert ev.changes == {"name": {"before": old, "after": "改名后的街道"}}
