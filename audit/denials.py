"""Out-of-scope references (#21.2): a request that names an object the user may not see gets the
same answer as for an id that does not exist, and the attempt is audited as ``access_denied``.

A service refusing inside a transaction cannot write the audit row there (the refusal rolls it
back), so it notes the references on the request and ``RequestContextMiddleware`` writes one
event per request after the response. Outside a request (a task, a command) the event is written
at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from audit.request_context import current_request
from audit.services import audit_log

_ATTR = "_pb_out_of_scope"


def note_out_of_scope(*, user: Any, kind: str, ids: Iterable[Any]) -> None:
    """Record that ``user`` referenced these existing ``kind`` objects outside their scope."""
    found = sorted({str(pk) for pk in ids})
    if not found:
        return
    request = current_request()
    if request is None:
        audit_log(event="access_denied", user=user, outcome="failure", detail={kind: _summary(found)})
        return
    notes: dict[str, set[str]] = request.__dict__.setdefault(_ATTR, {})
    notes.setdefault(kind, set()).update(found)


def _summary(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "ids": ids[:20]}


def flush_out_of_scope(request: Any) -> None:
    """Write the request's out-of-scope references as one ``access_denied`` event."""
    notes = request.__dict__.pop(_ATTR, None)
    if not notes:
        return
    detail: dict[str, Any] = {"method": request.method, "path": request.path[:200]}
    detail["out_of_scope"] = {kind: _summary(sorted(ids)) for kind, ids in notes.items()}
    audit_log(event="access_denied", outcome="failure", detail=detail, request=request)
