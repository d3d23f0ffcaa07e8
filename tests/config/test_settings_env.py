"""Settings come from the environment; malformed values stop start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_broker, env_database, env_int

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "func,name,value",
    [
        (env_bool, "X_BOOL", "maybe"),
        (env_int, "X_INT", "12a"),
        (env_database, "DATABASE_URL", "mysqlx://nope"),
        (env_database, "DATABASE_URL", "not a url"),
        (env_broker, "CELERY_BROKER_URL", "carrier-pigeon://coop"),
    ],
)
def test_malformed_values_name_the_variable(monkeypatch, func, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as exc:
        func(name, "sqlite:///x.db") if func is env_database else func(
            name, "filesystem://"
        ) if func is env_broker else func(name, 1)
    assert name in str(exc.value)


def test_database_url_switches_engine(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb")
    config = env_database("DATABASE_URL", "sqlite:///x.db")
    assert config["ENGINE"] == "django.db.backends.postgresql" and config["NAME"] == "pb"


def test_secret_from_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("42\n")
    monkeypatch.setenv("X_INT_FILE", str(secret))
    assert env_int("X_INT", 1) == 42


def test_start_up_fails_loudly_on_bad_env():
    env = {**os.environ, "DATABASE_URL": "bogus://x", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_defaults_need_no_server(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.LANGUAGE_CODE == "zh-hans"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    code = (
        "from django.conf import settings;import django;django.setup();"
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"], out.stderr


def test_filesystem_broker_writes_only_under_var_dir(settings, tmp_path, monkeypatch):
    """kombu's filesystem transport keeps its exchange table in ./control unless ``control_folder``
    is set (a stray control/ folder was once committed); every option is one kombu reads."""
    from django.conf import settings as live

    if not live.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the embedded broker is not in use")
    options = live.CELERY_BROKER_TRANSPORT_OPTIONS
    assert set(options) <= {"data_folder_in", "data_folder_out", "processed_folder", "control_folder", "store_processed"}
    var_dir = str(live.VAR_DIR)
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert options[key].startswith(var_dir), key

    from kombu import Connection, Exchange, Queue

    monkeypatch.chdir(tmp_path)
    with Connection(live.CELERY_BROKER_URL, transport_options=options) as conn:
        queue = Queue("pb-test-fs", Exchange("pb-test-fs", type="direct"), routing_key="pb-test-fs")
        with conn.Producer() as producer:
            producer.publish({"x": 1}, exchange=queue.exchange, routing_key="pb-test-fs", declare=[queue])
        message = queue(conn.channel()).get(no_ack=True)
        assert message is not None and message.payload == {"x": 1}
    assert not (tmp_path / "control").exists()
