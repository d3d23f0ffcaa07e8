"""The four lists compared with the peer project (#20.2): a bounded number of queries each, the same
rows and the same JSON as before the speed-ups (planned serializers, the name-character index, the
dues collection's member query, the FilterSet built once per request)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from rest_framework import serializers

from activities.api.serializers import MeetingListOutputSerializer
from activities.choices import MeetingStatus, MeetingType
from activities.models import Meeting
from core.api.output import PlannedOutputMixin
from members.api.serializers import MemberOutputSerializer
from members.dues.api import DuesMonthOutputSerializer
from members.dues.models import DuesMonth
from members.dues.selectors import dues_collection
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from members.models import Member
from members.selectors import member_list, member_search_q
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
YEAR = 2025
NAMES = ["李浩", "浩然", "王晓", "Anna李", "ANNA", "张浩浩", "赵一"]


@pytest.fixture
def branch(cast):
    """25 more members in branch A (some in its 党小组, one lost contact, one mobile), a year of
    meetings and a year of dues, so every list has more than a page."""
    members = [
        MemberFactory(
            organization=cast.A,
            name=NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)),
            party_group=cast.A1 if i % 3 == 0 else None,
            is_lost_contact=i == 1,
            lost_contact_since=date(2020, 1, 1) if i == 1 else None,
            is_mobile=i == 2,
            mobile_destination="上海" if i == 2 else "",
        )
        for i in range(25)
    ]
    for month in range(1, 13):
        for kind in (MeetingType.THEME_DAY, MeetingType.COMMITTEE):
            Meeting.objects.create(
                organization=cast.A,
                meeting_type=kind,
                title=f"{month}月",
                held_on=date(YEAR, month, 10),
                status=MeetingStatus.FINAL,
            )
    for member in members[:12]:
        dues_fixing_create(member=member, year=YEAR, category="employed", base=5100, fixed_on=date(YEAR, 1, 5))
    for member in members[:6]:
        dues_payment_record(member=member, months=[date(YEAR, 3, 1)], paid_on=date(YEAR, 3, 3))
    return members


URLS = {
    "branch members": "/api/v1/members/?organization={A}&page_size=20",
    "name search": "/api/v1/members/?search=%E6%B5%A9&page_size=20",
    "meetings of a year": "/api/v1/meetings/?organization={A}&year=2025&page_size=20",
    "dues collection": "/api/v1/dues/collection/?organization={A}&month=2025-03",
    "dues ledger": "/api/v1/dues/ledger/?organization={A}&month=2025-03&page_size=20",
}
# The view's own queries, measured and held: the organization named in the query, COUNT, the page
# (the search names no organization); the collection reads the month, the 党小组 ids, the members,
# the unpaid months and the excused ones. The token and scope queries of a request come on top in
# production (the test client authenticates without them, and the scope is cached per process).
MAX_QUERIES = {
    "branch members": 3,
    "name search": 2,
    "meetings of a year": 3,
    "dues collection": 6,
    "dues ledger": 3,
}


@pytest.mark.parametrize("name", list(URLS))
def test_compared_lists_take_a_bounded_number_of_queries(cast, branch, name, django_assert_max_num_queries):
    api = cast.api("org_admin_p")
    url = URLS[name].format(A=cast.A.pk)
    assert api.get(url).status_code == 200  # warm the per-process caches
    with django_assert_max_num_queries(MAX_QUERIES[name]):
        response = api.get(url)
    assert response.status_code == 200
    data = response.json()
    rows = data["members"] if "summary" in data else data["results"]
    assert rows, name


def _drf(serializer_class, instance):
    """What DRF's own path writes for the instance (the class without the plan)."""
    serializer = serializer_class(instance)
    return serializers.ModelSerializer.to_representation(serializer, instance)


def test_planned_member_output_is_drfs(cast, branch):
    members = list(member_list(user=cast.users["org_admin_p"], organization=cast.A))
    assert len(members) >= 25
    planned = MemberOutputSerializer(members, many=True).data
    assert [dict(row) for row in planned] == [_drf(MemberOutputSerializer, m) for m in members]
    by_name = {row["name"]: row for row in planned}
    assert by_name["浩然"]["flags"] and by_name["李浩"]["party_group_name"] == cast.A1.name
    assert by_name["李浩"]["stage_display"] == "正式党员" and by_name["李浩"]["birth_year"] == 1985


def test_planned_meeting_and_ledger_output_is_drfs(cast, branch):
    meetings = list(Meeting.objects.filter(organization=cast.A).select_related("organization"))
    assert [dict(r) for r in MeetingListOutputSerializer(meetings, many=True).data] == [
        _drf(MeetingListOutputSerializer, m) for m in meetings
    ]
    months = list(DuesMonth.objects.filter(organization=cast.A).select_related("member", "payment__recorded_by"))
    assert any(m.payment_id for m in months) and any(not m.payment_id for m in months)
    assert [dict(r) for r in DuesMonthOutputSerializer(months, many=True).data] == [
        _drf(DuesMonthOutputSerializer, m) for m in months
    ]


