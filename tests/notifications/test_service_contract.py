"""Notification writes that take the acting user check that user themselves."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from notifications.models import NotificationPreference
from notifications.services.inbox import preference_update

pytestmark = pytest.mark.django_db


def test_preferences_are_written_only_for_a_signed_in_active_user(cast):
    with pytest.raises(PermissionDenied):
        preference_update(user=AnonymousUser(), email_enabled=False, muted_rules=[])
    member = cast.users["member_a"]
    member.is_active = False
    member.save()
    with pytest.raises(PermissionDenied):
        preference_update(user=member, email_enabled=False, muted_rules=[])
    assert not NotificationPreference.objects.exists()
    pref = preference_update(user=cast.users["secretary_a"], email_enabled=False, muted_rules=["political_birthday"])
    assert pref.user == cast.users["secretary_a"] and pref.muted_rules == ["political_birthday"]
