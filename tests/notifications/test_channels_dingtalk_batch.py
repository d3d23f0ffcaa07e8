"""钉钉 batching in the dispatcher (#19 item 5): the pending 钉钉 rows of one message go out in one
asyncsend_v2 call of up to 100 user ids, each row keeping its own outcome (sent, failed with the
reason, retried with its own backoff); rows of other messages or claimed by another worker are
never in the group."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.models import ChannelAddress, Notice, OutboxMessage, OutboxStatus
from notifications.services.notices import notice_send
from notifications.services.outbox import outbox_deliver
from tests.factories import MemberFactory, UserFactory
from tests.notifications.conftest import dingtalk_settings

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEND = "/topapi/message/corpconversation/asyncsend_v2"


@pytest.fixture
def fake(vendors, settings):
    settings.PB_DINGTALK = dingtalk_settings(vendors)
    settings.PB_CHANNEL_RATE_LIMITS = {"dingtalk": (0, 0)}  # unlimited: this test counts calls
    return vendors


def members(cast, count: int) -> list[str]:
    """``count`` members of branch A with a 钉钉 id each (member_a among them)."""
    ids = ["ding-member-a"]
    ChannelAddress.objects.create(user=cast.users["member_a"], dingtalk_userid=ids[0])
    for i in range(count - 1):
        user = UserFactory(username=f"m{i:03d}")
        MemberFactory(name=f"党员{i:03d}", organization=cast.A, user=user)
        ChannelAddress.objects.create(user=user, dingtalk_userid=f"ding-{i:03d}")
        ids.append(f"ding-{i:03d}")
    return ids


def notice(cast, title="周五主题党日") -> Notice:
    return notice_send(
        sender=cast.users["secretary_a"], organization=cast.A, title=title, body="下午三点。", channels=["dingtalk"]
    )


def ding_rows(n: Notice):
    return OutboxMessage.objects.filter(notification__notice=n, channel="dingtalk").order_by("pk")


def deliver_all() -> list[str]:
    ids = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).order_by("pk").values_list("pk", flat=True)
    return [outbox_deliver(message_id=pk).status for pk in ids]


def sent_lists(fake) -> list[list[str]]:
    return [json.loads(c["body"])["userid_list"].split(",") for c in fake.calls(SEND)]


def test_one_call_for_the_rows_of_one_message(cast, fake, clock):
    ids = members(cast, 5)
    n = notice(cast)
    assert deliver_all() == ["sent", "skipped", "skipped", "skipped", "skipped"]  # the first took its siblings
    assert [sorted(x) for x in sent_lists(fake)] == [sorted(ids)]
    assert {r.status for r in ding_rows(n)} == {OutboxStatus.SENT} and all(r.attempts == 1 for r in ding_rows(n))
    assert sorted(d["user"] for d in fake.delivered["dingtalk"]) == sorted(ids)


def test_groups_of_at_most_100(cast, fake, clock):
    members(cast, 101)
    notice(cast)
    deliver_all()
    assert [len(x) for x in sent_lists(fake)] == [100, 1]
    assert len(fake.delivered["dingtalk"]) == 101


def test_unknown_recipient_fails_alone(cast, fake, clock):
    ids = members(cast, 4)
    fake.dingtalk_users = set(ids) - {ids[2]}
    n = notice(cast)
    deliver_all()
    # the group call is refused (33012), then each row alone: only the unknown one fails
    assert len(fake.calls(SEND)) == 1 + 4
    by_user = {r.to_address: r for r in ding_rows(n)}
    assert by_user[ids[2]].status == OutboxStatus.FAILED and "钉钉账号无效" in by_user[ids[2]].last_error
    assert {u for u, r in by_user.items() if r.status == OutboxStatus.SENT} == set(ids) - {ids[2]}


def test_bad_id_fails_before_the_call_and_the_rest_go_together(cast, fake, clock):
    ids = members(cast, 3)
    ChannelAddress.objects.filter(dingtalk_userid=ids[1]).update(dingtalk_userid="坏 账号")
    n = notice(cast)
    deliver_all()
    assert [sorted(x) for x in sent_lists(fake)] == [sorted([ids[0], ids[2]])]
    bad = ding_rows(n).get(to_address="坏 账号")
    assert bad.status == OutboxStatus.FAILED and "钉钉账号只能包含" in bad.last_error


def test_busy_vendor_retries_every_row_then_one_call(cast, fake, clock):
    members(cast, 3)
    n = notice(cast)
    fake.fail("dingtalk_send", 90018)
    assert deliver_all()[0] == "retry"
    rows = list(ding_rows(n))
    assert {r.status for r in rows} == {OutboxStatus.PENDING} and {r.attempts for r in rows} == {1}
    assert all("90018" in r.last_error for r in rows) and fake.delivered["dingtalk"] == []
    clock.now = max(r.next_attempt_at for r in rows) + timedelta(seconds=1)
    deliver_all()
    assert len(fake.calls(SEND)) == 2 and len(sent_lists(fake)[1]) == 3
    assert {r.status for r in ding_rows(n)} == {OutboxStatus.SENT}


def test_other_messages_and_claimed_rows_stay_out(cast, fake, clock):
    members(cast, 3)
    first, second = notice(cast, "第一份通知"), notice(cast, "第二份通知")
    taken = ding_rows(first).last()
    OutboxMessage.objects.filter(pk=taken.pk).update(
        status=OutboxStatus.SENDING, claimed_at=clock.now
    )  # another worker
    assert outbox_deliver(message_id=ding_rows(first).first().pk).status == "sent"
    assert [len(x) for x in sent_lists(fake)] == [2]  # not the other worker's row, not the second notice
    assert {r.status for r in ding_rows(second)} == {OutboxStatus.PENDING}
    deliver_all()
    assert [len(x) for x in sent_lists(fake)] == [2, 3]
    titles = [json.loads(c["body"])["msg"]["action_card"]["title"] for c in fake.calls(SEND)]
    assert titles[0].endswith("第一份通知") and titles[1].endswith("第二份通知")
