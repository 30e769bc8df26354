"""The JSON API (wuye_saas/api): its OpenAPI document, every route against it, isolation between
districts, scopes and firms, tokens, idempotency (repeated and concurrent), rate limits, audit,
and the district admin's API clients pages."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import func, select

from wuye_saas.api import logic as api_logic
from wuye_saas.api.models import ApiClient, ApiRequest
from wuye_saas.api.registry import REGISTRY, openapi
from wuye_saas.audit import AuditEvent, acting_as
from wuye_saas.demands import logic as demand_logic
from wuye_saas.demands.models import Demand, DemandCategory
from wuye_saas.evaluation.models import Assessment, Evaluation, Standard
from wuye_saas.extensions import db
from wuye_saas.fees.models import BillSum, Payment
from wuye_saas.tenancy import tenant_scope

from .helpers import csrf_token, login, post
from .test_payments import make_bills

ALL_READ = ["demands:write", "demands:read", "register:read", "indicators:read", "evaluation:read"]
DOC_ENDPOINTS = {"api_docs.openapi_json", "api_docs.docs"}


def _client(app, ns, name, scopes, firm=None, rate=1000) -> str:
    with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
        _, token = api_logic.create(name, scopes, firm, rate, None)
        db.session.commit()
        return token


def _published_evaluation(ns, branch: int) -> int:
    std = Standard(name=f"接口考核标准{branch}", status="active", unit="compound")
    db.session.add(std)
    db.session.flush()
    ev = Evaluation(standard_id=std.id, kind="quarterly", name=f"{ns.slug}季度考核{branch}", status="published",
                    period_start=date(2026, 1, 1), period_end=date(2026, 3, 31), self_report_due=date(2026, 4, 10),
                    review_due=date(2026, 4, 20))
    db.session.add(ev)
    db.session.flush()
    for b, kind in ((1, "red"), (2, "black")):
        db.session.add(Assessment(evaluation_id=ev.id, firm_id=getattr(ns, f"firm{b}"),
                                  compound_id=getattr(ns, f"compound{b}"), status="final", total=Decimal("90") - 30 * (b - 1),
                                  stars=5 - 3 * (b - 1), rank=b, list_kind=kind))
    db.session.flush()
    return ev.id


@pytest.fixture
def api(app, world):
    """Both districts with demand categories, a published evaluation, a bill per branch, and
    clients: alpha's district-wide one, alpha's firm-1 one (fees:write), beta's district-wide one."""
    out = {}
    for slug in ("alpha", "beta"):
        ns = world[slug]
        with app.app_context(), tenant_scope(ns.tenant_id), acting_as(None, "测试"):
            demand_logic.ensure_default_categories()
            ev = _published_evaluation(ns, 1)
            draft = Evaluation(standard_id=db.session.get(Evaluation, ev).standard_id, kind="quarterly",
                               name="未发布", status="open", period_start=date(2026, 4, 1),
                               period_end=date(2026, 6, 30), self_report_due=date(2099, 1, 1),
                               review_due=date(2099, 1, 2))
            db.session.add(draft)
            db.session.commit()
            cat = db.session.execute(select(DemandCategory.id).where(DemandCategory.name == "维修")).scalar()
            ns.evaluation, ns.draft, ns.category = ev, draft.id, cat
        ns.bills = make_bills(app, ns, [(ns.household1, 1, date(2026, 6, 1), 0, 0, 10000),
                                        (ns.household2, 2, date(2026, 6, 1), 0, 0, 10000)])
        out[slug] = ns
    out["alpha"].token = _client(app, out["alpha"], "12345 市民热线平台", ALL_READ)
    out["alpha"].firm_token = _client(app, out["alpha"], "第1物业收费系统",
                                      ["fees:write", "register:read", "demands:read", "evaluation:read",
                                       "indicators:read"], firm=out["alpha"].firm1)
    out["beta"].token = _client(app, out["beta"], "乙区热线", ALL_READ + ["fees:write"], firm=out["beta"].firm1)
    return out


