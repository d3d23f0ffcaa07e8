"""#13.9: 处分 and 组织处置, suspended rights and the status procedures (members/discipline/)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from members.choices import MembershipStatus
from members.discipline.models import MemberSanction, MembershipStatusChange, RightsSuspension
from members.discipline.selectors import member_under_probation_on, members_without_vote_on
from members.discipline.services import (
    member_sanction_record,
    member_status_change,
    rights_suspension_end,
    rights_suspension_record,
)
from members.models import Member, OrganizationMembership
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/members/{}/sanctions/"


def _sanction(cast, **kwargs):
    data = {"kind": "warning", "decided_on": date(2025, 3, 1), "basis": "测纪〔2025〕1号", "deciding_organization": cast.P}
    data.update(kwargs)
    return member_sanction_record(member=cast.member_a_record, recorded_by=cast.users["secretary_a"], **data)


def test_probation_at_most_two_years_and_correction_at_most_one(cast):
    with pytest.raises(ValidationError) as exc:
        _sanction(cast, kind="probation", until=date(2027, 3, 2))
    assert "最长不超过两年" in exc.value.message_dict["until"][0]
    with pytest.raises(ValidationError) as exc:
        _sanction(cast, kind="probation")
    assert "期满日期" in exc.value.message_dict["until"][0]
    with pytest.raises(ValidationError) as exc:
        _sanction(cast, kind="correction", until=date(2026, 3, 2))
    assert "最长不超过一年" in exc.value.message_dict["until"][0]
    with pytest.raises(ValidationError) as exc:
        _sanction(cast, kind="warning", until=date(2025, 6, 1))
    assert "until" in exc.value.message_dict
    assert not MemberSanction.objects.exists()
    _sanction(cast, kind="probation", until=date(2027, 3, 1))
    _sanction(cast, kind="correction", until=date(2026, 3, 1))
    assert MemberSanction.objects.count() == 2


def test_probation_boundaries_take_the_vote(cast):
    member = cast.member_a_record
    _sanction(cast, kind="probation", decided_on=date(2025, 3, 1), until=date(2025, 9, 1))
    assert not member_under_probation_on(member, date(2025, 2, 28))
    assert member_under_probation_on(member, date(2025, 3, 1))
    assert member_under_probation_on(member, date(2025, 9, 1))
    assert not member_under_probation_on(member, date(2025, 9, 2))
    assert members_without_vote_on([member.pk], date(2025, 9, 1)) == {member.pk}
    assert members_without_vote_on([member.pk], date(2025, 9, 2)) == set()


def test_rights_suspended_during_detention(cast):
    member = cast.member_a_record
    row = rights_suspension_record(
        member=member, reason="detention", start_on=date(2025, 4, 1), recorded_by=cast.users["secretary_a"]
    )
    assert members_without_vote_on([member.pk], date(2025, 3, 31)) == set()
    assert members_without_vote_on([member.pk], date(2025, 4, 1)) == {member.pk}
    rights_suspension_end(suspension=row, end_on=date(2025, 6, 1), recorded_by=cast.users["secretary_a"])
    assert members_without_vote_on([member.pk], date(2025, 5, 31)) == {member.pk}
    assert members_without_vote_on([member.pk], date(2025, 6, 1)) == set()
    with pytest.raises(ValidationError) as exc:  # overlapping period
        rights_suspension_record(
            member=member, reason="arrest", start_on=date(2025, 5, 1), recorded_by=cast.users["secretary_a"]
        )
    assert "重叠" in exc.value.message_dict["start_on"][0]
    assert RightsSuspension.objects.count() == 1


def test_expulsion_ends_membership_through_the_status_procedure(cast):
    member = cast.member_a_record
    with pytest.raises(ValidationError) as exc:
        _sanction(cast, kind="expulsion", basis="")
    assert "文号" in exc.value.message_dict["basis"][0]
    assert Member.objects.get(pk=member.pk).membership_status == MembershipStatus.NORMAL
    before = AuditEvent.objects.count()
    sanction = _sanction(cast, kind="expulsion", decided_on=date(2025, 5, 10))
    member.refresh_from_db()
    assert member.membership_status == MembershipStatus.EXPELLED
    change = MembershipStatusChange.objects.get(member=member)
    assert (change.from_status, change.to_status, change.on, change.sanction) == (
        "normal",
        "expelled",
        date(2025, 5, 10),
        sanction,
    )
    assert OrganizationMembership.objects.get(member=member).end_on == date(2025, 5, 10)
    events = set(AuditEvent.objects.order_by("pk")[before:].values_list("event", flat=True))
    assert {"member_sanction_record", "member_status_change"} <= events


def test_status_procedures_suspend_and_restore(cast):
    member = cast.member_a_record
    user = cast.users["secretary_a"]
    with pytest.raises(ValidationError) as exc:
        member_status_change(member=member, status="suspended", on=date(2025, 1, 10), recorded_by=user)
    assert "原因" in exc.value.message_dict["reason"][0]
    member_status_change(member=member, status="suspended", on=date(2025, 1, 10), reason="失联满六个月", recorded_by=user)
    member.refresh_from_db()
    assert (member.membership_status, member.suspended_on) == ("suspended", date(2025, 1, 10))
    with pytest.raises(ValidationError) as exc:  # not before the last change
        member_status_change(member=member, status="normal", on=date(2025, 1, 9), recorded_by=user)
    assert "on" in exc.value.message_dict
    member_status_change(member=member, status="normal", on=date(2025, 8, 1), recorded_by=user)
    member.refresh_from_db()
    assert (member.membership_status, member.suspended_on) == ("normal", None)
    with pytest.raises(ValidationError) as exc:
        member_status_change(member=member, status="removed", on=date(2025, 9, 1), recorded_by=user)
    assert "文号" in exc.value.message_dict["basis"][0]
    member_status_change(member=member, status="deceased", on=date(2025, 9, 1), recorded_by=user)
    with pytest.raises(ValidationError) as exc:
        member_status_change(member=member, status="normal", on=date(2025, 9, 2), recorded_by=user)
    assert "去世" in exc.value.message_dict["status"][0]


def test_discipline_services_refuse_a_user_outside(cast):
    member = cast.member_a_record
    for who in ["secretary_b", "auditor_p", "member_a", "outsider"]:
        user = cast.users[who]
        with pytest.raises(PermissionDenied):
            member_sanction_record(member=member, kind="warning", decided_on=date(2025, 3, 1), basis="x", recorded_by=user)
        with pytest.raises(PermissionDenied):
            member_status_change(member=member, status="deceased", on=date(2025, 3, 1), recorded_by=user)
        with pytest.raises(PermissionDenied):
            rights_suspension_record(member=member, reason="arrest", start_on=date(2025, 3, 1), recorded_by=user)
    assert not MemberSanction.objects.exists()
    assert Member.objects.get(pk=member.pk).membership_status == "normal"


def test_api_sanctions_list_and_record(cast):
    member = cast.member_a_record
    api = cast.api("secretary_a")
    payload = {
        "kind": "probation",
        "decided_on": "2025-03-01",
        "until": "2026-03-01",
        "basis": "测纪〔2025〕2号",
        "deciding_organization": cast.P.pk,
    }
    response = api.post(URL.format(member.pk), payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind_display"] == "留党察看"
    assert response.json()["category"] == "处分"
    listing = api.get(URL.format(member.pk))
    assert listing.status_code == 200
    assert [row["basis"] for row in listing.json()] == ["测纪〔2025〕2号"]
    bad = api.post(URL.format(member.pk), {**payload, "until": "2028-01-01"}, format="json")
    assert bad.status_code == 400 and "until" in bad.json()
    assert api.post(URL.format(member.pk), {**payload, "extra": 1}, format="json").status_code == 400
    assert MemberSanction.objects.count() == 1


def test_api_sanctions_visible_only_to_those_who_may_change_the_member(cast):
    member = cast.member_a_record
    _sanction(cast)
    assert cast.api("org_admin_p").get(URL.format(member.pk)).status_code == 200
    assert cast.api("member_a").get(URL.format(member.pk)).status_code == 403  # their own record: not here
    assert cast.api("auditor_p").get(URL.format(member.pk)).status_code == 403
    assert cast.api("secretary_b").get(URL.format(member.pk)).status_code == 404
    assert cast.api("anon").get(URL.format(member.pk)).status_code in (401, 403)


def test_api_status_change_and_rights_suspension(cast):
    member = cast.member_a_record
    api = cast.api("secretary_a")
    response = api.post(
        f"/api/v1/members/{member.pk}/status-changes/",
        {"status": "suspended", "on": "2025-02-01", "reason": "出国定居"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Member.objects.get(pk=member.pk).membership_status == "suspended"
    response = api.post(
        f"/api/v1/members/{member.pk}/rights-suspensions/", {"reason": "arrest", "start_on": "2025-02-03"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert api.get(f"/api/v1/members/{member.pk}/status-changes/").json()[0]["to_status"] == "suspended"


def test_member_page_links_discipline_page(cast):
    member = cast.member_a_record
    page = cast.client("secretary_a").get(f"/members/{member.pk}/")
    assert "处分与党籍" in page.content.decode()
    client = cast.client("secretary_a")
    response = client.post(
        f"/members/{member.pk}/discipline/",
        {
            "action": "sanction",
            "sanction-kind": "warning",
            "sanction-decided_on": "2025-03-01",
            "sanction-basis": "测纪〔2025〕3号",
            "sanction-deciding_organization": str(cast.A.pk),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/members/{member.pk}/discipline/").content.decode()
    assert "测纪〔2025〕3号" in page and "警告" in page
    bad = client.post(
        f"/members/{member.pk}/discipline/",
        {"action": "sanction", "sanction-kind": "probation", "sanction-decided_on": "2025-03-01", "sanction-basis": "x",
         "sanction-deciding_organization": str(cast.A.pk)},
    )  # fmt: skip
    assert bad.status_code == 200 and "留党察看应填写期满日期" in bad.content.decode()
    assert cast.client("member_a").get(f"/members/{member.pk}/discipline/").status_code == 403
    assert MemberSanction.objects.count() == 1


def test_reminder_before_probation_ends(cast):
    from notifications.models import ReminderDispatch
    from notifications.services.runs import reminder_run_inline

    MemberFactory(name="察看丁", organization=cast.A)
    member = Member.objects.get(name="察看丁")
    member_sanction_record(
        member=member, kind="probation", decided_on=date(2025, 1, 10), until=date(2026, 1, 10), basis="x",
        deciding_body="测试纪委",
    )  # fmt: skip
    reminder_run_inline(on=date(2025, 12, 10))
    assert not ReminderDispatch.objects.filter(rule="member_probation_ending").exists()
    reminder_run_inline(on=date(2025, 12, 11))
    assert ReminderDispatch.objects.filter(rule="member_probation_ending").count() == 1
