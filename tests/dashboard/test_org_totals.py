"""Organization pages count the whole subtree, as the dashboard does (#13.2)."""

from __future__ import annotations

import pytest

from dashboard.facts import facts_rebuild
from members.choices import MembershipStatus, Stage
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory.create_batch(3, organization=cast.A)
        MemberFactory(organization=cast.A, stage=Stage.PROBATIONARY, full_on=None)
        MemberFactory(organization=cast.B, stage=Stage.APPLICANT, joined_on=None, full_on=None)
        MemberFactory(organization=cast.B, membership_status=MembershipStatus.SUSPENDED)
        MemberFactory(organization=cast.P)  # a member kept by the committee itself
    facts_rebuild()
    return cast


def _dashboard_total(client, org) -> int:
    return client.get(f"/organizations/{org.pk}/dashboard/").context["members"]["party_total"]


def test_committee_page_shows_the_subtree_total_equal_to_the_dashboard(data):
    client = data.client("org_admin_p")
    page = client.get(f"/organizations/{data.P.pk}/")
    org = page.context["org"]
    # A: 甲 + 3 full + 1 probationary; B: 乙; P: 1 (applicant and 停止党籍 not counted).
    assert org.subtree_party_member_count == 7 == _dashboard_total(client, data.P)
    assert org.subtree_full_member_count == 6
    assert org.party_member_count == 1
    body = page.content.decode()
    assert "7（其中正式党员 6）" in body
    assert "本级直属党员 1" in body
    children = {child.name: child.subtree_party_member_count for child, _flags in page.context["children"]}
    assert children == {"第一党支部": 5, "第二党支部": 1}


def test_branch_page_shows_its_own_members_too(data):
    client = data.client("org_admin_p")
    page = client.get(f"/organizations/{data.A.pk}/")
    assert page.context["org"].subtree_party_member_count == 5 == _dashboard_total(client, data.A)
    assert "本支部党员 5（其中正式党员 4）" in page.content.decode()


def test_tree_page_shows_subtree_totals(data):
    page = data.client("org_admin_p").get("/organizations/")
    counts = {org.name: org.subtree_party_member_count for org, _flags, _indent in page.context["items"]}
    assert counts["中共测试委员会"] == 7
    assert "党员 7" in page.content.decode()


def _member_counting_queries(queries) -> list[str]:
    """Queries that count members over a subtree (members joined to organizations by path)."""
    subtree_count = 'FROM "members_member" U0 INNER JOIN "organizations_organization"'
    return [q["sql"] for q in queries if subtree_count in q["sql"]]


def test_pages_read_the_subtree_totals_from_the_summary_tables_when_current(data):
    """At 100,000 members the recount made the root page 300 ms; the cumulative facts give the
    same figures by one indexed lookup per organization (#20)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = data.client("org_admin_p")
    client.get(f"/organizations/{data.P.pk}/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/organizations/{data.P.pk}/")
    assert page.context["org"].subtree_party_member_count == 7
    assert page.context["org"].subtree_full_member_count == 6
    children = {child.name: child.subtree_party_member_count for child, _flags in page.context["children"]}
    assert children == {"第一党支部": 5, "第二党支部": 1}
    assert not _member_counting_queries(queries.captured_queries)
    assert any("dashboard_dashboardfact" in q["sql"] for q in queries.captured_queries)


def test_pages_count_the_members_while_the_facts_are_not_current(cast, data):
    """No complete build, or a change waiting longer than the dashboard allows: the recount, so the
    page never shows a stale figure the dashboard would flag."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dashboard.models import DashboardBuild, DashboardDirty

    client = data.client("org_admin_p")
    MemberFactory(organization=cast.A)  # its refresh never ran (no on_commit here): the facts say 7
    DashboardDirty.objects.create(
        organization_id=cast.A.pk, family="members", created_at=timezone.now() - timedelta(minutes=30)
    )
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/organizations/{cast.P.pk}/")
    assert page.context["org"].subtree_party_member_count == 8
    assert _member_counting_queries(queries.captured_queries)
    DashboardDirty.objects.all().delete()
    assert client.get(f"/organizations/{cast.P.pk}/").context["org"].subtree_party_member_count == 7  # the facts
    DashboardBuild.objects.all().delete()  # never built
    assert client.get(f"/organizations/{cast.P.pk}/").context["org"].subtree_party_member_count == 8