def call(client, method, url, token=None, json=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(url, method=method, headers=headers, json=json)


def demand_body(ns, **over):
    body = {"work_order_no": "GD20261201-0001", "compound_id": ns.compound1, "category_id": ns.category,
            "title": "楼道灯不亮", "description": "3 单元 2 楼楼道灯坏了一周。", "contact_name": "王女士",
            "contact_phone": "13912345678", "urgency": "normal"}
    return {**body, **over}


def pay_body(ns, **over):
    return {**{"receipt_no": "API-0001", "bill_id": ns.bills[0], "amount_fen": 4000, "method": "微信",
               "paid_on": (date.today() - timedelta(days=1)).isoformat()}, **over}


# --- the document ----------------------------------------------------------------------------------

def test_openapi_document_validates_and_documents_every_route(app, client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate_spec(doc)
    assert doc["openapi"] == "3.1.0"
    documented = {(op.method, op.rule) for op in REGISTRY}
    undocumented = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in DOC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) not in documented:
                undocumented.append(f"{method} {rule.rule}")
    assert not undocumented, "routes of the API missing from the OpenAPI document: " + ", ".join(undocumented)
    paths = doc["paths"]
    assert paths["/api/v1/{district}/demands"]["post"]["x-scope"] == "demands:write"
    assert set(paths["/api/v1/{district}/demands"]["post"]["responses"]) >= {"200", "201", "401", "403", "404", "422", "429"}
    assert "Retry-After" in paths["/api/v1/{district}/compounds"]["get"]["responses"]["429"]["headers"]
    assert {"DemandIn", "DemandOut", "ErrorBody", "PaymentIn", "HouseholdList"} <= set(doc["components"]["schemas"])


def test_docs_page_is_rendered_from_the_document_without_scripts(client):
    resp = client.get("/api/v1/docs")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "转入 12345 工单（登记诉求）" in html and "/api/v1/{district}/households" in html
    assert "work_order_no" in html and "<script>" not in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def _validator(doc, status: str, op_doc: dict) -> Draft202012Validator:
    schema = dict(op_doc["responses"][status]["content"]["application/json"]["schema"])
    schema["components"] = doc["components"]
    return Draft202012Validator(schema)


def _sample(api, op):
    """A URL and a body that should succeed for each documented operation (alpha's client)."""
    a = api["alpha"]
    values = {"district": "alpha", "number": None, "evaluation_id": a.evaluation}
    token, body = a.token, None
    if op.endpoint == "api.get_demand":
        values["number"] = a.demand_number
    if op.endpoint == "api.create_payment":
        token, body = a.firm_token, pay_body(a)
    if op.endpoint == "api.create_demand":
        body = demand_body(a, work_order_no="GD-SAMPLE")
    url = op.path.format(**values)
    return url, token, body


def test_every_documented_route_answers_as_documented(app, client, api):
    doc = openapi()
    a = api["alpha"]
    made = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a))
    assert made.status_code == 201, made.get_json()
    a.demand_number = made.get_json()["number"]
    checked = 0
    for op in REGISTRY:
        op_doc = doc["paths"][op.path][op.method.lower()]
        url, token, body = _sample(api, op)
        resp = call(client, op.method, url, token, body)
        assert str(resp.status_code) in op_doc["responses"], (op.endpoint, resp.status_code, resp.get_json())
        assert resp.status_code == op.status, (op.endpoint, resp.get_json())
        errors = list(_validator(doc, str(resp.status_code), op_doc).iter_errors(resp.get_json()))
        assert not errors, (op.endpoint, [e.message for e in errors])
        # The error answers are documented too, in the one shape.
        for bad_url, bad_token, want in ((url, None, 401), (url, "wy_0000000000000000_" + "x" * 43, 401),
                                         (url.replace("/alpha/", "/beta/", 1), token, 404),
                                         (url.replace("/alpha/", "/nowhere/", 1), token, 404)):
            r = call(client, op.method, bad_url, bad_token, body)
            assert r.status_code == want, (op.endpoint, bad_url, r.status_code)
            assert str(want) in op_doc["responses"]
            assert not list(_validator(doc, str(want), op_doc).iter_errors(r.get_json())), r.get_json()
            assert r.get_json()["error"]["message"]
        checked += 1
    assert checked == len(REGISTRY) >= 12


