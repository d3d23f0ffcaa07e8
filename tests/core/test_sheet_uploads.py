"""Every import refuses an oversize spreadsheet by its declared size, before reading it, with the
same message (``core.uploads.read_sheet_upload``), keeps the page form and saves nothing."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from members.dues.models import DuesImportBatch
from members.models import ImportBatch

pytestmark = pytest.mark.django_db
BIG = b"x" * 4096


def _file() -> SimpleUploadedFile:
    return SimpleUploadedFile("名单.xlsx", BIG, content_type="application/octet-stream")


def test_member_and_dues_imports_refuse_an_oversize_file(cast, monkeypatch):
    from members import imports
    from members.dues import imports as dues_imports

    monkeypatch.setattr(imports, "MAX_BYTES", 1024)
    monkeypatch.setattr(dues_imports, "MAX_BYTES", 1024)
    client = cast.client("secretary_a")
    members = client.post("/members/import/", {"organization": cast.A.pk, "file": _file()})
    assert "文件过大（上限 1 MB），请分批导入" in members.content.decode()  # under 1 MB is said as 1 MB
    assert not ImportBatch.objects.exists()
    dues = client.post(f"/dues/org/{cast.A.pk}/import/", {"year": 2026, "file": _file()})
    assert dues.status_code == 400 and "文件过大" in dues.content.decode()
    assert not DuesImportBatch.objects.exists()


def test_channel_address_page_and_api_refuse_an_oversize_file(cast, monkeypatch):
    from notifications.api import views as api_views
    from notifications.models import ChannelAddress
    from notifications.services import addresses

    small = dataclasses.replace(addresses.LIMITS, max_bytes=1024)
    monkeypatch.setattr(addresses, "LIMITS", small)
    monkeypatch.setattr(api_views, "ADDRESS_LIMITS", small)
    page = cast.client("org_admin_p").post(f"/notifications/rules/{cast.P.pk}/addresses/", {"file": _file()})
    assert page.status_code == 200 and "文件过大" in page.content.decode()
    api = cast.api("org_admin_p").post(
        "/api/v1/channel-addresses/import/", {"organization": cast.P.pk, "file": _file()}, format="multipart"
    )
    assert api.status_code == 400 and "文件过大" in str(api.json()["file"])
    assert not ChannelAddress.objects.exists()
