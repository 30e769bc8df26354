"""重大事项报备: the committee files a vote's matter with the street, the community notes it was
reported to the party organisation, the street acknowledges or returns it; the vote opens only
on an acknowledged filing. Scope, permissions, the spending threshold and the street's to-do."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from wuye_saas.audit import acting_as
from wuye_saas.auth.models import Membership, User
from wuye_saas.dashboard import todo
from wuye_saas.extensions import db
from wuye_saas.matters import logic as matters
from wuye_saas.matters.models import MatterFiling, MatterRule
from wuye_saas.tenancy import tenant_scope
from wuye_saas.timeutil import now, today
from wuye_saas.votes import logic
from wuye_saas.votes.models import FundApplication, OwnerVote

from .helpers import login, post
from .test_votes import new_vote

GATE = "尚未经街道签收重大事项报备"


def _in(app, ns, fn):
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        out = fn()
        db.session.commit()
        return out


def filings(app, ns, vote_id):
    return _in(app, ns, lambda: [(f.status, f.party_reported_at is not None, f.return_reason) for f in
                                 db.session.execute(select(MatterFiling).where(MatterFiling.vote_id == vote_id)
                                                    .order_by(MatterFiling.id)).scalars()])


def status_of(app, ns, vote_id):
    return _in(app, ns, lambda: db.session.get(OwnerVote, vote_id).status)


def publicized_vote(client, monkeypatch):
    """The committee's vote, filed with the community and publicized; today moved to its opening."""
    login(client, "alpha-committee")
    vid = new_vote(client)
    base = f"/d/alpha/votes/{vid}"
    assert post(client, f"{base}/file").status_code == 302
    opens = today() + timedelta(days=15)
    assert post(client, f"{base}/publicize", {"opens_on": opens.isoformat(),
                                              "closes_on": (opens + timedelta(days=7)).isoformat()}).status_code == 302
    monkeypatch.setattr(logic, "today", lambda: opens)
    return vid, base


def test_the_vote_opens_only_after_the_street_acknowledges(app, client, world, monkeypatch):
    ns = world["alpha"]
    vid, base = publicized_vote(client, monkeypatch)

    # Not filed with the street: refused with the reason, nothing changed.
    resp = post(client, f"{base}/open")
    assert resp.status_code == 422 and GATE in resp.get_data(as_text=True)
    assert status_of(app, ns, vid) == "publicized"
    page = client.get(base).get_data(as_text=True)
    assert GATE in page and "向街道书面报备" in page

    # An empty written filing is refused and writes nothing.
    resp = post(client, f"/d/alpha/matters/votes/{vid}/file", {"summary": "  "})
    assert resp.status_code == 422 and "请填写报备内容" in resp.get_data(as_text=True) and filings(app, ns, vid) == []
    resp = post(client, f"/d/alpha/matters/votes/{vid}/file", {"summary": "更换水泵 2 台，预算 8.64 万元。"})
    assert resp.status_code == 302
    fid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert filings(app, ns, vid) == [("filed", False, "")]
    # Filed but not acknowledged: still refused.
    resp = post(client, f"{base}/open")
    assert resp.status_code == 422 and GATE in resp.get_data(as_text=True)
    # A second filing while one is pending is refused.
    resp = post(client, f"/d/alpha/matters/votes/{vid}/file", {"summary": "再报一次"})
    assert resp.status_code == 422 and "已有报备在办" in resp.get_data(as_text=True)
    assert len(filings(app, ns, vid)) == 1

    # The street may not acknowledge before the community notes the party report.
    login(client, "alpha-street")
    resp = post(client, f"/d/alpha/matters/{fid}/decide", {"decision": "acknowledge"})
    assert resp.status_code == 422 and "须先由社区登记" in resp.get_data(as_text=True)
    assert filings(app, ns, vid) == [("filed", False, "")]
    # The street does not note the party report; the community does.
    assert post(client, f"/d/alpha/matters/{fid}/party").status_code == 403
    login(client, "alpha-community")
    assert post(client, f"/d/alpha/matters/{fid}/decide", {"decision": "acknowledge"}).status_code == 403
    assert post(client, f"/d/alpha/matters/{fid}/party").status_code == 302
    assert filings(app, ns, vid) == [("filed", True, "")]

    login(client, "alpha-street")
    assert post(client, f"/d/alpha/matters/{fid}/decide", {"decision": "acknowledge"}).status_code == 302
    assert filings(app, ns, vid) == [("acknowledged", True, "")]
    # Decided once: a second decision is refused.
    resp = post(client, f"/d/alpha/matters/{fid}/decide", {"decision": "return", "reason": "改主意"})
    assert resp.status_code == 422 and filings(app, ns, vid) == [("acknowledged", True, "")]

    login(client, "alpha-committee")
    assert post(client, f"{base}/open").status_code == 302
    assert status_of(app, ns, vid) == "open"


