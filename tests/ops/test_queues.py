"""Named queues (#18.4): reports and imports never share a queue with reminders."""

from celery import current_app
from django.conf import settings


def route(name: str) -> str:
    return current_app.amqp.router.route({}, name)["queue"].name


def test_every_task_has_a_queue_family():
    assert route("notifications.deliver") == "reminders"
    assert route("notifications.scan_batch") == "reminders"
    assert route("assessments.report_generate_chunk") == "reports"
    assert route("assessments.quarterly_reports") == "reports"
    assert route("dashboard.refresh") == "dashboard"
    assert route("members.import_check") == "imports"
    assert route("members.import_commit") == "imports"
    assert route("members.dues_import_check") == "imports"
    assert route("members.dues_import_commit") == "imports"
    assert route("core.heartbeat") == "default"
    assert route("organizations.clear_expired_sessions") == "default"


def test_every_registered_task_routes_to_a_queue_the_workers_consume():
    current_app.loader.import_default_modules()
    names = [n for n in current_app.tasks if not n.startswith("celery.")]
    assert names
    for name in names:
        assert route(name) in settings.PB_CELERY_QUEUES, name


def test_reports_and_reminders_are_on_different_queues():
    assert route("assessments.report_generate") != route("notifications.deliver")
