"""bench_concurrency's arithmetic and verdicts (the load itself needs a running gunicorn: not a test)."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.services import audit_log
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardFact
from demo.concurrency import LoadResult, concurrency_verify, dashboard_recount_diff, percentile, summary_rows


def test_percentiles_and_rows_per_kind():
    result = LoadResult(seconds=2.0)
    for ms in range(1, 101):
        result.add("write", 201, ms / 1000)
    result.add("write (double tap)", 201, 0.5)
    assert percentile(result.samples["write"], 0.5) == pytest.approx(0.051)
    rows = {row[0]: row for row in summary_rows(result)}
    kind, count, rate, p50, p95, p99, statuses = rows["write"]
    assert (count, rate, round(p99)) == (100, 50.0, 99) and statuses == "201×100"


@pytest.mark.django_db
def test_verdicts_see_a_drifted_dashboard_and_a_sound_audit_chain(cast):
    audit_log(event="probe")
    facts_rebuild()
    assert dashboard_recount_diff() == 0
    fact = DashboardFact.objects.filter(value__gt=0).first()
    DashboardFact.objects.filter(pk=fact.pk).update(value=fact.value + 7)  # a lost refresh
    assert dashboard_recount_diff() == 1
    if connection.vendor == "postgresql":  # the fork count is PostgreSQL SQL
        verdict = concurrency_verify(keys_created=0)
        assert verdict["audit_broken"] == 0 and verdict["audit_forked"] == 0 and verdict["duplicates"] == 0
