"""An organization department opens the dashboard on a desktop and on a phone, drills into a child
organization and into a list; the charts draw from the locally served ECharts, nothing loads from
another host."""

from __future__ import annotations

import random
from datetime import date, timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from activities.choices import MeetingStatus, MeetingType
from activities.models import Meeting, MeetingCredit
from core.dates import today
from dashboard.facts import facts_rebuild
from demo.seed import DEMO_PASSWORD, seed_demo
from organizations.choices import BRANCH_TYPES, OrgType
from organizations.models import Organization
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _year_of_meetings(seed: int = 7) -> None:
    rng = random.Random(seed)
    on = today()
    now = timezone.now()
    meetings = []
    for org in Organization.objects.filter(org_type__in=list(BRANCH_TYPES) + [OrgType.COMMITTEE]):
        for month in range(1, on.month + 1):
            kinds = (
                [MeetingType.THEME_DAY, MeetingType.COMMITTEE]
                if org.org_type != OrgType.COMMITTEE
                else [MeetingType.COMMITTEE]
            )
            if month % 3 == 0 and org.org_type != OrgType.COMMITTEE:
                kinds += [MeetingType.GENERAL_ASSEMBLY, MeetingType.LECTURE]
            for kind in kinds:
                held = date(on.year, month, rng.randint(1, 28))
                if held > on or rng.random() < 0.2:
                    continue
                meetings.append(
                    Meeting(
                        organization=org,
                        meeting_type=kind,
                        held_on=held,
                        title=f"{month}月会议",
                        status=MeetingStatus.FINAL,
                        finalized_at=now,
                    )
                )
    Meeting.objects.bulk_create(meetings)
    MeetingCredit.objects.bulk_create(
        MeetingCredit(
            meeting=m,
            organization_id=m.organization_id,
            kind=m.meeting_type,
            held_on=m.held_on,
            recorded_on=min(on, m.held_on + timedelta(days=rng.choice([0, 1, 3, 40]))),
        )
        for m in Meeting.objects.all()
    )


def _default_rules() -> None:
    """Transactional browser tests truncate every table, including the rules a data migration loads."""
    import importlib

    from django.apps import apps

    importlib.import_module("activities.migrations.0002_default_compliance_rules").forwards(apps, None)


@pytest.fixture
def demo_data():
    _default_rules()
    seed_demo(n_orgs=60, n_members=1200, seed=3)
    _year_of_meetings()
    facts_rebuild()


def _watch_foreign(page, live_server) -> list[str]:
    foreign: list[str] = []
    host = urlparse(live_server.url).netloc
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (host, "") else None)
    return foreign


def _charts_drawn(page) -> int:
    return page.evaluate("document.querySelectorAll('[data-chart] canvas').length")


def test_org_admin_dashboard_desktop_drill_down(demo_data, desktop_page, live_server):
    page = desktop_page
    foreign = _watch_foreign(page, live_server)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, "orgadmin", DEMO_PASSWORD)
    root = Organization.objects.get(depth=1)
    page.goto(f"/organizations/{root.pk}/dashboard/")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 6")
    assert "统计看板" in page.content() and "党员结构" in page.content()
    assert _charts_drawn(page) >= 6
    screenshot(page, "dashboard-01-root-desktop")

    # a child organization's dashboard from the children table
    child = Organization.objects.filter(depth=2).order_by("path").first()
    page.click(f"#children a[href^='/organizations/{child.pk}/dashboard/']")
    page.wait_for_load_state("networkidle")
    assert str(child) in page.inner_text("h1")
    page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 5")
    screenshot(page, "dashboard-02-child-desktop")

    # a number → the list behind it
    page.click("#pipeline a[href*='metric=stage&value=applicant']")
    page.wait_for_load_state("networkidle")
    assert "入党申请人" in page.inner_text("h1")
    assert page.locator("table.table tbody tr").count() >= 1
    screenshot(page, "dashboard-03-list-desktop")
    assert foreign == [] and errors == []


def test_org_admin_dashboard_on_phone(demo_data, phone_page, live_server):
    page = phone_page
    foreign = _watch_foreign(page, live_server)
    login(page, "orgadmin", DEMO_PASSWORD)
    root = Organization.objects.get(depth=1)
    page.goto(f"/organizations/{root.pk}/dashboard/")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 6")
    # charts fit the 390px screen; wide tables scroll inside their box, not the page
    widths = page.evaluate("[...document.querySelectorAll('[data-chart]')].map(el => el.getBoundingClientRect().right)")
    assert max(widths) <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    screenshot(page, "dashboard-04-root-phone")
    child = Organization.objects.filter(depth=2).order_by("path").first()
    page.click(f"#children a[href^='/organizations/{child.pk}/dashboard/']")
    page.wait_for_load_state("networkidle")
    assert str(child) in page.inner_text("h1")
    screenshot(page, "dashboard-05-child-phone")
    assert foreign == []
