"""Every page and API read survives a hostile query string: 4xx or a page, never a 500.

Each GET route of the URLconf (crawled, so a new page is covered without being listed) is requested
as three roles with every query parameter the code reads set at once to one hostile value: a digit
``isdigit()`` accepts and ``int()`` refuses, a number past any database integer, a NUL byte (which
PostgreSQL refuses in text), an impossible date and a very long string. The parameter names are read
from the source (``GET.get("…")``, ``query_params.get("…")``) plus the filter forms' usual names.
Found on its first run: ``?days=²`` on the delivery report was a 500 (2026-12-06).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from tests.security.crawl import iter_routes, request_rolled_back
from tests.security.objects import route_value, seed_objects

pytestmark = pytest.mark.django_db

APPS = [
    "accounts",
    "activities",
    "assessments",
    "audit",
    "core",
    "dashboard",
    "members",
    "notifications",
    "organizations",
]
FILTER_NAMES = [
    "q",
    "search",
    "start",
    "end",
    "status",
    "kind",
    "type",
    "username",
    "event",
    "category",
    "sort",
    "order",
]
HOSTILE = ["²", "99999999999999999999999", "a\x00b", "2026-02-30", "x" * 3000]
ROLES = ["org_admin_p", "secretary_a", "member_a"]
_READ = re.compile(r"""(?:GET|query_params)(?:\.get|\.getlist)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


def parameter_names() -> list[str]:
    names = set(FILTER_NAMES)
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            names.update(_READ.findall(path.read_text(encoding="utf-8")))
    return sorted(names)


def test_no_get_route_answers_a_hostile_query_string_with_a_server_error(cast):
    names = parameter_names()
    assert {"page", "year", "org", "days"} <= set(names)  # the scan still finds what the views read
    objects = seed_objects(cast)
    clients = {}
    for who in ROLES:
        clients[who] = Client(raise_request_exception=False)  # a 500 is collected, not raised
        clients[who].force_login(cast.users[who])
    errors, requests = [], 0
    logging.disable(logging.CRITICAL)
    try:
        for route in iter_routes():
            if "GET" not in route.methods or route.name == "readyz":  # readyz: 503 while no beat runs
                continue
            value = route_value(route.name, objects) if route.kwarg_names else None
            if route.kwarg_names and value is None:
                continue
            url = route.url(**value) if isinstance(value, dict) else route.url(value)
            for hostile in HOSTILE:
                query = urlencode(dict.fromkeys(names, hostile))
                for who, client in clients.items():
                    requests += 1
                    status = request_rolled_back(client, "GET", f"{url}?{query}").status_code
                    if status >= 500:
                        errors.append(f"{route.name} {url} {hostile[:12]!r} as {who}: {status}")
    finally:
        logging.disable(logging.NOTSET)
    print(f"hostile query strings: {requests} requests, {len(names)} parameter names, {len(errors)} server errors")
    assert requests > 1000
    assert not errors, "\n".join(errors)
