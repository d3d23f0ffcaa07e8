"""The whole flow through the API, from the 换届 reminder to the new committee on file."""

from __future__ import annotations

import pytest

from activities.elections.models import Election
from notifications.scan.context import ScanContext
from notifications.scan.terms import terms
from organizations.models import CommitteeTerm, Organization
from organizations.selectors import organization_flags, organization_with_flag_data
from tests.activities.elections.conftest import TODAY

pytestmark = pytest.mark.django_db

DAY = TODAY.isoformat()


def _ok(response, code=200):
    assert response.status_code == code, response.content.decode()
    return response.json()


def _term_reminders(org):
    return [c.rule for c in terms(ScanContext.for_org_ids([org.pk], TODAY))]


def test_from_the_reminder_to_the_new_committee(cast, branch):
    secretary, upper = cast.api("secretary_a"), cast.api("org_admin_p")
    assert _term_reminders(branch.org) == ["term_ending"]
    body = _ok(
        secretary.post("/api/v1/elections/", {"organization": branch.org.pk, "committee_seats": 5}, format="json"), 201
    )
    assert body["next_step"]["code"] == "request"
    url = f"/api/v1/elections/{body['id']}/"
    _ok(secretary.post(url + "request/", {"request_on": DAY, "request_no": "一支〔2026〕1号"}, format="json"))
    assert (
        secretary.post(url + "request-approval/", {"approved_on": DAY, "approval_no": "x"}, format="json").status_code
        == 403
    )
    body = _ok(
        upper.post(url + "request-approval/", {"approved_on": DAY, "approval_no": "党委〔2026〕8号"}, format="json")
    )
    assert body["stage"] == "candidates"
    assert any("至少 6 名" in r for r in body["next_step"]["requires"])

    five = [{"member": m.pk} for m in branch.full[:5]]
    _ok(secretary.post(url + "candidates/", {"candidates": five}, format="json"))
    refused = secretary.post(url + "candidates-submit/", {"submitted_on": DAY}, format="json")
    assert refused.status_code == 400
    assert "少于差额要求的 6 名" in refused.json()["candidates"][0]
    bad = secretary.post(url + "candidates/", {"candidates": [{"member": branch.probationary[0].pk}]}, format="json")
    assert bad.status_code == 400 and "预备党员" in bad.json()["candidates"][0]
    _ok(secretary.post(url + "candidates/", {"candidates": [{"member": m.pk} for m in branch.full[:6]]}, format="json"))
    _ok(secretary.post(url + "candidates-submit/", {"submitted_on": DAY}, format="json"))
    body = _ok(
        upper.post(url + "candidates-approval/", {"approved_on": DAY, "approval_no": "党委〔2026〕9号"}, format="json")
    )
    assert body["stage"] == "ready"

    everyone = [*branch.full, *branch.probationary]
    few = [
        {"member": m.pk, "status": "present" if i < 7 else "absent", "reason": "" if i < 7 else "出差"}
        for i, m in enumerate(everyone)
    ]
    refused = secretary.post(url + "assembly/", {"held_on": DAY, "attendance": few}, format="json")
    assert refused.status_code == 400
    assert "到会有选举权党员 7 人，未超过应到 9 人的五分之四，选举无效" in refused.json()["attendance"][0]
    all_in = [{"member": m.pk, "status": "present"} for m in everyone]
    body = _ok(
        secretary.post(url + "assembly/", {"held_on": DAY, "place": "党员活动室", "attendance": all_in}, format="json")
    )
    assert (body["voters_expected"], body["voters_present"], body["stage"]) == (9, 9, "voting")
    assert body["meeting"]

    candidates = body["candidates"]
    counts = [
        {"candidate": c["id"], "votes_for": v, "votes_against": 9 - v}
        for c, v in zip(candidates, [9, 8, 7, 6, 5, 4], strict=True)
    ]
    void = _ok(
        secretary.post(url + "rounds/", {"ballots_issued": 9, "ballots_returned": 10, "counts": counts}, format="json"),
        201,
    )
    assert void["rounds"][0]["is_void"] and void["stage"] == "voting"
    body = _ok(
        secretary.post(url + "rounds/", {"ballots_issued": 9, "ballots_returned": 9, "counts": counts}, format="json"),
        201,
    )
    assert body["stage"] == "elected"
    elected = body["posts"][0]["elected"]
    assert [e["votes_for"] for e in elected] == [9, 8, 7, 6, 5]
    assert body["next_step"]["code"] == "officers"

    ids = [e["member"] for e in elected]
    officers = {
        "held_on": DAY,
        "present": 5,
        "secretary": ids[0],
        "secretary_votes": 5,
        "deputy": ids[1],
        "deputy_votes": 4,
        "duties": {str(ids[2]): "organization", str(ids[3]): "propaganda", str(ids[4]): "discipline"},
    }
    _ok(secretary.post(url + "officers/", officers, format="json"))
    body = _ok(secretary.post(url + "report/", {"reported_on": DAY}, format="json"))
    assert body["stage"] == "report_pending"
    body = _ok(
        upper.post(url + "result-approval/", {"approved_on": DAY, "approval_no": "党委〔2026〕12号"}, format="json")
    )
    assert body["stage"] == "completed" and body["new_term"]

    term = CommitteeTerm.objects.get(pk=body["new_term"])
    assert term.number == 2 and term.ended_on is None
    assert sorted(term.positions.values_list("position", flat=True)) == sorted(
        ["secretary", "deputy_secretary", "organization", "propaganda", "discipline"]
    )
    assert _term_reminders(branch.org) == []  # the 换届 reminders stop
    flags = organization_flags(
        organization_with_flag_data(Organization.objects.filter(pk=branch.org.pk)).get(), on=TODAY
    )
    assert "term_ending" not in {f.code for f in flags}

    listing = _ok(upper.get("/api/v1/elections/", {"organization": cast.P.pk, "stage": "completed"}))
    assert [row["id"] for row in listing["results"]] == [body["id"]]
    assert cast.api("secretary_b").get(url).status_code == 404
    assert Election.objects.count() == 1


def test_unknown_fields_and_params_are_refused(cast, branch):
    api = cast.api("secretary_a")
    assert (
        api.post(
            "/api/v1/elections/",
            {"organization": branch.org.pk, "committee_seats": 5, "stage": "completed"},
            format="json",
        ).status_code
        == 400
    )
    assert api.get("/api/v1/elections/", {"bogus": 1}).status_code == 400
    assert api.get("/api/v1/elections/", {"stage": "nope"}).status_code == 400
