"""#20.2 the API's member list through compiled statements (members.selectors.member_list_pages):
for every role and filter, the same rows, order, count and JSON as paging ``member_list`` through
the ORM, and the statements built once per shape."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import compiled
from members.api.serializers import MemberOutputSerializer
from members.choices import MembershipStatus, Stage
from members.selectors import member_list, member_list_pages
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(cast):
    for i in range(7):
        MemberFactory(name=f"甲{i}", organization=cast.A, stage=Stage.FULL)
    MemberFactory(name="组员", organization=cast.A, party_group=cast.A1, stage=Stage.PROBATIONARY)
    MemberFactory(name="停止党籍者", organization=cast.A, membership_status=MembershipStatus.SUSPENDED)
    for i in range(5):
        MemberFactory(name=f"乙{i}", organization=cast.B)
    MemberFactory(name="他单位", organization=cast.Q)
    return cast


def _json(rows):
    return [dict(row) for row in MemberOutputSerializer(rows, many=True).data]


FILTERS = [
    {},
    {"organization": "A"},
    {"organization": "A1"},
    {"organization": "P", "stage": Stage.FULL},
    {"status": MembershipStatus.SUSPENDED},
    {"organization": "B", "status": MembershipStatus.NORMAL, "stage": Stage.FULL},
]


@pytest.mark.parametrize("who", ["org_admin_p", "secretary_a", "secretary_b", "member_a", "auditor_p", "outsider"])
@pytest.mark.parametrize("filters", FILTERS)
def test_the_same_pages_as_the_orm(roster, who, filters):
    user = roster.users[who]
    kwargs = {k: getattr(roster, v) if k == "organization" else v for k, v in filters.items()}
    pages = member_list_pages(user=user, columns=MemberOutputSerializer.own_columns(), **kwargs)
    orm = member_list(user=user, **kwargs).only(*MemberOutputSerializer.columns())
    if pages is None:  # nothing to see at all: the caller pages the ORM
        assert not orm.exists()
        return
    for per_page in (3, 50):
        mine, theirs = Paginator(pages, per_page), Paginator(orm, per_page)
        assert mine.count == theirs.count
        for number in mine.page_range:
            assert _json(list(mine.page(number))) == _json(list(theirs.page(number)))


def test_ordering_and_the_fallbacks(roster):
    user = roster.users["org_admin_p"]
    columns = MemberOutputSerializer.own_columns()
    pages = member_list_pages(user=user, columns=columns, ordering=["-name"])
    names = [m.name for m in pages[0:100]]
    assert names == sorted(names, reverse=True) and len(names) == pages.count()
    assert member_list_pages(user=user, columns=columns, search="甲") is None
    assert member_list_pages(user=user, columns=columns, flag="attention") is None


def test_one_page_reads_two_statements_and_builds_nothing_after_the_first(roster, monkeypatch):
    user = roster.users["secretary_a"]
    columns = MemberOutputSerializer.own_columns()
    first = member_list_pages(user=user, columns=columns, organization=roster.A)
    list(Paginator(first, 5).page(1))  # plans the statements
    plans = {key: plan for key, plan in compiled._plans.items() if key.startswith(first.key)}
    assert len(plans) == 2 and all(plan is not compiled._UNUSABLE for plan in plans.values())  # compiled, not the ORM
    built = []
    monkeypatch.setattr(compiled, "_plan", lambda *a, **k: built.append(a) or pytest.fail("planned again"))
    again = member_list_pages(user=user, columns=columns, organization=roster.A)
    with CaptureQueriesContext(connection) as queries:
        rows = list(Paginator(again, 5).page(2))
        _json(rows)  # names come with the rows: no query per row
    assert len(queries) == 2 and rows and not built


def test_api_list_equals_the_orm_answer(roster):
    client = roster.api("org_admin_p")
    answer = client.get("/api/v1/members/", {"organization": roster.A.pk, "page_size": 4, "page": 2}).json()
    paginator = Paginator(member_list(user=roster.users["org_admin_p"], organization=roster.A), 4)
    assert answer["count"] == paginator.count == 10  # 9 here and the cast's 甲党员
    assert answer["results"] == _json(list(paginator.page(2)))
    assert client.get("/api/v1/members/", {"organization": roster.Q.pk}).status_code == 404


@pytest.mark.parametrize("page", [1, 2, 3])
def test_a_branch_page_and_its_total_come_in_one_statement(roster, page):
    user = roster.users["secretary_a"]
    columns = MemberOutputSerializer.own_columns()
    pages = member_list_pages(user=user, columns=columns, organization=roster.A)
    assert pages.small
    orm = Paginator(member_list(user=user, organization=roster.A).only(*MemberOutputSerializer.columns()), 4)
    with CaptureQueriesContext(connection) as queries:
        pages.fetch_window((page - 1) * 4, 4)
        paginator = Paginator(pages, 4)
        rows = list(paginator.page(page))
    assert paginator.count == orm.count and _json(rows) == _json(list(orm.page(page)))
    assert len(queries) == 1


def test_a_window_past_the_end_still_counts(roster):
    pages = member_list_pages(
        user=roster.users["secretary_a"], columns=MemberOutputSerializer.own_columns(), organization=roster.A
    )
    pages.fetch_window(400, 4)
    assert pages.count() == member_list(user=roster.users["secretary_a"], organization=roster.A).count()
    assert (
        roster.api("secretary_a").get("/api/v1/members/", {"organization": roster.A.pk, "page": 99}).status_code == 404
    )


def test_a_committee_list_is_not_windowed(roster):
    pages = member_list_pages(
        user=roster.users["org_admin_p"], columns=MemberOutputSerializer.own_columns(), organization=roster.P
    )
    assert not pages.small
