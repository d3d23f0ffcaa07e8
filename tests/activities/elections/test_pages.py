"""Pages: the org_admin's list, the guided flow, the printouts; query counts pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities.elections.models import Election, ElectionStage
from tests.activities.elections.conftest import TODAY, held_assembly, open_election, ready_election, vote

pytestmark = pytest.mark.django_db

DAY = TODAY.isoformat()


def test_secretary_opens_from_the_organization_page(cast, branch):
    client = cast.client("secretary_a")
    page = client.get(f"/activities/org/{branch.org.pk}/election/")
    assert page.status_code == 200 and "有选举权的正式党员（不含预备党员" in page.content.decode()
    refused = client.post(f"/activities/org/{branch.org.pk}/election/", {"committee_seats": "0"})
    assert "应设立委员会" in refused.content.decode()
    response = client.post(f"/activities/org/{branch.org.pk}/election/", {"committee_seats": "5"})
    election = Election.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/activities/elections/{election.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "下一步：向上级党组织报送换届请示" in page
    # The organization page now leads to the open election.
    assert (
        client.get(f"/activities/org/{branch.org.pk}/election/")["Location"] == f"/activities/elections/{election.pk}/"
    )


def test_guided_steps_and_who_may_take_them(cast, branch):
    election = open_election(branch)
    secretary, upper = cast.client("secretary_a"), cast.client("org_admin_p")
    url = f"/activities/elections/{election.pk}/"
    assert secretary.post(url, {"step": "request", "request_on": DAY}).status_code == 302
    page = secretary.get(url).content.decode()
    assert "等待上级党组织批复" in page and "登记批复" not in page
    assert secretary.post(url, {"step": "request_approval", "approved_on": DAY, "approval_no": "x"}).status_code == 403
    bad = upper.post(url, {"step": "request_approval", "approved_on": "2026-13-01", "approval_no": "批1"})
    assert "批复日期格式应为" in bad.content.decode()
    assert upper.post(url, {"step": "request_approval", "approved_on": DAY, "approval_no": "批1"}).status_code == 302
    page = secretary.get(url).content.decode()
    assert "委员候选人至少 6 名" in page
    five = {"step": "candidates", "cand_committee": [str(m.pk) for m in branch.full[:5]]}
    assert secretary.post(url, five).status_code == 302
    refused = secretary.post(url, {"step": "candidates_submit", "submitted_on": DAY}).content.decode()
    assert "少于差额要求的 6 名" in refused
    assert cast.client("secretary_b").get(url).status_code == 404
    assert cast.client("auditor_p").post(url, {"step": "report"}).status_code == 403


def test_org_admin_list_by_stage_overdue_first(cast, branch):
    open_election(branch)
    page = cast.client("org_admin_p").get("/activities/elections/").content.decode()
    assert "办理中" in page and branch.org.name in page
    assert cast.client("member_a").get("/activities/elections/").status_code == 404


def test_election_page_queries_do_not_grow(cast, branch, django_assert_num_queries):
    """The page at the ballot stage: a fixed number of queries however many rounds and counts."""
    election = held_assembly(branch)
    client = cast.client("secretary_a")
    url = f"/activities/elections/{election.pk}/"
    vote(branch, election, [8, 8, 7, 7, 6, 6], returned=10)  # a void round
    client.get(url)
    with CaptureQueriesContext(connection) as one_round:
        assert client.get(url).status_code == 200
    assert len(one_round) <= 15  # session, user, scope, election (4), roster, …
    vote(branch, election, [8, 8, 7, 7, 6, 6])  # a counted round with a tie: more rows, the tie still to vote
    with django_assert_num_queries(len(one_round)):
        page = client.get(url)
    assert "第 2 轮" in page.content.decode()


def test_ballot_entry_query_count_is_pinned(cast, branch, django_assert_max_num_queries):
    election = held_assembly(branch)
    client = cast.client("secretary_a")
    url = f"/activities/elections/{election.pk}/"
    data = {"step": "rounds", "post": "committee", "ballots_issued": "9", "ballots_returned": "9"}
    for c, v in zip(election.candidates.order_by("order"), [9, 8, 7, 6, 5, 1], strict=True):
        data[f"for_{c.pk}"] = str(v)
    with django_assert_max_num_queries(40):
        assert client.post(url, data).status_code == 302
    election.refresh_from_db()
    assert election.stage == ElectionStage.ELECTED


@pytest.mark.parametrize("kind", ["candidates", "ballot", "tally"])
def test_printouts_are_pdfs(cast, branch, kind):
    election = ready_election(branch)
    response = cast.client("secretary_a").get(f"/activities/elections/{election.pk}/{kind}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert cast.client("secretary_b").get(f"/activities/elections/{election.pk}/{kind}.pdf").status_code == 404
