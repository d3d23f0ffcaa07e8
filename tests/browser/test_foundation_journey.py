"""A secretary logs in on a phone and opens their branch; nothing loads from another host."""

from datetime import date
from urllib.parse import urlparse

import pytest

from organizations import services
from organizations.choices import PositionCode
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretary_opens_branch_on_phone(cast, phone_page, live_server):
    user = cast.users["secretary_a"]
    user.set_password("Br0wser!pass")
    user.save()
    term = services.committee_term_start(org=cast.A, elected_on=date(2024, 3, 1))
    services.position_assign(
        term=term, position=PositionCode.SECRETARY, person_name="王书记", start_on=date(2024, 3, 1)
    )
    page = phone_page
    foreign = []
    live_host = urlparse(live_server.url).netloc
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)

    login(page, "secretary_a", "Br0wser!pass")
    assert "我负责的党组织" in page.content()
    screenshot(page, "foundation-01-home-phone")
    page.click("text=第一党支部")
    page.wait_for_load_state("networkidle")
    body = page.content()
    assert "第一党支部" in body and "王书记" in body and "第一党支部第一党小组" in body
    screenshot(page, "foundation-02-branch-phone")
    # the navigation collapses behind a menu button on a phone
    page.click("label.nav-toggle-label")
    assert page.is_visible("nav.mainnav >> text=党组织")
    assert foreign == []


def test_wrong_password_shows_chinese_error(cast, phone_page):
    login(phone_page, "secretary_a", "wrong-password")
    assert "用户名或密码不正确" in phone_page.content()


def test_org_admin_pages_and_searches_child_organizations_on_phone(cast, phone_page, live_server):
    """A committee with more children than one page: 50 at a time, pager and a name search."""
    from organizations.choices import OrgType
    from tests.factories import make_org

    for i in range(55):
        make_org(f"第{i + 3:02d}党支部", OrgType.BRANCH, parent=cast.P)
    user = cast.users["org_admin_p"]
    user.set_password("Br0wser!pass")
    user.save()
    page = phone_page
    login(page, "org_admin_p", "Br0wser!pass")
    page.goto(f"{live_server.url}/organizations/{cast.P.pk}/")
    body = page.content()
    assert "共 57 个" in body and "第 1 / 2 页" in body
    page.fill("input[name=q]", "第07")
    page.click("button:has-text('查找')")
    page.wait_for_load_state("networkidle")
    assert "共 1 个" in page.content() and "第07党支部" in page.content()
    screenshot(page, "foundation-03-children-search-phone")
    page.click("text=清除")
    page.wait_for_load_state("networkidle")
    page.click("text=下一页")
    page.wait_for_load_state("networkidle")
    assert "第 2 / 2 页" in page.content()
    screenshot(page, "foundation-04-children-page2-phone")
