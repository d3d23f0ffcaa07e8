"""Fuzzing (schemathesis) against /api/v1/schema/, in-process over WSGI, for each role of the cast.

Every operation of the schema gets ``PB_FUZZ_EXAMPLES`` generated requests per role (default 2,
derandomized, so a run is reproducible and adds well under a minute to ``make test`` on two cores);
``PB_FUZZ_EXAMPLES=200`` gives the checklist's deep run. Pass: no response is a server error (5xx),
every status code is one the schema documents, and every response body matches the schema.
Each request runs in a savepoint that is rolled back, so examples do not pile up data.

It prints one line per role and the totals (``schemathesis: N requests, M server errors``) on the
terminal even without ``-s``, for the issue's closing note.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import date

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from knox.models import AuthToken

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PB_FUZZ_EXAMPLES", "2"))
ROLES = ["anon", "member_a", "secretary_a", "org_admin_p", "auditor_p", "sysadmin", "secadmin"]


@pytest.fixture
def tokens(cast):
    from core.roles import Role
    from tests.factories import MemberFactory, UserFactory, assign

    secadmin = UserFactory(username="secadmin")
    assign(secadmin, cast.P, Role.SECADMIN)
    cast.users["secadmin"] = secadmin
    # A few more rows, so list responses have bodies to check against the schema.
    MemberFactory(name="丙党员", organization=cast.A, roster=date(2020, 1, 1))
    MemberFactory(name="丁党员", organization=cast.B, roster=date(2020, 1, 1))
    return {who: AuthToken.objects.create(user=cast.users[who])[1] for who in ROLES if who != "anon"}


@pytest.fixture
def keep_test_connection():
    """Requests go straight to a WSGIHandler, whose request signals would close the database
    connection that holds the test transaction (PostgreSQL); Django's test client unhooks them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _fuzz_role(schema, headers: dict[str, str], checks: list) -> tuple[Counter, list[str]]:
    from schemathesis.core.failures import FailureGroup

    counts: Counter = Counter()
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            counts["requests"] += 1
            where = f"{case.method} {case.formatted_path} → {response.status_code}"
            if response.status_code >= 500:
                counts["server_errors"] += 1
                problems.append(where)
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    if response.status_code < 500:
                        counts["schema_violations"] += 1
                        problems.append(f"{where}: {failure.title}: {failure.message[:300]}")

        run()
    return counts, problems


def test_no_server_errors_for_any_role(tokens, cast, capsys, keep_test_connection):
    import schemathesis
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    # The schema itself needs a signed-in user; these headers are used for loading it only.
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/", WSGIHandler(), headers={"Authorization": f"Token {tokens['member_a']}"}
    )
    operations = sum(1 for _ in schema.get_all_operations())
    totals: Counter = Counter()
    problems: dict[str, list[str]] = {}
    lines: list[str] = []
    logging.disable(logging.CRITICAL)
    try:
        for who in ROLES:
            headers = {} if who == "anon" else {"Authorization": f"Token {tokens[who]}"}
            counts, problems[who] = _fuzz_role(schema, headers, checks)
            totals.update(counts)
            lines.append(
                f"schemathesis [{who}]: {counts['requests']} requests, {counts['server_errors']} server errors, "
                f"{counts['schema_violations']} schema violations"
            )
    finally:
        logging.disable(logging.NOTSET)
    lines.append(
        f"schemathesis: {totals['requests']} requests, {totals['server_errors']} server errors "
        f"({operations} operations × {len(ROLES)} roles × {EXAMPLES} examples; "
        f"{totals['schema_violations']} schema violations)"
    )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert totals["requests"] >= operations * len(ROLES)
    found = [f"[{who}] {p}" for who, items in problems.items() for p in sorted(set(items))]
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:60])
