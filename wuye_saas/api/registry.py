"""The API's routes and their description in one place: `operation` registers a Flask route AND
records what it is (method, path, scope, summary, parameters, request and response models, error
statuses); `openapi()` builds the OpenAPI 3.1 document from those records and the pydantic
models' JSON Schemas. So the document cannot drift from the code: a route exists only through
`operation`, and tests fail on any /api/v1 rule the registry does not know."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import wraps
from typing import Callable

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ValidationError

from .. import policy
from .errors import ERROR_CODES, ApiError, ErrorBody, validation_error

VERSION = "1.0.0"
TITLE = "红色物业 对外接口"
REF = "#/components/schemas/{model}"


@dataclass
class Operation:
    method: str
    rule: str                  # the Flask rule, e.g. /api/v1/<district>/demands/<number>
    endpoint: str
    summary: str
    description: str
    scope: str | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel]
    status: int
    also: dict[int, str] = field(default_factory=dict)   # other success statuses (200 on a repeat)
    errors: tuple[int, ...] = ()

    @property
    def path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [(name, "integer" if conv == "int" else "string")
                for conv, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", self.rule)]


REGISTRY: list[Operation] = []
AUTH_ERRORS = (401, 404, 429)


def operation(bp: Blueprint, prefix: str, rule: str, method: str, *, summary: str, response: type[BaseModel],
              scope: str | None = None, query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
              status: int = 200, also: dict[int, str] | None = None, errors: tuple[int, ...] = (),
              description: str = ""):
    """Register `fn` as the route `rule` of `bp` and record it. The view is called with the
    path's values, plus `query=` and `body=` (validated models) when declared; it returns a
    model of `response`, or (model, status)."""
    def deco(fn: Callable):
        @wraps(fn)
        def view(**values):
            if scope is not None and scope not in g.api_caller.scopes:
                raise ApiError(403, "forbidden", f"该客户端没有“{scope}”权限。")
            kw = dict(values)
            try:
                if query is not None:
                    kw["query"] = query.model_validate(request.args.to_dict())
                if body is not None:
                    data = request.get_json(silent=True)
                    if not isinstance(data, dict):
                        raise ApiError(400, "bad_request", "请求体应为 JSON 对象（Content-Type: application/json）。")
                    kw["body"] = body.model_validate(data)
            except ValidationError as e:
                raise validation_error(e) from None
            got = fn(**kw)
            model, code = got if isinstance(got, tuple) else (got, status)
            return jsonify(model.model_dump(mode="json")), code

        full = prefix + rule
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        op_errors = tuple(sorted(set(errors) | set(AUTH_ERRORS) | ({403} if scope else set())
                                 | ({400, 422} if body or query else set())))
        REGISTRY.append(Operation(method.upper(), full, f"{bp.name}.{fn.__name__}", summary,
                                  description or (fn.__doc__ or "").strip(), scope, query, body, response,
                                  status, also or {}, op_errors))
        return view
    return deco


def _schemas(models) -> dict:
    out = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _query_params(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        desc = prop.pop("description", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if desc:
            param["description"] = desc
        out.append(param)
    return out


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model) -> dict:
    return {"application/json": {"schema": _ref(model)}}


def openapi(server_url: str = "/") -> dict:
    models = {ErrorBody}
    paths: dict = {}
    for op in REGISTRY:
        models.add(op.response)
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": typ},
                   **({"description": "区（租户）的标识，与客户端所属的区一致"} if name == "district" else {})}
                  for name, typ in op.path_params]
        if op.query is not None:
            models.add(op.query)
            params += _query_params(op.query)
        responses = {str(op.status): {"description": "成功", "content": _json(op.response)}}
        for code, text in op.also.items():
            responses[str(code)] = {"description": text, "content": _json(op.response)}
        for code in op.errors:
            responses[str(code)] = {"description": ERROR_CODES[code][1], "content": _json(ErrorBody)}
            if code == 429:
                responses[str(code)]["headers"] = {"Retry-After": {
                    "description": "多少秒后可再次调用", "schema": {"type": "integer"}}}
        entry = {"operationId": op.endpoint.replace(".", "_"), "summary": op.summary,
                 "tags": [op.rule.split("/")[4] or "client"],
                 "parameters": params, "responses": responses}
        if op.description:
            entry["description"] = op.description
        if op.scope:
            entry["security"] = [{"bearer": []}]
            entry["x-scope"] = op.scope
        if op.body is not None:
            models.add(op.body)
            entry["requestBody"] = {"required": True, "content": _json(op.body)}
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "区级红色物业平台的 JSON 接口：12345 工单转入、诉求办理进度、基础信息、"
                                "三率等统计指标、考核结果与红黑榜、物业企业缴费登记。"
                                "认证：`Authorization: Bearer <令牌>`，令牌由区管理员在“接口客户端”页面创建。"},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": _schemas(sorted(models, key=lambda m: m.__name__)),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "wy_<客户端标识>_<密钥>"}}},
    }


def scope_label(scope: str | None) -> str:
    from .models import SCOPES
    return SCOPES.get(scope, "") if scope else ""


def may_write(area: str) -> bool:
    return policy.can(g.api_caller, "write", area)
