"""The deploy kit (#18.1) parses: systemd units verify, the nginx site passes `nginx -t` in a
throwaway prefix, gunicorn's settings load, and the environment template lists every variable."""

from __future__ import annotations

import datetime as dt
import re
import runpy
import shutil
import subprocess  # noqa: S404 - fixed commands on files of this repository
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
DEPLOY = BASE / "deploy"
ENV_TEMPLATE = DEPLOY / "partybuilding.env.example"


def variables_read_by_the_app() -> set[str]:
    names: set[str] = set()
    for path in [*(BASE / "config").rglob("*.py"), DEPLOY / "gunicorn.conf.py"]:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'env_(?:str|int|bool|list|database|broker)\(\s*"([A-Z0-9_]+)"', text))
        names |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z0-9_]+)"', text))
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_the_environment_template_lists_every_variable_the_app_reads():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_TEMPLATE.read_text(encoding="utf-8"), re.MULTILINE))
    missing = sorted(variables_read_by_the_app() - listed)
    assert not missing, f"add to deploy/partybuilding.env.example: {missing}"


def test_units_name_exactly_one_beat_and_a_worker_per_queue_family():
    units = {p.name: p.read_text(encoding="utf-8") for p in (DEPLOY / "systemd").glob("*.service")}
    beats = [name for name, text in units.items() if " beat " in text]
    assert beats == ["partybuilding-beat.service"]
    consumed = set()
    for text in units.values():
        match = re.search(r"worker -Q (\S+)", text)
        if match:
            consumed |= set(match.group(1).split(","))
    assert consumed == set(settings.PB_CELERY_QUEUES)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path):
    (tmp_path / "partybuilding.env").write_text("CELERY_CONCURRENCY=2\n")
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/etc/partybuilding/partybuilding.env", str(tmp_path / "partybuilding.env"))
        text = text.replace("/opt/partybuilding", str(BASE)).replace("=partybuilding\n", "=root\n")
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    units = sorted(str(p) for p in tmp_path.glob("partybuilding-*.service")) + sorted(
        str(p) for p in tmp_path.glob("*.timer")
    )
    proc = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False)  # noqa: S603,S607
    problems = [line for line in proc.stderr.splitlines() if str(tmp_path) in line]
    assert proc.returncode == 0 and not problems, proc.stderr


def _self_signed(directory: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dangjian.example.gov.cn")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (CI installs nginx-light)")
def test_nginx_site_passes_nginx_t(tmp_path):
    _self_signed(tmp_path)
    site = (DEPLOY / "nginx" / "partybuilding.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/partybuilding", str(tmp_path)).replace("/var/lib/partybuilding", str(tmp_path))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path};\n include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(  # noqa: S603
        [shutil.which("nginx"), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "syntax is ok" in proc.stderr


def test_gunicorn_settings_load_and_outlast_nothing_nginx_waits_for():
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["workers"] >= 2
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s", (DEPLOY / "nginx" / "partybuilding.conf").read_text()).group(1))
    assert conf["timeout"] < read_timeout
    body = re.search(r"client_max_body_size (\d+)m", (DEPLOY / "nginx" / "partybuilding.conf").read_text()).group(1)
    assert int(body) * 1024 * 1024 >= settings.PB_ATTACHMENT_MAX_BYTES
