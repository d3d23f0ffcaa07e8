"""Measured (issue 14.6): a secretary records a 30-person 支部党员大会 from the 工作台 on a phone. Every
tap and every typed field is counted from the 工作台 on; the count is asserted (≤ 30)."""

from __future__ import annotations

import datetime as dt

import pytest

from activities.defaults import compliance_defaults_install
from activities.models import Meeting
from tests.browser.conftest import login, screenshot
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Journey!30people"
MAX_INPUTS = 30


class Inputs:
    """Drives the page and counts what a person would do: one tap or one typed field each."""

    def __init__(self, page):
        self.page, self.count, self.log = page, 0, []

    def tap(self, locator) -> None:
        locator.click()
        self.count += 1
        self.log.append("tap")

    def type(self, locator, text: str) -> None:
        locator.fill(text)
        self.count += 1
        self.log.append("type")

    def pick(self, locator, label: str) -> None:
        locator.select_option(label=label)
        self.count += 1
        self.log.append("pick")


def test_secretary_records_a_30_person_general_assembly_from_the_workbench(cast, phone_page):
    compliance_defaults_install()
    user = cast.users["secretary_a"]
    user.set_password(PASSWORD)
    user.save()
    names = [f"党员{i:02d}" for i in range(1, 30)]  # + 甲党员 of the cast = 30 people
    for name in names:
        MemberFactory(name=name, organization=cast.A, roster=dt.date(2020, 1, 1))
    page = phone_page
    login(page, "secretary_a", PASSWORD)
    assert page.url.endswith("/")
    screenshot(page, "ui-journey-01-workbench-phone")

    do = Inputs(page)
    item = page.locator("#wb-compliance .wb-item", has_text="支部党员大会").first
    do.tap(item.locator("a.wb-action"))
    page.wait_for_load_state("networkidle")
    assert page.input_value("select[name=meeting_type]") == "general_assembly"
    assert "应到 30 人" in page.inner_text("#attendance")

    do.type(page.locator("input[name=start_time]"), "14:30")
    do.type(page.locator("input[name=end_time]"), "16:00")
    do.type(page.locator("input[name=title]"), "第四季度支部党员大会")
    do.type(page.locator("input[name=place]"), "三楼党员活动室")
    do.pick(page.locator("select[name=chair]"), "党员01")
    do.pick(page.locator("select[name=recorder]"), "党员02")
    for name, reason in (("党员07", "出差"), ("党员18", "病假")):
        row = page.locator("li.att-row", has_text=name)
        do.tap(row.locator("label:has-text('请假')"))
        do.type(row.locator("input.reason"), reason)
    assert "有表决权实到 28 人" in page.inner_text(".voters-line")
    do.type(page.locator("input[name='res-0-title']"), "同意推荐党员01为优秀共产党员")
    do.type(page.locator("input[name='res-0-votes_for']"), "28")
    do.type(page.locator("textarea[name=minutes]"), "一、传达学习上级会议精神；二、讨论评先评优推荐人选。")
    screenshot(page, "ui-journey-02-form-phone")
    do.tap(page.locator("button[name=finish]"))
    page.wait_for_load_state("networkidle")

    assert "已完成录入" in page.content()
    meeting = Meeting.objects.get()
    assert (meeting.expected_count, meeting.present_count, meeting.leave_count) == (30, 28, 2)
    print(f"inputs from the 工作台: {do.count} ({', '.join(do.log)})")
    assert do.count <= MAX_INPUTS
    assert do.count == 15  # the measured figure (docs/ui.md): keep it from creeping up unnoticed

    page.goto("/")
    assert not page.locator("#wb-compliance .wb-item", has_text="支部党员大会").count()
    screenshot(page, "ui-journey-03-workbench-after-phone")
