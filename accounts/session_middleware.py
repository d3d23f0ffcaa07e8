"""The session middleware with the idle timeout and no write on every request (#20.1).

Django's ``SESSION_SAVE_EVERY_REQUEST`` slides the idle timeout by saving the session row on every
request — an UPDATE (and a cache write) per page and per API call. This middleware saves an
unchanged session only when its last refresh is ``REFRESH_SECONDS`` old, recording the time in
the session: the stored expiry (``SESSION_COOKIE_AGE`` after the last save) then lies at most a
minute short of "30 minutes after the last request", so an idle session still ends within the
idle timeout, never later. A request without a session cookie (API token calls) never loads,
creates or saves a session. A session changed by the request is saved as always.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.sessions.middleware import SessionMiddleware

REFRESHED_AT = "pb_refreshed_at"
REFRESH_SECONDS = 60


class IdleSessionMiddleware(SessionMiddleware):
    def process_response(self, request: Any, response: Any) -> Any:
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if session.modified or now - int(session.get(REFRESHED_AT, 0)) >= REFRESH_SECONDS:
                session[REFRESHED_AT] = now  # marks it modified: saved below, the expiry slides
        return super().process_response(request, response)
