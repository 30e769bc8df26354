"""The API's request and response bodies (pydantic v2): validated on the way in, serialised on
the way out, and — through registry.openapi — the schemas of the OpenAPI document."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from ..demands.models import STATUSES, URGENCIES
from ..fees.models import PAYMENT_METHODS
from ..formutil import CONTROL, CONTROL_MESSAGE


def _utc(dt: datetime | None) -> str | None:
    """Stored naive UTC → ISO 8601 with its offset (…Z)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


Time = Annotated[datetime, PlainSerializer(_utc, return_type=str)]
LIMIT = Field(default=50, ge=1, le=200, description="每页条数，1–200，默认 50")
CURSOR = Field(default=None, ge=0, description="上一页返回的 next_cursor；不传为第一页")


class In(BaseModel):
    """A request body or query: unknown fields are refused, text without control characters."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control(cls, v):
        if isinstance(v, str) and CONTROL.search(v):
            raise ValueError(CONTROL_MESSAGE + "。")
        return v


class Page(In):
    cursor: int | None = CURSOR
    limit: int = LIMIT


# --- demands ---------------------------------------------------------------------------------

class DemandIn(In):
    """A 12345 work order taken in as a demand (渠道：12345 热线)."""
    work_order_no: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$",
                               description="12345 平台的工单编号；同一客户端重复提交同一编号返回同一诉求")
    compound_id: int = Field(ge=1, description="小区 id（见 GET /compounds）")
    category_id: int | None = Field(default=None, ge=1, description="诉求分类 id；与 category 二选一")
    category: str | None = Field(default=None, max_length=30, description="诉求分类名称，如“维修”")
    title: str = Field(max_length=100, description="诉求标题，不超过 100 字")
    description: str = Field(default="", max_length=2000, description="诉求内容，不超过 2000 字")
    contact_name: str = Field(max_length=40, description="联系人")
    contact_phone: str = Field(max_length=20, description="11 位手机号或带区号的固定电话")
    household_code: str = Field(default="", max_length=16, description="户码（可选），须属于该小区")
    urgency: Literal[tuple(URGENCIES)] = Field(default="normal", description="normal 一般，urgent 紧急")


class DemandOut(BaseModel):
    number: str = Field(description="诉求编号")
    status: Literal[tuple(STATUSES)]
    status_label: str
    compound_id: int
    category: str
    channel: str
    urgency: str
    title: str
    received_at: Time
    deadline_at: Time = Field(description="办理时限")
    resolved_at: Time | None = None
    closed_at: Time | None = None
    overdue: bool
    work_order_no: str | None = Field(default=None, description="转入时的 12345 工单编号（本客户端转入的）")


class DemandStep(BaseModel):
    kind: str
    label: str
    at: Time
    text: str = ""


class DemandDetail(DemandOut):
    timeline: list[DemandStep]


class DemandQuery(Page):
    status: Literal[tuple(STATUSES)] | None = Field(default=None, description="按状态筛选")
    updated_since: datetime | None = Field(default=None, description="只列此时刻（ISO 8601）之后有办理进展的诉求")


class DemandList(BaseModel):
    items: list[DemandOut]
    next_cursor: int | None = Field(description="下一页的 cursor；没有更多时为 null")


# --- payments --------------------------------------------------------------------------------

class PaymentIn(In):
    receipt_no: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-]+$",
                            description="收据号；同一客户端重复提交同一收据号返回同一笔缴费")
    bill_id: int = Field(ge=1, description="账单 id")
    amount_fen: int = Field(ge=1, le=10**9, description="金额（分）")
    method: Literal[tuple(PAYMENT_METHODS)] = Field(description="收款方式")
    paid_on: date = Field(description="收款日期")
    note: str = Field(default="", max_length=200)


class PaymentOut(BaseModel):
    id: int
    receipt_no: str
    bill_id: int
    amount_fen: int
    method: str
    paid_on: date
    bill_owed_fen: int = Field(description="登记后该账单居民尚欠（分）")


# --- register --------------------------------------------------------------------------------

class CompoundOut(BaseModel):
    id: int
    name: str
    community_id: int
    address: str
    compound_type: str
    build_year: int | None
    area_m2: str | None
    management_mode: str
    household_count: int


class FirmOut(BaseModel):
    id: int
    name: str
    credit_code: str
    qualification: str
    party_status: str


class CommitteeOut(BaseModel):
    id: int
    compound_id: int
    kind: str
    name: str
    term_start: date
    term_end: date
    filing_status: str


class HouseholdOut(BaseModel):
    """A unit of the register. Owners' names, phones and household codes are not given out."""
    id: int
    compound_id: int
    building_id: int
    room: str
    floor: int | None
    floor_area: str


class HouseholdQuery(Page):
    compound_id: int | None = Field(default=None, ge=1, description="只列该小区的住户")


class CompoundList(BaseModel):
    items: list[CompoundOut]
    next_cursor: int | None


class FirmList(BaseModel):
    items: list[FirmOut]
    next_cursor: int | None


class CommitteeList(BaseModel):
    items: list[CommitteeOut]
    next_cursor: int | None


class HouseholdList(BaseModel):
    items: list[HouseholdOut]
    next_cursor: int | None


# --- indicators ------------------------------------------------------------------------------

class IndicatorQuery(In):
    level: Literal["district", "street", "community", "compound"] = Field(default="district", description="统计范围")
    street_id: int | None = Field(default=None, ge=1)
    community_id: int | None = Field(default=None, ge=1)
    compound_id: int | None = Field(default=None, ge=1)


class Rate(BaseModel):
    value: float | None = Field(description="比率（0–1）；分母为 0 时为 null")
    text: str = Field(description="页面上显示的形式，如 87.5%")
    numerator: int
    denominator: int


class IndicatorMonth(BaseModel):
    month: date
    taken_at: Time | None
    compounds: int
    households: int
    no_service: int
    received: int = Field(description="当月受理诉求")
    overdue: int
    rates: dict[str, Rate] = Field(description="committee_rate 业委会组建率、service_rate 物业服务覆盖率、"
                                               "party_rate 党的组织覆盖率（三率），以及 on_time_rate、"
                                               "satisfaction_rate、collection_rate、publicity_rate")
    hotline_12345: int | None = Field(default=None, description="12345 热线诉求量（全区、当月）")


class Indicators(BaseModel):
    level: str
    title: str
    months: list[IndicatorMonth]


# --- evaluation ------------------------------------------------------------------------------

class EvaluationOut(BaseModel):
    id: int
    name: str
    kind: str
    period_start: date
    period_end: date
    published_at: Time | None


class EvaluationList(BaseModel):
    items: list[EvaluationOut]
    next_cursor: int | None


class ResultOut(BaseModel):
    firm_id: int
    firm: str
    compound_id: int | None = Field(description="考核的小区；全企业考核时为 null")
    total: str | None
    stars: int | None
    rank: int | None
    list_kind: Literal["red", "yellow", "black"] | None = Field(description="red 红榜、yellow 黄榜、black 黑榜")
    vetoed: bool


class ResultList(BaseModel):
    evaluation: EvaluationOut
    items: list[ResultOut]


class Lists(BaseModel):
    evaluation: EvaluationOut
    red: list[ResultOut]
    yellow: list[ResultOut]
    black: list[ResultOut]


class ApiIndex(BaseModel):
    district: str
    client: str
    scopes: list[str]
    firm_id: int | None
