"""Organizational-life pages: the 记录会议 form (pre-filled roster, one tap per person, drafts,
half-filled forms keep what was typed), gate isolation, constant queries, the feed."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities.calendar import calendar_feed_create, plan_save
from activities.models import CalendarFeed, FollowUp, Meeting, StudyRecord
from activities.services.inputs import ResolutionInput
from activities.services.meetings import meeting_save
from tests.activities.conftest import add_committee, add_members, attendance, header
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(cast, today_is):
    return [cast.member_a_record, *add_members(cast.A, full=5, probationary=1)]


def form_post(people, *, finish=True, **extra):
    data = {
        "roster_type": "general_assembly",
        "roster_date": "2026-03-10",
        "meeting_type": "general_assembly",
        "held_on": "2026-03-10",
        "start_time": "14:30",
        "end_time": "16:00",
        "title": "第一季度党员大会",
        "place": "会议室",
        "res-count": "1",
        "res-0-title": "同意增补委员",
        "res-0-voting_method": "show_of_hands",
        "res-0-kind": "general",
        "res-0-votes_for": "5",
        "guests": "上级组织员\n",
    }
    for p in people:
        data[f"att-m{p.pk}"] = "present"
    if finish:
        data["finish"] = "1"
    else:
        data["draft"] = "1"
    data.update(extra)
    return data


def test_record_form_is_prefilled_from_the_roster_on_the_date(cast, people):
    late = MemberFactory(name="四月转入", organization=cast.A, roster=date(2026, 4, 1))
    client = cast.client("secretary_a")
    response = client.get(f"/activities/org/{cast.A.pk}/meetings/new/?type=general_assembly&date=2026-03-10")
    body = response.content.decode()
    assert response.status_code == 200
    for p in people:
        assert f'name="att-m{p.pk}" value="present" checked' in body
    assert late.name not in body
    assert "预备党员" in body and "应到 7 人（有表决权 6 人）" in body
    response = client.get(f"/activities/org/{cast.A.pk}/meetings/new/?type=general_assembly&date=2026-04-02")
    assert late.name in response.content.decode()


def test_record_and_finish_a_general_assembly(cast, people):
    client = cast.client("secretary_a")
    data = form_post(people, **{f"att-m{people[1].pk}": "leave", f"reason-m{people[1].pk}": "出差"})
    response = client.post(f"/activities/org/{cast.A.pk}/meetings/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting = Meeting.objects.get()
    assert (meeting.status, meeting.expected_count, meeting.present_count, meeting.leave_count) == ("final", 7, 6, 1)
    assert meeting.nonvoting_count == 1 and meeting.quorum == "met"
    assert meeting.resolutions.get().outcome == "passed"
    detail = client.get(response["Location"]).content.decode()
    assert "已完成录入" in detail and "符合法定人数" in detail and "上级组织员" in detail


def test_half_filled_form_keeps_what_was_typed(cast, people):
    client = cast.client("secretary_a")
    data = form_post(
        people, end_time="14:00", **{f"att-m{people[2].pk}": "absent", f"reason-m{people[2].pk}": "联系不上"}
    )
    data["res-0-votes_for"] = "99"
    response = client.post(f"/activities/org/{cast.A.pk}/meetings/new/", data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "结束时间应晚于开始时间" in body
    assert 'value="第一季度党员大会"' in body and "联系不上" in body and 'value="99"' in body
    assert f'name="att-m{people[2].pk}" value="absent" checked' in body
    assert not Meeting.objects.exists()
    data["end_time"] = "16:00"
    response = client.post(f"/activities/org/{cast.A.pk}/meetings/new/", data)
    body = response.content.decode()
    assert response.status_code == 400 and "表决票数（99）超过实到有表决权的党员人数（5）" in body
    assert 'value="99"' in body


def test_changing_the_date_refreshes_the_roster_without_saving(cast, people):
    late = MemberFactory(name="四月转入", organization=cast.A, roster=date(2026, 4, 1))
    client = cast.client("secretary_a")
    data = form_post(
        people, held_on="2026-04-02", **{f"att-m{people[1].pk}": "leave", f"reason-m{people[1].pk}": "病假"}
    )
    response = client.post(f"/activities/org/{cast.A.pk}/meetings/new/", data)
    body = response.content.decode()
    assert response.status_code == 200 and not Meeting.objects.exists()
    assert late.name in body and "病假" in body and 'name="roster_date" value="2026-04-02"' in body


def test_draft_then_finish_and_add_resolution(cast, people):
    client = cast.client("secretary_a")
    data = form_post(people, finish=False, title="")
    response = client.post(f"/activities/org/{cast.A.pk}/meetings/new/", data)
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.status == "draft"
    edit = client.get(f"/activities/meetings/{meeting.pk}/edit/").content.decode()
    assert "同意增补委员" in edit and "编辑会议记录" in edit
    more = client.post(f"/activities/meetings/{meeting.pk}/edit/", {**data, "add_resolution": "1"})
    assert more.content.decode().count("决议事项</label>") == 2
    resolution = meeting.resolutions.get()
    final = {**form_post(people), "res-0-id": str(resolution.pk)}
    assert client.post(f"/activities/meetings/{meeting.pk}/edit/", final).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "final" and meeting.resolutions.get().pk == resolution.pk


def test_committee_meeting_without_committee_is_refused_in_the_form(cast, people):
    client = cast.client("secretary_a")
    data = form_post(people, roster_type="committee", meeting_type="committee")
    response = client.post(f"/activities/org/{cast.A.pk}/meetings/new/", data)
    assert response.status_code == 400
    assert "未设委员会" in response.content.decode()


def test_committee_form_lists_committee_members_and_others_as_nonvoting(cast, people):
    add_committee(cast.A, people[:3])
    client = cast.client("secretary_a")
    body = client.get(f"/activities/org/{cast.A.pk}/meetings/new/?type=committee&date=2026-03-10").content.decode()
    assert "应到 3 人" in body and "列席的其他党员（4）" in body and "书记" in body


def test_pages_render_for_the_secretary(cast, people):
    meeting = meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(also_counts_as=["appraisal"]),
        attendance=attendance(people, present=7),
        resolutions=[ResolutionInput(title="整理档案", votes_for=6, action_required=True, follow_up_owner_name="王")],
        finish=True,
    )
    plan_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        year=2026,
        quarter=2,
        items=[{"meeting_type": "lecture", "planned_on": date(2026, 6, 20), "title": "七一党课"}],
    )
    client = cast.client("secretary_a")
    pages = [
        "/activities/",
        f"/activities/org/{cast.A.pk}/meetings/",
        f"/activities/org/{cast.A.pk}/meetings/?meeting_type=general_assembly&year=2026",
        f"/activities/meetings/{meeting.pk}/",
        f"/activities/meetings/{meeting.pk}/edit/",
        f"/activities/meetings/{meeting.pk}/delete/",
        f"/activities/meetings/{meeting.pk}/appraisal/",
        f"/activities/org/{cast.A.pk}/compliance/?year=2026",
        f"/activities/org/{cast.A.pk}/follow-ups/",
        f"/activities/org/{cast.A.pk}/talks/",
        f"/activities/org/{cast.A.pk}/study/",
        f"/activities/org/{cast.A.pk}/plans/?year=2026&quarter=2",
        f"/activities/org/{cast.A.pk}/rules/",
        "/activities/calendar/?month=2026-06",
        f"/organizations/{cast.A.pk}/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    org_page = client.get(f"/organizations/{cast.A.pk}/").content.decode()
    assert "组织生活" in org_page and "整理档案" in org_page  # open follow-up listed on the organization page
    admin = cast.client("org_admin_p")
    for url in (
        f"/activities/org/{cast.P.pk}/rollup/?year=2026&quarter=1",
        f"/activities/org/{cast.P.pk}/committee-study/?year=2026&quarter=1",
        f"/activities/org/{cast.A.pk}/waive/?kind=theme_day&start=2026-01-01",
    ):
        assert admin.get(url).status_code == 200, url
    assert client.get("/activities/compliance/").status_code == 302


def test_foreign_secretary_gets_404_everywhere(cast, people):
    meeting = meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(),
        attendance=attendance(people, 7),
        resolutions=[],
        finish=True,
    )
    b = cast.client("secretary_b")
    for url in (
        f"/activities/meetings/{meeting.pk}/",
        f"/activities/meetings/{meeting.pk}/edit/",
        f"/activities/meetings/{meeting.pk}/delete/",
        f"/activities/meetings/{meeting.pk}/appraisal/",
        f"/activities/org/{cast.A.pk}/meetings/",
        f"/activities/org/{cast.A.pk}/meetings/new/",
        f"/activities/org/{cast.A.pk}/compliance/",
        f"/activities/org/{cast.A.pk}/talks/",
        f"/activities/org/{cast.A.pk}/study/",
        f"/activities/org/{cast.A.pk}/plans/",
    ):
        assert b.get(url).status_code == 404, url
    assert b.post(f"/activities/meetings/{meeting.pk}/delete/").status_code == 404
    assert Meeting.objects.filter(pk=meeting.pk).exists()
    auditor = cast.client("auditor_p")
    assert auditor.get(f"/activities/meetings/{meeting.pk}/").status_code == 200
    assert auditor.get(f"/activities/meetings/{meeting.pk}/edit/").status_code == 403
    # A secretary cannot waive their own items; only the organization above.
    assert cast.client("secretary_a").get(f"/activities/org/{cast.A.pk}/waive/").status_code == 403


def test_meeting_list_and_compliance_pages_take_constant_queries(cast, people):
    client = cast.client("secretary_a")
    client.get(f"/activities/org/{cast.A.pk}/meetings/")

    def grow(n):
        for _ in range(n):
            meeting_save(
                user=cast.users["secretary_a"],
                organization=cast.A,
                data=header(),
                attendance=attendance(people, 7),
                resolutions=[ResolutionInput(title="x", votes_for=3)],
                finish=True,
            )

    counts = {}
    for size in (2, 12):
        grow(size)
        for url in (
            f"/activities/org/{cast.A.pk}/meetings/",
            f"/activities/org/{cast.A.pk}/compliance/?year=2026",
            f"/organizations/{cast.A.pk}/",
        ):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(ctx))
    for url, (small, large) in counts.items():
        assert small == large, (url, small, large)


def test_member_sees_only_their_own_records(cast, people):
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("lecture", study_hours=2),
        attendance=attendance(people, 7),
        resolutions=[],
        finish=True,
    )
    client = cast.client("member_a")
    page = client.get("/activities/my/study/").content.decode()
    assert "已学 2.0 学时" in page and "研究发展党员工作" in page
    assert people[1].name not in page
    assert client.get(f"/activities/org/{cast.A.pk}/meetings/").status_code == 404
    response = client.post(
        "/activities/my/study/",
        {"source": "self_study", "studied_on": "2026-05-01", "hours": "3", "title": "学习新党章"},
    )
    assert response.status_code == 302
    assert StudyRecord.objects.filter(member=cast.member_a_record, source="self_study").count() == 1
    bad = client.post(
        "/activities/my/study/",
        {"source": "self_study", "studied_on": "2026-05-01", "hours": "0", "title": "学习新党章"},
    )
    assert bad.status_code == 400 and "学习新党章" in bad.content.decode()


def test_follow_up_status_update_from_the_page(cast, people):
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(),
        attendance=attendance(people, 7),
        resolutions=[ResolutionInput(title="整理档案", votes_for=6, action_required=True)],
        finish=True,
    )
    follow_up = FollowUp.objects.get()
    client = cast.client("secretary_a")
    response = client.post(f"/activities/follow-ups/{follow_up.pk}/update/", {"status": "done", "note": "完成"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.closed_on
    assert (
        cast.client("secretary_b")
        .post(f"/activities/follow-ups/{follow_up.pk}/update/", {"status": "open"})
        .status_code
        == 404
    )


def test_ical_feed_by_token_and_revocation(cast, people, today_is):
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(held_on=date(2026, 6, 10)),
        attendance=attendance(people, 7),
        resolutions=[],
        finish=True,
    )
    _, token = calendar_feed_create(user=cast.users["secretary_a"])
    anon = cast.client("anon")
    response = anon.get(f"/activities/calendar/feed/{token}.ics")
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in body and "SUMMARY:支部党员大会 研究发展党员工作" in body
    assert "DTSTART;TZID=Asia/Shanghai:20260610T143000" in body
    assert "【截止】" in body  # compliance deadlines of the secretary's branch
    assert anon.get(f"/activities/calendar/feed/{token}x.ics").status_code == 404
    assert anon.get("/activities/calendar/feed/wrong.ics").status_code == 404
    # Member gets the meetings they attended.
    _, member_token = calendar_feed_create(user=cast.users["member_a"])
    assert "研究发展党员工作" in anon.get(f"/activities/calendar/feed/{member_token}.ics").content.decode()
    # Revoking (or regenerating) kills the old URL.
    client = cast.client("secretary_a")
    assert client.post("/activities/calendar/feed/", {"action": "revoke"}).status_code == 302
    assert anon.get(f"/activities/calendar/feed/{token}.ics").status_code == 404
    client.post("/activities/calendar/feed/", {"action": "create"})
    page = client.get("/activities/calendar/").content.decode()
    assert "/activities/calendar/feed/" in page and ".ics" in page  # shown once
    assert ".ics" not in client.get("/activities/calendar/").content.decode().split("订阅到手机日历")[1]
    assert CalendarFeed.objects.filter(user=cast.users["secretary_a"], revoked_at__isnull=True).count() == 1
    assert token not in "".join(CalendarFeed.objects.values_list("token_hash", flat=True))


def test_rules_page_lets_org_admin_add_a_version(cast, today_is):
    admin = cast.client("org_admin_p")
    data = {
        "org_type": "branch",
        "kind": "theme_day",
        "period": "month",
        "minimum": "2",
        "effective_from": "2026-07-01",
        "is_active": "on",
        "basis": "本单位规定",
    }
    assert admin.post(f"/activities/org/{cast.P.pk}/rules/", data).status_code == 302
    past = admin.post(f"/activities/org/{cast.P.pk}/rules/", {**data, "effective_from": "2026-01-01"})
    assert past.status_code == 400 and "生效日期不能早于今天" in past.content.decode()
    assert cast.client("secretary_a").post(f"/activities/org/{cast.A.pk}/rules/", data).status_code == 403


def test_member_page_includes_my_meetings_and_study(cast, people):
    meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header("lecture", study_hours=2),
        attendance=attendance(people, 7),
        resolutions=[],
        finish=True,
    )
    page = cast.client("member_a").get("/members/me/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "研究发展党员工作" in body and "已学 2.0 学时" in body
    assert people[1].name not in body.split("我参加的组织生活")[1]
