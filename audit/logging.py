"""A logging filter that masks 18-digit ID numbers and mobile numbers in every log line (DATA-6).

Defence in depth: application code never logs personal data, but a library may log a username,
a query string or an exception message that contains one.
"""

from __future__ import annotations

import json
import logging
import re
import time

from django.utils.functional import SimpleLazyObject, empty

from audit.request_context import current_request

ID_RE = re.compile(r"(?<![0-9])([0-9]{2})[0-9]{14}([0-9][0-9Xx])(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def mask(text: str) -> str:
    return PHONE_RE.sub(r"\1****\2", ID_RE.sub(r"\1**************\2", text))


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not stop logging
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (the ``X-Request-ID`` answered to the client) on every record
    as ``request_id`` ("-" outside a request, e.g. in a worker), for the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:  # the request line brings its own
            request = current_request()
            record.request_id = getattr(request, "request_id", None) or "-"
        return True


# Context fields a JSON log line carries when the record has them (request and task lines).
CONTEXT_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "roles",
    "orgs",
    "task",
    "task_id",
    "state",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json, the production default): time, level, logger,
    message, request_id and the context fields present. Runs after PersonalDataFilter, so the
    message and traceback are already masked; the context fields never hold personal data (paths
    are logged without their query string)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def request_context_fields(request) -> dict:
    """user id, roles and organizations (tree paths) of the request's user — only if the request
    resolved its user, and from the scope the access gate already cached: no query of its own."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        user = None  # never resolved by the request: resolving it here would query (or fail) for a log line
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user_id": None}
    fields: dict = {"user_id": user.pk}
    scope = getattr(user, "_pb_scope", None)
    if scope is not None:
        fields["roles"] = sorted(scope.roles)
        paths = {rule.path for rules in scope.rules.values() for rule in rules}
        fields["orgs"] = sorted(paths)[:5]
    return fields


task_log = logging.getLogger("pb.task")
_task_started: dict[str, float] = {}


def task_started(task_id=None, task=None, **kwargs) -> None:
    """Celery task_prerun: remember when the task began (per worker process)."""
    if task_id:
        _task_started[task_id] = time.perf_counter()


def task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    """Celery task_postrun: one line per task (#18.6) with its name, id, state and duration."""
    started = _task_started.pop(task_id, None)
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    task_log.info(
        "task %s %s",
        getattr(task, "name", "?"),
        state,
        extra={"task": getattr(task, "name", None), "task_id": task_id, "state": state, "duration_ms": duration},
    )
