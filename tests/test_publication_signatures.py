"""Evidence that cannot be quietly rewritten (issue 12): someone who can write the database and
read the source, but holds no key kept outside it, appends, rewrites, deletes or re-signs
publications — the public pages say so. A printed notice's signed chain head verifies, and
still proves what was published after the chain was cut. Keys: missing, rotated, from the
environment, absent at publishing."""
from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.publicity import chain, keys
from wuye_saas.publicity.models import Publication
from wuye_saas.tenancy import tenant_scope

from .helpers import login, post

LINES = {"lines": [{"key": "期末余额", "label": "期末余额", "value": "¥1,400.00"}]}


def _publish(app, a, n, compound=None):
    """n signed publications through the real publishing function."""
    with app.app_context(), tenant_scope(a.tenant_id):
        for i in range(n):
            chain.publish(compound or a.compound1, "ledger_statement", f"第{i + 1}份账目公示", LINES)
        db.session.commit()


def _row(app, a, seq, compound=None):
    with app.app_context(), tenant_scope(a.tenant_id):
        p = db.session.execute(select(Publication).where(Publication.compound_id == (compound or a.compound1),
                                                         Publication.seq == seq)).scalar_one()
        db.session.expunge(p)
        return p


def _page(client, a, seq):
    return client.get(f"/p/alpha/c/{a.compound1}/p/{seq}").get_data(as_text=True)


def _forge(a, seq, prev_hash, *, version=2, title="伪造的公示", at="2026-02-01 08:00:00", compound=None):
    """A row as an attacker would write it: every column consistent, the hash recomputed with
    the published algorithm."""
    p = Publication(tenant_id=a.tenant_id, compound_id=compound or a.compound1, seq=seq, kind="ledger_statement",
                    title=title, period_start=None, period_end=None, content=LINES, prev_hash=prev_hash,
                    published_at=datetime.fromisoformat(at), publisher="某物业公司", hash_version=version)
    p.content_hash = chain.digest(p)
    return p


INSERT = text("INSERT INTO publication (tenant_id, compound_id, seq, kind, title, content, content_hash, prev_hash, "
              "published_at, publisher, hash_version, key_id, signature) VALUES (:tenant_id, :compound_id, :seq, "
              ":kind, :title, :content, :content_hash, :prev_hash, :published_at, :publisher, :hash_version, "
              ":key_id, :signature)")


def _insert(app, p: Publication, key_id=None, signature=None):
    with app.app_context(), tenant_scope(p.tenant_id):
        db.session.execute(INSERT, {"tenant_id": p.tenant_id, "compound_id": p.compound_id, "seq": p.seq,
                                    "kind": p.kind, "title": p.title,
                                    "content": json.dumps(p.content, ensure_ascii=False),
                                    "content_hash": p.content_hash, "prev_hash": p.prev_hash,
                                    "published_at": p.published_at.isoformat(sep=" "), "publisher": p.publisher,
                                    "hash_version": p.hash_version, "key_id": key_id, "signature": signature})
        db.session.commit()


def _attacker_signature(p: Publication) -> str:
    return Ed25519PrivateKey.generate().sign(keys.message("alpha", p.compound_id, p.seq, p.content_hash)).hex()


def test_a_publication_appended_by_sql_with_a_recomputed_hash_is_flagged(app, client, world):
    a = world["alpha"]
    _publish(app, a, 3)
    last = _row(app, a, 3)
    forged = _forge(a, 4, last.content_hash)
    _insert(app, forged)
    html = _page(client, a, 4)
    assert "已被改动：第 4 号" in html and "第 4 号公示没有本区密钥的签名" in html and "<strong>完整</strong>" not in html
    assert "<strong>完整</strong>" in _page(client, a, 3)   # what came before still verifies
    board = client.get(f"/p/alpha/c/{a.compound1}/").get_data(as_text=True)
    assert "公示链完整" not in board and "已被改动：第 4 号" in board


def test_an_appended_unsigned_v1_row_after_signed_ones_is_flagged(app, client, world):
    a = world["alpha"]
    _publish(app, a, 2)
    _insert(app, _forge(a, 3, _row(app, a, 2).content_hash, version=1))
    html = _page(client, a, 3)
    assert "已被改动：第 3 号" in html and "第 3 号是未签名的旧版公示，却排在已签名的公示之后" in html


