"""Writing XLSX workbooks: one cell writer for every spreadsheet the app produces.

A cell that starts with ``= + - @`` or a tab/carriage return is written as text, so a member named
``=HYPERLINK(...)`` never becomes a live formula (CSV/Excel injection). ``build_workbook`` adds the
export watermark (DATA-5) to the first lines, every printed page and the document properties.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Formula injection (CSV/Excel injection): cells starting with these are written as text.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def watermark_text(request: Any) -> str:
    user = getattr(request, "user", None)
    who = getattr(user, "username", "") or "anonymous"
    name = user.get_full_name() if user is not None and hasattr(user, "get_full_name") else ""
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    return f"导出人：{who}{'（' + name + '）' if name else ''}  导出时间：{when}  仅限工作使用，注意保密"


def safe_cell(value: Any) -> Any:
    """The value as written to a cell: dates as dates, numbers as numbers, formulas never."""
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


def neutralise(value: Any) -> Any:
    """Text (or a cell holding text) starting with ``= + - @ \\t \\r`` as literal text; other
    values as they are. Every cell of every workbook made by ``new_workbook`` passes here."""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_PREFIXES) else value
    if isinstance(value, Cell) and isinstance(value.value, str) and value.value.startswith(_FORMULA_PREFIXES):
        value.value = "'" + value.value
    return value


class _SafeAppend:
    def append(self, iterable: Any) -> None:
        if isinstance(iterable, dict):
            iterable = {key: neutralise(value) for key, value in iterable.items()}
        else:
            iterable = [neutralise(value) for value in iterable]
        super().append(iterable)  # type: ignore[misc]


class _SafeWorksheet(_SafeAppend, Worksheet):
    pass


class _SafeWriteOnlyWorksheet(_SafeAppend, WriteOnlyWorksheet):
    pass


class SafeWorkbook(Workbook):
    """An openpyxl workbook whose cells can never hold a formula: rows are neutralised as they are
    appended (write-only sheets stream them at once), and every cell of a normal sheet is swept
    again when saved (``ws["A1"] = ...``, ``ws.cell(...)``)."""

    def __init__(self, write_only: bool = False) -> None:
        super().__init__(write_only=write_only)
        if not write_only:
            self._sheets = [_SafeWorksheet(self)]

    def create_sheet(self, title: str | None = None, index: int | None = None) -> Any:
        sheet = _SafeWriteOnlyWorksheet(parent=self, title=title) if self.write_only else _SafeWorksheet(self, title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet

    def save(self, filename: Any) -> None:
        if not self.write_only:
            for sheet in self.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        neutralise(cell)
        super().save(filename)


def new_workbook(*, write_only: bool = False) -> SafeWorkbook:
    """The one way the app makes an XLSX workbook (#21.6): formula injection is impossible."""
    return SafeWorkbook(write_only=write_only)


def build_workbook(
    *, rows: Iterable[Sequence[Any]], headers: Sequence[str], title: str, mark: str
) -> tuple[bytes, int]:
    """The workbook bytes and the number of data rows. The watermark is in the first line, in the
    printed header and footer of every page, and in the document properties."""
    workbook = new_workbook()
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
        sheet.append([safe_cell(value) for value in row])
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
