"""A secretary records a 支部党员大会 on a phone (390×844): attendance pre-filled from the roster,
one tap for a member on leave, a resolution with votes; then the quarter's compliance item turns
from 进行中 to 已完成. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

import pytest

from activities.defaults import compliance_defaults_install
from activities.models import Meeting
from core.dates import today
from tests.browser.conftest import login, screenshot
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_rules(db):
    """Transactional tests flush the database, data-migration rows included: put the §14 rules back."""
    compliance_defaults_install()


def quarter_cell(page):
    """The 支部党员大会 row's cell for the current quarter in the year grid."""
    row = page.locator("table.year-grid tr", has_text="支部党员大会")
    quarter = (today().month - 1) // 3
    return row.locator("td").nth(quarter)


def test_secretary_records_general_assembly_on_phone(cast, phone_page, live_server):
    user = cast.users["secretary_a"]
    user.set_password("Br0wser!pass")
    user.save()
    for name in ("张明", "李华", "王芳", "赵强"):
        MemberFactory(name=name, organization=cast.A, roster=date(2020, 1, 1))
    page = phone_page
    foreign = []
    live_host = urlparse(live_server.url).netloc
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)

    login(page, "secretary_a", "Br0wser!pass")
    page.goto(f"/activities/org/{cast.A.pk}/compliance/")
    assert "进行中" in quarter_cell(page).inner_text()
    current = page.locator("#current li", has_text="支部党员大会")
    assert "进行中" in current.inner_text() and current.is_visible()
    screenshot(page, "activities-01-compliance-before-phone")

    # From the menu to the 记录会议 form.
    page.click("label.nav-toggle-label")
    page.click("nav.mainnav >> text=组织生活")
    page.wait_for_load_state("networkidle")
    screenshot(page, "activities-02-index-phone")
    page.click("a.btn.primary:has-text('记录会议')")
    page.wait_for_load_state("networkidle")
    assert page.input_value("select[name=meeting_type]") == "general_assembly"
    body = page.content()
    assert "应到 5 人（有表决权 5 人）" in body  # pre-filled from the roster on the date

    page.fill("input[name=start_time]", "14:30")
    page.fill("input[name=end_time]", "16:00")
    page.fill("input[name=title]", "第四季度支部党员大会")
    page.fill("input[name=place]", "三楼党员活动室")
    page.select_option("select[name=chair]", label="张明")
    page.select_option("select[name=recorder]", label="王芳")
    # One tap: 李华 is on leave; the reason field appears once the status is not 出席.
    li_hua = page.locator("li.att-row", has_text="李华")
    assert not li_hua.locator("input.reason").is_visible()
    li_hua.locator("label:has-text('请假')").click()
    assert li_hua.locator("input.reason").is_visible()
    li_hua.locator("input.reason").fill("出差")
    page.fill("textarea[name=guests]", "上级党委组织员")
    page.fill("input[name='res-0-title']", "同意推荐张明为优秀共产党员")
    page.fill("input[name='res-0-votes_for']", "4")
    page.fill("textarea[name=minutes]", "一、传达学习上级会议精神；二、讨论评先评优推荐人选。")
    screenshot(page, "activities-03-record-form-phone")
    page.click("button[name=finish]")
    page.wait_for_load_state("networkidle")

    body = page.content()
    assert "已完成录入" in body and "符合法定人数" in body and "通过" in body
    meeting = Meeting.objects.get()
    assert (meeting.expected_count, meeting.present_count, meeting.leave_count, meeting.nonvoting_count) == (5, 4, 1, 1)
    screenshot(page, "activities-04-meeting-detail-phone")

    page.goto(f"/activities/org/{cast.A.pk}/compliance/")
    assert "已完成" in quarter_cell(page).inner_text()
    current = page.locator("#current li", has_text="支部党员大会")
    assert "已完成" in current.inner_text() and "1/1" in current.inner_text()
    screenshot(page, "activities-05-compliance-after-phone")
    assert foreign == []


