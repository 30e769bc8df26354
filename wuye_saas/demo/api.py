"""The demo district's API client: the city's 12345 platform, with a couple of work orders
taken in through the JSON API itself (channel 12345), as the platform would send them."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..api import logic
from ..api.models import ApiClient
from ..extensions import db
from ..org.models import Household
from ..tenancy import Tenant, tenant_scope

NAME = "12345 市民热线平台"
SCOPES = ["demands:write", "demands:read", "register:read", "indicators:read"]
# Work orders as the 12345 platform words them (its numbers, the caller's words).
ORDERS = [
    {"work_order_no": "CZ12345-20261206-00318", "category": "维修", "urgency": "urgent",
     "title": "单元楼道水管渗水", "contact_name": "郭女士", "contact_phone": "13835501862",
     "description": "市民来电反映：3 单元 2 楼楼道水管接口渗水，地面湿滑，老人出行不便，请尽快派人维修。"},
    {"work_order_no": "CZ12345-20261206-00342", "category": "环境卫生", "urgency": "normal",
     "title": "小区垃圾清运不及时", "contact_name": "牛先生", "contact_phone": "13903556217",
     "description": "市民来电反映：小区东门垃圾桶连续两天未清运，气味较大，希望物业按时清运。"},
]


def seed_api(tenant_id: int, demo_compound_id: int) -> tuple[dict, str]:
    """The client (its token returned, to be printed once) and its work orders, posted through
    the API. Call after the demand categories exist and everything before is committed."""
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        if db.session.execute(select(ApiClient.id).where(ApiClient.name == NAME)).first():
            return {}, ""
        client, token = logic.create(NAME, SCOPES, None, logic.RATE_DEFAULT, None)
        code = db.session.execute(select(Household.household_code).where(
            Household.compound_id == demo_compound_id).order_by(Household.id).limit(1)).scalar()
        slug = db.session.get(Tenant, tenant_id).slug
        db.session.commit()
    web = current_app.test_client()
    taken = 0
    for i, order in enumerate(ORDERS):
        body = {**order, "compound_id": demo_compound_id, "household_code": code if i == 0 and code else ""}
        resp = web.post(f"/api/v1/{slug}/demands", json=body, headers={"Authorization": f"Bearer {token}"})
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"演示工单转入失败：{resp.get_json()}")
        taken += resp.status_code == 201
    return {"api_clients": 1, "api_demands": taken}, token
