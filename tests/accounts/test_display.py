"""个人设置 → 大字模式 (issue 14.4): remembered per user, applied on every page without a query, and the
page chrome (site name, favicon, icons, tab bar) of issue 14.5."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, override_settings

from accounts.display import display_preference_set
from accounts.models import DisplayPreference

pytestmark = pytest.mark.django_db


def test_large_text_is_remembered_per_user_across_logins(cast):
    client = cast.client("member_a")
    assert 'class="large-text"' not in client.get("/").content.decode()
    response = client.post("/account/display/large-text/", {"large_text": "1", "next": "/notifications/settings/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/settings/"
    assert DisplayPreference.objects.get(user=cast.users["member_a"]).large_text
    assert '<html lang="zh-CN" class="large-text">' in client.get("/").content.decode()
    # Another device: a fresh login reads the stored choice into the session.
    other = Client()
    user = cast.users["member_a"]
    user.set_password("Display!2026x")
    user.save()
    assert other.post("/login/", {"username": "member_a", "password": "Display!2026x"}).status_code == 302
    assert 'class="large-text"' in other.get("/notifications/settings/").content.decode()
    other.post("/account/display/large-text/", {"large_text": "0"})
    assert not DisplayPreference.objects.get(user=user).large_text


def test_large_text_toggle_refuses_get_foreign_redirects_and_other_users(cast):
    client = cast.client("member_a")
    assert client.get("/account/display/large-text/").status_code == 405
    response = client.post("/account/display/large-text/", {"large_text": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/notifications/settings/"
    with pytest.raises(PermissionDenied):
        display_preference_set(actor=cast.users["secretary_a"], user=cast.users["member_a"], large_text=True)


def test_settings_page_offers_the_switch(cast):
    body = cast.client("secretary_a").get("/notifications/settings/").content.decode()
    assert "大字模式" in body and 'aria-pressed="false"' in body


@override_settings(PB_SITE_NAME="某某市委党建云", PB_SITE_LOGO="favicon.svg")
def test_login_page_shows_the_deployment_name_logo_and_favicon(client):
    body = client.get("/login/").content.decode()
    assert "<h1>某某市委党建云</h1>" in body
    assert 'src="/static/favicon.svg" alt="某某市委党建云标志"' in body
    assert 'rel="icon" href="/static/favicon.svg"' in body
    assert "某某市委党建云" in body.split("<title>")[1]


def test_pages_carry_icons_tab_bar_and_current_place(cast):
    body = cast.client("member_a").get("/activities/my/study/").content.decode()
    assert 'class="tabbar"' in body and "vendor/bootstrap-icons/icons.svg#book" in body
    tabbar = body.split('class="tabbar"')[1]
    assert 'href="/activities/my/study/" aria-current="page"' in tabbar
    assert "审计" not in tabbar
    auditor = cast.client("auditor_p").get("/").content.decode().split('class="tabbar"')[1]
    assert 'href="/audit/"' in auditor


def test_unknown_icon_is_a_template_error():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load ui %}{% icon "no-such-icon" %}').render(Context())
    html = Template('{% load ui %}{% icon "bell" "消息" %}').render(Context())
    assert 'role="img" aria-label="消息"' in html
