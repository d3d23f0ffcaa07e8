"""The service contract for elections: every step authorizes the acting user through the gate
(PermissionDenied, nothing written); the branch's steps are its own, approvals the upper's."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from activities.elections.models import Election
from activities.elections.services import afterwards, prepare, voting
from audit.models import AuditEvent
from tests.activities.elections.conftest import TODAY, open_election

pytestmark = pytest.mark.django_db

OUTSIDERS = ["secretary_b", "auditor_p", "member_a", "sysadmin", "outsider"]


def _refused(call) -> None:
    events, elections = AuditEvent.objects.count(), list(Election.objects.values())
    with pytest.raises(PermissionDenied):
        call()
    assert AuditEvent.objects.count() == events
    assert list(Election.objects.values()) == elections


@pytest.mark.parametrize("who", OUTSIDERS)
def test_branch_steps_authorize_the_user(cast, branch, who):
    user = cast.users[who]
    _refused(lambda: prepare.election_open(actor=user, organization=branch.org, committee_seats=5))
    election = open_election(branch)
    _refused(lambda: prepare.election_request_record(actor=user, election=election, request_on=TODAY))
    approved = Election.objects.get(pk=election.pk)
    _refused(lambda: prepare.election_candidates_set(actor=user, election=approved, candidates=[]))
    _refused(lambda: prepare.election_candidates_submit(actor=user, election=approved, submitted_on=TODAY))
    _refused(lambda: voting.election_assembly_record(actor=user, election=approved, held_on=TODAY, attendance=[]))
    _refused(
        lambda: voting.election_round_record(
            actor=user, election=approved, post="committee", ballots_issued=1, ballots_returned=1
        )
    )
    _refused(lambda: voting.election_seats_leave_empty(actor=user, election=approved, post="committee", decision="x"))
    _refused(lambda: afterwards.election_report(actor=user, election=approved, reported_on=TODAY))


@pytest.mark.parametrize("who", [*OUTSIDERS, "secretary_a"])
def test_approvals_are_the_upper_organizations_only(cast, branch, who):
    user = cast.users[who]
    election = open_election(branch)
    prepare.election_request_record(actor=branch.secretary, election=election, request_on=TODAY)
    _refused(
        lambda: prepare.election_request_approve(actor=user, election=election, approved_on=TODAY, approval_no="批")
    )
    _refused(
        lambda: prepare.election_candidates_approve(actor=user, election=election, approved_on=TODAY, approval_no="批")
    )
    _refused(
        lambda: afterwards.election_result_approve(actor=user, election=election, approved_on=TODAY, approval_no="批")
    )