def test_validation_errors_are_in_chinese_with_the_field(client, api):
    a = api["alpha"]
    for body, field, text in ((demand_body(a, title=""), "title", "请填写诉求标题"),
                              (demand_body(a, contact_phone="123"), "contact_phone", "11 位手机号"),
                              (demand_body(a, urgency="very"), "urgency", "取值应为"),
                              (demand_body(a, compound_id="x"), "compound_id", "整数"),
                              (demand_body(a, title="灯\x00坏"), "title", "控制字符"),
                              (demand_body(a, category_id=None, category="不存在"), "category", "没有名为"),
                              (demand_body(a, household_code="ZZ9"), "household_code", "户码"),
                              ({**demand_body(a), "extra": 1}, "extra", "不支持")):
        resp = call(client, "POST", "/api/v1/alpha/demands", a.token, body)
        assert resp.status_code == 422, (body, resp.get_json())
        err = resp.get_json()["error"]
        assert err["code"] == "validation" and err["field"] == field and text in err["message"], err
    resp = client.post("/api/v1/alpha/demands", data="not json", headers={"Authorization": f"Bearer {a.token}"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_request"
    with client.application.app_context(), tenant_scope(a.tenant_id):
        assert db.session.scalar(select(func.count(Demand.id))) == 0   # nothing written after an error


# --- demands ---------------------------------------------------------------------------------------

def test_demand_intake_takes_in_a_12345_work_order_and_reads_it_back(app, client, api):
    a = api["alpha"]
    resp = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a, category_id=None, category="维修"))
    assert resp.status_code == 201
    got = resp.get_json()
    assert got["number"].startswith("SQ") and got["status"] == "new" and got["status_label"] == "待派单"
    assert got["channel"] == "hotline_12345" and got["work_order_no"] == "GD20261201-0001"
    with app.app_context(), tenant_scope(a.tenant_id):
        d = db.session.execute(select(Demand)).scalar_one()
        assert (d.number, d.channel, d.compound_id, d.contact_phone) == (got["number"], "hotline_12345", a.compound1,
                                                                          "13912345678")
        assert d.deadline_at - d.received_at == timedelta(hours=72)      # 维修: 72 hours
        assert d.events[0].actor == "接口：12345 市民热线平台"
        audit = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "demand")).scalar_one()
        assert (audit.actor, audit.user_id, audit.action) == ("接口：12345 市民热线平台", None, "create")
    detail = call(client, "GET", f"/api/v1/alpha/demands/{got['number']}", a.token).get_json()
    assert [s["kind"] for s in detail["timeline"]] == ["submitted"]
    assert detail["timeline"][0]["label"] == "受理"
    listed = call(client, "GET", "/api/v1/alpha/demands?status=new", a.token).get_json()
    assert [d["number"] for d in listed["items"]] == [got["number"]] and listed["next_cursor"] is None
    assert call(client, "GET", "/api/v1/alpha/demands?status=closed", a.token).get_json()["items"] == []
    later = call(client, "GET", "/api/v1/alpha/demands?updated_since=2099-01-01T00:00:00%2B08:00", a.token)
    assert later.status_code == 200 and later.get_json()["items"] == []


def test_demand_intake_is_idempotent_by_work_order(app, client, api):
    a = api["alpha"]
    first = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a))
    again = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a, title="改了标题"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["number"] == first.get_json()["number"]
    other = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a, work_order_no="GD-2"))
    assert other.status_code == 201 and other.get_json()["number"] != first.get_json()["number"]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.scalar(select(func.count(Demand.id))) == 2


def _concurrently(app, fn, n=2):
    results, barrier = [None] * n, threading.Barrier(n)

    def run(i):
        c = app.test_client()
        barrier.wait()
        results[i] = fn(c)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_intake_of_one_work_order_makes_one_demand(app, client, api):
    a = api["alpha"]
    got = _concurrently(app, lambda c: call(c, "POST", "/api/v1/alpha/demands", a.token, demand_body(a)))
    assert sorted(r.status_code for r in got) == [200, 201], [r.get_json() for r in got]
    assert got[0].get_json()["number"] == got[1].get_json()["number"]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.scalar(select(func.count(Demand.id))) == 1
        assert db.session.scalar(select(func.count(ApiRequest.id))) == 1