def test_an_appended_row_signed_with_an_attackers_key_is_flagged(app, client, world):
    a = world["alpha"]
    _publish(app, a, 2)
    real_key = _row(app, a, 2).key_id
    forged = _forge(a, 3, _row(app, a, 2).content_hash)
    # Their own key under their own key id: not among the district's trusted keys.
    _insert(app, forged, "20260101000000-deadbeef", _attacker_signature(forged))
    html = _page(client, a, 3)
    assert "<strong>完整</strong>" not in html and "无法验证签名：第 3 号" in html
    assert "签名密钥 20260101000000-deadbeef 不在本区公布的可信公钥中" in html
    # Under the district key's id: the signature does not verify with that key.
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("UPDATE publication SET key_id = :k WHERE seq = 3"), {"k": real_key})
        db.session.commit()
    html = _page(client, a, 3)
    assert "已被改动：第 3 号" in html and "第 3 号公示的签名无效" in html


def test_a_rewritten_tail_with_recomputed_hashes_is_flagged(app, client, world):
    a = world["alpha"]
    _publish(app, a, 3)
    one, two, three = (_row(app, a, s) for s in (1, 2, 3))
    # Rows 2 and 3 rewritten, each hash recomputed and linked; the district's signatures kept.
    new2 = _forge(a, 2, one.content_hash, title="改写的第2份", at="2026-01-05 02:00:00")
    new3 = _forge(a, 3, new2.content_hash, title="改写的第3份", at="2026-01-06 02:00:00")
    with app.app_context(), tenant_scope(a.tenant_id):
        for p, old in ((new2, two), (new3, three)):
            db.session.execute(text("UPDATE publication SET title = :t, published_at = :at, publisher = :pub, "
                                    "content_hash = :h, prev_hash = :prev WHERE seq = :s"),
                               {"t": p.title, "at": p.published_at.isoformat(sep=" "), "pub": p.publisher,
                                "h": p.content_hash, "prev": p.prev_hash, "s": p.seq})
        db.session.commit()
    with app.app_context(), tenant_scope(a.tenant_id):
        v = chain.verify(a.compound1)
        assert (v.status, v.broken_seq, v.reason) == ("broken", 2, "第 2 号公示的签名无效")
    assert "<strong>完整</strong>" in _page(client, a, 1)
    for seq in (2, 3):
        html = _page(client, a, seq)
        assert "已被改动：第 2 号" in html and "<strong>完整</strong>" not in html


def _notice_head(client, a, seq) -> str:
    """The verify address a printed notice's QR code carries (its data-target, checked against
    the QR code itself in test_publications)."""
    html = client.get(f"/p/alpha/c/{a.compound1}/p/{seq}/print").get_data(as_text=True)
    return unescape(re.search(r'data-testid="qr" data-target="([^"]+)"', html).group(1)).removeprefix("http://localhost")


def test_a_printed_head_verifies_and_catches_truncation_and_replacement(app, client, world):
    a = world["alpha"]
    _publish(app, a, 3)
    held = _notice_head(client, a, 3)
    earlier = _notice_head(client, a, 1)
    html = client.get(held).get_data(as_text=True)
    assert "<strong>一致</strong>" in html and "公示链中仍有第 3 号公示“第3份账目公示”" in html
    assert "此后又发布" not in html
    assert "此后又发布了 2 份公示" in client.get(earlier).get_data(as_text=True)

    # The last two are deleted: the remaining chain is sound, and only a later notice shows the cut.
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("DELETE FROM publication WHERE seq >= 2 AND compound_id = :c"), {"c": a.compound1})
        db.session.commit()
    assert "<strong>完整</strong>" in _page(client, a, 1)
    html = client.get(held).get_data(as_text=True)
    assert "公示链中已没有第 3 号公示" in html and "现在本小区的公示链只到第 1 号，该号及之后的公示已被删除" in html
    assert "<strong>一致</strong>" not in html
    assert "<strong>一致</strong>" in client.get(earlier).get_data(as_text=True)

    # A row cut from the middle: the notice of the cut one says it was removed; a later
    # notice's row is still there, but the chain before it no longer holds.
    _publish(app, a, 2)   # 2 and 3 again, new hashes
    middle, later = _notice_head(client, a, 2), _notice_head(client, a, 3)
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("DELETE FROM publication WHERE seq = 2 AND compound_id = :c"), {"c": a.compound1})
        db.session.commit()
    html = client.get(middle).get_data(as_text=True)
    assert "公示链中已没有第 2 号公示" in html and "它已从公示链中被删除" in html
    html = client.get(later).get_data(as_text=True)
    assert "<strong>公示链不完整</strong>" in html and "第 2 号公示缺失" in html
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("DELETE FROM publication WHERE seq = 3 AND compound_id = :c"), {"c": a.compound1})
        db.session.commit()

    # Publishing again after the cut cannot bring the printed head back.
    _publish(app, a, 2)
    html = client.get(held).get_data(as_text=True)
    assert "公示链已被改写" in html and "现在的第 3 号公示的指纹与公告不同" in html


