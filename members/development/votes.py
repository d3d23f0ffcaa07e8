"""The 支部党员大会 a vote step links to: a port onto the meeting records.

Steps 15 (支部大会讨论接收) and 23 (支部大会讨论转正) may name the branch's 支部党员大会 as
recorded by the meetings app (``DevelopmentStep.meeting``): its date and counts then default the
step's, and its resolution about the person is linked back to the step. The meeting records sit
above this app, so the pipeline sees them only through this port: plain data (``VoteMeeting``,
``VoteResolution``) and a ``DevelopmentVoteSource`` that the activities app registers in its
``AppConfig.ready()``. Without a registered source the pipeline cannot run
(``ImproperlyConfigured``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class VoteMeeting:
    """A meeting record as the vote steps need it."""

    id: int
    organization_id: int
    held_on: date
    label: str  # its title, or else its type (the picker shows "date label")
    general_assembly: bool  # held as, or also counting as, the 支部党员大会
    final: bool  # recording finished
    voters_expected: int  # members entitled to vote (0: not recorded)
    voters_present: int


@dataclass(frozen=True)
class VoteResolution:
    """The meeting's resolution about one person, for one vote step."""

    id: int
    kind_label: str  # e.g. 预备党员转正, 延长预备期
    outcome: str  # the ``FullOutcome`` the resolution stands for ("" for an admission)
    votes_for: int  # counted at the meeting plus written opinions of absent voters
    votes_against: int
    votes_abstain: int
    written: int  # written opinions included in the three counts above
    linked: bool  # already points back at a development step


class DevelopmentVoteSource(Protocol):
    def vote_meetings(self, *, organization_id: int) -> list[VoteMeeting]:
        """The organization's finished meetings that count as a 支部党员大会, newest first."""
        ...

    def vote_meeting(self, meeting_id: int) -> VoteMeeting | None:
        """One meeting record (any organization, status or type), or None."""
        ...

    def vote_resolutions(self, *, meeting_id: int, member_id: int, step: str) -> list[VoteResolution]:
        """The meeting's resolutions about the member of the kinds that decide ``step`` (a ``StepCode``)."""
        ...

    def link_step(self, *, resolution_id: int, step_id: int) -> None:
        """Point the resolution back at the development step."""
        ...

    def unlink_step(self, *, step_id: int) -> None:
        """Clear every resolution's link to the (voided) development step."""
        ...


_source: DevelopmentVoteSource | None = None


def register_development_vote_source(source: DevelopmentVoteSource) -> None:
    global _source
    _source = source


def development_vote_source() -> DevelopmentVoteSource:
    if _source is None:
        raise ImproperlyConfigured("no development vote source: is the activities app installed?")
    return _source
