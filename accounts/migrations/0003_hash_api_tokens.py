"""#21.11: existing API tokens move to django-rest-knox, hashed; the plain-text table is dropped.

Decision: migrate (hash) rather than invalidate. Every plain token becomes a knox row holding only
its SHA-512 digest and 15-character lookup prefix, with its original creation time and an expiry of
creation + the session cap in force (tokens already past it are not carried over). Clients keep
working until their token's natural end, and no plain token is left anywhere: the rows of
``authtoken_token`` are deleted, the table dropped and DRF authtoken's migration records removed
(``rest_framework.authtoken`` is no longer installed; were it ever re-installed, ``migrate`` would
create an empty table again). Irreversible by nature (a digest does not give the token back):
reversing the migration leaves the knox rows and recreates nothing.
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def _session_cap_hours(apps):
    policy = apps.get_model("accounts", "SecurityPolicy").objects.filter(pk=1).first()
    return policy.session_absolute_hours if policy else settings.PB_SESSION_MAX_HOURS


def hash_existing_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    quoted = schema_editor.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, created, user_id FROM {quoted}")  # noqa: S608
        rows = cursor.fetchall()
    AuthToken = apps.get_model("knox", "AuthToken")
    cap = timedelta(hours=_session_cap_hours(apps))
    now = timezone.now()
    for key, created, user_id in rows:
        if created is not None and timezone.is_naive(created):
            created = timezone.make_aware(created, UTC)
        if created is None or created + cap <= now:
            continue
        digest = hash_token(key)
        AuthToken(digest=digest, token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id).save(force_insert=True)
        AuthToken.objects.filter(digest=digest).update(created=created, expiry=created + cap)  # auto_now_add
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quoted}")  # noqa: S608
    schema_editor.execute(f"DROP TABLE {quoted}")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_display_preference"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop)]