def test_a_typed_head_verifies_and_a_forged_or_mistyped_one_does_not(app, client, world):
    a = world["alpha"]
    _publish(app, a, 1)
    p = _row(app, a, 1)
    url = f"/p/alpha/c/{a.compound1}/verify"
    # Typed from paper: in groups, upper case, no key id.
    typed = {"seq": "1", "h": " ".join(p.content_hash[i:i + 8] for i in range(0, 64, 8)).upper(),
             "sig": "\n".join(p.signature[i:i + 32] for i in range(0, 128, 32)), "k": ""}
    html = client.get(url, query_string=typed).get_data(as_text=True)
    assert "<strong>一致</strong>" in html and p.key_id in html
    # Another sequence number with the same hash and signature: not what the district signed.
    html = client.get(url, query_string=dict(typed, seq="2")).get_data(as_text=True)
    assert "<strong>签名不符</strong>" in html and "<strong>一致</strong>" not in html
    fake = client.get(url, query_string=dict(typed, sig=_attacker_signature(p), k=p.key_id)).get_data(as_text=True)
    assert "<strong>签名不符</strong>" in fake and "不是本区密钥签发的" in fake
    unknown = client.get(url, query_string=dict(typed, k="20260101000000-deadbeef")).get_data(as_text=True)
    assert "密钥 <span class=\"font-monospace\">20260101000000-deadbeef</span> 不在本区公布的签名公钥中" in unknown
    bad = client.get(url, query_string={"seq": "x", "h": "12ab", "sig": "zz"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "指纹应为 64 位十六进制数字" in html and "签名应为 128 位十六进制数字" in html
    assert html.count("invalid-feedback") == 3 and "公示编号应为正整数" not in html   # one message a field
    html = client.get(url, query_string=dict(typed, seq="0")).get_data(as_text=True)
    assert "公示编号应为正整数" in html and "head-result" not in html
    assert "head-result" not in html
    assert client.get(url).status_code == 200   # the empty form
    assert client.get(f"/p/beta/c/{a.compound1}/verify", query_string=typed).status_code == 404


def test_a_missing_public_key_file_says_the_signature_cannot_be_verified(app, client, world, tmp_path, monkeypatch):
    a = world["alpha"]
    _publish(app, a, 1)
    key_id = _row(app, a, 1).key_id
    monkeypatch.setitem(app.config, "PUBLICATION_KEYS_DIR", str(tmp_path))   # the key folder lost
    html = _page(client, a, 1)
    assert "<strong>完整</strong>" not in html
    assert "无法验证签名：第 1 号" in html and f"签名密钥 {key_id} 不在本区公布的可信公钥中" in html
    assert "本区尚未启用签名密钥" in client.get("/p/alpha/keys").get_data(as_text=True)


def test_without_a_key_and_without_auto_creation_publishing_is_refused(app, client, world, tmp_path, monkeypatch):
    a = world["alpha"]
    monkeypatch.setitem(app.config, "PUBLICATION_KEYS_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "PUBLICATION_KEYS_AUTO_CREATE", False)
    login(client, "alpha-firm")
    url = f"/d/alpha/publications/new?compound_id={a.compound1}&template=standing_notice"
    resp = post(client, url, {"payer": "全体业主", "service_content": "保洁", "items": "物业服务费", "basis_text": "合同"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503 and "尚未配置公示签名密钥" in html
    assert "flask --app wsgi publicity-keys create alpha" in html
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(func.count(Publication.id))).scalar_one() == 0
        assert db.session.execute(select(AuditEvent).where(AuditEvent.entity == "publication")).first() is None
    assert list(tmp_path.iterdir()) == []   # no key was made behind the operator's back
    res = app.test_cli_runner().invoke(args=["publicity-keys", "create", "alpha"])
    assert res.exit_code == 0 and "已创建签名密钥" in res.output
    assert post(client, url, {"payer": "全体业主", "service_content": "保洁", "items": "物业服务费",
                              "basis_text": "合同"}).status_code == 302


def test_rotation_signs_with_the_new_key_and_old_signatures_still_verify(app, client, world, tmp_path, monkeypatch):
    a = world["alpha"]
    monkeypatch.setitem(app.config, "PUBLICATION_KEYS_DIR", str(tmp_path))
    _publish(app, a, 1)
    old = _row(app, a, 1).key_id
    res = app.test_cli_runner().invoke(args=["publicity-keys", "create", "alpha"])
    assert res.exit_code == 0 and f"已停用旧密钥 {old}" in res.output
    assert not (tmp_path / "alpha" / f"{old}.key").exists() and (tmp_path / "alpha" / f"{old}.json").exists()
    _publish(app, a, 1)
    new = _row(app, a, 2).key_id
    assert new != old
    assert f"由本区密钥 <span class=\"font-monospace\">{old}</span>" in _page(client, a, 1)
    assert f"由本区密钥 <span class=\"font-monospace\">{new}</span>" in _page(client, a, 2)
    with app.app_context():
        found = keys.trusted("alpha")
    page = client.get("/p/alpha/keys").get_data(as_text=True)
    for key_id in (old, new):
        assert f'data-key="{key_id}"' in page and found[key_id].fingerprint in page
    assert page.index(new) < page.index(old) and "起停用" in page and "使用中" in page
    assert "本区签名公钥" in client.get("/p/alpha/").get_data(as_text=True)
    res = app.test_cli_runner().invoke(args=["publicity-keys", "list", "alpha"])
    assert old in res.output and new in res.output
    assert app.test_cli_runner().invoke(args=["publicity-keys", "create", "nowhere"]).exit_code != 0


def test_a_key_from_the_environment_signs(app, client, world, tmp_path, monkeypatch):
    a = world["alpha"]
    monkeypatch.setitem(app.config, "PUBLICATION_KEYS_DIR", str(tmp_path))
    res = app.test_cli_runner().invoke(args=["publicity-keys", "create", "alpha", "--env"])
    assert res.exit_code == 0
    line = re.search(r"^WUYE_SIGNING_KEY_ALPHA=(\S+)$", res.output, re.M).group(1)
    assert list((tmp_path / "alpha").glob("*.key")) == []    # only the public key is on disk
    monkeypatch.setitem(app.config, "PUBLICATION_SIGNING_KEYS", {"WUYE_SIGNING_KEY_ALPHA": line})
    _publish(app, a, 1)
    assert _row(app, a, 1).key_id == line.split(":")[0]
    assert "<strong>完整</strong>" in _page(client, a, 1)
    # Rotated to a key file while the old key is still in the environment: the retired one never signs.
    assert app.test_cli_runner().invoke(args=["publicity-keys", "create", "alpha"]).exit_code == 0
    _publish(app, a, 1)
    assert _row(app, a, 2).key_id not in (None, line.split(":")[0])
    assert "<strong>完整</strong>" in _page(client, a, 2)


def _v1(app, a, n):
    """n rows as published before signing (v1 hashes, no signature)."""
    prev = ""
    for seq in range(1, n + 1):
        p = _forge(a, seq, prev, version=1, title=f"旧公示{seq}")
        _insert(app, p)
        prev = p.content_hash


def test_v1_rows_verify_as_before_and_say_what_v1_does_not_cover(app, client, world):
    a = world["alpha"]
    _v1(app, a, 2)
    html = _page(client, a, 2)
    assert "<strong>完整</strong>" in html and "不含发布时间和发布人" in html
    assert "此后还没有签名的公示确认它" in html and "签名有效" not in html
    # v1 never covered the time: changing it does not break a v1 row (the page said so).
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("UPDATE publication SET published_at = '2025-01-01 00:00:00' WHERE seq = 1"))
        db.session.commit()
    assert "<strong>完整</strong>" in _page(client, a, 1)
    # The next publication is v2, signed, and chained to them: their content is now vouched for.
    _publish(app, a, 1)
    row = _row(app, a, 3)
    assert (row.hash_version, row.prev_hash) == (2, _row(app, a, 2).content_hash)
    html = _page(client, a, 1)
    assert "<strong>完整</strong>" in html and "即第 3 号公示的签名，它涵盖本份及之前的全部公示" in html
    assert "不含发布时间和发布人" in html and "此后还没有签名的公示确认它" not in html
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(text("UPDATE publication SET title = '改过' WHERE seq = 1"))
        db.session.commit()
    assert "已被改动：第 1 号" in _page(client, a, 3)


def test_the_automatic_key_is_made_once(app, tmp_path, monkeypatch):
    """A process that waited for the key folder's lock while another made the district's first
    key uses that key: it must not retire it (signatures it made would then be flagged)."""
    monkeypatch.setitem(app.config, "PUBLICATION_KEYS_DIR", str(tmp_path))
    with app.app_context():
        first, _ = keys.create("alpha", if_missing=True)
        again, _ = keys.create("alpha", if_missing=True)
        assert again == first and list(keys.trusted("alpha").values()) == [first]
        assert first.retired_at is None
