"""Sanctions (the status work, members/discipline): a member with rights suspended (留置/逮捕) or
under 留党察看 neither votes at the 选举大会 nor stands as a candidate. Skipped until that package
is on the branch; then it checks that the election reads the same voters as every 党员大会."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from activities.elections.services import prepare
from activities.elections.services.prepare import CandidateInput
from tests.activities.elections.conftest import TODAY, approved_request, open_election

discipline = pytest.importorskip("members.discipline.services")

pytestmark = pytest.mark.django_db


def test_rights_suspended_member_neither_votes_nor_stands(branch):
    suspended = branch.full[8]
    discipline.rights_suspension_record(member=suspended, reason="detention", start_on=date(2026, 1, 5))
    electorate = prepare.electorate_on(organization=branch.org, on=TODAY)
    assert suspended.pk in electorate.members and suspended.pk not in electorate.voter_ids
    assert len(electorate.voter_ids) == 8
    election = approved_request(branch)
    with pytest.raises(ValidationError) as exc:
        prepare.election_candidates_set(
            actor=branch.secretary, election=election, candidates=[CandidateInput(suspended.pk)]
        )
    assert "停止党员权利，没有被选举权" in str(exc.value)


def test_committee_required_counts_only_members_with_rights(cast, branch):
    for member in branch.full[6:9]:  # 9 → 6 voters: below 7, no committee
        discipline.rights_suspension_record(member=member, reason="detention", start_on=date(2026, 1, 5))
    with pytest.raises(ValidationError, match="有选举权的正式党员 6 名（不足 7 名）"):
        open_election(branch, seats=5)
