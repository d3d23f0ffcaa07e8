"""#20.3 the dashboard API's answer kept until a figure it shows can change (dashboard.answers):
the same JSON as a fresh computation, retired by every fact change and organization change, and
never kept for a reader whose figures depend on what they may see."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard import answers
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardDirty
from organizations.services import organization_update
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(cast, monkeypatch):
    monkeypatch.setattr(answers, "enabled", lambda: True)  # the shared Redis cache, in production
    cache.clear()
    facts_rebuild()
    DashboardDirty.objects.all().delete()
    yield cast
    cache.clear()


def _get(cast, who, org):
    with CaptureQueriesContext(connection) as queries:
        answer = cast.api(who).get(f"/api/v1/organizations/{org.pk}/dashboard/").json()
    return answer, len(queries)


def test_a_kept_answer_is_the_computed_one_in_fewer_queries(kept):
    first, computing = _get(kept, "org_admin_p", kept.P)
    second, reading = _get(kept, "org_admin_p", kept.P)
    assert second == first and reading < computing
    auditor, _ = _get(kept, "auditor_p", kept.P)  # another reader of the whole subtree: the same answer
    assert auditor == first


def test_a_refreshed_figure_retires_every_kept_answer(kept, django_capture_on_commit_callbacks):
    before, _ = _get(kept, "org_admin_p", kept.P)
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory(organization=kept.A)  # committed; the outbox refresh runs after the commit
    after, _ = _get(kept, "org_admin_p", kept.P)
    assert after != before
    assert after == answers_disabled(kept, "org_admin_p", kept.P)  # what a fresh computation shows


def test_a_renamed_child_retires_every_kept_answer(kept):
    _get(kept, "org_admin_p", kept.P)
    organization_update(org=kept.A, short_name="更名后的第一党支部", user=None)
    after, _ = _get(kept, "org_admin_p", kept.P)
    assert "更名后的第一党支部" in {row["name"] for row in after["children"]}


def test_a_rebuild_retires_every_kept_answer(kept, monkeypatch):
    _get(kept, "org_admin_p", kept.P)
    monkeypatch.setattr(answers, "_new_generation", lambda: calls.append(1))
    calls: list[int] = []
    facts_rebuild()
    assert calls


def test_a_secretarys_answer_is_never_kept(kept):
    _get(kept, "secretary_a", kept.A)  # the scope is cached from here on
    first, computing = _get(kept, "secretary_a", kept.A)
    second, again = _get(kept, "secretary_a", kept.A)
    assert second == first and again == computing
    assert not [key for key in cache._cache if "pb:dashboard:answer" in str(key)]  # locmem's own store


def test_not_kept_without_a_shared_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert answers.enabled() is False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert answers.enabled() is True
    settings.PB_DASHBOARD_ANSWER_SECONDS = 0
    assert answers.enabled() is False


def answers_disabled(cast, who, org):
    import unittest.mock

    with unittest.mock.patch.object(answers, "enabled", lambda: False):
        return cast.api(who).get(f"/api/v1/organizations/{org.pk}/dashboard/").json()
