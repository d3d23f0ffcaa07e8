"""Organizational-life API: one request creates a meeting with attendance and resolutions; gate
isolation; strict input; compliance endpoint; query counts."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from activities.api.serializers import (
    AttendanceOutputSerializer,
    FollowUpOutputSerializer,
    MeetingDetailOutputSerializer,
    ResolutionOutputSerializer,
)
from activities.api.views import MeetingViewSet
from activities.models import FollowUp, Meeting
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from activities.services.meetings import meeting_save
from audit.models import AuditEvent
from core.api import output
from members.models import Member
from tests.activities.conftest import MEETING_DAY, add_committee, add_members, header, header_values
from tests.api_helpers import if_match
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def body(cast, people, *, org=None, resolutions=None, **extra):
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in header_values(**extra).items()}
    return {
        "organization": (org or cast.A).pk,
        **data,
        "finish": True,
        "attendance": [
            {"member_id": p.pk, "status": "present" if i % 10 else "leave", "reason": "" if i % 10 else "出差"}
            for i, p in enumerate(people)
        ],
        "resolutions": resolutions
        if resolutions is not None
        else [
            {
                "title": f"决议{i}",
                "votes_for": 40,
                "votes_against": 2,
                "action_required": i == 0,
                "follow_up_owner_id": people[1].pk,
                "follow_up_due_on": "2026-04-30",
            }
            for i in range(3)
        ],
    }


@pytest.fixture
def fifty(cast, today_is):
    return [cast.member_a_record, *add_members(cast.A, full=49)]


def test_create_meeting_with_50_attendees_and_3_resolutions_in_constant_queries(cast, fifty):
    api = cast.api("secretary_a")
    api.get("/api/v1/meetings/")  # warm up the client
    with CaptureQueriesContext(connection) as ctx:
        response = api.post("/api/v1/meetings/", body(cast, fifty), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["expected_count"], data["present_count"], data["leave_count"]) == (50, 45, 5)
    assert data["quorum"] == "met"
    assert [r["outcome"] for r in data["resolutions"]] == ["passed"] * 3
    assert data["resolutions"][0]["follow_up"]["owner_id"] == fifty[1].pk
    assert len(data["attendance"]) == 50
    assert len(ctx) <= 20, [q["sql"][:120] for q in ctx.captured_queries]
    print(f"create meeting (50 attendees, 3 resolutions): {len(ctx)} queries")
    # The same request for a branch of 10 takes the same number of queries.
    ten = [cast.member_b_record, *add_members(cast.B, full=9, prefix="乙")]
    api_b = cast.api("secretary_b")
    api_b.get("/api/v1/meetings/")
    with CaptureQueriesContext(connection) as ctx10:
        response = api_b.post("/api/v1/meetings/", body(cast, ten, org=cast.B), format="json")
    assert response.status_code == 400  # 40 votes for 10 people
    payload = body(
        cast,
        ten,
        org=cast.B,
        resolutions=[
            {
                "title": f"决议{i}",
                "votes_for": 8,
                "action_required": i == 0,
                "follow_up_owner_id": ten[1].pk,
                "follow_up_due_on": "2026-04-30",
            }
            for i in range(3)
        ],
    )
    with CaptureQueriesContext(connection) as ctx10:
        assert api_b.post("/api/v1/meetings/", payload, format="json").status_code == 201
    assert len(ctx10) == len(ctx)


def test_update_meeting_in_one_request_keeps_resolution_and_follow_up(cast, fifty):
    api = cast.api("secretary_a")
    created = api.post("/api/v1/meetings/", body(cast, fifty), format="json").json()
    payload = body(cast, fifty)
    payload["resolutions"] = [
        {"id": created["resolutions"][0]["id"], "title": "决议0（修订）", "votes_for": 44, "action_required": True}
    ]
    payload["title"] = "改了主题"
    url = f"/api/v1/meetings/{created['id']}/"
    response = api.put(url, payload, format="json", **if_match(api, url))
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["title"] == "改了主题" and len(data["resolutions"]) == 1
    assert data["resolutions"][0]["id"] == created["resolutions"][0]["id"]
    assert FollowUp.objects.get().title == "决议0（修订）"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"bogus": 1}, "bogus"),
        ({"meeting_type": "party"}, "meeting_type"),
        ({"held_on": "2026-13-01"}, "held_on"),
        ({"end_time": "13:00"}, "end_time"),
        ({"organization": "x"}, "organization"),
        ({"attendance": [{"member_id": 1, "status": "present", "evil": 1}]}, "attendance"),
        ({"resolutions": [{"title": "x", "votes_for": -1}]}, "resolutions"),
        ({"also_counts_as": ["committee"]}, "also_counts_as"),
    ],
)
def test_bad_input_is_400_with_field_errors(cast, fifty, change, field):
    payload = {**body(cast, fifty[:5]), **change}
    response = cast.api("secretary_a").post("/api/v1/meetings/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Meeting.objects.exists()


def test_more_votes_than_present_and_outsider_attendance_are_400_in_chinese(cast, fifty):
    api = cast.api("secretary_a")
    payload = body(cast, fifty, resolutions=[{"title": "x", "votes_for": 46}])
    response = api.post("/api/v1/meetings/", payload, format="json")
    assert response.status_code == 400
    assert "超过实到有表决权的党员人数（45）" in response.json()["resolutions"][0]
    payload = body(cast, [*fifty, cast.member_b_record], resolutions=[])
    response = api.post("/api/v1/meetings/", payload, format="json")
    assert response.status_code == 400
    # 乙党员 is in another branch: named by id only, like an id that does not exist (#21.2).
    error = response.json()["attendance"][0]
    assert f"编号 {cast.member_b_record.pk} 的人员 在 2026-03-10 不是本组织党员" in error and "乙党员" not in error


def test_committee_meeting_without_committee_is_400(cast, fifty):
    response = cast.api("secretary_a").post(
        "/api/v1/meetings/", body(cast, fifty[:3], meeting_type="committee", resolutions=[]), format="json"
    )
    assert response.status_code == 400
    assert "未设委员会" in response.json()["meeting_type"][0]


def test_gate_isolation_for_meetings(cast, fifty, today_is):
    people_b = [cast.member_b_record]
    api_b = cast.api("secretary_b")
    meeting_b = api_b.post("/api/v1/meetings/", body(cast, people_b, org=cast.B, resolutions=[]), format="json")
    assert meeting_b.status_code == 201, meeting_b.json()
    pk = meeting_b.json()["id"]
    api_a = cast.api("secretary_a")
    assert api_a.get(f"/api/v1/meetings/{pk}/").status_code == 404
    assert api_a.put(f"/api/v1/meetings/{pk}/", body(cast, fifty[:3]), format="json").status_code == 404
    assert api_a.delete(f"/api/v1/meetings/{pk}/").status_code == 404
    assert api_a.get(f"/api/v1/meetings/{pk}/attachments/").status_code == 404
    assert api_a.get("/api/v1/meetings/", {"organization": cast.B.pk}).status_code == 404
    assert api_a.get("/api/v1/meetings/").json()["count"] == 0
    # Creating a meeting for B's organization is refused on the field.
    response = api_a.post("/api/v1/meetings/", body(cast, people_b, org=cast.B, resolutions=[]), format="json")
    assert response.status_code == 400 and "organization" in response.json()
    # Read-only roles see it but cannot change it.
    auditor = cast.api("auditor_p")
    assert auditor.get(f"/api/v1/meetings/{pk}/").status_code == 200
    assert auditor.delete(f"/api/v1/meetings/{pk}/").status_code == 403
    assert cast.api("org_admin_p").get("/api/v1/meetings/").json()["count"] == 1
    assert cast.api("member_a").get(f"/api/v1/meetings/{pk}/").status_code == 404


def test_meeting_list_filters_and_constant_queries(cast, fifty):
    api = cast.api("secretary_a")
    api.post("/api/v1/meetings/", body(cast, fifty, resolutions=[]), format="json")
    api.post(
        "/api/v1/meetings/",
        body(cast, fifty, resolutions=[], meeting_type="theme_day", also_counts_as=["lecture"]),
        format="json",
    )
    assert api.get("/api/v1/meetings/", {"meeting_type": "lecture"}).json()["count"] == 1
    assert api.get("/api/v1/meetings/", {"year": "2026", "organization": cast.A.pk}).json()["count"] == 2
    for params in ({"year": "20x6"}, {"meeting_type": "x"}, {"status": "x"}, {"foo": "1"}, {"organization": "0"}):
        assert api.get("/api/v1/meetings/", params).status_code == 400, params
    with CaptureQueriesContext(connection) as small:
        api.get("/api/v1/meetings/")
    for _ in range(5):
        api.post("/api/v1/meetings/", {**body(cast, fifty[:5], resolutions=[]), "finish": False}, format="json")
    with CaptureQueriesContext(connection) as large:
        assert api.get("/api/v1/meetings/").json()["count"] == 7
    assert len(small) == len(large)


def test_roster_endpoint_prefills_by_date(cast, fifty):
    late = MemberFactory(name="后来者", organization=cast.A, roster=date(2026, 5, 1))
    api = cast.api("secretary_a")
    params = {"organization": cast.A.pk, "held_on": "2026-03-10", "meeting_type": "general_assembly"}
    data = api.get("/api/v1/meetings/roster/", params).json()
    ids = {p["member_id"] for p in data["expected"]}
    assert len(ids) == 50 and late.pk not in ids and all(p["is_voter"] for p in data["expected"])
    assert api.get("/api/v1/meetings/roster/", {**params, "held_on": "2026-05-02"}).json()["expected"][0]
    assert api.get("/api/v1/meetings/roster/", {**params, "held_on": "bad"}).status_code == 400
    assert api.get("/api/v1/meetings/roster/", {**params, "organization": cast.B.pk}).status_code == 404


# --- compliance endpoint ---------------------------------------------------------------------------


def test_compliance_endpoint_for_a_branch_and_a_committee(cast, fifty, today_is):
    api = cast.api("secretary_a")
    today_is(date(2026, 3, 10))
    api.post("/api/v1/meetings/", body(cast, fifty, resolutions=[]), format="json")
    today_is(date(2026, 6, 15))
    data = api.get(f"/api/v1/organizations/{cast.A.pk}/compliance/", {"year": "2026", "quarter": "1"}).json()
    assert data["rollup"] is None
    ga = [i for i in data["items"] if i["meeting_type"] == "general_assembly"]
    assert ga == [
        {**ga[0], "period_start": "2026-01-01", "period_end": "2026-03-31", "required": 1, "held": 1, "status": "done"}
    ]
    assert {i["status"] for i in data["items"] if i["meeting_type"] == "theme_day"} == {"overdue"}
    month = api.get(f"/api/v1/organizations/{cast.A.pk}/compliance/", {"year": "2026", "month": "2"}).json()
    assert {(i["meeting_type"], i["period_start"]) for i in month["items"]} >= {
        ("theme_day", "2026-02-01"),
        ("general_assembly", "2026-01-01"),
    }
    top = cast.api("org_admin_p").get(f"/api/v1/organizations/{cast.P.pk}/compliance/", {"year": "2026"}).json()
    assert top["rollup"]["organizations"] == 4
    by_type = {row["meeting_type"]: row for row in top["rollup"]["by_type"]}
    assert by_type["general_assembly"]["done"] == 1
    assert {row["organization_id"] for row in top["rollup"]["by_child"]} == {cast.A.pk, cast.B.pk}


@pytest.mark.parametrize(
    "params,field",
    [
        ({"year": "abc"}, "year"),
        ({"year": "1999"}, "year"),
        ({"year": "2026", "quarter": "5"}, "quarter"),
        ({"year": "2026", "quarter": "x"}, "quarter"),
        ({"year": "2026", "month": "13"}, "month"),
        ({"year": "2026", "month": "0"}, "month"),
        ({"year": "2026", "month": "1", "quarter": "1"}, "month"),
        ({"year": "2026", "week": "1"}, "week"),
    ],
)
def test_compliance_endpoint_bad_params_are_400(cast, params, field):
    response = cast.api("secretary_a").get(f"/api/v1/organizations/{cast.A.pk}/compliance/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_compliance_endpoint_is_gated(cast):
    assert cast.api("secretary_a").get(f"/api/v1/organizations/{cast.B.pk}/compliance/").status_code == 404
    assert cast.api("outsider").get(f"/api/v1/organizations/{cast.A.pk}/compliance/").status_code == 403
    assert cast.api("anon").get(f"/api/v1/organizations/{cast.A.pk}/compliance/").status_code in (401, 403)
    # The organization viewset's routes are untouched by the separate path.
    assert cast.api("secretary_a").get(f"/api/v1/organizations/{cast.A.pk}/").status_code == 200


# --- follow-ups, talks, study, plans, appraisal -----------------------------------------------------


def test_follow_ups_endpoint(cast, fifty):
    api = cast.api("secretary_a")
    api.post("/api/v1/meetings/", body(cast, fifty), format="json")
    rows = api.get("/api/v1/follow-ups/", {"status": "open", "organization": cast.A.pk}).json()["results"]
    assert len(rows) == 1 and rows[0]["meeting_held_on"] == "2026-03-10"
    pk = rows[0]["id"]
    response = api.patch(f"/api/v1/follow-ups/{pk}/", {"status": "done", "note": "已完成"}, format="json")
    assert response.status_code == 200 and response.json()["closed_on"]
    assert api.patch(f"/api/v1/follow-ups/{pk}/", {"owner_id": 5}, format="json").status_code == 400
    assert cast.api("secretary_b").get(f"/api/v1/follow-ups/{pk}/").status_code == 404
    assert (
        cast.api("secretary_b").patch(f"/api/v1/follow-ups/{pk}/", {"status": "open"}, format="json").status_code == 404
    )


def test_talks_endpoint_and_coverage(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=3)]
    add_committee(cast.A, people[:3])
    api = cast.api("secretary_a")
    payload = {
        "organization": cast.A.pk,
        "held_on": "2026-03-01",
        "initiator_id": people[0].pk,
        "counterpart_id": people[3].pk,
        "topic": "思想状况",
    }
    assert api.post("/api/v1/talks/", payload, format="json").status_code == 201
    bad = api.post("/api/v1/talks/", {**payload, "counterpart_id": cast.member_b_record.pk}, format="json")
    assert bad.status_code == 400 and "不是本组织党员" in bad.json()["counterpart_id"][0]
    coverage = api.get("/api/v1/talks/coverage/", {"organization": cast.A.pk, "year": "2026"}).json()
    assert (coverage["required"], coverage["done"], coverage["complete"]) == (6, 1, False)
    assert cast.api("secretary_b").get("/api/v1/talks/coverage/", {"organization": cast.A.pk}).status_code == 404


def test_study_records_member_sees_own_and_records_self_study(cast, today_is):
    other = MemberFactory(name="同支部", organization=cast.A)
    member = cast.api("member_a")
    own = {
        "member_id": cast.member_a_record.pk,
        "source": "self_study",
        "studied_on": "2026-05-01",
        "hours": "2.5",
        "title": "学习党章",
    }
    assert member.post("/api/v1/study-records/", own, format="json").status_code == 201
    assert member.post("/api/v1/study-records/", {**own, "member_id": other.pk}, format="json").status_code == 400
    assert member.post("/api/v1/study-records/", {**own, "source": "training"}, format="json").status_code == 400
    secretary = cast.api("secretary_a")
    assert (
        secretary.post(
            "/api/v1/study-records/", {**own, "member_id": other.pk, "source": "training"}, format="json"
        ).status_code
        == 201
    )
    rows = member.get("/api/v1/study-records/").json()["results"]
    assert [r["member_id"] for r in rows] == [cast.member_a_record.pk]
    assert secretary.get("/api/v1/study-records/", {"year": "2026"}).json()["count"] == 2
    assert cast.api("secretary_b").get("/api/v1/study-records/").json()["count"] == 0


def test_plans_endpoint(cast, today_is):
    api = cast.api("secretary_a")
    payload = {
        "organization": cast.A.pk,
        "year": 2026,
        "quarter": 3,
        "submit": True,
        "items": [{"meeting_type": "general_assembly", "planned_on": "2026-07-15", "title": "党员大会"}],
    }
    response = api.post("/api/v1/plans/", payload, format="json")
    assert response.status_code == 201 and response.json()["status"] == "submitted"
    bad = api.post(
        "/api/v1/plans/", {**payload, "items": [{"meeting_type": "lecture", "planned_on": "2026-10-01"}]}, format="json"
    )
    assert bad.status_code == 400 and "第 3 季度内" in bad.json()["items"][0]
    assert api.post("/api/v1/plans/", {**payload, "organization": cast.P.pk}, format="json").status_code == 400
    assert cast.api("secretary_b").get(f"/api/v1/plans/{response.json()['id']}/").status_code == 404


def test_appraisal_endpoint_enforces_one_third(cast, today_is):
    people = [cast.member_a_record, *add_members(cast.A, full=5, probationary=1)]
    api = cast.api("secretary_a")
    created = api.post(
        "/api/v1/meetings/", body(cast, people, meeting_type="appraisal", resolutions=[]), format="json"
    ).json()
    full = [p for p in people if p.stage == "full"]
    prob = [p for p in people if p.stage != "full"]
    grades = [{"member_id": p.pk, "grade": "excellent" if i < 2 else "qualified"} for i, p in enumerate(full)]
    grades.append({"member_id": prob[0].pk})
    response = api.put(f"/api/v1/meetings/{created['id']}/appraisal/", {"grades": grades}, format="json")
    assert response.status_code == 200, response.json()  # 2 excellent of 6 graded
    grades[2]["grade"] = "excellent"
    response = api.put(f"/api/v1/meetings/{created['id']}/appraisal/", {"grades": grades}, format="json")
    assert response.status_code == 400 and "三分之一" in response.json()["grades"][0]


def test_meeting_type_labels_are_chinese_in_errors(cast, fifty):
    payload = body(cast, fifty[:3], meeting_type="group", resolutions=[])
    response = cast.api("secretary_a").post("/api/v1/meetings/", payload, format="json")
    assert response.status_code == 400 and "党小组会请记录在对应的党小组下" in response.json()["meeting_type"][0]


def test_draft_then_finish_through_the_api(cast, fifty):
    api = cast.api("secretary_a")
    draft = {**body(cast, fifty[:3], resolutions=[]), "finish": False}
    created = api.post("/api/v1/meetings/", draft, format="json").json()
    assert created["status"] == "draft"
    url = f"/api/v1/meetings/{created['id']}/"
    response = api.put(url, {**draft, "finish": True}, format="json", **if_match(api, url))
    assert response.status_code == 400 and "尚未登记出席情况" in response.json()["attendance"][0]
    response = api.put(url, body(cast, fifty, resolutions=[]), format="json", **if_match(api, url))
    assert response.status_code == 200 and response.json()["status"] == "final"
    assert MEETING_DAY.isoformat() == response.json()["held_on"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/follow-ups/",
        "/api/v1/talks/",
        "/api/v1/study-records/",
        "/api/v1/plans/",
        "/api/v1/study-points/",
        "/activities/org/{A}/follow-ups/?status=all",
        "/activities/org/{A}/talks/",
        "/activities/org/{A}/study/",
        "/activities/org/{A}/plans/?year=2026&quarter=2",
        "/activities/calendar/?month=2026-06",
        "/activities/",
    ],
)
def test_list_endpoints_and_pages_take_constant_queries(cast, today_is, url):
    from decimal import Decimal

    from activities.calendar import plan_save
    from activities.services.inputs import AttendanceInput, ResolutionInput
    from activities.services.meetings import meeting_save as save
    from activities.services.study import activity_settings_update, study_points_record, study_record_create
    from activities.services.talks import talk_create

    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    add_committee(cast.A, people)
    activity_settings_update(
        user=cast.users["secretary_a"], organization=cast.A, study_points_enabled=True, advisory_summary_enabled=True
    )
    user = cast.users["secretary_a"]
    is_api = url.startswith("/api/")
    client = cast.api("secretary_a") if is_api else cast.client("secretary_a")
    target = url.format(A=cast.A.pk)
    client.get(target)

    def grow(n, start):
        for i in range(start, start + n):
            day = date(2026, 4, 1 + i)
            extra = add_members(cast.A, full=1, prefix=f"增{i}")[0]
            roster = Member.objects.filter(organization=cast.A)
            save(
                user=user,
                organization=cast.A,
                data=header("general_assembly", held_on=day),
                attendance=[AttendanceInput(member_id=m.pk, status="present") for m in roster],
                resolutions=[
                    ResolutionInput(title=f"事项{i}", votes_for=1, action_required=True, follow_up_owner_id=extra.pk)
                ],
                finish=True,
            )
            talk_create(user=user, organization=cast.A, held_on=day, initiator=people[0], counterpart=extra, topic="谈")
            study_record_create(
                user=user, member=extra, source="training", studied_on=day, hours=Decimal("2"), title="培训"
            )
            study_points_record(user=user, member=extra, recorded_on=day, points=10 + i)
        plan_save(
            user=user,
            organization=cast.A,
            year=2026,
            quarter=2,
            items=[{"meeting_type": "lecture", "planned_on": date(2026, 6, 1 + j)} for j in range(start + n)],
        )

    grow(2, 0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    grow(6, 2)
    with CaptureQueriesContext(connection) as large:
        assert client.get(target).status_code == 200
    assert len(small) == len(large), (len(small), len(large))


def test_planned_meeting_detail_output_is_drfs(cast, fifty, monkeypatch):
    """The detail (the create's answer from the saved rows, and a read) is written by planned
    serializers (#20.3): the same JSON as DRF's own path for the meeting, its attendance (a guest
    among them), its resolutions and their follow-up items."""
    api = cast.api("secretary_a")
    payload = body(cast, fifty)
    payload["attendance"].append({"name": "列席来宾", "status": "attending_nonvoting", "is_speaker": True})
    created = api.post("/api/v1/meetings/", payload, format="json")
    assert created.status_code == 201, created.json()
    url = f"/api/v1/meetings/{created.json()['id']}/"
    read = api.get(url).json()
    assert read["resolutions"][0]["follow_up"]["owner_id"] == fifty[1].pk
    assert any(row["is_guest"] for row in read["attendance"])
    meeting = meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=MeetingInput(**header_values()),
        attendance=[AttendanceInput(member_id=p.pk, status="present") for p in fifty]
        + [AttendanceInput(name="列席来宾", status="attending_nonvoting")],
        resolutions=[ResolutionInput(title="决议", votes_for=40, action_required=True, follow_up_owner_id=fifty[1].pk)],
        finish=True,
    )
    answer = MeetingViewSet()._output(meeting, new=True)
    assert answer["resolutions"][0]["follow_up"] and len(answer["attendance"]) == 51
    drf_only = {
        cls: output._UNPLANNED
        for cls in (
            MeetingDetailOutputSerializer,
            AttendanceOutputSerializer,
            ResolutionOutputSerializer,
            FollowUpOutputSerializer,
        )
    }
    monkeypatch.setattr(output.PlannedOutputMixin, "_plans", drf_only)
    assert api.get(url).json() == read
    assert MeetingViewSet()._output(meeting, new=True) == answer


# One meeting recorded as the rush's writers record it (#20.3: bench_concurrency): with an
# Idempotency-Key, 50 attendees, 3 resolutions (one with a follow-up item). The statements, held:
# the request's transaction and the key's claim (2 savepoints here, BEGIN/COMMIT in production:
# 5), the organization, the roster with its vote checks (1), the meeting, its two dashboard marks
# (1), the attendance, resolutions, follow-up and credit (4, bulk), the key's kept answer (1), and
# last the audit chain's head lock, event and head (3: audit.services.deferred_chain). Token
# authentication adds 1 in production (the test client authenticates without it; the scope comes
# from the cache), and so does the foreign-key check run before the chain's lock on PostgreSQL
# (``SET CONSTRAINTS ALL IMMEDIATE``, only at the outermost level: here the test's transaction).
RECORD_MEETING_QUERIES = 17


def test_recording_a_meeting_takes_a_fixed_number_of_statements(cast, fifty, django_assert_num_queries):
    api = cast.api("secretary_a")
    api.get("/api/v1/meetings/")  # warm the per-process caches (the scope)
    with django_assert_num_queries(RECORD_MEETING_QUERIES) as captured:
        response = api.post("/api/v1/meetings/", body(cast, fifty), format="json", HTTP_IDEMPOTENCY_KEY="rush-0001-key")
    assert response.status_code == 201, response.json()
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 2, sql  # the request's and the claim's
    assert sum(s.startswith('SELECT "members_member"') for s in sql) == 1, sql  # the roster
    assert not any("members_membersanction" in s and s.startswith('SELECT "members_membersanction"') for s in sql)
    assert sum(s.startswith('INSERT INTO "activities_attendance"') for s in sql) == 1
    # The chain head is locked last: after the response is built and the key's answer kept (#20.3).
    lock = next(i for i, s in enumerate(sql) if s.startswith('SELECT "audit_auditchainhead"'))
    assert sql[lock - 1].startswith('UPDATE "core_idempotencyrecord"'), sql
    assert sql[lock + 1].startswith('INSERT INTO "audit_auditevent"'), sql
    assert sql[lock + 2].startswith('UPDATE "audit_auditchainhead"'), sql
    assert all(s.startswith("RELEASE SAVEPOINT") for s in sql[lock + 3 :]), sql


def test_a_meeting_whose_audit_event_fails_is_not_recorded_and_its_key_is_free(cast, fifty):
    """AUD-5 with the deferred chain: the event is linked at the end of the request's transaction,
    and a failure there rolls back the meeting and the key's claim (a retry with the key records it)."""
    api = cast.api("secretary_a")
    api.raise_request_exception = False
    data = body(cast, fifty)
    with mock.patch.object(AuditEvent, "save", side_effect=DatabaseError("audit store down")):
        response = api.post("/api/v1/meetings/", data, format="json", HTTP_IDEMPOTENCY_KEY="aud5-0001-key")
    assert response.status_code == 500
    assert not Meeting.objects.exists()
    again = api.post("/api/v1/meetings/", data, format="json", HTTP_IDEMPOTENCY_KEY="aud5-0001-key")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Meeting.objects.count() == 1
    assert AuditEvent.objects.filter(event="meeting_create", object_id=str(again.json()["id"])).exists()
