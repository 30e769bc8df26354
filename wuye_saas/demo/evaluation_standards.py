"""The demo district's scoring standard: the ready default standard (default_standard.py)
adopted and put in force, so the evaluation demos can open their cycles on it (which freezes
it). One item is checked on site by the district's 第三方测评机构 instead of the community, as
districts that buy third-party inspection do, so the demo assessor has its part to play."""
from __future__ import annotations

from .. import audit
from ..evaluation import standards
from ..evaluation.standards import FIELDS, ItemData
from ..tenancy import tenant_scope


THIRD_PARTY_ITEM = "绿化养护"


def seed_standards(tenant_id: int) -> dict:
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        s = standards.adopt_default()
        item = next((i for i in s.items if i.name == THIRD_PARTY_ITEM), None)
        if item is not None:
            data = ItemData(**{k: getattr(item, k) for k in FIELDS})
            data.scorer = "assessor"
            standards.update_item(item, data)
        # The default adds up by construction; a problem here is a bug in the default data or
        # a missing indicator, and must stop the demo rather than leave a draft behind.
        standards.activate(s)
        return {"standards": 1, "standard_items": len(s.items)}
