"""/healthz: the process answers (no database). /readyz: every dependency, as JSON per check.

The checks are django-health-check's check classes (Database, Cache, Celery ping) and ours
(core.health.checks). They run one after another in the request's thread, so no probe leaves a
database connection open in a helper thread; each check's own client timeout bounds it. A load
balancer reads the status code (200 ready, 503 not), monitoring reads each check's status and time.
"""

from __future__ import annotations

import inspect
import logging
import time

from asgiref.sync import async_to_sync
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check.exceptions import HealthCheckException, ServiceWarning

from core.health.checks import readiness_checks

log = logging.getLogger("core.health")


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok", "time": timezone.now().isoformat()})


def run_check(check) -> dict:
    started = time.perf_counter()
    try:
        if inspect.iscoroutinefunction(check.run):
            async_to_sync(check.run)()  # e.g. health_check's Cache check is a coroutine
        else:
            check.run()
    except ServiceWarning as exc:
        state, detail = "warn", exc.message
    except HealthCheckException as exc:
        state, detail = "fail", exc.message
    except Exception:  # a probe that breaks is a failed probe, never a 500
        log.exception("health check %s raised", type(check).__name__)
        state, detail = "fail", "unexpected error"
    else:
        state, detail = "ok", None
    entry = {"status": state, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail is not None:
        entry["detail"] = detail
    return entry


@require_GET
@never_cache
def readyz(request):
    checks = {type(check).__name__.lower(): run_check(check) for check in readiness_checks()}
    failed = any(entry["status"] == "fail" for entry in checks.values())
    body = {"status": "fail" if failed else "ok", "time": timezone.now().isoformat(), "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)
