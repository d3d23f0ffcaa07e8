"""#21.8: one XLSX reader with limits serves every import.

The attack: a 441 KB dues-base workbook with 10 M shared strings took 150 s of CPU and 1.65 GB
(openpyxl, no unzipped-size cap). Now both imports read through ``core.xlsx_reader.read_xlsx_rows``
with limits on the declared unzipped size, rows, columns and shared strings, refused with a
Chinese message before the bulk of the file is parsed.
"""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from core.xlsx_reader import XlsxLimitError, XlsxLimits, read_xlsx_rows
from members import imports as member_imports
from members.dues.imports import dues_import_preview

pytestmark = pytest.mark.django_db

CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
WORKBOOK = (
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(*, rows: str = "", strings: int = 0, padding: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        archive.writestr(
            "xl/worksheets/sheet1.xml", f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'
        )
        if strings:
            archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">' + "<si><t>x</t></si>" * strings + "</sst>")
        if padding:
            archive.writestr("xl/media/pad.bin", b"\0" * padding)
    return buffer.getvalue()


def _dues(cast, data: bytes) -> str:
    with pytest.raises(ValidationError) as exc:
        dues_import_preview(
            organization=cast.A, year=2026, data=data, filename="x.xlsx", user=cast.users["secretary_a"]
        )
    return exc.value.message_dict["file"][0]


def test_21_8_shared_string_bomb_is_refused_by_the_dues_import(cast):
    bomb = workbook(strings=60_000)
    assert len(bomb) < 100_000  # small on the wire
    assert "文字条目超过" in _dues(cast, bomb)


def test_21_8_unzipped_size_bomb_is_refused_before_reading(cast):
    bomb = workbook(padding=60 * 1024 * 1024)
    assert len(bomb) < 200_000
    assert "解压后过大" in _dues(cast, bomb)


def test_21_8_rows_and_columns_are_capped(cast):
    many_rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 5_003))
    assert "行" in _dues(cast, workbook(rows=many_rows))
    wide = '<row r="1"><c r="ZZ1"><v>1</v></c></row>'
    assert "列数超过" in _dues(cast, workbook(rows=wide))


def test_21_8_the_member_import_uses_the_same_reader(monkeypatch):
    monkeypatch.setattr(member_imports, "LIMITS", XlsxLimits(max_shared_strings=1000))
    with pytest.raises(member_imports.ImportFileError) as exc:
        member_imports.read_rows(workbook(strings=1_001))
    assert "文字条目超过" in str(exc.value)


def test_21_8_limits_apply_to_the_reader_itself():
    with pytest.raises(XlsxLimitError):
        list(read_xlsx_rows(workbook(strings=11), limits=XlsxLimits(max_shared_strings=10), max_col=3))
    rows = list(
        read_xlsx_rows(workbook(rows='<row r="1"><c r="A1"><v>7</v></c></row>'), limits=XlsxLimits(), max_col=2)
    )
    assert rows == [(1, [7, None])]


def test_21_8_no_import_reads_xlsx_around_the_reader():
    """Guard: openpyxl's load_workbook is not used by the app (the reader is core.xlsx_reader)."""
    root = Path(settings.BASE_DIR)
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".venv/", "tests/", "demo/", "var/")) or "/migrations/" in rel:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders.extend(rel for node in ast.walk(tree) if isinstance(node, ast.alias) and node.name == "load_workbook")
    assert not offenders, offenders
