"""A logging filter that masks 18-digit ID numbers and mobile numbers in every log line (DATA-6).

Defence in depth: application code never logs personal data, but a library may log a username,
a query string or an exception message that contains one.
"""

from __future__ import annotations

import logging
import re

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
        request = current_request()
        record.request_id = getattr(request, "request_id", None) or "-"
        return True
