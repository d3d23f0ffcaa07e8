"""The dashboard API's answer, kept in the shared cache until something it shows can have changed
(#20.3: ten 组织部门 readers polling the root dashboard during a quarter-end rush took half of the
web tier's CPU, each poll recomputing the same figures).

One entry per (organization, period, page), ``(generation, answer)``, beside one generation token,
as the gate's scope cache does. ``retire_all`` replaces the token, which retires every entry: the
summary tables call it whenever a fact row changes (``facts_refresh`` with differences, every
rebuild), and the organization tree whenever an organization is saved, moved or deleted (names,
types and children are in the answer). It runs right away and again after the commit, so an
answer computed from the old rows while the change was in flight is stored under a token that is
already retired. The answer is the same JSON the view computes, so a hit shows exactly what a
recount would have shown at the last change; what depends on the moment (the build's state and
``updating``) is computed on every call.

Only answers that do not depend on the user are kept: those of users who read the whole subtree
(``subtree_covered``: org_admin, auditor). A secretary's figures are summed from what they may see.
Only a cache shared by every process (Redis) is used: with the per-process embedded cache a
worker's refresh could not retire the web processes' entries.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "pb:dashboard:generation"


def enabled() -> bool:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return settings.PB_DASHBOARD_ANSWER_SECONDS > 0 and "redis" in backend.lower()


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001 - the cache is down: entries expire on their own timeout
        return


def retire_all() -> None:
    """Every kept answer is stale from now (and again once the current transaction commits)."""
    if not enabled():
        return
    _new_generation()
    transaction.on_commit(_new_generation)


def _key(org_pk: int, period: Any, page: int) -> str:
    return f"pb:dashboard:answer:{org_pk}:{period.year}:{period.quarter}:{period.on.isoformat()}:{page}"


def kept_answer(*, org_pk: int, period: Any, page: int, compute: Callable[[], dict[str, Any] | None]) -> Any:
    """The kept answer if still current, else ``compute()`` (kept when it returns one)."""
    if not enabled():
        return compute()
    key = _key(org_pk, period, page)
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except Exception:  # noqa: BLE001 - the cache is down: compute, never refuse the request
        return compute()
    generation = found.get(GENERATION_KEY)
    entry = found.get(key)
    if generation is not None and isinstance(entry, tuple) and entry[0] == generation:
        return entry[1]
    if generation is None:
        generation = uuid.uuid4().hex
        try:
            if not cache.add(GENERATION_KEY, generation, None):
                generation = cache.get(GENERATION_KEY)
        except Exception:  # noqa: BLE001 - the cache went away: compute, keep nothing
            generation = None
    answer = compute()
    if answer is not None and generation is not None:
        with contextlib.suppress(Exception):  # not kept: the next call computes again
            cache.set(key, (generation, answer), settings.PB_DASHBOARD_ANSWER_SECONDS)
    return answer
