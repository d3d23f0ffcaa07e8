"""Dashboard pages and API: figures, drill-downs, bad input, the gate, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from dashboard.facts import facts_rebuild
from members.choices import Stage
from organizations.choices import OrgType
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory.create_batch(3, organization=cast.A, birth_date=date(1990, 5, 1))
        MemberFactory.create_batch(2, organization=cast.B, stage=Stage.APPLICANT, joined_on=None, full_on=None)
        MemberFactory(organization=cast.Q, name="外单位党员")
    facts_rebuild()
    return cast


def test_dashboard_shows_subtree_figures_and_children(data):
    response = data.client("org_admin_p").get(f"/organizations/{data.P.pk}/dashboard/", {"year": 2026, "quarter": 4})
    assert response.status_code == 200
    body = response.content.decode()
    ctx = response.context
    # cast: 甲 in A, 乙 in B, 3 more in A (all full), 2 applicants in B; Q's member is outside.
    assert ctx["members"]["party_total"] == 5
    assert {row["code"]: row["count"] for row in ctx["pipeline"]}["applicant"] == 2
    assert [row["name"] for row in ctx["children"]] == ["第一党支部", "第二党支部"]
    assert f"/organizations/{data.A.pk}/dashboard/?year=2026&quarter=4" in body
    assert "vendor/echarts/echarts.min.js" in body


def test_child_dashboard_and_drill_down(data):
    client = data.client("org_admin_p")
    response = client.get(f"/organizations/{data.A.pk}/dashboard/")
    assert response.context["members"]["party_total"] == 4
    listing = client.get(
        f"/organizations/{data.P.pk}/dashboard/members/", {"metric": "stage", "value": "applicant", "year": 2026}
    )
    assert listing.status_code == 200
    assert len(listing.context["rows"]) == 2
    ages = client.get(f"/organizations/{data.P.pk}/dashboard/members/", {"metric": "age", "value": "2", "year": 2026})
    assert len(ages.context["rows"]) == 3  # born 1990: 36 at the end of 2026 → band 36–40


def test_bad_parameters_are_400_with_chinese_message(data):
    client = data.client("org_admin_p")
    url = f"/organizations/{data.P.pk}/dashboard/"
    for params in ({"year": "1999"}, {"year": "abc"}, {"quarter": "5"}, {"page": "x"}, {"nonsense": "1"}):
        response = client.get(url, params)
        assert response.status_code == 400, params
        assert "应" in response.content.decode() or "不支持" in response.content.decode()
    members = f"/organizations/{data.P.pk}/dashboard/members/"
    assert client.get(members, {"metric": "stage", "value": "nope"}).status_code == 400
    assert client.get(members, {"metric": "salary", "value": "x"}).status_code == 400
    assert client.get(members, {"metric": "age", "value": "99"}).status_code == 400
    orgs = f"/organizations/{data.P.pk}/dashboard/organizations/"
    assert client.get(orgs, {"metric": "org_flag", "value": "nope"}).status_code == 400
    assert client.get(orgs, {"metric": "life_overdue", "value": "nope"}).status_code == 400


def test_gate_foreign_org_is_404_and_members_get_no_dashboard(data):
    assert data.client("secretary_a").get(f"/organizations/{data.B.pk}/dashboard/").status_code == 404
    assert data.client("org_admin_p").get(f"/organizations/{data.Q.pk}/dashboard/").status_code == 404
    assert data.client("member_a").get(f"/organizations/{data.A.pk}/dashboard/").status_code == 404
    assert data.client("sysadmin").get(f"/organizations/{data.P.pk}/dashboard/").status_code == 404
    assert data.client("secretary_a").get(f"/organizations/{data.A.pk}/dashboard/").status_code == 200
    assert data.client("auditor_p").get(f"/organizations/{data.P.pk}/dashboard/").status_code == 200
    response = data.client("anon").get(f"/organizations/{data.P.pk}/dashboard/")
    assert response.status_code == 302


def test_export_is_audited_and_masked(data):
    data.member_a_record.set_id_number("11010519491231002X")
    data.member_a_record.save()
    before = AuditEvent.objects.filter(event="dashboard_export").count()
    response = data.client("org_admin_p").get(
        f"/organizations/{data.P.pk}/dashboard/members/export.xlsx", {"metric": "party", "value": ""}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    event = AuditEvent.objects.filter(event="dashboard_export").order_by("-pk").first()
    assert AuditEvent.objects.filter(event="dashboard_export").count() == before + 1
    assert event.detail["rows"] == 5
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content)).active
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "甲党员" in text and "11010519491231002X" not in text and "外单位党员" not in text


def test_api_dashboard_and_errors(data):
    api = data.api("org_admin_p")
    response = api.get(f"/api/v1/organizations/{data.P.pk}/dashboard/", {"year": 2026, "quarter": 4})
    assert response.status_code == 200
    body = response.json()
    assert body["members"]["party_total"] == 5
    assert [c["name"] for c in body["children"]] == ["第一党支部", "第二党支部"]
    assert api.get(f"/api/v1/organizations/{data.P.pk}/dashboard/", {"quarter": 0}).status_code == 400
    bad = api.get(f"/api/v1/organizations/{data.P.pk}/dashboard/", {"year": "20x6"})
    assert bad.status_code == 400 and "年度" in bad.json()["year"][0]
    assert api.get(f"/api/v1/organizations/{data.P.pk}/dashboard/", {"foo": 1}).status_code == 400
    assert api.get(f"/api/v1/organizations/{data.Q.pk}/dashboard/").status_code == 404
    assert api.get("/api/v1/organizations/999999/dashboard/").status_code == 404
    members = api.get(
        f"/api/v1/organizations/{data.P.pk}/dashboard/members/", {"metric": "stage", "value": "applicant"}
    )
    assert members.status_code == 200 and members.json()["count"] == 2
    assert "id_number" not in str(members.json())
    assert api.get(f"/api/v1/organizations/{data.P.pk}/dashboard/members/", {"metric": "x"}).status_code == 400
    orgs = api.get(
        f"/api/v1/organizations/{data.P.pk}/dashboard/organizations/", {"metric": "org_type", "value": "branch"}
    )
    assert orgs.status_code == 200 and orgs.json()["count"] == 2
    assert data.api("secretary_b").get(f"/api/v1/organizations/{data.A.pk}/dashboard/").status_code == 404


def _grow(root, branches: int, members: int) -> None:
    for i in range(branches):
        committee = make_org(f"扩充党委{root.pk}-{i}", OrgType.COMMITTEE, parent=root)
        branch = make_org(f"扩充支部{root.pk}-{i}", OrgType.BRANCH, parent=committee)
        MemberFactory.create_batch(members, organization=branch)


def test_dashboard_query_count_is_constant(data):
    client = data.client("org_admin_p")
    url = f"/organizations/{data.P.pk}/dashboard/"
    client.get(url)  # warm the session
    facts_rebuild()
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(data.P, branches=25, members=4)  # more children than one page, more members, more facts
    facts_rebuild()
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["members"]["party_total"] == 5 + 100
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(large) <= 15
    api = data.api("org_admin_p")
    with CaptureQueriesContext(connection) as api_queries:
        assert api.get(f"/api/v1/organizations/{data.P.pk}/dashboard/").status_code == 200
    assert len(api_queries) <= 15


def test_secretary_of_a_committee_sees_only_what_the_gate_opens(data):
    """A secretary reaches the organization and its 党小组, not the branches below a 党委."""
    from core.roles import Role
    from tests.factories import UserFactory, assign

    user = UserFactory(username="secretary_p")
    assign(user, data.P, Role.SECRETARY)
    client = data.client("org_admin_p")
    client.force_login(user)
    response = client.get(f"/organizations/{data.P.pk}/dashboard/")
    assert response.status_code == 200
    assert response.context["members"]["party_total"] == 0  # P itself has no members of its own
    assert response.context["children"] == []
    admin = data.client("org_admin_p").get(f"/organizations/{data.P.pk}/dashboard/")
    assert admin.context["members"]["party_total"] == 5
