"""Forms for member pages. They parse input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.access import CHANGE, VIEW
from members.choices import (
    Degree,
    DuesCategory,
    Education,
    Ethnicity,
    JobPost,
    MembershipStatus,
    Sex,
    Stage,
    TransferKind,
    TransferStatus,
)
from members.selectors import ATTENTION_FLAGS
from organizations.choices import OrgType
from organizations.models import Organization

SELECT_LIMIT = 500  # above this many organizations, forms ask for the organization code instead


def _date(label: str, *, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _month(label: str, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "YYYY-MM"}, format="%Y-%m"),
        help_text="年-月，如 2026-05",
    )


def _choices(choices: list[tuple[str, str]], empty: str = "—") -> list[tuple[str, str]]:
    return [("", empty), *choices]


class MemberSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    org = forms.IntegerField(label="党组织", required=False, min_value=1)
    stage = forms.ChoiceField(label="人员类别", required=False, choices=_choices(Stage.choices, "全部类别"))
    status = forms.ChoiceField(label="党籍状态", required=False, choices=_choices(MembershipStatus.choices, "全部状态"))
    flag = forms.ChoiceField(label="标记", required=False, choices=_choices(list(ATTENTION_FLAGS.items()), "全部标记"))
    page = forms.IntegerField(required=False, min_value=1)


def organization_choices(user: Any, *, action: str, exclude_types: set[str]) -> list[tuple[int, str]] | None:
    """(pk, label) of the organizations the user may pick, or None when there are too many."""
    qs = (
        Organization.objects.visible_to(user, action)
        .exclude(org_type__in=exclude_types)
        .order_by("path")
        .values_list("pk", "name")
    )
    rows = list(qs[: SELECT_LIMIT + 1])
    return None if len(rows) > SELECT_LIMIT else rows


class MemberForm(forms.Form):
    """Create or edit a member record (the 16 items of the 采集表 and the extra items)."""

    SECTIONS = [
        ("基本信息", ["name", "sex", "ethnicity", "id_number", "birth_date", "native_place"]),
        ("党员信息", ["organization", "party_group", "stage", "joined_on", "full_on", "dues_category"]),
        ("党籍状态与标记", [
            "membership_status", "suspended_on", "is_lost_contact", "lost_contact_since", "is_mobile",
            "mobile_destination", "mobile_since", "is_abroad", "abroad_since",
        ]),
        ("联系方式", ["phone", "home_address"]),
        ("学历与工作", [
            "education", "degree", "job_post", "employer", "professional_title", "work_started_on",
            "league_joined_on", "is_migrant_worker",
        ]),
    ]  # fmt: skip
    procedure_note = ""
    INCOMING_SECTION = (
        "从系统外转入（持介绍信转入的填写）",
        [
            "incoming",
            "in_external_organization",
            "in_letter_number",
            "in_issued_on",
            "in_received_on",
            "in_dues_paid_until",
        ],
    )

    name = forms.CharField(label="姓名", max_length=50)
    sex = forms.ChoiceField(label="性别", choices=Sex.choices)
    ethnicity = forms.ChoiceField(label="民族", choices=_choices(Ethnicity.choices), required=False)
    id_number = forms.CharField(label="公民身份号码", max_length=30, required=True)
    birth_date = _date("出生日期", required=True)
    native_place = forms.CharField(label="籍贯", max_length=50, required=False)
    organization = forms.TypedChoiceField(label="所在党支部", coerce=int, choices=())
    party_group = forms.TypedChoiceField(label="所在党小组", coerce=int, required=False, empty_value=None, choices=())
    stage = forms.ChoiceField(label="人员类别", choices=Stage.choices, initial=Stage.FULL)
    joined_on = _date("加入党组织日期", help_text="支部大会通过之日")
    full_on = _date("转为正式党员日期")
    dues_category = forms.ChoiceField(label="党费类别", choices=DuesCategory.choices)
    membership_status = forms.ChoiceField(label="党籍状态", choices=MembershipStatus.choices)
    suspended_on = _date("停止党籍日期")
    is_lost_contact = forms.BooleanField(label="失联", required=False)
    lost_contact_since = _date("失去联系日期")
    is_mobile = forms.BooleanField(label="流动党员", required=False)
    mobile_destination = forms.CharField(label="外出流向（省/市/县）", max_length=100, required=False)
    mobile_since = _date("外出日期")
    is_abroad = forms.BooleanField(label="出国（境）", required=False)
    abroad_since = _date("出国（境）日期")
    phone = forms.CharField(label="联系电话", max_length=30, required=False, help_text="手机号，或带区号的固定电话")
    home_address = forms.CharField(label="家庭住址（具体到门牌号）", max_length=200, required=False)
    education = forms.ChoiceField(label="学历", choices=_choices(Education.choices), required=False)
    degree = forms.ChoiceField(label="学位", choices=_choices(Degree.choices), required=False)
    job_post = forms.ChoiceField(label="工作岗位", choices=_choices(JobPost.choices), required=False)
    employer = forms.CharField(label="工作单位", max_length=200, required=False)
    professional_title = forms.CharField(label="专业技术职务", max_length=50, required=False)
    work_started_on = _date("参加工作日期")
    league_joined_on = _date("入团日期")
    is_migrant_worker = forms.BooleanField(label="农民工", required=False)
    incoming = forms.BooleanField(label="持介绍信从系统外转入", required=False)
    in_external_organization = forms.CharField(label="原所在党组织", max_length=200, required=False)
    in_letter_number = forms.CharField(label="介绍信编号", max_length=50, required=False)
    in_issued_on = _date("介绍信开具日期")
    in_received_on = _date("转入日期", help_text="空白为今天；党员自该日起计入本支部名册")
    in_dues_paid_until = _month("党费交至（月）")

    def __init__(self, *args: Any, user: Any, member: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.member = member
        if member is None:
            choices = organization_choices(user, action=CHANGE, exclude_types={OrgType.GROUP, OrgType.TEMPORARY_BRANCH})
            if choices is None:
                self.fields["organization"] = forms.CharField(label="所在党支部（组织代码）", max_length=40)
            else:
                self.fields["organization"].choices = [("", "请选择"), *choices]
            groups = self._group_choices(None)
        else:
            del self.fields["organization"]
            for name in self.INCOMING_SECTION[1]:
                del self.fields[name]
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = f"当前：{member.id_number_masked or '未登记'}。留空则不修改"
            if member.id_number_cipher:
                # The birth date follows the ID number and is not shown beside its mask (#21.1).
                del self.fields["birth_date"]
                self.fields["id_number"].help_text += "；出生日期按公民身份号码确定"
            self.fields["phone"].help_text = f"当前：{member.phone_masked or '未登记'}。留空则不修改"
            self.fields["clear_phone"] = forms.BooleanField(label="清除联系电话", required=False)
            # #21.5: these change only through the development pipeline, transfers and the status
            # procedures; the edit form shows them on the member page, not as inputs.
            for name in ("stage", "joined_on", "full_on", "membership_status", "suspended_on"):
                del self.fields[name]
            self.procedure_note = (
                "人员类别、加入党组织和转为正式党员日期通过发展党员流程办理；党籍状态通过“处分与党籍”页面办理；"
                "所在党支部通过组织关系转接办理。"
            )
            groups = self._group_choices(member.organization)
        self.fields["party_group"].choices = [("", "不编入党小组"), *groups]

    def _group_choices(self, organization: Organization | None) -> list[tuple[int, str]]:
        qs = Organization.objects.filter(org_type=OrgType.GROUP)
        if organization is not None:
            qs = qs.filter(path__startswith=organization.path, depth=organization.depth + 1)
        else:
            qs = qs.filter(pk__in=Organization.objects.visible_to(self.user, CHANGE).values("pk"))
        return list(qs.order_by("path").values_list("pk", "name")[:SELECT_LIMIT])

    def sections(self) -> list[tuple[str, list[Any]]]:
        sections = list(self.SECTIONS)
        if "incoming" in self.fields:
            sections.append(self.INCOMING_SECTION)
        return [(title, [self[name] for name in names if name in self.fields]) for title, names in sections]

    def clean_organization(self) -> Organization:
        value = self.cleaned_data["organization"]
        qs = Organization.objects.visible_to(self.user, CHANGE)
        org = qs.filter(code=value.strip()).first() if isinstance(value, str) else qs.filter(pk=value).first()
        if org is None:
            raise ValidationError("找不到该党组织，或您无权在该组织登记党员")
        return org

    def clean_party_group(self) -> Organization | None:
        value = self.cleaned_data.get("party_group")
        if not value:
            return None
        group = Organization.objects.filter(pk=value, org_type=OrgType.GROUP).first()
        if group is None:
            raise ValidationError("请选择有效的党小组")
        return group

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("incoming"):
            for name, label in (
                ("in_external_organization", "原所在党组织"),
                ("in_letter_number", "介绍信编号"),
                ("in_issued_on", "介绍信开具日期"),
            ):
                if not data.get(name):
                    self.add_error(name, f"从系统外转入的，请填写{label}")
        return data

    def member_fields(self) -> dict[str, Any]:
        """Cleaned data in the services' vocabulary (``...`` = leave the ID number / phone unchanged)."""
        data = dict(self.cleaned_data)
        fields = {
            key: data[key]
            for key in data
            if key not in ("id_number", "phone", "clear_phone", "organization")
            and not key.startswith(("in_", "incoming"))
        }
        if self.member is None:
            fields["id_number"] = data["id_number"]
            fields["phone"] = data["phone"] or ...
        else:
            fields["id_number"] = data["id_number"] or ...
            fields["phone"] = "" if data.get("clear_phone") else (data["phone"] or ...)
        return fields

    def incoming_fields(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("incoming"):
            return None
        return {
            "external_organization": data["in_external_organization"],
            "letter_number": data["in_letter_number"],
            "issued_on": data["in_issued_on"],
            "received_on": data.get("in_received_on"),
            "dues_paid_until": data.get("in_dues_paid_until"),
        }


class TransferIssueForm(forms.Form):
    kind = forms.ChoiceField(
        label="转接类型",
        choices=[
            (TransferKind.INTERNAL, TransferKind.INTERNAL.label),
            (TransferKind.OUTGOING, TransferKind.OUTGOING.label),
        ],
        widget=forms.RadioSelect,
        initial=TransferKind.INTERNAL,
    )
    to_organization = forms.CharField(
        label="接收党组织（组织代码）", max_length=40, required=False, help_text="系统内转接时填写"
    )
    external_organization = forms.CharField(label="转往的党组织（系统外）", max_length=200, required=False)
    letter_number = forms.CharField(label="介绍信编号", max_length=50, required=False)
    dues_paid_until = _month("党费交至（月）")
    issued_on = _date("开具日期", required=True)
    note = forms.CharField(label="备注", max_length=500, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_to_organization(self) -> Organization | None:
        code = (self.cleaned_data.get("to_organization") or "").strip()
        if not code:
            return None
        org = Organization.objects.visible_to(self.user, VIEW).filter(code=code).first()
        if org is None:
            raise ValidationError("找不到该党组织，或您无权向其转接；系统外的组织请选择“转出至系统外”")
        return org


class TransferDecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("accept", "接收"), ("reject", "退回"), ("cancel", "撤销"), ("receipt", "登记回执")]
    )
    on = _date("日期")
    reason = forms.CharField(label="原因", max_length=500, required=False)


class TransferSearchForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=_choices(TransferStatus.choices, "全部状态"))
    kind = forms.ChoiceField(required=False, choices=_choices(TransferKind.choices, "全部类型"))
    direction = forms.ChoiceField(required=False, choices=[("", "全部"), ("in", "转入本组织"), ("out", "从本组织转出")])
    page = forms.IntegerField(required=False, min_value=1)


class ImportUploadForm(forms.Form):
    organization = forms.TypedChoiceField(label="导入范围", coerce=int, choices=())
    file = forms.FileField(label="XLSX 文件")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        choices = organization_choices(user, action=CHANGE, exclude_types={OrgType.GROUP})
        if choices is None:
            self.fields["organization"] = forms.CharField(label="导入范围（组织代码）", max_length=40)
        else:
            self.fields["organization"].choices = choices

    def clean_organization(self) -> Organization:
        value = self.cleaned_data["organization"]
        qs = Organization.objects.visible_to(self.user, CHANGE)
        org = qs.filter(code=value.strip()).first() if isinstance(value, str) else qs.filter(pk=value).first()
        if org is None:
            raise ValidationError("找不到该党组织，或您无权在该组织导入")
        return org
