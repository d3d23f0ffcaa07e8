"""seed_demo fills the member record realistically: valid ID numbers, phones, consistent dates."""

import pytest
from django.core.management import call_command

from members.models import Member
from members.services import FieldErrors, member_check_record
from members.validators import validate_id_number, validate_phone
from organizations.choices import OrgType

pytestmark = pytest.mark.django_db


def test_demo_members_have_valid_consistent_records():
    call_command("seed_demo", orgs=40, members=400, seed=11)
    members = list(Member.objects.select_related("organization", "party_group"))
    assert len({m.id_number_hash for m in members}) == len(members)
    for member in members:
        number = member.decrypt_id_number()
        assert validate_id_number(number, birth_date=member.birth_date, sex=member.sex) == number
        assert validate_phone(member.decrypt_phone()) == member.decrypt_phone()
        errors = FieldErrors()
        member_check_record(member, errors=errors)
        assert not errors.errors, (member.stage, errors.errors)
        if member.party_group_id:
            assert member.party_group.org_type == OrgType.GROUP
            assert member.party_group.parent_path == member.organization.path
    assert any(m.party_group_id for m in members) and any(m.is_mobile for m in members)
