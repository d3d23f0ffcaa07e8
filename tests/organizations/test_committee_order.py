"""#13.14: committee positions are listed in rank order (书记, 副书记, 组织委员, 宣传委员, 纪检委员, 委员)."""

from __future__ import annotations

from datetime import date

import pytest

from organizations import services as org_services
from organizations.models import Position
from organizations.selectors import organization_detail

pytestmark = pytest.mark.django_db

ASSIGNED = ["member", "discipline", "deputy_secretary", "propaganda", "secretary", "organization"]
RANKED = ["secretary", "deputy_secretary", "organization", "propaganda", "discipline", "member"]


def _committee(cast):
    term = org_services.committee_term_start(org=cast.A, elected_on=date(2025, 1, 5))
    for i, code in enumerate(ASSIGNED):
        org_services.position_assign(term=term, position=code, person_name=f"委员{i}", start_on=date(2025, 1, 5))
    return term


def test_13_14_positions_in_rank_order(cast):
    term = _committee(cast)
    assert [p.position for p in Position.objects.filter(term=term).in_rank_order()] == RANKED
    detail = organization_detail(org=cast.A)
    assert [p.position for p in detail["current_term"].position_list] == RANKED


def test_13_14_api_and_page_list_the_secretary_first(cast):
    _committee(cast)
    terms = cast.api("secretary_a").get(f"/api/v1/organizations/{cast.A.pk}/terms/").json()
    assert [p["position"] for p in terms[0]["positions"]] == RANKED
    page = cast.client("secretary_a").get(f"/organizations/{cast.A.pk}/").content.decode()
    assert page.index("书记") < page.index("副书记") < page.index("组织委员") < page.index("纪检委员")
