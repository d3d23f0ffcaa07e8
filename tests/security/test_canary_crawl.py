"""AC-4 canary crawl: organization B is seeded with unique markers; every GET route in the URLconf
(pages, API lists and details, exports) is fetched as each role of organization A, with B's object
ids substituted into every URL parameter and query filter. Not one marker may come back.

A second pass does the same for the 三员 sysadmin and secadmin with a marker in member data only:
they administer accounts and settings and must never see member records (AC-5).

New routes are crawled automatically. Domain helpers can seed more marked rows by appending a
function ``(world) -> None`` to ``CANARY_SEEDERS`` below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from audit.services import audit_log
from core.roles import Role
from organizations.choices import OrgType
from tests.factories import MemberFactory, UserFactory, assign, make_org
from tests.security.crawl import iter_routes, response_text
from tests.security.objects import route_value

pytestmark = pytest.mark.django_db

MARKER = "泄露探针B7"
PI_MARKER = "党员探针S9"
SEARCH = "探针B"
ROLES_OF_A = ["member_a", "secretary_a", "org_admin_c1", "auditor_c1"]
QUERY_KEYS = ("organization", "org", "within")
# The secret token in the URL is the credential (a calendar app subscribes without a session).
TOKEN_ROUTES = {"activities:feed"}


@dataclass
class World:
    R: Any
    C1: Any
    A: Any
    C2: Any
    B: Any
    users: dict[str, Any]
    b_ids: list[int] = field(default_factory=list)
    b_ids_by_model: dict[Any, list[int]] = field(default_factory=dict)
    b_objects: dict[str, Any] = field(default_factory=dict)


def seed_members(world: World) -> None:
    for i in range(2):
        MemberFactory(name=f"{MARKER}党员{i}", organization=world.B, roster=date(2020, 1, 1))


def seed_meeting(world: World) -> None:
    from activities.services.inputs import AttendanceInput, MeetingInput
    from activities.services.meetings import meeting_save
    from members.models import Member

    people = list(Member.objects.filter(organization=world.B))
    secretary_b = UserFactory(username="secretary_b7")
    assign(secretary_b, world.B, Role.SECRETARY)
    from datetime import time

    meeting_save(
        user=secretary_b,
        organization=world.B,
        data=MeetingInput(
            meeting_type="general_assembly",
            title=f"{MARKER}党员大会",
            held_on=date(2026, 3, 10),
            start_time=time(14, 30),
            end_time=time(16, 0),
            place=f"{MARKER}会议室",
        ),
        attendance=[AttendanceInput(member_id=p.pk, status="present", reason="") for p in people],
        resolutions=[],
    )


def seed_every_kind(world: World) -> None:
    """One row of every kind a route serves (tests/security/objects.py), marked, in B."""
    from members.models import Member
    from tests.security.objects import seed_org_objects

    secretary_b = UserFactory(username="secretary_b8")
    assign(secretary_b, world.B, Role.SECRETARY)
    member_user = UserFactory(username="member_b8")
    member = MemberFactory(name=f"{MARKER}丙党员", organization=world.B, user=member_user, roster=date(2020, 1, 1))
    assign(member_user, world.B, Role.MEMBER)
    assert Member.objects.filter(organization=world.B).exists()
    world.b_objects = seed_org_objects(
        org=world.B,
        parent=world.C2,
        other_org=world.C2,
        secretary=secretary_b,
        member=member,
        member_user=member_user,
        marker=MARKER,
    )


def seed_audit(world: World) -> None:
    audit_log(event="probe", organization=world.B, detail={"note": f"{MARKER}审计"})


CANARY_SEEDERS: list[Callable[[World], None]] = [seed_members, seed_meeting, seed_every_kind, seed_audit]


def _subtree_ids(world: World, root: Any) -> dict[Any, list[int]]:
    """Per model taking part in the access gate, the ids of (up to two of) its rows under ``root``."""
    ids: dict[Any, list[int]] = {}
    for model in apps.get_models():
        org_field = getattr(model, "scope_org_field", None)
        if org_field is None:
            continue
        prefix = f"{org_field}__" if org_field else ""
        pks = model._default_manager.filter(**{f"{prefix}path__startswith": root.path}).values_list("pk", flat=True)
        found = [int(pk) for pk in pks[:1] if isinstance(pk, int)]
        if found:
            ids[model] = found
    return ids


@pytest.fixture
def world(db) -> World:
    R = make_org("中共测试市直机关工作委员会", OrgType.COMMITTEE, short_name="市直工委")
    C1 = make_org("中共甲单位委员会", OrgType.COMMITTEE, parent=R, short_name="甲党委")
    A = make_org("甲单位第一党支部", OrgType.BRANCH, parent=C1)
    make_org("甲单位第一党支部第一党小组", OrgType.GROUP, parent=A)
    C2 = make_org(f"中共{MARKER}单位委员会", OrgType.COMMITTEE, parent=R, short_name=f"{MARKER}党委")
    B = make_org(f"{MARKER}第二党支部", OrgType.BRANCH, parent=C2, short_name=f"{MARKER}支部")
    users = {name: UserFactory(username=name) for name in [*ROLES_OF_A, "sysadmin_r", "secadmin_r"]}
    member = MemberFactory(name="甲支部党员", organization=A, user=users["member_a"], roster=date(2020, 1, 1))
    assert member.pk
    assign(users["member_a"], A, Role.MEMBER)
    assign(users["secretary_a"], A, Role.SECRETARY)
    assign(users["org_admin_c1"], C1, Role.ORG_ADMIN)
    assign(users["auditor_c1"], C1, Role.AUDITOR)
    assign(users["sysadmin_r"], R, Role.SYSADMIN)
    assign(users["secadmin_r"], R, Role.SECADMIN)
    world = World(R=R, C1=C1, A=A, C2=C2, B=B, users=users)
    for seeder in CANARY_SEEDERS:
        seeder(world)
    world.b_ids_by_model = _subtree_ids(world, world.C2)
    world.b_ids = sorted({pk for pks in world.b_ids_by_model.values() for pk in pks})
    return world


def _urls(world: World) -> list[str]:
    """Every GET route: with each of B's ids in its parameters (the served model's ids when the view
    names its model), and list routes also filtered to B."""
    urls: list[str] = []
    for route in iter_routes():
        # /readyz answers 503 while no beat runs (its design, #18.2) and holds no member data.
        if "GET" not in route.methods or route.name in ("logout", "readyz"):
            continue
        if route.name in TOKEN_ROUTES:
            continue
        value = route_value(route.name, world.b_objects) if route.kwarg_names else None
        if value is not None:  # the route's own kind of object, in B
            urls.append(route.url(**value) if isinstance(value, dict) else route.url(value))
        if route.kwarg_names:
            model = route.model
            candidates = world.b_ids
            if model is not None and model in world.b_ids_by_model:
                candidates = sorted({*world.b_ids_by_model[model], world.B.pk})
            for pk in candidates:
                try:
                    urls.append(route.url(pk))
                except Exception:  # noqa: BLE001, S112 - a converter that refuses ints (slug/str) is skipped
                    continue
        else:
            base = route.url()
            urls.append(base)
            urls.extend(f"{base}?{key}={world.B.pk}" for key in QUERY_KEYS)
            urls.append(f"{base}?q={SEARCH}")  # a part of the marker: the page may echo the query itself
    return urls


def crawl(world: World, who: str, marker: str) -> tuple[int, list[str]]:
    client = Client()
    client.force_login(world.users[who])
    checked, leaks = 0, []
    logging.disable(logging.WARNING)  # 4xx noise
    try:
        for url in _urls(world):
            response = client.get(url)
            assert response.status_code < 500, f"{who} GET {url} → {response.status_code}"
            checked += 1
            if marker in response_text(response):
                leaks.append(f"{who} GET {url} → {response.status_code}")
    finally:
        logging.disable(logging.NOTSET)
    return checked, leaks


def test_canary_is_visible_where_it_should_be(world):
    """The markers are really there: B's own org_admin sees them (otherwise the crawl proves nothing)."""
    owner_user = UserFactory(username="org_admin_c2")
    assign(owner_user, world.C2, Role.ORG_ADMIN)
    owner = Client()
    owner.force_login(owner_user)
    assert MARKER in owner.get(f"/organizations/{world.B.pk}/").content.decode()
    assert len(world.b_ids_by_model) >= 4
    # B's own committee admin finds the marker behind most object routes (pages and API details);
    # the others return files or lists that carry no free text.
    owner_api = Client()
    owner_api.force_login(owner_user)
    shown = []
    for route in iter_routes():
        value = route_value(route.name, world.b_objects) if route.kwarg_names else None
        if value is None or "GET" not in route.methods or route.name in TOKEN_ROUTES:
            continue
        url = route.url(**value) if isinstance(value, dict) else route.url(value)
        if MARKER in response_text(owner_api.get(url)):
            shown.append(route.name)
    assert len(shown) >= 30, shown


@pytest.mark.parametrize("who", ROLES_OF_A)
def test_no_marker_of_b_reaches_a_role_of_a(world, who, record_property):
    import time

    started = time.perf_counter()
    checked, leaks = crawl(world, who, MARKER)
    print(f"canary ids {world.b_ids}, {time.perf_counter() - started:.1f}s")
    record_property("canary_responses", checked)
    print(f"canary crawl {who}: {checked} responses, {len(leaks)} leaks")
    assert checked > 50
    assert not leaks, "Organization B's data reached a role of organization A:\n" + "\n".join(leaks[:40])


@pytest.fixture
def pi_world(world) -> World:
    from members.models import Member

    for member in Member.objects.all():
        Member.objects.filter(pk=member.pk).update(name=f"{PI_MARKER}{member.pk}")
    return world


@pytest.mark.parametrize("who", ["sysadmin_r", "secadmin_r"])
def test_admin_roles_never_see_member_data(pi_world, who):
    checked, leaks = crawl(pi_world, who, PI_MARKER)
    print(f"member-data crawl {who}: {checked} responses, {len(leaks)} leaks")
    assert checked > 50
    assert not leaks, f"{who} (三员) saw member data:\n" + "\n".join(leaks[:40])
