"""Query counts of the discipline list and the 党内统计 do not grow with the rows they list."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.discipline.services import member_sanction_record
from members.statistics.selectors import party_statistics
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_sanction_list_is_a_fixed_number_of_queries(cast, django_assert_num_queries):
    member = cast.member_a_record
    api = cast.api("secretary_a")
    url = f"/api/v1/members/{member.pk}/sanctions/"
    api.get(url)  # warm the per-request caches the same way for both counts

    def record(n):
        for i in range(n):
            member_sanction_record(
                member=member, kind="warning", decided_on=date(2025, 1, 1 + i), basis=f"x{i}", deciding_organization=cast.A
            )

    record(1)
    one = _count(lambda: api.get(url))
    record(5)
    with django_assert_num_queries(one):
        assert len(api.get(url).json()) == 6


def test_party_statistics_is_four_queries_whatever_the_subtree(cast, django_assert_num_queries):
    with django_assert_num_queries(4):
        party_statistics(organization=cast.P, year=2025)
    for i in range(20):
        MemberFactory(name=f"统计{i}", organization=cast.B if i % 2 else cast.A, roster=date(2015, 1, 1))
    with django_assert_num_queries(4):
        stats = party_statistics(organization=cast.P, year=2025)
    assert stats["balance"]["end"] == 22
