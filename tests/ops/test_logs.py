"""Structured logs (#18.6): one JSON line per request and per task, with the request id the client
sees, the user, roles, duration and status; personal numbers masked in every line."""

from __future__ import annotations

import json
import logging

import pytest

from audit.logging import JsonFormatter, PersonalDataFilter, RequestIdFilter
from core.tasks import heartbeat

pytestmark = pytest.mark.django_db


def as_json(record: logging.LogRecord) -> dict:
    for f in (PersonalDataFilter(), RequestIdFilter()):
        f.filter(record)
    return json.loads(JsonFormatter().format(record))


def test_one_json_line_per_request_with_its_id_user_and_status(cast, caplog):
    client = cast.client("secretary_a")
    with caplog.at_level(logging.INFO, logger="pb.request"):
        response = client.get(f"/organizations/{cast.A.pk}/", HTTP_X_REQUEST_ID="abc123")
    records = [r for r in caplog.records if r.name == "pb.request"]
    assert len(records) == 1
    line = as_json(records[0])
    assert response["X-Request-ID"] == "abc123"
    assert line["request_id"] == "abc123"
    assert line["status"] == response.status_code == 200
    assert line["method"] == "GET" and line["path"] == f"/organizations/{cast.A.pk}/"
    assert line["user_id"] == cast.users["secretary_a"].pk
    assert "secretary" in line["roles"]
    assert line["duration_ms"] >= 0


def test_anonymous_requests_and_query_strings(client, caplog):
    with caplog.at_level(logging.INFO, logger="pb.request"):
        client.get("/login/?next=/members/%3Fsearch%3D13812345678")
    line = as_json([r for r in caplog.records if r.name == "pb.request"][0])
    assert line["user_id"] is None
    assert "13812345678" not in json.dumps(line)  # the query string is not logged


def test_one_line_per_task(caplog):
    with caplog.at_level(logging.INFO, logger="pb.task"):
        heartbeat.delay()
    line = as_json([r for r in caplog.records if r.name == "pb.task"][0])
    assert line["task"] == "core.heartbeat"
    assert line["state"] == "SUCCESS"
    assert line["task_id"]
    assert line["duration_ms"] >= 0


def test_json_lines_mask_personal_numbers():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "号码 %s 手机 %s", ("11010119900307123X", "13812345678"), None)
    line = as_json(record)
    assert "11010119900307123X" not in line["message"]
    assert "13812345678" not in line["message"]
    assert line["level"] == "WARNING"
