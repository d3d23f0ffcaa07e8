"""Forms for the 考评督查 pages. They parse input; services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms

from assessments.choices import RatingStatus, RectificationSource, RectificationStatus, ReportKind, ReportStatus
from assessments.periods import previous_quarter
from core.access import CHANGE
from core.dates import today
from organizations.choices import OrgType
from organizations.models import Organization

ORG_SELECT_LIMIT = 300


def _date(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


def org_choices(user: Any, *, exclude_groups: bool = True) -> list[tuple[int, str]]:
    qs = Organization.objects.visible_to(user, CHANGE).order_by("path")
    if exclude_groups:
        qs = qs.exclude(org_type=OrgType.GROUP)
    return [(pk, name) for pk, name in qs.values_list("pk", "name")[:ORG_SELECT_LIMIT]]


class OrgChoiceMixin(forms.Form):
    organization = forms.TypedChoiceField(label="党组织", coerce=int)

    def __init__(self, *args: Any, user: Any, choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = choices if choices is not None else org_choices(user)


class YearQuarterFilter(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    quarter = forms.IntegerField(required=False, min_value=1, max_value=4)
    status = forms.ChoiceField(required=False, choices=[("", "全部状态"), *ReportStatus.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "全部类型"), *ReportKind.choices])
    page = forms.IntegerField(required=False, min_value=1)


class RatingFilter(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(required=False, choices=[("", "全部状态"), *RatingStatus.choices])
    page = forms.IntegerField(required=False, min_value=1)


class RectificationFilter(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", "全部状态"), *RectificationStatus.choices])
    page = forms.IntegerField(required=False, min_value=1)


class PageFilter(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    page = forms.IntegerField(required=False, min_value=1)


def _last_quarter() -> tuple[int, int]:
    return previous_quarter(today())


class ReportRequestForm(OrgChoiceMixin):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label="季度", coerce=int, choices=[(q, f"第{q}季度") for q in (1, 2, 3, 4)])
    force = forms.BooleanField(label="覆盖已生成的报告（重新生成）", required=False)
    development_list = forms.BooleanField(label="附发展党员步骤明细（按人列出，作为附表）", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year, quarter = _last_quarter()
        self.fields["year"].initial = year
        self.fields["quarter"].initial = quarter


class RoundOpenForm(OrgChoiceMixin):
    scheme = forms.TypedChoiceField(label="评定方案", coerce=int)
    year = forms.IntegerField(label="评定年度", min_value=2000, max_value=2100)
    publicity_days = forms.IntegerField(label="公示天数", min_value=1, max_value=30, required=False)
    self_assessment_due = _date("自评截止日期", required=False)
    enforce_quotas = forms.BooleanField(label="确定星级时检查名额比例", required=False, initial=True)

    def __init__(self, *args: Any, schemes: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = schemes
        self.fields["year"].initial = today().year - 1


class NewVersionForm(OrgChoiceMixin):
    year = forms.IntegerField(label="适用年度", min_value=2000, max_value=2100)


class DirectRatingForm(forms.Form):
    organization = forms.TypedChoiceField(label="组织", coerce=int)
    stars = forms.TypedChoiceField(label="星级", coerce=int, choices=[(s, f"{s}星") for s in (5, 4, 3, 2, 1)])
    reason = forms.CharField(
        label="理由（荣誉名称、授予机关、文号）", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = organizations


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class PublicityForm(forms.Form):
    start = _date("公示开始日期")


class CommentForm(forms.Form):
    text = forms.CharField(label="意见", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DutyReportForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    secretary_name = forms.CharField(label="述职书记", max_length=50)
    text = forms.CharField(label="述职报告", widget=forms.Textarea(attrs={"rows": 12}), max_length=50000)

    def __init__(self, *args: Any, questions: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions or []
        for question in self.questions:
            self.fields[f"answer_{question.pk}"] = forms.CharField(
                label=f"上年度必答题：{question.text}",
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
                initial=question.answer,
                max_length=4000,
            )

    def answers(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data.get(f"answer_{q.pk}", "") for q in self.questions}


class AppraiseForm(forms.Form):
    count_good = forms.IntegerField(label="好（票）", min_value=0, required=False)
    count_fairly_good = forms.IntegerField(label="较好（票）", min_value=0, required=False)
    count_average = forms.IntegerField(label="一般（票）", min_value=0, required=False)
    count_poor = forms.IntegerField(label="差（票）", min_value=0, required=False)
    score = forms.DecimalField(
        label="或评议得分（0–100）", min_value=0, max_value=100, decimal_places=2, required=False
    )
    note = forms.CharField(label="评议意见", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    question_1 = forms.CharField(label="必答题一（下一年度述职时作答）", max_length=300)
    question_2 = forms.CharField(label="必答题二（可选）", max_length=300, required=False)


class RectificationForm(OrgChoiceMixin):
    source = forms.ChoiceField(
        label="来源", choices=RectificationSource.choices, initial=RectificationSource.INSPECTION
    )
    problem = forms.CharField(label="存在问题", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    requirement = forms.CharField(label="整改要求", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    owner_name = forms.CharField(label="责任人", max_length=50)
    deadline = _date("整改时限")


class RectificationSubmitForm(forms.Form):
    completion_note = forms.CharField(label="整改完成情况", widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    completed_on = _date("完成日期", required=False)


class SignOffForm(forms.Form):
    accept = forms.TypedChoiceField(
        label="验收结论", coerce=lambda v: v == "1", choices=[("1", "同意销号"), ("0", "不予销号，退回整改")]
    )
    note = forms.CharField(label="验收意见", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)


class EvidenceForm(forms.Form):
    title = forms.CharField(label="说明", max_length=120, required=False)
    file = forms.FileField(label="文件（JPEG/PNG/PDF，可不传）", required=False)
    meeting_id = forms.IntegerField(label="或关联会议记录编号", required=False, min_value=1)