def test_concurrent_intake_of_different_work_orders_gets_distinct_numbers(app, api):
    a = api["alpha"]
    got = _concurrently(app, lambda c: call(c, "POST", "/api/v1/alpha/demands", a.token,
                                            demand_body(a, work_order_no=f"GD-{threading.get_ident()}")), n=4)
    assert [r.status_code for r in got] == [201] * 4, [r.get_json() for r in got]
    assert len({r.get_json()["number"] for r in got}) == 4


# --- payments --------------------------------------------------------------------------------------

def test_payment_posting_reuses_the_payment_rules_and_refreshes_the_sums(app, client, api):
    a = api["alpha"]
    resp = call(client, "POST", "/api/v1/alpha/payments", a.firm_token, pay_body(a))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["bill_owed_fen"] == 6000
    again = call(client, "POST", "/api/v1/alpha/payments", a.firm_token, pay_body(a, amount_fen=100))
    assert again.status_code == 200 and again.get_json()["id"] == resp.get_json()["id"]
    too_much = call(client, "POST", "/api/v1/alpha/payments", a.firm_token, pay_body(a, receipt_no="API-2", amount_fen=6001))
    assert too_much.status_code == 422
    assert too_much.get_json()["error"]["field"] == "amount_fen" and "超过" in too_much.get_json()["error"]["message"]
    future = call(client, "POST", "/api/v1/alpha/payments", a.firm_token,
                  pay_body(a, receipt_no="API-3", paid_on=(date.today() + timedelta(days=2)).isoformat()))
    assert future.status_code == 422 and future.get_json()["error"]["field"] == "paid_on"
    with app.app_context(), tenant_scope(a.tenant_id):
        pay = db.session.execute(select(Payment)).scalar_one()
        assert (pay.amount_fen, pay.receipt_no, pay.method) == (4000, "API-0001", "微信")
        assert db.session.execute(select(BillSum.paid_fen).where(BillSum.compound_id == a.compound1)).scalar() == 4000
        audit = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "payment")).scalar_one()
        assert audit.actor == "接口：第1物业收费系统"


def test_concurrent_payment_with_one_receipt_posts_once(app, api):
    a = api["alpha"]
    got = _concurrently(app, lambda c: call(c, "POST", "/api/v1/alpha/payments", a.firm_token, pay_body(a)))
    assert sorted(r.status_code for r in got) == [200, 201], [r.get_json() for r in got]
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_payments_only_for_the_clients_firm(client, api):
    a = api["alpha"]
    other_firm = call(client, "POST", "/api/v1/alpha/payments", a.firm_token, pay_body(a, bill_id=a.bills[1]))
    assert other_firm.status_code == 404 and other_firm.get_json()["error"]["field"] == "bill_id"
    no_scope = call(client, "POST", "/api/v1/alpha/payments", a.token, pay_body(a))
    assert no_scope.status_code == 403 and "fees:write" in no_scope.get_json()["error"]["message"]
    beta_bill = call(client, "POST", "/api/v1/alpha/payments", a.firm_token, pay_body(a, bill_id=api["beta"].bills[0]))
    assert beta_bill.status_code == 404


# --- isolation and scopes --------------------------------------------------------------------------

def test_a_client_of_alpha_gets_404_for_every_object_of_beta(app, client, api):
    a, b = api["alpha"], api["beta"]
    beta_demand = call(client, "POST", "/api/v1/beta/demands", b.token, demand_body(b)).get_json()["number"]
    probed = set()
    for op in REGISTRY:
        url = op.path.format(district="beta", number=beta_demand, evaluation_id=b.evaluation)
        # Beta's address with alpha's token: 404, whatever the route.
        assert call(client, op.method, url, a.token, {}).status_code == 404, url
        probed.add(op.endpoint)
    # Beta's records under alpha's address.
    for url in (f"/api/v1/alpha/demands/{beta_demand}", f"/api/v1/alpha/evaluations/{b.evaluation}/results",
                f"/api/v1/alpha/evaluations/{b.evaluation}/lists", f"/api/v1/alpha/households?compound_id={b.compound1}",
                f"/api/v1/alpha/evaluations/{a.draft}/results"):
        r = call(client, "GET", url, a.token)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found", url
    r = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a, compound_id=b.compound1))
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "compound_id"
    # Lists never hold beta's rows.
    beta_ids = {"compounds": {b.compound1, b.compound2}, "firms": {b.firm1, b.firm2},
                "committees": {b.committee1, b.committee2}, "households": {b.household1, b.household2},
                "evaluations": {b.evaluation}}
    for what, ids in beta_ids.items():
        items = call(client, "GET", f"/api/v1/alpha/{what}", a.token).get_json()["items"]
        assert items and not ids & {i["id"] for i in items}, what
    assert call(client, "GET", "/api/v1/alpha/demands", a.token).get_json()["items"] == []
    assert len(probed) == len(REGISTRY)


