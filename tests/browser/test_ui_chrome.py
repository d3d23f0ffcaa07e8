"""Page chrome in the browser (issue 14.2, 14.5): a long organization select narrows as one types;
printed links are absolute with PB_REPORT_SITE_URL; the tab bar shows on the phone only."""

from __future__ import annotations

import pytest
from django.test import override_settings

from organizations.choices import OrgType
from tests.browser.conftest import login, screenshot
from tests.factories import make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Chrome!Check2026"


def test_long_select_is_a_searchable_picker_and_print_links_are_absolute(cast, phone_page):
    for i in range(31):
        make_org(f"第{i + 3:02d}党支部", OrgType.BRANCH, parent=cast.P)
    user = cast.users["org_admin_p"]
    user.set_password(PASSWORD)
    user.save()
    page = phone_page
    login(page, "org_admin_p", PASSWORD)
    assert page.locator("nav.tabbar").is_visible()
    with override_settings(PB_REPORT_SITE_URL="https://dangjian.example.gov.cn"):
        page.goto("/assessments/reports/")
        search = page.locator("input.picker-search").first
        assert search.is_visible()
        search.fill("第17")
        select = page.locator("select[name=organization]")
        chosen = select.evaluate("s => s.options[s.selectedIndex].text")
        assert chosen == "第17党支部"
        visible = select.evaluate("s => Array.from(s.options).filter(o => !o.hidden).map(o => o.text)")
        assert visible == ["第17党支部"] or all("第17" in t or t.startswith("—") for t in visible)
        screenshot(page, "ui-chrome-01-picker-phone")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        href = page.locator("main a[href='/assessments/']").first.get_attribute("data-print-href")
        assert href == "https://dangjian.example.gov.cn/assessments/"
    page.set_viewport_size({"width": 1366, "height": 768})
    assert not page.locator("nav.tabbar").is_visible()
