"""Validators for the member record: 公民身份号码 (GB 11643) and phone numbers.

Each validator returns the normalized value or raises ``ValidationError`` with a Chinese message.
They never raise anything else, whatever the input (tested with Hypothesis).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from core.numbers import is_number
from members.choices import Sex

# GB 11643-1999: 17 digits + check digit; weights are 2^(17-i) mod 11 (ISO 7064 MOD 11-2).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits: province-level codes of GB/T 2260 (plus 71 台湾, 81 香港, 82 澳门).
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# 区号 (3–4 digits starting with 0) + 7–8 digit local number, optional extension.
_LANDLINE = re.compile(r"^(0\d{2,3})-([2-9]\d{6,7})(?:-(\d{1,6}))?$")


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_birth_date(value: str) -> date | None:
    """Birth date encoded in digits 7–14, or None when they are not a real date."""
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except (ValueError, IndexError):
        return None


def id_sex(value: str) -> str:
    """Sex encoded in the 17th digit: odd = male, even = female."""
    return Sex.MALE if int(value[16]) % 2 == 1 else Sex.FEMALE


def normalize_id_number(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip().replace(" ", "").upper()


def validate_id_number(
    value: Any, *, birth_date: date | None = None, sex: str | None = None, today: date | None = None
) -> str:
    """Check a 18-digit 公民身份号码 and return it normalized (upper-case X).

    With ``birth_date`` / ``sex`` given, the number must agree with them.
    """
    number = normalize_id_number(value)
    if not number:
        raise ValidationError("请填写公民身份号码")
    if len(number) == 15 and is_number(number):
        raise ValidationError("请填写 18 位公民身份号码（15 位旧号码请先升位）")
    if not _ID_SHAPE.match(number):
        raise ValidationError("公民身份号码应为 18 位：前 17 位为数字，最后一位为数字或 X")
    if number[:2] not in _PROVINCES:
        raise ValidationError("公民身份号码的前两位不是有效的省级行政区划代码")
    born = id_birth_date(number)
    if born is None:
        raise ValidationError("公民身份号码中的出生日期（第 7–14 位）不是有效日期")
    if born.year < 1900 or (today is not None and born > today):
        raise ValidationError("公民身份号码中的出生日期超出合理范围")
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError("公民身份号码校验位不正确，请核对")
    if birth_date is not None and born != birth_date:
        raise ValidationError(f"公民身份号码中的出生日期 {born:%Y-%m-%d} 与填写的出生日期不一致")
    if sex and id_sex(number) != sex:
        raise ValidationError("公民身份号码第 17 位表示的性别与填写的性别不一致（奇数为男，偶数为女）")
    return number


def normalize_phone(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    for junk in (" ", "（", "）", "(", ")", "\u3000"):
        text = text.replace(junk, "" if junk in (" ", "\u3000") else "-")
    text = text.replace("－", "-").replace("—", "-").strip("-")
    while "--" in text:
        text = text.replace("--", "-")
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    return text


def validate_phone(value: Any) -> str:
    """A mobile number (1[3-9] + 9 digits) or a landline with 区号; returns it normalized.

    Landlines are stored as ``区号-号码[-分机]``.
    """
    text = normalize_phone(value)
    if not text:
        raise ValidationError("请填写联系电话")
    digits = text.replace("-", "")
    if is_number(digits) and _MOBILE.match(digits):
        return digits
    if "-" not in text and is_number(text) and text.startswith("0"):
        # 区号 written without a dash: 010 and 02X are the only 3-digit area codes.
        cut = 3 if text.startswith(("010", "02")) else 4
        text = f"{text[:cut]}-{text[cut:]}"
    match = _LANDLINE.match(text)
    if match is None:
        raise ValidationError("联系电话格式不正确：手机号为 11 位（1 开头），固定电话需带区号，如 010-12345678")
    area, local, ext = match.groups()
    return f"{area}-{local}" + (f"-{ext}" if ext else "")


def mask_id_number(value: str) -> str:
    """``11**************34``: the first two and the last two characters only.

    With the birth year, the sex and a county-level 籍贯 known, this still leaves about 3,300
    candidates (docs/privacy.md); the old ``110101********1234`` plus the birth date was the number."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"


def mask_phone(value: str) -> str:
    """``138****1234`` for mobiles; ``010-****5678`` for landlines (area code and last four kept)."""
    if not value:
        return ""
    if "-" in value:
        area, _, rest = value.partition("-")
        local = rest.split("-")[0]
        return f"{area}-{'*' * max(len(local) - 4, 0)}{local[-4:]}"
    if len(value) == 11:
        return f"{value[:3]}****{value[-4:]}"
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_address(value: str) -> str:
    """``山东省济南市****``: the first six characters (province and city, usually), the rest hidden."""
    if not value:
        return ""
    return f"{value[:6]}****" if len(value) > 6 else "*" * len(value)
