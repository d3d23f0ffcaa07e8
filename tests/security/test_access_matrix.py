"""AC-3: role × endpoint × verb, built from the URLconf.

Every named route and each of its HTTP methods is requested as each role of the cast (against an
object of organization A), and the outcome is compared with ``MATRIX`` in
tests/security/access_matrix.py:

    A  allowed (2xx)
    R  allowed with a redirect that is not to the login (a page's "saved, go there")
    B  refused as bad input (400) — the request passed the gate; the input was wrong or empty
    D  denied (401, 403, 404, or a redirect to the login)
    N  method not allowed (405)

A route or method missing from the matrix fails the test with the exact line to add; a changed
outcome fails with expected and observed. Two rules hold whatever the matrix says: anonymous users
are denied everywhere but the public allow-list, and the auditor never changes anything.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from django.test import Client

from core.roles import Role
from tests.factories import UserFactory, assign
from tests.security.access_matrix import MATRIX, ROLES
from tests.security.crawl import iter_routes, request_rolled_back
from tests.security.objects import route_value, seed_objects

pytestmark = pytest.mark.django_db

# activities:feed is authenticated by its secret token (a calendar app subscribes without a session).
PUBLIC = {"login", "api-token", "activities:feed", "healthz", "readyz"}  # probes: status only, no data
PUBLIC |= {"accounts:password_reset_link", "accounts:password_reset_set"}  # the e-mailed link is the credential
# Routes where the auditor may write: its own session, account, inbox and calendar feed.
AUDITOR_OWN = {
    "api-token",  # logging in to the API
    "api-logout",  # ending its own API tokens (#21.11)
    "api-logout-all",
    "api-token-detail",
    "accounts:password_reset_link",  # a reset link opened while signed in
    "accounts:password_reset_set",
    "logout",
    "accounts:password_change",
    "accounts:otp_setup",
    "accounts:otp_verify",
    "accounts:large_text",  # its own display setting (大字模式)
    "activities:calendar_feed",
    "notifications:read-all",
    "notifications:preferences",
    "notification-read-all",
    "notification-read",
    "notification-preferences",
}
API_NAMES: set[str] = set()
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def classify(response: Any) -> str:
    status = response.status_code
    if status >= 500:
        return "E"
    if status == 405:
        return "N"
    if status in (400, 412, 428):  # 412/428: a write without the record's ETag (#17.3), after the gate
        return "B"
    if status in (401, 403, 404):
        return "D"
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        return "D" if location.startswith(("/login/", "/account/2fa/")) else "R"
    return "A"


@pytest.fixture
def clients(cast) -> dict[str, Client]:
    secadmin = UserFactory(username="secadmin")
    assign(secadmin, cast.P, Role.SECADMIN)
    cast.users["secadmin"] = secadmin
    result = {}
    for who in ROLES:
        client = Client()
        if who != "anon":
            client.force_login(cast.users[who])
        result[who] = client
    return result


def observe(cast: Any, clients: dict[str, Client]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Every route × method as every role; and the parameterised routes that have no object."""
    objects = seed_objects(cast)
    observed: dict[str, dict[str, str]] = {}
    unmapped: list[str] = []
    logging.disable(logging.CRITICAL)
    try:
        for route in iter_routes():
            if route.is_api:
                API_NAMES.add(route.name)
            value = route_value(route.name, objects) if route.kwarg_names else None
            if route.kwarg_names and value is None:
                unmapped.append(route.name)
                continue
            url = route.url(**value) if isinstance(value, dict) else route.url(value)
            row: dict[str, str] = {}
            for method in route.methods:
                row[method] = "".join(classify(request_rolled_back(clients[who], method, url)) for who in ROLES)
            observed[route.name] = row
    finally:
        logging.disable(logging.NOTSET)
    return observed, unmapped


def test_role_endpoint_verb_matrix(cast, clients):
    observed, unmapped = observe(cast, clients)
    assert not unmapped, (
        "Routes with parameters and no object: add each to ROUTE_OBJECTS in tests/security/objects.py "
        f"(creating the object in seed_objects if it is a new kind): {unmapped}"
    )
    dump = os.environ.get("PB_MATRIX_DUMP")
    if dump:  # write the observed matrix as Python lines, to review and paste
        with open(dump, "w", encoding="utf-8") as out:
            out.writelines(f"    {name!r}: {row!r},\n" for name, row in observed.items())
    cases = sum(len(codes) for row in observed.values() for codes in row.values())
    print(f"access matrix: {len(observed)} routes, {sum(len(r) for r in observed.values())} route×verb, {cases} cases")
    errors = [
        f"{name} {method}: {codes}"
        for name, row in observed.items()
        for method, codes in row.items()
        if "E" in codes and name != "readyz"  # 503 is readiness's answer while no beat runs (#18.2)
    ]
    assert not errors, "Server errors (E) in the matrix run:\n" + "\n".join(errors)
    check_hard_rules(observed)

    missing = {name: row for name, row in observed.items() if name not in MATRIX}
    missing_methods = {
        name: {m: c for m, c in row.items() if m not in MATRIX.get(name, {})}
        for name, row in observed.items()
        if name in MATRIX and set(row) - set(MATRIX[name])
    }
    if missing or missing_methods:
        lines = [f"    {name!r}: {row!r}," for name, row in {**missing, **missing_methods}.items()]
        pytest.fail(
            "Endpoints missing from the access matrix. Check each outcome (columns: "
            + " ".join(ROLES)
            + "), then add these lines to MATRIX in tests/security/access_matrix.py:\n"
            + "\n".join(lines)
        )
    changed = [
        f"{name} {method}: expected {MATRIX[name][method]} observed {codes}  ({' '.join(ROLES)})"
        for name, row in observed.items()
        for method, codes in row.items()
        if MATRIX[name].get(method) != codes
    ]
    stale = sorted(set(MATRIX) - set(observed))
    assert not changed, "Access outcomes changed (fix the code, or the matrix if intended):\n" + "\n".join(changed)
    assert not stale, f"Routes in MATRIX that no longer exist (remove them): {stale}"


def check_hard_rules(observed: dict[str, dict[str, str]]) -> None:
    """Rules that hold whatever MATRIX says."""
    anon, auditor = ROLES.index("anon"), ROLES.index("auditor_p")
    anon_allowed = [
        f"{name} {method}"
        for name, row in observed.items()
        for method, codes in row.items()
        if codes[anon] in "AR" and name not in PUBLIC
    ]
    assert not anon_allowed, f"Anonymous users reach: {anon_allowed}"
    # A write that succeeded: 2xx from the API, or a page's redirect after a POST.
    auditor_writes = [
        f"{name} {method}"
        for name, row in observed.items()
        for method, codes in row.items()
        if method in WRITE_METHODS
        and (
            (codes[auditor] == "R" and row.get("GET", "?" * len(ROLES))[auditor] != "R")  # not a plain redirect page
            or (codes[auditor] == "A" and name in API_NAMES)
        )
        and name not in AUDITOR_OWN
    ]
    assert not auditor_writes, f"The auditor (read-only) changed something through: {auditor_writes}"
    # A 400 means the request passed the gate and only the (empty) input stopped it: with valid input
    # the auditor would have written. Read-only roles are refused before their input is looked at.
    auditor_past_gate = [
        f"{name} {method}"
        for name, row in observed.items()
        for method, codes in row.items()
        if method in WRITE_METHODS and codes[auditor] == "B" and name not in AUDITOR_OWN
    ]
    assert not auditor_past_gate, f"Writes that let the auditor past the gate (400, not 403): {auditor_past_gate}"
