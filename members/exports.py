"""XLSX / JSON exports of member data: masked, watermarked with who and when, audited with the
row count. Home addresses stay out of list exports (minimum necessary)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.services import audit_log
from core.access import get_scope
from core.xlsx import new_workbook, safe_cell
from members.me import me_exports
from members.models import Member
from members.selectors import member_roster_history, member_transfers
from organizations.models import Organization

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str) -> str:
    """A Content-Disposition value that keeps a Chinese file name (RFC 6266 / 5987)."""
    return f"attachment; filename=\"export.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"


def _d(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _yes(value: bool) -> str:
    return "是" if value else "否"


# (header, value) — the masked copies only; clear values are never read here.
LIST_COLUMNS: list[tuple[str, Callable[[Member], Any]]] = [
    ("姓名", lambda m: m.name),
    ("性别", lambda m: m.get_sex_display()),
    ("民族", lambda m: m.get_ethnicity_display()),
    ("公民身份号码", lambda m: m.id_number_masked),
    ("出生年份", lambda m: m.birth_date.year),
    ("学历", lambda m: m.get_education_display()),
    ("学位", lambda m: m.get_degree_display()),
    ("人员类别", lambda m: m.get_stage_display()),
    ("所在党组织", lambda m: m.organization.name),
    ("所在党小组", lambda m: m.party_group.name if m.party_group_id else ""),
    ("加入党组织日期", lambda m: _d(m.joined_on)),
    ("转为正式党员日期", lambda m: _d(m.full_on)),
    ("工作岗位", lambda m: m.get_job_post_display()),
    ("联系电话", lambda m: m.phone_masked),
    ("党籍状态", lambda m: m.get_membership_status_display()),
    ("是否失联", lambda m: _yes(m.is_lost_contact)),
    ("失去联系日期", lambda m: _d(m.lost_contact_since)),
    ("是否流动党员", lambda m: _yes(m.is_mobile)),
    ("外出流向", lambda m: m.mobile_destination),
    ("是否出国（境）", lambda m: _yes(m.is_abroad)),
    ("籍贯", lambda m: m.native_place),
    ("工作单位", lambda m: m.employer),
    ("党费类别", lambda m: m.get_dues_category_display()),
]


def exporter_name(user: Any, member: Member | None = None) -> str:
    """Who exported, by name: the member's own name for their record, else the account's full
    name; the username only when the account has no name."""
    return (member.name if member is not None else "") or user.get_full_name() or user.get_username()


def _watermark(user: Any, member: Member | None = None) -> str:
    return (
        f"导出人：{exporter_name(user, member)}　导出时间：{timezone.localtime():%Y-%m-%d %H:%M}"
        "　证件号码与电话已脱敏，仅限工作使用"
    )


def _export_organization(user: Any, chosen: Organization | None) -> Organization | None:
    """The organization an export is recorded under: the one filtered on, else the user's own
    organization when the whole export lies within it (one assignment), so the auditors above see it."""
    if chosen is not None:
        return chosen
    paths = set(get_scope(user).reading_paths())
    return Organization.objects.filter(path=paths.pop()).first() if len(paths) == 1 else None


def member_list_xlsx(*, queryset: QuerySet[Member], user: Any, filters: dict[str, Any]) -> tuple[bytes, int]:
    """The list as XLSX (masked), streamed through a write-only workbook; audited with the count."""
    wb = new_workbook(write_only=True)
    ws = wb.create_sheet("党员名单")
    ws.append([_watermark(user)])
    ws.append([header for header, _ in LIST_COLUMNS])
    count = 0
    for member in queryset.iterator(chunk_size=2000):
        ws.append([value(member) for _, value in LIST_COLUMNS])
        count += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    organization = filters.get("organization")
    with transaction.atomic():
        audit_log(
            event="member_export",
            user=user,
            organization=_export_organization(user, organization),
            detail={
                "rows": count,
                "format": "xlsx",
                "filters": {
                    "organization": organization.pk if organization else None,
                    **{k: v for k, v in filters.items() if k != "organization" and k != "search" and v},
                    "search": bool(filters.get("search")),
                },
            },
        )
    return buffer.getvalue(), count


def member_own_data(member: Member, user: Any) -> dict[str, Any]:
    """Everything the system holds on the member (ID number and phone masked): the record, the
    organization history and transfers, and every section of the 我的 page (dues, meetings and
    attendance, study records, development steps) through ``members.me.me_exports``."""
    profile = {header: value(member) for header, value in LIST_COLUMNS}
    profile.update(
        {
            "家庭住址": member.home_address,
            "停止党籍日期": _d(member.suspended_on),
            "外出日期": _d(member.mobile_since),
            "出国（境）日期": _d(member.abroad_since),
            "入团日期": _d(member.league_joined_on),
            "参加工作日期": _d(member.work_started_on),
            "专业技术职务": member.professional_title,
            "是否农民工": _yes(member.is_migrant_worker),
        }
    )
    roster = [
        {"党组织": row.organization.name, "转入日期": _d(row.start_on), "转出日期": _d(row.end_on)}
        for row in member_roster_history(member=member)
    ]
    transfers = [
        {
            "类型": t.get_kind_display(),
            "状态": t.get_status_display(),
            "转出": t.from_label,
            "转入": t.to_label,
            "介绍信编号": t.letter_number,
            "党费交至": t.dues_paid_until.strftime("%Y-%m") if t.dues_paid_until else "",
            "开具日期": _d(t.issued_on),
            "办理日期": _d(t.decided_on),
        }
        for t in member_transfers(member=member)
    ]
    return {
        "导出信息": {"导出人": exporter_name(user, member), "导出时间": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
        "基本信息": profile,
        "组织关系记录": roster,
        "组织关系转接": transfers,
        **me_exports(member=member, user=user),
    }


def member_own_record(*, member: Member, user: Any, fmt: str) -> tuple[bytes, str, str]:
    """“下载我的档案”: the member's own data only, as JSON or XLSX; audited."""
    data = member_own_data(member, user)
    stamp = f"{timezone.localdate():%Y%m%d}"
    if fmt == "json":
        content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        result = (content, "application/json; charset=utf-8", f"我的党员档案-{stamp}.json")
    else:
        wb = new_workbook(write_only=True)
        ws = wb.create_sheet("基本信息")
        ws.append([_watermark(user, member)])
        for key, value in data["基本信息"].items():
            ws.append([key, value])
        for title, rows in data.items():
            if title in ("导出信息", "基本信息"):
                continue
            sheet = wb.create_sheet(title)
            if rows:
                sheet.append(list(rows[0].keys()))
                for row in rows:
                    sheet.append([safe_cell(v) for v in row.values()])
            else:
                sheet.append(["（无记录）"])
        buffer = io.BytesIO()
        wb.save(buffer)
        result = (buffer.getvalue(), XLSX_TYPE, f"我的党员档案-{stamp}.xlsx")
    with transaction.atomic():
        audit_log(event="member_self_export", user=user, obj=member, detail={"rows": 1, "format": fmt})
    return result
