"""XLSX exports with the rules of DATA-5: watermarked with the user and the time, audited with the
row count, sent as an attachment that no cache keeps.

Callers fetch ``rows`` through the access gate (``visible_to``), so an export never leaves the
user's subtree, and pass values already masked unless the user may see them in full (then
``masked=False`` and a ``reason``; the audit record says so).

    from audit.exports import xlsx_response
    return xlsx_response(rows=rows, headers=["姓名", "党组织"], filename="党员名册.xlsx",
                         request=request, title="党员名册", organization=org)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpResponse

from audit.services import audit_log
from core.xlsx import XLSX_TYPE, build_workbook, watermark_text


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
