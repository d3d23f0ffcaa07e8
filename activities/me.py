"""The member's own rows for “下载我的档案” (registered with ``members.me`` in ``AppConfig.ready``):
every meeting attended (or excused, or missed) and every study record, not just the page's latest."""

from __future__ import annotations

from typing import Any

from activities.selectors import my_attendance, my_study_records


def _d(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def meetings_export(*, member: Any, user: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {
            "日期": _d(a.meeting.held_on),
            "党组织": a.meeting.organization.name,
            "类型": a.meeting.type_label,
            "主题": a.meeting.title,
            "出席情况": a.get_status_display(),
            "原因": a.reason,
        }
        for a in my_attendance(user=user, member=member, limit=None)
    ]
    return {"组织生活": rows}


def study_export(*, member: Any, user: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {
            "日期": _d(r.studied_on),
            "内容": r.title,
            "学时": str(r.hours),
            "来源": r.get_source_display(),
            "主办单位": r.organizer,
        }
        for r in my_study_records(user=user, member=member)
    ]
    return {"学习记录": rows}