def test_planned_output_calls_method_fields_on_the_serializer_of_the_request():
    class Probe(PlannedOutputMixin, serializers.Serializer):
        name = serializers.CharField()
        who = serializers.SerializerMethodField()

        def get_who(self, obj):
            return self.context["who"]

    row = type("Row", (), {"name": "甲"})()
    assert Probe(row, context={"who": "first"}).data == {"name": "甲", "who": "first"}
    assert Probe(row, context={"who": "second"}).data == {"name": "甲", "who": "second"}


@pytest.mark.parametrize("text", ["浩", "李", "浩然", "anna", "a李", " 浩 ", "%", "浩a", "无此字"])
def test_name_search_finds_exactly_what_icontains_finds(cast, branch, text):
    expected = set(Member.objects.filter(name__icontains=text.strip()).values_list("pk", flat=True))
    found = set(Member.objects.filter(member_search_q(text)).values_list("pk", flat=True))
    assert found == expected
    listed = {m.pk for m in member_list(user=cast.users["org_admin_p"], search=text)}
    assert listed == expected


def test_name_search_uses_the_character_index_on_postgresql(cast):
    sql = str(Member.objects.filter(member_search_q("浩")).query)
    if connection.vendor == "postgresql":
        assert "regexp_split_to_array(UPPER(" in sql and "@>" in sql
    assert "LIKE" in sql


def test_collection_lists_the_branch_its_groups_and_anyone_with_a_row(cast, branch):
    in_group_org = MemberFactory(organization=cast.A1, name="小组党员")
    other = branch[0]
    data = dues_collection(organization=cast.A, month=date(YEAR, 3, 1))
    names = {line.member.name for line in data["lines"]}
    assert in_group_org.name in names and other.name in names
    assert cast.member_b_record.name not in names  # branch B's member is not A's
    assert data["summary"].members == len(data["lines"])
    assert data["summary"].paid_count == 6 and data["summary"].due_count == 12


def test_meeting_list_reads_neither_the_long_texts_nor_the_organization(cast, branch):
    from django.test.utils import CaptureQueriesContext

    Meeting.objects.filter(organization=cast.A).update(minutes="很长的会议记录" * 500)
    api = cast.api("org_admin_p")
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/meetings/", {"organization": cast.A.pk, "year": YEAR, "page_size": 20})
    assert response.status_code == 200 and len(response.json()["results"]) == 20
    assert "minutes" not in response.json()["results"][0]
    page_sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "activities_meeting"."id"')]
    assert len(page_sql) == 1
    assert '"minutes"' not in page_sql[0] and '"agenda"' not in page_sql[0]
    assert '"organizations_organization"."name"' not in page_sql[0]


def test_member_list_reads_what_its_rows_carry_and_no_ciphertext(cast, branch):
    from django.test.utils import CaptureQueriesContext

    api = cast.api("org_admin_p")
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/members/", {"organization": cast.A.pk, "page_size": 20})
    assert response.status_code == 200 and len(response.json()["results"]) == 20
    page_sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "members_member"."id", ')]
    assert len(page_sql) == 1
    assert "_cipher" not in page_sql[0] and "_hash" not in page_sql[0]
    detail = api.get(f"/api/v1/members/{branch[0].pk}/")
    assert detail.status_code == 200 and detail.has_header("ETag")  # the detail still reads the whole row


def test_ordering_still_applies_after_the_filterset_is_reused(cast, branch):
    api = cast.api("org_admin_p")
    rows = api.get("/api/v1/members/", {"organization": cast.A.pk, "ordering": "-name", "page_size": 200}).json()
    names = [r["name"] for r in rows["results"]]
    assert names == sorted(names, reverse=True)
    bad = api.get("/api/v1/members/", {"organization": cast.A.pk, "ordering": "id_number"})
    assert bad.status_code == 400


def test_display_labels_are_read_from_the_choices_unless_the_model_defines_the_method(monkeypatch):
    from core.api.output import _choice_labels  # import-here: the plan's helper itself

    attname, labels = _choice_labels(Member, "get_stage_display")
    assert attname == "stage" and labels == {value: label for value, label in Member._meta.get_field("stage").flatchoices}
    assert _choice_labels(Member, "get_nothing_display") is None
    monkeypatch.setattr(Member, "get_stage_display", lambda self: "自定义", raising=False)
    assert _choice_labels(Member, "get_stage_display") is None  # the model's own method: called as DRF would
