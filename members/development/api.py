"""发展党员 API: step records (list, record one step with its timing checks) and a branch's pipeline."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import CHANGE, VIEW, get_for_user, user_can
from core.api.mixins import GatedViewMixin, StrictQueryParamsMixin
from core.numbers import as_id, is_number
from members.api.serializers import StrictInputSerializer
from members.choices import Stage
from members.development.filters import DevelopmentStepFilterSet
from members.development.models import Decision, DevelopmentStep, FullOutcome, StepCode
from members.development.selectors import PIPELINE_STAGES, development_pipeline
from members.development.services import development_step_record
from members.models import Member
from organizations.models import Organization


def _positive_int(value: str, field: str) -> int:
    if not is_number(value) or int(value) < 1:
        raise ValidationError({field: "应为正整数 ID"})
    return as_id(value)


class DevelopmentStepInputSerializer(StrictInputSerializer):
    member = serializers.IntegerField(min_value=1)
    step = serializers.ChoiceField(choices=StepCode.choices)
    occurred_on = serializers.DateField(required=False, help_text="关联会议记录时可不填，按会议日期")
    decision = serializers.ChoiceField(choices=Decision.choices, required=False)
    decided_by = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    people = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=5)
    training_days = serializers.DecimalField(max_digits=5, decimal_places=1, required=False, min_value=0)
    training_hours = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, min_value=0)
    votes_expected = serializers.IntegerField(min_value=0, required=False)
    votes_present = serializers.IntegerField(min_value=0, required=False)
    votes_for = serializers.IntegerField(min_value=0, required=False)
    votes_against = serializers.IntegerField(min_value=0, required=False)
    votes_abstain = serializers.IntegerField(min_value=0, required=False)
    meeting_id = serializers.IntegerField(min_value=1, required=False, help_text="支部大会的会议记录编号（activities）")
    outcome = serializers.ChoiceField(choices=FullOutcome.choices, required=False)
    extension_months = serializers.IntegerField(min_value=1, max_value=24, required=False)
    attachment = serializers.FileField(required=False)


class DevelopmentStepOutputSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    step_display = serializers.CharField(source="get_step_display", read_only=True)
    people = serializers.SerializerMethodField()
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = DevelopmentStep
        fields = [
            "id",
            "member",
            "member_name",
            "organization",
            "step",
            "number",
            "step_display",
            "occurred_on",
            "decision",
            "decided_by",
            "note",
            "people",
            "training_days",
            "training_hours",
            "votes_expected",
            "votes_present",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "meeting_id",
            "outcome",
            "extension_months",
            "warnings",
            "has_attachment",
            "created_at",
        ]

    def get_people(self, obj: DevelopmentStep) -> list[dict[str, Any]]:
        return [{"id": p.pk, "name": p.name} for p in obj.people.all()]

    def get_has_attachment(self, obj: DevelopmentStep) -> bool:
        return bool(obj.attachment)


class DevelopmentStepViewSet(
    GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """发展党员步骤记录（5 个阶段 25 个步骤）。POST 登记下一步：不符合时限或顺序的拒绝并说明原因（400）；
    只需提醒的照常保存，提醒写在 ``warnings`` 中。"""

    gated_model = DevelopmentStep
    serializer_class = DevelopmentStepOutputSerializer
    queryset = DevelopmentStep.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = DevelopmentStepFilterSet

    def get_queryset(self) -> Any:
        qs = self.gated_queryset().select_related("member").prefetch_related("people")
        return qs.order_by("member__name", "member_id", "occurred_on", "number", "pk")

    @extend_schema(request=DevelopmentStepInputSerializer, responses={201: DevelopmentStepOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DevelopmentStepInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        member = get_for_user(Member.objects.select_related("organization"), request.user, VIEW, pk=data.pop("member"))
        if not user_can(request.user, CHANGE, member):
            raise PermissionDenied("无权登记该人员的发展步骤")
        people_ids = data.pop("people", [])
        people = list(Member.objects.visible_to(request.user, VIEW).filter(pk__in=people_ids))
        if len(people) != len(set(people_ids)):
            raise ValidationError({"people": "所选党员不存在或无权访问"})
        step = development_step_record(member=member, people=people, recorded_by=request.user, **data)
        step = DevelopmentStep.objects.select_related("member").prefetch_related("people").get(pk=step.pk)
        return Response(DevelopmentStepOutputSerializer(step).data, status=status.HTTP_201_CREATED)


class DevelopmentPipelineView(StrictQueryParamsMixin, APIView):
    """某党支部的发展党员进度：每人所处阶段、下一步及到期日、逾期提醒。"""

    allowed_query_params = frozenset({"organization", "stage"})

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int, required=True),
            OpenApiParameter("stage", str, enum=[s.value for s in PIPELINE_STAGES]),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if not params.get("organization"):
            raise ValidationError({"organization": "请指定党组织"})
        org = get_for_user(Organization, request.user, VIEW, pk=_positive_int(params["organization"], "organization"))
        if not user_can(request.user, VIEW, org, for_org_model=False):
            raise PermissionDenied("无权查看该组织的发展党员情况")
        stage = params.get("stage", "")
        if stage and stage not in [s.value for s in PIPELINE_STAGES]:
            raise ValidationError({"stage": "应为 applicant、activist、candidate 或 probationary"})
        entries = development_pipeline(organization=org, stage=stage)
        return Response(
            {
                "organization": org.pk,
                "people": [
                    {
                        "member": e.member.pk,
                        "name": e.member.name,
                        "stage": e.member.stage,
                        "stage_display": Stage(e.member.stage).label,
                        "stage_since": e.stage_since,
                        "last_step": e.last_step.step if e.last_step else None,
                        "last_step_on": e.last_step.occurred_on if e.last_step else None,
                        "level": e.level,
                        "next": [{"label": a.label, "due": a.due, "level": a.level} for a in e.actions],
                    }
                    for e in entries
                ],
            }
        )
