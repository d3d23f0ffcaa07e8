from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.access import CHANGE, VIEW, user_can
from organizations.choices import OrgType, PositionCode, TermKind, UnitRelation
from organizations.models import Organization


class OrganizationSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    org_type = forms.ChoiceField(label="类别", required=False, choices=[("", "全部类别"), *OrgType.choices])
    page = forms.IntegerField(required=False, min_value=1)


class OrganizationForm(forms.Form):
    """Create or edit an organization. The parent is given by its code (scales to large trees)."""

    parent_code = forms.CharField(label="上级组织代码", max_length=40, required=False)
    name = forms.CharField(label="组织全称（与印章一致）", max_length=200)
    short_name = forms.CharField(label="简称", max_length=60, required=False)
    code = forms.CharField(label="组织代码", max_length=40)
    org_type = forms.ChoiceField(label="组织类别", choices=OrgType.choices)
    unit_name = forms.CharField(label="所在单位", max_length=200, required=False)
    unit_relation = forms.ChoiceField(label="所在单位情况", choices=UnitRelation.choices)
    is_village_or_community = forms.BooleanField(label="村/社区党组织（任期 5 年）", required=False)
    established_on = forms.DateField(label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contact_name = forms.CharField(label="联系人", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=30, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_parent_code(self) -> Organization | None:
        code = self.cleaned_data.get("parent_code", "").strip()
        if not code:
            if not self.user.is_superuser:
                raise ValidationError("请填写上级组织代码")
            return None
        parent = Organization.objects.filter(code=code).first()
        if parent is None or not user_can(self.user, VIEW, parent):
            raise ValidationError("找不到该上级组织，或您无权访问")
        if not user_can(self.user, CHANGE, parent):
            raise ValidationError("您无权在该组织下调整组织")
        return parent


class TermStartForm(forms.Form):
    elected_on = forms.DateField(label="选举（任命）日期", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label="产生方式", choices=TermKind.choices)
    term_years = forms.IntegerField(
        label="任期（年）", required=False, min_value=1, max_value=5, help_text="留空按组织类别取默认任期"
    )
    note = forms.CharField(label="备注", max_length=200, required=False)


class TermExtendForm(forms.Form):
    extended_until = forms.DateField(label="经批准延期至", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="批准文号或说明", max_length=200)


class PositionAssignForm(forms.Form):
    position = forms.ChoiceField(label="职务", choices=PositionCode.choices)
    person_name = forms.CharField(label="姓名", max_length=50)
    start_on = forms.DateField(label="任职日期", widget=forms.DateInput(attrs={"type": "date"}))


class PositionEndForm(forms.Form):
    end_on = forms.DateField(label="离任日期", widget=forms.DateInput(attrs={"type": "date"}))
