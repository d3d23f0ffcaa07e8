"""Sections of the member's own page (“我的”).

The members app shows the record itself; each part of the system that keeps rows about a member
registers a section for it: the dues and development sub-packages here, activities (meetings,
study) in its ``AppConfig.ready()``. A section is a partial template, included with ``member``
and ``data``, where ``data`` comes from its ``provider(*, member, user) -> dict`` (reading only
that member's rows). Sections show in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from members.choices import Stage
from members.development.selectors import development_timeline
from members.dues.selectors import member_dues_summary

Provider = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class MeSection:
    key: str
    title: str
    template: str
    order: int
    stages: frozenset[str] | None = None  # shown only for these stages (None = everyone)
    own_card: bool = False  # the partial renders its own card and heading
    provider: Provider | None = None


_sections: dict[str, MeSection] = {}


def register_me_section(section: MeSection) -> None:
    """Add a section to the member's page (idempotent per key: the last registration wins)."""
    _sections[section.key] = section


def me_sections(*, member: Any, user: Any) -> list[dict[str, Any]]:
    """The sections to render, in order: the template to include and its context."""
    rendered = []
    for section in sorted(_sections.values(), key=lambda s: s.order):
        if section.stages is not None and member.stage not in section.stages:
            continue
        context = section.provider(member=member, user=user) if section.provider else {}
        rendered.append(
            {
                "key": section.key,
                "title": section.title,
                "template": section.template,
                "context": context,
                "own_card": section.own_card,
            }
        )
    return rendered


def _dues(*, member: Any, user: Any) -> dict[str, Any]:
    return {"dues": member_dues_summary(member)}


def _development(*, member: Any, user: Any) -> dict[str, Any]:
    return {"timeline": development_timeline(member)}


def register_member_sections() -> None:
    """The members app's own sections (called from ``MembersConfig.ready``)."""
    register_me_section(
        MeSection(
            "development",
            "我的发展进程",
            "members/me/_development.html",
            order=10,
            stages=frozenset({Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY}),
            own_card=True,
            provider=_development,
        )
    )
    register_me_section(MeSection("dues", "我的党费", "members/me/_dues.html", order=20, own_card=True, provider=_dues))
