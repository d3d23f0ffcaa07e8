"""#20.1 one-object lookups compiled once (core.compiled.PreparedLookup, PreparedRowsWithRelated):
the same row, the same annotations and the same scope answers as the ORM path, and the statement
is built once per process."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from core.access import CHANGE, VIEW, get_for_user, get_prepared_for_user
from core.compiled import PreparedLookup
from organizations.api.views import ORGANIZATION_DETAIL
from organizations.models import Organization
from organizations.selectors import organization_with_flag_data, organization_with_parent_id
from organizations.services import committee_term_start
from tests.factories import MemberFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db

ANNOTATIONS = (
    "full_member_count",
    "party_member_count",
    "term_expires_on",
    "term_extended_until",
    "committee_size",
    "parent_pk",
)


def test_the_row_and_its_annotations_equal_the_orm_query(cast):
    MemberFactory(organization=cast.A)
    committee_term_start(org=cast.A, elected_on=dt.date(2024, 3, 1))
    orm = organization_with_parent_id(organization_with_flag_data(Organization.objects.all()))
    for org in (cast.P, cast.A, cast.A1, cast.B, cast.Q):
        expected = orm.get(pk=org.pk)
        got = ORGANIZATION_DETAIL.get(org.pk)
        assert type(got) is Organization and got.pk == org.pk
        for field in Organization._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
        for name in ANNOTATIONS:
            assert getattr(got, name) == getattr(expected, name), name
    assert ORGANIZATION_DETAIL.get(cast.A.pk).full_member_count >= 1
    assert ORGANIZATION_DETAIL.get(cast.P.pk).parent_pk is None
    assert ORGANIZATION_DETAIL.get(cast.A.pk).parent_pk == cast.P.pk


@pytest.mark.parametrize(
    "key", ["abc", "", None, "1.5", "9999999999", "99999999999999999999", -(2**63), -1_000_003, "12; DROP TABLE x"]
)
def test_a_key_that_is_no_row_is_none(cast, key):
    assert ORGANIZATION_DETAIL.get(key) is None


def test_the_statement_is_built_once_and_runs_as_one_query(cast):
    built = []

    def build(queryset):
        built.append(1)
        return organization_with_flag_data(queryset)

    lookup = PreparedLookup(Organization, build)
    assert lookup.get(cast.A.pk).pk == cast.A.pk  # the first call plans: placeholder builds + its own
    planned = len(built)
    for org in (cast.A, cast.B, cast.P):
        with CaptureQueriesContext(connection) as queries:
            assert lookup.get(org.pk).pk == org.pk
        assert len(queries) == 1
    assert len(built) == planned  # never built again


def test_scope_is_the_same_as_the_gate(cast):
    """Every user × every organization: the prepared path and the SQL gate agree on 404/403/ok."""

    def outcome(call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except Http404:
            return 404
        except Exception as exc:  # PermissionDenied
            return type(exc).__name__
        return 200

    orgs = [cast.P, cast.A, cast.A1, cast.B, cast.Q]
    for user in cast.users.values():
        for org in orgs:
            for action in (VIEW, CHANGE):
                via_sql = outcome(get_for_user, Organization.objects.all(), user, action, pk=org.pk)
                prepared = outcome(get_prepared_for_user, ORGANIZATION_DETAIL, user, org.pk, action)
                by_model = outcome(get_for_user, Organization, user, action, pk=org.pk)
                assert via_sql == prepared == by_model, (user.username, org.name, action)


def test_api_detail_of_an_organization_outside_scope_is_404(cast):
    client = cast.api("secretary_a")
    assert client.get(f"/api/v1/organizations/{cast.A.pk}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{cast.B.pk}/").status_code == 404
    assert client.get(f"/api/v1/organizations/{cast.Q.pk}/").status_code == 404
    assert client.get("/api/v1/organizations/0/").status_code == 404


def test_token_rows_with_their_user_in_one_query(cast):
    from knox.models import AuthToken

    from accounts.authentication import _TOKENS_BY_PREFIX
    from accounts.services.tokens import token_issue

    row, key = token_issue(user=cast.users["secretary_a"], via="test")
    token_issue(user=cast.users["secretary_b"], via="test")
    prefix = row.token_key
    with CaptureQueriesContext(connection) as queries:
        rows = _TOKENS_BY_PREFIX.rows(prefix)
        assert [r.user.username for r in rows] == ["secretary_a"]  # the user came with the row
    assert len(queries) == 1
    expected = AuthToken.objects.select_related("user").get(token_key=prefix)
    got = rows[0]
    for field in AuthToken._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    for field in type(expected.user)._meta.concrete_fields:
        assert getattr(got.user, field.attname) == getattr(expected.user, field.attname), field.name
    assert _TOKENS_BY_PREFIX.rows("no-such-prefix") == []
    assert _TOKENS_BY_PREFIX.rows("x' OR '1'='1") == []


def test_a_user_key_beyond_the_column_type_is_no_user(cast):
    from accounts.backends import AccountBackend

    user = cast.users["secretary_a"]
    assert AccountBackend().get_user(user.pk) == user
    assert AccountBackend().get_user(2**40) is None
    assert AccountBackend().get_user("x") is None


@pytest.mark.django_db(transaction=True)
def test_token_rows_from_several_threads(cast):
    """gthread workers and the test server run requests on several threads; each thread's
    connection is its own, so the statement must not carry another thread's connection."""

    from accounts.authentication import _TOKENS_BY_PREFIX
    from accounts.services.tokens import token_issue

    row, _key = token_issue(user=cast.users["secretary_a"], via="test")
    assert _TOKENS_BY_PREFIX.rows(row.token_key)  # compiled on this thread first
    found = run_together(lambda _n: [r.user.username for r in _TOKENS_BY_PREFIX.rows(row.token_key)], 4)
    assert found == [["secretary_a"]] * 4
