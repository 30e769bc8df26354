"""信用档案 pages: staff records with evidence (Chinese refusals, nothing written), who sees which
file, the firm's objection within the window and the district's decision, the register of grades
and its filter, the 警示名单, the rule and kinds, the public credit page without personal data."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import func, select

from wuye_saas.credit import defaults
from wuye_saas.credit.models import CreditEvidence, CreditObjection, CreditRecord, CreditRecordKind, CreditRule
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import today

from .helpers import login, post
from .test_credit import _in, add, seeded, standing

BASE = "/d/alpha/credit"


def kind_id(app, ns, code):
    return _in(app, ns, lambda: db.session.execute(select(CreditRecordKind.id).where(
        CreditRecordKind.code == code)).scalar_one())


def count(app, ns, model):
    return _in(app, ns, lambda: db.session.execute(select(func.count()).select_from(model)).scalar())


def test_staff_record_with_evidence_and_refusals(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    login(client, "alpha-street")
    url = f"{BASE}/firms/{ns.firm1}/records/new"
    page = client.get(url).get_data(as_text=True)
    assert "受到通报批评" in page and "登记信用记录" in page
    k = str(kind_id(app, ns, "criticised"))
    d = today()
    for data, message in (
            ({"kind_id": "", "occurred_on": d.isoformat(), "evidence": "x"}, "请选择记录类型"),
            ({"kind_id": k, "occurred_on": d.isoformat(), "evidence": "  "}, "请填写事实与依据"),
            ({"kind_id": k, "occurred_on": (d + timedelta(days=1)).isoformat(), "evidence": "x"}, "发生日期不能晚于今天"),
            ({"kind_id": k, "occurred_on": (d - timedelta(days=365)).isoformat(), "evidence": "x"}, "已过期，无需登记"),
            ({"kind_id": k, "occurred_on": "", "evidence": "x"}, "请填写发生日期"),
            ({"kind_id": str(kind_id(app, ns, "eval_red")), "occurred_on": d.isoformat(), "evidence": "x"},
             "由发布的考核结果自动生成，不能手工登记")):
        resp = post(client, url, data)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), message
    resp = post(client, url, {"kind_id": k, "occurred_on": d.isoformat(), "evidence": "x",
                              "files": (io.BytesIO(b"not a pdf"), "通报.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "内容不是 PDF、JPG 或 PNG" in resp.get_data(as_text=True)
    assert count(app, ns, CreditRecord) == 0
    resp = post(client, url, {"kind_id": k, "occurred_on": (d - timedelta(days=3)).isoformat(),
                              "evidence": "区住建局 2026 第 3 号通报：消防通道堵塞未整改。",
                              "files": (io.BytesIO(b"%PDF-1.4 notice"), "通报.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    rec = _in(app, ns, lambda: db.session.execute(select(CreditRecord)).scalar_one().id)
    r = _in(app, ns, lambda: db.session.execute(select(
        CreditRecord.points, CreditRecord.valid_until, CreditRecord.source, CreditRecord.serious)).one())
    assert tuple(r) == (D("-3.00"), d - timedelta(days=3) + timedelta(days=365), "staff", False)
    ev_id = _in(app, ns, lambda: db.session.execute(select(CreditEvidence.id)).scalar_one())
    assert client.get(f"{BASE}/evidence/{ev_id}").data == b"%PDF-1.4 notice"
    page = client.get(f"{BASE}/records/{rec}").get_data(as_text=True)
    assert "消防通道堵塞未整改" in page and "通报.pdf" in page
    # Street staff do not revoke, and reach only the firms serving their street's compounds.
    assert "撤销此记录" not in page
    assert post(client, f"{BASE}/records/{rec}/revoke", {"reason": "x"}).status_code == 403
    assert client.get(f"{BASE}/firms/{ns.firm2}/records/new").status_code == 404
    assert client.get(f"{BASE}/firms/{ns.firm2}").status_code == 404


def test_the_firm_sees_only_its_own_file_and_objects_within_the_window(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    mine = add(app, ns, ns.firm1, "criticised", today() - timedelta(days=2))
    other = add(app, ns, ns.firm2, "criticised", today())
    login(client, "alpha-firm")
    page = client.get(f"{BASE}/").get_data(as_text=True)           # the menu's 我的信用档案
    assert "我的信用档案" in page and "77.00" in page and "受到通报批评" in page
    assert client.get(f"{BASE}/firms/{ns.firm1}").get_data(as_text=True).count("受到通报批评") == 1
    for url in (f"{BASE}/firms/{ns.firm2}", f"{BASE}/records/{other}", f"{BASE}/warning",
                f"{BASE}/firms/{ns.firm1}/records/new"):
        assert client.get(url).status_code in (403, 404), url
    assert post(client, f"{BASE}/records/{other}/objection", {"reason": "不是我们"}).status_code == 404
    page = client.get(f"{BASE}/records/{mine}").get_data(as_text=True)
    assert "提出异议" in page and "异议期至" in page
    resp = post(client, f"{BASE}/records/{mine}/objection", {"reason": ""})
    assert resp.status_code == 422 and "请填写异议理由" in resp.get_data(as_text=True)
    # The window (15 days after the record was written, inclusive) is over: refused, nothing written.
    with app.app_context(), tenant_scope(ns.tenant_id):
        written = db.session.get(CreditRecord, mine).created_at
        # A bulk update: the ORM refuses to edit a record (append-only), a test may backdate it.
        db.session.execute(db.update(CreditRecord).where(CreditRecord.id == mine)
                           .values(created_at=written - timedelta(days=16)))
        db.session.commit()
    resp = post(client, f"{BASE}/records/{mine}/objection", {"reason": "通报已撤回"})
    assert resp.status_code == 422 and "异议期已于" in resp.get_data(as_text=True)
    assert count(app, ns, CreditObjection) == 0


def test_objection_decided_by_the_district(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    rec = add(app, ns, ns.firm1, "court_judgment", today() - timedelta(days=1))
    login(client, "alpha-firm")
    assert post(client, f"{BASE}/records/{rec}/objection", {"reason": "判决已被撤销，附二审判决书。"}).status_code == 302
    resp = post(client, f"{BASE}/records/{rec}/objection", {"reason": "再次异议"})
    assert resp.status_code == 422 and "该记录已提出过异议" in resp.get_data(as_text=True)
    obj = _in(app, ns, lambda: db.session.execute(select(CreditObjection.id)).scalar_one())
    assert client.get(f"{BASE}/objections/{obj}").status_code == 200          # its own
    assert post(client, f"{BASE}/objections/{obj}/decide", {"outcome": "upheld", "decision": "x"}).status_code == 403
    client.post("/logout")
    login(client, "alpha-district")
    assert "判决已被撤销" in client.get(f"{BASE}/objections").get_data(as_text=True)
    resp = post(client, f"{BASE}/objections/{obj}/decide", {"outcome": "upheld", "decision": ""})
    assert resp.status_code == 422 and "请填写裁定理由" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/objections/{obj}/decide", {"decision": "x"})
    assert resp.status_code == 422 and "请选择裁定结果" in resp.get_data(as_text=True)
    assert str(standing(app, ns, ns.firm1, today()).score) == "75.00"
    resp = post(client, f"{BASE}/objections/{obj}/decide", {"outcome": "upheld", "decision": "二审改判，撤销该记录。"})
    assert resp.status_code == 302
    o = _in(app, ns, lambda: db.session.execute(select(CreditObjection.status, CreditObjection.decision)).one())
    assert tuple(o) == ("upheld", "二审改判，撤销该记录。")
    reason = _in(app, ns, lambda: db.session.get(CreditRecord, rec).revoke_reason)
    assert reason == "异议成立：二审改判，撤销该记录。"
    assert str(standing(app, ns, ns.firm1, today()).score) == "80.00"
    resp = post(client, f"{BASE}/objections/{obj}/decide", {"outcome": "rejected", "decision": "再议"})
    assert resp.status_code == 422 and "该异议已裁定" in resp.get_data(as_text=True)
    client.post("/logout")
    login(client, "alpha-firm")
    page = client.get(f"{BASE}/records/{rec}").get_data(as_text=True)
    assert "异议成立" in page and "二审改判" in page and "已撤销" in page


def test_register_of_grades_filter_and_warning_list(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    add(app, ns, ns.firm2, "fund_misuse", today())                    # serious: 黑名单, 60.00
    login(client, "alpha-district")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert page.index("甲区第1物业公司") < page.index("甲区第2物业公司")      # by score, highest first
    assert "黑名单" in page and "60.00" in page
    page = client.get(f"{BASE}/?grade=黑名单").get_data(as_text=True)
    assert "甲区第2物业公司" in page and "甲区第1物业公司" not in page
    page = client.get(f"{BASE}/?grade=AAA").get_data(as_text=True)
    assert "没有符合条件的企业" in page
    page = client.get(f"{BASE}/warning").get_data(as_text=True)
    assert "甲区第2物业公司" in page and "甲区第1物业公司" not in page
    # The committee sees the grade of the firm serving its compound, never the records.
    client.post("/logout")
    login(client, "alpha-committee")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "甲区第1物业公司" in page and "甲区第2物业公司" not in page and "查看档案" not in page
    assert client.get(f"{BASE}/firms/{ns.firm1}").status_code == 403
    assert client.get(f"{BASE}/warning").status_code == 403
    # … also beside the results of the firm serving its compound.
    card = client.get("/d/alpha/results/compound").get_data(as_text=True).split('data-testid="firm-credit"', 1)[1]
    card = card.split("</div>\n</div>", 1)[0]
    assert "甲区第1物业公司" in card and ">AA<" in card and "80.00" in card and "甲区第2物业公司" not in card


def test_rule_and_kinds_are_the_districts(app, world, client):
    ns = world["alpha"]
    login(client, "alpha-district")
    page = client.get(f"{BASE}/settings").get_data(as_text=True)
    assert "还没有信用记录类型" in page
    assert post(client, f"{BASE}/settings/defaults").status_code == 302
    assert count(app, ns, CreditRecordKind) == len(defaults.KINDS)
    assert post(client, f"{BASE}/settings/defaults").status_code == 302      # again: nothing added
    assert count(app, ns, CreditRecordKind) == len(defaults.KINDS)
    form = {"base_source": "fixed", "base_points": "75", "aaa": "85", "aa": "80", "a": "70", "b": "80",
            "objection_days": "10", "warning_bad_count": "2", "evaluation_kinds": ["quarterly"],
            "consequence_days": "365", "overdue_demands_threshold": "3"}
    resp = post(client, f"{BASE}/settings", form)
    assert resp.status_code == 422 and "依次递减" in resp.get_data(as_text=True)
    resp = post(client, f"{BASE}/settings", {**form, "b": "60"})
    assert resp.status_code == 302
    r = _in(app, ns, lambda: db.session.execute(select(
        CreditRule.base_source, CreditRule.base_points, CreditRule.objection_days, CreditRule.warning_bad_count,
        CreditRule.evaluation_kinds)).one())
    assert tuple(r) == ("fixed", D("75.00"), 10, 2, ["quarterly"])
    k = kind_id(app, ns, "criticised")
    resp = post(client, f"{BASE}/kinds/{k}", {"name": "受到通报批评", "points": "-2", "validity_days": "180"})
    assert resp.status_code == 422 and "分值应大于 0" in resp.get_data(as_text=True)
    rec = add(app, ns, ns.firm1, "criticised", today())                            # −3 for 365 days
    resp = post(client, f"{BASE}/kinds/{k}", {"name": "受到通报批评", "points": "2.5", "validity_days": "180",
                                              "active": "y"})
    assert resp.status_code == 302
    kk = _in(app, ns, lambda: (lambda x: (x.points, x.validity_days, x.serious, x.active))(db.session.get(CreditRecordKind, k)))
    assert kk == (D("2.50"), 180, False, True)
    # A record already written keeps its points and validity.
    r = _in(app, ns, lambda: (lambda x: (x.points, x.valid_until))(db.session.get(CreditRecord, rec)))
    assert r == (D("-3.00"), today() + timedelta(days=365))
    client.post("/logout")
    login(client, "alpha-street")
    assert client.get(f"{BASE}/settings").status_code == 403
    assert post(client, f"{BASE}/kinds/{k}", {"name": "x", "points": "1", "validity_days": "1"}).status_code == 403


def test_public_credit_page_shows_grades_and_records_without_personal_data(app, world, client):
    ns = world["alpha"]
    seeded(app, ns)
    login(client, "alpha-district")
    k = str(kind_id(app, ns, "honour_city"))
    post(client, f"{BASE}/firms/{ns.firm1}/records/new",
         {"kind_id": k, "occurred_on": today().isoformat(), "evidence": "市住建局表彰，联系人张三 13800000000"})
    revoked = add(app, ns, ns.firm2, "criticised", today())
    post(client, f"{BASE}/records/{revoked}/revoke", {"reason": "误登记，经办人李四"})
    client.post("/logout")
    page = client.get("/p/alpha/credit/").get_data(as_text=True)
    assert "甲区第1物业公司" in page and "获市级表彰" in page and "83.00" in page and "AAA" not in page
    assert "张三" not in page and "13800000000" not in page and "李四" not in page
    assert "受到通报批评" not in page                # revoked: not a public record
    assert "甲区district" not in page                # nobody who wrote it
    other = client.get("/p/beta/credit/").get_data(as_text=True)
    assert "甲区第1物业公司" not in other


def test_grade_in_the_firm_register_and_on_the_firms_landing_page(app, world, client):
    from wuye_saas.org import models as m

    from .test_queries import count_queries
    ns = world["alpha"]
    seeded(app, ns)
    add(app, ns, ns.firm2, "criticised", today())                      # 77.00 → A
    login(client, "alpha-district")
    with count_queries(app) as few:
        page = client.get("/d/alpha/firms/").get_data(as_text=True)
    assert "信用等级" in page
    row2 = page.split("甲区第2物业公司", 1)[1].split("</tr>", 1)[0]
    assert ">A<" in row2 or "A</td>" in row2
    detail = client.get(f"/d/alpha/firms/{ns.firm2}").get_data(as_text=True)
    assert "A（77.00 分）" in detail

    def more():
        from wuye_saas.credit import records
        k = db.session.execute(select(CreditRecordKind).where(CreditRecordKind.code == "honour_city")).scalar_one()
        for i in range(12):
            f = m.Firm(name=f"加测物业{i}", credit_code=f"91140400MA0{i:06d}X"[:18], party_status="无")
            db.session.add(f)
            db.session.flush()
            records._new_record(f.id, k, today(), k.name, "staff", "x", None)
    _in(app, ns, more)
    with count_queries(app) as many:
        page = client.get("/d/alpha/firms/").get_data(as_text=True)
    assert "加测物业0" in page
    assert len(many) == len(few), f"{len(few)} statements with 2 firms, {len(many)} with 14"
    client.post("/logout")
    login(client, "alpha-firm")
    page = client.get("/d/alpha/").get_data(as_text=True)
    card = page.split('data-testid="credit-card"', 1)[1].split("</section>", 1)[0]
    assert "AA" in card and "80.00" in card                            # firm 1: base 80, no records


def test_register_of_grades_is_paginated(app, world, client):
    from wuye_saas.org import models as m
    ns = world["alpha"]
    seeded(app, ns)

    def more():
        for i in range(22):
            db.session.add(m.Firm(name=f"分页物业{i:02d}", credit_code=f"91140400MB0{i:06d}X"[:18], party_status="无"))
    _in(app, ns, more)
    login(client, "alpha-district")
    one = client.get(f"{BASE}/").get_data(as_text=True)
    two = client.get(f"{BASE}/?page=2").get_data(as_text=True)
    assert one.count("data-firm=") == 20 and two.count("data-firm=") == 4
    assert "共 24 家，第 1/2 页" in one and "共 24 家，第 2/2 页" in two
    # Equal scores (80.00): by name, so the pages do not overlap.
    first, second = (set(re.findall(r"分页物业\d\d|甲区第\d物业公司", html)) for html in (one, two))
    assert not first & second and len(first | second) == 24
