"""#13.15: member record changes are audited with old → new values (personal data masked), and the
change history is shown — page section and API — to those who may change the record only."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from members.services import member_create, member_update
from tests.member_helpers import record

pytestmark = pytest.mark.django_db

OLD_PHONE, NEW_PHONE = "13812345678", "13987654321"


@pytest.fixture
def changed(cast):
    member = member_create(organization=cast.A, **record(name="赵一", phone=OLD_PHONE))
    secretary = cast.users["secretary_a"]
    secretary.first_name, secretary.last_name = "王书记", ""
    secretary.save()
    member_update(
        member=member,
        recorded_by=secretary,
        employer="青州市第一中学",
        education="master",
        is_mobile=True,
        mobile_destination="济南",
        home_address="青州市王府街道 8 号院",
        phone=NEW_PHONE,
    )
    return member


def _changes(member) -> dict[str, dict]:
    event = AuditEvent.objects.filter(event="member_update", object_id=str(member.pk)).latest("id")
    return {c["field"]: c for c in event.detail["changes"]}


def test_audit_keeps_old_and_new_values_with_labels(changed):
    changes = _changes(changed)
    assert changes["employer"]["old"] == "" and changes["employer"]["new"] == "青州市第一中学"
    assert (changes["education"]["old"], changes["education"]["new"]) == ("大学本科", "硕士研究生")
    assert (changes["is_mobile"]["old"], changes["is_mobile"]["new"]) == ("否", "是")
    assert changes["education"]["label"] == "学历"


def test_personal_values_are_masked(changed):
    changes = _changes(changed)
    assert (changes["phone"]["old"], changes["phone"]["new"]) == ("138****5678", "139****4321")
    assert changes["home_address"]["new"] == "青州市王府街****"
    text = json.dumps(AuditEvent.objects.filter(object_id=str(changed.pk)).values_list("detail", flat=True)[::1])
    assert OLD_PHONE not in text and NEW_PHONE not in text and "8 号院" not in text


def test_history_page_section_for_the_secretary(cast, changed):
    body = cast.client("secretary_a").get(f"/members/{changed.pk}/").content.decode()
    assert "修改记录" in body
    assert "青州市第一中学" in body and "硕士研究生" in body and "王书记" in body
    assert NEW_PHONE not in body.replace("139****4321", "")


def test_history_is_hidden_from_those_who_may_not_change_the_record(cast, changed):
    body = cast.client("auditor_p").get(f"/members/{changed.pk}/").content.decode()
    assert "修改记录" not in body


def test_history_api(cast, changed):
    response = cast.api("secretary_a").get(f"/api/v1/members/{changed.pk}/history/")
    assert response.status_code == 200
    latest, created = response.json()
    assert (latest["action"], created["action"]) == ("修改", "登记")
    employer = next(c for c in latest["changes"] if c["field"] == "employer")
    assert (employer["old"], employer["new"]) == ("", "青州市第一中学")
    assert latest["by"] == "王书记"


@pytest.mark.parametrize("who", ["auditor_p", "secretary_b", "member_a"])
def test_history_api_refused_to_others(cast, changed, who):
    response = cast.api(who).get(f"/api/v1/members/{changed.pk}/history/")
    assert response.status_code in (403, 404)
    assert "changes" not in response.content.decode()
