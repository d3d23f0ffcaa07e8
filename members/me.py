"""Sections of the member's own page (“我的”) that other parts of the system fill.

Each section has a partial template. When the template exists (another app ships it), it is
included with ``member``, ``user`` and ``data``; otherwise the page shows a short placeholder.
An app fills ``data`` with ``register_me_context("dues", provider)`` in its ``AppConfig.ready()``,
where ``provider(*, member, user) -> dict`` reads only that member's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from members.choices import Stage


@dataclass(frozen=True)
class MeSection:
    key: str
    title: str
    template: str
    stages: frozenset[str] | None = None  # shown only for these stages (None = everyone)
    own_card: bool = False  # the partial renders its own card and heading


SECTIONS = [
    MeSection(
        "development",
        "我的发展进程",
        "members/me/_development.html",
        frozenset({Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY}),
        own_card=True,
    ),
    MeSection("dues", "我的党费", "members/me/_dues.html", own_card=True),
    MeSection("meetings", "我参加的组织生活", "activities/me/_meetings.html"),
    MeSection("study", "我的学习记录", "activities/me/_study.html"),
]
_providers: dict[str, Callable[..., dict[str, Any]]] = {}


def _dues(*, member: Any, user: Any) -> dict[str, Any]:
    from members.dues.selectors import member_dues_summary

    return {"dues": member_dues_summary(member)}


def _development(*, member: Any, user: Any) -> dict[str, Any]:
    from members.development.selectors import development_timeline

    return {"timeline": development_timeline(member)}


def register_me_context(key: str, provider: Callable[..., dict[str, Any]]) -> None:
    """Let an app give its partial extra context (``provider(*, member, user) -> dict``)."""
    if key not in {section.key for section in SECTIONS}:
        raise ValueError(f"unknown section {key!r}")
    _providers[key] = provider


def me_sections(*, member: Any, user: Any) -> list[dict[str, Any]]:
    """The sections to render, in order: the template to include (or None) and its context."""
    rendered = []
    for section in SECTIONS:
        if section.stages is not None and member.stage not in section.stages:
            continue
        try:
            get_template(section.template)
        except TemplateDoesNotExist:
            template = None
        else:
            template = section.template
        context: dict[str, Any] = {}
        if template and section.key in _providers:
            context = _providers[section.key](member=member, user=user)
        rendered.append(
            {
                "key": section.key,
                "title": section.title,
                "template": template,
                "context": context,
                "own_card": section.own_card and template is not None,
            }
        )
    return rendered


# The dues and development parts ship their own partials; these providers give them their data.
register_me_context("dues", _dues)
register_me_context("development", _development)
