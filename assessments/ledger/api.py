"""``GET /api/v1/organizations/{id}/ledger/?year=YYYY&format=pdf|xlsx``: DRF picks the renderer
from ``format`` (PDF and XLSX renderers registered here); errors are JSON whatever was asked."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.ledger.services import ledger_export
from core.access import VIEW, get_for_user
from core.api.mixins import StrictQueryParamsMixin
from core.xlsx import XLSX_TYPE
from organizations.models import Organization


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None) -> Any:
        return data


class XLSXRenderer(PDFRenderer):
    media_type = XLSX_TYPE
    format = "xlsx"


class LedgerApi(StrictQueryParamsMixin, APIView):
    """组织生活台账（党支部，按年度）：PDF 或 XLSX 下载（审计）。"""

    renderer_classes = [PDFRenderer, XLSXRenderer, JSONRenderer]
    allowed_query_params = frozenset({"year"})

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, required=True, description="年度"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["pdf", "xlsx"], description="文件格式（默认 pdf）"),
        ],
        responses={(200, "application/pdf"): bytes, (200, XLSX_TYPE): bytes},
    )
    def get(self, request: Request, pk: int) -> Response:
        org = get_for_user(Organization, request.user, VIEW, pk=pk)
        fmt = request.accepted_renderer.format if request.accepted_renderer.format in ("pdf", "xlsx") else "pdf"
        content, filename = ledger_export(
            organization=org, year=request.query_params.get("year"), fmt=fmt, user=request.user
        )
        response = Response(content, content_type=PDFRenderer.media_type if fmt == "pdf" else XLSX_TYPE)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        response["Cache-Control"] = "no-store"
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(response, "exception", False) or response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
