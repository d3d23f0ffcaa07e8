"""Starting background work after the current transaction commits."""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def enqueue(task: Any, *args: Any) -> None:
    """Send ``task`` once the caller's transaction has committed (so the worker sees its rows).

    With tasks run eagerly (the test settings, CELERY_TASK_ALWAYS_EAGER) the task runs here and
    now, in the caller's thread, exactly as a worker would run it."""
    if current_app.conf.task_always_eager:
        task.apply(args=args, throw=True)
        return
    transaction.on_commit(lambda: task.delay(*args))
