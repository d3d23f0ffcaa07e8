"""#21.1: the masked ID number plus what else a role sees must not rebuild the ID number.

The attack (issue #21): ``masked[:6] + birth_date + masked[-4:]`` rebuilt every number from
``GET /api/v1/members/`` as an auditor. Here every GET route of the URLconf (pages, API, exports,
dashboards) is fetched as every role with organization A's objects — and each sample member's
own pages, the dashboard drill-downs and the Django admin — and for each sample member the
candidates consistent with everything in those responses are counted. The attacker is granted the
region code (籍贯 at county level), the sex and the birth year for free; any longer date, any mask
character that matches the member's number, or the full number found in the text is used. Every
role must be left with at least 1,000 candidates (docs/privacy.md has the arithmetic).
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from core.roles import Role
from members.choices import Sex
from tests.factories import MemberFactory, UserFactory, assign
from tests.member_helpers import make_id
from tests.security.crawl import iter_routes, response_text
from tests.security.objects import ROUTE_OBJECTS, route_value, seed_objects

pytestmark = pytest.mark.django_db

MIN_CANDIDATES = 1000
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Birth dates that appear nowhere else in the seeded data.
SAMPLE = [
    ("孙样本", date(1961, 11, 23), Sex.MALE, "110105", 517),
    ("周样本", date(1973, 5, 29), Sex.FEMALE, "320583", 284),
    ("吴样本", date(1988, 9, 17), Sex.MALE, "440304", 731),
    ("郑样本", date(1994, 2, 7), Sex.FEMALE, "510104", 66),
]
ROLES = ["member_a", "secretary_a", "secretary_b", "org_admin_p", "auditor_p", "sysadmin", "secadmin", "superuser"]
MASK_RE = re.compile(r"[0-9Xx*]{18}")


@dataclass
class Knowledge:
    """What the text tells about one member's number (beyond the free region, sex and year)."""

    positions: dict[int, str] = field(default_factory=dict)
    birth: str = "year"  # "year", "month" or "day"
    full: bool = False


def _serial(day: date) -> str:
    return str((day - date(1899, 12, 30)).days)


def knowledge(text: str, number: str, born: date) -> Knowledge:
    known = Knowledge(full=number in text)
    for token in MASK_RE.findall(text):
        token = token.upper()
        shown = {i: c for i, c in enumerate(token) if c != "*"}
        if shown and all(number[i] == c for i, c in shown.items()):
            known.positions.update(shown)
    day_forms = [
        f"{born:%Y-%m-%d}",
        f"{born:%Y/%m/%d}",
        f"{born:%Y%m%d}",
        f"{born.year}年{born.month}月{born.day}日",
        f"{born:%Y年%m月%d日}",
        f">{_serial(born)}<",  # a date cell in an XLSX sheet
    ]
    month_forms = [f"{born:%Y-%m}", f"{born:%Y/%m}", f"{born.year}年{born.month}月", f"{born:%Y年%m月}", f"{born:%Y%m}"]
    if any(form in text for form in day_forms):
        known.birth = "day"
    elif any(form in text for form in month_forms):
        known.birth = "month"
    return known


def candidates(number: str, born: date, known: Knowledge) -> int:
    """Valid numbers with the member's region, sex and birth year that agree with ``known``."""
    if known.full:
        return 1
    if known.birth == "day":
        days = [born]
    elif known.birth == "month":
        days = [born.replace(day=d) for d in range(1, calendar.monthrange(born.year, born.month)[1] + 1)]
    else:
        first = date(born.year, 1, 1)
        days = [first + timedelta(n) for n in range((date(born.year + 1, 1, 1) - first).days)]
    region = number[:6]
    parity = int(number[16]) % 2
    shown = known.positions
    # Sequence digits (15–17) agreeing with the shown ones, counted by their share of the check sum.
    by_remainder = [0] * 11
    for seq in range(parity, 1000, 2):
        tail = f"{seq:03d}"
        if all(tail[i - 14] == c for i, c in shown.items() if 14 <= i < 17):
            by_remainder[sum(int(d) * w for d, w in zip(tail, WEIGHTS[14:], strict=True)) % 11] += 1
    count = 0
    for day in days:
        head = f"{region}{day:%Y%m%d}"
        if any(i < 14 and head[i] != c for i, c in shown.items()):
            continue
        head_sum = sum(int(d) * w for d, w in zip(head, WEIGHTS[:14], strict=True))
        if 17 not in shown:
            count += sum(by_remainder)
            continue
        count += sum(n for r, n in enumerate(by_remainder) if "10X98765432"[(head_sum + r) % 11] == shown[17])
    return count


def _seed(cast: Any) -> list[tuple[Any, str, date]]:
    sample = []
    for name, born, sex, region, seq in SAMPLE:
        member = MemberFactory(name=name, organization=cast.A, birth_date=born, sex=sex, native_place="北京市东城区")
        number = make_id(born, male=sex == Sex.MALE, region=region, seq=seq)
        member.set_id_number(number)
        member.set_phone(f"1391234{seq:04d}")
        member.save()
        sample.append((member, number, born))
    # The cast's own member records (the routes' objects) get numbers too.
    for member, born, seq in (
        (cast.member_a_record, date(1979, 8, 21), 402),
        (cast.member_b_record, date(1966, 4, 3), 808),
    ):
        number = make_id(born, region="370781", seq=seq)
        member.birth_date = born
        member.set_id_number(number)
        member.save()
        sample.append((member, number, born))
    return sample


