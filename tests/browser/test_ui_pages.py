"""Every main page of each role at 390 and 1366 px, in normal and large-text mode (issue 14.2, 14.4,
14.6): no page-level horizontal scroll, no table cell out of the viewport unless its table scrolls in
its own box with the first column fixed, 0 serious/critical axe-core violations. One browser for
the session, one login per role and mode; a screenshot of each page in artifacts/screenshots/.

axe-core comes from npm (package.json devDependency) copied to tests/browser/vendor/ by
``make vendor``; it is injected by the test (CSP bypassed in the test's browser context only) and is
never served to users."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from accounts.models import DisplayPreference
from activities.defaults import compliance_defaults_install
from core.dates import today
from members.development.services import development_applicant_create
from members.dues.services.fixings import dues_fixing_create
from members.models import Member
from tests.browser.conftest import SCREENSHOTS
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Pages!Check2026"
User = get_user_model()
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
VIEWPORTS = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 768}}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Cells past the right edge of the viewport are fine only inside a scrolling box whose first
# column is fixed (position: sticky), with the scroll cue shown.
LAYOUT_JS = """() => {
  const vw = window.innerWidth;
  const out = {pageScroll: document.documentElement.scrollWidth - vw, cells: [], small: []};
  for (const cell of document.querySelectorAll('main td, main th')) {
    const r = cell.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 1) continue;
    const box = cell.closest('.table-wrap');
    const first = cell.parentElement.firstElementChild;
    const ok = box && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
      && getComputedStyle(first).position === 'sticky' && box.classList.contains('is-scrollable');
    if (!ok) out.cells.push(cell.textContent.trim().slice(0, 30));
  }
  for (const el of document.querySelectorAll('main .btn, .mainnav a, .tabbar a, .subnav a, main button, main select, main input:not([type=checkbox]):not([type=radio]):not([type=hidden])')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.height < 43.5 || r.width < 43.5) out.small.push((el.textContent || el.name || el.tagName).trim().slice(0, 20) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return out;
}"""


def _pages(cast) -> dict[str, list[tuple[str, str]]]:
    A, P = cast.A.pk, cast.P.pk
    return {
        "secretary_a": [
            ("workbench", "/"),
            ("activities", "/activities/"),
            ("compliance", f"/activities/org/{A}/compliance/"),
            ("meeting-new", f"/activities/org/{A}/meetings/new/"),
            ("meetings", f"/activities/org/{A}/meetings/"),
            ("members", "/members/"),
            ("dues-month", f"/dues/org/{A}/"),
            ("dues-record", f"/dues/org/{A}/record/"),
            ("dues-arrears", f"/dues/org/{A}/arrears/"),
            ("dues-year", f"/dues/org/{A}/year/"),
            ("development", f"/development/org/{A}/"),
            ("assessments", "/assessments/"),
            ("calendar", "/activities/calendar/"),
            ("inbox", "/notifications/"),
            ("settings", "/notifications/settings/"),
        ],
        "org_admin_p": [
            ("workbench", "/"),
            ("tree", "/organizations/"),
            ("organization", f"/organizations/{P}/"),
            ("dashboard", f"/organizations/{P}/dashboard/"),
            ("rollup", f"/activities/org/{P}/rollup/"),
            ("reports", "/assessments/reports/"),
            ("rectifications", "/assessments/rectifications/"),
            ("ratings", "/assessments/ratings/"),
            ("members", "/members/"),
            ("rules", f"/notifications/rules/{P}/"),
            ("rule-edit", f"/notifications/rules/{P}/dues_collection/"),
            ("deliveries", f"/notifications/rules/{P}/deliveries/"),
            ("addresses", f"/notifications/rules/{P}/addresses/"),
            ("credentials", f"/notifications/rules/{P}/credentials/"),
            ("notice-new", "/notifications/notices/new/"),
        ],
        "member_a": [
            ("workbench", "/"),
            ("me", "/members/me/"),
            ("dues-mine", "/dues/mine/"),
            ("study", "/activities/my/study/"),
            ("calendar", "/activities/calendar/"),
            ("publicity", "/assessments/publicity/"),
            ("inbox", "/notifications/"),
        ],
        "auditor_p": [
            ("workbench", "/"),
            ("audit", "/audit/"),
            ("tree", "/organizations/"),
        ],
    }


@pytest.fixture
def data(cast):
    compliance_defaults_install()
    for name in ("张明", "李华", "王芳", "赵强", "孙丽", "周建国"):
        MemberFactory(name=name, organization=cast.A, roster=dt.date(2020, 1, 1))
    last_year = today().year - 1
    for member in Member.objects.filter(organization=cast.A)[:3]:
        dues_fixing_create(
            member=member, year=last_year, category="employed", base=Decimal("5100"), fixed_on=dt.date(last_year, 1, 5)
        )
    development_applicant_create(
        organization=cast.A, name="丁申请人", sex="female", birth_date=dt.date(2000, 1, 1),
        applied_on=today() - dt.timedelta(days=60),
    )
    for user in cast.users.values():
        user.set_password(PASSWORD)
        user.save()
    return cast


def _context(browser, live_server, width: str):
    context = browser.new_context(
        viewport=VIEWPORTS[width], locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url, bypass_csp=True
    )
    context.add_init_script(path=str(AXE))  # the test's copy of axe-core, in every page of this context only
    return context


def _check(page, label: str) -> list[str]:
    problems = []
    layout = page.evaluate(LAYOUT_JS)
    if layout["pageScroll"] > 1:
        problems.append(f"{label}: page scrolls sideways by {layout['pageScroll']}px")
    if layout["cells"]:
        problems.append(f"{label}: cells out of view without a fixed first column: {layout['cells'][:5]}")
    if layout["small"]:
        problems.append(f"{label}: tap targets under 44px: {layout['small'][:6]}")
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [n["target"][0] for n in v["nodes"][:3]]
            problems.append(f"{label}: axe {v['id']} ({v['impact']}) {targets}")
    return problems


def _visit_all(browser, live_server, who: str, pages: list[tuple[str, str]]) -> list[str]:
    """One login per text mode; each page at 390 then 1366 px (reloaded, so the page lays itself out
    for that width)."""
    problems: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    user = User.objects.get(username=who)
    for mode in ("normal", "large"):
        DisplayPreference.objects.update_or_create(user=user, defaults={"large_text": mode == "large"})
        context = _context(browser, live_server, "390")
        page = context.new_page()
        page.set_default_timeout(20000)
        page.goto("/login/")
        page.fill("input[name=username]", who)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        for slug, url in pages:
            for width in VIEWPORTS:
                page.set_viewport_size(VIEWPORTS[width])
                response = page.goto(url, wait_until="load")
                label = f"{who} {slug} {width} {mode}"
                assert response is not None and response.status == 200, f"{label}: HTTP {response and response.status}"
                assert (page.locator("html.large-text").count() == 1) == (mode == "large"), label
                problems += _check(page, label)
                page.screenshot(path=str(SCREENSHOTS / f"ui-{who}-{slug}-{width}-{mode}.png"), full_page=True)
        context.close()
    return problems


@pytest.mark.parametrize("who", ["secretary_a", "org_admin_p", "member_a", "auditor_p"])
def test_main_pages_fit_the_screen_and_pass_axe(data, browser, live_server, who):
    if not AXE.exists():
        pytest.skip("tests/browser/vendor/axe.min.js missing: run `make vendor`")
    problems = _visit_all(browser, live_server, who, _pages(data)[who])
    assert problems == [], "\n".join(problems)


def test_login_page_fits_and_passes_axe(browser, live_server):
    problems = []
    for width in VIEWPORTS:
        context = _context(browser, live_server, width)
        page = context.new_page()
        page.goto("/login/")
        assert re.search("党建工作管理系统", page.inner_text("h1"))
        assert page.locator("link[rel=icon]").count() == 1
        problems += _check(page, f"login {width}")
        page.screenshot(path=str(SCREENSHOTS / f"ui-login-{width}.png"), full_page=True)
        context.close()
    assert problems == [], "\n".join(problems)
