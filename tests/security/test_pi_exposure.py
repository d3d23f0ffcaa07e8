"""DATA-6: no personal data in Celery messages or logs.

- Messages on the real broker (Redis when CELERY_BROKER_URL is redis://, else kombu's memory
  transport): every scheduled task is published to a private queue and the raw bytes are scanned.
- Every task that runs anywhere in the test suite has its arguments scanned (tests/conftest.py guard).
- Log output of a PI-heavy flow (records with ID and phone numbers created, listed, exported,
  revealed; failed logins typed with an ID number as the username) is scanned.
"""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from django.conf import settings
from django.test import Client

from audit.logging import ID_RE, PHONE_RE

pytestmark = pytest.mark.django_db
PI_PATTERNS = [ID_RE, PHONE_RE]


def pi_hits(text: str) -> list[str]:
    return [m.group(0) for pattern in PI_PATTERNS for m in pattern.finditer(text)]


def test_the_patterns_find_what_they_should():
    assert pi_hits("身份证110101199003071234 电话13812345678") == ["110101199003071234", "13812345678"]
    assert pi_hits("order 1732200000000 id=42 2026-11-21") == []


def test_scheduled_task_messages_on_the_broker_carry_no_pi():
    from kombu import Connection, Queue

    from config.celery import app

    broker = settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("redis") else "memory://"
    queue = Queue(f"pi-scan-{uuid.uuid4().hex}", routing_key=f"pi-scan-{uuid.uuid4().hex}")
    names = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()})
    assert names, "the beat schedule is empty"
    raw: list[str] = []
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with Connection(broker) as connection:
            bound = queue(connection)
            bound.declare()
            try:
                for entry in settings.CELERY_BEAT_SCHEDULE.values():
                    app.send_task(
                        entry["task"],
                        args=entry.get("args", ()),
                        kwargs=entry.get("kwargs", {}),
                        connection=connection,
                        queue=bound,
                        routing_key=queue.routing_key,
                    )
                with connection.SimpleQueue(bound, no_ack=True) as simple:
                    while True:
                        try:
                            message = simple.get(block=True, timeout=2)
                        except simple.Empty:
                            break
                        raw.append(f"{message.headers!r} {message.body!r}")
            finally:
                bound.delete()
    finally:
        app.conf.task_always_eager = eager
    assert len(raw) == len(settings.CELERY_BEAT_SCHEDULE), (broker, len(raw))
    assert [name for name in names if not any(name in text for text in raw)] == []
    hits = [hit for text in raw for hit in pi_hits(text)]
    print(f"broker {broker.split(':')[0]}: {len(raw)} task messages scanned, {len(hits)} PI hits")
    assert hits == []


def test_task_argument_guard_catches_pi():
    """The suite-wide guard itself: a task called with an ID number is reported."""
    from tests.conftest import pi_in_task_arguments

    assert pi_in_task_arguments(("110101199003071234",), {}) and not pi_in_task_arguments((42, "x"), {"id": 7})


def test_logs_of_a_pi_heavy_flow_carry_no_pi(cast, caplog):
    from members.services import member_create
    from tests.member_helpers import make_id, record
    from tests.security.conftest import login, set_password

    id_number = make_id(record()["birth_date"], seq=88)
    caplog.set_level(logging.DEBUG)
    stream = logging.getLogger()
    console = next((h for h in stream.handlers if h.get_name() == "console"), None)
    member = member_create(organization=cast.A, **{**record(name="隐私测试", id_number=id_number, phone="13912345678")})
    client = cast.client("secretary_a")
    for url in ("/members/", f"/members/{member.pk}/", "/members/export/", f"/api/v1/members/{member.pk}/"):
        assert client.get(url).status_code < 500
    client.post(f"/members/{member.pk}/reveal/", {"field": "id_number", "reason": "核对"})
    client.get("/api/v1/members/", {"search": "13912345678"})
    set_password(cast.users["member_a"])
    login(Client(), id_number, "Wrong!pass1")
    login(Client(), "13912345678", "Wrong!pass1")
    Client().get(f"/login/?next=/members/?q={id_number}")
    text = caplog.text
    assert text, "no log output captured"
    hits = pi_hits(text)
    print(f"log scan: {len(caplog.records)} records, {len(hits)} PI hits")
    assert hits == [], hits
    if console is not None:  # what the console handler would write is masked too
        record_ = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s", (id_number,), None)
        for log_filter in console.filters:
            log_filter.filter(record_)
        assert id_number not in record_.getMessage()


def test_the_log_filter_masks_ids_and_phones():
    from audit.logging import PersonalDataFilter

    record_ = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "login %s %s", ("110101199003071234", "13812345678"), None
    )
    PersonalDataFilter().filter(record_)
    assert record_.getMessage() == "login 11**************34 138****5678"
    assert not re.search(r"\d{11}", record_.getMessage())
