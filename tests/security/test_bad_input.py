"""Bad input (issue 8 "Bad input"; UP-1, UP-2): oversize bodies, wrong types, unknown fields,
and a corpus of crafted files against the shared upload check (activities.attachments)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from PIL import Image

from activities.attachments import attachment_check

pytestmark = pytest.mark.django_db


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="JPEG")
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, format="PNG")
    return out.getvalue()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
@pytest.mark.parametrize("url", ["/api/v1/organizations/", "/api/v1/auth/token/"])
def test_oversize_json_body_is_refused_not_500(cast, url):
    body = json.dumps({"name": "x" * (200 * 1024), "code": "C", "org_type": "branch"})
    response = cast.api("org_admin_p").post(url, body, content_type="application/json")
    assert response.status_code in (400, 413)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_oversize_form_post_is_refused_not_500(cast):
    response = cast.client("org_admin_p").post("/organizations/new/", {"name": "x" * (200 * 1024)})
    assert response.status_code in (400, 413)


def test_wrong_types_and_unknown_fields_are_400(cast):
    api = cast.api("org_admin_p")
    wrong = api.post("/api/v1/organizations/", {"parent": "abc", "name": 5, "code": [], "org_type": 1}, format="json")
    assert wrong.status_code == 400 and {"parent", "code", "org_type"} <= set(wrong.json())
    unknown = api.patch(f"/api/v1/organizations/{cast.A.pk}/", {"path": "0001", "depth": 1}, format="json")
    assert unknown.status_code == 400
    not_an_object = api.post("/api/v1/organizations/", "[1, 2]", content_type="application/json")
    assert not_an_object.status_code == 400
    broken = api.post("/api/v1/organizations/", "{not json", content_type="application/json")
    assert broken.status_code == 400
    token = api.post("/api/v1/auth/token/", {"username": "a", "password": "b", "role": "admin"}, format="json")
    assert token.status_code == 400 and "role" in token.json()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"0" * (20 * 1024 * 1024))
    return out.getvalue()


BAD_FILES = {
    "polyglot HTML after a JPEG": ("photo.jpg", _jpeg() + b"<html><script>alert(1)</script></html>"),
    "HTML named .jpg": ("photo.jpg", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    "SVG with script": ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    "SVG named .png": ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "x.php.jpg": ("x.php.jpg", _jpeg()),
    "PNG named .jpg": ("photo.jpg", _png()),
    "truncated JPEG": ("photo.jpg", _jpeg()[:60]),
    "zip bomb named .jpg": ("photo.jpg", _zip_bomb()),
    "PDF with JavaScript": ("a.pdf", b"%PDF-1.4\n1 0 obj << /OpenAction << /JS (app.alert(1)) >> >>\n%%EOF"),
    "empty file": ("a.pdf", b""),
    "executable": ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64),
}


@pytest.mark.parametrize("label", sorted(BAD_FILES))
def test_bad_file_corpus_is_refused(label):
    name, content = BAD_FILES[label]
    with pytest.raises(ValidationError):
        attachment_check(name=name, content=content)


@override_settings(PB_ATTACHMENT_MAX_BYTES=1024)
def test_uploads_over_the_limit_are_refused():
    with pytest.raises(ValidationError, match="过大"):
        attachment_check(name="big.pdf", content=b"%PDF-1.4\n" + b"0" * 2048 + b"\n%%EOF")


def test_good_files_pass_and_images_are_re_encoded():
    jpeg = attachment_check(name="合影.jpg", content=_jpeg())
    assert jpeg.content_type == "image/jpeg" and jpeg.content[:3] == b"\xff\xd8\xff"
    assert attachment_check(name="a.png", content=_png()).content_type == "image/png"
