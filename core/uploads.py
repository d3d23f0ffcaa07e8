"""Uploaded files, checked by content (security.md UP-2): one check for every upload of the app
(meeting attachments, evidence, development-step attachments).

- Accepted: JPEG, PNG (re-encoded with Pillow, which drops EXIF including GPS) and PDF (kept as
  is, after checks). The type comes from the bytes, never from the name or the browser.
- Refused: anything else (SVG, HTML, scripts, archives), files whose bytes contain markup or
  script (HTML/JPEG polyglots), truncated or corrupt images, names with a dangerous inner
  extension (``x.php.jpg``) or an extension that disagrees with the content, files over the size
  limit, images over the pixel limit (decompression bombs), and PDFs with any action but an
  in-document jump, JavaScript, embedded files, launch, URI, forms that submit or XFA —
  found by parsing the PDF with pypdf (names like ``/J#61vaScript`` are decoded, objects inside
  compressed object streams are read), not by searching the bytes (#21.9).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

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


def read_sheet_upload(upload: Any, *, max_bytes: int) -> bytes:
    """The bytes of an uploaded spreadsheet (imports), refused by its declared size before it is
    read into memory: ``ValidationError({"file": …})``."""
    if upload.size > max_bytes:
        raise ValidationError({"file": f"文件过大（上限 {max_bytes // (1024 * 1024) or 1} MB），请分批导入"})
    return upload.read()


def check_upload(*, name: str, content: bytes, max_bytes: int) -> CheckedFile:
    """Validate one upload; returns the bytes to store (re-encoded for images) and the content
    type found in them. Every upload of the app goes through here (UP-2)."""
    limit = max_bytes
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
        pdf_check(content)
        return CheckedFile(content=content, content_type=PDF, original_name=display)
    return CheckedFile(content=_reencode(content, content_type), content_type=content_type, original_name=display)


# --- PDF ---------------------------------------------------------------------------------------

# Keys whose presence makes a PDF active: scripts, triggers, embedded files, multimedia, forms.
PDF_FORBIDDEN_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/Launch", "/URI", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA",
     "/SubmitForm", "/ImportData", "/Sound", "/Movie", "/Rendition"}
)  # fmt: skip
# Action types (/S): only a jump inside the document is harmless.
PDF_SAFE_ACTIONS = frozenset({"/GoTo"})
PDF_MAX_OBJECTS = 200_000
PDF_REFUSED = "PDF 中含有脚本、链接或自动操作、嵌入文件，已拒绝（请另存为不含这些内容的 PDF）"


def _pdf_object_numbers(reader: Any) -> set[int]:
    numbers: set[int] = set()
    for table in reader.xref.values():
        numbers.update(table)
    numbers.update(reader.xref_objStm)
    return numbers


def _pdf_active(value: Any, seen: set[int], budget: list[int]) -> bool:
    """Whether ``value`` (a pypdf object, resolved) or anything it contains is active."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    stack = [value]
    while stack:
        budget[0] -= 1
        if budget[0] < 0:
            return True  # too many objects to check: refused, not guessed
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            if any(str(key) in PDF_FORBIDDEN_KEYS for key in item):
                return True
            action = item.get("/S")
            if (
                action is not None
                and str(action) not in PDF_SAFE_ACTIONS
                and ("/Type" not in item or item.get("/Type") == "/Action")
            ):
                return True
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def pdf_check(content: bytes) -> None:
    """Parse the PDF and refuse it when any object, reachable or not, is active."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError
    from pypdf.generic import IndirectObject

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ValidationError({"file": "不能上传加密的 PDF 文件"})
        numbers = _pdf_object_numbers(reader)
        if len(numbers) > PDF_MAX_OBJECTS:
            raise ValidationError({"file": "PDF 文件过于复杂，无法检查"})
        seen: set[int] = set()
        budget = [PDF_MAX_OBJECTS * 4]
        roots = [reader.trailer, *(IndirectObject(number, 0, reader) for number in sorted(numbers))]
        for root in roots:
            if _pdf_active(root, seen, budget):
                raise ValidationError({"file": PDF_REFUSED})
    except ValidationError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise ValidationError({"file": "PDF 文件已损坏或无法解析"}) from exc
