"""Star rating and inspection reports in the browser: a branch secretary fills in the
self-assessment on a phone and submits it; the committee's org_admin reviews it on a desktop,
generates last quarter's reports and watches the progress; nothing loads from another host."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from assessments.models import InspectionReport, Rating
from assessments.services.ratings import round_open
from tests.assessments.helpers import active_scheme, ids
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Star!Rating2026"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_self_assessment_review_and_reports(cast, phone_page, desktop_page, live_server):
    for name in ("secretary_a", "org_admin_p"):
        cast.users[name].set_password(PASSWORD)
        cast.users[name].save()
    scheme = active_scheme(cast.P)
    round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    rating = Rating.objects.get(organization=cast.A)
    i = ids(scheme)
    live_host = urlparse(live_server.url).netloc
    foreign: list[str] = []

    page = phone_page
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)
    login(page, "secretary_a", PASSWORD)
    page.click("label.nav-toggle-label")
    page.click("nav.mainnav >> text=考评督查")
    page.wait_for_load_state("networkidle")
    page.click(".subnav >> text=星级评定")
    page.click(f"a[href='/assessments/ratings/{rating.pk}/']")
    page.wait_for_load_state("networkidle")
    page.fill(f"input[name=points-{i['M1']}]", "8")
    page.fill(f"input[name=note-{i['M1']}]", "活动室每周开放")
    page.fill(f"input[name=points-{i['J1']}]", "2")
    page.fill(f"input[name=points-{i['D1']}]", "0")
    page.fill(f"input[name=points-{i['V1']}]", "0")
    screenshot(page, "assessments-01-self-assessment-phone")
    page.click("button[value=self_score]")
    page.wait_for_load_state("networkidle")
    assert "自评已保存" in page.content()
    page.click("button[value=submit]")
    page.wait_for_load_state("networkidle")
    assert "待上级审核" in page.content()
    screenshot(page, "assessments-02-submitted-phone")

    page = desktop_page
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)
    login(page, "org_admin_p", PASSWORD)
    page.goto(f"/assessments/ratings/{rating.pk}/")
    page.fill(f"input[name=points-{i['M1']}]", "6")
    page.click("button[value=review]")
    page.wait_for_load_state("networkidle")
    assert "须填写理由" in page.content()
    page.fill(f"input[name=reason-{i['M1']}]", "活动记录不全")
    page.click("button[value=review]")
    page.wait_for_load_state("networkidle")
    assert "审核分数已保存" in page.content()
    screenshot(page, "assessments-03-review-desktop")

    page.goto("/assessments/reports/")
    page.select_option("select[name=organization]", str(cast.P.pk))
    page.fill("input[name=year]", "2026")
    page.select_option("select[name=quarter]", "1")
    page.click("button:has-text('生成')")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("text=已生成")
    assert "4</strong> / 4 份" in page.content()
    screenshot(page, "assessments-04-report-progress-desktop")
    page.goto("/assessments/reports/?year=2026&quarter=1")
    assert page.locator("a:has-text('PDF')").count() == 4
    screenshot(page, "assessments-05-report-list-desktop")
    assert InspectionReport.objects.filter(status="done").count() == 4
    assert foreign == []


def test_member_reads_the_publicity_and_comments_on_a_phone(cast, phone_page, live_server):
    """A party member opens 考评督查 → 公示 on a phone and leaves an opinion."""
    from datetime import timedelta

    from assessments.models import Rating, RatingComment
    from assessments.services.ratings import rating_self_score, rating_start_publicity, rating_submit, round_open
    from core.dates import today
    from tests.assessments.helpers import active_scheme, ids

    scheme = active_scheme(cast.P)
    round_ = round_open(organization=cast.P, scheme=scheme, year=2025, user=cast.users["org_admin_p"])
    i = ids(scheme)
    for org, who in ((cast.A, "secretary_a"), (cast.B, "secretary_b")):
        rating = Rating.objects.get(round=round_, organization=org)
        scores = {
            i["M1"]: {"points": "8"},
            i["J1"]: {"points": "2"},
            i["D1"]: {"points": "0"},
            i["V1"]: {"points": "0"},
        }
        rating_self_score(rating=rating, user=cast.users[who], scores=scores)
        rating_submit(rating=rating, user=cast.users[who])
        rating_start_publicity(rating=rating, user=cast.users["org_admin_p"], start=today() - timedelta(days=1))
    user = cast.users["member_a"]
    user.set_password("Br0wser!pass")
    user.save()
    page = phone_page
    login(page, "member_a", "Br0wser!pass")
    page.goto(f"{live_server.url}/assessments/")
    page.click("text=查看公示、提意见")
    page.wait_for_load_state("networkidle")
    assert "第一党支部" in page.content() and "第二党支部" in page.content()
    page.fill("textarea >> nth=1", "第二党支部活动扎实，同意评定")
    page.click("button:has-text('提交意见') >> nth=1")
    page.wait_for_load_state("networkidle")
    assert "已提交对" in page.content()
    screenshot(page, "assessments-publicity-member-phone")
    assert RatingComment.objects.filter(author=user).count() == 1
