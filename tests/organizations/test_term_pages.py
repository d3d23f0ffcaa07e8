"""Recording 换届, positions and approved delays from the organization page."""
from datetime import date

import pytest

from organizations.models import CommitteeTerm, Position

pytestmark = pytest.mark.django_db


def test_secretary_records_term_and_positions(cast):
    client = cast.client("secretary_a")
    response = client.post(f"/organizations/{cast.A.pk}/terms/new/", {"elected_on": "2025-04-01", "kind": "elected"})
    assert response.status_code == 302
    term = CommitteeTerm.objects.get(organization=cast.A)
    assert term.expires_on == date(2028, 4, 1)
    response = client.post(
        f"/organizations/{cast.A.pk}/positions/new/",
        {"position": "secretary", "person_name": "王书记", "start_on": "2025-04-01"},
    )
    assert response.status_code == 302
    position = Position.objects.get(term=term)
    page = client.get(f"/organizations/{cast.A.pk}/").content.decode()
    assert "王书记" in page and "登记换届" in page
    response = client.post(f"/organizations/{cast.A.pk}/positions/{position.pk}/end/", {"end_on": "2025-03-01"})
    assert response.status_code == 200 and "离任日期不能早于任职日期" in response.content.decode()
    client.post(f"/organizations/{cast.A.pk}/positions/{position.pk}/end/", {"end_on": "2026-01-01"})
    position.refresh_from_db()
    assert position.end_on == date(2026, 1, 1)


def test_position_before_election_redisplays_with_error(cast):
    client = cast.client("secretary_a")
    client.post(f"/organizations/{cast.A.pk}/terms/new/", {"elected_on": "2025-04-01", "kind": "elected"})
    response = client.post(
        f"/organizations/{cast.A.pk}/positions/new/",
        {"position": "secretary", "person_name": "早到者", "start_on": "2025-01-01"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "任职日期不能早于本届选举日期" in body and "早到者" in body
    assert not Position.objects.exists()


def test_extension_over_one_year_refused(cast):
    client = cast.client("org_admin_p")
    client.post(f"/organizations/{cast.A.pk}/terms/new/", {"elected_on": "2022-04-01", "kind": "elected"})
    response = client.post(
        f"/organizations/{cast.A.pk}/terms/extend/", {"extended_until": "2026-05-01", "note": "组字〔2025〕1号"}
    )
    assert "延期换届一般不超过 1 年" in response.content.decode()
    response = client.post(
        f"/organizations/{cast.A.pk}/terms/extend/", {"extended_until": "2025-10-01", "note": "组字〔2025〕1号"}
    )
    assert response.status_code == 302


def test_foreign_and_read_only_users_cannot_record_terms(cast):
    assert cast.client("secretary_b").get(f"/organizations/{cast.A.pk}/terms/new/").status_code == 404
    assert cast.client("auditor_p").get(f"/organizations/{cast.A.pk}/terms/new/").status_code == 403
    assert cast.client("secretary_a").get(f"/organizations/{cast.A.pk}/positions/new/").status_code == 302
