"""Publications from templates, the hash chain and its verify page, the statement-vs-ledger
re-check, the public board and the A4 notice."""
from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from decimal import Decimal

import pytest
import segno
from sqlalchemy import select, text

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.fees.models import FeeAssignment, FeePolicy, FeePolicyGrade
from wuye_saas.publicity import chain, keys, ledger, publications
from wuye_saas.publicity.models import Objection, Publication
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post

ELEVEN = ["企业名称", "收费对象", "服务内容", "服务标准", "计费方式", "计费起始时间", "收费项目", "收费标准",
          "价格管理形式", "收费依据", "价格举报电话"]


def _new(compound_id, template, **extra):
    q = "&".join(f"{k}={v}" for k, v in extra.items())
    return f"/d/alpha/publications/new?compound_id={compound_id}&template={template}" + (f"&{q}" if q else "")


def _pubs(app, world, compound=None):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        stmt = select(Publication).order_by(Publication.id)
        if compound:
            stmt = stmt.where(Publication.compound_id == compound)
        return [{"id": p.id, "seq": p.seq, "kind": p.kind, "title": p.title, "content": p.content,
                 "publisher": p.publisher} for p in db.session.execute(stmt).scalars()]


def _lines(pub):
    return {ln["key"]: ln["value"] for ln in pub["content"]["lines"]}


STANDING = {"payer": "本小区全体业主", "service_content": "公共区域清洁、秩序维护、绿化养护", "items": "物业服务费",
            "basis_text": "物业服务合同"}


def test_standing_notice_has_the_eleven_items(app, client, world):
    a = world["alpha"]
    login(client, "alpha-firm")
    preview = client.get(_new(a.compound1, "standing_notice")).get_data(as_text=True)
    assert "12358" in preview and "确认发布" in preview
    resp = post(client, _new(a.compound1, "standing_notice"), STANDING)
    assert resp.status_code == 302
    (pub,) = _pubs(app, world)
    assert [ln["key"] for ln in pub["content"]["lines"]] == ELEVEN + ["执行日期"]
    lines = _lines(pub)
    assert lines["企业名称"] == "甲区第1物业公司"
    assert lines["收费标准"] == "0.85 元/㎡·月"
    assert lines["价格管理形式"] == "市场调节价"
    assert lines["价格举报电话"] == "12358"
    assert lines["计费起始时间"] == "2024年01月01日"
    assert lines["服务标准"] == "物业服务合同约定的二级物业服务标准"
    assert lines["服务内容"] == STANDING["service_content"]
    assert "包干制" in lines["计费方式"]
    assert (pub["seq"], pub["kind"], pub["title"]) == (1, "standing_notice", "甲区1号小区物业服务收费公示")
    with app.app_context(), tenant_scope(a.tenant_id):
        ev = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "publication")).scalar_one()
        assert (ev.action, ev.entity_id, ev.label) == ("create", pub["id"], pub["title"])
    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.get(Publication, pub["id"])
        assert p.content_hash in detail and p.prev_hash == ""


