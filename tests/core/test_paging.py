"""CappedPaginator: exact below the cap, "cap+" above it, with a bounded COUNT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.paging import CappedPaginator
from members.models import Member
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_exact_below_the_cap(cast):
    MemberFactory.create_batch(3, organization=cast.A)
    paginator = CappedPaginator(Member.objects.order_by("pk"), 2, cap=10)
    assert paginator.count == Member.objects.count() == 5 and not paginator.capped
    assert paginator.num_pages == 3


def test_capped_above_the_cap_and_the_count_is_limited(cast):
    MemberFactory.create_batch(8, organization=cast.A)
    paginator = CappedPaginator(Member.objects.order_by("pk"), 2, cap=4)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 4 and paginator.capped
    assert "LIMIT 5" in queries.captured_queries[0]["sql"].upper()
    assert paginator.num_pages == 2
    assert len(paginator.get_page(99).object_list) == 2  # the last allowed page, not an error


def test_member_list_page_says_plus_when_capped(cast, monkeypatch):
    import core.paging

    monkeypatch.setattr(core.paging, "DEFAULT_CAP", 3)
    monkeypatch.setattr(CappedPaginator.__init__, "__kwdefaults__", {"cap": 3})
    MemberFactory.create_batch(5, organization=cast.A)
    page = cast.client("org_admin_p").get("/members/").content.decode()
    assert "共 3+ 人" in page and "超过 3 人" in page
