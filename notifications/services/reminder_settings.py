"""Reminder settings: an org_admin's override of a rule for their organization's whole subtree
(enabled, offset, grace days, day of the month); empty values inherit from above."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_log
from core.numbers import is_number
from notifications.models import RULE_CHANNELS, Channel, ReminderSetting
from notifications.rules import LAST_DAY, RULES_BY_CODE
from notifications.selectors import can_manage_reminders
from organizations.models import Organization


class _Keep:
    """The default of ``channels``: leave the stored choice as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def _clean_day_of_month(value: str) -> str:
    value = (value or "").strip().lower()
    if value in ("", LAST_DAY):
        return value
    if value in ("月末", "最后一天"):
        return LAST_DAY
    if not is_number(value):
        raise ValidationError({"day_of_month": "每月日期应为 1–28 的整数或“月末”"})
    day = int(value)
    if 29 <= day <= 31:
        raise ValidationError({"day_of_month": f"{day} 日并非每个月都有，请选择 1–28 日或“月末”"})
    if not 1 <= day <= 28:
        raise ValidationError({"day_of_month": "每月日期应为 1–28 的整数或“月末”"})
    return str(day)


@transaction.atomic
def reminder_setting_update(
    *,
    user: Any,
    organization: Organization,
    rule: str,
    enabled: bool | None = None,
    offset: int | None = None,
    grace_days: int | None = None,
    day_of_month: str = "",
    channels: list[str] | None = KEEP,
) -> ReminderSetting | None:
    """Store (or clear) an organization's override of one rule for its whole subtree.

    Empty values inherit. ``channels``: the outside channels the rule uses here (a list of
    ``RULE_CHANNELS``; ``[]`` = the inbox only), ``None`` inherits, not given keeps what is stored.
    Returns None when every value is empty (the override is removed)."""
    if not can_manage_reminders(user, organization):
        raise ValidationError({"organization": "只有上级组织部门（党委）工作人员可以调整本组织及下级组织的提醒设置"})
    definition = RULES_BY_CODE.get(rule)
    if definition is None:
        raise ValidationError({"rule": "未知的提醒规则"})
    errors: dict[str, str] = {}
    if offset is not None:
        if not definition.has_offset:
            errors["offset"] = "该提醒没有可调整的时间"
        elif offset < 0:
            errors["offset"] = "提前/间隔不能为负数"
        elif offset < definition.offset_min:
            errors["offset"] = f"不能少于 {definition.offset_min} {definition.offset_unit_label}"
        elif offset > definition.offset_max:
            errors["offset"] = f"不能超过 {definition.offset_max} {definition.offset_unit_label}"
    if grace_days is not None:
        if not definition.has_grace:
            errors["grace_days"] = "该提醒没有宽限天数"
        elif grace_days < 0:
            errors["grace_days"] = "宽限天数不能为负数"
        elif grace_days > 365:
            errors["grace_days"] = "宽限天数不能超过 365 天"
    if day_of_month:
        if not definition.has_day_of_month:
            errors["day_of_month"] = "该提醒不按月发送"
        else:
            try:
                day_of_month = _clean_day_of_month(day_of_month)
            except ValidationError as exc:
                errors.update({key: value[0] for key, value in exc.message_dict.items()})
    if channels is not None and channels is not KEEP:
        unknown = [c for c in channels if c not in RULE_CHANNELS]
        if unknown:
            choices = "、".join(str(Channel(c).label) for c in RULE_CHANNELS)
            errors["channels"] = f"未知的消息渠道：{str(unknown[0])[:20]}（可选：{choices}）"
        channels = [c for c in RULE_CHANNELS if c in channels]
    if errors:
        raise ValidationError(errors)
    existing = ReminderSetting.objects.select_for_update().filter(organization=organization, rule=rule).first()
    detail = {"rule": rule, "enabled": enabled, "offset": offset, "grace_days": grace_days, "day": day_of_month}
    if channels is KEEP:
        channels = existing.channels if existing is not None else None
    else:
        detail["channels"] = channels
    if enabled is None and offset is None and grace_days is None and not day_of_month and channels is None:
        if existing is not None:
            audit_log(event="reminder_setting_clear", obj=existing, organization=organization, detail=detail)
            existing.delete()
        return None
    setting = existing or ReminderSetting(organization=organization, rule=rule)
    setting.enabled = enabled
    setting.offset = offset
    setting.grace_days = grace_days
    setting.day_of_month = day_of_month
    setting.channels = channels
    setting.updated_by = user
    setting.save()
    audit_log(event="reminder_setting_update", obj=setting, organization=organization, detail=detail)
    return setting
