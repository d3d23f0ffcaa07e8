"""#21.2: validation errors name nobody outside the user's scope.

The attack: ``POST /api/v1/meetings/`` with ``attendance: [{"member_id": 1..3000}]`` answered with
the name of every member of every organization; ``POST /api/v1/talks/`` two per request; the member
create/import said "该公民身份号码已登记在其他党员记录中" for any number. Now an out-of-scope id
gets the same answer as an id that does not exist, names nothing, and each request carrying one is
audited as ``access_denied``.
"""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from members.selectors import ID_NUMBER_TAKEN
from tests.activities.conftest import add_members
from tests.activities.test_api import body
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db
MISSING = 987654


def _denials() -> list[dict]:
    return [e.detail for e in AuditEvent.objects.filter(event="access_denied").order_by("pk")]


def _errors_for(response, member_id: int) -> list[str]:
    return [line for line in json.dumps(response.json(), ensure_ascii=False).split('"') if f"编号 {member_id} " in line]


def test_21_2_meeting_attendance_names_no_member_of_another_organization(cast):
    people = [cast.member_a_record, *add_members(cast.A, full=4)]
    outsider = cast.member_b_record  # 乙党员, in branch B
    payload = body(cast, people, resolutions=[])
    payload["attendance"] += [
        {"member_id": outsider.pk, "status": "present", "reason": ""},
        {"member_id": MISSING, "status": "present", "reason": ""},
    ]
    response = cast.api("secretary_a").post("/api/v1/meetings/", payload, format="json")
    text = response.content.decode()
    assert response.status_code == 400
    assert outsider.name not in text
    # The out-of-scope member reads exactly like an id that does not exist.
    out, missing = _errors_for(response, outsider.pk), _errors_for(response, MISSING)
    assert len(out) == len(missing) == 1
    assert out[0].replace(f"编号 {outsider.pk} ", "编号 N ") == missing[0].replace(f"编号 {MISSING} ", "编号 N ")
    denials = _denials()
    assert len(denials) == 1 and denials[0]["out_of_scope"]["member"] == {"count": 1, "ids": [str(outsider.pk)]}
    # Repeated, audited each time.
    cast.api("secretary_a").post("/api/v1/meetings/", payload, format="json")
    assert len(_denials()) == 2


def test_21_2_meeting_attendance_still_names_a_member_of_ones_own_scope(cast):
    """A member the secretary may see, but not on the roster of the day, is still named."""
    people = [cast.member_a_record, *add_members(cast.A, full=4)]
    late = add_members(cast.A, full=1, prefix="新转入")[0]
    late.memberships.update(start_on="2026-06-01")
    payload = body(cast, people, resolutions=[])
    payload["attendance"].append({"member_id": late.pk, "status": "present", "reason": ""})
    response = cast.api("secretary_a").post("/api/v1/meetings/", payload, format="json")
    assert response.status_code == 400 and late.name in response.content.decode()
    assert _denials() == []


def test_21_2_talks_name_no_member_of_another_organization(cast):
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    api = cast.api("secretary_a")
    payload = {
        "organization": cast.A.pk,
        "held_on": "2026-03-01",
        "initiator_id": people[0].pk,
        "topic": "思想状况",
    }
    foreign = api.post("/api/v1/talks/", {**payload, "counterpart_id": cast.member_b_record.pk}, format="json")
    missing = api.post("/api/v1/talks/", {**payload, "counterpart_id": MISSING}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert cast.member_b_record.name not in foreign.content.decode()
    assert len(_denials()) == 1


def test_21_2_member_create_is_no_membership_oracle(cast):
    from members.services import member_create

    taken = make_id(record()["birth_date"], seq=610)
    elsewhere = member_create(organization=cast.B, **record(name="外单位党员", id_number=taken, phone="13900001111"))
    api = cast.api("secretary_a")
    payload = {**record(name="新党员", id_number=taken, phone="13900002222"), "organization": cast.A.pk}
    payload = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in payload.items()}
    response = api.post("/api/v1/members/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["id_number"] == [ID_NUMBER_TAKEN]
    assert elsewhere.name not in response.content.decode()
    denials = _denials()
    assert len(denials) == 1 and denials[0]["out_of_scope"]["member_id_number"]["count"] == 1
    # Inside one's own scope: the same words, and nothing audited.
    member_create(organization=cast.A, **record(name="本支部党员", id_number=make_id(record()["birth_date"], seq=612)))
    payload["id_number"] = make_id(record()["birth_date"], seq=612)
    again = api.post("/api/v1/members/", payload, format="json")
    assert again.json()["id_number"] == [ID_NUMBER_TAKEN] and len(_denials()) == 1
