"""Dashboard API: figures as JSON and the lists behind them (thin views over the selectors)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import VIEW, get_for_user
from core.api.mixins import StrictQueryParamsMixin
from dashboard import selectors as sel
from organizations.models import Organization

PERIOD_PARAMS = [
    OpenApiParameter("year", int, description="统计年度（默认本年）"),
    OpenApiParameter("quarter", int, description="季度 1–4（默认本季度）"),
]
DRILL_PARAMS = [
    *PERIOD_PARAMS,
    OpenApiParameter("metric", str, required=True, description="指标"),
    OpenApiParameter("value", str, description="分组代码"),
]


def _org(request: Request, pk: Any) -> Organization:
    org = get_for_user(Organization, request.user, VIEW, pk=pk)
    if not sel.dashboard_allowed(request.user, org):
        raise Http404("对象不存在或无权访问")
    return org


def _drf(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


class DashboardView(StrictQueryParamsMixin, GenericAPIView):
    """统计看板：组织及全部下级的党员结构、发展党员、组织生活、党费、组织建设、星级评定与整改。"""

    allowed_query_params = frozenset({"year", "quarter"})
    pagination_class = None

    @extend_schema(parameters=PERIOD_PARAMS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        org = _org(request, pk)
        try:
            period = sel.dashboard_period(request.query_params)
            page = sel.page_param(request.query_params)
        except DjangoValidationError as exc:
            raise _drf(exc) from exc
        return Response(sel.dashboard_answer(user=request.user, org=org, period=period, page=page))


class DrillMemberSerializer(serializers.Serializer):
    """Members behind a figure: no ID numbers, phones or addresses."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    sex = serializers.CharField()
    birth_year = serializers.IntegerField(source="birth_date.year")
    organization_id = serializers.IntegerField()
    organization = serializers.CharField()
    stage = serializers.CharField()
    membership_status = serializers.CharField()
    dues_category = serializers.CharField()
    education = serializers.CharField()
    full_on = serializers.DateField()


class DashboardMembersView(StrictQueryParamsMixin, GenericAPIView):
    """统计看板下钻：某个数字背后的党员名单（按组织排列，不排名）。"""

    allowed_query_params = frozenset({"year", "quarter", "metric", "value"})
    serializer_class = DrillMemberSerializer

    @extend_schema(parameters=DRILL_PARAMS, responses=DrillMemberSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        org = _org(request, pk)
        try:
            period = sel.dashboard_period(request.query_params)
            qs = sel.member_drill_list(
                user=request.user,
                org=org,
                metric=request.query_params.get("metric", ""),
                value=request.query_params.get("value", ""),
                year=period.year,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from exc
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(DrillMemberSerializer(page, many=True).data)


class DrillOrgSerializer(serializers.Serializer):
    organization_id = serializers.IntegerField()
    name = serializers.CharField(source="organization__name")
    org_type = serializers.CharField(source="organization__org_type")
    count = serializers.IntegerField(source="total")


class DashboardOrganizationsView(StrictQueryParamsMixin, GenericAPIView):
    """统计看板下钻：某个数字背后的党组织清单（逾期事项、任期届满、欠交党费等）。"""

    allowed_query_params = frozenset({"year", "quarter", "metric", "value"})
    serializer_class = DrillOrgSerializer

    @extend_schema(parameters=DRILL_PARAMS, responses=DrillOrgSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        org = _org(request, pk)
        try:
            period = sel.dashboard_period(request.query_params)
            qs = sel.org_drill_rows(
                user=request.user,
                org=org,
                metric=request.query_params.get("metric", ""),
                value=request.query_params.get("value", ""),
                period=period,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from exc
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(DrillOrgSerializer(page, many=True).data)
