"""A branch secretary, on a phone, registers a member (first with a mistyped ID number), sees the
record masked, and finds the member in the list; nothing loads from another host."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

import pytest

from audit.models import AuditEvent
from members.models import Member
from tests.browser.conftest import login, screenshot
from tests.member_helpers import make_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Members!Phone2026"


def test_secretary_registers_a_member_on_a_phone(cast, phone_page, live_server):
    user = cast.users["secretary_a"]
    user.set_password(PASSWORD)
    user.save()
    number = make_id(date(1990, 5, 20), male=False, seq=88)
    page = phone_page
    foreign = []
    live_host = urlparse(live_server.url).netloc
    page.on("request", lambda req: foreign.append(req.url) if urlparse(req.url).netloc not in (live_host, "") else None)

    login(page, "secretary_a", PASSWORD)
    page.click("label.nav-toggle-label")
    page.click("nav.mainnav >> text=党员")
    page.wait_for_load_state("networkidle")
    assert "甲党员" in page.content()
    page.click("text=登记党员")
    page.fill("input[name=name]", "孙晓梅")
    page.select_option("select[name=sex]", "female")
    page.fill("input[name=id_number]", number[:-1] + ("0" if number[-1] != "0" else "1"))  # a typo
    page.fill("input[name=birth_date]", "1990-05-20")
    page.select_option("select[name=organization]", str(cast.A.pk))
    page.select_option("select[name=stage]", "full")
    page.fill("input[name=joined_on]", "2015-07-01")
    page.fill("input[name=full_on]", "2016-07-01")
    page.fill("input[name=phone]", "13912345678")
    page.click("button:has-text('保存')")
    page.wait_for_load_state("networkidle")
    assert "校验位不正确" in page.content()
    assert page.input_value("input[name=name]") == "孙晓梅"  # the form keeps what was typed
    screenshot(page, "members-01-form-error-phone")

    page.fill("input[name=id_number]", number)
    page.click("button:has-text('保存')")
    page.wait_for_load_state("networkidle")
    body = page.content()
    assert "已登记党员 孙晓梅" in body
    assert f"{number[:2]}{'*' * 14}{number[-2:]}" in body and number not in body and "13912345678" not in body
    screenshot(page, "members-02-detail-phone")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#id-number >> text=查看完整号码")
    page.wait_for_selector(".revealed")
    assert number in page.inner_text("#id-number")
    assert AuditEvent.objects.filter(event="view_full_id").count() == 1

    page.goto("/members/?q=孙")
    assert "孙晓梅" in page.content() and "甲党员" not in page.content()
    page.goto("/members/")
    screenshot(page, "members-03-list-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    assert Member.objects.get(name="孙晓梅").decrypt_id_number() == number
    assert foreign == []
