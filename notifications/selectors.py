"""Reads: effective reminder settings (inherited down the tree), recipients, inboxes, notices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from core.access import VIEW, get_scope
from core.roles import Role
from notifications.models import (
    Channel,
    Notice,
    NoticeRecipient,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    ReminderSetting,
    WebhookEndpoint,
)
from notifications.rules import RULES, RULES_BY_CODE, RuleDef, get_rule
from organizations.choices import OrgType
from organizations.models import Organization, RoleAssignment

STEP = Organization.steplen


def path_prefixes(path: str) -> list[str]:
    """The paths of an organization and all its ancestors, root first."""
    return [path[:i] for i in range(STEP, len(path) + 1, STEP)]


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveSetting:
    rule: RuleDef
    enabled: bool
    offset: int | None
    grace_days: int | None
    day_of_month: str | None
    # The organization whose override decided each value (None = the rule's default).
    source_path: str | None = None
    channels: tuple[str, ...] | None = None  # outside channels; None = every configured one

    @property
    def is_default(self) -> bool:
        return self.source_path is None

    @property
    def channel_labels(self) -> str:
        """The channels in Chinese, the inbox first (it is always written)."""
        if self.channels is None:
            return "站内消息及全部已开通渠道"
        return "、".join(["站内消息", *(str(Channel(c).label) for c in self.channels if c in Channel.values)])


class SettingsResolver:
    """Effective settings for many organizations from one query: each organization inherits the
    overrides of its ancestors, root first, and the nearest override of each field wins."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._by_path: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for row in rows:
            self._by_path[row["organization__path"]][row["rule"]] = row
        self._cache: dict[tuple[str, str], EffectiveSetting] = {}

    @classmethod
    def for_paths(cls, paths: Iterable[str]) -> SettingsResolver:
        prefixes = {prefix for path in paths for prefix in path_prefixes(path)}
        rows = ReminderSetting.objects.filter(organization__path__in=prefixes).values(
            "organization__path", "rule", "enabled", "offset", "grace_days", "day_of_month", "channels"
        )
        return cls(rows)

    def get(self, path: str, code: str) -> EffectiveSetting:
        key = (path, code)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        rule = get_rule(code)
        enabled, offset, grace, day = rule.default_enabled, rule.offset, rule.grace_days, rule.day_of_month
        source = None
        channels: tuple[str, ...] | None = None
        for prefix in path_prefixes(path):
            row = self._by_path.get(prefix, {}).get(code)
            if row is None:
                continue
            if row["enabled"] is not None:
                enabled, source = row["enabled"], prefix
            if row["offset"] is not None and rule.has_offset:
                offset, source = row["offset"], prefix
            if row["grace_days"] is not None and rule.has_grace:
                grace, source = row["grace_days"], prefix
            if row["day_of_month"] and rule.has_day_of_month:
                day, source = row["day_of_month"], prefix
            if row.get("channels") is not None:
                channels = tuple(row["channels"])
        result = EffectiveSetting(rule, enabled, offset, grace, day, source, channels)
        self._cache[key] = result
        return result


@dataclass
class SettingRow:
    rule: RuleDef
    effective: EffectiveSetting
    own: ReminderSetting | None
    source_org: Organization | None


def reminder_settings_for(*, organization: Organization) -> list[SettingRow]:
    """Every rule with its effective value at ``organization`` and the override stored there."""
    resolver = SettingsResolver.for_paths([organization.path])
    own = {row.rule: row for row in ReminderSetting.objects.filter(organization=organization)}
    sources = {o.path: o for o in Organization.objects.filter(path__in=path_prefixes(organization.path))}
    rows = []
    for rule in RULES:
        effective = resolver.get(organization.path, rule.code)
        rows.append(SettingRow(rule, effective, own.get(rule.code), sources.get(effective.source_path or "")))
    return rows


def can_manage_reminders(user: Any, organization: Organization) -> bool:
    """Only an org_admin over the organization (subtree reach) retimes or switches off rules and
    configures the group-chat robot."""
    return get_scope(user).manages(organization)


def can_send_notices(user: Any) -> bool:
    return get_scope(user).may_send_notices


def manageable_organizations(*, user: Any) -> QuerySet[Organization]:
    """Organizations where the user may change reminder settings (org_admin subtrees)."""
    paths = get_scope(user).managed_paths()
    if not paths:
        return Organization.objects.none()
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return Organization.objects.filter(q).order_by("path")


def webhook_for(*, organization: Organization) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(organization=organization).first()


# --- recipients ------------------------------------------------------------------------------


