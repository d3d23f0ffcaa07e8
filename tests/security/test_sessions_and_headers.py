"""SESS-1..3 sessions; DEP-2 CSP; DATA-6 no-store; DEP-1 production settings."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import sessions
from accounts.session_middleware import REFRESH_SECONDS, REFRESHED_AT
from audit.models import AuditEvent
from tests.security.conftest import PASSWORD, login, set_password

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_session_key_rotates_at_login(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    client.get("/login/")
    client.session["probe"] = 1
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    client.cookies["sessionid"] = before
    login(client, "secretary_a")
    after = client.cookies["sessionid"].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_logout_kills_the_session_server_side(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    login(client, "secretary_a")
    cookie = client.cookies["sessionid"].value
    assert client.get("/").status_code == 200
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    response = replay.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert AuditEvent.objects.filter(event="logout").count() == 1


def test_idle_timeout_of_30_minutes(cast):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert "accounts.session_middleware.IdleSessionMiddleware" in settings.MIDDLEWARE
    set_password(cast.users["secretary_a"])
    client = Client()
    login(client, "secretary_a")
    assert client.get("/").status_code == 200
    key = client.cookies["sessionid"].value
    expiry = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)
    # 31 minutes of inactivity: the stored session has expired
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(minutes=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def _session_writes(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"]
    ]


def test_requests_within_a_minute_do_not_write_the_session(cast):
    """#20.1: the idle timeout slides at most once a minute, not with a write per request."""
    set_password(cast.users["secretary_a"])
    client = Client()
    login(client, "secretary_a")
    assert client.get("/").status_code == 200
    key = client.cookies["sessionid"].value
    expiry = Session.objects.get(session_key=key).expire_date
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
        assert client.get(f"/api/v1/organizations/{cast.A.pk}/").status_code == 200
    assert _session_writes(captured) == []
    assert Session.objects.get(session_key=key).expire_date == expiry


def test_idle_timeout_slides_after_a_minute_of_use(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    login(client, "secretary_a")
    assert client.get("/").status_code == 200
    key = client.cookies["sessionid"].value
    # The last refresh was 61 seconds ago and the stored expiry 29 minutes away.
    session = client.session
    session[REFRESHED_AT] = session[REFRESHED_AT] - REFRESH_SECONDS - 1
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=29))
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    assert _session_writes(captured)
    expiry = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29, seconds=50) < expiry - timezone.now() <= timedelta(minutes=30)


