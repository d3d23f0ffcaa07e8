"""``GET /api/v1/organizations/{id}/party-statistics/?year=YYYY`` (JSON; ``format=xlsx`` for the
workbook). For those who read the subtree's member data (an org_admin or auditor over it; a
branch's secretary for the branch)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.mixins import StrictQueryParamsMixin
from core.dates import today
from core.numbers import is_number
from core.xlsx import XLSX_TYPE
from members.statistics.selectors import party_statistics
from members.statistics.views import statistics_organization, statistics_xlsx


class XlsxRenderer(BaseRenderer):
    """Lets DRF accept ``format=xlsx``; the view answers with the workbook itself."""

    media_type = XLSX_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else b""


def statistics_year(params: Any) -> int:
    value = params.get("year")
    if value in (None, ""):
        return today().year - 1 if today().month < 12 else today().year
    if not is_number(value) or not 2000 <= int(value) <= 2100:
        raise ValidationError({"year": "年度应为 2000 至 2100 之间的整数"})
    return int(value)


class PartyStatisticsView(StrictQueryParamsMixin, APIView):
    """年度党内统计：截至 12 月 31 日本组织及下级组织的党员构成、当年发展党员、党组织情况和党员增减，
    并核对“年初数 + 增加 − 减少 = 年末数”，不平衡的逐人列出。"""

    allowed_query_params = frozenset({"year"})
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def handle_exception(self, exc: Exception) -> Any:
        """Errors are JSON whatever format was asked for (a 403 is never an empty workbook)."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="统计年度（默认上一年；12 月起为当年）"),
            OpenApiParameter("format", str, enum=["json", "xlsx"], description="xlsx：下载统计表"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, XLSX_TYPE): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> Any:
        org = statistics_organization(request, pk)
        year = statistics_year(request.query_params)
        stats = party_statistics(organization=org, year=year)
        if getattr(request.accepted_renderer, "format", "") == "xlsx":
            return statistics_xlsx(request, org, stats)
        return Response(stats)
