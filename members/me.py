"""Sections of the member's own page (“我的”).

The members app shows the record itself; each part of the system that keeps rows about a member
registers a section for it: the dues and development sub-packages here, activities (meetings,
study) in its ``AppConfig.ready()``. A section is a partial template, included with ``member``
and ``data``, where ``data`` comes from its ``provider(*, member, user) -> dict`` (reading only
that member's rows). Sections show in ``order``.

A section also gives its rows to “下载我的档案” through ``exporter(*, member, user) -> {sheet title:
[row dict, …]}`` (every row, not just the page's latest ones), so the download holds everything the
page shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from members.choices import Stage
from members.development.selectors import development_timeline, member_development_steps
from members.dues.selectors import member_dues_months, member_dues_summary

Provider = Callable[..., dict[str, Any]]
Exporter = Callable[..., dict[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class MeSection:
    key: str
    title: str
    template: str
    order: int
    stages: frozenset[str] | None = None  # shown only for these stages (None = everyone)
    own_card: bool = False  # the partial renders its own card and heading
    provider: Provider | None = None
    exporter: Exporter | None = None


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


def me_exports(*, member: Any, user: Any) -> dict[str, list[dict[str, Any]]]:
    """The sheets of “下载我的档案” the sections give, in page order (every section with rows for
    the member, whatever its stage: a 正式党员's development steps stay part of their record)."""
    sheets: dict[str, list[dict[str, Any]]] = {}
    for section in sorted(_sections.values(), key=lambda s: s.order):
        if section.exporter is not None:
            sheets.update(section.exporter(member=member, user=user))
    return sheets


def _d(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _dues_rows(*, member: Any, user: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {
            "月份": m.month.strftime("%Y-%m"),
            "收缴党支部": m.organization.name,
            "应交（元）": str(m.amount_due),
            "实交（元）": str(m.amount_paid),
            "缴纳日期": _d(m.paid_on),
            "状态": "已交" if m.paid_on else ("免交" if m.amount_due == 0 else "未交"),
            "登记方式": m.payment.get_recorded_as_display() if m.payment_id else "",
        }
        for m in member_dues_months(member)
    ]
    return {"党费": rows}


def _development_rows(*, member: Any, user: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {
            "步骤": step.get_step_display(),
            "日期": _d(step.occurred_on),
            "结果": step.get_decision_display(),
            "决定/经办": step.decided_by,
            "相关党员": "、".join(p.name for p in step.people.all()),
            "情况说明": step.note,
        }
        for step in member_development_steps(member)
    ]
    return {"发展党员步骤": rows}


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
            exporter=_development_rows,
        )
    )
    register_me_section(
        MeSection(
            "dues",
            "我的党费",
            "members/me/_dues.html",
            order=20,
            own_card=True,
            provider=_dues,
            exporter=_dues_rows,
        )
    )
