"""A branch secretary, on a phone, records this month's 党费 for the branch on one screen and sees the
collection rate update; nothing loads from another host."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlparse

import pytest

from core.dates import today
from members.dues.models import DuesMonth
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from tests.browser.conftest import login, screenshot
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Dues!Phone2026"


def test_secretary_records_a_month_for_the_branch_on_a_phone(cast, phone_page, live_server):
    user = cast.users["secretary_a"]
    user.set_password(PASSWORD)
    user.save()
    on = today()
    month = on.replace(day=1)
    members = [cast.member_a_record] + [
        MemberFactory(organization=cast.A, name=name) for name in ("丙建国", "丁秀英", "戊志强")
    ]
    for member, base in zip(members, ("5100", "4900", "3000", "12000"), strict=True):
        dues_fixing_create(member=member, year=on.year, category="employed", base=Decimal(base), fixed_on=date(on.year, 1, 2))
    dues_payment_record(member=members[0], months=[month], paid_on=on)  # 1 of 4 already paid

    page = phone_page
    foreign = []
    live_host = urlparse(live_server.url).netloc
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)

    login(page, "secretary_a", PASSWORD)
    page.click("label.nav-toggle-label")
    page.click("nav.mainnav >> text=党费")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("[data-testid=rate]") == "25.0%"
    screenshot(page, "dues-01-month-before-phone")

    page.click(f"text=登记{on.month}月缴纳")
    page.wait_for_load_state("networkidle")
    assert page.locator("ul.pay-list li").count() == 3
    page.check(f"input[name=pay][value='{members[1].pk}']")
    page.check(f"input[name=pay][value='{members[2].pk}']")
    page.fill(f"input[name=amount_{members[2].pk}]", "20")  # 自愿多交 (voluntary more than 15.00)
    screenshot(page, "dues-02-record-phone")
    page.click("button:has-text('提交登记')")
    page.wait_for_load_state("networkidle")

    body = page.content()
    assert "已登记 2 人" in body and "收缴率 75.0%（3/4）" in body
    assert page.inner_text("[data-testid=rate]") == "75.0%"
    screenshot(page, "dues-03-month-after-phone")
    paid = dict(DuesMonth.objects.filter(month=month, paid_on__isnull=False).values_list("member__name", "amount_paid"))
    assert paid == {"甲党员": Decimal("76.50"), "丙建国": Decimal("49.00"), "丁秀英": Decimal("20.00")}

    # a wrong amount comes back with the secretary's input and a Chinese message, nothing saved
    page.click(f"text=登记{on.month}月缴纳")
    page.wait_for_load_state("networkidle")
    page.check(f"input[name=pay][value='{members[3].pk}']")
    page.fill(f"input[name=amount_{members[3].pk}]", "-1")
    page.click("button:has-text('提交登记')")
    page.wait_for_load_state("networkidle")
    assert "不能为负数" in page.content() and page.input_value(f"input[name=amount_{members[3].pk}]") == "-1"
    screenshot(page, "dues-04-record-error-phone")
    assert DuesMonth.objects.filter(month=month, paid_on__isnull=False).count() == 3
    assert foreign == []
