"""Organization API: thin views over selectors and services, all through the access gate."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import CHANGE, VIEW, get_for_user, get_prepared_for_user
from core.api.filters import validated_filterset
from core.api.mixins import GatedViewMixin
from core.compiled import PreparedLookup
from organizations import services
from organizations.api.filters import OrganizationFilterSet
from organizations.api.serializers import (
    CommitteeTermSerializer,
    OrganizationInputSerializer,
    OrganizationOutputSerializer,
)
from organizations.models import CommitteeTerm, Organization, Position
from organizations.selectors import organization_list, organization_with_flag_data, organization_with_parent_id

# One organization with its flags' data and its parent's id: compiled once per process (#20.1).
ORGANIZATION_DETAIL = PreparedLookup(Organization, lambda qs: organization_with_parent_id(organization_with_flag_data(qs)))


class OrganizationViewSet(GatedViewMixin, viewsets.ModelViewSet):
    """党组织：列表、详情、新建、修改（含调整上级组织）、删除（仅限无下级、无党员的组织）。"""

    gated_model = Organization
    queryset = Organization.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = OrganizationFilterSet
    serializer_class = OrganizationOutputSerializer

    def get_queryset(self) -> Any:
        return organization_list(user=self.request.user, **validated_filterset(self).selector_kwargs())

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["parent_ids"] = {}
        return context

    def _with_parent_ids(self, orgs: list[Organization]) -> dict[str, Any]:
        parent_paths = {org.parent_path for org in orgs if org.depth > 1}
        ids = dict(Organization.objects.filter(path__in=parent_paths).values_list("path", "pk"))
        return {**self.get_serializer_context(), "parent_ids": ids}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = OrganizationOutputSerializer(page, many=True, context=self._with_parent_ids(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = self.get_object()  # its parent's id annotated: one query for the whole answer
        return Response(OrganizationOutputSerializer(org, context=self.get_serializer_context()).data)

    def get_object(self) -> Organization:
        org = get_prepared_for_user(ORGANIZATION_DETAIL, self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, org)
        return org

    @extend_schema(request=OrganizationInputSerializer, responses={201: OrganizationOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OrganizationInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        parent = data.pop("parent", None)
        if parent is None and not self._can_create_root(request):
            raise ValidationError({"parent": "请选择上级组织"})
        org = services.organization_create(parent=parent, user=request.user, **data)
        org = organization_with_flag_data(Organization.objects.filter(pk=org.pk)).get()
        return Response(
            OrganizationOutputSerializer(org, context=self._with_parent_ids([org])).data,
            status=status.HTTP_201_CREATED,
        )

    def _can_create_root(self, request: Request) -> bool:
        # Only a superuser creates a new top-level organization; everyone else works in a subtree.
        return bool(request.user.is_superuser)

    @extend_schema(request=OrganizationInputSerializer, responses={200: OrganizationOutputSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        org = get_for_user(Organization, request.user, CHANGE, pk=self.kwargs["pk"])
        serializer = OrganizationInputSerializer(data=request.data, partial=partial, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        parent = data.pop("parent", ...)
        if parent is None and org.depth > 1 and not self._can_create_root(request):
            raise ValidationError({"parent": "请选择上级组织"})
        org = services.organization_update(org=org, parent=parent, user=request.user, **data)
        org = organization_with_flag_data(Organization.objects.filter(pk=org.pk)).get()
        return Response(OrganizationOutputSerializer(org, context=self._with_parent_ids([org])).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = get_for_user(Organization, request.user, CHANGE, pk=self.kwargs["pk"])
        services.organization_delete(org=org, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=CommitteeTermSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def terms(self, request: Request, pk: str | None = None) -> Response:
        """委员会届次及职务历史（最新在前）。"""
        org = get_for_user(Organization, request.user, VIEW, pk=pk)
        terms = (
            CommitteeTerm.objects.filter(organization=org)
            .prefetch_related(Prefetch("positions", queryset=Position.objects.in_rank_order()))
            .order_by("-number")
        )
        return Response(CommitteeTermSerializer(terms, many=True).data)
