"""Attachments: checked by content, images re-encoded, stored under random names, served only
through an access-checked view (security.md UP-1..3, DATA-6).

- Accepted: JPEG, PNG (re-encoded with Pillow, which drops EXIF including GPS) and PDF (kept as
  is, after checks). The type comes from the bytes, never from the name or the browser.
- Refused: anything else (SVG, HTML, scripts, archives), files whose bytes contain markup or
  script (HTML/JPEG polyglots), PDFs with JavaScript or embedded files, truncated or corrupt
  images, names with a dangerous inner extension (``x.php.jpg``), files over the size limit,
  images over the pixel limit (decompression bombs).
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from activities.choices import AttachmentKind
from activities.models import Attachment, Meeting
from audit.services import audit_log
from core.access import CHANGE, user_can

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
NAME_EXTENSIONS = {JPEG: {"jpg", "jpeg"}, PNG: {"png"}, PDF: {"pdf"}}
DANGEROUS_EXTENSIONS = {
    "php",
    "php3",
    "php4",
    "php5",
    "phtml",
    "phar",
    "asp",
    "aspx",
    "jsp",
    "jspx",
    "cgi",
    "pl",
    "py",
    "rb",
    "sh",
    "bash",
    "exe",
    "dll",
    "bat",
    "cmd",
    "com",
    "js",
    "mjs",
    "html",
    "htm",
    "xhtml",
    "shtml",
    "svg",
    "svgz",
    "xml",
    "hta",
    "vbs",
    "jar",
    "war",
    "msi",
    "ps1",
    "scr",
}
# Markup or script anywhere in the bytes makes a file a polyglot: refused. Tokens are long enough
# that compressed image data practically never contains them by chance.
MARKUP = re.compile(
    rb"<\s*(?:script|html|body|svg[\s>/]|iframe|object|embed|!doctype|\?php|\?xml|meta\s|form\s)"
    rb"|javascript:|\bon(?:error|load)\s*=",
    re.IGNORECASE,
)
PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)\b")
SUBDIR = "attachments"


@dataclass
class CheckedFile:
    content: bytes
    content_type: str
    original_name: str


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def _trailing_data(content: bytes, content_type: str) -> bool:
    """Bytes after the image's end marker (how HTML is usually smuggled into a JPEG/PNG)."""
    if content_type == JPEG:
        end = content.rfind(b"\xff\xd9")
        return end == -1 or len(content) - (end + 2) > 16
    end = content.rfind(b"IEND")
    return end == -1 or len(content) - (end + 8) > 0


def clean_name(name: str) -> str:
    """A display name without directories or control characters (stored names are random)."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", name).strip(" .")
    return name[:200] or "附件"


def _reencode(content: bytes, content_type: str) -> bytes:
    """Decode fully (truncated images fail here) and write a fresh file without metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as probe:
                width, height = probe.size
                if width * height > settings.PB_ATTACHMENT_MAX_PIXELS:
                    raise ValidationError({"file": "图片尺寸过大"})
                probe.verify()
            with Image.open(io.BytesIO(content)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                if content_type == JPEG:
                    if image.mode not in ("RGB", "L"):
                        image = image.convert("RGB")
                    image.save(out, format="JPEG", quality=85, optimize=True)
                else:
                    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                        image = image.convert("RGBA")
                    image.save(out, format="PNG", optimize=True)
                return out.getvalue()
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ValidationError({"file": "图片文件不完整或已损坏，无法读取"}) from exc


def attachment_check(*, name: str, content: bytes) -> CheckedFile:
    """Validate one upload; returns the bytes to store (re-encoded for images)."""
    limit = settings.PB_ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise ValidationError({"file": f"文件过大：不能超过 {limit // (1024 * 1024) or 1} MB"})
    if not content:
        raise ValidationError({"file": "文件为空"})
    display = clean_name(name)
    parts = display.lower().split(".")
    if any(part in DANGEROUS_EXTENSIONS for part in parts[1:]):
        raise ValidationError({"file": "文件名含有不允许的扩展名"})
    content_type = _sniff(content[:16])
    if content_type is None:
        raise ValidationError({"file": "只能上传 JPEG、PNG 图片或 PDF 文件（按文件内容判断）"})
    extension = parts[-1] if len(parts) > 1 else ""
    if extension not in NAME_EXTENSIONS[content_type]:
        raise ValidationError({"file": "文件扩展名与文件内容不一致"})
    if MARKUP.search(content):
        raise ValidationError({"file": "文件中含有网页或脚本代码，已拒绝"})
    if content_type != PDF and _trailing_data(content, content_type):
        raise ValidationError({"file": "图片文件结尾含有多余数据（可能是伪装的网页文件），已拒绝"})
    if content_type == PDF:
        if PDF_ACTIVE.search(content):
            raise ValidationError({"file": "PDF 中含有脚本、自动操作或嵌入文件，已拒绝"})
        if b"%%EOF" not in content[-2048:]:
            raise ValidationError({"file": "PDF 文件不完整"})
        return CheckedFile(content=content, content_type=PDF, original_name=display)
    return CheckedFile(content=_reencode(content, content_type), content_type=content_type, original_name=display)


def storage_root() -> Path:
    return Path(settings.MEDIA_ROOT) / SUBDIR


def attachment_path(attachment: Attachment) -> Path:
    return storage_root() / attachment.stored_name[:2] / attachment.stored_name


@transaction.atomic
def attachment_add(
    *, user: Any, meeting: Meeting, name: str, content: bytes, kind: str = AttachmentKind.OTHER
) -> Attachment:
    """Check, store and record a file of ``meeting`` (the user must be allowed to change it)."""
    if not user_can(user, CHANGE, meeting):
        raise PermissionDenied("无权为该会议上传附件")
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": "附件类别无效"})
    checked = attachment_check(name=name, content=content)
    stored_name = f"{secrets.token_hex(16)}.{EXTENSIONS[checked.content_type]}"
    attachment = Attachment(
        organization_id=meeting.organization_id,
        meeting=meeting,
        kind=kind,
        original_name=checked.original_name,
        stored_name=stored_name,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
        uploaded_by=user,
    )
    path = attachment_path(attachment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checked.content)
    path.chmod(0o640)
    try:
        attachment.save()
        audit_log(
            event="attachment_add",
            user=user,
            obj=attachment,
            organization=meeting.organization,
            detail={"meeting": meeting.pk, "type": checked.content_type, "size": attachment.size},
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_files_delete_on_commit(attachments: list[Attachment]) -> None:
    """Deleting a row does not delete its file in Django; do it once the deletion commits."""
    paths = [attachment_path(a) for a in attachments]

    def _delete() -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    transaction.on_commit(_delete)


@transaction.atomic
def attachment_delete(*, user: Any, attachment: Attachment) -> None:
    """Delete an attachment; its file goes once the deletion commits (the user must be allowed to
    change it)."""
    if not user_can(user, CHANGE, attachment):
        raise PermissionDenied("无权删除该附件")
    attachment_files_delete_on_commit([attachment])
    audit_log(
        event="attachment_delete",
        user=user,
        obj=attachment,
        organization=attachment.organization,
        detail={"meeting": attachment.meeting_id},
    )
    attachment.delete()