def test_scopes_and_firm_limit_what_a_client_reaches(app, client, api):
    a = api["alpha"]
    firm_only = a.firm_token
    assert call(client, "POST", "/api/v1/alpha/demands", firm_only, demand_body(a)).status_code == 403
    assert call(client, "GET", "/api/v1/alpha/indicators", firm_only).status_code == 403
    compounds = call(client, "GET", "/api/v1/alpha/compounds", firm_only).get_json()["items"]
    assert [c["id"] for c in compounds] == [a.compound1]
    assert [f["id"] for f in call(client, "GET", "/api/v1/alpha/firms", firm_only).get_json()["items"]] == [a.firm1]
    households = call(client, "GET", f"/api/v1/alpha/households?compound_id={a.compound2}", firm_only)
    assert households.status_code == 404
    results = call(client, "GET", f"/api/v1/alpha/evaluations/{a.evaluation}/results", firm_only).get_json()
    assert [r["firm_id"] for r in results["items"]] == [a.firm1]
    # The district-wide client sees both firms' results and the lists; never the unpublished cycle.
    lists = call(client, "GET", f"/api/v1/alpha/evaluations/{a.evaluation}/lists", a.token).get_json()
    assert [r["firm_id"] for r in lists["red"]] == [a.firm1] and [r["firm_id"] for r in lists["black"]] == [a.firm2]
    evs = call(client, "GET", "/api/v1/alpha/evaluations", a.token).get_json()["items"]
    assert [e["id"] for e in evs] == [a.evaluation]
    # A client without a scope: 403 naming it.
    token = _client(app, a, "只读基础信息", ["register:read"])
    r = call(client, "GET", "/api/v1/alpha/demands", token)
    assert r.status_code == 403 and "demands:read" in r.get_json()["error"]["message"]


def test_register_pages_by_cursor(app, client, api):
    a = api["alpha"]
    seen, cursor = [], None
    while True:
        url = "/api/v1/alpha/households?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = call(client, "GET", url, a.token).get_json()
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([a.household1, a.household2])
    assert "owner_name" not in page["items"][0] if page["items"] else True
    r = call(client, "GET", "/api/v1/alpha/households?limit=201", a.token)
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "limit"


def test_indicators_are_the_dashboards_figures(app, client, api):
    from wuye_saas.dashboard import board
    from wuye_saas.indicators.snapshots import snapshot
    from wuye_saas.timeutil import now
    a = api["alpha"]
    month = date.today().replace(day=1)
    with app.app_context(), tenant_scope(a.tenant_id):
        snapshot(a.tenant_id, month, now())
        db.session.commit()
    got = call(client, "GET", "/api/v1/alpha/indicators", a.token).get_json()
    assert got["level"] == "district" and got["months"]
    last = got["months"][-1]
    with app.app_context(), tenant_scope(a.tenant_id):
        viewer = api_logic.Caller(0, a.tenant_id, "x", (), None, 1, "k", None).viewer
        fig = board.series(viewer, board.focus(viewer, "district"))[-1][0]
    assert last["month"] == fig.month.isoformat() and last["compounds"] == fig.compounds == 2
    for rate in fig.RATES:
        assert last["rates"][rate]["text"] == fig.text(rate)
        assert (last["rates"][rate]["numerator"], last["rates"][rate]["denominator"]) == \
            (getattr(fig, fig.RATES[rate][0]), getattr(fig, fig.RATES[rate][1]))
    street = call(client, "GET", f"/api/v1/alpha/indicators?level=street&street_id={a.street1}", a.token)
    assert street.status_code == 200 and street.get_json()["title"] == "甲区第1街道"
    beta_street = call(client, "GET", f"/api/v1/alpha/indicators?level=street&street_id={api['beta'].street1}", a.token)
    assert beta_street.status_code == 404


