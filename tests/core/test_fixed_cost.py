"""#20.1 the fixed cost of an authenticated API call: the access gate's scope cached across
requests (and retired when what it is made of changes), no session write per request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from core.access import get_scope
from core.roles import Role
from organizations.choices import OrgType
from organizations.models import RoleAssignment
from organizations.services import organization_update
from tests.factories import make_org

pytestmark = pytest.mark.django_db
PASSWORD = "Fixed-c0st!pass"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _token_client(user) -> Client:
    """A token obtained the way an API client obtains one (whatever the token storage)."""
    user.set_password(PASSWORD)
    user.save()
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return Client(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")


def _session_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _role_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "organizations_roleassignment" in q["sql"]]


def _warm(client: Client, url: str, status: int = 200) -> None:
    """Two calls: the second must be served from the cached scope (so a stale one would show)."""
    assert client.get(url).status_code == status
    with CaptureQueriesContext(connection) as second:
        assert client.get(url).status_code == status
    assert not _role_queries(second)


@pytest.mark.parametrize("auth", ["token", "session"])
@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cached_db")  # production's (CACHE_URL)
def test_small_object_get_takes_at_most_three_queries(cast, auth, django_assert_max_num_queries):
    user = cast.users["secretary_a"]
    client = _token_client(user) if auth == "token" else _session_client(user)
    url = f"/api/v1/organizations/{cast.A.pk}/"
    assert client.get(url).status_code == 200  # the first call computes and caches the scope
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert response.status_code == 200 and response.json()["id"] == cast.A.pk


def test_scope_is_read_from_the_cache_on_the_next_request(cast):
    client = _session_client(cast.users["secretary_a"])
    cache.clear()  # the login itself may have resolved the scope
    url = f"/api/v1/organizations/{cast.A.pk}/"
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(url).status_code == 200
    assert _role_queries(first) and not _role_queries(second)


def test_a_removed_role_loses_access_on_the_next_request(cast):
    client = _session_client(cast.users["secretary_a"])
    url = f"/api/v1/organizations/{cast.A.pk}/"
    _warm(client, url)
    RoleAssignment.objects.get(user=cast.users["secretary_a"], role=Role.SECRETARY).delete()
    assert client.get(url).status_code in (403, 404)


def test_a_granted_role_opens_access_on_the_next_request(cast):
    client = _session_client(cast.users["secretary_b"])
    url = f"/api/v1/organizations/{cast.A.pk}/"
    _warm(client, url, 404)  # A is not secretary_b's, and that is cached now
    RoleAssignment.objects.create(user=cast.users["secretary_b"], organization=cast.A, role=Role.SECRETARY)
    assert client.get(url).status_code == 200


def test_a_moved_organization_is_reached_through_its_new_path(cast):
    """Tree moves rewrite paths with queryset updates: the cached rules must follow them."""
    client = _session_client(cast.users["secretary_a"])
    url = f"/api/v1/organizations/{cast.A.pk}/"
    _warm(client, url)
    old_path = get_scope(cast.users["secretary_a"]).recording_paths()
    organization_update(org=cast.A, parent=cast.Q)
    cast.A.refresh_from_db()
    assert [cast.A.path] != old_path
    assert client.get(url).status_code == 200


def test_a_member_moved_to_another_branch_reads_their_new_branch(cast):
    member_user = cast.users["member_a"]
    client = _session_client(member_user)
    C = make_org("第三党支部", OrgType.BRANCH, parent=cast.P)
    _warm(client, f"/api/v1/organizations/{cast.A.pk}/")
    RoleAssignment.objects.filter(user=member_user).update(organization=C)  # the role follows in bulk
    record = cast.member_a_record
    record.organization = C
    record.save()  # the member record moves: the identity (its organization's path) changes
    assert client.get(f"/api/v1/organizations/{C.pk}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{cast.A.pk}/").status_code == 404


def test_an_ordinary_edit_of_a_member_keeps_the_cached_scopes(cast):
    client = _session_client(cast.users["secretary_a"])
    url = f"/api/v1/organizations/{cast.A.pk}/"
    _warm(client, url)
    record = cast.member_b_record
    record.name = "乙党员（改名）"
    record.save()
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert not _role_queries(after)


def test_the_scope_is_computed_when_the_cache_is_down(cast, monkeypatch):
    """The scope cache failing costs two queries, never the request."""
    real = {name: getattr(cache, name) for name in ("get_many", "set", "add")}

    def failing(name):
        def call(key, *args, **kwargs):
            keys = key if isinstance(key, list) else [key]
            if any(str(k).startswith("pb:scope") for k in keys):
                raise ConnectionError("cache down")
            return real[name](key, *args, **kwargs)

        return call

    for name in real:
        monkeypatch.setattr(cache, name, failing(name))
    client = _session_client(cast.users["secretary_a"])
    url = f"/api/v1/organizations/{cast.A.pk}/"
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as again:
        assert client.get(url).status_code == 200
    assert _role_queries(again)  # computed again: nothing could be cached


def test_organization_detail_names_its_parent_without_a_query_of_its_own(cast, django_assert_max_num_queries):
    client = _session_client(cast.users["org_admin_p"])
    assert client.get(f"/api/v1/organizations/{cast.P.pk}/").json()["parent_id"] is None  # a root
    with django_assert_max_num_queries(3):  # session, user, the organization (scope from the cache)
        body = client.get(f"/api/v1/organizations/{cast.A1.pk}/").json()
    assert body["parent_id"] == cast.A.pk
    assert client.get(f"/api/v1/organizations/{cast.A.pk}/").json()["parent_id"] == cast.P.pk
