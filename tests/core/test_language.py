"""#13.11: the site speaks Simplified Chinese to everyone, whatever Accept-Language says."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ACCEPT = ["en-US,en;q=0.9", "zh-TW,zh;q=0.9", "zh-Hant", "ja", "fr-FR"]


@pytest.mark.parametrize("accept", ACCEPT)
def test_api_field_errors_are_simplified_chinese(cast, accept):
    response = cast.api("secretary_a").post("/api/v1/talks/", {}, format="json", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 400
    messages = [m for value in response.json().values() for m in value]
    assert "该字段是必填项。" in messages
    assert not any("required" in m or "必須" in m or "欄位" in m for m in messages)
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.parametrize("accept", ACCEPT)
def test_page_form_errors_are_simplified_chinese(cast, accept):
    client = Client()
    client.force_login(cast.users["secretary_a"])
    response = client.post("/members/new/", {"organization": cast.A.pk}, HTTP_ACCEPT_LANGUAGE=accept)
    html = response.content.decode()
    assert response.status_code == 200
    assert "该字段是必填项。" in html
    assert "This field is required" not in html and "這個欄位是必須的" not in html


def test_only_simplified_chinese_is_configured(settings):
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans"]
