from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone


class AuditSearchForm(forms.Form):
    start = forms.DateField(
        label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date", "aria-label": "开始日期"})
    )
    end = forms.DateField(
        label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date", "aria-label": "结束日期"})
    )
    username = forms.CharField(label="用户名", required=False, max_length=150)
    event = forms.RegexField(label="事件", required=False, max_length=64, regex=r"^[a-z0-9_]*$")
    org = forms.CharField(label="组织代码", required=False, max_length=40)
    outcome = forms.ChoiceField(
        label="结果", required=False, choices=[("", "全部结果"), ("success", "成功"), ("failure", "失败")]
    )
    page = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "结束日期不能早于开始日期")
        return data

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        start = datetime.combine(data["start"], time.min, tzinfo=tz) if data.get("start") else None
        end = datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=tz) if data.get("end") else None
        return {
            "start": start,
            "end": end,
            "username": (data.get("username") or "").strip(),
            "event": data.get("event") or "",
            "organization_code": (data.get("org") or "").strip(),
            "outcome": data.get("outcome") or "",
        }
