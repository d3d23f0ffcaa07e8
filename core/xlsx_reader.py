"""A streaming reader for the first sheet (or a named sheet) of an XLSX file: values only.

openpyxl's read-only mode builds an object per cell and is the slowest step of a 100,000-row
import; this reader walks the sheet XML once with ElementTree's ``iterparse`` (through defusedxml,
which refuses DTDs, entity declarations and external references: an XLSX never has them, so a
file that does is a billion-laughs or XXE attempt) and uses openpyxl only for its date helpers. It understands shared strings, inline strings,
rich-text runs, booleans, numbers and date-formatted numbers — what Excel, WPS and openpyxl write.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse as defused_iterparse
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class XlsxError(Exception):
    """The archive is not a readable workbook."""


class XlsxUnsafeError(XlsxError):
    """A part of the archive declares a DTD or entities (billion laughs, external entities)."""


class XlsxRefused(XlsxError):
    """Refused before reading; ``message`` is the Chinese sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class XlsxLimitError(XlsxRefused):
    """The workbook is larger than the import allows (a decompression bomb, or simply too big)."""


@dataclass(frozen=True)
class XlsxLimits:
    """What one import accepts (#21.8). The unzipped size is the sum of the sizes the archive
    declares, which bound what ``zipfile`` will inflate (a part that inflates to more fails its
    size/CRC check), so no part is read before the total is known to be small enough."""

    max_bytes: int = 30 * 1024 * 1024
    max_unzipped_bytes: int = 400 * 1024 * 1024
    max_rows: int = 200_000
    max_cols: int = 200
    max_shared_strings: int = 2_000_000


NOT_XLSX = "文件不是 XLSX 表格（请用模板填写后另存为 .xlsx）"


def open_checked(data: bytes, limits: XlsxLimits) -> zipfile.ZipFile:
    """The archive, after the size, container and unzipped-size checks."""
    if len(data) > limits.max_bytes:
        raise XlsxLimitError(f"文件过大（上限 {limits.max_bytes // (1024 * 1024)} MB），请分批导入")
    if not data.startswith(b"PK\x03\x04"):
        raise XlsxRefused(NOT_XLSX)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise XlsxRefused("文件已损坏或不是 XLSX 表格") from exc
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise XlsxRefused(NOT_XLSX)
    if sum(info.file_size for info in infos) > limits.max_unzipped_bytes:
        raise XlsxLimitError("文件解压后过大，请分批导入")
    return archive