def test_a_return_needs_a_reason_and_the_committee_files_again(app, client, world, monkeypatch):
    ns = world["alpha"]
    vid, base = publicized_vote(client, monkeypatch)
    resp = post(client, f"/d/alpha/matters/votes/{vid}/file", {"summary": "更换水泵"})
    fid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    login(client, "alpha-street")
    resp = post(client, f"/d/alpha/matters/{fid}/decide", {"decision": "return", "reason": " "})
    assert resp.status_code == 422 and "退回时必须填写理由" in resp.get_data(as_text=True)
    assert filings(app, ns, vid) == [("filed", False, "")]
    assert post(client, f"/d/alpha/matters/{fid}/decide",
                {"decision": "return", "reason": "未附三家报价"}).status_code == 302
    assert filings(app, ns, vid) == [("returned", False, "未附三家报价")]
    assert "未附三家报价" in client.get(f"/d/alpha/matters/{fid}").get_data(as_text=True)

    login(client, "alpha-committee")
    resp = post(client, f"{base}/open")
    assert resp.status_code == 422 and GATE in resp.get_data(as_text=True)
    assert post(client, f"/d/alpha/matters/votes/{vid}/file", {"summary": "更换水泵，附三家报价"}).status_code == 302
    assert [s for s, _, _ in filings(app, ns, vid)] == ["returned", "filed"]


def test_scope_another_streets_filing_is_404(app, client, world):
    ns = world["alpha"]

    def make():
        out = []
        for cid in (ns.compound1, ns.compound2):
            v, _ = logic.create_vote(cid, "other", f"事项{cid}", "")
            out.append(matters.file_matter(v, "报备内容")[0].id)
        return out
    mine, other = _in(app, ns, make)
    for user in ("alpha-street", "alpha-community", "alpha-committee"):
        login(client, user)
        page = client.get("/d/alpha/matters/").get_data(as_text=True)
        assert f"事项{ns.compound1}" in page and f"事项{ns.compound2}" not in page
        assert client.get(f"/d/alpha/matters/{other}").status_code == 404
        assert client.get(f"/d/alpha/matters/{mine}").status_code == 200
        # Out of scope: 404 before any role check.
        assert post(client, f"/d/alpha/matters/{other}/decide", {"decision": "acknowledge"}).status_code == 404
        assert post(client, f"/d/alpha/matters/{other}/party").status_code == 404
    # The committee may not file another compound's vote, nor decide its own.
    assert post(client, f"/d/alpha/matters/{mine}/decide", {"decision": "acknowledge"}).status_code == 403
    login(client, "alpha-district")
    page = client.get("/d/alpha/matters/").get_data(as_text=True)
    assert f"事项{ns.compound1}" in page and f"事项{ns.compound2}" in page
    login(client, "beta-street")
    assert client.get(f"/d/alpha/matters/{mine}").status_code == 404
    login(client, "alpha-firm")
    assert client.get(f"/d/alpha/matters/{mine}").status_code == 404


def test_the_street_sees_its_waiting_filings_on_its_to_do(app, client, world):
    ns = world["alpha"]

    def make():
        for n in range(3):
            v, _ = logic.create_vote(ns.compound1, "other", f"待签收{n}", "")
            f, _ = matters.file_matter(v, "报备内容")
            if n:
                matters.note_party_report(f)      # two reported, one not yet

    _in(app, ns, make)

    def counts(username):
        def read():
            user = db.session.execute(select(User).where(User.username == username)).scalar_one()
            m = db.session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()
            return {c.label: c.count for c in todo.cards(m, now(), today())}
        return _in(app, ns, read)
    assert counts("alpha-street")["待签收的重大事项报备"] == 2
    assert counts("alpha-community")["待登记报告社区党组织的重大事项"] == 1
    login(client, "alpha-street")
    assert "待签收的重大事项报备" in client.get("/d/alpha/").get_data(as_text=True)
    login(client, "beta-street")
    assert "待签收的重大事项报备" not in client.get("/d/beta/").get_data(as_text=True)