def test_refused_form_keeps_what_was_typed_on_phone(cast, phone_page):
    user = cast.users["secretary_a"]
    user.set_password("Br0wser!pass")
    user.save()
    MemberFactory(name="张明", organization=cast.A, roster=date(2020, 1, 1))
    page = phone_page
    login(page, "secretary_a", "Br0wser!pass")
    page.goto(f"/activities/org/{cast.A.pk}/meetings/new/")
    page.fill("input[name=title]", "时间填错的会议")
    page.fill("input[name=start_time]", "16:00")
    page.fill("input[name=end_time]", "15:00")
    page.fill("input[name='res-0-title']", "票数过多的决议")
    page.fill("input[name='res-0-votes_for']", "9")
    page.click("button[name=finish]")
    page.wait_for_load_state("networkidle")
    body = page.content()
    assert "结束时间应晚于开始时间" in body
    assert page.input_value("input[name=title]") == "时间填错的会议"
    assert page.input_value("input[name='res-0-votes_for']") == "9"
    screenshot(page, "activities-06-form-error-phone")
    assert not Meeting.objects.exists()


def test_org_admin_rollup_on_desktop(cast, desktop_page):
    user = cast.users["org_admin_p"]
    user.set_password("Br0wser!pass")
    user.save()
    page = desktop_page
    login(page, "org_admin_p", "Br0wser!pass")
    page.goto(f"/activities/org/{cast.P.pk}/rollup/?year={today().year}")
    body = page.content()
    assert "按下级组织" in body and "第一党支部" in body and "第二党支部" in body
    screenshot(page, "activities-07-rollup-desktop")
    page.goto(f"/activities/org/{cast.A.pk}/compliance/?year={today().year}")
    screenshot(page, "activities-08-compliance-desktop")


def test_secretary_pages_on_phone(cast, phone_page):
    from decimal import Decimal

    from activities.calendar import plan_save
    from activities.services.study import study_record_create
    from activities.services.talks import talk_create
    from tests.activities.conftest import add_committee

    user = cast.users["secretary_a"]
    user.set_password("Br0wser!pass")
    user.save()
    people = [cast.member_a_record] + [
        MemberFactory(name=name, organization=cast.A, roster=date(2020, 1, 1)) for name in ("张明", "李华", "王芳")
    ]
    add_committee(cast.A, people[1:4], elected_on=date(2024, 1, 5))
    on = today()
    talk_create(
        user=user, organization=cast.A, held_on=on, initiator=people[1], counterpart=people[0], topic="思想工作情况"
    )
    study_record_create(
        user=user, member=people[2], source="training", studied_on=on, hours=Decimal("12"), title="党支部书记培训班"
    )
    quarter = (on.month - 1) // 3 + 1
    plan_save(
        user=user,
        organization=cast.A,
        year=on.year,
        quarter=quarter,
        items=[{"meeting_type": "lecture", "planned_on": on, "title": "专题党课"}],
        submit=True,
    )
    page = phone_page
    login(page, "secretary_a", "Br0wser!pass")
    for path, text, name in (
        (f"/activities/org/{cast.A.pk}/talks/", "覆盖情况", "activities-09-talks-phone"),
        (f"/activities/org/{cast.A.pk}/study/", "党员学时进度", "activities-10-study-phone"),
        (f"/activities/org/{cast.A.pk}/plans/", "计划的会议", "activities-11-plans-phone"),
        ("/activities/calendar/", "订阅到手机日历", "activities-12-calendar-phone"),
        (
            f"/activities/org/{cast.A.pk}/meetings/new/?type=committee",
            "应到 3 人",
            "activities-13-committee-form-phone",
        ),
        (f"/organizations/{cast.A.pk}/", "组织生活", "activities-14-org-page-phone"),
    ):
        page.goto(path)
        assert text in page.content(), path
        screenshot(page, name)
