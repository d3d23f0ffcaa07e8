"""XLSX exports with the rules of DATA-5: watermarked with the user and the time, audited with the
row count, sent as an attachment that no cache keeps.

Callers fetch ``rows`` through the access gate (``visible_to``), so an export never leaves the
user's subtree, and pass values already masked unless the user may see them in full (then
``masked=False`` and a ``reason``; the audit record says so).

    from organizations.exports import xlsx_response
    return xlsx_response(rows=rows, headers=["姓名", "党组织"], filename="党员名册.xlsx",
                         request=request, title="党员名册", organization=org)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Formula injection (CSV/Excel injection): cells starting with these are written as text.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def watermark_text(request: Any) -> str:
    user = getattr(request, "user", None)
    who = getattr(user, "username", "") or "anonymous"
    name = user.get_full_name() if user is not None and hasattr(user, "get_full_name") else ""
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    return f"导出人：{who}{'（' + name + '）' if name else ''}  导出时间：{when}  仅限工作使用，注意保密"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal | int | float | date):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def build_workbook(
    *, rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str, mark: str
) -> tuple[bytes, int]:
    """The workbook bytes and the number of data rows. The watermark is in the first line, in the
    printed header and footer of every page, and in the document properties."""
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = (title or "导出")[:31]
    sheet.append([f"{title}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([mark])
    sheet["A2"].font = Font(italic=True, color="888888", size=9)
    sheet.append(list(headers))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        sheet.append([_cell(value) for value in row])
        count += 1
    sheet.freeze_panes = "A4"
    sheet.oddHeader.center.text = mark
    sheet.oddFooter.center.text = mark + "  第 &P 页 / 共 &N 页"
    sheet.evenHeader.center.text = mark
    sheet.evenFooter.center.text = mark
    workbook.properties.creator = mark
    workbook.properties.title = title
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def xlsx_response(
    *,
    rows: Iterable[Sequence[Any]],
    headers: Sequence[str],
    filename: str,
    request: Any,
    title: str,
    organization: Any = None,
    masked: bool = True,
    reason: str = "",
) -> HttpResponse:
    """Build the XLSX, write the ``export`` audit record (row count, masked or not), return it."""
    from audit.services import audit_log

    mark = watermark_text(request)
    content, count = build_workbook(rows=rows, headers=headers, title=title, mark=mark)
    with transaction.atomic():
        audit_log(
            event="export",
            organization=organization,
            detail={"title": title, "filename": filename, "rows": count, "masked": masked, "reason": reason[:200]},
            request=request,
        )
    response = HttpResponse(content, content_type=XLSX_TYPE)
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename) or "export.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
