"""The API's one error shape: {"error": {"code": "...", "message": "中文说明", "field": "..."}}."""
from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, Field, ValidationError

ERROR_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "缺少令牌、令牌无效或客户端已停用"),
    403: ("forbidden", "客户端没有该权限范围，或不能对该记录进行此操作"),
    404: ("not_found", "不存在，或不在客户端所属的区、企业范围内"),
    405: ("method_not_allowed", "不支持的请求方法"),
    409: ("conflict", "与记录当前状态冲突"),
    422: ("validation", "字段校验未通过"),
    429: ("rate_limited", "调用过于频繁"),
    500: ("server_error", "服务器内部错误，请稍后重试"),
}


class ErrorDetail(BaseModel):
    code: str = Field(description="错误类别：" + "、".join(c for c, _ in ERROR_CODES.values()))
    message: str = Field(description="中文说明")
    field: str | None = Field(default=None, description="出错的字段（校验错误时）")


class ErrorBody(BaseModel):
    """Every error of the API."""
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers or {}

    def response(self):
        body = ErrorBody(error=ErrorDetail(code=self.code, message=self.message, field=self.field))
        resp = jsonify(body.model_dump(mode="json"))
        resp.status_code = self.status
        for k, v in self.headers.items():
            resp.headers[k] = v
        return resp


def error_response(status: int, message: str | None = None, field: str | None = None, headers=None):
    code, text = ERROR_CODES.get(status, ("error", "请求失败"))
    return ApiError(status, code, message or text + "。", field, headers).response()


def _message(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "缺少必填字段。"
    if kind == "extra_forbidden":
        return "不支持该字段。"
    if kind.startswith("string_too_long"):
        return f"不能超过 {ctx.get('max_length')} 个字符。"
    if kind.startswith("string_too_short"):
        return "不能为空。"
    if kind.startswith("string_pattern"):
        return "格式不正确。"
    if kind.startswith("string"):
        return "应为字符串。"
    if kind.startswith("int") or kind == "greater_than_equal" or kind == "less_than_equal":
        if "ge" in ctx or "le" in ctx:
            return f"应为 {ctx.get('ge', '')} 到 {ctx.get('le', '')} 之间的整数。".replace(" 到  之间", "")
        return "应为整数。"
    if kind in ("greater_than", "less_than"):
        return "数值超出允许范围。"
    if kind == "literal_error":
        return f"取值应为：{ctx.get('expected', '')}。"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "日期时间格式不正确，应为 ISO 8601（如 2026-12-01 或 2026-12-01T08:00:00+08:00）。"
    if kind == "value_error":
        return str(ctx.get("error", "")) or "取值不正确。"
    if kind == "bool_parsing" or kind == "bool_type":
        return "应为 true 或 false。"
    return "取值不正确。"


def validation_error(e: ValidationError) -> ApiError:
    """The first problem of a pydantic validation, in Chinese, naming its field."""
    err = e.errors(include_url=False)[0]
    field = ".".join(str(p) for p in err.get("loc", ())) or None
    status = 422
    return ApiError(status, "validation", _message(err), field)