def test_api_token_calls_create_no_session(cast):
    set_password(cast.users["secretary_a"])
    response = Client().post(
        "/api/v1/auth/token/", {"username": "secretary_a", "password": PASSWORD}, content_type="application/json"
    )
    client = Client(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    before = Session.objects.count()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/v1/organizations/{cast.A.pk}/").status_code == 200
    assert _session_writes(captured) == [] and Session.objects.count() == before
    assert "sessionid" not in client.cookies


def test_absolute_session_cap(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    login(client, "secretary_a")
    assert client.get("/").status_code == 200
    session = client.session
    assert session[sessions.EXPIRES_AT] - session[sessions.AUTH_AT] == pytest.approx(12 * 3600)
    session[sessions.EXPIRES_AT] = (timezone.now() - timedelta(seconds=1)).timestamp()  # 12 h later
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(event="session_expired").count() == 1


def test_expired_api_token_is_refused(cast):
    from knox.models import AuthToken

    from accounts.services.tokens import token_issue

    row, key = token_issue(user=cast.users["member_a"])
    ok = Client().get("/api/v1/organizations/", HTTP_AUTHORIZATION=f"Token {key}")
    assert ok.status_code == 200
    AuthToken.objects.filter(pk=row.pk).update(created=timezone.now() - timedelta(hours=13))  # past the 12 h cap
    expired = Client().get("/api/v1/organizations/", HTTP_AUTHORIZATION=f"Token {key}")
    assert expired.status_code == 401 and "过期" in expired.json()["detail"]
    AuthToken.objects.filter(pk=row.pk).update(created=timezone.now(), expiry=timezone.now() - timedelta(seconds=1))
    stored = Client().get("/api/v1/organizations/", HTTP_AUTHORIZATION=f"Token {key}")
    assert stored.status_code == 401 and "过期" in stored.json()["detail"]


PRODUCTION_COOKIES = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "CSRF_COOKIE_SAMESITE": "Lax",
}


FIELD_KEYS = {
    "FIELD_ENCRYPTION_KEY": "v1:" + base64.urlsafe_b64encode(b"k" * 32).decode(),
    "FIELD_HASH_KEY": base64.urlsafe_b64encode(b"h" * 32).decode(),
}


def _production_settings(*names: str) -> dict:
    # The browser harness sets DJANGO_ALLOW_ASYNC_UNSAFE for its own process; production never does.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 64,
        "AUDIT_HMAC_KEY": "k" * 64,
        "ALLOWED_HOSTS": "dangjian.example.gov.cn",
        **FIELD_KEYS,
    }
    pairs = ", ".join(f"{n!r}: getattr(s, {n!r})" for n in names)
    code = f"import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({{{pairs}}}))"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_settings_have_secure_cookies_and_2fa():
    values = _production_settings(*PRODUCTION_COOKIES, "PB_REQUIRE_2FA", "DEBUG", "SECURE_SSL_REDIRECT")
    for name, expected in PRODUCTION_COOKIES.items():
        assert values[name] == expected, name
    assert values["PB_REQUIRE_2FA"] is True and values["DEBUG"] is False and values["SECURE_SSL_REDIRECT"] is True


@override_settings(**PRODUCTION_COOKIES)
def test_set_cookie_flags_with_production_cookie_settings(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    client.get("/login/")
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    response = login(client, "secretary_a", secure=True)
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    header = cookie.output()
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


def test_check_deploy_is_clean_on_production_settings():
    # The browser harness sets DJANGO_ALLOW_ASYNC_UNSAFE for its own process; production never does.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "dangjian.example.gov.cn",
        "CSRF_TRUSTED_ORIGINS": "https://dangjian.example.gov.cn",
        **FIELD_KEYS,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,url",
    [
        ("anon", "/login/"),
        ("secretary_a", "/"),
        ("secretary_a", "/organizations/"),
        ("org_admin_p", "/api/v1/organizations/"),
        ("auditor_p", "/audit/"),
        ("sysadmin", "/account/users/"),
    ],
)
def test_pages_carry_csp_and_no_store(cast, who, url):
    response = cast.client(who).get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert "no-store" in response["Cache-Control"]


def test_static_files_keep_their_cache_headers(cast):
    # WhiteNoise answers before the header middleware; static files are public and cacheable.
    index = settings.MIDDLEWARE.index
    assert index("whitenoise.middleware.WhiteNoiseMiddleware") < index("accounts.middleware.SecurityHeadersMiddleware")


def test_swagger_ui_works_under_the_csp(cast):
    client = cast.client("org_admin_p")
    html = client.get("/api/v1/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    script_url = re.findall(r'<script src="([^"]*\?script[^"]*)"', html)[0].replace("&amp;", "&")
    js = client.get(script_url)
    assert js.status_code == 200 and "SwaggerUIBundle" in js.content.decode()


def test_templates_have_no_inline_scripts_or_event_handlers():
    """script-src 'self' blocks inline JavaScript: keep it in static files (htmx attributes are fine)."""
    offenders = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S):
            if "src=" not in attrs and body.strip() and "application/json" not in attrs:
                offenders.append(f"{path.relative_to(ROOT)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline event handler (onclick=…; use data-confirm=…)")
        if re.search(r"(?:src|href)=[\"']https?://", text):
            offenders.append(f"{path.relative_to(ROOT)}: external URL")
    assert not offenders, "Move inline JavaScript to static/ (CSP script-src 'self'):\n" + "\n".join(offenders)


def test_login_needs_csrf(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "secretary_a", "password": PASSWORD})
    assert response.status_code == 403
