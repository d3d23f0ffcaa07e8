"""#13.10: every list declares its query parameters as a django-filter FilterSet: a parameter is
applied or refused with 400; errors have one shape (a list per field) for query and body; the
schema documents the filters; unknown paths under /api/ answer JSON 404."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from config import api_router

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/organizations/",
    "/api/v1/members/",
    "/api/v1/transfers/",
    "/api/v1/meetings/",
    "/api/v1/follow-ups/",
    "/api/v1/talks/",
    "/api/v1/study-records/",
    "/api/v1/study-points/",
    "/api/v1/plans/",
    "/api/v1/dues/ledger/",
    "/api/v1/dues/payments/",
    "/api/v1/dues/fixings/",
    "/api/v1/dues/approvals/",
    "/api/v1/development/steps/",
    "/api/v1/assessment-schemes/",
    "/api/v1/assessment-rounds/",
    "/api/v1/ratings/",
    "/api/v1/duty-reports/",
    "/api/v1/inspection-reports/",
    "/api/v1/rectifications/",
    "/api/v1/notifications/",
]


def test_every_router_list_has_a_filterset_or_takes_no_parameters():
    for prefix, viewset, _basename in api_router.router.registry:
        if hasattr(viewset, "list"):
            filterset = getattr(viewset, "filterset_class", None)
            allowed = getattr(viewset, "allowed_query_params", frozenset())
            assert not allowed, f"{prefix}: list parameters belong in a FilterSet, not allowed_query_params"
            assert filterset is None or filterset.base_filters, prefix


def test_roster_parameters_on_the_meeting_list_are_refused(cast):
    api = cast.api("secretary_a")
    response = api.get("/api/v1/meetings/", {"held_on": "1999-01-01"})
    assert response.status_code == 400
    assert response.json() == {"held_on": ["不支持的查询参数"]}
    assert api.get("/api/v1/meetings/", {"is_center_group": "1"}).status_code == 400


def test_roster_still_takes_its_parameters_and_retrieve_takes_none(cast):
    api = cast.api("secretary_a")
    roster = api.get(
        "/api/v1/meetings/roster/",
        {"organization": cast.A.pk, "held_on": "2026-03-01", "meeting_type": "general_assembly"},
    )
    assert roster.status_code == 200, roster.json()
    assert api.get(f"/api/v1/organizations/{cast.A.pk}/", {"org_type": "branch"}).status_code == 400


@pytest.mark.parametrize("url", LISTS)
def test_unknown_parameter_on_every_list_is_400_with_a_list(cast, url):
    response = cast.api("org_admin_p").get(url, {"bogus": "1"})
    assert response.status_code == 400
    assert response.json() == {"bogus": ["不支持的查询参数"]}


@pytest.mark.parametrize(
    "url,params,field",
    [
        ("/api/v1/meetings/", {"year": "1999"}, "year"),
        ("/api/v1/meetings/", {"status": "nonsense"}, "status"),
        ("/api/v1/meetings/", {"organization": "x"}, "organization"),
        ("/api/v1/meetings/", {"ordering": "secret"}, "ordering"),
        ("/api/v1/members/", {"stage": "planet"}, "stage"),
        ("/api/v1/members/", {"search": "a\x00b"}, "search"),
        ("/api/v1/dues/ledger/", {"month": "2026-13"}, "month"),
        ("/api/v1/inspection-reports/", {"quarter": "5"}, "quarter"),
        ("/api/v1/notifications/", {"unread": "maybe"}, "unread"),
    ],
)
def test_bad_values_are_400_with_a_list_of_messages_per_field(cast, url, params, field):
    response = cast.api("org_admin_p").get(url, params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and all(isinstance(m, str) and m for m in body[field])


def test_body_errors_have_the_same_shape(cast):
    response = cast.api("secretary_a").post("/api/v1/talks/", {"organization": cast.A.pk}, format="json")
    assert response.status_code == 400
    assert all(isinstance(v, list) for v in response.json().values())


def test_filters_are_applied(cast):
    api = cast.api("org_admin_p")
    rows = api.get("/api/v1/members/", {"organization": cast.B.pk}).json()["results"]
    assert rows and {r["organization"] for r in rows} == {cast.B.pk}
    everyone = api.get("/api/v1/members/").json()["results"]
    assert len(everyone) > len(rows)


def test_ordering_by_name(cast):
    api = cast.api("org_admin_p")
    names = [r["name"] for r in api.get("/api/v1/members/", {"ordering": "name"}).json()["results"]]
    assert names == sorted(names) and len(names) > 1
    reverse = [r["name"] for r in api.get("/api/v1/members/", {"ordering": "-name"}).json()["results"]]
    assert reverse == names[::-1]


def test_schema_documents_the_filters(cast):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    params = {p["name"] for p in schema["paths"]["/api/v1/meetings/"]["get"]["parameters"]}
    assert {"organization", "year", "meeting_type", "status", "ordering"} <= params
    assert "held_on" not in params
    detail = {p["name"] for p in schema["paths"]["/api/v1/meetings/{id}/"]["get"].get("parameters", [])}
    assert detail == {"id"}


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v2/meetings/", "/api/v1/meetings/x/y/z/"])
def test_unknown_api_paths_answer_json_404(cast, path):
    response = cast.api("secretary_a").get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_unknown_page_paths_still_answer_html_404(cast):
    client = cast.api("secretary_a")
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_router_is_mounted_under_api():
    assert any(route.startswith("api/v1/") for route in _walk(get_resolver().url_patterns))


def test_each_filterset_gets_its_own_filters_and_fields_copied_one_level(cast, rf):
    """Copies one level deep (#20.2): per request its own filter and form-field objects, each
    ``method=`` filter bound to its own FilterSet (its ``self.request``), nothing of one request
    seen by another."""
    from activities.api.filters import MeetingFilterSet  # import-here: a FilterSet with method filters
    from activities.models import Meeting  # import-here: as above

    first_request, second_request = rf.get("/"), rf.get("/")
    first_request.user, second_request.user = cast.users["org_admin_p"], cast.users["secretary_a"]
    first = MeetingFilterSet({"organization": str(cast.A.pk)}, queryset=Meeting.objects.none(), request=first_request)
    second = MeetingFilterSet({"organization": "x"}, queryset=Meeting.objects.none(), request=second_request)
    for name in MeetingFilterSet.base_filters:
        assert first.filters[name] is not second.filters[name] is not MeetingFilterSet.base_filters[name]
        assert first.filters[name].parent is first and second.filters[name].parent is second
    method = first.filters["organization"].filter
    assert method.f is first.filters["organization"] and method.method == first.filter_organization
    assert first.is_valid() and not second.is_valid()
    assert first.form.fields["organization"] is not second.form.fields["organization"]
    assert second.errors["organization"] and first.form.cleaned_data["organization"] == cast.A.pk
    assert list(first.qs) == list(Meeting.objects.none())  # the method filter ran on its own FilterSet
