"""On a phone, a member sees the unread badge in the header, opens the inbox from it, opens a
reminder, and the badge clears; nothing loads from another host."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

import pytest

from notifications.models import Notification
from notifications.services.notices import notice_send
from notifications.services.runs import reminder_run_inline
from organizations.services import committee_term_start
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Inbox!Phone2026"


def test_member_opens_the_inbox_from_the_header_badge_on_a_phone(cast, phone_page, live_server):
    user = cast.users["member_a"]
    user.set_password(PASSWORD)
    user.save()
    member = cast.member_a_record
    member.joined_on = date(2010, 7, 1)
    member.save()
    reminder_run_inline(on=date(2026, 7, 1))  # 政治生日
    notice_send(
        sender=cast.users["secretary_a"],
        organization=cast.A,
        kind="study_list",
        title="七月学习清单",
        body="1. 学习党章第一章\n2. 参加 7 月 15 日党课",
    )
    assert Notification.objects.filter(recipient=user).count() == 2

    page = phone_page
    foreign: list[str] = []
    live_host = urlparse(live_server.url).netloc
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)

    login(page, "member_a", PASSWORD)
    badge = page.locator("header a.inbox-badge")
    assert badge.is_visible()  # visible without opening the collapsed menu
    assert badge.locator(".inbox-count").inner_text() == "2"
    screenshot(page, "notifications-01-badge-phone")

    badge.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/notifications/")
    body = page.content()
    assert "政治生日快乐" in body and "七月学习清单" in body
    screenshot(page, "notifications-02-inbox-phone")

    page.click("text=七月学习清单")
    page.wait_for_load_state("networkidle")
    assert "学习党章第一章" in page.content()
    assert page.locator("header a.inbox-badge .inbox-count").inner_text() == "1"
    screenshot(page, "notifications-03-notice-phone")

    page.click("header a.inbox-badge")
    page.click("text=全部标为已读")
    page.wait_for_load_state("networkidle")
    assert page.locator("header a.inbox-badge .inbox-count").count() == 0
    screenshot(page, "notifications-04-all-read-phone")
    assert foreign == []


def test_secretary_sees_a_term_reminder_on_a_phone(cast, phone_page):
    user = cast.users["secretary_a"]
    user.set_password(PASSWORD)
    user.save()
    committee_term_start(org=cast.A, elected_on=date(2020, 1, 1))
    reminder_run_inline(on=date(2026, 1, 6))
    page = phone_page
    login(page, "secretary_a", PASSWORD)
    if "/notifications/" not in page.url:
        page.goto("/notifications/")
    page.click("text=任期已于")
    page.wait_for_load_state("networkidle")
    assert "去处理" in page.content()
    screenshot(page, "notifications-05-reminder-phone")
    page.click("text=去处理")
    page.wait_for_load_state("networkidle")
    assert f"/organizations/{cast.A.pk}/" in page.url