def _urls(cast: Any, objects: dict[str, Any], sample: list[tuple[Any, str, date]]) -> list[str]:
    urls: list[str] = []
    for route in iter_routes():
        if "GET" not in route.methods or route.name in ("logout", "activities:feed", "readyz"):
            continue
        if route.kwarg_names:
            value = route_value(route.name, objects)
            if value is None:
                continue
            urls.append(route.url(**value) if isinstance(value, dict) else route.url(value))
            if ROUTE_OBJECTS.get(route.name) == "member":
                urls.extend(route.url(member.pk) for member, _, _ in sample)
        else:
            base = route.url()
            urls.append(base)
    for org in (cast.A, cast.P, cast.B):
        drill = "metric=party&value=&year=2026"
        urls += [
            f"/organizations/{org.pk}/dashboard/members/?{drill}",
            f"/organizations/{org.pk}/dashboard/members/export.xlsx?{drill}",
            f"/api/v1/organizations/{org.pk}/dashboard/members/?{drill}",
        ]
    for member, _, _ in sample:  # the break-glass admin
        urls += ["/django-admin/members/member/", f"/django-admin/members/member/{member.pk}/change/"]
    return urls


def _seen_by(who: str, cast: Any, urls: list[str]) -> str:
    client = Client()
    client.force_login(cast.users[who])
    texts = []
    logging.disable(logging.WARNING)
    try:
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, f"{who} GET {url} → {response.status_code}"
            if response.status_code == 200:
                texts.append(response_text(response))
    finally:
        logging.disable(logging.NOTSET)
    return "\n".join(texts)


def test_candidate_count_rebuilds_the_old_mask_with_the_birth_date():
    """The counter itself: the old mask plus the birth date left exactly one number."""
    number = make_id(date(1985, 3, 15), region="110101", seq=123)
    old = Knowledge(positions={i: number[i] for i in (*range(6), 14, 15, 16, 17)}, birth="day")
    assert candidates(number, date(1985, 3, 15), old) == 1
    new = Knowledge(positions={i: number[i] for i in (0, 1, 16, 17)}, birth="year")
    assert candidates(number, date(1985, 3, 15), new) >= 3000


def test_21_1_masked_id_and_birth_date_leave_at_least_1000_candidates_for_every_role(cast):
    sample = _seed(cast)
    secadmin = UserFactory(username="secadmin")
    assign(secadmin, cast.P, Role.SECADMIN)
    cast.users["secadmin"] = secadmin
    cast.users["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    objects = seed_objects(cast)
    urls = _urls(cast, objects, sample)
    report, failures = [], []
    for who in ROLES:
        text = _seen_by(who, cast, urls)
        for member, number, born in sample:
            if member.user_id and member.user_id == cast.users[who].pk:
                continue  # the data subject's own record
            known = knowledge(text, number, born)
            count = candidates(number, born, known)
            report.append(f"{who} {member.name}: {count} ({len(known.positions)} chars, birth {known.birth})")
            if count < MIN_CANDIDATES:
                failures.append(report[-1])
        if who == "secretary_a":  # the mask really is in what the secretary sees
            assert all(
                len(knowledge(text, n, b).positions) == 4 for m, n, b in sample if m.organization_id == cast.A.pk
            )
    print("\n".join(report))
    assert not failures, "ID numbers narrowed below 1,000 candidates:\n" + "\n".join(failures)


def test_21_1_birth_date_guesses_on_an_edit_are_no_oracle(cast):
    """Guessing the birth date through an edit: the right and a wrong guess get the same refusal,
    which names no date; a new ID number brings its own birth date."""
    from django.core.exceptions import ValidationError

    from members.services import member_create, member_update
    from tests.member_helpers import record

    born = date(1985, 3, 15)
    member = member_create(organization=cast.A, **record(birth_date=born))
    messages = []
    for guess in (born, date(1985, 3, 16)):
        with pytest.raises(ValidationError) as exc:
            member_update(member=member, birth_date=guess)
        messages.append(exc.value.message_dict["birth_date"])
    assert messages[0] == messages[1] and "1985" not in messages[0][0]
    with pytest.raises(ValidationError) as exc:
        member_update(member=member, sex=Sex.FEMALE)
    assert not re.search(r"\d", exc.value.message_dict["sex"][0])
    member_update(member=member, id_number=make_id(date(1990, 6, 1), seq=40))
    member.refresh_from_db()
    assert member.birth_date == date(1990, 6, 1)
    client = cast.client("secretary_a")
    for guess in ("1990-06-01", "1990-06-02"):
        url = f"/api/v1/members/{member.pk}/"
        etag = client.get(url)["ETag"]  # a current version: the refusal is about the date, not a stale copy
        response = client.patch(url, {"birth_date": guess}, content_type="application/json", HTTP_IF_MATCH=etag)
        assert response.status_code == 400 and "1990" not in response.content.decode()
