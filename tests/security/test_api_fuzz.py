"""Fuzzing (schemathesis) against /api/v1/schema/, in-process over WSGI, for each role with a token.

Every operation of the schema gets ``PB_FUZZ_EXAMPLES`` generated requests per role (default 3,
so the whole run stays within a few minutes); ``PB_FUZZ_EXAMPLES=200`` gives the checklist's deep
run. Pass: no response is a server error (5xx). Each request runs in a savepoint that is rolled
back, so examples do not pile up data. The totals are printed (``-s``) for the report.
"""

from __future__ import annotations

import logging
import os
from collections import Counter

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

# UNFINISHED: not yet verified end to end in CI time; runs only with PB_FUZZ=1 until it is.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(os.environ.get("PB_FUZZ") != "1", reason="schemathesis run: set PB_FUZZ=1"),
]

EXAMPLES = int(os.environ.get("PB_FUZZ_EXAMPLES", "3"))
ROLES = ["member_a", "secretary_a", "org_admin_p", "auditor_p", "sysadmin", "secadmin"]


@pytest.fixture
def tokens(cast):
    from organizations.choices import Role
    from tests.factories import UserFactory, assign

    secadmin = UserFactory(username="secadmin")
    assign(secadmin, cast.P, Role.SECADMIN)
    cast.users["secadmin"] = secadmin
    return {who: Token.objects.create(user=cast.users[who]).key for who in ROLES}


def _fuzz_role(schema, token: str, totals: Counter, failures: list[str]) -> None:
    headers = {"Authorization": f"Token {token}"}
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
            totals["requests"] += 1
            totals[f"{response.status_code // 100}xx"] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} → {response.status_code}")

        run()


def test_no_server_errors_for_any_role(tokens, cast):
    import schemathesis

    app = WSGIHandler()
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/", app, headers={"Authorization": f"Token {tokens['org_admin_p']}"}
    )
    totals: Counter = Counter()
    failures: list[str] = []
    logging.disable(logging.CRITICAL)
    try:
        for who in ROLES:
            _fuzz_role(schema, tokens[who], totals, failures)
    finally:
        logging.disable(logging.NOTSET)
    operations = sum(1 for _ in schema.get_all_operations())
    print(f"schemathesis: {operations} operations × {len(ROLES)} roles, {totals['requests']} requests, {dict(totals)}")
    assert totals["requests"] >= operations * len(ROLES)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(sorted(set(failures))[:60])
