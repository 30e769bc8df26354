"""The JSON API under /api/v1/<district>/…: a bearer token (never the browser's session), the
client's district, scopes and firm; the same logic and the one policy as the pages. Every route
is declared through registry.operation, which also describes it in /api/v1/openapi.json."""
from __future__ import annotations

import random
import time
from datetime import timezone

from flask import Blueprint, g, jsonify, render_template, request
from limits import parse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .. import policy, tenancy
from ..audit import reset_actor, set_actor
from ..dashboard import board
from ..demands import logic as demand_logic
from ..demands.models import EVENT_KINDS, HOTLINE_12345, STATUSES, Demand, DemandCategory, DemandEvent
from ..evaluation.models import Assessment, Evaluation
from ..extensions import csrf, db
from ..fees import payments
from ..fees.models import Bill, Payment
from ..org.models import Committee, Compound, Firm, Household
from ..ratelimit import limiter
from ..timeutil import now, today
from . import logic, schemas as s
from .errors import ApiError, error_response
from .models import ApiRequest
from .registry import operation, openapi

PREFIX = "/api/v1/<district>"
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
bp = Blueprint("api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)   # a bearer token authenticates it, never the session: nothing to forge
# 诉求编号 come from the district's counter (demands.logic.next_number); a number taken by a
# writer that does not use it (an import) makes the insert fail and the intake try again.
NUMBER_RETRIES = 8


# --- the request cycle ---------------------------------------------------------------------------

@bp.url_value_preprocessor
def _district(endpoint, values):
    g.api_slug = (values or {}).pop("district", None)


@bp.before_request
def _authenticate():
    """Bearer token → the client; its district must be the address's (else 404); its rate."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "请在请求头 Authorization 中提供令牌：Bearer wy_…。",
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    caller, why = logic.authenticate(token.strip())
    if caller is None:
        text = ("该客户端已被停用，令牌不再有效。" if why == "revoked"
                else "令牌无效（密钥错误或已轮换）。")
        raise ApiError(401, "unauthorized", text, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    tenant = tenancy.tenant_ref(g.api_slug or "")
    if tenant is None or not tenant.active or tenant.id != caller.tenant_id:
        raise ApiError(404, "not_found", "没有这个区，或该客户端不属于该区。")
    g.tenant = tenant
    g.tenant_token = tenancy.enter(tenant.id)
    previous = g.pop("actor_token", None)     # a browser session's person never acts here
    if previous is not None:
        reset_actor(previous)
    g.actor_token = set_actor(None, caller.actor_name)
    g.api_caller = caller
    _rate_limit(caller)
    if logic.touch(caller):
        db.session.commit()


def _rate_limit(caller) -> None:
    item = parse(f"{caller.rate_per_minute} per minute")
    keys = ("api-client", caller.key_id)
    if limiter.limiter.hit(item, *keys):
        return
    reset = limiter.limiter.get_window_stats(item, *keys).reset_time
    wait = max(1, int(reset - time.time() + 0.999))
    raise ApiError(429, "rate_limited", f"调用过于频繁：该客户端每分钟最多调用 {caller.rate_per_minute} 次，"
                                        f"请 {wait} 秒后再试。", headers={"Retry-After": str(wait)})


@bp.errorhandler(ApiError)
@docs_bp.errorhandler(ApiError)
def _api_error(e: ApiError):
    db.session.rollback()
    return e.response()


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    db.session.rollback()
    return error_response(e.code or 400)


@docs_bp.app_errorhandler(405)
def _method_not_allowed(e):
    """A method an address of the API does not take: JSON there, the plain answer elsewhere."""
    if request.path.startswith("/api/"):
        return error_response(405, "该接口地址不支持此请求方法，请对照 /api/v1/openapi.json。")
    return e


def _one_or_404(stmt, what: str, field: str | None = None):
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        raise ApiError(404, "not_found", f"没有这个{what}，或不在该客户端的范围内。", field)
    return obj


def _caller():
    return g.api_caller


def _page(model, query, out, *where):
    stmt = select(model).where(policy.visible(_caller(), model), *where)
    if query.cursor:
        stmt = stmt.where(model.id > query.cursor)
    rows = db.session.execute(stmt.order_by(model.id).limit(query.limit)).scalars().all()
    return [out(r) for r in rows], (rows[-1].id if len(rows) == query.limit else None)


# --- documentation (no token: the document describes, it holds no data) ---------------------------

@docs_bp.route("/openapi.json")
def openapi_json():
    return jsonify(openapi())


@docs_bp.route("/docs")
def docs():
    return render_template("api/docs.html", doc=openapi())


@operation(bp, PREFIX, "/", "GET", summary="当前客户端", response=s.ApiIndex,
           description="令牌对应的客户端：所属区、权限范围和所代表的企业。可用于检查令牌是否有效。")
def index():
    c = _caller()
    return s.ApiIndex(district=g.tenant.slug, client=c.name, scopes=list(c.scopes), firm_id=c.firm_id)


# --- demands ---------------------------------------------------------------------------------------

def _work_orders(ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(ApiRequest.object_id, ApiRequest.key).where(
        ApiRequest.client_id == _caller().id, ApiRequest.kind == "demand", ApiRequest.object_id.in_(ids))).all())


def _demand_out(d: Demand, work_order: str | None, cls=s.DemandOut, **extra):
    return cls(number=d.number, status=d.status, status_label=STATUSES[d.status], compound_id=d.compound_id,
               category=d.category.name, channel=d.channel, urgency=d.urgency, title=d.title,
               received_at=d.received_at, deadline_at=d.deadline_at, resolved_at=d.resolved_at,
               closed_at=d.closed_at, overdue=demand_logic.is_overdue(d), work_order_no=work_order, **extra)


def _earlier(kind: str, key: str) -> int | None:
    return db.session.execute(select(ApiRequest.object_id).where(
        ApiRequest.client_id == _caller().id, ApiRequest.kind == kind, ApiRequest.key == key)).scalar()


def _category_id(body: s.DemandIn) -> int:
    if body.category_id:
        return body.category_id
    if body.category:
        cid = db.session.execute(select(DemandCategory.id).where(
            DemandCategory.name == body.category, DemandCategory.active.is_(True))).scalar()
        if cid is None:
            names = "、".join(c.name for c in demand_logic.categories(active_only=True))
            raise ApiError(422, "validation", f"没有名为“{body.category}”的诉求分类；本区的分类：{names}。", "category")
        return cid
    raise ApiError(422, "validation", "请提供诉求分类 category_id 或分类名称 category。", "category_id")


@operation(bp, PREFIX, "/demands", "POST", scope="demands:write", body=s.DemandIn, response=s.DemandOut,
           status=201, also={200: "同一工单编号已转入过：返回原诉求，不重复登记"}, errors=(409,),
           summary="转入 12345 工单（登记诉求）")
def create_demand(body: s.DemandIn):
    """以“12345 热线”渠道登记一件诉求，返回诉求编号、状态和办理时限。按工单编号幂等：同一客户端
    再次提交同一 work_order_no（包括并发提交）只登记一件，返回 200 和原诉求。"""
    caller = _caller()
    key = body.work_order_no
    done = _earlier("demand", key)
    if done is not None:
        return _demand_out(db.session.get(Demand, done), key), 200
    if not policy.can(caller, "write", "demand_intake"):
        raise ApiError(403, "forbidden", "该客户端不能登记诉求。")
    _one_or_404(select(Compound).where(Compound.id == body.compound_id, policy.visible(caller, Compound)),
                "小区", "compound_id")
    data = demand_logic.Intake(category_id=_category_id(body), title=body.title, description=body.description,
                               contact_name=body.contact_name, contact_phone=body.contact_phone,
                               household_code=body.household_code, urgency=body.urgency, channel=HOTLINE_12345)
    for attempt in range(NUMBER_RETRIES):
        try:
            req = ApiRequest(client_id=caller.id, kind="demand", key=key, object_id=0)
            db.session.add(req)
            db.session.flush()        # a concurrent call with the same key waits here, then fails
            d = demand_logic.intake(caller, body.compound_id, data)
            req.object_id = d.id
            db.session.commit()
        except demand_logic.NumberTaken:
            db.session.rollback()
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))   # apart, not in step again
            continue
        except demand_logic.DemandProblem as e:
            db.session.rollback()
            field = {"channel": "channel"}.get(e.field, e.field)
            code = {403: "forbidden", 404: "not_found", 409: "conflict"}.get(e.status, "validation")
            raise ApiError(e.status if e.status in (403, 404, 409) else 422, code, e.message, field) from None
        except IntegrityError:
            db.session.rollback()
            done = _earlier("demand", key)
            if done is None:
                raise
            return _demand_out(db.session.get(Demand, done), key), 200
        return _demand_out(d, key), 201
    raise ApiError(409, "conflict", "诉求编号生成冲突，请稍后重试。")


@operation(bp, PREFIX, "/demands", "GET", scope="demands:read", query=s.DemandQuery, response=s.DemandList,
           summary="诉求列表（按 id 游标分页）")
def list_demands(query: s.DemandQuery):
    """客户端范围内的诉求（全区客户端：全区；代表企业的客户端：派给该企业的），按 id 升序。"""
    where = []
    if query.status:
        where.append(Demand.status == query.status)
    if query.updated_since:
        since = query.updated_since
        if since.tzinfo is not None:
            since = since.astimezone(timezone.utc).replace(tzinfo=None)
        where.append(Demand.id.in_(select(DemandEvent.demand_id).where(DemandEvent.at >= since)))
    rows, cursor = _page(Demand, query, lambda d: d, *where)
    orders = _work_orders([d.id for d in rows])
    return s.DemandList(items=[_demand_out(d, orders.get(d.id)) for d in rows], next_cursor=cursor)


def _step_text(ev: DemandEvent) -> str:
    data = ev.data or {}
    if ev.kind == "dispatched":
        return f"承办方：{demand_logic.ASSIGNEE_KINDS.get(data.get('assignee_kind'), '')}"
    if ev.kind == "resolved":
        return ev.note
    if ev.kind == "visited":
        return f"满意度：{demand_logic.SATISFACTION.get(data.get('satisfaction'), '')}"
    return ""


@operation(bp, PREFIX, "/demands/<number>", "GET", scope="demands:read", response=s.DemandDetail,
           summary="诉求状态与办理过程")
def get_demand(number: str):
    """一件诉求的当前状态和办理过程（受理、派单、接单、办结、回访……；不含经办人姓名和内部备注）。"""
    d = _one_or_404(select(Demand).where(Demand.number == number, policy.visible(_caller(), Demand)), "诉求")
    steps = [s.DemandStep(kind=ev.kind, label=EVENT_KINDS.get(ev.kind, ev.kind), at=ev.at, text=_step_text(ev))
             for ev in sorted(d.events, key=lambda e: (e.at, e.id)) if ev.kind != "note"]
    return _demand_out(d, _work_orders([d.id]).get(d.id), s.DemandDetail, timeline=steps)


# --- payments --------------------------------------------------------------------------------------

def _payment_out(p: Payment) -> s.PaymentOut:
    return s.PaymentOut(id=p.id, receipt_no=p.receipt_no, bill_id=p.bill_id, amount_fen=p.amount_fen,
                        method=p.method, paid_on=p.paid_on, bill_owed_fen=payments.balance(p.bill_id).owed)


@operation(bp, PREFIX, "/payments", "POST", scope="fees:write", body=s.PaymentIn, response=s.PaymentOut,
           status=201, also={200: "同一收据号已登记过：返回原缴费，不重复登记"}, errors=(409,),
           summary="登记缴费（物业企业）")
def create_payment(body: s.PaymentIn):
    """为客户端所代表企业的账单登记一笔居民缴费，校验与页面相同（不超过尚欠、收据号不重复、日期不晚于今天）。
    按收据号幂等：同一客户端再次提交同一 receipt_no（包括并发提交）只登记一笔，返回 200 和原缴费。"""
    caller = _caller()
    key = body.receipt_no
    done = _earlier("payment", key)
    if done is not None:
        return _payment_out(db.session.get(Payment, done)), 200
    if not policy.can(caller, "write", "payment"):
        raise ApiError(403, "forbidden", "只有代表物业服务企业的客户端才能登记缴费。")
    bill = _one_or_404(select(Bill).where(Bill.id == body.bill_id, policy.visible(caller, Bill)), "账单", "bill_id")
    try:
        req = ApiRequest(client_id=caller.id, kind="payment", key=key, object_id=0)
        db.session.add(req)
        db.session.flush()
        pay, problems = payments.record_payment(bill, body.amount_fen, body.method, key, body.paid_on, today(),
                                                body.note)
        if pay is not None:
            req.object_id = pay.id
            db.session.commit()
            return _payment_out(pay), 201
    except IntegrityError:
        problems = {"receipt_no": ""}
    db.session.rollback()
    done = _earlier("payment", key)
    if done is not None:          # a concurrent call with the same receipt number made it
        return _payment_out(db.session.get(Payment, done)), 200
    field, message = next(iter(problems.items()))
    raise ApiError(422, "validation", message or "该收据号已被使用，请换一个。",
                   {"amount": "amount_fen"}.get(field, field))


# --- the register ----------------------------------------------------------------------------------

@operation(bp, PREFIX, "/compounds", "GET", scope="register:read", query=s.Page, response=s.CompoundList,
           summary="小区")
def list_compounds(query: s.Page):
    """客户端范围内的小区（代表企业的客户端：该企业有有效合同的小区）。"""
    items, cursor = _page(Compound, query, lambda c: s.CompoundOut(
        id=c.id, name=c.name, community_id=c.community_id, address=c.address, compound_type=c.compound_type,
        build_year=c.build_year, area_m2=None if c.area_m2 is None else str(c.area_m2),
        management_mode=c.management_mode, household_count=c.household_count))
    return s.CompoundList(items=items, next_cursor=cursor)


@operation(bp, PREFIX, "/firms", "GET", scope="register:read", query=s.Page, response=s.FirmList,
           summary="物业服务企业")
def list_firms(query: s.Page):
    items, cursor = _page(Firm, query, lambda f: s.FirmOut(
        id=f.id, name=f.name, credit_code=f.credit_code, qualification=f.qualification, party_status=f.party_status))
    return s.FirmList(items=items, next_cursor=cursor)


@operation(bp, PREFIX, "/committees", "GET", scope="register:read", query=s.Page, response=s.CommitteeList,
           summary="业委会（物管会）")
def list_committees(query: s.Page):
    items, cursor = _page(Committee, query, lambda c: s.CommitteeOut(
        id=c.id, compound_id=c.compound_id, kind=c.kind, name=c.name, term_start=c.term_start,
        term_end=c.term_end, filing_status=c.filing_status))
    return s.CommitteeList(items=items, next_cursor=cursor)


@operation(bp, PREFIX, "/households", "GET", scope="register:read", query=s.HouseholdQuery,
           response=s.HouseholdList, summary="住户（房屋）")
def list_households(query: s.HouseholdQuery):
    """房屋登记（不含业主姓名、电话和户码）。可按 compound_id 筛选。"""
    where = []
    if query.compound_id:
        _one_or_404(select(Compound).where(Compound.id == query.compound_id, policy.visible(_caller(), Compound)),
                    "小区", "compound_id")
        where.append(Household.compound_id == query.compound_id)
    items, cursor = _page(Household, query, lambda h: s.HouseholdOut(
        id=h.id, compound_id=h.compound_id, building_id=h.building_id, room=h.room, floor=h.floor,
        floor_area=str(h.floor_area)), *where)
    return s.HouseholdList(items=items, next_cursor=cursor)


# --- indicators ------------------------------------------------------------------------------------

def _rate(fig, name: str) -> s.Rate:
    num, den = fig.RATES[name]
    return s.Rate(value=fig.value(name), text=fig.text(name), numerator=getattr(fig, num),
                  denominator=getattr(fig, den))


@operation(bp, PREFIX, "/indicators", "GET", scope="indicators:read", query=s.IndicatorQuery,
           response=s.Indicators, summary="三率与统计指标（按月）")
def indicators(query: s.IndicatorQuery):
    """与工作台相同的月度快照：全区、街道、社区或小区最近 12 个月的三率（业委会组建率、物业服务覆盖率、
    党的组织覆盖率）、诉求按时办结率与满意率、缴费率、公示按时率，以及全区的 12345 热线诉求量。
    仅限不代表企业的（全区）客户端。"""
    caller = _caller()
    if caller.firm_id is not None:
        raise ApiError(403, "forbidden", "代表物业企业的客户端不能读取全区统计指标。")
    viewer = caller.viewer
    try:
        f = board.focus(viewer, query.level, *(None if i is None else str(i)
                                               for i in (query.street_id, query.community_id, query.compound_id)))
    except board.NotInScope:
        raise ApiError(404, "not_found", "没有这个统计范围（街道、社区或小区）。") from None
    months = [fig for fig, _ in board.series(viewer, f)]
    hotline = dict(demand_logic.hotline_by_month(board.node_scope(f) or viewer, now()))
    out = [s.IndicatorMonth(month=fig.month, taken_at=fig.taken_at, compounds=fig.compounds,
                            households=fig.households, no_service=fig.no_service, received=fig.received,
                            overdue=fig.overdue, rates={r: _rate(fig, r) for r in fig.RATES},
                            hotline_12345=hotline.get(fig.month))
           for fig in months]
    return s.Indicators(level=f.level, title=f.title, months=out)


# --- evaluation ------------------------------------------------------------------------------------

def _evaluation_out(ev: Evaluation) -> s.EvaluationOut:
    return s.EvaluationOut(id=ev.id, name=ev.name, kind=ev.kind, period_start=ev.period_start,
                           period_end=ev.period_end, published_at=ev.published_at)


def _published(evaluation_id: int) -> Evaluation:
    return _one_or_404(select(Evaluation).where(Evaluation.id == evaluation_id, Evaluation.status == "published",
                                                policy.visible(_caller(), Evaluation)), "已发布的考核")


def _results(ev: Evaluation) -> list[s.ResultOut]:
    rows = db.session.execute(select(Assessment, Firm.name).join(Firm, Firm.id == Assessment.firm_id).where(
        Assessment.evaluation_id == ev.id, policy.visible(_caller(), Assessment))
        .order_by(Assessment.rank.is_(None), Assessment.rank, Assessment.id)).all()
    return [s.ResultOut(firm_id=a.firm_id, firm=name, compound_id=a.compound_id,
                        total=None if a.total is None else str(a.total), stars=a.stars, rank=a.rank,
                        list_kind=a.list_kind, vetoed=a.vetoed) for a, name in rows]


@operation(bp, PREFIX, "/evaluations", "GET", scope="evaluation:read", query=s.Page, response=s.EvaluationList,
           summary="已发布的考核")
def list_evaluations(query: s.Page):
    items, cursor = _page(Evaluation, query, _evaluation_out, Evaluation.status == "published")
    return s.EvaluationList(items=items, next_cursor=cursor)


@operation(bp, PREFIX, "/evaluations/<int:evaluation_id>/results", "GET", scope="evaluation:read",
           response=s.ResultList, summary="考核结果")
def evaluation_results(evaluation_id: int):
    """已发布考核的结果（得分、星级、名次、榜单）；代表企业的客户端只看到本企业的。"""
    ev = _published(evaluation_id)
    return s.ResultList(evaluation=_evaluation_out(ev), items=_results(ev))


@operation(bp, PREFIX, "/evaluations/<int:evaluation_id>/lists", "GET", scope="evaluation:read",
           response=s.Lists, summary="红黑榜")
def evaluation_lists(evaluation_id: int):
    """已发布考核的红榜、黄榜、黑榜。"""
    ev = _published(evaluation_id)
    results = _results(ev)
    return s.Lists(evaluation=_evaluation_out(ev), **{k: [r for r in results if r.list_kind == k]
                                                      for k in ("red", "yellow", "black")})