def read_xlsx_rows(
    data: bytes, *, limits: XlsxLimits, max_col: int, sheet_name: str | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """The one XLSX reader of every import: ``iter_rows`` over ``open_checked`` with ``limits``
    on rows, columns and shared strings."""
    archive = open_checked(data, limits)
    yield from iter_rows(archive, sheet_name=sheet_name, max_col=max_col, limits=limits)


def iterparse(handle: IO[bytes], events: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    try:
        yield from defused_iterparse(handle, events=events, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise XlsxUnsafeError(f"forbidden XML construct: {exc!r}") from exc


def _parse(archive: zipfile.ZipFile, name: str) -> Iterator[tuple[str, Any]]:
    with archive.open(name) as handle:
        yield from iterparse(handle, events=("end",))


def _text(element: Any) -> str:
    """Text of a shared or inline string: plain ``<t>`` or rich-text runs, without phonetics."""
    direct = element.find(f"{MAIN}t")
    if direct is not None:
        return direct.text or ""
    return "".join(t.text or "" for r in element.iterfind(f"{MAIN}r") for t in r.iterfind(f"{MAIN}t"))


def _shared_strings(archive: zipfile.ZipFile, limit: int) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[str] = []
    for _, element in _parse(archive, "xl/sharedStrings.xml"):
        if element.tag == f"{MAIN}si":
            if len(strings) >= limit:
                raise XlsxLimitError(f"表格中的文字条目超过 {limit} 个，请分批导入")
            strings.append(_text(element))
            element.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of cell styles (``s=``) whose number format shows a date."""
    if "xl/styles.xml" not in archive.namelist():
        return set()
    custom: dict[int, str] = {}
    xfs: list[int] = []
    in_cell_xfs = False
    with archive.open("xl/styles.xml") as handle:
        for event, element in iterparse(handle, events=("start", "end")):
            if element.tag == f"{MAIN}numFmt" and event == "end":
                custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
            elif element.tag == f"{MAIN}cellXfs":
                in_cell_xfs = event == "start"
            elif element.tag == f"{MAIN}xf" and event == "end" and in_cell_xfs:
                xfs.append(int(element.get("numFmtId", "0")))
    dates = set()
    for index, fmt_id in enumerate(xfs):
        code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "")
        if code and is_date_format(code):
            dates.add(index)
    return dates


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str | None) -> str:
    targets: dict[str, str] = {}
    for _, element in _parse(archive, "xl/_rels/workbook.xml.rels"):
        if element.tag == f"{PKG_REL}Relationship":
            target = element.get("Target", "")
            targets[element.get("Id", "")] = (
                target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            )
    sheets = [
        (element.get("name"), element.get(f"{REL}id"))
        for _, element in _parse(archive, "xl/workbook.xml")
        if element.tag == f"{MAIN}sheet"
    ]
    if not sheets:
        raise XlsxError("no sheets")
    chosen = next((rid for name, rid in sheets if name == sheet_name), sheets[0][1])
    path = targets.get(chosen or "")
    if not path or path not in archive.namelist():
        raise XlsxError("sheet part missing")
    return path


def iter_rows(
    source: IO[bytes] | zipfile.ZipFile,
    *,
    sheet_name: str | None = None,
    max_col: int,
    limits: XlsxLimits | None = None,
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values of columns 1..max_col) for every row present in the sheet XML.
    Imports call ``read_rows``, which checks the archive and passes ``limits``."""
    limits = limits or XlsxLimits()
    rows_seen = 0
    try:
        archive = source if isinstance(source, zipfile.ZipFile) else zipfile.ZipFile(source)
        strings = _shared_strings(archive, limits.max_shared_strings)
        dates = _date_styles(archive)
        path = _sheet_path(archive, sheet_name)
    except (KeyError, ValueError, zipfile.BadZipFile, SyntaxError) as exc:
        raise XlsxError(str(exc)) from exc
    cell_tag, row_tag, value_tag, inline_tag = f"{MAIN}c", f"{MAIN}row", f"{MAIN}v", f"{MAIN}is"
    values: list[Any] = [None] * max_col
    next_col = 0
    current_row = 0
    try:
        for _, element in _parse(archive, path):
            tag = element.tag
            if tag == cell_tag:
                ref = element.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    col = column_index_from_string(letters) - 1
                else:
                    col = next_col
                if col >= limits.max_cols:
                    raise XlsxLimitError(f"表格列数超过 {limits.max_cols} 列，请使用模板")
                next_col = col + 1
                if col < max_col:
                    kind = element.get("t", "n")
                    if kind == "inlineStr":
                        inline = element.find(inline_tag)
                        value: Any = _text(inline) if inline is not None else None
                    else:
                        raw = element.findtext(value_tag)
                        if raw is None:
                            value = None
                        elif kind == "s":
                            value = strings[int(raw)]
                        elif kind == "b":
                            value = raw == "1"
                        elif kind in ("str", "e"):
                            value = raw
                        elif int(element.get("s", "0")) in dates:
                            value = from_excel(float(raw))
                        elif raw.lstrip("-").isdigit():
                            value = int(raw)
                        else:
                            value = float(raw)
                    values[col] = value
                element.clear()
            elif tag == row_tag:
                rows_seen += 1
                if rows_seen > limits.max_rows + 1:  # + the header row
                    raise XlsxLimitError(f"数据超过 {limits.max_rows} 行，请分批导入")
                number = element.get("r")
                current_row = int(number) if number else current_row + 1
                yield current_row, values
                values = [None] * max_col
                next_col = 0
                element.clear()
    except (KeyError, ValueError, IndexError, SyntaxError) as exc:
        raise XlsxError(str(exc)) from exc
