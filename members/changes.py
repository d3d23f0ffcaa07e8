"""Old → new values of a member record change, for the audit record and the change history.

Personal data never appears in clear: the ID number and phone are recorded by their masked copies,
the home address through ``mask_address`` (members/validators.py); the audit log scrubs any
number that slips through as well (audit/services.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from members.models import Member
from members.validators import mask_address

# Shown masked in the history; ``id_number`` and ``phone`` come as their masked copies.
MASKED_FIELDS = {"home_address": mask_address}
PERSONAL_LABELS = {"id_number": "公民身份号码", "phone": "联系电话"}


def field_label(name: str) -> str:
    if name in PERSONAL_LABELS:
        return PERSONAL_LABELS[name]
    try:
        return str(Member._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a field renamed since the event was written
        return name


def display_value(name: str, value: Any) -> str:
    """A value as the record page shows it: choice labels, 是/否, dates, names; masked if personal."""
    if value is None or value == "":
        return ""
    if name in MASKED_FIELDS:
        return MASKED_FIELDS[name](str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    field = Member._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def member_snapshot(member: Member, names: list[str]) -> dict[str, Any]:
    """The current values of ``names`` (before a change), related objects by name."""
    values = {name: getattr(member, name) for name in names}
    values["id_number"] = member.id_number_masked
    values["phone"] = member.phone_masked
    return values


def member_changes(before: dict[str, Any], member: Member, changed: list[str]) -> list[dict[str, str]]:
    """``[{"field", "label", "old", "new"}]`` for the changed fields, in the order given."""
    after = member_snapshot(member, [name for name in changed if name not in PERSONAL_LABELS])
    rows = []
    for name in changed:
        if name in PERSONAL_LABELS:
            old, new = before.get(name, ""), after[name]
        else:
            old, new = display_value(name, before.get(name)), display_value(name, after.get(name))
        rows.append({"field": name, "label": field_label(name), "old": old, "new": new})
    return rows
