"""Member record services: the record rules, encryption at rest, the audited full-number view."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from audit.models import AuditEvent
from core.dates import add_months, today
from members.choices import MembershipStatus, Sex, Stage
from members.models import Member, OrganizationMembership
from members.selectors import ID_NUMBER_TAKEN
from members.services import member_can_reveal, member_create, member_reveal, member_update
from organizations.choices import OrgType
from tests.factories import make_org
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db

ID = make_id(date(1985, 3, 15))
PHONE = "13812345678"


def test_create_seals_id_and_phone_and_opens_roster(cast):
    member = member_create(organization=cast.A, **record(id_number=ID.lower(), phone="138 1234 5678"))
    member.refresh_from_db()
    assert member.id_number_masked == f"{ID[:2]}{'*' * 14}{ID[-2:]}"
    assert member.phone_masked == "138****5678"
    assert member.decrypt_id_number() == ID
    assert member.decrypt_phone() == PHONE
    assert member.id_number_cipher.startswith("v1:") and ID not in member.id_number_cipher
    assert OrganizationMembership.objects.get(member=member).start_on == date(2010, 7, 1)
    event = AuditEvent.objects.get(event="member_create")
    assert "id_number" in event.detail["fields"] and ID not in str(event.detail)


def _raw_rows(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names from the test
        return [" ".join(str(value) for value in row) for row in cursor.fetchall()]


def test_id_number_and_phone_never_stored_in_clear(cast):
    """Raw SQL over every column of the member and audit tables (SQLite and PostgreSQL runs)."""
    member = member_create(organization=cast.A, **record())
    cast.users["secretary_a"].refresh_from_db()
    member_reveal(member=member, user=cast.users["secretary_a"], field="id_number")
    member_reveal(member=member, user=cast.users["secretary_a"], field="phone")
    member_update(member=member, name="张三丰")
    dump = "\n".join(_raw_rows(Member._meta.db_table) + _raw_rows(AuditEvent._meta.db_table))
    assert "张三丰" in dump  # the dump really contains the rows
    assert ID not in dump and ID[6:14] + ID[14:] not in dump
    assert PHONE not in dump


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"id_number": make_id(date(1985, 3, 16))}, "id_number", "出生日期"),
        ({"id_number": make_id(date(1985, 3, 15), male=False)}, "id_number", "性别"),
        ({"id_number": "370781198503150000"}, "id_number", "校验位"),
        ({"phone": "12345"}, "phone", "联系电话"),
        ({"joined_on": date(2002, 1, 1), "full_on": date(2003, 1, 1)}, "joined_on", "十八岁"),
        ({"full_on": date(2010, 6, 30)}, "full_on", "不能早于加入党组织日期"),
        ({"stage": Stage.PROBATIONARY}, "full_on", "预备党员尚未转正"),
        ({"stage": Stage.ACTIVIST, "full_on": None}, "joined_on", "尚未入党"),
        ({"stage": Stage.FULL, "full_on": None}, "full_on", "正式党员应填写"),
        ({"membership_status": MembershipStatus.SUSPENDED}, "suspended_on", "停止党籍日期"),
        ({"is_lost_contact": True}, "lost_contact_since", "失去联系日期"),
        ({"is_mobile": True}, "mobile_destination", "外出流向"),
        ({"league_joined_on": date(1995, 1, 1)}, "league_joined_on", "十四周岁"),
        ({"work_started_on": date(2099, 1, 1)}, "work_started_on", "不能晚于今天"),
        ({"birth_date": date(2099, 1, 1), "id_number": make_id(date(1985, 3, 15))}, "birth_date", "不能晚于今天"),
        ({"ethnicity": "99"}, "ethnicity", ""),
    ],
)
def test_record_rules_refuse_with_chinese_messages_and_save_nothing(cast, overrides, field, message):
    with pytest.raises(ValidationError) as exc:
        member_create(organization=cast.A, **record(**overrides))
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert not Member.objects.filter(name="张三").exists()
    assert not AuditEvent.objects.filter(event="member_create").exists()


def test_all_problems_reported_at_once(cast):
    with pytest.raises(ValidationError) as exc:
        member_create(organization=cast.A, **record(id_number="123", phone="x", is_mobile=True))
    assert {"id_number", "phone", "mobile_destination"} <= set(exc.value.message_dict)


def test_duplicate_id_number_refused_without_naming_the_other_record(cast):
    member_create(organization=cast.B, **record(name="乙"))
    with pytest.raises(ValidationError) as exc:
        member_create(organization=cast.A, **record(name="甲"))
    assert exc.value.message_dict["id_number"] == [ID_NUMBER_TAKEN]


def test_members_belong_to_branches_not_groups_or_temporary_branches(cast):
    with pytest.raises(ValidationError, match="党小组"):
        member_create(organization=cast.A1, **record())
    temp = make_org("临时党支部", OrgType.TEMPORARY_BRANCH, parent=cast.P)
    with pytest.raises(ValidationError, match="临时党支部"):
        member_create(organization=temp, **record())


def test_party_group_must_be_inside_the_members_branch(cast):
    member = member_create(organization=cast.A, **record(party_group=cast.A1))
    assert member.party_group == cast.A1
    B1 = make_org("第二党支部第一党小组", OrgType.GROUP, parent=cast.B)
    with pytest.raises(ValidationError, match="党小组不属于"):
        member_update(member=member, party_group=B1)


def test_flag_details_are_cleared_when_the_flag_is_off(cast):
    member = member_create(
        organization=cast.A,
        **record(
            is_lost_contact=False, lost_contact_since=date(2020, 1, 1), is_abroad=False, abroad_since=date(2020, 1, 1)
        ),
    )
    assert member.lost_contact_since is None and member.abroad_since is None


def test_update_changes_id_and_phone_and_audits_field_names_only(cast):
    member = member_create(organization=cast.A, **record())
    new_id = make_id(date(1985, 3, 15), seq=44)
    member_update(member=member, id_number=new_id, phone="")
    member.refresh_from_db()
    assert member.decrypt_id_number() == new_id and member.phone_masked == "" and member.phone_hash is None
    event = AuditEvent.objects.filter(event="member_update").latest("id")
    assert set(event.detail["fields"]) == {"id_number", "phone"}
    assert new_id not in str(event.detail)


def test_update_refuses_organization_change(cast):
    member = member_create(organization=cast.A, **record())
    with pytest.raises(ValidationError, match="组织关系转接"):
        member_update(member=member, organization=cast.B)


def test_birth_date_change_must_still_agree_with_the_stored_id(cast):
    member = member_create(organization=cast.A, **record())
    with pytest.raises(ValidationError) as exc:
        member_update(member=member, birth_date=date(1985, 3, 16))
    assert "出生日期" in exc.value.message_dict["birth_date"][0]
    with pytest.raises(ValidationError) as exc:
        member_update(member=member, sex=Sex.FEMALE)
    assert "性别" in exc.value.message_dict["sex"][0]
    with pytest.raises(ValidationError):
        member_update(member=member, birth_date=date(1985, 3, 16), id_number=ID)
    member_update(member=member, sex=Sex.MALE, name="张三")  # unchanged values need no ID re-entry


def test_reveal_roles_and_audit(cast):
    member = member_create(organization=cast.A, **record())
    allowed = {"secretary_a": True, "org_admin_p": True, "auditor_p": False, "secretary_b": False, "member_a": False}
    for who, expected in allowed.items():
        assert member_can_reveal(user=cast.users[who], member=member) is expected, who
    assert member_reveal(member=member, user=cast.users["org_admin_p"], field="id_number") == ID
    assert member_reveal(member=member, user=cast.users["secretary_a"], field="phone") == PHONE
    assert AuditEvent.objects.filter(event="view_full_id", object_id=str(member.pk)).count() == 1
    assert AuditEvent.objects.filter(event="view_full_phone", object_id=str(member.pk)).count() == 1
    with pytest.raises(ValidationError):
        member_reveal(member=member, user=cast.users["auditor_p"], field="id_number")
    with pytest.raises(ValidationError):
        member_reveal(member=member, user=cast.users["secretary_a"], field="home_address")
    assert AuditEvent.objects.filter(event__startswith="view_full").count() == 2


def test_lost_contact_and_away_flags(cast):
    from members.selectors import member_flags

    on = today()
    lost = member_create(organization=cast.A, **record(is_lost_contact=True, lost_contact_since=add_months(on, -6)))
    assert [f.code for f in member_flags(lost, on=on)] == ["lost_contact_suspend"]
    recent = member_create(
        organization=cast.A,
        **record(
            name="李四",
            id_number=make_id(date(1985, 3, 15), seq=20),
            is_lost_contact=True,
            lost_contact_since=add_months(on, -5),
        ),
    )
    assert [f.code for f in member_flags(recent, on=on)] == ["lost_contact"]
    away = member_create(
        organization=cast.A,
        **record(
            name="王五",
            id_number=make_id(date(1985, 3, 15), seq=30),
            is_mobile=True,
            mobile_destination="广东省深圳市南山区",
            mobile_since=add_months(on, -7),
        ),
    )
    assert [f.code for f in member_flags(away, on=on)] == ["away_without_transfer"]
    away.has_pending_transfer = True
    assert [f.code for f in member_flags(away, on=on)] == ["mobile"]


def test_key_rotation_command_re_encrypts_every_row(cast):
    import base64

    from django.core.management import call_command
    from django.test import override_settings

    from members import crypto

    k1 = base64.urlsafe_b64encode(b"a" * 32).decode()
    k2 = base64.urlsafe_b64encode(b"b" * 32).decode()
    with override_settings(FIELD_ENCRYPTION_KEY=f"v1:{k1}"):
        member = member_create(organization=cast.A, **record())
    with override_settings(FIELD_ENCRYPTION_KEY=f"v2:{k2},v1:{k1}"):
        call_command("reencrypt_members")
        member.refresh_from_db()
        assert crypto.key_version(member.id_number_cipher) == crypto.key_version(member.phone_cipher) == "v2"
    with override_settings(FIELD_ENCRYPTION_KEY=f"v2:{k2}"):  # the old key can now be dropped
        member.refresh_from_db()
        assert member.decrypt_id_number() == ID and member.decrypt_phone() == PHONE
        assert Member.objects.filter(id_number_hash=member.id_number_hash).count() == 1
