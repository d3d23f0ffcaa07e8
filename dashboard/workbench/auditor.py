"""The auditor's 工作台: recent access denials and exports inside their reach."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from audit.selectors import EVENT_LABELS, audit_event_list
from dashboard.workbench.items import Entry, RoleBoard, Section

LIMIT = 6


def _events(user: Any, *, key: str, title: str, icon: str, empty: str, denied: bool) -> Section:
    qs = audit_event_list(user=user)
    qs = qs.filter(event="access_denied") if denied else qs.filter(event__endswith="export")
    entries = [
        Entry(
            title=f"{e.username or '（系统）'}：{EVENT_LABELS.get(e.event, e.event)}",
            detail=e.organization.name if e.organization_id else "",
            when=f"{timezone.localtime(e.created_at):%m-%d %H:%M}",
            url=f"{reverse('audit:list')}?{urlencode({'event': e.event, 'username': e.username})}",
            level="warning" if denied else "",
        )
        for e in qs[:LIMIT]
    ]
    return Section(
        key=key,
        title=title,
        icon=icon,
        empty=empty,
        entries=entries,
        more_url=f"{reverse('audit:list')}?{urlencode({'event': 'access_denied'})}"
        if denied
        else reverse("audit:list"),
        more_label="审计日志",
    )


def auditor_board(*, user: Any) -> RoleBoard:
    board = RoleBoard(role="auditor", title="审计")
    board.sections = [
        _events(
            user, key="denied", title="最近的越权访问", icon="shield-exclamation", empty="近期没有越权访问", denied=True
        ),
        _events(user, key="exports", title="最近的导出", icon="download", empty="近期没有数据导出", denied=False),
    ]
    return board
