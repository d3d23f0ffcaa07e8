"""Channel addresses (企业微信/钉钉 user ids) imported in bulk from a spreadsheet, with the import
rules: a preview lists every error by row, the commit re-checks the same file and saves all rows
or nothing. Only an org_admin over the organization imports, and only for members in its subtree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_log
from core.xlsx_reader import XlsxLimits, XlsxRefused, read_xlsx_rows
from members.models import Member
from notifications.channels import dingtalk, wecom
from notifications.models import ChannelAddress
from notifications.selectors import can_manage_reminders
from organizations.models import Organization

COLUMNS = ("登录账号", "企业微信账号", "钉钉账号")
LIMITS = XlsxLimits(max_bytes=5 * 1024 * 1024, max_unzipped_bytes=50 * 1024 * 1024, max_rows=20_000, max_cols=10)


@dataclass
class AddressImport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    saved: int = 0


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def channel_address_import(*, user: Any, organization: Organization, data: bytes, commit: bool) -> AddressImport:
    """Preview (``commit=False``) or save (``commit=True``, all or nothing) an address sheet:
    columns 登录账号 / 企业微信账号 / 钉钉账号, an empty cell leaves that address unchanged."""
    if not can_manage_reminders(user, organization):
        raise PermissionDenied("只有组织部门（党委）工作人员可以导入消息渠道账号")
    try:
        raw = list(read_xlsx_rows(data, limits=LIMITS, max_col=len(COLUMNS)))
    except XlsxRefused as exc:
        raise ValidationError({"file": exc.message}) from exc
    result = AddressImport()
    if not raw or tuple(_cell(v) for v in raw[0][1][: len(COLUMNS)]) != COLUMNS:
        result.errors.append(f"第 1 行：表头应为“{'、'.join(COLUMNS)}”；请使用模板")
        return _finish(result, commit)
    lines = [(number, [_cell(v) for v in values] + [""] * len(COLUMNS)) for number, values in raw[1:]]
    lines = [(n, v) for n, v in lines if any(v[: len(COLUMNS)])]
    if not lines:
        result.errors.append("表格中没有数据行")
        return _finish(result, commit)
    users = dict(
        Member.objects.filter(
            user__username__in={v[0] for _, v in lines}, organization__path__startswith=organization.path
        ).values_list("user__username", "user_id")
    )
    seen: set[str] = set()
    for number, (username, wecom_id, ding_id, *_) in lines:
        if username in seen:
            result.errors.append(f"第 {number} 行：登录账号“{username}”重复")
            continue
        seen.add(username)
        if username not in users:
            result.errors.append(f"第 {number} 行：登录账号“{username}”不存在或不是本组织的党员")
            continue
        for value, check in ((wecom_id, wecom.validate_userid), (ding_id, dingtalk.validate_userid)):
            if value:
                try:
                    check(value)
                except ValidationError as exc:
                    result.errors.append(f"第 {number} 行：{exc.messages[0]}")
        result.rows.append({"line": number, "user_id": users[username], "wecom": wecom_id, "dingtalk": ding_id})
    return _finish(result, commit, user=user, organization=organization)


def _finish(result: AddressImport, commit: bool, *, user: Any = None, organization: Any = None) -> AddressImport:
    if not commit:
        return result
    if result.errors:
        raise ValidationError({"file": result.errors[:20]})
    with transaction.atomic():
        existing = {
            a.user_id: a
            for a in ChannelAddress.objects.select_for_update().filter(user_id__in=[r["user_id"] for r in result.rows])
        }
        for row in result.rows:
            address = existing.get(row["user_id"]) or ChannelAddress(user_id=row["user_id"])
            address.wecom_userid = row["wecom"] or address.wecom_userid
            address.dingtalk_userid = row["dingtalk"] or address.dingtalk_userid
            address.save()
        result.saved = len(result.rows)
        audit_log(event="channel_address_import", user=user, organization=organization, detail={"rows": result.saved})
    return result
