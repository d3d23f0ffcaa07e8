"""A branch's compliance page and 组织生活 home list its 党小组s' items, grouped under each 党小组 (#13.4)."""

from __future__ import annotations

from datetime import date

import pytest

from activities.compliance import compliance_items, party_group_items
from organizations.choices import OrgType
from tests.factories import make_org

pytestmark = pytest.mark.django_db


def test_party_group_items_are_the_groups_own_items(cast, today_is):
    today_is(date(2026, 6, 15))
    A2 = make_org("第一党支部第二党小组", OrgType.GROUP, parent=cast.A)
    pairs = party_group_items(branch=cast.A, year=2026)
    assert [group for group, _items in pairs] == [cast.A1, A2]
    for group, items in pairs:
        assert items == compliance_items(organization=group, year=2026)
        assert {i.kind for i in items} == {"group"}
    assert party_group_items(branch=cast.B, year=2026) == []


def test_branch_compliance_page_lists_group_items_under_each_group(cast, today_is):
    today_is(date(2026, 6, 15))
    page = cast.client("secretary_a").get(f"/activities/org/{cast.A.pk}/compliance/?year=2026")
    assert page.status_code == 200
    [group] = page.context["groups"]
    assert group["org"] == cast.A1
    assert [(i.kind, i.period_start) for i in group["current"]] == [("group", date(2026, 6, 1))]
    assert {i.kind for i in group["overdue"]} == {"group"}  # Jan–May, none recorded
    body = page.content.decode()
    heading = body.index("党小组事项")
    assert body.index(cast.A1.name, heading) > heading
    assert f"/activities/org/{cast.A1.pk}/meetings/new/?type=group" in body or "去记录" in body
    # The branch's own 本期事项 stay the branch's: no 党小组会 among them.
    assert all(i.kind != "group" for i in page.context["current"])


def test_group_page_and_branch_without_groups_have_no_group_section(cast, today_is):
    today_is(date(2026, 6, 15))
    client = cast.client("org_admin_p")
    assert client.get(f"/activities/org/{cast.B.pk}/compliance/?year=2026").context["groups"] == []
    assert client.get(f"/activities/org/{cast.A1.pk}/compliance/?year=2026").context["groups"] == []


def test_activities_home_lists_groups_under_their_branch(cast, today_is):
    today_is(date(2026, 6, 15))
    page = cast.client("secretary_a").get("/activities/")
    assert page.status_code == 200
    rows = {org.pk: groups for org, _current, _overdue, _can_change, groups in page.context["rows"]}
    assert cast.A1.pk not in rows  # not a card of its own: under 第一党支部
    [(group, current)] = rows[cast.A.pk]
    assert group == cast.A1
    assert [i.kind for i in current] == ["group"]
    assert "第一党支部第一党小组" in page.content.decode()
