"""The icons the UI uses, from Bootstrap Icons (npm ``bootstrap-icons``, MIT).

``make vendor`` runs ``python -m core.icons`` to copy only these icons into one SVG sprite,
``static/vendor/bootstrap-icons/icons.svg`` (a few KB instead of the 1 MB full sprite). Templates
draw one with ``{% icon "bell" %}`` (``core/templatetags/ui.py``); a name missing from ``ICONS``
raises, so the sprite and the templates cannot drift apart.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ICONS = (
    "house-door",
    "house-door-fill",
    "diagram-3",
    "people",
    "cash-coin",
    "cash-stack",
    "person-plus",
    "calendar-check",
    "calendar-event",
    "calendar3",
    "book",
    "clipboard-check",
    "bell",
    "person-circle",
    "box-arrow-right",
    "list",
    "list-check",
    "journal-plus",
    "megaphone",
    "star",
    "hourglass-split",
    "exclamation-triangle",
    "file-earmark-pdf",
    "shield-exclamation",
    "download",
    "check-circle",
    "chevron-right",
    "search",
    "gear",
    "type",
    "bar-chart",
    "x-lg",
    "arrow-right",
    "shield-lock",
    "info-circle",
    "grid",
    "table",
)

SYMBOL = '<symbol id="{name}" viewBox="{viewbox}">{body}</symbol>'


def build_sprite(source: Path, target: Path) -> None:
    """One ``<symbol>`` per icon from ``source`` (the package's ``icons/`` folder) into ``target``."""
    symbols = []
    for name in ICONS:
        svg = (source / f"{name}.svg").read_text(encoding="utf-8")
        viewbox = re.search(r'viewBox="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
        body = re.sub(r"^.*?<svg[^>]*>|</svg>\s*$", "", svg.strip(), flags=re.S)
        symbols.append(SYMBOL.format(name=name, viewbox=viewbox, body=body.strip()))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('<svg xmlns="http://www.w3.org/2000/svg">' + "".join(symbols) + "</svg>\n", encoding="utf-8")


if (
    __name__ == "__main__"
):  # python -m core.icons node_modules/bootstrap-icons/icons static/vendor/bootstrap-icons/icons.svg
    build_sprite(Path(sys.argv[1]), Path(sys.argv[2]))
