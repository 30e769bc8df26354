"""The demo district's scoring standard: the ready default standard (default_standard.py)
adopted and put in force, so the evaluation demos can open their cycles on it (which freezes
it)."""
from __future__ import annotations

from .. import audit
from ..evaluation import standards
from ..tenancy import tenant_scope


def seed_standards(tenant_id: int) -> dict:
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        s = standards.adopt_default()
        # The default adds up by construction; a problem here is a bug in the default data or
        # a missing indicator, and must stop the demo rather than leave a draft behind.
        standards.activate(s)
        return {"standards": 1, "standard_items": len(s.items)}
