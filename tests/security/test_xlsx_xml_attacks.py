"""UP-2 / bandit B314: the member import parses uploaded XLSX XML through defusedxml.

A workbook whose parts declare a DTD or entities (billion laughs, external entities) is refused
with a clear Chinese message before anything is expanded or fetched; nothing is saved, never a 500.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from core.xlsx_reader import XlsxUnsafeError, iter_rows
from members.imports import COLUMNS, SHEET_NAME
from members.models import ImportBatch

pytestmark = pytest.mark.django_db

BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&xxe;</t></si></sst>"""

EXTERNAL_DTD = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE worksheet SYSTEM "http://127.0.0.1:9/evil.dtd">
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>"""


def _workbook() -> bytes:
    """A genuine import template (header row and one string row), as openpyxl writes it."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append([c.header for c in COLUMNS])
    ws.append(["张三"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _replace_part(data: bytes, part: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, content if item.filename == part else source.read(item.filename))
        if part not in source.namelist():
            target.writestr(part, content)
    return out.getvalue()


ATTACKS = {
    "billion_laughs": ("xl/sharedStrings.xml", BILLION_LAUGHS),
    "external_entity": ("xl/sharedStrings.xml", EXTERNAL_ENTITY),
    "external_dtd_in_sheet": ("xl/worksheets/sheet1.xml", EXTERNAL_DTD),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_reader_refuses_dtd_and_entities(attack):
    part, content = ATTACKS[attack]
    data = _replace_part(_workbook(), part, content)
    with pytest.raises(XlsxUnsafeError):
        list(iter_rows(io.BytesIO(data), sheet_name=SHEET_NAME, max_col=len(COLUMNS)))


def test_unmodified_workbook_still_reads():
    rows = list(iter_rows(io.BytesIO(_workbook()), sheet_name=SHEET_NAME, max_col=len(COLUMNS)))
    assert rows[1][1][0] == "张三"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_import_upload_with_xml_attack_is_refused_in_chinese(cast, attack):
    part, content = ATTACKS[attack]
    upload = SimpleUploadedFile("x.xlsx", _replace_part(_workbook(), part, content))
    response = cast.client("secretary_a").post("/members/import/", {"organization": cast.A.pk, "file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "不允许的 XML 内容" in page
    assert "root:" not in page
    assert not ImportBatch.objects.exists()
