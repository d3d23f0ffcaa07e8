"""换届选举 API (/api/v1/elections/): list, detail, open, and one POST per step of the flow.

Thin: each action parses its input, fetches the election through the gate and calls one service;
the services authorize (the branch's steps: its secretary or an org_admin above; approvals: the
organization above) and refuse with Chinese field errors (400), saving nothing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from activities.choices import AttendanceStatus
from activities.elections.models import BallotCount, BallotRound, Candidate, Election, Post
from activities.elections.selectors import (
    LIST_STAGES,
    election_detail_queryset,
    election_list,
    election_next_step,
    post_states,
)
from activities.elections.services import afterwards, authorize_step, prepare, voting
from activities.services.inputs import AttendanceInput
from core.access import VIEW, get_for_user
from core.api.filters import ChoiceFilter, IdFilter, SelectorFilterSet, validated_filterset
from core.api.mixins import GatedViewMixin
from core.numbers import as_id, is_number
from members.api.serializers import StrictInputSerializer
from organizations.choices import PositionCode
from organizations.models import Organization

# --- input ---------------------------------------------------------------------------------------


class ElectionOpenInput(StrictInputSerializer):
    organization = serializers.IntegerField(min_value=1)
    committee_seats = serializers.IntegerField(min_value=0, max_value=20, help_text="应选委员名额；0 表示不设委员会")
    deputy_seat = serializers.BooleanField(default=False, help_text="不设委员会时，党员大会是否选举副书记")
    timing_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ElectionRequestInput(StrictInputSerializer):
    request_on = serializers.DateField()
    request_no = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class ElectionApprovalInput(StrictInputSerializer):
    approved_on = serializers.DateField()
    approval_no = serializers.CharField(max_length=60, allow_blank=True)


class ElectionCandidatesApprovalInput(ElectionApprovalInput):
    approve = serializers.BooleanField(default=True, help_text="false：退回修改")
    approved_on = serializers.DateField(required=False)
    approval_no = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class ElectionCandidateItem(StrictInputSerializer):
    member = serializers.IntegerField(min_value=1)
    post = serializers.ChoiceField(choices=Post.choices, default=Post.COMMITTEE)


class ElectionCandidatesInput(StrictInputSerializer):
    candidates = ElectionCandidateItem(many=True, max_length=60)


class ElectionSubmitInput(StrictInputSerializer):
    submitted_on = serializers.DateField()


class ElectionAttendanceItem(StrictInputSerializer):
    member = serializers.IntegerField(min_value=1)
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ElectionAssemblyInput(StrictInputSerializer):
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    chair = serializers.IntegerField(min_value=1, required=False)
    attendance = ElectionAttendanceItem(many=True, max_length=500)


class ElectionCountItem(StrictInputSerializer):
    candidate = serializers.IntegerField(min_value=1)
    votes_for = serializers.IntegerField(min_value=0)
    votes_against = serializers.IntegerField(min_value=0, default=0)
    votes_abstain = serializers.IntegerField(min_value=0, default=0)


class ElectionWriteInItem(StrictInputSerializer):
    name = serializers.CharField(max_length=50)
    member = serializers.IntegerField(min_value=1, required=False)
    votes_for = serializers.IntegerField(min_value=0)


class ElectionRoundInput(StrictInputSerializer):
    post = serializers.ChoiceField(choices=Post.choices, default=Post.COMMITTEE)
    ballots_issued = serializers.IntegerField(min_value=0)
    ballots_returned = serializers.IntegerField(min_value=0)
    counts = ElectionCountItem(many=True, required=False, max_length=60)
    write_ins = ElectionWriteInItem(many=True, required=False, max_length=60)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ElectionLeaveEmptyInput(StrictInputSerializer):
    post = serializers.ChoiceField(choices=Post.choices, default=Post.COMMITTEE)
    decision = serializers.CharField(max_length=300, allow_blank=True)


class ElectionOfficersInput(StrictInputSerializer):
    held_on = serializers.DateField()
    present = serializers.IntegerField(min_value=0)
    secretary = serializers.IntegerField(min_value=1)
    secretary_votes = serializers.IntegerField(min_value=0)
    deputy = serializers.IntegerField(min_value=1, required=False)
    deputy_votes = serializers.IntegerField(min_value=0, required=False)
    duties = serializers.DictField(
        child=serializers.ChoiceField(choices=[(c, PositionCode(c).label) for c in sorted(afterwards.DUTY_CODES)]),
        required=False,
        help_text="{委员的党员 ID: organization/propaganda/discipline/member}",
    )


class ElectionReportInput(StrictInputSerializer):
    reported_on = serializers.DateField()


# --- output --------------------------------------------------------------------------------------


class ElectionCandidateOutput(serializers.ModelSerializer):
    class Meta:
        model = Candidate
        fields = ["id", "member", "name", "post", "order"]


class ElectionCountOutput(serializers.ModelSerializer):
    class Meta:
        model = BallotCount
        fields = ["candidate", "member", "name", "is_write_in", "votes_for", "votes_against", "votes_abstain", "result"]


class ElectionRoundOutput(serializers.ModelSerializer):
    counts = ElectionCountOutput(many=True, read_only=True)

    class Meta:
        model = BallotRound
        fields = ["number", "post", "kind", "seats", "ballots_issued", "ballots_returned", "is_void", "note", "counts"]


class ElectionListOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    term_expiry = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = Election
        fields = [
            "id",
            "organization",
            "organization_name",
            "stage",
            "stage_display",
            "timing",
            "opened_on",
            "term_expiry",
        ]


class ElectionOutput(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    candidates = ElectionCandidateOutput(many=True, read_only=True)
    rounds = ElectionRoundOutput(many=True, read_only=True)
    posts = serializers.SerializerMethodField()
    next_step = serializers.SerializerMethodField()

    class Meta:
        model = Election
        fields = [
            "id",
            "organization",
            "organization_name",
            "old_term",
            "new_term",
            "stage",
            "stage_display",
            "timing",
            "timing_reason",
            "opened_on",
            "committee_seats",
            "deputy_seat",
            "request_on",
            "request_no",
            "approval_on",
            "approval_no",
            "candidates_submitted_on",
            "candidates_approved_on",
            "candidates_approval_no",
            "meeting",
            "voters_expected",
            "voters_present",
            "empty_seats",
            "first_meeting_on",
            "first_meeting_present",
            "secretary",
            "secretary_votes",
            "deputy",
            "deputy_votes",
            "duties",
            "report_on",
            "result_approved_on",
            "result_approval_no",
            "candidates",
            "rounds",
            "posts",
            "next_step",
        ]

    def get_posts(self, obj: Election) -> list[dict[str, Any]]:
        return [
            {
                "post": s.post,
                "seats": s.seats,
                "elected": [{"member": c.member_id, "name": c.name, "votes_for": c.votes_for} for c in s.elected],
                "next_kind": s.next_kind,
                "next_seats": s.next_seats,
                "next_candidates": [c.pk for c in s.next_candidates],
                "left_empty": s.left_empty,
            }
            for s in post_states(obj)
        ]

    def get_next_step(self, obj: Election) -> dict[str, Any]:
        step = election_next_step(obj)
        return {"code": step.code, "title": step.title, "who": step.who, "requires": step.requires}


# --- list parameters -----------------------------------------------------------------------------


class ElectionFilterSet(SelectorFilterSet):
    """``?organization=`` (its subtree) and ``?stage=`` (the list's groups), applied by the selector."""

    organization = IdFilter(help_text="党组织 ID（含下级组织）")
    stage = ChoiceFilter(
        choices=[(code, label) for code, label, _ in LIST_STAGES],
        help_text="分组：请示待批、候选人待批、已选举待批复、办理中、已完成",
    )
    selector_params = ("organization", "stage")

    class Meta:
        model = Election
        fields: list[str] = []

    def selector_value(self, name: str, value: Any) -> Any:
        if name == "organization":
            return get_for_user(Organization, self.request.user, VIEW, pk=value) if value else None
        return super().selector_value(name, value)


# --- views ---------------------------------------------------------------------------------------


# Steps recorded by the organization above (its 批复); the rest are the branch's own.
UPPER_STEPS = frozenset({"request_approval", "candidates_approval", "result_approval"})


def _id(value: str, field: str) -> int:
    if not is_number(value) or int(value) < 1:
        raise ValidationError({field: "应为正整数 ID"})
    return as_id(value)


class ElectionViewSet(GatedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """换届选举：从请示到上级批复。每一步一个 POST；不符合规定的拒绝并说明规则和人数（400），不保存任何内容。"""

    gated_model = Election
    serializer_class = ElectionOutput
    queryset = Election.objects.none()  # the list's model for the schema; rows come from the gate
    filterset_class = ElectionFilterSet

    def get_queryset(self) -> Any:
        if self.action != "list":
            return election_detail_queryset(self.request.user)
        params = validated_filterset(self).selector_kwargs()
        return election_list(user=self.request.user, organization=params["organization"], group=params["stage"])

    def get_serializer_class(self) -> Any:
        return ElectionListOutput if self.action == "list" else ElectionOutput

    def _election(self) -> Election:
        return get_for_user(election_detail_queryset(self.request.user), self.request.user, VIEW, pk=self.kwargs["pk"])

    def _input(self, serializer_class: Any) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _step(self, serializer_class: Any) -> tuple[Election, dict[str, Any]]:
        """The election through the gate (404), the actor's right to this step (403), then the
        input (400): nobody learns from a refused body what they could not have done anyway.
        The services authorize again (the service contract)."""
        election = self._election()
        authorize_step(self.request.user, election, upper=self.action in UPPER_STEPS)
        return election, self._input(serializer_class)

    def _done(self, election: Election, code: int = status.HTTP_200_OK) -> Response:
        fresh = election_detail_queryset(self.request.user).get(pk=election.pk)
        return Response(ElectionOutput(fresh).data, status=code)

    @extend_schema(request=ElectionOpenInput, responses={201: ElectionOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._input(ElectionOpenInput)
        org = get_for_user(Organization, request.user, VIEW, pk=data.pop("organization"))
        election = prepare.election_open(actor=request.user, organization=org, **data)
        return self._done(election, status.HTTP_201_CREATED)

    @extend_schema(request=ElectionRequestInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"], url_path="request")
    def request_record(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionRequestInput)
        return self._done(prepare.election_request_record(actor=request.user, election=election, **data))

    @extend_schema(request=ElectionApprovalInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"], url_path="request-approval")
    def request_approval(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionApprovalInput)
        return self._done(prepare.election_request_approve(actor=request.user, election=election, **data))

    @extend_schema(request=ElectionCandidatesInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"])
    def candidates(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionCandidatesInput)
        items = [prepare.CandidateInput(member_id=c["member"], post=c["post"]) for c in data["candidates"]]
        return self._done(prepare.election_candidates_set(actor=request.user, election=election, candidates=items))

    @extend_schema(request=ElectionSubmitInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"], url_path="candidates-submit")
    def candidates_submit(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionSubmitInput)
        return self._done(prepare.election_candidates_submit(actor=request.user, election=election, **data))

    @extend_schema(request=ElectionCandidatesApprovalInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"], url_path="candidates-approval")
    def candidates_approval(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionCandidatesApprovalInput)
        return self._done(
            prepare.election_candidates_approve(
                actor=request.user,
                election=election,
                approved_on=data.get("approved_on"),
                approval_no=data["approval_no"],
                approve=data["approve"],
            )
        )

    @extend_schema(request=ElectionAssemblyInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"])
    def assembly(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionAssemblyInput)
        attendance = [
            AttendanceInput(member_id=a["member"], status=a["status"], reason=a["reason"]) for a in data["attendance"]
        ]
        election = voting.election_assembly_record(
            actor=request.user,
            election=election,
            held_on=data["held_on"],
            attendance=attendance,
            place=data["place"],
            chair_id=data.get("chair"),
        )
        return self._done(election)

    @extend_schema(request=ElectionRoundInput, responses={201: ElectionOutput})
    @action(detail=True, methods=["post"])
    def rounds(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionRoundInput)
        voting.election_round_record(
            actor=request.user,
            election=election,
            post=data["post"],
            ballots_issued=data["ballots_issued"],
            ballots_returned=data["ballots_returned"],
            counts=[
                voting.CountInput(
                    candidate_id=c["candidate"],
                    votes_for=c["votes_for"],
                    votes_against=c["votes_against"],
                    votes_abstain=c["votes_abstain"],
                )
                for c in data.get("counts", [])
            ],
            write_ins=[
                voting.WriteInInput(name=w["name"], member_id=w.get("member"), votes_for=w["votes_for"])
                for w in data.get("write_ins", [])
            ],
            note=data["note"],
        )
        return self._done(election, status.HTTP_201_CREATED)

    @extend_schema(request=ElectionLeaveEmptyInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"], url_path="leave-empty")
    def leave_empty(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionLeaveEmptyInput)
        return self._done(voting.election_seats_leave_empty(actor=request.user, election=election, **data))

    @extend_schema(request=ElectionOfficersInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"])
    def officers(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionOfficersInput)
        duties: dict[int, str] = {}
        for key, code in data.get("duties", {}).items():
            duties[_id(str(key), "duties")] = code
        election = afterwards.election_officers_record(
            actor=request.user,
            election=election,
            held_on=data["held_on"],
            present=data["present"],
            secretary_id=data["secretary"],
            secretary_votes=data["secretary_votes"],
            deputy_id=data.get("deputy"),
            deputy_votes=data.get("deputy_votes"),
            duties=duties,
        )
        return self._done(election)

    @extend_schema(request=ElectionReportInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionReportInput)
        return self._done(afterwards.election_report(actor=request.user, election=election, **data))

    @extend_schema(request=ElectionApprovalInput, responses={200: ElectionOutput})
    @action(detail=True, methods=["post"], url_path="result-approval")
    def result_approval(self, request: Request, pk: str | None = None) -> Response:
        election, data = self._step(ElectionApprovalInput)
        return self._done(afterwards.election_result_approve(actor=request.user, election=election, **data))
