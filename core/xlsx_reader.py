"""A streaming reader for the first sheet (or a named sheet) of an XLSX file: values only.

openpyxl's read-only mode builds an object per cell and is the slowest step of a 100,000-row
import; this reader walks the sheet XML once with ElementTree's ``iterparse`` (through defusedxml,
which refuses DTDs, entity declarations and external references: an XLSX never has them, so a
file that does is a billion-laughs or XXE attempt) and uses openpyxl only for its date helpers. It understands shared strings, inline strings,
rich-text runs, booleans, numbers and date-formatted numbers — what Excel, WPS and openpyxl write.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
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


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[str] = []
    for _, element in _parse(archive, "xl/sharedStrings.xml"):
        if element.tag == f"{MAIN}si":
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


def iter_rows(source: IO[bytes], *, sheet_name: str | None = None, max_col: int) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values of columns 1..max_col) for every row present in the sheet XML."""
    try:
        archive = zipfile.ZipFile(source)
        strings = _shared_strings(archive)
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
                number = element.get("r")
                current_row = int(number) if number else current_row + 1
                yield current_row, values
                values = [None] * max_col
                next_col = 0
                element.clear()
    except (KeyError, ValueError, IndexError, SyntaxError) as exc:
        raise XlsxError(str(exc)) from exc