def test_spending_above_the_district_threshold_needs_a_filing_naming_it(app, client, world, monkeypatch):
    ns = world["alpha"]
    # The district sets the threshold; bad input writes nothing.
    login(client, "alpha-district")
    post(client, "/d/alpha/matters/settings", {"threshold": "-5"})
    assert _in(app, ns, lambda: db.session.execute(select(func.count(MatterRule.id))).scalar_one()) == 0
    assert post(client, "/d/alpha/matters/settings", {"threshold": "30000.00"}).status_code == 302
    assert _in(app, ns, matters.threshold_fen) == 3_000_000
    login(client, "alpha-committee")
    assert post(client, "/d/alpha/matters/settings", {"threshold": "1"}).status_code == 403

    vid, base = publicized_vote(client, monkeypatch)

    def acknowledge_then_add_spending():
        v = db.session.get(OwnerVote, vid)
        matters.file_and_acknowledge(v, "更换水泵")
        db.session.add(FundApplication(compound_id=v.compound_id, applicant="committee", item="更换水泵",
                                       budget_fen=3_000_001, contractor="某机电", vote_id=v.id, status="voting"))
    _in(app, ns, acknowledge_then_add_spending)
    # Acknowledged before the spending was tied to it: 30,000.01 元 > 30,000.00 元 needs a new filing.
    resp = post(client, f"{base}/open")
    assert resp.status_code == 422 and "超过区定报备标准 ¥30,000.00" in resp.get_data(as_text=True)
    assert status_of(app, ns, vid) == "publicized"
    resp = post(client, f"/d/alpha/matters/votes/{vid}/file", {"summary": "更换水泵，预算 30,000.01 元"})
    fid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert _in(app, ns, lambda: db.session.get(MatterFiling, fid).spending_fen) == 3_000_001

    def party_and_ack():
        f = db.session.get(MatterFiling, fid)
        assert not matters.note_party_report(f) and not matters.decide(f, True)
    _in(app, ns, party_and_ack)
    assert post(client, f"{base}/open").status_code == 302
    assert status_of(app, ns, vid) == "open"


def test_at_the_threshold_itself_the_plain_filing_is_enough(app, world, monkeypatch):
    ns = world["alpha"]

    def run():
        v, _ = logic.create_vote(ns.compound1, "use_fund", "刚好等于标准", "")
        matters.file_and_acknowledge(v, "报备")
        db.session.add(FundApplication(compound_id=v.compound_id, applicant="committee", item="修缮",
                                       budget_fen=matters.DEFAULT_THRESHOLD_FEN, contractor="某公司", vote_id=v.id,
                                       status="voting"))
        db.session.flush()
        return matters.gate(v)
    assert _in(app, ns, run) is None


def test_the_written_filing_carries_its_documents_with_their_digest(app, client, world, monkeypatch):
    import hashlib
    import io

    from wuye_saas.matters.models import MatterFilingFile
    ns = world["alpha"]
    vid, base = publicized_vote(client, monkeypatch)
    url = f"/d/alpha/matters/votes/{vid}/file"
    pdf = b"%PDF-1.4 \xe6\x8a\xa5\xe5\xa4\x87\xe8\xa1\xa8 signed"
    # A file that is not what it says, or too many files: refused, nothing written.
    resp = post(client, url, {"summary": "更换水泵", "files": (io.BytesIO(b"MZ\x90\x00"), "报备表.pdf")},
                content_type="multipart/form-data")
    assert resp.status_code == 422 and "的内容不是 PDF、JPG 或 PNG" in resp.get_data(as_text=True)
    resp = post(client, url, {"summary": "更换水泵", "files": [(io.BytesIO(pdf), f"{i}.pdf") for i in range(6)]},
                content_type="multipart/form-data")
    assert resp.status_code == 422 and "报备材料最多 5 个文件" in resp.get_data(as_text=True)
    assert filings(app, ns, vid) == []
    assert _in(app, ns, lambda: db.session.execute(select(func.count(MatterFilingFile.id))).scalar()) == 0

    resp = post(client, url, {"summary": "更换水泵，附报备表和三家报价",
                              "files": [(io.BytesIO(pdf), "报备表.pdf"), (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64),
                                                                          "报价.png")]},
                content_type="multipart/form-data")
    assert resp.status_code == 302
    fid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    files = _in(app, ns, lambda: [(f.id, f.filename, f.size, f.sha256) for f in db.session.execute(
        select(MatterFilingFile).order_by(MatterFilingFile.id)).scalars()])
    assert [(n, s, h) for _, n, s, h in files] == [
        ("报备表.pdf", len(pdf), hashlib.sha256(pdf).hexdigest()),
        ("报价.png", 72, hashlib.sha256(b"\x89PNG\r\n\x1a\n" + b"0" * 64).hexdigest())]
    first = files[0][0]
    # The street reads the filing with its documents and their digests, and downloads them.
    for user in ("alpha-street", "alpha-community", "alpha-committee"):
        login(client, user)
        page = client.get(f"/d/alpha/matters/{fid}").get_data(as_text=True)
        assert "报备表.pdf" in page and hashlib.sha256(pdf).hexdigest()[:16] in page
        got = client.get(f"/d/alpha/matters/files/{first}")
        assert got.status_code == 200 and got.data == pdf
    # Out of scope (the firm, another street, another district): 404.
    for user in ("alpha-firm", "beta-street"):
        login(client, user)
        assert client.get(f"/d/alpha/matters/files/{first}").status_code == 404
