"""Start and stop the two servers on loopback ports: ours (gunicorn, production settings) and the
peer (uvicorn). Each runs in its own process group, ended by its own id when the run is over."""

from __future__ import annotations

import base64
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from demo.peer_compare.load import PeerSetup

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own group (start_new_session)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def ours_env(*, bench_url: str, redis_url: str, port: int, workers: int, var_dir: Path) -> dict[str, str]:
    """Production settings with throwaway secrets (a scratch database; nothing here is kept)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PB_", "GUNICORN_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": bench_url,
            "CACHE_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(64),
            "FIELD_ENCRYPTION_KEY": f"v1:{_key()}",
            "FIELD_HASH_KEY": _key(),
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            "AUDIT_CHECKPOINT_DIR": str(var_dir / "audit"),
            "PB_REQUIRE_2FA": "false",  # the bench accounts log in for a token without an OTP device
            "GUNICORN_BIND": f"{HOST}:{port}",
            "GUNICORN_WORKERS": str(workers),
        }
    )
    return env


def _start(name: str, argv: list[str], *, cwd: Path | str, env: dict[str, str], port: int, log: Path) -> Server:
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed argv: our gunicorn or the peer's uvicorn
        argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Server(name=name, port=port, process=process, log=log)


def wait_ready(server: Server, path: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} 已退出，见 {server.log}")
        try:
            conn = http.client.HTTPConnection(HOST, server.port, timeout=5)
            conn.request("GET", path, headers={"X-Forwarded-Proto": "https"})
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{server.name} 未能在 {timeout:.0f} 秒内启动，见 {server.log}")


@contextmanager
def running(
    *,
    bench_url: str,
    redis_url: str,
    setup: PeerSetup,
    ours_port: int,
    peer_port: int,
    workers: int,
    log_dir: Path,
) -> Iterator[tuple[Server, Server]]:
    log_dir.mkdir(parents=True, exist_ok=True)
    var_dir = log_dir / "var"
    for sub in ("media", "audit"):
        (var_dir / sub).mkdir(parents=True, exist_ok=True)
    ours = _start(
        "ours",
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"],
        cwd=REPO,
        env=ours_env(bench_url=bench_url, redis_url=redis_url, port=ours_port, workers=workers, var_dir=var_dir),
        port=ours_port,
        log=log_dir / "ours.log",
    )
    peer = _start(
        "peer",
        [setup.peer_python, "-m", "uvicorn", "src.main:app", "--host", HOST, "--port", str(peer_port)]
        + ["--workers", str(workers)],
        cwd=setup.peer_dir,
        env=setup.env(),
        port=peer_port,
        log=log_dir / "peer.log",
    )
    try:
        wait_ready(ours, "/healthz")
        wait_ready(peer, "/docs")
        yield ours, peer
    finally:
        ours.stop()
        peer.stop()
