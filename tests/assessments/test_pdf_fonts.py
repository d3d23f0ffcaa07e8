"""#15.4: every PDF embeds its CJK fonts (subsets of the vendored Noto Serif SC), whatever fonts
the machine has: no fontconfig lookup, no ReportLab CID font left to the viewer."""

import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from assessments.reports import fonts
from assessments.reports.data import ReportDoc
from assessments.reports.data import Table as DataTable
from assessments.reports.pdf import render_pdf


def _embedded_fonts(path: Path) -> dict[str, bool]:
    """Base font name → whether its file is embedded, for every font of every page."""
    found: dict[str, bool] = {}
    for page in PdfReader(str(path)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            found[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def _doc(title: str) -> ReportDoc:
    return ReportDoc(
        title=title,
        subtitle="2026年第1季度",
        facts=[("党组织", "第一党支部"), ("党员人数", "正式党员 3 名")],
        sections=[DataTable(title="一、组织生活", columns=["日期", "会议"], rows=[["2026-01-20", "支部党员大会"]])],
        summary={},
    )


def test_pdf_embeds_vendored_serif_and_bold_subsets(tmp_path, monkeypatch):
    def no_system_fonts(*args, **kwargs):
        raise AssertionError(f"a system font lookup was attempted: {args}")

    monkeypatch.setattr(subprocess, "run", no_system_fonts)  # fc-match and friends
    path = tmp_path / "r.pdf"
    render_pdf(_doc("第一党支部督查报告"), str(path))
    embedded = _embedded_fonts(path)
    assert embedded, "no font in the PDF"
    assert all(embedded.values()), f"a font is not embedded: {embedded}"
    names = " ".join(embedded)
    assert "NotoSerifSC-Regular" in names and "NotoSerifSC-Bold" in names
    assert "STSong" not in names
    # Subset: the file is a small fraction of the 15 MB body face.
    assert path.stat().st_size < 400_000
    assert str(fonts.BODY_FILE).startswith(str(Path(fonts.__file__).resolve().parents[2]))


def test_title_with_character_outside_bold_subset_falls_back_to_body_face():
    assert fonts.title_font("第一党支部") == fonts.BOLD_FONT_NAME
    assert fonts.title_font("𬌗䶮支部") == fonts.cjk_font()  # 䶮 (U+4DAE) is not in GB 2312


def test_unusable_configured_font_is_a_configuration_error(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    bad = tmp_path / "x.ttf"
    bad.write_bytes(b"not a font")
    settings.PB_PDF_FONT = str(bad)
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured):
            fonts.cjk_font()
    finally:
        fonts.cjk_font.cache_clear()
