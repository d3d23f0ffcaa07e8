"""Helpers for the member-record tests: valid ID numbers and complete records."""

from __future__ import annotations

from datetime import date
from typing import Any

from members.choices import Sex, Stage
from members.validators import id_check_digit


def make_id(born: date, *, male: bool = True, region: str = "370781", seq: int = 12) -> str:
    """A valid 18-digit ID number: the 17th digit odd for men, even for women."""
    seq = seq - seq % 2 + (1 if male else 0)
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def record(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for members.services.member_create: a complete 正式党员 record."""
    born = overrides.pop("birth_date", date(1985, 3, 15))
    sex = overrides.pop("sex", Sex.MALE)
    fields = {
        "name": "张三",
        "sex": sex,
        "birth_date": born,
        "ethnicity": "01",
        "id_number": make_id(born, male=sex == Sex.MALE),
        "phone": "13812345678",
        "stage": Stage.FULL,
        "joined_on": date(2010, 7, 1),
        "full_on": date(2011, 7, 1),
        "education": "bachelor",
        "home_address": "青州市云门山街道 1 号",
    }
    fields.update(overrides)
    return fields
