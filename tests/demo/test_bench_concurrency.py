"""bench_concurrency's arithmetic and verdicts (the load itself needs a running gunicorn: not a test)."""

from __future__ import annotations

import pytest
from django.db import connection

from activities.models import Meeting
from audit.services import audit_log
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardFact
from demo.concurrency import (
    PROBE_TITLE,
    TITLE,
    LoadResult,
    concurrency_verify,
    dashboard_recount_diff,
    percentile,
    probe_losses,
    summary_rows,
)


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
        verdict = concurrency_verify(titles_created=[], probe=[])
        assert verdict["audit_broken"] == 0 and verdict["audit_forked"] == 0 and verdict["duplicates"] == 0


def _meeting(cast, title: str, place: str = "") -> Meeting:
    return Meeting.objects.create(
        organization=cast.A, meeting_type="general_assembly", title=title, place=place, held_on="2026-01-20"
    )


@pytest.mark.django_db
def test_duplicates_and_missing_meetings_are_counted_by_request_title(cast):
    _meeting(cast, f"{TITLE} w1-0")
    _meeting(cast, f"{TITLE} w1-0")  # the same request stored twice
    _meeting(cast, f"{TITLE} w1-1")
    verdict = concurrency_verify(titles_created=[f"{TITLE} w1-0", f"{TITLE} w1-1", f"{TITLE} w1-2"], probe=[])
    assert (verdict["meetings"], verdict["duplicates"], verdict["missing"]) == (3, 1, 1)


@pytest.mark.django_db
def test_probe_counts_a_2xx_whose_change_is_not_in_the_final_row_as_lost(cast):
    kept = _meeting(cast, f"{PROBE_TITLE} 0 甲改")  # A won, B was refused: nothing lost
    overwritten = _meeting(cast, f"{PROBE_TITLE} 1", place="乙改的地点 1")  # both answered 200: A's title lost
    rows = [
        {"meeting": kept.pk, "field": "title", "value": f"{PROBE_TITLE} 0 甲改", "status": 200},
        {"meeting": kept.pk, "field": "place", "value": "乙改的地点 0", "status": 412},
        {"meeting": overwritten.pk, "field": "title", "value": f"{PROBE_TITLE} 1 甲改", "status": 200},
        {"meeting": overwritten.pk, "field": "place", "value": "乙改的地点 1", "status": 200},
    ]
    assert probe_losses(rows) == {"lost": 1, "refused": 1, "both_saved": 1}
    assert probe_losses(rows[:2]) == {"lost": 0, "refused": 1, "both_saved": 0}