class RecipientResolver:
    """Who "the secretary" and "the parent org_admin" are, for many organizations at once.

    - secretary: users with the ``secretary`` role on the organization; for a 党小组 without one,
      the secretary of its branch; failing that, the organization's own org_admin, then the
      nearest org_admin above.
    - parent org_admin: users with ``org_admin`` on the nearest organization above that has one
      (for a root organization, its own org_admin).
    """

    def __init__(self, orgs: Iterable[Any]) -> None:
        orgs = list(orgs)
        prefixes = {prefix for org in orgs for prefix in path_prefixes(org.path)}
        self._types = {org.path: org.org_type for org in orgs}
        self._roles: dict[tuple[str, str], list[int]] = defaultdict(list)
        rows = RoleAssignment.objects.filter(
            organization__path__in=prefixes, role__in=[Role.SECRETARY, Role.ORG_ADMIN], user__is_active=True
        ).values_list("organization__path", "role", "user_id")
        for path, role, user_id in rows.order_by("organization__path", "role", "user_id"):
            self._roles[(path, role)].append(user_id)

    def _admins_from(self, paths: list[str]) -> list[int]:
        for path in paths:
            admins = self._roles.get((path, Role.ORG_ADMIN))
            if admins:
                return list(admins)
        return []

    def secretaries(self, path: str) -> list[int]:
        users = self._roles.get((path, Role.SECRETARY))
        if users:
            return list(users)
        if self._types.get(path) == OrgType.GROUP and len(path) > STEP:
            users = self._roles.get((path[:-STEP], Role.SECRETARY))
            if users:
                return list(users)
        return self._admins_from(list(reversed(path_prefixes(path))))

    def parent_admins(self, path: str) -> list[int]:
        ancestors = list(reversed(path_prefixes(path)))[1:]
        return self._admins_from(ancestors) or self._admins_from([path])


# --- inbox -----------------------------------------------------------------------------------


def notification_list(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.visible_to(user, VIEW)
    if unread_only:
        qs = qs.unread()
    return qs.order_by("-created_at", "-pk")


def unread_count(*, user: Any) -> int:
    return Notification.objects.visible_to(user, VIEW).unread().count()


class UnreadBadge:
    """The header badge: counted once, only when a template renders it."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def count(self) -> int:
        return unread_count(user=self.user)

    @property
    def label(self) -> str:
        return "99+" if self.count > 99 else str(self.count)

    # What the notification tabs offer this user (from the cached scope: no query).
    @property
    def can_send(self) -> bool:
        return can_send_notices(self.user)

    @property
    def can_manage(self) -> bool:
        return get_scope(self.user).manages_any

    @property
    def can_view_notices(self) -> bool:
        return get_scope(self.user).works_with_data


def preference_for(*, user: Any) -> NotificationPreference:
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref or NotificationPreference(user=user)


# --- notices ---------------------------------------------------------------------------------


def notice_list(*, user: Any) -> QuerySet[Notice]:
    """Notices sent within the user's reach, with read counts (no per-row queries)."""
    return (
        Notice.objects.visible_to(user, VIEW)
        .select_related("organization")
        .annotate(
            read_count=Count("recipients", filter=Q(recipients__notification__read_at__isnull=False), distinct=True)
        )
        .order_by("-created_at", "-pk")
    )


def notice_recipients(*, notice: Notice) -> QuerySet[NoticeRecipient]:
    """Addressees in tree order and by name: never ordered by reading (no ranking)."""
    return (
        NoticeRecipient.objects.filter(notice=notice)
        .select_related("organization", "notification")
        .order_by("organization__path", "name", "pk")
    )


def notice_read_summary(*, notice: Notice) -> dict[str, int]:
    counts = NoticeRecipient.objects.filter(notice=notice).aggregate(
        total=Count("pk"),
        delivered=Count("pk", filter=Q(notification__isnull=False)),
        read=Count("pk", filter=Q(notification__read_at__isnull=False)),
    )
    counts["unread"] = counts["delivered"] - counts["read"]
    counts["offline"] = counts["total"] - counts["delivered"]
    return counts


# --- delivery report (#19.3) -----------------------------------------------------------------


@dataclass
class DeliveryReport:
    rows: list[dict[str, Any]]  # channel, rule, sent, failed, pending
    failures: list[OutboxMessage]


def delivery_report(*, organization: Organization, since: Any, failures: int = 50) -> DeliveryReport:
    """The external deliveries of the organization's subtree since a time: counts by channel and
    rule (2 queries in all). Callers check ``can_manage_reminders`` first."""
    rule_expr = Coalesce("notification__rule", "dispatch__rule", Value(""))
    base = OutboxMessage.objects.filter(organization__path__startswith=organization.path, created_at__gte=since)
    counts = (
        base.annotate(rule_code=rule_expr)
        .values("channel", "rule_code")
        .annotate(
            sent=Count("pk", filter=Q(status=OutboxStatus.SENT)),
            failed=Count("pk", filter=Q(status=OutboxStatus.FAILED)),
            pending=Count("pk", filter=Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])),
        )
        .order_by("channel", "rule_code")
    )
    labels = dict(Channel.choices)
    rows = []
    for row in counts:
        rule = RULES_BY_CODE.get(row["rule_code"])
        rows.append(
            {
                **row,
                "channel_label": labels.get(row["channel"], row["channel"]),
                "rule_label": rule.label if rule else ("通知" if not row["rule_code"] else row["rule_code"]),
            }
        )
    failed = list(
        base.filter(status=OutboxStatus.FAILED)
        .select_related("notification")
        .only("pk", "channel", "subject", "last_error", "created_at", "attempts", "notification__rule")
        .order_by("-pk")[:failures]
    )
    return DeliveryReport(rows, failed)
