"""#17.5: API errors are always JSON, 500 and 503 included, with a request id that is also in the
server's log line; pages keep their HTML error page."""

from __future__ import annotations

import io
import logging
from unittest import mock

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _client(cast, who="secretary_a"):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(cast.users[who])
    return client


@pytest.fixture
def server_log():
    """The configured console handler's output (the project's format and filters)."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(old)


def test_uncaught_error_is_json_500_with_the_request_id_in_header_body_and_log(cast, server_log):
    with mock.patch("activities.api.views.MeetingViewSet.list", side_effect=RuntimeError("boom")):
        response = _client(cast).get("/api/v1/meetings/", HTTP_X_REQUEST_ID="trace-123")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["request_id"] == "trace-123" == response["X-Request-ID"]
    assert "trace-123" in body["detail"]
    line = next(line for line in server_log.getvalue().splitlines() if "Internal Server Error" in line)
    assert "[trace-123]" in line


def test_request_id_is_generated_when_absent(cast, server_log):
    with mock.patch("activities.api.views.MeetingViewSet.list", side_effect=RuntimeError("boom")):
        response = _client(cast).get("/api/v1/meetings/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and response.json()["request_id"] == request_id
    assert f"[{request_id}]" in server_log.getvalue()


def test_database_down_is_json_503_with_retry_after(cast, server_log):
    error = OperationalError("server closed the connection unexpectedly")
    with mock.patch("activities.api.views.MeetingViewSet.list", side_effect=error):
        response = _client(cast).get("/api/v1/meetings/", HTTP_X_REQUEST_ID="db-down-1")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"]
    assert response.json()["request_id"] == "db-down-1"
    assert "[db-down-1]" in server_log.getvalue()


def test_database_down_in_middleware_is_json_503_too(cast):
    error = OperationalError("could not connect to server")
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=error):
        client = APIClient(raise_request_exception=False)
        client.cookies["sessionid"] = "x" * 32
        response = client.get("/api/v1/meetings/")
    assert response.status_code == 503 and response.json()["request_id"] == response["X-Request-ID"]


def test_pages_keep_the_html_error_page(rf):
    from core.api.errors import server_error

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        page = server_error(rf.get("/organizations/"))
        api = server_error(rf.get("/api/v1/organizations/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
    assert api.status_code == 500 and api["Content-Type"].startswith("application/json")


def test_worker_log_lines_have_a_placeholder_request_id():
    from audit.logging import RequestIdFilter

    record = logging.LogRecord("celery", logging.INFO, __file__, 1, "task done", None, None)
    assert RequestIdFilter().filter(record) and record.request_id == "-"
