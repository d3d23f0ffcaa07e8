"""Organizational-life API: thin views over selectors and services, all through the access gate.

Foreign objects are 404; a foreign organization given in a body is a 400 on that field; writes
without CHANGE on the organization are 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from activities.api.filters import (
    FollowUpFilterSet,
    MeetingFilterSet,
    PlanFilterSet,
    StudyPointsFilterSet,
    StudyRecordFilterSet,
    TalkFilterSet,
    visible_organization,
)
from activities.api.serializers import (
    LONG_TEXTS,
    AppraisalEntryOutputSerializer,
    AppraisalInputSerializer,
    AttachmentOutputSerializer,
    AttachmentUploadSerializer,
    ComplianceOutputSerializer,
    CoverageOutputSerializer,
    FollowUpInputSerializer,
    FollowUpOutputSerializer,
    FollowUpUpdateSerializer,
    MeetingDetailOutputSerializer,
    MeetingInputSerializer,
    MeetingListOutputSerializer,
    PlanInputSerializer,
    PlanOutputSerializer,
    RosterOutputSerializer,
    StudyPointsInputSerializer,
    StudyPointsOutputSerializer,
    StudyRecordInputSerializer,
    StudyRecordOutputSerializer,
    TalkInputSerializer,
    TalkOutputSerializer,
)
from activities.attachments import attachment_add, attachment_delete, attachment_path
from activities.calendar import plan_save
from activities.choices import MeetingType
from activities.compliance import compliance_items, compliance_rollup
from activities.models import (
    AppraisalEntry,
    Attachment,
    Attendance,
    FollowUp,
    Meeting,
    Plan,
    PlanItem,
    Resolution,
    StudyPoints,
    StudyRecord,
    Talk,
)
from activities.selectors import meeting_roster, talk_coverage
from activities.services.appraisal import appraisal_grades_set
from activities.services.follow_ups import follow_up_create, follow_up_update
from activities.services.meetings import meeting_delete, meeting_save
from activities.services.study import member_visible, study_points_record, study_record_create, study_record_delete
from activities.services.talks import talk_create, talk_delete
from core.access import CHANGE, VIEW, get_for_user, user_can
from core.api.mixins import GatedViewMixin
from core.api.pagination import CappedPageNumberPagination
from core.api.versioning import versioned_edit, with_etag
from core.dates import today
from core.numbers import as_id, is_number
from members.models import Member
from members.selectors import member_names_in_scope
from organizations.choices import BRANCH_TYPES
from organizations.models import Organization

ORG_PARAM = OpenApiParameter("organization", int, description="党组织 ID")
YEAR_PARAM = OpenApiParameter("year", int, description="年度，如 2026")


def positive_int(value: Any, field: str) -> int:
    text = str(value)
    if not is_number(text) or int(text) < 1:
        raise ValidationError({field: "应为正整数"})
    return as_id(text)


def year_param(params: Any, *, required: bool = False) -> int | None:
    value = params.get("year")
    if value in (None, ""):
        if required:
            raise ValidationError({"year": "请指定年度"})
        return None
    if not is_number(value) or not 2000 <= int(value) <= 2100:
        raise ValidationError({"year": "年度应为 2000 至 2100 之间的整数"})
    return int(value)


def date_param(params: Any, name: str) -> dt.date:
    value = params.get(name)
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise ValidationError({name: "日期格式应为 YYYY-MM-DD"}) from exc


def org_from_param(request: Request, value: Any) -> Organization:
    """An organization named in a query string (an action's parameter): see ``visible_organization``."""
    return visible_organization(request, positive_int(value, "organization"))


def org_from_body(request: Request, pk: int) -> Organization:
    """An organization named in a request body: 400 when not visible, 403 when read-only."""
    org = Organization.objects.visible_to(request.user, VIEW).filter(pk=pk).first()
    if org is None:
        raise ValidationError({"organization": "党组织不存在或无权访问"})
    if not user_can(request.user, CHANGE, org):
        raise PermissionDenied("无权为该组织登记")
    return org


def _check_change(request: Request, obj: Any) -> None:
    if not user_can(request.user, CHANGE, obj):
        raise PermissionDenied("无权修改")


class PagedMixin:
    """Pagination for plain ViewSets (the same capped paginator as the generic views)."""

    pagination_class = CappedPageNumberPagination  # read by the schema generator (paginated list responses)

    @property
    def paginator(self) -> CappedPageNumberPagination:
        if not hasattr(self, "_paginator"):
            self._paginator = CappedPageNumberPagination()
        return self._paginator


# --- meetings --------------------------------------------------------------------------------------


class MeetingViewSet(PagedMixin, GatedViewMixin, viewsets.ViewSet):
    """会议/活动：列表、详情、新建与修改（出席与决议一次提交）、删除；出席名单预填、附件、民主评议结果。"""

    queryset = Meeting.objects.none()  # for the schema (path parameter types); rows come from the gate
    gated_model = Meeting
    filterset_class = MeetingFilterSet
    action_query_params = {"roster": frozenset({"organization", "held_on", "meeting_type", "is_center_group"})}
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        # The list's rows carry the organization's id, not the organization, and none of the long
        # texts (minutes run to pages): neither is read for it (#20.2).
        qs = self.gated_queryset().defer(*LONG_TEXTS).order_by("-held_on", "-start_time", "-pk")
        return self.filter_queryset(qs)

    @extend_schema(responses=MeetingListOutputSerializer(many=True))
    def list(self, request: Request) -> Response:
        page = self.paginator.paginate_queryset(self.get_queryset(), request, view=self)
        return self.paginator.get_paginated_response(MeetingListOutputSerializer(page, many=True).data)

    def _get(self, pk: Any, action_: str = VIEW) -> Meeting:
        qs = Meeting.objects.select_related("organization").prefetch_related(
            Prefetch("attendance", queryset=Attendance.objects.order_by("-is_expected", "is_guest", "name", "pk")),
            Prefetch("resolutions", queryset=Resolution.objects.select_related("follow_up")),
            "attachments",
        )
        return get_for_user(qs, self.request.user, action_, pk=positive_int(pk, "id"))

    @extend_schema(responses=MeetingDetailOutputSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        meeting = self._get(pk)
        return with_etag(Response(MeetingDetailOutputSerializer(meeting).data), meeting)

    def _save(self, request: Request, meeting: Meeting | None) -> Meeting:
        serializer = MeetingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        org = org_from_body(request, serializer.validated_data["organization"])
        header, attendance, resolutions = serializer.to_input()
        return meeting_save(
            user=request.user,
            organization=org,
            data=header,
            attendance=attendance,
            resolutions=resolutions,
            meeting=meeting,
            finish=serializer.validated_data["finish"],
        )

    def _output(self, meeting: Meeting, *, new: bool) -> dict[str, Any]:
        follow_ups = {f.resolution_id: f for f in getattr(meeting, "saved_follow_ups", [])}
        return MeetingDetailOutputSerializer(meeting, context={"new": new, "follow_ups": follow_ups}).data

    @extend_schema(request=MeetingInputSerializer, responses={201: MeetingDetailOutputSerializer})
    def create(self, request: Request) -> Response:
        meeting = self._save(request, None)
        return Response(self._output(meeting, new=True), status=status.HTTP_201_CREATED)

    @extend_schema(request=MeetingInputSerializer, responses=MeetingDetailOutputSerializer)
    def update(self, request: Request, pk: str | None = None) -> Response:
        meeting = self._get(pk, CHANGE)
        with versioned_edit(request, meeting):  # If-Match: 428 without, 412 when stale (#17.3)
            meeting = self._save(request, meeting)
        fresh = self._get(meeting.pk)
        return with_etag(Response(MeetingDetailOutputSerializer(fresh).data), fresh)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        meeting_delete(user=request.user, meeting=self._get(pk, CHANGE))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int, required=True),
            OpenApiParameter("held_on", dt.date, required=True),
            OpenApiParameter("meeting_type", str, enum=MeetingType.values, required=True),
            OpenApiParameter("is_center_group", bool),
        ],
        responses=RosterOutputSerializer,
    )
    @action(detail=False, methods=["get"])
    def roster(self, request: Request) -> Response:
        """出席名单预填：该组织在会议当日的党员（或委员），以及有表决权者。"""
        params = request.query_params
        org = org_from_param(request, params.get("organization", ""))
        held_on = date_param(params, "held_on")
        if held_on is None:
            raise ValidationError({"held_on": "请指定会议日期"})
        meeting_type = params.get("meeting_type", "")
        if meeting_type not in MeetingType.values:
            raise ValidationError({"meeting_type": "请指定会议类型"})
        roster = meeting_roster(
            organization=org,
            on=held_on,
            meeting_type=meeting_type,
            is_center_group=params.get("is_center_group") in ("1", "true"),
        )

        def person(p: Any) -> dict[str, Any]:
            return {
                "member_id": p.member_id,
                "position_id": p.position.pk if p.position else None,
                "name": p.name,
                "is_expected": p.is_expected,
                "is_voter": p.is_voter,
                "roles": p.roles,
            }

        return Response(
            {
                "expected": [person(p) for p in roster.expected],
                "others": [person(p) for p in roster.others],
                "committee_size": roster.committee_size,
            }
        )

    @extend_schema(
        request=AttachmentUploadSerializer,
        responses={200: AttachmentOutputSerializer(many=True), 201: AttachmentOutputSerializer},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """附件：列表；上传（JPEG/PNG/PDF，按内容检查，图片重新编码）。照片从不强制。"""
        if request.method == "GET":
            meeting = self._get(pk)
            return Response(AttachmentOutputSerializer(meeting.attachments.all(), many=True).data)
        meeting = self._get(pk, CHANGE)
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        content = upload.read(int(_max_bytes()) + 1)
        attachment = attachment_add(
            user=request.user,
            meeting=meeting,
            name=upload.name or "",
            content=content,
            kind=serializer.validated_data["kind"],
        )
        return Response(AttachmentOutputSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AppraisalInputSerializer, responses=AppraisalEntryOutputSerializer(many=True))
    @action(detail=True, methods=["get", "put"], parser_classes=[JSONParser])
    def appraisal(self, request: Request, pk: str | None = None) -> Response:
        """民主评议党员结果：正式党员评定等次（优秀不超过 1/3），预备党员参加但不评定。"""
        if request.method == "GET":
            meeting = self._get(pk)
            rows = AppraisalEntry.objects.filter(meeting=meeting).select_related("member").order_by("member__name")
            return Response(AppraisalEntryOutputSerializer(rows, many=True).data)
        meeting = self._get(pk, CHANGE)
        serializer = AppraisalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appraisal_grades_set(
            user=request.user, meeting=meeting, grades=[dict(g) for g in serializer.validated_data["grades"]]
        )
        rows = AppraisalEntry.objects.filter(meeting=meeting).select_related("member").order_by("member__name")
        return Response(AppraisalEntryOutputSerializer(rows, many=True).data)


def _max_bytes() -> int:
    from django.conf import settings

    return settings.PB_ATTACHMENT_MAX_BYTES


class AttachmentViewSet(GatedViewMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """附件：元数据、下载（仅经访问控制，Content-Disposition: attachment）、删除。"""

    gated_model = Attachment
    serializer_class = AttachmentOutputSerializer

    def get_queryset(self) -> Any:
        return self.gated_queryset()

    def get_object(self) -> Attachment:
        return get_for_user(Attachment, self.request.user, VIEW, pk=positive_int(self.kwargs["pk"], "id"))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        attachment = self.get_object()
        _check_change(request, attachment)
        attachment_delete(user=request.user, attachment=attachment)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="文件")})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> Any:
        return attachment_response(self.get_object())


