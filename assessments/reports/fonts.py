"""A font that renders Chinese in ReportLab PDFs, registered once per process.

Order: the ``PB_PDF_FONT`` setting (a TTF/TTC path, optionally ``path#index``); then fontconfig
(``fc-match``) for TrueType CJK families; then ReportLab's built-in CID font ``STSong-Light``,
which needs no font file (the viewer supplies the glyphs), so a laptop without fonts still gets a
readable PDF instead of a crash. ReportLab cannot embed CFF-outline fonts such as Debian's
Noto Sans CJK ``.ttc``; those are tried and skipped (install ``fonts-wqy-microhei`` for an
embedded font).
"""

from __future__ import annotations

import logging
import shutil
import subprocess  # noqa: S404 - fixed argv to fc-match, no shell
from functools import lru_cache

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

FONT_NAME = "PBChinese"
CID_FALLBACK = "STSong-Light"
FAMILIES = [
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
]


def _fc_match(family: str) -> tuple[str, int] | None:
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return None
    try:
        out = subprocess.run(  # noqa: S603
            [fc_match, "-f", "%{family}|%{file}|%{index}", family],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split("|")
    if len(parts) != 3 or family.lower() not in parts[0].lower():
        return None  # fontconfig substituted an unrelated font
    try:
        return parts[1], int(parts[2] or 0)
    except ValueError:
        return parts[1], 0


def _candidates() -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    configured = getattr(settings, "PB_PDF_FONT", "")
    if configured:
        path, _, index = configured.partition("#")
        found.append((path, int(index) if index.isdigit() else 0))
    for family in FAMILIES:
        match = _fc_match(family)
        if match and match not in found:
            found.append(match)
    return found


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The registered font name to use for Chinese text."""
    for path, index in _candidates():
        try:
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
        except (TTFError, OSError) as exc:
            logger.info("PDF font %s#%s not usable: %s", path, index, exc)
            continue
        logger.info("PDF font: %s#%s", path, index)
        return FONT_NAME
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    logger.info("PDF font: built-in CID font %s", CID_FALLBACK)
    return CID_FALLBACK
