"""Page views parse user-supplied numbers safely: "²" passes str.isdigit but not int(), and an id
beyond any database integer overflows the lookup. Both are a 400 or a 404, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

BAD = ["²", "١٢", "99999999999999999999999999"]


@pytest.mark.parametrize("value", BAD)
def test_query_numbers_never_500(cast, value):
    admin = cast.client("org_admin_p")
    secretary = cast.client("secretary_a")
    checks = [
        (admin, f"/organizations/new/?parent={value}"),
        (admin, f"/members/new/?organization={value}"),
        (admin, f"/organizations/{cast.P.pk}/dashboard/?year={value}"),
        (admin, f"/organizations/{cast.P.pk}/dashboard/members/?metric=age&value={value}"),
        (secretary, f"/dues/org/{cast.A.pk}/?year={value}"),
        (admin, f"/notifications/rules/?org={value}"),
        (admin, f"/assessments/rectifications/new/?report={value}"),
        (secretary, f"/activities/org/{cast.A.pk}/meetings/new/?plan_item={value}"),
        (admin, f"/notifications/rules/{cast.P.pk}/deliveries/?days={value}"),
    ]
    for client, url in checks:
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)


def test_validators_refuse_superscript_digits():
    from django.core.exceptions import ValidationError

    from members.validators import validate_id_number

    with pytest.raises(ValidationError):
        validate_id_number("11010119900307²²²")


@pytest.mark.parametrize("value", BAD + ["-1", "1234567890", ""])  # "0" is a version: stale, a conflict
def test_a_posted_version_that_is_no_plain_number_is_no_version(value):
    from core.versioning import version_parse

    assert version_parse(value) is None
