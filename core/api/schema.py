"""OpenAPI post-processing: document the error responses every endpoint can give.

drf-spectacular documents only the success codes. The API also answers 400 (bad query parameter
or body, with field errors), 401 (a token presented but revoked or expired), 403 (not signed in, or read-only for this user), 404 (outside the
user's scope, or no such object or page) and 413 (body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``), so
clients and the schemathesis run (tests/security/test_api_fuzz.py) can check every status code.
POST also takes ``Idempotency-Key`` (409 on reuse with another body, #17.2); PUT/PATCH of the
versioned records need ``If-Match`` (412 stale, 428 missing, #17.3).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "description": "错误：{detail: 说明}；参数或内容错误时为 {字段名: [说明, …]}（不属于某个字段的在 non_field_errors 下）",
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

ERROR_RESPONSES = {
    "400": "请求参数或内容不合规（字段错误）",
    "401": "令牌无效、已注销或已过期（Authorization: Token …）",
    "403": "未登录，或无权执行此操作",
    "404": "对象不存在或不在本人的权限范围内",
    "413": "请求内容过大",
    "500": "服务器内部错误（JSON，含请求编号 request_id，与响应头 X-Request-ID 及服务器日志一致）",
    "503": "系统暂时不可用（如数据库重启），稍后重试（Retry-After）",
}


METHOD_RESPONSES = {
    "post": {"409": "幂等键已用于内容不同的另一请求，或相同请求仍在处理中"},
    "put": {"412": "记录已被他人修改（If-Match 过期），未作修改", "428": "须带 If-Match 请求头"},
    "patch": {"412": "记录已被他人修改（If-Match 过期），未作修改", "428": "须带 If-Match 请求头"},
}
METHOD_HEADERS = {
    "post": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 8, "maxLength": 200},
        "description": "幂等键（建议 UUID）：相同的键和内容只执行一次，重发得到第一次的响应",
    },
    "put": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "会议、党员、考评方案、整改事项必填：GET 时响应中的 ETag",
    },
}
METHOD_HEADERS["patch"] = METHOD_HEADERS["put"]


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            if method in METHOD_HEADERS:
                operation.setdefault("parameters", []).append(dict(METHOD_HEADERS[method]))
            for code, description in {**ERROR_RESPONSES, **METHOD_RESPONSES.get(method, {})}.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result


# The integer bounds drf-spectacular copies from the database backend's column ranges: PostgreSQL's
# smallint/integer/bigint, or SQLite's 64-bit for every column. They describe the storage, not the
# API, and would make the committed schema (docs/openapi.yaml) depend on the database it was
# generated against, so they are left out; bounds a serializer or model declares itself stay.
STORAGE_MAXIMA = {32767, 2147483647, 9223372036854775807}
STORAGE_MINIMA = {-32768, -2147483648, -9223372036854775808}


def drop_storage_integer_bounds(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer":
                dropped = set()
                for key, storage in (("maximum", STORAGE_MAXIMA), ("minimum", STORAGE_MINIMA)):
                    if node.get(key) in storage:
                        dropped.add(node.pop(key))
                if dropped & {9223372036854775807, -9223372036854775808} and node.get("format") == "int64":
                    node.pop("format")  # added by drf-spectacular only because of the 64-bit bound
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
