"""#21.4 and #21.17: full-number lookups and bulk reads of personal data are rate-limited.

#21.4 — the attack: ``GET /api/v1/members/?search=138NNNN5678`` for NNNN in 0000–9999 found a
number in ≤ 10,000 unaudited requests (and the number sat in the access log). Now ``?search=``
matches names only; an exact lookup is ``POST /api/v1/members/find/`` (the number in the body),
for roles that may reveal, audited without the number, and throttled.

#21.17 — reveal and export had no rate limit: both are now limited per user and hour
(``PB_REVEAL_PER_HOUR``, ``PB_EXPORT_PER_HOUR``), counted from the audit log, and a refusal is
audited as ``rate_limited``.
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from members.services import member_create
from tests.member_helpers import make_id, record

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


@pytest.fixture
def zhang(cast):
    return member_create(
        organization=cast.A, **record(name="张查找", phone=PHONE, id_number=make_id(record()["birth_date"], seq=330))
    )


def test_21_4_get_search_no_longer_matches_full_numbers(cast, zhang):
    api = cast.api("secretary_a")
    number = make_id(record()["birth_date"], seq=330)
    for text in (PHONE, number, "138-1234-5678"):
        assert api.get("/api/v1/members/", {"search": text}).json()["count"] == 0, text
        assert "张查找" not in cast.client("secretary_a").get("/members/", {"q": text}).content.decode()
    assert api.get("/api/v1/members/", {"search": "张查"}).json()["count"] == 1


def test_21_4_exact_lookup_is_a_post_for_reveal_roles_audited_without_the_number(cast, zhang):
    api = cast.api("secretary_a")
    found = api.post("/api/v1/members/find/", {"number": PHONE}, format="json")
    assert found.status_code == 200 and [m["name"] for m in found.json()] == ["张查找"]
    assert PHONE not in found.content.decode()
    events = list(AuditEvent.objects.filter(event="member_exact_search"))
    assert len(events) == 1 and PHONE not in str(events[0].detail) and events[0].detail["found"] == 1
    for who in ("auditor_p", "member_a", "sysadmin"):
        assert cast.api(who).post("/api/v1/members/find/", {"number": PHONE}, format="json").status_code == 403
    # Another branch's secretary finds nothing outside their scope.
    assert cast.api("secretary_b").post("/api/v1/members/find/", {"number": PHONE}, format="json").json() == []
    assert api.get("/api/v1/members/find/").status_code == 405


def test_21_4_exact_lookups_are_throttled_and_the_refusal_audited(cast, zhang, settings):
    settings.PB_EXACT_SEARCH_PER_HOUR = 3
    api = cast.api("secretary_a")
    codes = [
        api.post("/api/v1/members/find/", {"number": f"1381234{n:04d}"}, format="json").status_code for n in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    assert AuditEvent.objects.filter(event="rate_limited", detail__action="exact_search").count() == 2


def test_21_17_reveal_is_throttled_per_user_and_audited(cast, zhang, settings):
    settings.PB_REVEAL_PER_HOUR = 2
    api = cast.api("secretary_a")
    codes = [
        api.post(f"/api/v1/members/{zhang.pk}/reveal/", {"field": "phone"}, format="json").status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    page = cast.client("secretary_a").post(f"/members/{zhang.pk}/reveal/", {"field": "id_number"})
    assert page.status_code == 429 and "过于频繁" in page.content.decode()
    assert AuditEvent.objects.filter(event="rate_limited", detail__action="reveal").count() == 2
    # Per user: the org_admin is not affected by the secretary's count.
    assert (
        cast.api("org_admin_p")
        .post(f"/api/v1/members/{zhang.pk}/reveal/", {"field": "phone"}, format="json")
        .status_code
        == 200
    )


def test_21_17_exports_are_throttled_per_user_and_audited(cast, zhang, settings):
    settings.PB_EXPORT_PER_HOUR = 1
    client = cast.client("secretary_a")
    assert client.get("/members/export.xlsx").status_code == 200
    assert client.get("/members/export.xlsx").status_code == 429
    assert client.get(f"/dues/org/{cast.A.pk}/export.xlsx?year=2026").status_code == 429
    assert AuditEvent.objects.filter(event="rate_limited", detail__action="export").count() == 2