# --- tokens, sessions, limits ----------------------------------------------------------------------

def test_revoked_and_rotated_secrets_are_refused(app, client, api):
    a = api["alpha"]
    assert call(client, "GET", "/api/v1/alpha/compounds", a.token).status_code == 200
    with app.app_context(), tenant_scope(a.tenant_id):
        c = db.session.execute(select(ApiClient).where(ApiClient.name == "12345 市民热线平台")).scalar_one()
        new = api_logic.rotate(c)
        db.session.commit()
    old = call(client, "GET", "/api/v1/alpha/compounds", a.token)
    assert old.status_code == 401 and old.get_json()["error"]["code"] == "unauthorized"
    assert call(client, "GET", "/api/v1/alpha/compounds", new).status_code == 200
    wrong = new[:-2] + ("AA" if not new.endswith("AA") else "BB")
    assert call(client, "GET", "/api/v1/alpha/compounds", wrong).status_code == 401
    with app.app_context(), tenant_scope(a.tenant_id):
        c = db.session.execute(select(ApiClient).where(ApiClient.name == "12345 市民热线平台")).scalar_one()
        api_logic.revoke(c)
        db.session.commit()
    r = call(client, "GET", "/api/v1/alpha/compounds", new)
    assert r.status_code == 401 and "停用" in r.get_json()["error"]["message"]


def test_the_browser_session_never_authenticates_the_api(client, api):
    login(client, "alpha-district")
    r = client.get("/api/v1/alpha/compounds")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    # And a token's call is the client's, not the logged-in person's.
    made = call(client, "POST", "/api/v1/alpha/demands", api["alpha"].token, demand_body(api["alpha"]))
    assert made.status_code == 201   # no CSRF token needed: the API is exempt


def test_last_use_is_noted_at_most_once_a_minute(app, client, api):
    a = api["alpha"]
    call(client, "GET", "/api/v1/alpha/", a.token)
    with app.app_context(), tenant_scope(a.tenant_id):
        first = db.session.execute(select(ApiClient.last_used_at).where(ApiClient.name == "12345 市民热线平台")).scalar()
    assert first is not None
    call(client, "GET", "/api/v1/alpha/", a.token)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert db.session.execute(select(ApiClient.last_used_at).where(ApiClient.name == "12345 市民热线平台")).scalar() == first


def test_rate_limit_answers_429_with_retry_after(app, client, api):
    token = _client(app, api["alpha"], "限速客户端", ["register:read"], rate=2)
    assert [call(client, "GET", "/api/v1/alpha/firms", token).status_code for _ in range(2)] == [200, 200]
    r = call(client, "GET", "/api/v1/alpha/firms", token)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.get_json()["error"]["code"] == "rate_limited" and "每分钟最多调用 2 次" in r.get_json()["error"]["message"]
    # Per client: another client is not held back.
    assert call(client, "GET", "/api/v1/alpha/firms", api["alpha"].token).status_code == 200


# --- the admin pages -------------------------------------------------------------------------------