def attachment_response(attachment: Attachment) -> FileResponse:
    path = attachment_path(attachment)
    if not path.exists():
        raise Http404("文件不存在")
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- follow-ups --------------------------------------------------------------------------------------


class FollowUpViewSet(PagedMixin, GatedViewMixin, viewsets.ViewSet):
    """决议落实事项：列表（可按组织、状态筛选）、详情、新建、更新状态。"""

    queryset = FollowUp.objects.none()  # for the schema (path parameter types); rows come from the gate
    gated_model = FollowUp
    filterset_class = FollowUpFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(responses=FollowUpOutputSerializer(many=True))
    def list(self, request: Request) -> Response:
        qs = self.filter_queryset(self.gated_queryset().select_related("meeting").order_by("status", "due_on", "pk"))
        page = self.paginator.paginate_queryset(qs, request, view=self)
        return self.paginator.get_paginated_response(FollowUpOutputSerializer(page, many=True).data)

    def _get(self, pk: Any) -> FollowUp:
        return get_for_user(
            FollowUp.objects.select_related("meeting", "organization"),
            self.request.user,
            VIEW,
            pk=positive_int(pk, "id"),
        )

    @extend_schema(responses=FollowUpOutputSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(FollowUpOutputSerializer(self._get(pk)).data)

    @extend_schema(request=FollowUpInputSerializer, responses={201: FollowUpOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = FollowUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = org_from_body(request, data.pop("organization"))
        follow_up = follow_up_create(user=request.user, organization=org, **data)
        return Response(FollowUpOutputSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FollowUpUpdateSerializer, responses=FollowUpOutputSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        follow_up = self._get(pk)
        _check_change(request, follow_up)
        serializer = FollowUpUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        follow_up = follow_up_update(
            user=request.user,
            follow_up=follow_up,
            status=data.get("status"),
            note=data.get("note"),
            owner_name=data.get("owner_name"),
            due_on=data.get("due_on", ...),
        )
        return Response(FollowUpOutputSerializer(follow_up).data)


# --- talks -------------------------------------------------------------------------------------------


class TalkViewSet(PagedMixin, GatedViewMixin, viewsets.ViewSet):
    """谈心谈话：按谈话双方记录；覆盖情况（每名委员与每名党员每年至少一次）。"""

    queryset = Talk.objects.none()  # for the schema (path parameter types); rows come from the gate
    gated_model = Talk
    filterset_class = TalkFilterSet
    action_query_params = {"coverage": frozenset({"organization", "year"})}
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(responses=TalkOutputSerializer(many=True))
    def list(self, request: Request) -> Response:
        qs = self.gated_queryset().select_related("initiator", "counterpart").order_by("-held_on", "-pk")
        page = self.paginator.paginate_queryset(self.filter_queryset(qs), request, view=self)
        return self.paginator.get_paginated_response(TalkOutputSerializer(page, many=True).data)

    def _get(self, pk: Any) -> Talk:
        return get_for_user(
            Talk.objects.select_related("initiator", "counterpart", "organization"),
            self.request.user,
            VIEW,
            pk=positive_int(pk, "id"),
        )

    @extend_schema(responses=TalkOutputSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(TalkOutputSerializer(self._get(pk)).data)

    @extend_schema(request=TalkInputSerializer, responses={201: TalkOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = TalkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = org_from_body(request, data.pop("organization"))
        ids = [data.pop("initiator_id"), data.pop("counterpart_id")]
        # Members outside the user's scope read like ids that do not exist, and are audited (#21.2).
        visible = member_names_in_scope(request.user, ids)
        people = {m.pk: m for m in Member.objects.filter(pk__in=visible)}
        initiator, counterpart = people.get(ids[0]), people.get(ids[1])
        if initiator is None or counterpart is None:
            field = "initiator_id" if initiator is None else "counterpart_id"
            raise ValidationError({field: ["所选人员不存在或不是本组织党员"]})
        talk = talk_create(user=request.user, organization=org, initiator=initiator, counterpart=counterpart, **data)
        return Response(TalkOutputSerializer(talk).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        talk = self._get(pk)
        _check_change(request, talk)
        talk_delete(user=request.user, talk=talk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[OpenApiParameter("organization", int, required=True), YEAR_PARAM],
        responses=CoverageOutputSerializer,
    )
    @action(detail=False, methods=["get"])
    def coverage(self, request: Request) -> Response:
        params = request.query_params
        org = org_from_param(request, params.get("organization", ""))
        year = year_param(params) or today().year
        on = min(dt.date(year, 12, 31), today())
        coverage = talk_coverage(organization=org, year=year, on=on)
        pairs = [
            {
                "committee_member_id": person.member_id,
                "committee_member_name": person.name,
                "member_id": member.pk,
                "member_name": member.name,
                "covered": covered,
            }
            for person, rows, _ in coverage.rows()
            for member, covered in rows
        ]
        return Response(
            {
                "organization_id": org.pk,
                "year": year,
                "required": coverage.required,
                "done": coverage.done,
                "complete": coverage.complete,
                "pairs": pairs,
                "unlinked_committee_seats": [p.name for p in coverage.unlinked],
            }
        )


# --- study -------------------------------------------------------------------------------------------


class StudyRecordViewSet(PagedMixin, GatedViewMixin, viewsets.ViewSet):
    """学习记录（学时）：党员看到本人的；书记看到本支部的。会议学时由会议记录自动计入。不排名。"""

    queryset = StudyRecord.objects.none()  # for the schema (path parameter types); rows come from the gate
    gated_model = StudyRecord
    filterset_class = StudyRecordFilterSet
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(responses=StudyRecordOutputSerializer(many=True))
    def list(self, request: Request) -> Response:
        qs = self.gated_queryset().select_related("member").order_by("-studied_on", "-pk")
        page = self.paginator.paginate_queryset(self.filter_queryset(qs), request, view=self)
        return self.paginator.get_paginated_response(StudyRecordOutputSerializer(page, many=True).data)

    @extend_schema(responses=StudyRecordOutputSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        record = get_for_user(
            StudyRecord.objects.select_related("member"), request.user, VIEW, pk=positive_int(pk, "id")
        )
        return Response(StudyRecordOutputSerializer(record).data)

    @extend_schema(request=StudyRecordInputSerializer, responses={201: StudyRecordOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = StudyRecordInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        member = member_visible(request.user, data.pop("member_id"))
        if member is None:
            raise ValidationError({"member_id": "党员不存在或无权访问"})
        record = study_record_create(user=request.user, member=member, **data)
        return Response(StudyRecordOutputSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        record = get_for_user(
            StudyRecord.objects.select_related("member", "organization"), request.user, VIEW, pk=positive_int(pk, "id")
        )
        try:
            study_record_delete(user=request.user, record=record)
        except DjangoPermissionDenied as exc:  # pragma: no cover - the service raises ValidationError
            raise PermissionDenied(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudyPointsViewSet(PagedMixin, GatedViewMixin, viewsets.ViewSet):
    """学习强国积分：按日期手工登记的数字（组织启用后才可登记），不排名、不考核。"""

    queryset = StudyPoints.objects.none()  # for the schema (path parameter types); rows come from the gate
    gated_model = StudyPoints
    filterset_class = StudyPointsFilterSet
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(responses=StudyPointsOutputSerializer(many=True))
    def list(self, request: Request) -> Response:
        qs = self.gated_queryset().order_by("-recorded_on", "-pk")
        page = self.paginator.paginate_queryset(self.filter_queryset(qs), request, view=self)
        return self.paginator.get_paginated_response(StudyPointsOutputSerializer(page, many=True).data)

    @extend_schema(request=StudyPointsInputSerializer, responses={201: StudyPointsOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = StudyPointsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        member = member_visible(request.user, data.pop("member_id"))
        if member is None:
            raise ValidationError({"member_id": "党员不存在或无权访问"})
        row = study_points_record(user=request.user, member=member, **data)
        return Response(StudyPointsOutputSerializer(row).data, status=status.HTTP_201_CREATED)


# --- plans -------------------------------------------------------------------------------------------


class PlanViewSet(PagedMixin, GatedViewMixin, viewsets.ViewSet):
    """季度计划：新建或整体替换某季度的计划会议（报备后可继续调整）。"""

    queryset = Plan.objects.none()  # for the schema (path parameter types); rows come from the gate
    gated_model = Plan
    filterset_class = PlanFilterSet
    http_method_names = ["get", "post", "head", "options"]

    def _queryset(self) -> Any:
        return self.gated_queryset().prefetch_related(
            Prefetch("items", queryset=PlanItem.objects.order_by("planned_on", "start_time", "pk"))
        )

    @extend_schema(responses=PlanOutputSerializer(many=True))
    def list(self, request: Request) -> Response:
        qs = self._queryset().order_by("-year", "-quarter", "pk")
        page = self.paginator.paginate_queryset(self.filter_queryset(qs), request, view=self)
        return self.paginator.get_paginated_response(PlanOutputSerializer(page, many=True).data)

    @extend_schema(responses=PlanOutputSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        plan = get_for_user(self._queryset(), request.user, VIEW, pk=positive_int(pk, "id"))
        return Response(PlanOutputSerializer(plan).data)

    @extend_schema(request=PlanInputSerializer, responses={201: PlanOutputSerializer})
    def create(self, request: Request) -> Response:
        serializer = PlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = org_from_body(request, data.pop("organization"))
        if org.org_type not in BRANCH_TYPES and org.org_type != "group":
            raise ValidationError({"organization": "季度计划由党支部（党小组）填报"})
        plan = plan_save(
            user=request.user,
            organization=org,
            year=data["year"],
            quarter=data["quarter"],
            items=[dict(i) for i in data["items"]],
            note=data.get("note", ""),
            submit=data["submit"],
        )
        plan = self._queryset().get(pk=plan.pk)
        return Response(PlanOutputSerializer(plan).data, status=status.HTTP_201_CREATED)


# --- compliance --------------------------------------------------------------------------------------


class OrganizationComplianceView(GatedViewMixin, APIView):
    """合规日历：该组织在某年（或某季度、某月）应开展的事项及完成状态；上级组织另附下级汇总。"""

    gated_model = Organization
    allowed_query_params = frozenset({"year", "quarter", "month"})

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="年度（默认今年）"),
            OpenApiParameter("quarter", int, enum=[1, 2, 3, 4]),
            OpenApiParameter("month", int, description="1–12（不能与 quarter 同时使用）"),
        ],
        responses=ComplianceOutputSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        org = org_from_param(request, pk)
        params = request.query_params
        year = year_param(params) or today().year
        quarter = month = None
        if params.get("quarter") not in (None, ""):
            value = params["quarter"]
            if value not in ("1", "2", "3", "4"):
                raise ValidationError({"quarter": "季度应为 1 至 4"})
            quarter = int(value)
        if params.get("month") not in (None, ""):
            value = params["month"]
            if not is_number(value) or not 1 <= int(value) <= 12:
                raise ValidationError({"month": "月份应为 1 至 12"})
            month = int(value)
        if quarter and month:
            raise ValidationError({"month": "季度与月份只能指定一个"})
        items = compliance_items(organization=org, year=year, quarter=quarter, month=month)
        rollup = None
        if org.org_type not in BRANCH_TYPES and org.org_type != "group":
            rollup = compliance_rollup(organization=org, year=year, quarter=quarter, month=month).as_dict()
        return Response(
            {
                "organization_id": org.pk,
                "year": year,
                "quarter": quarter,
                "month": month,
                "items": [item.as_dict() for item in items],
                "rollup": rollup,
            }
        )
