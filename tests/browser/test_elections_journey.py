"""换届选举 on a phone (390×844): the secretary opens the election from the branch, the 党委's
org_admin approves each step on their phone, the 选举大会 and its count are entered, and the new
committee is on file. Screenshots go to artifacts/screenshots/ (elections-*)."""

from __future__ import annotations

from datetime import date

import pytest

from activities.defaults import compliance_defaults_install
from activities.elections.models import Candidate, Election, ElectionStage
from core.dates import add_months, add_years, today
from organizations import services as org_services
from organizations.models import CommitteeTerm
from tests.browser.conftest import PHONE, login, screenshot
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Br0wser!pass"


@pytest.fixture(autouse=True)
def default_rules(db):
    compliance_defaults_install()


def _submit(page, form_selector: str) -> None:
    page.locator(f"{form_selector} button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


def _no_overflow(page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_election_from_reminder_to_new_committee_on_phone(cast, browser, live_server):
    on = today()
    org_services.committee_term_start(org=cast.A, elected_on=add_months(add_years(on, -3), 1))
    names = ["张明", "李华", "王芳", "赵强", "刘洋", "陈静", "杨帆", "周丽"]
    for name in names:
        MemberFactory(name=name, organization=cast.A, roster=date(2020, 1, 1))
    for who in ("secretary_a", "org_admin_p"):
        cast.users[who].set_password(PASSWORD)
        cast.users[who].save()
    pages = {}
    for who in ("secretary_a", "org_admin_p"):
        context = browser.new_context(
            viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url
        )
        pages[who] = context.new_page()
        pages[who].set_default_timeout(15000)
        login(pages[who], who, PASSWORD)
    sec, upper = pages["secretary_a"], pages["org_admin_p"]

    # The org_admin's list shows the branch whose term ends within 6 months.
    upper.goto("/activities/elections/")
    assert cast.A.name in upper.locator("text=应启动换届").locator("..").inner_text()
    screenshot(upper, "elections-01-admin-list-due-phone")

    # 1. The secretary opens the election: seats, with the rules spelled out.
    sec.goto(f"/activities/org/{cast.A.pk}/election/")
    assert "有选举权的正式党员（不含预备党员、受留党察看或停止党员权利的党员）现有 9 名" in sec.inner_text("body")
    _no_overflow(sec)
    screenshot(sec, "elections-02-open-phone")
    sec.fill("input[name=committee_seats]", "5")
    _submit(sec, "form.form")
    election = Election.objects.get()
    detail = f"/activities/elections/{election.pk}/"
    assert "下一步：向上级党组织报送换届请示" in sec.inner_text("body")
    screenshot(sec, "elections-03-next-step-request-phone")
    sec.fill("input[name=request_no]", "一支〔2026〕1号")
    _submit(sec, "#step form")
    assert "等待上级党组织批复" in sec.inner_text("body")

    # 2. The 党委 approves the 请示.
    upper.goto(detail)
    upper.fill("input[name=approval_no]", "党委〔2026〕8号")
    _submit(upper, "#step form")

    # 3. Candidates: 5 first refused by the 差额 rule, then 6.
    sec.goto(detail)
    assert "委员候选人至少 6 名" in sec.inner_text("body")
    boxes = sec.locator("input[name=cand_committee]")
    for i in range(5):
        boxes.nth(i).check()
    _submit(sec, "#step form:has(input[value=candidates])")
    _submit(sec, "#step form:has(input[value=candidates_submit])")
    assert "少于差额要求的 6 名" in sec.locator("[role=alert]").inner_text()
    screenshot(sec, "elections-04-candidates-refused-phone")
    sec.locator("input[name=cand_committee]").nth(5).check()
    _submit(sec, "#step form:has(input[value=candidates])")
    _submit(sec, "#step form:has(input[value=candidates_submit])")
    upper.goto(detail)
    upper.fill("input[name=approval_no]", "党委〔2026〕9号")
    _submit(upper, "#step form")

    # 4. The 选举大会: everyone present (the default), then one round of votes.
    sec.goto(detail)
    _no_overflow(sec)
    screenshot(sec, "elections-05-assembly-phone")
    _submit(sec, "#step form")
    assert "实到 9 人" in sec.inner_text("body")
    votes = [9, 8, 8, 7, 6, 2]
    sec.fill("input[name=ballots_returned]", "9")
    for candidate, v in zip(Candidate.objects.filter(election=election).order_by("order"), votes, strict=True):
        sec.fill(f"input[name=for_{candidate.pk}]", str(v))
        sec.fill(f"input[name=against_{candidate.pk}]", str(9 - v))
    _no_overflow(sec)
    screenshot(sec, "elections-06-ballot-entry-phone")
    _submit(sec, "#step form")
    assert "下一步：召开新一届委员会第一次会议" in sec.inner_text("body")
    screenshot(sec, "elections-07-count-and-officers-phone")

    # 5. The committee's first meeting, the report, the approval.
    sec.fill("input[name=secretary_votes]", "5")
    _submit(sec, "#step form")
    _submit(sec, "#step form")  # 报告上级 (today)
    upper.goto(detail)
    assert "下一步：等待上级党组织批复选举结果" in upper.inner_text("body")
    upper.fill("input[name=approval_no]", "党委〔2026〕12号")
    _submit(upper, "#step form")
    assert "新一届委员会已建立（第2届" in upper.inner_text("body")
    screenshot(upper, "elections-08-done-phone")
    upper.goto("/activities/elections/")
    screenshot(upper, "elections-09-admin-list-completed-phone")

    election.refresh_from_db()
    assert election.stage == ElectionStage.COMPLETED
    term = CommitteeTerm.objects.get(organization=cast.A, ended_on__isnull=True)
    assert term.number == 2 and term.positions.count() == 5
    for page in pages.values():
        page.context.close()