def test_standing_notice_under_guided_price(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        fp = FeePolicy(name="指导价政策", valid_from=date(2024, 1, 1), status="active", price_regime="政府指导价",
                       grades=[FeePolicyGrade(grade="二级", rate=Decimal("0.80"), float_percent=Decimal("10"))])
        db.session.add(fp)
        db.session.flush()
        fp.family_id = fp.id
        db.session.add(FeeAssignment(compound_id=a.compound1, family_id=fp.id, valid_from=date(2024, 1, 1)))
        db.session.commit()
    login(client, "alpha-firm")
    assert post(client, _new(a.compound1, "standing_notice"), STANDING).status_code == 302
    (pub,) = _pubs(app, world)
    lines = _lines(pub)
    assert [ln["key"] for ln in pub["content"]["lines"]] == ELEVEN + ["基准价", "浮动幅度", "实际收费标准", "执行日期"]
    assert lines["价格管理形式"] == "政府指导价"
    assert lines["基准价"] == "0.80 元/㎡·月"
    assert lines["浮动幅度"] == "上下浮动不超过 10.00%"
    assert lines["实际收费标准"] == lines["收费标准"] == "0.85 元/㎡·月"


def test_only_the_compounds_firm_publishes_the_standing_notice(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    assert post(client, _new(a.compound1, "standing_notice"), STANDING).status_code == 403
    login(client, "alpha-firm")
    assert post(client, _new(a.compound2, "standing_notice"), STANDING).status_code == 404
    login(client, "alpha-district")
    assert post(client, _new(a.compound1, "standing_notice"), STANDING).status_code == 403
    assert _pubs(app, world) == []


def test_missing_text_is_refused_and_nothing_published(app, client, world):
    a = world["alpha"]
    login(client, "alpha-firm")
    resp = post(client, _new(a.compound1, "standing_notice"), dict(STANDING, service_content=" "))
    assert resp.status_code == 422 and "请填写服务内容" in resp.get_data(as_text=True)
    assert _pubs(app, world) == []


def _seed_ledgers(app, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        for kind, d, cat, fen in [("public_revenue", date(2025, 12, 1), "停车费", 100000),
                                  ("public_revenue", date(2026, 1, 5), "停车费", 30000),
                                  ("public_revenue", date(2026, 1, 8), "广告费", 20000),
                                  ("public_revenue", date(2026, 1, 20), "补充维修资金", -10000),
                                  ("maintenance_fund", date(2026, 1, 3), "首期交存", 500000),
                                  ("maintenance_fund", date(2026, 1, 25), "使用支出", -120000)]:
            ledger.add_entry(a.compound1, kind, d, cat, fen)
        db.session.commit()


def test_disclosure_of_article_943_takes_figures_from_the_ledgers(app, client, world):
    a = world["alpha"]
    _seed_ledgers(app, world)
    login(client, "alpha-firm")
    data = {"start": "2026-01-01", "end": "2026-01-31", "services": "保洁、保安、绿化、维修",
            "staff": "项目经理 王某 138****0000", "quality": "二级服务标准", "performance": "按合同履行"}
    assert post(client, _new(a.compound1, "disclosure"), data).status_code == 302
    (pub,) = _pubs(app, world)
    lines = _lines(pub)
    assert list(lines) == ["服务事项", "负责人员", "质量要求", "收费项目和标准", "履行情况", "维修资金使用情况",
                           "共有部分经营与收益情况"]
    assert lines["收费项目和标准"] == "物业服务费 0.85 元/㎡·月（市场调节价，包干制）"
    assert lines["维修资金使用情况"] == ("期初余额 ¥0.00；本期收入 ¥5,000.00（首期交存 ¥5,000.00）；"
                                    "本期使用 ¥1,200.00（使用支出 ¥1,200.00）；期末余额 ¥3,800.00")
    assert "期初余额 ¥1,000.00；本期收入 ¥500.00" in lines["共有部分经营与收益情况"]
    assert "期末余额 ¥1,400.00" in lines["共有部分经营与收益情况"]
    assert pub["title"] == "甲区1号小区物业服务信息公开（2026-01-01至2026-01-31）"


def test_period_cannot_end_in_the_future_or_before_it_starts(app, client, world):
    a = world["alpha"]
    login(client, "alpha-committee")
    url = _new(a.compound1, "ledger_statement", kind="public_revenue")
    resp = post(client, url, {"start": "2026-02-01", "end": "2026-01-01"})
    assert resp.status_code == 422 and "结束日期不能早于开始日期" in resp.get_data(as_text=True)
    resp = post(client, url, {"start": "2026-01-01", "end": "2999-01-01"})
    assert resp.status_code == 422 and "公示期截止日期不能晚于今天" in resp.get_data(as_text=True)
    assert _pubs(app, world) == []


def _publish_statement(client, compound, start="2026-01-01", end="2026-01-31", kind="public_revenue"):
    return post(client, _new(compound, "ledger_statement", kind=kind), {"start": start, "end": end})


def test_ledger_statement_publication_is_the_statement(app, client, world):
    a = world["alpha"]
    _seed_ledgers(app, world)
    login(client, "alpha-firm")  # the committee keeps public revenue by default
    assert _publish_statement(client, a.compound1).status_code == 403
    login(client, "alpha-committee")
    assert _publish_statement(client, a.compound1).status_code == 302
    (pub,) = _pubs(app, world)
    by_key = {ln["key"]: ln.get("fen") for ln in pub["content"]["lines"]}
    assert by_key == {"期初余额": 100000, "收入:停车费": 30000, "收入:广告费": 20000, "支出:补充维修资金": 10000,
                      "本期收入合计": 50000, "本期支出合计": 10000, "期末余额": 140000}
    assert pub["title"] == "甲区1号小区公共收益收支公示（2026-01-01至2026-01-31）"
    (snap,) = pub["content"]["statements"]
    assert (snap["kind"], snap["opening"], snap["closing"]) == ("public_revenue", 100000, 140000)


def test_hash_chain_of_three_is_intact(app, client, world):
    a = world["alpha"]
    _seed_ledgers(app, world)
    login(client, "alpha-committee")
    for end in ("2026-01-10", "2026-01-20", "2026-01-31"):
        assert _publish_statement(client, a.compound1, end=end).status_code == 302
    pubs = _pubs(app, world)
    assert [p["seq"] for p in pubs] == [1, 2, 3]
    with app.app_context(), tenant_scope(a.tenant_id):
        rows = db.session.execute(select(Publication).order_by(Publication.seq)).scalars().all()
        assert [r.prev_hash for r in rows] == ["", rows[0].content_hash, rows[1].content_hash]
        assert [(r.hash_version, len(r.signature)) for r in rows] == [(2, 128)] * 3
        (key,) = keys.trusted("alpha").values()
        assert {r.key_id for r in rows} == {key.key_id}
        v = chain.verify(a.compound1)
        assert (v.status, v.broken_seq, v.checked, v.key_id, v.signed_seq, v.legacy) == (
            "intact", None, 3, key.key_id, 3, False)
    client.post("/logout")
    for seq in (1, 2, 3):
        html = client.get(f"/p/alpha/c/{a.compound1}/p/{seq}").get_data(as_text=True)
        assert "<strong>完整</strong>" in html and "已被改动" not in html
        assert f"签名有效：由本区密钥 <span class=\"font-monospace\">{key.key_id}</span>" in html
    board = client.get(f"/p/alpha/c/{a.compound1}/").get_data(as_text=True)
    assert "公示链完整：共 3 份，最新一份（第 3 号）由本区密钥" in board


TAMPERS = {
    "content": "UPDATE publication SET content = :v WHERE seq = 2 AND compound_id = :c",
    "title": "UPDATE publication SET title = '改过的标题' WHERE seq = 2 AND compound_id = :c",
    "prev_hash": "UPDATE publication SET prev_hash = :h WHERE seq = 2 AND compound_id = :c",
    # The date decides whether it was on time (scored), the publisher who answers for it.
    "published_at": "UPDATE publication SET published_at = '2026-01-01 01:00:00' WHERE seq = 2 AND compound_id = :c",
    "publisher": "UPDATE publication SET publisher = '别的单位' WHERE seq = 2 AND compound_id = :c",
    "signature": "UPDATE publication SET signature = NULL WHERE seq = 2 AND compound_id = :c",
    "hash_version": "UPDATE publication SET hash_version = 1 WHERE seq = 2 AND compound_id = :c",
}


@pytest.mark.parametrize("what", sorted(TAMPERS))
def test_a_changed_publication_row_shows_broken_from_that_seq(app, client, world, what):
    a = world["alpha"]
    _seed_ledgers(app, world)
    login(client, "alpha-committee")
    for end in ("2026-01-10", "2026-01-20", "2026-01-31"):
        _publish_statement(client, a.compound1, end=end)
    pubs = _pubs(app, world)
    forged = dict(pubs[1]["content"])
    forged["lines"] = [dict(ln, value="¥0.00") if ln["key"] == "期末余额" else ln for ln in forged["lines"]]
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text(TAMPERS[what]), {"v": json.dumps(forged, ensure_ascii=False), "c": a.compound1,
                                                 "h": "0" * 64})
        db.session.commit()
    client.post("/logout")
    assert "<strong>完整</strong>" in client.get(f"/p/alpha/c/{a.compound1}/p/1").get_data(as_text=True)
    for seq in (2, 3):
        html = client.get(f"/p/alpha/c/{a.compound1}/p/{seq}").get_data(as_text=True)
        assert "已被改动：第 2 号" in html and "<strong>完整</strong>" not in html
    login(client, "alpha-community")
    staff = client.get(f"/d/alpha/publications/{pubs[2]['id']}").get_data(as_text=True)
    assert "已被改动：第 2 号" in staff


def test_a_changed_ledger_entry_is_flagged_against_its_published_statement(app, client, world):
    a = world["alpha"]
    _seed_ledgers(app, world)
    login(client, "alpha-committee")
    _publish_statement(client, a.compound1)
    (pub,) = _pubs(app, world)
    page = client.get(f"/d/alpha/publications/{pub['id']}").get_data(as_text=True)
    assert "公示中的账目数字与当前账目一致" in page
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("UPDATE ledger_entry SET amount_fen = 3000 WHERE category = '广告费'"))
        db.session.commit()
        p = db.session.get(Publication, pub["id"])
        assert chain.verify(a.compound1).intact  # the snapshot itself is untouched
        check = publications.recheck(p)
    assert not check.ok
    assert "公共收益本期收入合计：公示 ¥500.00，账目现为 ¥330.00" in check.diffs
    assert "公共收益期末余额：公示 ¥1,400.00，账目现为 ¥1,230.00" in check.diffs
    for url in (f"/d/alpha/publications/{pub['id']}", f"/p/alpha/c/{a.compound1}/p/1"):
        html = client.get(url).get_data(as_text=True)
        assert "<strong>完整</strong>" in html
        assert "账目与公示不符" in html and "账目现为 ¥330.00" in html


def test_board_shows_only_that_compounds_publications_and_objections(app, client, world):
    a, b = world["alpha"], world["beta"]
    _seed_ledgers(app, world)
    with app.app_context(), tenant_scope(a.tenant_id):
        p1 = chain.publish(a.compound1, "ledger_statement", "一号小区的公示", {"lines": []})
        chain.publish(a.compound2, "ledger_statement", "二号小区的公示", {"lines": []})
        db.session.add(Objection(publication_id=p1.id, line="期末余额", question="停车费为何减少？",
                                 answer="一月有两周车位维修", status="answered"))
        db.session.commit()
    html = client.get(f"/p/alpha/c/{a.compound1}/").get_data(as_text=True)
    assert "一号小区的公示" in html and "二号小区的公示" not in html
    assert "停车费为何减少？" in html and "一月有两周车位维修" in html and "已答复" in html
    assert client.get(f"/p/beta/c/{a.compound1}/").status_code == 404
    assert client.get(f"/p/beta/c/{a.compound1}/p/1").status_code == 404
    assert client.get(f"/p/alpha/c/{a.compound1}/p/9").status_code == 404
    assert client.get(f"/p/alpha/c/{b.compound1}/").status_code == 404
    index = client.get("/p/alpha/?q=1号").get_data(as_text=True)
    assert "甲区1号小区" in index and "甲区2号小区" not in index and "乙区" not in index


def _qr_target(html: str) -> str:
    """What a notice's QR code carries: the address it was made from, proven by making the
    same code from it (segno draws the same SVG for the same text)."""
    target = unescape(re.search(r'data-testid="qr" data-target="([^"]+)"', html).group(1))
    svg = re.search(r'data-testid="qr" data-target="[^"]+">(<svg.*?</svg>)', html, re.S).group(1)
    assert svg == segno.make(target, error="m").svg_inline(scale=4, omitsize=True)
    return target


def test_a4_notice_carries_the_signed_chain_head(app, client, world):
    a = world["alpha"]
    login(client, "alpha-firm")
    post(client, _new(a.compound1, "standing_notice"), STANDING)
    client.post("/logout")
    html = client.get(f"/p/alpha/c/{a.compound1}/p/1/print").get_data(as_text=True)
    url = f"http://localhost/p/alpha/c/{a.compound1}/p/1"
    assert "@page { size: A4" in html
    assert f'data-testid="online-url">{url}<' in html
    assert "12358" in html and "0.85 元/㎡·月" in html
    assert "<script>" not in html and "onclick" not in html   # script-src 'self': the button's JS is a file
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.execute(select(Publication)).scalar_one()
        head, sig, key_id = p.content_hash, p.signature, p.key_id
    grouped = " ".join(sig[i:i + 8] for i in range(0, 128, 8))
    assert grouped in html and " ".join(head[i:i + 8] for i in range(0, 64, 8)) in html and key_id in html
    target = _qr_target(html)
    assert target == (f"http://localhost/p/alpha/c/{a.compound1}/verify?seq=1&h={head}&sig={sig}&k={key_id}")
    page = client.get(target.removeprefix("http://localhost"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<strong>一致</strong>：签名有效，由本区密钥" in text and key_id in text
    assert "公示链中仍有第 1 号公示“甲区1号小区物业服务收费公示”" in text


def test_publication_list_follows_scope(app, client, world):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        chain.publish(a.compound1, "disclosure", "一号小区信息公开", {"lines": []})
        p2 = chain.publish(a.compound2, "disclosure", "二号小区信息公开", {"lines": []})
        db.session.commit()
        p2_id = p2.id
    login(client, "alpha-committee")
    html = client.get("/d/alpha/publications/").get_data(as_text=True)
    assert "一号小区信息公开" in html and "二号小区信息公开" not in html
    assert client.get(f"/d/alpha/publications/{p2_id}").status_code == 404
    login(client, "alpha-district")
    html = client.get("/d/alpha/publications/").get_data(as_text=True)
    assert "一号小区信息公开" in html and "二号小区信息公开" in html
