"""#20.3 the rush: with a worker, commits share one delayed drain instead of one refresh each;
nothing is lost, the figures end equal to a recount."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from dashboard import outbox
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardDirty
from dashboard.outbox import DRAIN_QUEUED_KEY, outbox_drain
from dashboard.verify import verify_facts
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_mode(cast, monkeypatch):
    """Tasks go to a broker (as in production): record the drains sent instead of running them."""
    facts_rebuild()
    DashboardDirty.objects.all().delete()
    cache.delete(DRAIN_QUEUED_KEY)
    monkeypatch.setattr(outbox.current_app.conf, "task_always_eager", False)
    sent: list[dict] = []
    monkeypatch.setattr(outbox.dashboard_drain, "apply_async", lambda **kwargs: sent.append(kwargs))
    yield cast, sent
    cache.delete(DRAIN_QUEUED_KEY)


def test_commits_share_one_delayed_drain_until_it_starts(worker_mode, django_capture_on_commit_callbacks):
    cast, sent = worker_mode
    for org in (cast.A, cast.B, cast.A):  # three meetings' worth of commits in a rush
        with django_capture_on_commit_callbacks(execute=True):
            MemberFactory(organization=org)
    assert sent == [{"countdown": settings.PB_DASHBOARD_DRAIN_DELAY_SECONDS}]
    assert verify_facts() != []  # nothing refreshed inside the requests
    assert outbox_drain() > 0  # the one drain takes every commit's marks
    assert not DashboardDirty.objects.exists() and verify_facts() == []
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory(organization=cast.B)  # after the drain started: a drain of its own
    assert len(sent) == 2
    outbox_drain()
    assert verify_facts() == []


def test_a_drain_that_could_not_be_sent_does_not_hold_back_the_next_commit(
    worker_mode, monkeypatch, django_capture_on_commit_callbacks
):
    cast, sent = worker_mode

    def broker_down(**kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(outbox.dashboard_drain, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory(organization=cast.A)  # committed; its drain not sent (the sweeper would run it)
    assert cache.get(DRAIN_QUEUED_KEY) is None
    monkeypatch.setattr(outbox.dashboard_drain, "apply_async", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory(organization=cast.A)
    assert len(sent) == 1
    outbox_drain()
    assert verify_facts() == []
