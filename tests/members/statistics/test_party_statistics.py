"""#15.3 年度党内统计: the balance identity (年初 + 增加 − 减少 = 年末) over random changes made
through the services (admissions, transfers in and out, deaths, 停止党籍, restorations,
expulsions), checked against an independent model of who belongs where, for the 党委 and each
branch; the API (JSON, XLSX) and the page."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from activities.selectors import organization_roster_on
from members.choices import MembershipStatus, TransferKind
from members.discipline.services import member_sanction_record, member_status_change
from members.models import Member
from members.services import (
    member_create,
    member_create_with_transfer,
    transfer_accept,
    transfer_complete_outgoing,
    transfer_issue,
)
from members.statistics.selectors import party_statistics
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
YEAR = 2025
START, END = date(YEAR - 1, 12, 31), date(YEAR, 12, 31)


class Model:
    """Who is where, in which standing, as the test changes it (independent of the code under test)."""

    def __init__(self, cast):
        self.cast = cast
        self.where: dict[int, str] = {}  # member id → "A" / "B"
        self.status: dict[int, str] = {}
        self.events: dict[str, Counter] = {"P": Counter(), "A": Counter(), "B": Counter()}

    def add(self, member, branch):
        self.where[member.pk] = branch
        self.status[member.pk] = "normal"

    def counted(self, branch=None):
        return {m for m, b in self.where.items() if self.status[m] == "normal" and (branch is None or b == branch)}

    def event(self, branch, kind, also_parent=True):
        self.events[branch][kind] += 1
        if also_parent:
            self.events["P"][kind] += 1


def _new(cast, branch, name, joined, **extra):
    org = getattr(cast, branch)
    return member_create(
        organization=org, name=name, sex="female" if len(name) % 2 else "male", birth_date=date(1990, 5, 5),
        stage="probationary", joined_on=joined, recorded_by=cast.users["org_admin_p"], **extra,
    )  # fmt: skip


def _play(cast, seed: int) -> Model:
    rng = random.Random(seed)
    model = Model(cast)
    admin = cast.users["org_admin_p"]
    model.add(cast.member_a_record, "A")
    model.add(cast.member_b_record, "B")
    for i in range(8):  # members since before the year
        for branch in "AB":
            member = MemberFactory(name=f"老{branch}{i}", organization=getattr(cast, branch), roster=date(2015, 1, 1))
            model.add(member, branch)
    day = date(YEAR, 1, 3)
    for step in range(40):
        day += timedelta(days=rng.randint(1, 8))
        if day > date(YEAR, 12, 30):
            break
        op = rng.choice(["admit", "admit", "in_external", "move", "out_external", "death", "suspend", "restore", "expel"])
        branch = rng.choice("AB")
        counted = sorted(model.counted(branch))
        if op == "admit":
            member = _new(cast, branch, f"新{seed}{step}", day)
            model.add(member, branch)
            model.event(branch, "develop")
        elif op == "in_external":
            member = member_create_with_transfer(
                organization=getattr(cast, branch), user=admin,
                incoming={"external_organization": "外省某支部", "letter_number": f"L{step}", "issued_on": day,
                          "received_on": day},
                name=f"入{seed}{step}", sex="male", birth_date=date(1980, 1, 1), stage="full",
                joined_on=date(2005, 1, 1), full_on=date(2006, 1, 1),
            )  # fmt: skip
            model.add(member, branch)
            model.event(branch, "transfer_in")
        elif op == "move" and counted:
            member = Member.objects.get(pk=rng.choice(counted))
            other = "B" if branch == "A" else "A"
            transfer = transfer_issue(
                member=member, user=admin, kind=TransferKind.INTERNAL, issued_on=day, to_organization=getattr(cast, other)
            )
            transfer_accept(transfer=transfer, user=admin, on=day)
            model.where[member.pk] = other
            model.event(branch, "transfer_out", also_parent=False)
            model.event(other, "transfer_in", also_parent=False)
        elif op == "out_external" and counted:
            member = Member.objects.get(pk=rng.choice(counted))
            transfer = transfer_issue(
                member=member, user=admin, kind=TransferKind.OUTGOING, issued_on=day,
                external_organization="外省某支部", letter_number=f"O{step}", dues_paid_until=date(YEAR, 1, 1),
            )  # fmt: skip
            transfer_complete_outgoing(transfer=transfer, user=admin, receipt_on=day)
            model.status[member.pk] = "gone"
            model.event(branch, "transfer_out")
        elif op == "death" and counted:
            member = Member.objects.get(pk=rng.choice(counted))
            member_status_change(member=member, status="deceased", on=day, recorded_by=admin)
            model.status[member.pk] = "gone"
            model.event(branch, "death")
        elif op == "suspend" and counted:
            member = Member.objects.get(pk=rng.choice(counted))
            member_status_change(member=member, status="suspended", on=day, reason="失联满六个月", recorded_by=admin)
            model.status[member.pk] = "suspended"
            model.event(branch, "suspend")
        elif op == "restore":
            suspended = sorted(m for m, s in model.status.items() if s == "suspended" and model.where[m] == branch)
            if suspended:
                member = Member.objects.get(pk=rng.choice(suspended))
                member_status_change(member=member, status="normal", on=day, recorded_by=admin)
                model.status[member.pk] = "normal"
                model.event(branch, "restore")
        elif op == "expel" and counted:
            member = Member.objects.get(pk=rng.choice(counted))
            member_sanction_record(
                member=member, kind="expulsion", decided_on=day, basis=f"测纪〔{YEAR}〕{step}号",
                deciding_organization=cast.P, recorded_by=admin,
            )  # fmt: skip
            model.status[member.pk] = "gone"
            model.event(branch, "expel")
    return model


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_15_3_balance_identity_over_random_changes_through_the_services(cast, seed):
    model = _play(cast, seed)
    start = {"P": 18, "A": 9, "B": 9}  # with the cast's 甲党员 (A) and 乙党员 (B)
    for key in ("P", "A", "B"):
        org = getattr(cast, key)
        stats = party_statistics(organization=org, year=YEAR)
        balance = stats["balance"]
        assert balance["balanced"], balance["imbalance"]
        assert balance["imbalance"] == []
        assert balance["start"] == start[key]
        assert balance["end"] == len(model.counted(None if key == "P" else key))
        got = {row["code"]: row["count"] for row in balance["increases"] + balance["decreases"]}
        expected = model.events[key]
        assert {code: n for code, n in got.items() if n} == {code: n for code, n in expected.items() if n}, key
        assert balance["start"] + balance["increase_total"] - balance["decrease_total"] == balance["end"]
        # The year-end count agrees with the meeting roster of 31 December (other code, same rules).
        assert balance["end"] == len(organization_roster_on(organization=org, on=END))
        assert stats["members"]["total"] == balance["end"]
        assert sum(r["count"] for r in stats["members"]["by_sex"]) == balance["end"]
        assert stats["development"]["total"] == expected["develop"]


def test_15_3_a_status_written_around_the_procedures_is_listed_by_member(cast):
    member = MemberFactory(name="改状态", organization=cast.A, roster=date(2015, 1, 1))
    stats = party_statistics(organization=cast.A, year=YEAR)
    assert stats["balance"]["balanced"] and stats["balance"]["end"] == 2  # with the cast's 甲党员
    # 停止党籍 typed into the record (as the old edit form allowed): no procedure, no history row.
    Member.objects.filter(pk=member.pk).update(membership_status=MembershipStatus.SUSPENDED, suspended_on=date(YEAR, 3, 1))
    stats = party_statistics(organization=cast.A, year=YEAR)
    balance = stats["balance"]
    assert (balance["start"], balance["end"], balance["decrease_total"]) == (2, 1, 0)
    assert not balance["balanced"]
    [row] = balance["imbalance"]
    assert (row["member_id"], row["on"], row["change"]) == (member.pk, date(YEAR, 3, 1), "减少")
    page = cast.client("secretary_a").get(f"/members/statistics/{cast.A.pk}/", {"year": YEAR}).content.decode()
    assert "核对不平衡" in page and "改状态" in page
    # Done through the procedure instead, it balances.
    Member.objects.filter(pk=member.pk).update(membership_status=MembershipStatus.NORMAL, suspended_on=None)
    member_status_change(member=member, status="suspended", on=date(YEAR, 3, 1), reason="失联", recorded_by=cast.users["secretary_a"])
    balance = party_statistics(organization=cast.A, year=YEAR)["balance"]
    assert balance["balanced"] and {r["code"]: r["count"] for r in balance["decreases"]}["suspend"] == 1


def test_15_3_breakdowns_as_at_31_december(cast):
    MemberFactory(name="老党员", organization=cast.A, roster=date(1990, 1, 1), birth_date=date(1950, 1, 1),
                  joined_on=date(1975, 7, 1), full_on=date(1976, 7, 1), sex="female", ethnicity="03",
                  education="bachelor", job_post="retired")  # fmt: skip
    _new(cast, "A", "预备甲", date(YEAR, 7, 1), education="master", job_post="student", ethnicity="01")
    stats = party_statistics(organization=cast.P, year=YEAR)
    members = stats["members"]
    assert members["total"] == 4  # with the cast's 甲党员 and 乙党员
    kinds = {r["code"]: r["count"] for r in members["by_kind"]}
    assert kinds == {"probationary": 1, "full": 3}
    assert {r["label"]: r["count"] for r in members["by_ethnicity"]}["少数民族"] == 1
    assert {r["label"]: r["count"] for r in members["by_age"]}["71—80岁"] == 1
    assert {r["label"]: r["count"] for r in members["by_standing"]}["41—50年"] == 1
    development = stats["development"]
    assert development["total"] == 1
    assert {r["code"]: r["count"] for r in development["by_job_post"]}["student"] == 1
    orgs = {r["code"]: r["count"] for r in stats["organizations"]["by_type"]}
    assert orgs["committee"] == 1 and orgs["branch"] == 2 and orgs["group"] == 1


def test_15_3_api_json_xlsx_and_page(cast):
    _new(cast, "A", "预备乙", date(YEAR, 7, 1))
    url = f"/api/v1/organizations/{cast.P.pk}/party-statistics/"
    api = cast.api("org_admin_p")
    data = api.get(url, {"year": YEAR}).json()
    assert data["balance"]["end"] == 3 and data["balance"]["balanced"] is True
    response = api.get(url, {"year": YEAR, "format": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(BytesIO(response.content)).active
    cells = [row for row in sheet.iter_rows(values_only=True)]
    assert ("增减平衡", "增加：发展党员", 1, None) in cells or ("增减平衡", "增加：发展党员", 1, "") in cells
    assert api.get(url, {"year": "19"}).status_code == 400
    assert api.get(url, {"bogus": "1"}).status_code == 400
    assert cast.api("secretary_a").get(url).status_code in (403, 404)  # a branch secretary: not the 党委's totals
    assert cast.api("secretary_a").get(f"/api/v1/organizations/{cast.A.pk}/party-statistics/").status_code == 200
    assert cast.api("member_a").get(f"/api/v1/organizations/{cast.A.pk}/party-statistics/").status_code == 403
    assert cast.api("secretary_b").get(f"/api/v1/organizations/{cast.A.pk}/party-statistics/").status_code == 404
    page = cast.client("org_admin_p").get(f"/members/statistics/{cast.P.pk}/", {"year": YEAR})
    assert page.status_code == 200
    body = page.content.decode()
    assert "核对平衡" in body and "当年发展党员（1 名）" in body


def test_15_3_errors_are_json_even_when_xlsx_is_asked_for(cast):
    url = f"/api/v1/organizations/{cast.P.pk}/party-statistics/"
    refused = cast.api("member_a").get(url, {"format": "xlsx"})
    assert refused.status_code in (403, 404) and refused["Content-Type"].startswith("application/json")
    bad = cast.api("org_admin_p").get(url, {"format": "xlsx", "year": "x"})
    assert bad.status_code == 400 and "year" in bad.json()
