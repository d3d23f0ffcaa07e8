"""#21.9: PDFs are parsed (pypdf), and development-step attachments get the same upload check.

The attacks: ``/J#61vaScript``, JavaScript inside a FlateDecode object stream and
``/OpenAction /URI`` passed the byte search of the meeting-attachment check; development-step
attachments were checked by magic bytes only (a JPEG+``<script>`` named ``申请书.html`` was stored
and served as ``text/html``, EXIF GPS kept). Now ``core.uploads.check_upload`` serves both.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from activities.attachments import attachment_check
from members.development.models import DevelopmentStep
from members.development.services import development_applicant_create
from tests.files import PDF

pytestmark = pytest.mark.django_db

PAGES = [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"]


def classic_pdf(catalog_extra: bytes, *extra_objects: bytes) -> bytes:
    """A well-formed PDF with a classic xref table: 1 catalog, 2 pages, 3 page, then extras."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>", *PAGES, *extra_objects]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def object_stream_pdf(hidden: bytes) -> bytes:
    """PDF 1.5: object 5 (``hidden``) lives compressed in object stream 4; an xref stream (6)."""
    out = bytearray(b"%PDF-1.5\n")
    offsets = {}
    for number, body in ((1, b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>"), (2, PAGES[0]), (3, PAGES[1])):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    header = b"5 0 "
    packed = zlib.compress(header + hidden)
    offsets[4] = len(out)
    out += b"4 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        len(header),
        len(packed),
    )
    out += packed + b"\nendstream\nendobj\n"
    offsets[6] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offsets[n], 0) for n in (1, 2, 3, 4)]
    rows += [struct.pack(">BIH", 2, 4, 0), struct.pack(">BIH", 1, offsets[6], 0)]
    data = b"".join(rows)
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(data)
    out += data + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


ATTACKS = {
    "hex-escaped /J#61vaScript": classic_pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
    "JavaScript in a FlateDecode object stream": object_stream_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
    "/OpenAction /URI": classic_pdf(b"/OpenAction << /S /URI /URI (http://x.example/) >>"),
    "/Launch": classic_pdf(b"/OpenAction 4 0 R", b"<< /S /Launch /F (calc.exe) >>"),
    "embedded file": classic_pdf(b"/Names << /EmbeddedFiles << /Names [(a) 4 0 R] >> >>", b"<< /Type /Filespec >>"),
    "link annotation with a URI": classic_pdf(
        b"", b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (http://x/) >> >>"
    ),
    "additional actions": classic_pdf(b"/AA << /WC 4 0 R >>", b"<< /S /GoTo /D [3 0 R /Fit] >>"),
}


@pytest.mark.parametrize("label", list(ATTACKS))
def test_21_9_active_pdfs_are_refused(label):
    with pytest.raises(ValidationError) as exc:
        attachment_check(name="会议记录.pdf", content=ATTACKS[label])
    assert "PDF" in exc.value.message_dict["file"][0], label


def test_21_9_plain_pdfs_and_in_document_jumps_pass():
    assert attachment_check(name="会议记录.pdf", content=PDF).content_type == "application/pdf"
    toc = classic_pdf(b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>")
    assert attachment_check(name="目录.pdf", content=toc).content == toc


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x8825] = {2: (39.0, 54.0, 0.0), 1: "N"}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_21_9_development_step_attachments_get_the_same_check(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    person = development_applicant_create(
        organization=cast.A, name="申请人", sex="female", birth_date=date(1995, 5, 5), applied_on=date(2024, 1, 10)
    )
    client = cast.client("secretary_a")
    url = f"/development/member/{person.pk}/"
    photo = _jpeg_with_gps()
    assert b"Exif" in photo
    polyglot = SimpleUploadedFile("申请书.html", photo + b"<script>alert(1)</script>", content_type="text/html")
    refused = client.post(url, {"step": "talk", "occurred_on": "2024-01-20", "attachment": polyglot})
    assert refused.status_code == 400 and not DevelopmentStep.objects.filter(step="talk").exists()
    bad_pdf = SimpleUploadedFile("谈话记录.pdf", ATTACKS["/OpenAction /URI"], content_type="application/pdf")
    refused = client.post(url, {"step": "talk", "occurred_on": "2024-01-20", "attachment": bad_pdf})
    assert refused.status_code == 400 and not DevelopmentStep.objects.filter(step="talk").exists()
    ok = client.post(
        url,
        {"step": "talk", "occurred_on": "2024-01-20", "attachment": SimpleUploadedFile("申请书.jpg", photo)},
    )
    assert ok.status_code == 302
    step = DevelopmentStep.objects.get(step="talk")
    download = client.get(f"/development/step/{step.pk}/attachment/")
    body = b"".join(download.streaming_content)
    assert download["Content-Type"] == "image/jpeg" and download["X-Content-Type-Options"] == "nosniff"
    assert body.startswith(b"\xff\xd8") and b"Exif" not in body  # re-encoded: EXIF (and GPS) dropped
