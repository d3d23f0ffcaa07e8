"""Writing reminders exactly once: each candidate the scan found becomes one dispatch row (ON
CONFLICT DO NOTHING on its dedupe key) with its notifications and outbox rows, in one transaction."""

from __future__ import annotations

import uuid
from datetime import date

from django.db import transaction
from django.utils import timezone

from notifications import channels
from notifications.models import (
    Channel,
    Notification,
    NotificationCategory,
    OutboxMessage,
    ReminderDispatch,
    WebhookEndpoint,
)
from notifications.rules import MEMBER, PARENT_ADMIN, SECRETARY
from notifications.scan.context import Candidate
from notifications.selectors import RecipientResolver, SettingsResolver
from notifications.services.credentials import ChannelAvailability
from notifications.services.outbox import UserContacts, email_messages, enqueue_on_commit
from notifications.services.personal import PersonalContacts, personal_messages
from organizations.models import Organization


def candidate_recipients(candidate: Candidate, resolver: RecipientResolver) -> list[int]:
    """The users a candidate reminder goes to (its rule's audience), without duplicates."""
    users: list[int] = []
    for who in candidate.definition.audience:
        if who == SECRETARY:
            users += resolver.secretaries(candidate.org.path)
        elif who == PARENT_ADMIN:
            users += resolver.parent_admins(candidate.org.path)
        elif who == MEMBER and candidate.member_user_id:
            users.append(candidate.member_user_id)
    users += candidate.extra_recipients
    return list(dict.fromkeys(users))


def rule_channels(
    planned: list[tuple[Candidate, list[int]]], available: ChannelAvailability
) -> dict[tuple[int, str], list[str]]:
    """(organization id, rule) → the outside channels (e-mail, and the personal ones configured
    for its top-level organization) its effective setting chooses (one query)."""
    resolver = SettingsResolver.for_paths({c.org.path for c, _ in planned})
    chosen = {}
    for candidate, _ in planned:
        picked = resolver.get(candidate.org.path, candidate.rule).channels
        configured = [Channel.EMAIL, *available.for_path(candidate.org.path)]
        chosen[(candidate.org.pk, candidate.rule)] = [c for c in configured if picked is None or c in picked]
    return chosen


def reminder_candidates_write(*, candidates: list[Candidate], on: date) -> int:
    """System: write each candidate reminder at most once, ever. Returns how many were new.
    Trusts its caller (the scan of a batch).

    The dispatch rows are inserted (sorted, so concurrent writers lock in the same order) with
    ON CONFLICT DO NOTHING; the ones carrying this call's random token are the ones it won, and
    only those get notifications and outbox rows, in the same transaction."""
    if not candidates:
        return 0
    resolver = RecipientResolver(
        Organization(path=c.org.path, org_type=c.org.org_type) for c in {c.org.pk: c for c in candidates}.values()
    )
    planned: list[tuple[Candidate, list[int]]] = []
    for candidate in candidates:
        users = candidate_recipients(candidate, resolver)
        if users:
            planned.append((candidate, users))
    users = UserContacts.load(u for _, ids in planned for u in ids)
    available = ChannelAvailability.load({c.org.path for c in candidates})
    opt_out = {c.rule for c, _ in planned if c.definition.user_opt_out}
    if opt_out:
        planned = [
            (c, [u for u in ids if not (c.rule in opt_out and users.muted_rule(u, c.rule))]) for c, ids in planned
        ]
        planned = [(c, ids) for c, ids in planned if ids]
    if not planned:
        return 0
    planned.sort(key=lambda item: item[0].dedupe_key)
    token = uuid.uuid4()
    webhooks = dict(
        WebhookEndpoint.objects.filter(
            organization_id__in={c.org.pk for c, _ in planned if c.definition.webhook}, enabled=True
        ).values_list("organization_id", "pk")
    )
    with transaction.atomic():
        ReminderDispatch.objects.bulk_create(
            [
                ReminderDispatch(
                    dedupe_key=c.dedupe_key,
                    rule=c.rule,
                    organization_id=c.org.pk,
                    target_type=c.target_type,
                    target_id=c.target_id,
                    period=c.period,
                    on_date=on,
                    run_token=token,
                )
                for c, _ in planned
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        won = dict(ReminderDispatch.objects.filter(run_token=token).values_list("dedupe_key", "pk"))
        if not won:
            return 0
        notifications: list[Notification] = []
        webhook_rows: list[OutboxMessage] = []
        now = timezone.now()
        for candidate, ids in planned:
            dispatch_id = won.get(candidate.dedupe_key)
            if dispatch_id is None:
                continue
            level = candidate.definition.level
            for user_id in ids:
                title, body, link = candidate.wording_for(user_id)
                notifications.append(
                    Notification(
                        recipient_id=user_id,
                        organization_id=candidate.org.pk,
                        category=NotificationCategory.REMINDER,
                        rule=candidate.rule,
                        dispatch_id=dispatch_id,
                        title=title[:200],
                        body=body,
                        link=link,
                        level=level,
                    )
                )
            webhook_id = webhooks.get(candidate.org.pk) if candidate.definition.webhook else None
            if webhook_id:
                webhook_rows.append(
                    OutboxMessage(
                        channel=Channel.WEBHOOK,
                        organization_id=candidate.org.pk,
                        webhook_id=webhook_id,
                        dispatch_id=dispatch_id,
                        subject=candidate.title[:200],
                        body=candidate.body,
                        next_attempt_at=now,
                        max_attempts=channels.MAX_ATTEMPTS,
                    )
                )
        Notification.objects.bulk_create(notifications, batch_size=1000)
        chosen = rule_channels(planned, available)
        by_email = [n for n in notifications if Channel.EMAIL in chosen.get((n.organization_id, n.rule), ())]
        email_rows = email_messages(by_email, users, now)
        contacts = PersonalContacts.load({n.recipient_id for n in notifications}, available.any())
        email_rows += personal_messages(notifications, contacts, now, chosen)
        OutboxMessage.objects.bulk_create(email_rows + webhook_rows, batch_size=1000)
        enqueue_on_commit(email_rows, webhook_rows)
    return len(won)
