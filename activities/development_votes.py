"""The meeting records behind the 发展党员 vote steps (``members.development.votes``).

Steps 15 and 23 (支部大会讨论接收 / 转正) may link the branch's 支部党员大会: this module answers
the pipeline's questions about that meeting and its resolution about the person, and keeps the
resolution's back-link (``Resolution.development_step``) to the step. Registered in
``ActivitiesConfig.ready()``.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from activities.choices import MeetingStatus, ResolutionKind
from activities.models import Meeting, Resolution
from members.development.models import DevelopmentStep, FullOutcome, StepCode
from members.development.votes import VoteMeeting, VoteResolution

# Which resolutions of the meeting record decide each vote step, and the 转正 outcome a
# resolution kind stands for.
RESOLUTION_KINDS = {
    StepCode.ADMISSION_VOTE: (ResolutionKind.ADMISSION,),
    StepCode.FULL_VOTE: (ResolutionKind.CONFIRMATION, ResolutionKind.EXTEND_PROBATION, ResolutionKind.CANCEL_PROBATION),
}
OUTCOME_OF_KIND = {
    ResolutionKind.CONFIRMATION: FullOutcome.FULL,
    ResolutionKind.EXTEND_PROBATION: FullOutcome.EXTEND,
    ResolutionKind.CANCEL_PROBATION: FullOutcome.CANCEL,
}
PICKER_LIMIT = 200


def _vote_meeting(meeting: Meeting) -> VoteMeeting:
    return VoteMeeting(
        id=meeting.pk,
        organization_id=meeting.organization_id,
        held_on=meeting.held_on,
        label=meeting.title or meeting.get_meeting_type_display(),
        general_assembly=meeting.acts_as_general_assembly,
        final=meeting.status == MeetingStatus.FINAL,
        voters_expected=meeting.voters_expected,
        voters_present=meeting.voters_present,
    )


def _vote_resolution(resolution: Resolution) -> VoteResolution:
    return VoteResolution(
        id=resolution.pk,
        kind_label=ResolutionKind(resolution.kind).label,
        outcome=OUTCOME_OF_KIND.get(resolution.kind, ""),
        votes_for=resolution.votes_for + resolution.written_for,
        votes_against=resolution.votes_against + resolution.written_against,
        votes_abstain=resolution.votes_abstain + resolution.written_abstain,
        written=resolution.total_written,
        linked=resolution.step_object_id is not None,
    )


class MeetingVoteSource:
    """``members.development.votes.DevelopmentVoteSource`` over ``Meeting`` and ``Resolution``."""

    def vote_meetings(self, *, organization_id: int) -> list[VoteMeeting]:
        meetings = Meeting.objects.filter(organization_id=organization_id, status=MeetingStatus.FINAL).order_by(
            "-held_on", "-pk"
        )[:PICKER_LIMIT]
        return [_vote_meeting(m) for m in meetings if m.acts_as_general_assembly]

    def vote_meeting(self, meeting_id: int) -> VoteMeeting | None:
        meeting = Meeting.objects.filter(pk=meeting_id).first()
        return None if meeting is None else _vote_meeting(meeting)

    def vote_resolutions(self, *, meeting_id: int, member_id: int, step: str) -> list[VoteResolution]:
        resolutions = Resolution.objects.filter(
            meeting_id=meeting_id, subject_member_id=member_id, kind__in=RESOLUTION_KINDS[step]
        )
        return [_vote_resolution(r) for r in resolutions]

    def link_step(self, *, resolution_id: int, step_id: int) -> None:
        Resolution.objects.filter(pk=resolution_id).update(
            step_content_type=ContentType.objects.get_for_model(DevelopmentStep), step_object_id=step_id
        )

    def unlink_step(self, *, step_id: int) -> None:
        Resolution.objects.filter(
            step_content_type=ContentType.objects.get_for_model(DevelopmentStep), step_object_id=step_id
        ).update(step_content_type=None, step_object_id=None)
