"""#13.13: a reminder that reaches several kinds of recipient is worded to each: the member reads
about their own dues (“您…”), the secretary about the member, by name, and what the branch does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from members.dues.services.fixings import dues_fixing_create
from notifications.models import Notification
from notifications.rules import get_rule
from notifications.scan.context import Candidate
from notifications.services.runs import reminder_run_inline

pytestmark = pytest.mark.django_db


@pytest.fixture
def arrears(cast):
    member = cast.member_a_record
    dues_fixing_create(member=member, year=2025, category="employed", base=Decimal("5100"), fixed_on=date(2025, 1, 5))
    reminder_run_inline(on=date(2025, 4, 1))  # January to March unpaid: 3 months
    return member


def _one(user) -> Notification:
    return Notification.objects.get(recipient=user, rule="dues_arrears_warning")


def test_member_copy_is_addressed_to_the_member(cast, arrears):
    own = _one(cast.users["member_a"])
    assert own.title.startswith("您已有 3 个月党费未交")
    assert own.body.startswith("您自 2025年1月 起累计 3 个月未交纳党费") and "请及时交纳" in own.body
    assert arrears.name not in own.title
    assert own.link == "/members/me/"


def test_secretary_copy_is_about_the_member_and_not_a_request_to_pay(cast, arrears):
    copy = _one(cast.users["secretary_a"])
    assert copy.title == f"党员{arrears.name}已有 3 个月党费未交"
    assert copy.body.startswith(f"党员{arrears.name}自 2025年1月 起累计 3 个月未交纳党费")
    assert "请提醒其按时交纳" in copy.body
    assert "请及时交纳" not in copy.body and "您" not in copy.title + copy.body
    assert copy.link.startswith("/dues/")


def test_every_recipient_kind_of_every_two_audience_rule_gets_its_own_wording():
    candidate = Candidate(
        "dues_arrears_warning",
        None,
        "member",
        1,
        "2025-01",
        "书记看",
        "书记正文",
        "/x",
        member_user_id=7,
        member_title="本人看",
        member_body="本人正文",
        member_link="/me",
    )
    assert candidate.wording_for(7) == ("本人看", "本人正文", "/me")
    assert candidate.wording_for(8) == ("书记看", "书记正文", "/x")
    plain = Candidate("study_pace", None, "member", 1, "2025-01", "标题", "正文", "/y", member_user_id=7)
    assert plain.wording_for(7) == plain.wording_for(8) == ("标题", "正文", "/y")
    assert len(get_rule("dues_arrears_warning").audience) == 2