def test_admin_creates_a_client_and_sees_its_secret_once(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    assert "接口客户端" in client.get("/d/alpha/").get_data(as_text=True)
    assert "还没有接口客户端" in client.get("/d/alpha/api-clients/").get_data(as_text=True)
    client.get("/d/alpha/api-clients/new")
    missing_firm = post(client, "/d/alpha/api-clients/new",
                        {"name": "收费系统", "scopes": ["fees:write"], "firm_id": "0", "rate_per_minute": "60"})
    assert missing_firm.status_code == 422 and "须指定所代表的物业服务企业" in missing_firm.get_data(as_text=True)
    resp = post(client, "/d/alpha/api-clients/new", {"name": "12345 市民热线平台",
                                                     "scopes": ["demands:write", "demands:read"],
                                                     "firm_id": "0", "rate_per_minute": "120"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "令牌只显示这一次" in html
    assert resp.headers["Cache-Control"] == "no-store"
    import re
    token = re.search(r'value="(wy_[0-9a-f]{16}_[A-Za-z0-9_-]{43})"', html).group(1)
    listing = client.get("/d/alpha/api-clients/").get_data(as_text=True)
    assert "12345 市民热线平台" in listing and token not in listing and token.split("_", 2)[2] not in listing
    assert "从未调用" in listing
    assert client.get("/api/v1/alpha/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context(), tenant_scope(a.tenant_id):
        c = db.session.execute(select(ApiClient)).scalar_one()
        assert c.secret_hash != token and len(c.secret_hash) == 64 and token.split("_", 2)[2] not in c.secret_hash
        ev = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "api_client")).scalar_one()
        assert ev.actor == "甲区district" or ev.user_id is not None
        assert ev.changes.get("secret_hash") is None
        cid = c.id
    # Rotate: a confirmation first; then a new token, the old one refused.
    confirm = client.get(f"/d/alpha/api-clients/{cid}/rotate").get_data(as_text=True)
    assert "原令牌立即失效" in confirm
    rotated = post(client, f"/d/alpha/api-clients/{cid}/rotate", {}).get_data(as_text=True)
    new = re.search(r'value="(wy_[0-9a-f]{16}_[A-Za-z0-9_-]{43})"', rotated).group(1)
    assert new != token
    assert client.get("/api/v1/alpha/", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/alpha/", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    # Revoke: the GET only asks; the POST revokes.
    ask = client.get(f"/d/alpha/api-clients/{cid}/revoke")
    assert ask.status_code == 200 and "确认停用客户端" in ask.get_data(as_text=True)
    assert client.get("/api/v1/alpha/", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    done = post(client, f"/d/alpha/api-clients/{cid}/revoke", {})
    assert done.status_code == 302
    assert client.get("/api/v1/alpha/", headers={"Authorization": f"Bearer {new}"}).status_code == 401
    assert "已停用" in client.get("/d/alpha/api-clients/").get_data(as_text=True)


def test_only_the_district_admin_manages_clients(client, world):
    login(client, "alpha-community")
    assert client.get("/d/alpha/api-clients/").status_code == 403
    assert client.get("/d/alpha/api-clients/new").status_code == 403


# --- the demo --------------------------------------------------------------------------------------

def test_seed_demo_creates_the_12345_client_and_prints_its_token_once(app, client):
    import re
    from wuye_saas.tenancy import tenant_by_slug
    res = app.test_cli_runner().invoke(args=["seed-demo", "--slug", "apidemo", "--name", "演示接口区",
                                             "--compounds", "12", "--households", "1000", "--bill-months", "0"])
    assert res.exit_code == 0, res.output
    tokens = re.findall(r"wy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", res.output)
    assert len(tokens) == 1 and "12345 市民热线平台" in res.output
    token = tokens[0]
    with app.app_context():
        tid = tenant_by_slug("apidemo").id
        with tenant_scope(tid):
            c = db.session.execute(select(ApiClient)).scalar_one()
            assert (c.name, c.firm_id, sorted(c.scopes)) == ("12345 市民热线平台", None, sorted(
                ["demands:write", "demands:read", "register:read", "indicators:read"]))
            taken = db.session.execute(select(Demand).join(ApiRequest, ApiRequest.object_id == Demand.id)
                                       .where(ApiRequest.kind == "demand")).scalars().all()
            assert len(taken) == 2 and {d.channel for d in taken} == {"hotline_12345"}
            assert {d.events[0].actor for d in taken} == {"接口：12345 市民热线平台"}
    listed = call(client, "GET", "/api/v1/apidemo/demands?status=new", token).get_json()["items"]
    assert {d["work_order_no"] for d in listed if d["work_order_no"]} == {"CZ12345-20261206-00318",
                                                                         "CZ12345-20261206-00342"}
    assert call(client, "GET", "/api/v1/apidemo/indicators", token).status_code == 200


def test_a_demand_taken_in_by_the_api_is_in_the_communitys_list(client, api):
    a = api["alpha"]
    number = call(client, "POST", "/api/v1/alpha/demands", a.token, demand_body(a)).get_json()["number"]
    login(client, "alpha-community")
    html = client.get("/d/alpha/demands/?tab=new").get_data(as_text=True)
    assert number in html and "楼道灯不亮" in html


def test_unknown_api_addresses_and_methods_answer_json(client, api):
    r = client.get("/api/v1/alpha/nothing-here", headers={"Authorization": f"Bearer {api['alpha'].token}"})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.delete("/api/v1/alpha/demands", headers={"Authorization": f"Bearer {api['alpha'].token}"})
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
