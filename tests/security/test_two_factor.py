"""AUTH-3: TOTP two-factor authentication for the administrative roles (pages and API)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.security.conftest import PASSWORD, code_for, enrol_device, login, set_password

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_2fa")]


@pytest.fixture
def require_2fa(settings):
    settings.PB_REQUIRE_2FA = True


@pytest.mark.parametrize("who", ["secretary_a", "org_admin_p", "auditor_p", "sysadmin"])
def test_password_alone_opens_nothing_for_admin_roles(cast, who):
    set_password(cast.users[who])
    client = Client()
    assert login(client, who).status_code == 302
    for url in ("/", "/organizations/", f"/organizations/{cast.A.pk}/", "/api/v1/organizations/", "/audit/"):
        response = client.get(url)
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/account/2fa/setup/"), response["Location"]
    assert client.get("/api/v1/organizations/").status_code == 403


def test_members_are_not_forced(cast):
    set_password(cast.users["member_a"])
    client = Client()
    login(client, "member_a")
    assert client.get("/").status_code == 200


def test_enrolment_with_a_locally_drawn_qr_code_then_verification_at_each_login(cast):
    user = cast.users["secretary_a"]
    set_password(user)
    client = Client()
    login(client, "secretary_a")
    page = client.get("/account/2fa/setup/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "<path" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post("/account/2fa/setup/", {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    done = client.post("/account/2fa/setup/", {"token": code_for(device)})
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(event="otp_enrolled", username="secretary_a").count() == 1
    # next login: password, then the code
    second = Client()
    login(second, "secretary_a")
    response = second.get(f"/organizations/{cast.A.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/account/2fa/verify/")
    assert second.post("/account/2fa/verify/", {"token": "12345"}).status_code == 200
    assert second.get("/").status_code == 302
    ok = second.post("/account/2fa/verify/", {"token": code_for(device)})
    assert ok.status_code == 302
    assert second.get(f"/organizations/{cast.A.pk}/").status_code == 200
    assert AuditEvent.objects.filter(event="otp_verified").count() == 1


def test_a_member_who_enrols_voluntarily_is_asked_too(cast):
    user = cast.users["member_a"]
    set_password(user)
    device = enrol_device(user)
    client = Client()
    login(client, "member_a")
    assert client.get("/")["Location"].startswith("/account/2fa/verify/")
    client.post("/account/2fa/verify/", {"token": code_for(device)})
    assert client.get("/").status_code == 200


def test_api_token_needs_otp_for_admin_roles(cast):
    user = cast.users["secretary_a"]
    set_password(user)
    url = "/api/v1/auth/token/"
    no_device = Client().post(url, {"username": "secretary_a", "password": PASSWORD}, content_type="application/json")
    assert no_device.status_code == 403 and "token" not in no_device.json()
    device = enrol_device(user)
    missing = Client().post(url, {"username": "secretary_a", "password": PASSWORD}, content_type="application/json")
    assert missing.status_code == 403 and "otp" in missing.json()
    wrong = Client().post(
        url, {"username": "secretary_a", "password": PASSWORD, "otp": "000001"}, content_type="application/json"
    )
    assert wrong.status_code == 403
    ok = Client().post(
        url, {"username": "secretary_a", "password": PASSWORD, "otp": code_for(device)}, content_type="application/json"
    )
    assert ok.status_code == 200
    token = ok.json()["token"]
    listing = Client().get("/api/v1/organizations/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listing.status_code == 200


def test_api_token_for_members_needs_no_otp(cast):
    set_password(cast.users["member_a"])
    ok = Client().post(
        "/api/v1/auth/token/", {"username": "member_a", "password": PASSWORD}, content_type="application/json"
    )
    assert ok.status_code == 200


@override_settings(PB_REQUIRE_2FA=False)
def test_the_requirement_is_a_setting(cast):
    set_password(cast.users["secretary_a"])
    client = Client()
    login(client, "secretary_a")
    assert client.get("/").status_code == 200


def test_superusers_must_use_2fa_and_their_logins_are_audited(cast):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("breakglass", password=PASSWORD)
    client = Client()
    login(client, "breakglass")
    assert client.get("/django-admin/")["Location"].startswith("/account/2fa/setup/")
    assert AuditEvent.objects.filter(event="superuser_login", user=admin).count() == 1
