"""ETag and If-Match for records people edit (#17.3, core/versioning.py).

GET of such a record sends ``ETag: "<model>-<id>-v<row_version>"``; PUT/PATCH must send it back in
``If-Match``: missing → 428, stale → 412 (with the current ETag, nothing changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException

from core.versioning import VersionConflict, version_claim

T = TypeVar("T")
_TAG_RE = re.compile(r'^(?:W/)?"([a-z0-9_]+)-(\d+)-v(\d+)"$')


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "修改须带 If-Match 请求头：先获取记录，把响应中的 ETag 原样带上"
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "记录已被他人修改：请重新获取后再提交（未作任何修改）"
    default_code = "precondition_failed"


def etag(obj: Any) -> str:
    return f'"{obj._meta.model_name}-{obj.pk}-v{obj.row_version}"'


def with_etag(response: Any, obj: Any) -> Any:
    response["ETag"] = etag(obj)
    return response


def if_match_version(request: Any, obj: Any) -> int:
    """The version the client edited, from ``If-Match``; 428 without one, 412 for another record's
    tag or a malformed one."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    match = _TAG_RE.match(header.strip())
    if not match or match.group(1) != obj._meta.model_name or int(match.group(2)) != obj.pk:
        raise PreconditionFailed()
    return int(match.group(3))


@contextmanager
def versioned_edit(request: Any, obj: Any) -> Iterator[None]:
    """Wrap an API edit: check ``If-Match`` and claim the version in the edit's transaction."""
    expected = if_match_version(request, obj)
    try:
        with transaction.atomic():
            version_claim(obj, expected)
            yield
    except VersionConflict as exc:
        failed = PreconditionFailed()
        if exc.current is not None:
            failed.current_etag = f'"{obj._meta.model_name}-{obj.pk}-v{exc.current}"'  # type: ignore[attr-defined]
        raise failed from exc


def versioned_call(request: Any, obj: Any, edit: Callable[[], T]) -> T:
    with versioned_edit(request, obj):
        return edit()


# For the POST actions that edit a versioned record (a rating's scores, a dues re-fix): the schema
# the PUT/PATCH operations get from core/api/schema.py.
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="修改已有记录时必填：GET 时响应中的 ETag（#17.3）",
)
PRECONDITION_RESPONSES = {
    412: OpenApiResponse(description="记录已被他人修改（If-Match 过期），未作修改"),
    428: OpenApiResponse(description="须带 If-Match 请求头"),
}
