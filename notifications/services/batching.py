"""钉钉 batching: the pending 钉钉 rows of one message — the same reminder dispatch or notice, with
the same title, text and link — go out in one ``asyncsend_v2`` call of up to 100 user ids, each
row keeping its own outcome.

The worker that claims one such row claims its due siblings with the same conditional UPDATE
(PENDING → SENDING, ``claimed_at`` = its own time), so two workers never send a row twice; rows
claimed by another worker are simply not in its group. A recipient id the vendor's character set
rejects fails alone, before the call. A call refused as a whole because the vendor does not know
a recipient (33012) is repeated row by row, so only the unknown recipients fail; any other
failure is every row's (transient: each goes back to PENDING with its own backoff)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import F, Q

from notifications.channels import (
    DeliveryError,
    InvalidRecipientError,
    PermanentDeliveryError,
    dingtalk,
)
from notifications.models import Channel, OutboxMessage, OutboxStatus
from notifications.services import personal


def dingtalk_siblings_claim(message: OutboxMessage, now: datetime) -> list[OutboxMessage]:
    """Claim the other due PENDING 钉钉 rows of ``message``'s message (at most 99), for a worker
    that has just claimed ``message`` at ``now``. Returns the rows it won."""
    notification = message.notification
    if notification is None:
        return []
    if notification.dispatch_id:
        same = Q(notification__dispatch_id=notification.dispatch_id)
    elif notification.notice_id:
        same = Q(notification__notice_id=notification.notice_id)
    else:
        return []
    ids = list(
        OutboxMessage.objects.filter(
            same,
            channel=Channel.DINGTALK,
            status=OutboxStatus.PENDING,
            next_attempt_at__lte=now,
            subject=message.subject,
            body=message.body,
            notification__link=notification.link,
        )
        .exclude(pk=message.pk)
        .order_by("pk")
        .values_list("pk", flat=True)[: dingtalk.MAX_USERS_PER_CALL - 1]
    )
    if not ids:
        return []
    OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return list(
        OutboxMessage.objects.select_related("notification")
        .filter(pk__in=ids, status=OutboxStatus.SENDING, claimed_at=now)
        .order_by("pk")
    )


def dingtalk_group_send(rows: list[OutboxMessage]) -> dict[int, DeliveryError | None]:
    """Send the rows of one message in one call; the outcome of each row (None = sent)."""
    outcome: dict[int, DeliveryError | None] = {}
    valid = []
    for row in rows:
        try:
            dingtalk.validate_userid(row.to_address)
        except ValidationError as exc:
            outcome[row.pk] = PermanentDeliveryError(exc.messages[0])
        else:
            valid.append(row)
    if not valid:
        return outcome
    try:
        personal.send_dingtalk_group(valid)
    except InvalidRecipientError as exc:
        if len(valid) == 1:
            outcome[valid[0].pk] = exc
            return outcome
        for row in valid:  # which recipient is unknown? ask row by row
            try:
                personal.send_personal(row)
            except DeliveryError as single:
                outcome[row.pk] = single
            else:
                outcome[row.pk] = None
        return outcome
    except DeliveryError as exc:
        outcome.update({row.pk: exc for row in valid})
        return outcome
    outcome.update({row.pk: None for row in valid})
    return outcome
