"""PDF checks shared by the report and 台账 tests: text through pdftotext, first pages as PNG
into artifacts/pdf/ (CI keeps them; a person looks at them before a layout is called done)."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "pdf"


def pdf_text(path, *, layout: bool = False) -> str:
    tool = shutil.which("pdftotext")
    if not tool:
        pytest.skip("pdftotext (poppler-utils) not installed")
    argv = [tool, *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def save_pngs(path, name: str, *, first: int = 1, last: int = 3) -> None:
    tool = shutil.which("pdftoppm")
    if not tool:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [tool, "-png", "-r", "60", "-f", str(first), "-l", str(last), str(path), str(ARTIFACTS / name)], check=True
    )
