"""Scheme writes authorize the acting user themselves (the house rule for services that take a
``user``); the seeded examples go through the system path, which takes no user."""

import pytest
from django.core.exceptions import PermissionDenied

from assessments.choices import SchemeStatus
from assessments.models import AssessmentScheme
from assessments.services.schemes import (
    scheme_activate,
    scheme_archive,
    scheme_new_version,
    scheme_save,
    scheme_seed,
)
from tests.assessments.helpers import small_scheme_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["member_a", "auditor_p", "sysadmin", "outsider", "secretary_b"])
def test_scheme_save_refuses_users_who_cannot_change_the_organization(cast, who):
    with pytest.raises(PermissionDenied):
        scheme_save(organization=cast.A, data=small_scheme_data(), user=cast.users[who])
    assert not AssessmentScheme.objects.exists()


def test_scheme_save_edits_only_schemes_the_user_may_change(cast):
    scheme = scheme_seed(organization=cast.P, data=small_scheme_data())
    with pytest.raises(PermissionDenied):
        scheme_save(organization=cast.A, data=small_scheme_data(), scheme=scheme, user=cast.users["secretary_a"])
    saved = scheme_save(
        organization=cast.P, data=small_scheme_data(name="修订"), scheme=scheme, user=cast.users["org_admin_p"]
    )
    assert saved.name == "修订"


def test_activate_and_archive_check_the_user(cast):
    scheme = scheme_seed(organization=cast.P, data=small_scheme_data())
    for service in (scheme_activate, scheme_archive):
        with pytest.raises(PermissionDenied):
            service(scheme=scheme, user=cast.users["secretary_a"])
    assert scheme_activate(scheme=scheme, user=cast.users["org_admin_p"]).status == SchemeStatus.ACTIVE
    assert scheme_archive(scheme=scheme, user=cast.users["org_admin_p"]).status == SchemeStatus.ARCHIVED


def test_new_version_copies_only_a_scheme_the_user_can_read(cast):
    foreign = scheme_seed(organization=cast.Q, data=small_scheme_data())
    with pytest.raises(PermissionDenied):
        scheme_new_version(scheme=foreign, organization=cast.P, user=cast.users["org_admin_p"])
    issued_above = scheme_seed(organization=cast.P, data=small_scheme_data())
    with pytest.raises(PermissionDenied):  # readable from below, but the target is not theirs
        scheme_new_version(scheme=issued_above, organization=cast.B, user=cast.users["secretary_a"])
    copy = scheme_new_version(scheme=issued_above, organization=cast.A, user=cast.users["secretary_a"])
    assert copy.organization == cast.A and copy.based_on == issued_above
