"""Channel addresses (企业微信/钉钉 user ids) imported in bulk from a spreadsheet (XLSX or CSV),
with the import rules: a preview lists every error by line number, the commit re-checks the same
file and saves all rows or nothing. Only an org_admin over the organization imports, and only for
members in its subtree.

The page previews an upload and keeps the file (encrypted, in the shared cache, for
``STAGE_SECONDS``) under a random token bound to the user and the organization, so "导入" commits
exactly the file that was previewed; the API sends the file again with ``commit=true``."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from openpyxl.styles import Font

from audit.services import audit_log
from core.xlsx import new_workbook
from core.xlsx_reader import XlsxLimits, XlsxRefused, read_xlsx_rows
from members import crypto
from members.models import Member
from notifications.channels import dingtalk, wecom
from notifications.models import ChannelAddress
from notifications.selectors import can_manage_reminders
from organizations.models import Organization

COLUMNS = ("登录账号", "企业微信账号", "钉钉账号")
LIMITS = XlsxLimits(max_bytes=5 * 1024 * 1024, max_unzipped_bytes=50 * 1024 * 1024, max_rows=20_000, max_cols=10)
STAGE_SECONDS = 30 * 60
STAGE_FIELD = "channel_address_import"
NOT_A_SHEET = "文件不是 XLSX 或 CSV 表格，请使用模板填写后上传"


@dataclass
class AddressImport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    saved: int = 0


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def channel_address_import(*, user: Any, organization: Organization, data: bytes, commit: bool) -> AddressImport:
    """Preview (``commit=False``) or save (``commit=True``, all or nothing) an address sheet
    (XLSX or CSV): columns 登录账号 / 企业微信账号 / 钉钉账号, an empty cell leaves that address
    unchanged. Every bad row is listed with its line number."""
    if not can_manage_reminders(user, organization):
        raise PermissionDenied("只有组织部门（党委）工作人员可以导入消息渠道账号")
    raw = read_sheet(data)
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
        result.rows.append(
            {"line": number, "username": username, "user_id": users[username], "wecom": wecom_id, "dingtalk": ding_id}
        )
    return _finish(result, commit, user=user, organization=organization)


def read_sheet(data: bytes) -> list[tuple[int, list[Any]]]:
    """(line number, cells) of an XLSX (by its zip signature) or a CSV (UTF-8, with or without
    BOM, or GB18030 as Excel saves it on Chinese Windows). Anything else is refused."""
    if data[:4] == b"PK\x03\x04":
        try:
            return list(read_xlsx_rows(data, limits=LIMITS, max_col=len(COLUMNS)))
        except XlsxRefused as exc:
            raise ValidationError({"file": exc.message}) from exc
    if len(data) > LIMITS.max_bytes:
        raise ValidationError({"file": f"文件过大（上限 {LIMITS.max_bytes // (1024 * 1024)} MB）"})
    if not data.strip() or b"\x00" in data:
        raise ValidationError({"file": NOT_A_SHEET})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string without NUL
        raise ValidationError({"file": NOT_A_SHEET})
    return list(_csv_rows(text))


def _csv_rows(text: str) -> Iterator[tuple[int, list[Any]]]:
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number > LIMITS.max_rows + 1:
                raise ValidationError({"file": f"行数过多（上限 {LIMITS.max_rows} 行），请分批导入"})
            yield number, row[: len(COLUMNS)]
    except csv.Error as exc:
        raise ValidationError({"file": f"CSV 格式错误：{str(exc)[:80]}"}) from exc


def address_template_xlsx() -> bytes:
    """The import template: the three columns, text-formatted, and one line of instructions."""
    workbook = new_workbook()
    sheet = workbook.active
    sheet.title = "消息渠道账号"
    sheet.append(list(COLUMNS))
    for index, cell in enumerate(sheet[1], start=1):
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 20
        for row in range(2, 2002):
            sheet.cell(row=row, column=index).number_format = "@"
    notes = workbook.create_sheet("填写说明")
    notes.append(["登录账号：党员在本系统的登录账号（须为本组织及下级组织的党员）"])
    notes.append(["企业微信账号：企业微信通讯录中的账号（UserID）；钉钉账号：钉钉通讯录中的 userid"])
    notes.append(["留空的单元格不改变原有账号；也可另存为 CSV（UTF-8 或 GBK）上传"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _stage_key(token: str) -> str:
    return f"pb:channel-address-import:{token}"


def channel_address_stage(*, user: Any, organization: Organization, data: bytes) -> tuple[AddressImport, str]:
    """Preview an upload and keep the file for the commit: (the preview, a token; "" when the
    file has errors and there is nothing to commit)."""
    preview = channel_address_import(user=user, organization=organization, data=data, commit=False)
    if preview.errors:
        return preview, ""
    token = secrets.token_urlsafe(24)
    cache.set(
        _stage_key(token),
        {"user": user.pk, "org": organization.pk, "data": crypto.encrypt_bytes(data, field=STAGE_FIELD)},
        STAGE_SECONDS,
    )
    return preview, token


def channel_address_commit(*, user: Any, organization: Organization, token: str) -> AddressImport:
    """Save the file previewed under ``token`` (by this user, for this organization): re-checked,
    all or nothing. The token is used once."""
    staged = cache.get(_stage_key(token)) if token and len(token) <= 64 else None
    if not staged or staged.get("user") != user.pk or staged.get("org") != organization.pk:
        raise ValidationError({"file": "预览已过期或无效，请重新上传文件"})
    data = crypto.decrypt_bytes(staged["data"], field=STAGE_FIELD)
    result = channel_address_import(user=user, organization=organization, data=data, commit=True)
    cache.delete(_stage_key(token))
    return result


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
