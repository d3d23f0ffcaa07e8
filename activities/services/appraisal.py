"""民主评议党员: the grades given at an appraisal meeting."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.choices import AppraisalGrade, MeetingType
from activities.models import AppraisalEntry, Meeting
from activities.selectors import meeting_roster
from activities.services._common import fmt_day
from audit.services import audit_log
from core.access import CHANGE, user_can
from members.selectors import member_is_full_on


@transaction.atomic
def appraisal_grades_set(*, user: Any, meeting: Meeting, grades: list[dict[str, Any]]) -> list[AppraisalEntry]:
    """Record the 民主评议 results of a meeting (replaces earlier ones); the user must be allowed
    to change the meeting.

    Every member on the roster that day may take part. 正式党员 get a grade; 预备党员 take part
    but are not graded (a grade for one is refused). At most 1/3 of the graded members are
    ``excellent``: excellent × 3 ≤ graded (so 1 of 3, 3 of 9, 3 of 10 pass; 2 of 5 fails).
    """
    if not user_can(user, CHANGE, meeting):
        raise PermissionDenied("无权登记该会议的评议结果")
    if MeetingType.APPRAISAL not in meeting.acting_types:
        raise ValidationError({"meeting": "只有民主评议党员会议（或同时计为民主评议的会议）可以登记评议结果"})
    roster = {
        m.pk: m
        for m in (
            p.member
            for p in meeting_roster(
                organization=meeting.organization, on=meeting.held_on, meeting_type=MeetingType.APPRAISAL
            ).expected
        )
    }
    errors: list[str] = []
    entries: list[AppraisalEntry] = []
    seen: set[int] = set()
    for index, item in enumerate(grades, start=1):
        unknown = set(item) - {"member_id", "grade", "comment"}
        if unknown:
            errors.append(f"第 {index} 行：不支持的字段 {', '.join(sorted(unknown))}")
            continue
        member = roster.get(item.get("member_id"))
        if member is None:
            errors.append(f"第 {index} 行：该人员在 {fmt_day(meeting.held_on)} 不是本组织党员")
            continue
        if member.pk in seen:
            errors.append(f"{member.name} 重复登记")
            continue
        seen.add(member.pk)
        grade = item.get("grade") or ""
        probationary = not member_is_full_on(member, meeting.held_on)
        if grade and grade not in AppraisalGrade.values:
            errors.append(f"{member.name}：评定等次无效")
            continue
        if probationary and grade:
            errors.append(f"{member.name} 是预备党员，参加评议但不评定等次")
            continue
        if not probationary and not grade:
            errors.append(f"{member.name}：请选择评定等次")
            continue
        entries.append(
            AppraisalEntry(
                meeting=meeting,
                member=member,
                grade=grade,
                is_probationary=probationary,
                comment=(item.get("comment") or "").strip()[:300],
            )
        )
    graded = [e for e in entries if e.grade]
    excellent = sum(1 for e in graded if e.grade == AppraisalGrade.EXCELLENT)
    if excellent * 3 > len(graded):
        limit = len(graded) // 3
        errors.append(
            f"优秀等次不能超过参加评定党员的三分之一：{len(graded)} 人中最多 {limit} 名优秀，现为 {excellent} 名"
        )
    if errors:
        raise ValidationError({"grades": errors})
    AppraisalEntry.objects.filter(meeting=meeting).delete()
    created = AppraisalEntry.objects.bulk_create(entries)
    audit_log(
        event="appraisal_grades_set",
        user=user,
        obj=meeting,
        organization=meeting.organization,
        detail={"graded": len(graded), "excellent": excellent, **dict(Counter(e.grade or "ungraded" for e in entries))},
    )
    return created
