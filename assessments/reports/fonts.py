"""The fonts every PDF of the project embeds (as a subset), registered once per process.

They ship with the repository, so a machine without any system font prints the same document:
Noto Serif SC (思源宋体, SIL Open Font License 1.1), vendored from the npm package
``@expo-google-fonts/noto-serif-sc`` by ``make vendor`` into ``static/vendor/noto-serif-sc/``:

- body: ``NotoSerifSC-Regular.ttf`` whole (about 30,900 characters, so rare characters in names
  still print);
- titles: ``NotoSerifSC-Bold-GB2312.ttf``, the bold face subset to GB 2312 and punctuation
  (``scripts/subset_font.py``). A title holding a character outside it is set in the body face
  instead of printing a blank (``title_font``).

Both have TrueType outlines, which ReportLab embeds as a subset of the glyphs used. The setting
``PB_PDF_FONT`` (``path`` or ``path#index`` of a TrueType font) replaces the body face, e.g. with
a 仿宋 the organization holds a licence for. Doc templates pass ``initialFontName=cjk_font()`` and
tables set ``FONTNAME``, so no page refers to ReportLab's default Helvetica (never embedded). Fonts are never looked up on the system: a missing
file is a configuration error, not a silent fallback to a font the reader may lack.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

FONT_NAME = "PBSerif"
BOLD_FONT_NAME = "PBSerifBold"
FONT_DIR = Path(settings.BASE_DIR) / "static" / "vendor" / "noto-serif-sc"
BODY_FILE = FONT_DIR / "NotoSerifSC-Regular.ttf"
BOLD_FILE = FONT_DIR / "NotoSerifSC-Bold-GB2312.ttf"


def _register(name: str, path: Path | str, index: int = 0) -> TTFont:
    try:
        font = TTFont(name, str(path), subfontIndex=index)
    except (TTFError, OSError) as exc:
        raise ImproperlyConfigured(
            f"PDF font {path}#{index} is not a usable TrueType font ({exc}); run `make vendor` or fix PB_PDF_FONT."
        ) from exc
    pdfmetrics.registerFont(font)
    logger.info("PDF font %s: %s#%s", name, path, index)
    return font


def _body_source() -> tuple[Path | str, int]:
    configured = getattr(settings, "PB_PDF_FONT", "")
    if configured:
        path, _, index = configured.partition("#")
        return path, int(index) if index.isdigit() else 0
    return BODY_FILE, 0


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The registered font name for body text (embedded as a subset in every PDF)."""
    path, index = _body_source()
    _register(FONT_NAME, path, index)
    return FONT_NAME


@lru_cache(maxsize=1)
def _bold() -> TTFont:
    return _register(BOLD_FONT_NAME, BOLD_FILE)


def cjk_bold_font() -> str:
    """The registered font name for titles and headings."""
    _bold()
    return BOLD_FONT_NAME


def title_font(text: str) -> str:
    """The bold face when it has every character of ``text``, else the body face."""
    glyphs = _bold().face.charToGlyph
    if all(ord(ch) in glyphs or ch.isspace() for ch in text):
        return BOLD_FONT_NAME
    return cjk_font()
