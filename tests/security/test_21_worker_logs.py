"""#21.16: a real Celery worker's output carries no ID or phone number in clear.

The attack: the worker replaced the root logger (``worker_hijack_root_logger``), dropping the
masking filter; a task logging an ID number printed it whole. Now Django's LOGGING (with the
filter) is kept: ``CELERY_WORKER_HIJACK_ROOT_LOGGER = False`` and a ``setup_logging`` receiver.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from audit.logging import ID_RE, PHONE_RE
from tests.member_helpers import make_id

pytestmark = pytest.mark.services
NUMBER = make_id(date(1990, 3, 7), seq=123)


@pytest.fixture
def broker():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs a real Redis broker (CELERY_BROKER_URL=redis://…)")
    return url


def test_21_16_a_real_workers_output_masks_id_numbers(broker, tmp_path):
    from celery import Celery

    queue = f"probe-{os.getpid()}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    command = [sys.executable, "-m", "celery", "-A", "tests.security.worker_probe", "worker", "--pool=solo"]
    command += ["-Q", queue, "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    with log.open("wb") as out:
        worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT)
    try:
        client = Celery(broker=broker, set_as_current=False)  # never replace the app other tests route with
        result_id = client.send_task(
            "tests.security.probe_log", args=[NUMBER[:9], NUMBER[9:] + " 13812345678"], queue=queue
        ).id
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "printed" not in log.read_text(errors="ignore"):
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    output = log.read_text(errors="ignore")
    assert result_id and "probe" in output and "printed" in output, output[-2000:]
    leaks = [m.group(0) for m in (*ID_RE.finditer(output), *PHONE_RE.finditer(output))]
    assert not leaks, [line for line in output.splitlines() if any(leak in line for leak in leaks)]
    assert f"{NUMBER[:2]}{'*' * 14}{NUMBER[-2:]}" in output
    Path(log).unlink()
