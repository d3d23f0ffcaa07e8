"""The access gate: visible_to per role, and the object-fetch helper."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.access import CHANGE, VIEW, get_for_user
from members.models import Member
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def names(qs):
    return sorted(str(o) for o in qs)


def test_org_admin_sees_and_changes_whole_subtree(cast):
    user = cast.users["org_admin_p"]
    assert set(Organization.objects.visible_to(user, VIEW)) == {cast.P, cast.A, cast.A1, cast.B}
    assert set(Organization.objects.visible_to(user, CHANGE)) == {cast.P, cast.A, cast.A1, cast.B}
    assert set(Member.objects.visible_to(user)) == {cast.member_a_record, cast.member_b_record}


def test_secretary_reaches_own_branch_and_its_groups_only(cast):
    user = cast.users["secretary_a"]
    assert set(Organization.objects.visible_to(user, VIEW)) == {cast.A, cast.A1}
    assert set(Organization.objects.visible_to(user, CHANGE)) == {cast.A, cast.A1}
    assert list(Member.objects.visible_to(user)) == [cast.member_a_record]


def test_member_sees_own_record_and_own_branch_only(cast):
    user = cast.users["member_a"]
    assert list(Member.objects.visible_to(user, VIEW)) == [cast.member_a_record]
    assert list(Member.objects.visible_to(user, CHANGE)) == []
    assert list(Organization.objects.visible_to(user, VIEW)) == [cast.A]
    assert list(Organization.objects.visible_to(user, CHANGE)) == []


def test_auditor_reads_subtree_without_write(cast):
    user = cast.users["auditor_p"]
    assert set(Member.objects.visible_to(user, VIEW)) == {cast.member_a_record, cast.member_b_record}
    assert list(Organization.objects.visible_to(user, CHANGE)) == []


def test_sysadmin_reads_tree_but_no_member_data(cast):
    user = cast.users["sysadmin"]
    assert Organization.objects.visible_to(user, VIEW).count() == 5
    assert list(Member.objects.visible_to(user, VIEW)) == []
    assert list(Organization.objects.visible_to(user, CHANGE)) == []


def test_deny_by_default(cast):
    assert list(Organization.objects.visible_to(cast.users["outsider"])) == []
    assert list(Member.objects.visible_to(cast.users["outsider"])) == []

    class Anonymous:
        is_authenticated = False

    assert list(Organization.objects.visible_to(Anonymous())) == []


def test_get_for_user_404_for_foreign_and_403_for_read_only(cast):
    with pytest.raises(Http404):
        get_for_user(Organization, cast.users["secretary_a"], VIEW, pk=cast.B.pk)
    with pytest.raises(PermissionDenied):
        get_for_user(Organization, cast.users["auditor_p"], CHANGE, pk=cast.A.pk)
    assert get_for_user(Organization, cast.users["secretary_a"], CHANGE, pk=cast.A.pk) == cast.A
    with pytest.raises(Http404):
        get_for_user(Organization, cast.users["secretary_a"], VIEW, pk="not-a-number")


def test_scope_costs_one_query_per_request(cast, django_assert_num_queries):
    user = cast.users["org_admin_p"]
    with django_assert_num_queries(3):  # member link + role assignments + the rows
        list(Organization.objects.visible_to(user))
    with django_assert_num_queries(1):  # scope cached on the user for the rest of the request
        list(Member.objects.visible_to(user))


@pytest.mark.parametrize(
    "who,url_of,expected",
    [
        ("secretary_a", "A", 200),
        ("secretary_a", "B", 404),
        ("secretary_b", "A", 404),
        ("org_admin_p", "B", 200),
        ("member_a", "B", 404),
        ("outsider", "A", 404),
        ("org_admin_p", "Q", 404),
    ],
)
def test_org_pages_and_api_respect_the_gate(cast, who, url_of, expected):
    org = getattr(cast, url_of)
    assert cast.client(who).get(f"/organizations/{org.pk}/").status_code == expected
    api_expected = 403 if who == "outsider" else expected  # no role at all: refused before lookup
    assert cast.api(who).get(f"/api/v1/organizations/{org.pk}/").status_code == api_expected


def test_secretary_cannot_edit_foreign_branch(cast):
    response = cast.client("secretary_a").post(f"/organizations/{cast.B.pk}/edit/", {"name": "改名"})
    assert response.status_code == 404
    api = cast.api("secretary_a").patch(f"/api/v1/organizations/{cast.B.pk}/", {"name": "改名"}, format="json")
    assert api.status_code == 404
    cast.B.refresh_from_db()
    assert cast.B.name == "第二党支部"


def test_auditor_gets_403_on_write(cast):
    response = cast.api("auditor_p").patch(f"/api/v1/organizations/{cast.A.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
