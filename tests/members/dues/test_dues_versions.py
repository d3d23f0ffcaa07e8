"""#17.3 for the yearly dues fixing: a re-fix names the fixing it replaces. On the page a stale
re-fix is refused with what the other person fixed beside what the user typed (kept; saving again
re-applies it); in the API a re-fix needs If-Match (428 without, 412 when re-fixed since)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from members.dues.models import DuesFixing
from members.dues.services.fixings import dues_fixing_create
from tests.api_helpers import if_match

pytestmark = pytest.mark.django_db
YEAR = 2025


def _form(**overrides):
    return {
        "year": str(YEAR),
        "category": "employed",
        "base_mode": "direct",
        "base": "5100",
        "fixed_on": "2025-01-04",
        "note": "",
        "replace": "on",
        **overrides,
    }


def test_17_3_stale_refix_on_the_page_is_refused_and_keeps_what_was_typed(cast):
    member = cast.member_a_record
    first = dues_fixing_create(
        member=member, year=YEAR, category="employed", base=Decimal("3000"), fixed_on=date(YEAR, 1, 3)
    )
    client, url = cast.client("secretary_a"), f"/dues/member/{member.pk}/fix/?year={YEAR}"
    page = client.get(url).content.decode()
    assert f'name="fixing" value="{first.pk}"' in page and 'name="row_version" value="1"' in page
    loaded = {"fixing": str(first.pk), "fixing_year": str(YEAR), "row_version": "1"}
    # A re-fixes with base 6000 (the row is replaced) …
    assert client.post(url, {**_form(base="6000", note="甲核定"), **loaded}).status_code == 302
    by_a = DuesFixing.objects.get(member=member, year=YEAR)
    # … then B re-fixes the copy it loaded before.
    stale = client.post(url, {**_form(base="4500", note="乙核定"), **loaded})
    body = stale.content.decode()
    assert stale.status_code == 409 and "他人已保存" in body
    assert 'value="4500"' in body and 'value="乙核定"' in body  # what B typed is still in the form
    changes = {c["label"]: (c["saved"], c["typed"]) for c in stale.context["conflict"]["changes"]}
    assert changes == {"计算基数（元/月）": ("6000.00", "4500.00"), "备注": ("甲核定", "乙核定")}
    assert f'name="fixing" value="{by_a.pk}"' in body and 'name="row_version" value="1"' in body
    assert DuesFixing.objects.get(member=member, year=YEAR).base == Decimal("6000.00")
    # Saving again from the conflict page re-applies B's figures.
    now = {"fixing": str(by_a.pk), "fixing_year": str(YEAR), "row_version": "1"}
    assert client.post(url, {**_form(base="4500", note="乙核定"), **now}).status_code == 302
    assert DuesFixing.objects.get(member=member, year=YEAR).base == Decimal("4500.00")


def test_17_3_a_fixing_made_meanwhile_is_a_conflict_not_an_overwrite(cast):
    member = cast.member_a_record
    client, url = cast.client("secretary_a"), f"/dues/member/{member.pk}/fix/?year={YEAR}"
    assert 'name="fixing" value="0"' in client.get(url).content.decode()  # none when loaded
    dues_fixing_create(member=member, year=YEAR, category="employed", base=Decimal("3000"), fixed_on=date(YEAR, 1, 3))
    stale = client.post(url, {**_form(base="5100"), "fixing": "0", "fixing_year": str(YEAR), "row_version": "0"})
    assert stale.status_code == 409
    assert DuesFixing.objects.get(member=member, year=YEAR).base == Decimal("3000.00")


def test_17_3_first_fixing_on_the_page_still_works(cast):
    member = cast.member_a_record
    client, url = cast.client("secretary_a"), f"/dues/member/{member.pk}/fix/?year={YEAR}"
    loaded = {"fixing": "0", "fixing_year": str(YEAR), "row_version": "0"}
    assert client.post(url, {**_form(), **loaded}).status_code == 302
    assert DuesFixing.objects.get(member=member, year=YEAR).monthly_amount == Decimal("76.50")


def test_17_3_api_refix_needs_the_current_etag(cast):
    api, member = cast.api("secretary_a"), cast.member_a_record
    body = {"member": member.pk, "year": YEAR, "category": "employed", "base": "3000", "fixed_on": "2025-01-03"}
    created = api.post("/api/v1/dues/fixings/", body, format="json")
    assert created.status_code == 201 and created["ETag"] == f'"duesfixing-{created.json()["id"]}-v1"'
    url = f"/api/v1/dues/fixings/{created.json()['id']}/"
    refix = {**body, "base": "6000", "replace": True}
    assert api.post("/api/v1/dues/fixings/", refix, format="json").status_code == 428
    tag = if_match(api, url)
    assert tag["HTTP_IF_MATCH"] == created["ETag"]
    replaced = api.post("/api/v1/dues/fixings/", refix, format="json", **tag)
    assert replaced.status_code == 201, replaced.json()
    stale = api.post("/api/v1/dues/fixings/", {**refix, "base": "4500"}, format="json", **tag)
    assert stale.status_code == 412 and "已被他人修改" in str(stale.json())
    assert DuesFixing.objects.get(member=member, year=YEAR).base == Decimal("6000.00")
    fresh = {"HTTP_IF_MATCH": replaced["ETag"]}
    assert api.post("/api/v1/dues/fixings/", {**refix, "base": "4500"}, format="json", **fresh).status_code == 201
    assert DuesFixing.objects.get(member=member, year=YEAR).base == Decimal("4500.00")
