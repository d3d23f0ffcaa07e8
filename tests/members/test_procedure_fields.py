"""#21.5: stage, joined_on, full_on and membership_status change only through the development
pipeline, transfers and the status procedures: the record edit, the API and the Django admin
refuse them; the organizations admin adds nodes through treebeard."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from members.models import Member
from members.services import member_update
from organizations.models import Organization
from tests.api_helpers import if_match

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "field,value,procedure",
    [
        ("stage", "probationary", "发展党员流程"),
        ("joined_on", "2000-01-01", "发展党员流程"),
        ("full_on", "2001-01-01", "发展党员流程"),
        ("membership_status", "expelled", "党籍状态变更"),
    ],
)
def test_21_5_api_patch_of_a_procedure_field_is_refused_naming_the_procedure(cast, field, value, procedure):
    member = cast.member_a_record
    before = Member.objects.filter(pk=member.pk).values("stage", "joined_on", "full_on", "membership_status").get()
    api = cast.api("secretary_a")
    url = f"/api/v1/members/{member.pk}/"
    response = api.patch(url, {field: value}, format="json", **if_match(api, url))
    assert response.status_code == 400
    assert procedure in response.json()[field][0]
    assert Member.objects.filter(pk=member.pk).values(*before).get() == before


def test_21_5_api_applicant_to_full_in_one_request_is_refused(cast):
    member = cast.member_a_record
    Member.objects.filter(pk=member.pk).update(stage="applicant", joined_on=None, full_on=None)
    body = {"stage": "full", "joined_on": "2020-01-01", "full_on": "2021-01-01"}
    api = cast.api("secretary_a")
    url = f"/api/v1/members/{member.pk}/"
    response = api.patch(url, body, format="json", **if_match(api, url))
    assert response.status_code == 400
    assert set(response.json()) >= {"stage", "joined_on", "full_on"}
    assert Member.objects.get(pk=member.pk).stage == "applicant"


def test_21_5_other_fields_still_edit_and_unchanged_values_pass(cast):
    member = cast.member_a_record
    body = {"employer": "测试单位", "stage": member.stage, "membership_status": "normal"}
    api = cast.api("secretary_a")
    url = f"/api/v1/members/{member.pk}/"
    response = api.patch(url, body, format="json", **if_match(api, url))
    assert response.status_code == 200, response.content
    assert Member.objects.get(pk=member.pk).employer == "测试单位"


def test_21_5_service_refuses_status_change_by_edit(cast):
    with pytest.raises(ValidationError) as exc:
        member_update(member=cast.member_a_record, recorded_by=cast.users["secretary_a"], suspended_on=date(2025, 1, 1))
    assert "suspended_on" in exc.value.message_dict


def test_21_5_edit_form_has_no_procedure_fields(cast):
    member = cast.member_a_record
    page = cast.client("secretary_a").get(f"/members/{member.pk}/edit/").content.decode()
    for name in ("stage", "joined_on", "full_on", "membership_status", "suspended_on"):
        assert f'name="{name}"' not in page
    assert "党籍状态通过“处分与党籍”页面办理" in page


def _superuser_client() -> Client:
    admin = get_user_model().objects.create_superuser("breakglass", password="x-Unused-9")
    client = Client()
    client.force_login(admin)
    return client


@override_settings(PB_REQUIRE_2FA=False)
def test_21_5_admin_is_read_only_for_members(cast):
    client = _superuser_client()
    member = cast.member_a_record
    page = client.get(f"/django-admin/members/member/{member.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(f"/django-admin/members/member/{member.pk}/change/", {"stage": "applicant"})
    assert response.status_code == 403
    assert client.get("/django-admin/members/member/add/").status_code == 403
    assert Member.objects.get(pk=member.pk).stage == "full"


@override_settings(PB_REQUIRE_2FA=False)
def test_21_5_admin_adds_an_organization_through_the_tree(cast):
    client = _superuser_client()
    assert client.get("/django-admin/organizations/organization/add/").status_code == 200
    assert client.get("/django-admin/organizations/organization/").status_code == 200
    data = {
        "name": "第三党支部",
        "code": "T-3",
        "org_type": "branch",
        "unit_relation": "same_as_parent",
        "treebeard_position": "first-child",
        "treebeard_ref_node": str(cast.P.pk),
    }
    response = client.post("/django-admin/organizations/organization/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    new = Organization.objects.get(code="T-3")
    assert Organization.objects.parent_of(new) == cast.P
    assert Organization.objects.children_of(cast.P).filter(pk=new.pk).exists()
    bad = client.post("/django-admin/organizations/organization/add/", {**data, "code": "T-4", "org_type": "committee", "treebeard_ref_node": str(cast.A.pk)})
    assert bad.status_code == 200 and "不能设立该类别的党组织" in bad.content.decode()
    assert not Organization.objects.filter(code="T-4").exists()
