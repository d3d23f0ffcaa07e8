"""Forms of the member's discipline page. They parse input; the services decide and write."""

from __future__ import annotations

from django import forms

from members.choices import MembershipStatus
from members.discipline.models import SanctionKind, SuspensionReason


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class SanctionForm(forms.Form):
    kind = forms.ChoiceField(label="处分/处置", choices=SanctionKind.choices)
    decided_on = _date("决定日期")
    until = _date("期满日期", required=False, help_text="留党察看（最长两年）、限期改正（最长一年）填写")
    basis = forms.CharField(label="文号", max_length=100, help_text="如 X纪〔2026〕3号")
    deciding_organization = forms.ChoiceField(label="决定机关", required=False, choices=[])
    deciding_body = forms.CharField(label="系统外的决定机关", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, organizations=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["deciding_organization"].choices = [("", "—"), *((str(o.pk), o.name) for o in organizations)]
        self._organizations = {str(o.pk): o for o in organizations}

    def clean_deciding_organization(self):  # type: ignore[no-untyped-def]
        return self._organizations.get(self.cleaned_data.get("deciding_organization") or "")

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if not data.get("deciding_organization") and not (data.get("deciding_body") or "").strip():
            self.add_error("deciding_organization", "请选择作出决定的党组织，或填写系统外的决定机关")
        return data


class RightsSuspensionForm(forms.Form):
    reason = forms.ChoiceField(label="原因", choices=SuspensionReason.choices)
    start_on = _date("起始日期")
    end_on = _date("恢复日期", required=False, help_text="尚未恢复的不填")
    basis = forms.CharField(label="依据（文号）", max_length=100, required=False)


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(
        label="办理",
        choices=[
            (MembershipStatus.SUSPENDED, "停止党籍"),
            (MembershipStatus.NORMAL, "恢复党籍"),
            (MembershipStatus.REMOVED, "除名"),
            (MembershipStatus.DECEASED, "去世"),
        ],
        help_text="开除党籍请登记处分",
    )
    on = _date("日期")
    basis = forms.CharField(label="依据（文号）", max_length=100, required=False, help_text="除名须填写决定的文号")
    reason = forms.CharField(label="原因", max_length=500, required=False)
