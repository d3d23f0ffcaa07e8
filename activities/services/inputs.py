"""Typed input of a meeting record: the header, one row per person, one row per resolution.

Built once from the page's form (``activities.forms``) or from the API's serializer
(``activities.api.serializers``) and handed to ``activities.services.meetings.meeting_save``,
which validates the values (every Chinese error message lives there). The field lists below
are the one definition of what a meeting record takes; the form and the serializer read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import ClassVar


@dataclass(frozen=True)
class MeetingInput:
    """The header of a meeting record. ``*_id`` names a member of the organization, ``*_name`` a
    person outside it (the member's own name wins when both are given)."""

    FIELDS: ClassVar[tuple[str, ...]]

    meeting_type: str = ""
    also_counts_as: Sequence[str] = ()
    title: str = ""
    held_on: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    place: str = ""
    chair_id: int | None = None
    chair_name: str = ""
    recorder_id: int | None = None
    recorder_name: str = ""
    lecturer_id: int | None = None
    lecturer_name: str = ""
    agenda: str = ""
    minutes: str = ""
    first_topic: str = ""
    first_topic_material: str = ""
    is_center_group: bool = False
    study_hours: Decimal | None = None

    # The people named in the header (each has ``<person>_id`` and ``<person>_name``).
    PEOPLE: ClassVar[tuple[str, ...]] = ("chair", "recorder", "lecturer")
    # Free text stored stripped (blank when not given).
    TEXTS: ClassVar[tuple[str, ...]] = ("title", "place", "agenda", "minutes", "first_topic", "first_topic_material")


@dataclass(frozen=True)
class AttendanceInput:
    """One person at the meeting: a roster member (``member_id``), a committee seat not linked to
    a member record (``position_id``), or a guest by ``name``."""

    FIELDS: ClassVar[tuple[str, ...]]

    member_id: int | None = None
    position_id: int | None = None
    name: str = ""
    status: str = ""
    reason: str = ""
    is_speaker: bool = False
    speech_topic: str = ""


@dataclass(frozen=True)
class ResolutionInput:
    """One item decided at the meeting. ``id`` names an existing resolution of the meeting being
    edited (so its follow-up item keeps its status); a blank ``kind`` is a general item and a
    blank ``voting_method`` takes the meeting's default."""

    FIELDS: ClassVar[tuple[str, ...]]

    id: int | None = None
    title: str = ""
    kind: str = ""
    voting_method: str = ""
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    written_for: int = 0
    written_against: int = 0
    written_abstain: int = 0
    subject_member_id: int | None = None
    action_required: bool = False
    follow_up_owner_id: int | None = None
    follow_up_owner_name: str = ""
    follow_up_due_on: dt.date | None = None
    note: str = ""

    VOTES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("votes_for", "赞成票"),
        ("votes_against", "反对票"),
        ("votes_abstain", "弃权票"),
        ("written_for", "书面赞成"),
        ("written_against", "书面反对"),
        ("written_abstain", "书面弃权"),
    )


for _cls in (MeetingInput, AttendanceInput, ResolutionInput):
    _cls.FIELDS = tuple(f.name for f in fields(_cls))
del _cls
