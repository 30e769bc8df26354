"""The residents' bill lookup (/p/<slug>/bill): no login, a household code, nothing else."""
from __future__ import annotations

import re
from datetime import date

from wuye_saas.extensions import db
from wuye_saas.tenancy import Tenant, system_scope

from .helpers import csrf_token
from .test_payments import add_credit, add_household, add_payment, make_bills


def _world(app, a):
    other = add_household(app, a, 1, "909", owner="欧阳娜娜", code="ALOTHER9")
    months = [date(2025, m, 1) for m in range(1, 13)] + [date(2026, 1, 1)]
    ids = make_bills(app, a, [(a.household1, 1, mo, 300, 200, 1000 + i) for i, mo in enumerate(months)]
                     + [(other, 1, date(2026, 1, 1), 0, 0, 77777)])
    add_payment(app, a, ids[-2], 600, "PUB-1")     # Jan 2026: 1012 due, 600 paid
    add_credit(app, a, ids[-3], resident=11)        # Dec 2025: 1011 − 11 = 1000 due
    add_payment(app, a, ids[-3], 1000, "PUB-2")
    return other


def test_lookup_shows_the_households_last_12_bills_and_nothing_else(app, client, world):
    a = world["alpha"]
    _world(app, a)
    resp = client.get("/p/alpha/bill?code=al1code1")  # codes are matched case-insensitively
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "甲区1号小区 · 1号楼 101" in html and "业主 张*" in html and "张三" not in html
    months = re.findall(r'data-month="([\d-]+)"', html)
    assert months[0] == "2026-01" and months[-1] == "2025-02" and len(months) == 12
    jan = html[html.index('data-month="2026-01"'):html.index('data-month="2025-12"')]
    assert "待缴 ¥4.12" in jan and "政府补贴 ¥3.00" in jan and "企业让利 ¥2.00" in jan
    assert "居民应缴 ¥10.12" in jan and "已缴 ¥6.00" in jan
    dec = html[html.index('data-month="2025-12"'):html.index('data-month="2025-11"')]
    assert "已缴清" in dec and "居民应缴 ¥10.00" in dec
    assert "¥777.77" not in html and "欧阳" not in html  # another household's bill


def test_post_with_csrf_and_masking(app, client, world):
    a = world["alpha"]
    _world(app, a)
    resp = client.post("/p/alpha/bill", data={"code": "ALOTHER9", "csrf_token": csrf_token(client)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "业主 欧***" in html and "待缴 ¥777.77" in html
    assert "¥10.12" not in html
    assert client.post("/p/alpha/bill", data={"code": "ALOTHER9"}).status_code == 400  # no token


def test_wrong_code_and_another_districts_code_are_not_found(app, client, world):
    a, b = world["alpha"], world["beta"]
    _world(app, a)
    for code in ("NOPE", "BE1CODE1"):   # BE1CODE1 is beta's household
        resp = client.get(f"/p/alpha/bill?code={code}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 404 and "未找到该户码" in html and "data-month" not in html
    # Under beta's own slug, beta's code works (and shows none of alpha's bills).
    html = client.get("/p/beta/bill?code=BE1CODE1").get_data(as_text=True)
    assert "乙区1号小区" in html and "data-month" not in html and "暂无账单" in html
    assert client.get(f"/p/beta/bill?code=AL1CODE1").status_code == 404


def test_empty_form_and_unknown_or_suspended_district(app, client, world):
    assert client.get("/p/alpha/bill").status_code == 200
    resp = client.get("/p/alpha/bill?code=")
    assert resp.status_code == 422 and "请输入户码" in resp.get_data(as_text=True)
    assert client.get("/p/nowhere/bill").status_code == 404
    with app.app_context(), system_scope():
        db.session.execute(db.update(Tenant).where(Tenant.slug == "beta").values(active=False))
        db.session.commit()
    assert client.get("/p/beta/bill?code=BE1CODE1").status_code == 404


def test_lookups_are_rate_limited_per_address(app, client, world):
    a = world["alpha"]
    _world(app, a)
    for _ in range(20):
        assert client.get("/p/alpha/bill?code=WRONG").status_code == 404
    resp = client.get("/p/alpha/bill?code=AL1CODE1")
    assert resp.status_code == 429 and "同一网络每 10 分钟最多 20 次" in resp.get_data(as_text=True)
    assert "data-month" not in resp.get_data(as_text=True)
    other = app.test_client()
    resp = other.get("/p/alpha/bill?code=AL1CODE1", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 200 and "data-month" in resp.get_data(as_text=True)
