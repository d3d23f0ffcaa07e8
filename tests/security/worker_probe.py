"""A Celery app for the #21.16 test: the project's app plus one task that logs what it is given.

The number arrives in two halves, so that no broker message carries it whole (the suite-wide
guard in tests/conftest.py); the task joins them, logs the result and returns it (Celery logs a
task's return value too).
"""

from __future__ import annotations

import logging

from config.celery import app

logger = logging.getLogger("pb.probe")


@app.task(name="tests.security.probe_log")
def probe_log(head: str, tail: str) -> str:
    text = head + tail
    logger.warning("probe %s", text)
    print(f"printed {text}")  # noqa: T201 - the worker redirects stdout to its logger
    return text
