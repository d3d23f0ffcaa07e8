"""#17.2: a create sent twice makes one object — API ``Idempotency-Key`` and page one-time tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from activities.models import Meeting, StudyRecord
from core.idempotency import idempotency_purge
from core.models import IdempotencyRecord
from tests.activities.conftest import add_members
from tests.activities.test_api import body as meeting_body
from tests.threads import run_together


def body(cast, people, **extra):
    return meeting_body(cast, people, resolutions=[], **extra)


@pytest.fixture
def people(cast, today_is):
    return [cast.member_a_record, *add_members(cast.A, full=9)]


@pytest.mark.django_db
def test_17_2_same_key_same_body_returns_the_first_response(cast, people):
    api, key = cast.api("secretary_a"), str(uuid.uuid4())
    first = api.post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Meeting.objects.count() == 1
    other = api.post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert other.status_code == 201 and Meeting.objects.count() == 2  # a new key is a new meeting


@pytest.mark.django_db
def test_17_2_same_key_other_body_is_a_409(cast, people):
    api, key = cast.api("secretary_a"), str(uuid.uuid4())
    assert api.post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    changed = body(cast, people, title="另一次会议")
    response = api.post("/api/v1/meetings/", changed, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 409 and "另一请求" in str(response.json())
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_17_2_keys_are_per_user_and_malformed_keys_are_a_400(cast, people):
    key = str(uuid.uuid4())
    assert (
        cast.api("secretary_a")
        .post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=key)
        .status_code
        == 201
    )
    # Another user with the same key runs their own request (and never sees the first response).
    response = cast.api("org_admin_p").post(
        "/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    bad = cast.api("secretary_a").post(
        "/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY="短"
    )
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()


@pytest.mark.django_db
def test_17_2_a_failed_request_releases_its_key(cast, people):
    api, key = cast.api("secretary_a"), str(uuid.uuid4())
    wrong = body(cast, people, title="")
    assert api.post("/api/v1/meetings/", wrong, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 400
    assert not IdempotencyRecord.objects.exists()
    # the client corrects the body and resends with the same key: a different body, but nothing was kept
    assert api.post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201


@pytest.mark.django_db
def test_17_2_records_are_kept_a_day_then_purged(cast, people):
    api = cast.api("secretary_a")
    api.post("/api/v1/meetings/", body(cast, people), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert idempotency_purge() == 0
    assert idempotency_purge(now=timezone.now() + timedelta(hours=25)) == 1
    from core.tasks import purge_idempotency_records

    assert purge_idempotency_records.delay().get() == 0


@pytest.mark.django_db
def test_17_2_page_form_submitted_twice_records_once(cast, people):
    client = cast.client("secretary_a")
    page = client.get(f"/activities/org/{cast.A.pk}/study/").content.decode()
    assert 'name="_once"' in page
    token = uuid.uuid4().hex
    form = {
        "member": cast.member_a_record.pk,
        "source": "training",
        "studied_on": "2026-03-02",
        "hours": "2",
        "title": "党课培训",
        "_once": token,
    }
    first = client.post(f"/activities/org/{cast.A.pk}/study/", form)
    again = client.post(f"/activities/org/{cast.A.pk}/study/", form)
    assert first.status_code == again.status_code == 302 and again["Location"] == first["Location"]
    assert StudyRecord.objects.filter(title="党课培训").count() == 1
    fresh = client.post(f"/activities/org/{cast.A.pk}/study/", {**form, "_once": uuid.uuid4().hex})
    assert fresh.status_code == 302 and StudyRecord.objects.filter(title="党课培训").count() == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_17_2_concurrent_double_post_makes_one_meeting(cast, people):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: two requests at once need two connections")
    key, payload = str(uuid.uuid4()), body(cast, people)

    def tap(_n: int) -> tuple[int, int | None]:
        api = APIClient()
        api.force_authenticate(cast.users["secretary_a"])
        response = api.post("/api/v1/meetings/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
        return response.status_code, response.json().get("id")

    results = run_together(tap, 2)
    assert [status for status, _ in results] == [201, 201]
    assert len({pk for _, pk in results}) == 1
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_17_2_a_claim_left_by_a_dead_request_is_taken_over(cast):
    from core.idempotency import idempotency_claim

    user = cast.users["secretary_a"]
    IdempotencyRecord.objects.create(
        user=user, key="api:left-behind", fingerprint="f", created_at=timezone.now() - timedelta(minutes=10)
    )
    claim = idempotency_claim(user=user, key="api:left-behind", fingerprint="f", wait=0)
    assert claim.record is not None and not claim.conflict
    running = idempotency_claim(user=user, key="api:left-behind", fingerprint="f", wait=0)
    assert running.conflict  # a claim still running (fresh) is not taken over


@pytest.mark.django_db
def test_17_2_a_failure_after_the_objects_commit_leaves_neither_object_nor_claim(cast, people, monkeypatch):
    """The database goes away between the meeting's commit and keeping its response: before, the
    meeting stayed while its key said "still running", and a retry after that made a second one."""
    from django.db import OperationalError

    from core.api import idempotency as api_idempotency

    def lost(record, response):
        raise OperationalError("server closed the connection unexpectedly")

    api = APIClient(raise_request_exception=False)
    api.force_authenticate(cast.users["secretary_a"])
    key, payload = str(uuid.uuid4()), body(cast, people)
    monkeypatch.setattr(api_idempotency, "idempotency_complete", lost)
    failed = api.post("/api/v1/meetings/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert failed.status_code == 503  # the database-down answer
    assert Meeting.objects.count() == 0 and not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    retried = api.post("/api/v1/meetings/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.post("/api/v1/meetings/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert retried.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_17_2_a_page_form_failing_after_its_commit_is_rolled_back_with_its_token(cast, people, monkeypatch):
    from django.db import OperationalError

    import core.idempotency

    def lost(record, response):
        raise OperationalError("server closed the connection unexpectedly")

    client = cast.client("secretary_a")
    client.raise_request_exception = False
    form = {
        "member": cast.member_a_record.pk,
        "source": "training",
        "studied_on": "2026-03-02",
        "hours": "2",
        "title": "党课培训",
        "_once": uuid.uuid4().hex,
    }
    monkeypatch.setattr(core.idempotency, "idempotency_complete", lost)
    assert client.post(f"/activities/org/{cast.A.pk}/study/", form).status_code == 503
    assert not StudyRecord.objects.filter(title="党课培训").exists() and not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    first = client.post(f"/activities/org/{cast.A.pk}/study/", form)
    again = client.post(f"/activities/org/{cast.A.pk}/study/", form)
    assert first.status_code == again.status_code == 302 and again["Location"] == first["Location"]
    assert StudyRecord.objects.filter(title="党课培训").count() == 1
