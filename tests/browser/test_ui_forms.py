"""Forms in the browser (issue 14.3): a refused form focuses its first faulty field and lists every
fault as a link; the vote block counts the voters present; a date change refreshes the roster in
place; 全部勾选 works without a reload; the meeting form keeps a draft in localStorage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from activities.defaults import compliance_defaults_install
from activities.models import Meeting
from core.dates import today
from members.dues.services.fixings import dues_fixing_create
from members.models import Member
from tests.browser.conftest import login, screenshot
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Forms!Phone2026"


@pytest.fixture
def secretary(cast):
    compliance_defaults_install()
    user = cast.users["secretary_a"]
    user.set_password(PASSWORD)
    user.save()
    for name in ("张明", "李华", "王芳"):
        MemberFactory(name=name, organization=cast.A, roster=dt.date(2020, 1, 1))
    return cast


def test_meeting_form_counts_voters_refreshes_roster_and_points_at_faults(secretary, phone_page):
    cast, page = secretary, phone_page
    MemberFactory(name="新来的", organization=cast.A, roster=today())  # joins the roster today
    login(page, "secretary_a", PASSWORD)
    yesterday = today() - dt.timedelta(days=1)
    page.goto(f"/activities/org/{cast.A.pk}/meetings/new/?type=general_assembly&date={yesterday.isoformat()}")
    line = page.locator(".voters-line").first
    assert "有表决权实到 4 人" in line.inner_text()
    page.locator("li.att-row", has_text="李华").locator("label:has-text('请假')").click()
    assert "有表决权实到 3 人" in line.inner_text()

    # A date change refreshes the roster in place (no navigation: the marker survives).
    page.evaluate("window.__stay = 1")
    page.fill("input[name=title]", "季度党员大会")
    page.fill("input[name=held_on]", today().isoformat())
    page.locator("input[name=held_on]").dispatch_event("change")
    expect(page.locator("input[name=roster_date]")).to_have_value(today().isoformat())
    _htmx_settled(page)
    assert page.evaluate("window.__stay") == 1
    assert "新来的" in page.inner_text("#attendance")
    assert page.input_value("input[name=title]") == "季度党员大会"

    # Refused: the first faulty field is focused and the banner links every fault.
    page.fill("input[name=start_time]", "16:00")
    page.fill("input[name=end_time]", "15:00")
    page.fill("input[name='res-0-title']", "票数过多的决议")
    page.fill("input[name='res-0-votes_for']", "99")
    page.click("button[name=finish]")
    page.wait_for_load_state("networkidle")
    links = page.locator(".msg-error .fault-links a")
    assert links.count() >= 1
    focused = page.evaluate("document.activeElement && document.activeElement.name")
    assert focused in ("end_time", "start_time")
    screenshot(page, "ui-forms-01-refused-phone")
    links.last.click()
    assert page.evaluate("document.activeElement && document.activeElement.name") not in (None, "")
    assert not Meeting.objects.exists()


def _htmx_settled(page) -> None:
    """No roster refresh still on its way (a title's change event fires on blur and asks too)."""
    page.wait_for_function("!document.querySelector('.htmx-request')")
    page.wait_for_load_state("networkidle")


def test_typing_while_the_roster_refresh_is_on_its_way_is_kept(secretary, phone_page):
    """A slow phone network: the secretary changes the date, then types the times and the topic and
    ticks 请假 before the refreshed roster arrives. The refreshed form was rendered from the values
    sent with the request; what was typed meanwhile must survive the swap, and the focus stays."""
    cast, page = secretary, phone_page
    login(page, "secretary_a", PASSWORD)
    yesterday = today() - dt.timedelta(days=1)
    page.goto(f"/activities/org/{cast.A.pk}/meetings/new/?type=general_assembly&date={yesterday.isoformat()}")
    held = []
    page.route("**/meetings/new/**", lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    page.fill("input[name=held_on]", today().isoformat())
    page.locator("input[name=held_on]").dispatch_event("change")
    page.wait_for_function("document.querySelector('.htmx-request') !== null")
    page.fill("input[name=start_time]", "14:30")
    page.fill("input[name=title]", "在路上填写的主题")
    page.locator("li.att-row", has_text="李华").locator("label:has-text('请假')").click()
    page.locator("input[name=place]").focus()
    page.keyboard.type("党员活动室")
    assert held, "the roster refresh was not sent"
    page.unroute("**/meetings/new/**")
    for route in held:
        try:
            route.continue_()
        except PlaywrightError:  # a later change replaced (aborted) this request: hx-sync="this:replace"
            continue
    expect(page.locator("input[name=roster_date]")).to_have_value(today().isoformat())
    _htmx_settled(page)
    assert page.input_value("input[name=start_time]") == "14:30"
    assert page.input_value("input[name=title]") == "在路上填写的主题"
    assert page.input_value("input[name=place]") == "党员活动室"
    assert page.locator("li.att-row", has_text="李华").locator("input[value=leave]").is_checked()
    assert page.evaluate("document.activeElement && document.activeElement.name") == "place"
    assert "有表决权实到 3 人" in page.locator(".voters-line").first.inner_text()  # 4 on the roster, one on leave


def test_meeting_form_draft_survives_a_reload(secretary, phone_page):
    cast, page = secretary, phone_page
    login(page, "secretary_a", PASSWORD)
    url = f"/activities/org/{cast.A.pk}/meetings/new/"
    page.goto(url)
    page.fill("input[name=title]", "断网前填写的主题")
    page.fill("textarea[name=minutes]", "一、学习；二、讨论。")
    page.locator("li.att-row", has_text="王芳").locator("label:has-text('缺席')").click()
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.input_value("input[name=title]") == "断网前填写的主题"
    assert page.input_value("textarea[name=minutes]") == "一、学习；二、讨论。"
    assert page.locator("li.att-row", has_text="王芳").locator("input[value=absent]").is_checked()
    assert page.locator(".draft-note").is_visible()
    screenshot(page, "ui-forms-02-draft-restored-phone")
    page.fill("input[name=start_time]", "14:00")
    page.fill("input[name=end_time]", "15:00")
    page.fill("input[name=place]", "会议室")
    page.locator("li.att-row", has_text="王芳").locator("input.reason").fill("出差")
    page.click("button[name=draft]")
    page.wait_for_load_state("networkidle")
    assert Meeting.objects.filter(title="断网前填写的主题").exists()
    page.goto(url)  # saved: the draft is gone
    assert page.input_value("input[name=title]") == ""
    assert page.locator(".draft-note").count() == 0


def test_dues_check_all_keeps_what_was_typed(secretary, phone_page):
    cast, page = secretary, phone_page
    on = today()
    members = list(Member.objects.filter(organization=cast.A))
    for member in members:
        dues_fixing_create(member=member, year=on.year, category="employed", base=Decimal("5000"), fixed_on=dt.date(on.year, 1, 2))
    login(page, "secretary_a", PASSWORD)
    page.goto(f"/dues/org/{cast.A.pk}/record/")
    first = members[0]
    page.fill(f"input[name=amount_{first.pk}]", "88")
    page.evaluate("window.__stay = 1")
    page.click("[data-check-all=pay]")
    assert page.evaluate("window.__stay") == 1
    assert page.locator("input[name=pay]:checked").count() == len(members)
    assert page.input_value(f"input[name=amount_{first.pk}]") == "88"
    assert page.inner_text("[data-check-all=pay]") == "全部取消"
