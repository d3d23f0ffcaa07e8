"""Assembles the 工作台 of a user from the boards of the roles they hold (reads only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from core.access import get_scope
from core.dates import today
from dashboard.workbench.auditor import auditor_board
from dashboard.workbench.items import Entry, RoleBoard, Section
from dashboard.workbench.member import member_board
from dashboard.workbench.org_admin import org_admin_board
from dashboard.workbench.secretary import secretary_board
from members.models import Member
from notifications.selectors import notification_list
from organizations.choices import BRANCH_TYPES, OrgType
from organizations.models import Organization
from organizations.selectors import organization_flags, organization_list

MAX_ORGS = 3


@dataclass
class Workbench:
    boards: list[RoleBoard] = field(default_factory=list)
    notices: Section | None = None
    managed: list[tuple[Organization, list[Any]]] = field(default_factory=list)

    @property
    def actions(self) -> list[Any]:
        return [a for b in self.boards for a in b.actions]

    @property
    def progress(self) -> list[Any]:
        return [p for b in self.boards for p in b.progress]


def _notices(user: Any) -> Section:
    unread = notification_list(user=user, unread_only=True)
    rows = list(unread[:7])
    entries = [
        Entry(
            title=n.title,
            detail=n.organization.name if n.organization_id and n.organization else "",
            when=f"{n.created_at:%m-%d}",
            url=reverse("notifications:open", args=[n.pk]),
            action="阅读",
            level="warning" if n.level in ("warning", "danger") else "",
        )
        for n in rows[:6]
    ]
    return Section(
        key="notices",
        title="未读通知",
        icon="bell",
        empty="通知都已读过",
        entries=entries,
        total=unread.count() if len(rows) > 6 else None,
        more_url=reverse("notifications:inbox"),
        more_label="消息中心",
    )


def workbench_for(user: Any, *, on: dt.date | None = None) -> Workbench:
    on = on or today()
    scope = get_scope(user)
    bench = Workbench()
    recording = scope.recording_paths()
    if recording and (scope.is_secretary or scope.is_org_admin):
        orgs = list(Organization.objects.filter(path__in=recording).order_by("path"))
        branches = [o for o in orgs if o.org_type in BRANCH_TYPES or o.org_type == OrgType.GROUP]
        roots = [o for o in orgs if o.pk not in {b.pk for b in branches} and scope.manages(o)]
        if branches:
            bench.boards.append(secretary_board(user=user, organizations=branches[:MAX_ORGS], on=on))
        if roots:
            bench.boards.append(org_admin_board(user=user, roots=roots[:MAX_ORGS], on=on))
    if scope.member_id:
        member = Member.objects.filter(pk=scope.member_id).first()
        if member is not None:
            bench.boards.append(member_board(user=user, member=member, on=on))
    if scope.is_auditor:
        bench.boards.append(auditor_board(user=user))
    if scope.works_with_data:
        managed = organization_list(user=user).filter(path__in=scope.reading_paths())[: MAX_ORGS * 4]
        bench.managed = [(org, organization_flags(org, on=on)) for org in managed]
    if bench.boards:
        bench.notices = _notices(user)
    return bench
