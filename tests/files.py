"""Test files that pass the upload check (core.uploads): a real, one-page PDF."""

from __future__ import annotations

import io

from pypdf import PdfWriter


def pdf_bytes(*, size: int = 72) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(size, size)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = pdf_bytes()
