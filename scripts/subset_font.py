"""Subset a CJK TrueType font to ASCII, Latin-1, general/CJK punctuation, full-width forms and the
6,763 汉字 of GB 2312 (used by `make vendor` for the bold title face; the body face ships whole so
that rare characters in names still print). Usage: subset_font.py IN.ttf OUT.ttf"""

import sys

from fontTools import subset


def codepoints() -> list[int]:
    keep = list(range(0x20, 0x7F)) + list(range(0xA0, 0x100)) + list(range(0x2000, 0x2070))
    keep += list(range(0x2460, 0x24A0)) + list(range(0x3000, 0x3040)) + list(range(0xFF00, 0xFFF0))
    keep += [cp for cp in range(0x4E00, 0xA000) if _in_gb2312(chr(cp))]
    return keep


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def main(source: str, target: str) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints())
    subsetter.subset(font)
    subset.save_font(font, target, options)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
