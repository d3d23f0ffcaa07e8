"""API conventions: token auth, strict query parameters, page-size cap, 400s with field errors."""

import pytest
from rest_framework.test import APIClient

from organizations.choices import OrgType
from organizations.models import Organization
from tests.factories import make_org

pytestmark = pytest.mark.django_db


def test_token_login_then_token_auth(cast):
    user = cast.users["secretary_a"]
    user.set_password("Str0ng!pass")
    user.save()
    client = APIClient()
    bad = client.post("/api/v1/auth/token/", {"username": "secretary_a", "password": "wrong"}, format="json")
    assert bad.status_code == 400
    response = client.post("/api/v1/auth/token/", {"username": "secretary_a", "password": "Str0ng!pass"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listing = client.get("/api/v1/organizations/")
    assert listing.status_code == 200
    assert {row["name"] for row in listing.json()["results"]} == {"第一党支部", "第一党支部第一党小组"}


def test_anonymous_api_refused(cast):
    assert APIClient().get("/api/v1/organizations/").status_code in (401, 403)


def test_user_without_role_refused(cast):
    assert cast.api("outsider").get("/api/v1/organizations/").status_code == 403


@pytest.mark.parametrize(
    "params,field",
    [
        ({"bogus": "1"}, "bogus"),
        ({"page": "abc"}, "page"),
        ({"page_size": "-3"}, "page_size"),
        ({"org_type": "planet"}, "org_type"),
        ({"within": "x"}, "within"),
    ],
)
def test_malformed_query_params_are_400(cast, params, field):
    response = cast.api("org_admin_p").get("/api/v1/organizations/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_page_beyond_end_is_404_not_500(cast):
    assert cast.api("org_admin_p").get("/api/v1/organizations/", {"page": "999"}).status_code == 404


def test_page_size_is_capped(cast):
    from core.api.pagination import CappedPageNumberPagination

    original = CappedPageNumberPagination.max_page_size
    CappedPageNumberPagination.max_page_size = 3
    try:
        response = cast.api("org_admin_p").get("/api/v1/organizations/", {"page_size": "100000"})
        assert len(response.json()["results"]) == 3
    finally:
        CappedPageNumberPagination.max_page_size = original


def test_filters_search_and_within(cast):
    api = cast.api("org_admin_p")
    rows = api.get("/api/v1/organizations/", {"org_type": "group"}).json()["results"]
    assert [r["name"] for r in rows] == ["第一党支部第一党小组"]
    rows = api.get("/api/v1/organizations/", {"within": cast.A.pk}).json()["results"]
    assert {r["name"] for r in rows} == {"第一党支部", "第一党支部第一党小组"}
    assert api.get("/api/v1/organizations/", {"within": cast.Q.pk}).status_code == 404
    rows = api.get("/api/v1/organizations/", {"search": "第二"}).json()["results"]
    assert [r["parent_id"] for r in rows] == [cast.P.pk]


def test_create_validates_parent_type_with_field_error(cast):
    api = cast.api("org_admin_p")
    response = api.post(
        "/api/v1/organizations/",
        {"parent": cast.P.pk, "name": "小组", "code": "G9", "org_type": "group"},
        format="json",
    )
    assert response.status_code == 400
    assert "党小组" in response.json()["parent"][0]
    ok = api.post(
        "/api/v1/organizations/",
        {"parent": cast.P.pk, "name": "第三党支部", "code": "B3", "org_type": "branch"},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["parent_id"] == cast.P.pk


def test_create_refuses_unknown_fields_and_foreign_parent(cast):
    api = cast.api("secretary_a")
    response = api.post(
        "/api/v1/organizations/", {"parent": cast.B.pk, "name": "x", "code": "Z", "org_type": "group"}, format="json"
    )
    assert response.status_code == 400 and "parent" in response.json()
    response = api.post(
        "/api/v1/organizations/",
        {"parent": cast.A.pk, "name": "x", "code": "Z", "org_type": "group", "path": "0001"},
        format="json",
    )
    assert response.status_code == 400 and "path" in response.json()


def test_move_by_patch_refuses_cycle(cast):
    api = cast.api("org_admin_p")
    response = api.patch(f"/api/v1/organizations/{cast.A.pk}/", {"parent": cast.A1.pk}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()


def test_delete_non_empty_is_400_and_empty_is_204(cast):
    api = cast.api("org_admin_p")
    assert api.delete(f"/api/v1/organizations/{cast.B.pk}/").status_code == 400
    empty = make_org("空支部", OrgType.BRANCH, parent=cast.P)
    assert api.delete(f"/api/v1/organizations/{empty.pk}/").status_code == 204
    assert not Organization.objects.filter(pk=empty.pk).exists()


def test_terms_endpoint(cast):
    from datetime import date

    from organizations.services import committee_term_start

    committee_term_start(org=cast.A, elected_on=date(2021, 5, 1))
    committee_term_start(org=cast.A, elected_on=date(2024, 5, 1))
    rows = cast.api("secretary_a").get(f"/api/v1/organizations/{cast.A.pk}/terms/").json()
    assert [r["number"] for r in rows] == [2, 1]
    assert cast.api("secretary_b").get(f"/api/v1/organizations/{cast.A.pk}/terms/").status_code == 404


def test_list_endpoint_constant_queries(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = cast.api("org_admin_p")
    api.get("/api/v1/organizations/")  # the user's scope is computed once, then cached
    with CaptureQueriesContext(connection) as small:
        api.get("/api/v1/organizations/")
    for i in range(15):
        make_org(f"支部{i}", OrgType.BRANCH, parent=cast.P)
    with CaptureQueriesContext(connection) as large:
        api.get("/api/v1/organizations/")
    assert len(small) == len(large) <= 6


def test_schema_and_docs_served_locally(cast):
    client = cast.client("org_admin_p")
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs and "http://" not in docs and "https://" not in docs
