"""Attachments: type by content, re-encoded images without EXIF/GPS, random names outside the web
root, served only through the gate; a bad-file corpus is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from activities.attachments import attachment_path
from activities.models import Attachment
from activities.services.meetings import meeting_delete, meeting_save
from audit.models import AuditEvent
from tests.activities.conftest import add_members, attendance, header
from tests.files import PDF

pytestmark = pytest.mark.django_db


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 27.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 5.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()




@pytest.fixture
def meeting(cast, today_is, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    people = [cast.member_a_record, *add_members(cast.A, full=2)]
    return meeting_save(
        user=cast.users["secretary_a"],
        organization=cast.A,
        data=header(),
        attendance=attendance(people, 3),
        resolutions=[],
        finish=True,
    )


def upload(cast, meeting, name, content, who="secretary_a"):
    return cast.api(who).post(
        f"/api/v1/meetings/{meeting.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content), "kind": "photo"},
        format="multipart",
    )


def test_jpeg_is_reencoded_without_exif_and_stored_under_a_random_name(cast, meeting, settings):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the fixture really has GPS
    response = upload(cast, meeting, "../../现场照片.JPG", original)
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get()
    path = attachment_path(attachment)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert attachment.original_name == "现场照片.JPG"
    assert "现场" not in attachment.stored_name and attachment.stored_name.endswith(".jpg")
    assert len(attachment.stored_name) == 32 + 4
    stored = path.read_bytes()
    assert stored != original
    reopened = Image.open(io.BytesIO(stored))
    assert reopened.size == (64, 48)
    exif = reopened.getexif()
    assert not exif.get_ifd(0x8825) and 0x010F not in exif
    assert AuditEvent.objects.filter(event="attachment_add").count() == 1


def test_png_and_pdf_are_accepted(cast, meeting):
    assert upload(cast, meeting, "签到表.png", png()).status_code == 201
    response = upload(cast, meeting, "会议记录.pdf", PDF)
    assert response.status_code == 201 and response.json()["content_type"] == "application/pdf"


BAD_FILES = [
    ("svg-with-script.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "扩展名"),
    ("svg-named-png.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "JPEG、PNG"),
    ("page.html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "扩展名"),
    ("page.jpg", b"<html><img src=x onerror=alert(1)></html>", "JPEG、PNG"),
    ("x.php.jpg", b"\xff\xd8\xff\xe0<?php system($_GET['c']); ?>", "扩展名"),
    ("script.exe", b"MZ\x90\x00" + b"\x00" * 60, "扩展名"),
    ("archive.zip", b"PK\x03\x04" + b"\x00" * 60, "JPEG、PNG"),
    ("pdf-with-js.pdf", b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF", "脚本"),
    ("truncated.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n", "不完整"),
    ("png-named-jpg.jpg", None, "不一致"),
]


@pytest.mark.parametrize("name,content,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_corpus_is_refused(cast, meeting, name, content, message):
    response = upload(cast, meeting, name, content if content is not None else png())
    assert response.status_code == 400, response.content
    assert message in response.json()["file"][0]
    assert not Attachment.objects.exists()


def test_polyglot_html_jpeg_is_refused(cast, meeting):
    image = jpeg_with_gps()
    with_comment = image[:2] + b"\xff\xfe\x00\x30<html><script>alert(1)</script></html>....." + image[2:]
    response = upload(cast, meeting, "poly.jpg", with_comment)
    assert response.status_code == 400 and "网页或脚本" in response.json()["file"][0]
    appended = image + b"<html><body><script>alert(document.cookie)</script></body></html>"
    response = upload(cast, meeting, "poly2.jpg", appended)
    assert response.status_code == 400
    trailing = image + b"A" * 200  # data smuggled after the end marker, no markup
    response = upload(cast, meeting, "poly3.jpg", trailing)
    assert response.status_code == 400 and "多余数据" in response.json()["file"][0]


def test_truncated_image_is_refused(cast, meeting):
    image = jpeg_with_gps()
    response = upload(cast, meeting, "broken.jpg", image[: len(image) // 2] + b"\xff\xd9")
    assert response.status_code == 400 and "不完整或已损坏" in response.json()["file"][0]
    data = png()
    response = upload(cast, meeting, "broken.png", data[:40] + data[-12:])
    assert response.status_code == 400


def test_oversize_is_refused(cast, meeting, settings):
    settings.PB_ATTACHMENT_MAX_BYTES = 2048
    response = upload(cast, meeting, "big.pdf", PDF + b"%" + b"0" * 4096 + b"\n%%EOF")
    assert response.status_code == 400 and "文件过大" in response.json()["file"][0]


def test_download_is_gated_and_served_as_attachment(cast, meeting):
    pk = upload(cast, meeting, "现场.jpg", jpeg_with_gps()).json()["id"]
    page = cast.client("secretary_a").get(f"/activities/attachments/{pk}/download/")
    assert page.status_code == 200
    assert page["Content-Disposition"].startswith("attachment;")
    assert page["X-Content-Type-Options"] == "nosniff" and page["Content-Type"] == "image/jpeg"
    api = cast.api("secretary_a").get(f"/api/v1/attachments/{pk}/download/")
    assert api.status_code == 200 and api["Content-Disposition"].startswith("attachment;")
    # B's secretary, members and anonymous users cannot fetch it.
    assert cast.client("secretary_b").get(f"/activities/attachments/{pk}/download/").status_code == 404
    assert cast.api("secretary_b").get(f"/api/v1/attachments/{pk}/download/").status_code == 404
    assert cast.api("secretary_b").delete(f"/api/v1/attachments/{pk}/").status_code == 404
    assert cast.client("member_a").get(f"/activities/attachments/{pk}/download/").status_code == 404
    assert cast.client("anon").get(f"/activities/attachments/{pk}/download/").status_code == 302
    # Nothing under MEDIA_URL is routed: files are only reachable through the gated view.
    assert cast.client("secretary_a").get("/media/attachments/").status_code == 404


def test_deleting_attachment_or_meeting_deletes_the_file(cast, meeting, django_capture_on_commit_callbacks):
    pk = upload(cast, meeting, "a.png", png()).json()["id"]
    path = attachment_path(Attachment.objects.get(pk=pk))
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert cast.api("secretary_a").delete(f"/api/v1/attachments/{pk}/").status_code == 204
    assert not path.exists()
    pk = upload(cast, meeting, "b.png", png()).json()["id"]
    path = attachment_path(Attachment.objects.get(pk=pk))
    with django_capture_on_commit_callbacks(execute=True):
        meeting_delete(user=cast.users["secretary_a"], meeting=meeting)
    assert not path.exists()


def test_upload_from_the_meeting_page(cast, meeting):
    client = cast.client("secretary_a")
    response = client.post(
        f"/activities/meetings/{meeting.pk}/attachments/",
        {"file": SimpleUploadedFile("签到.png", png()), "kind": "scan"},
    )
    assert response.status_code == 302
    assert Attachment.objects.get().kind == "scan"
    response = client.post(
        f"/activities/meetings/{meeting.pk}/attachments/",
        {"file": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>"), "kind": "photo"},
        follow=True,
    )
    assert "上传失败" in response.content.decode()
    assert (
        cast.client("secretary_b")
        .post(f"/activities/meetings/{meeting.pk}/attachments/", {"file": SimpleUploadedFile("a.png", png())})
        .status_code
        == 404
    )
