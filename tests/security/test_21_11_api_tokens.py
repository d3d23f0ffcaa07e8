"""#21.11: API tokens are hashed at rest, revocable, and end with the web logout.

The attack: a token read from the database (a backup, a SELECT) logged in as its user; a token
survived the web logout and there was no way to revoke one. Now the database holds a digest and a
lookup prefix only, ``POST /api/v1/auth/logout/``, ``logout-all`` and ``DELETE
/api/v1/auth/tokens/<prefix>/`` end tokens, the web logout ends them all, and authentication still
costs one indexed query and writes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from audit.models import AuditEvent
from tests.security.conftest import PASSWORD, login, set_password

pytestmark = pytest.mark.django_db


def api_login(username: str) -> str:
    response = Client().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def get(url: str, token: str):
    return Client().get(url, HTTP_AUTHORIZATION=f"Token {token}")


def post(url: str, token: str):
    return Client().post(url, HTTP_AUTHORIZATION=f"Token {token}", content_type="application/json")


def test_21_11_token_is_not_recoverable_from_the_database_row(cast):
    set_password(cast.users["member_a"])
    token = api_login("member_a")
    assert get("/api/v1/organizations/", token).status_code == 200
    row = AuthToken.objects.get(user=cast.users["member_a"])
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()  # a one-way digest
    assert row.token_key == token[:15] and len(token) == 64  # the prefix leaves 196 unknown bits
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        stored = " ".join(str(value) for record in cursor.fetchall() for value in record)
    assert token not in stored
    # What the table holds does not log in: neither the digest nor the prefix is a token.
    assert get("/api/v1/organizations/", row.digest).status_code == 401
    assert get("/api/v1/organizations/", row.token_key).status_code == 401
    assert "rest_framework.authtoken" not in __import__("django.conf").conf.settings.INSTALLED_APPS


def test_21_11_api_logout_ends_this_token_only(cast):
    set_password(cast.users["member_a"])
    laptop, script = api_login("member_a"), api_login("member_a")
    assert post("/api/v1/auth/logout/", laptop).status_code == 204
    refused = get("/api/v1/organizations/", laptop)
    assert refused.status_code == 401 and "令牌" in refused.json()["detail"]
    assert get("/api/v1/organizations/", script).status_code == 200
    assert AuditEvent.objects.filter(event="logout", username="member_a", detail__via="api_token").count() == 1


def test_21_11_logout_all_ends_every_token(cast):
    set_password(cast.users["member_a"])
    first, second = api_login("member_a"), api_login("member_a")
    response = post("/api/v1/auth/logout-all/", second)
    assert response.status_code == 200 and response.json() == {"ended": 2}
    assert get("/api/v1/organizations/", first).status_code == 401
    assert get("/api/v1/organizations/", second).status_code == 401
    assert AuditEvent.objects.filter(event="api_tokens_end_all", detail__why="logout_all").count() == 1


def test_21_11_web_logout_ends_the_users_api_tokens(cast):
    set_password(cast.users["member_a"])
    set_password(cast.users["secretary_a"])
    token, other_users = api_login("member_a"), api_login("secretary_a")
    browser = Client()
    login(browser, "member_a")
    assert browser.get("/").status_code == 200
    assert browser.post("/logout/").status_code == 302
    assert get("/api/v1/organizations/", token).status_code == 401
    assert get("/api/v1/organizations/", other_users).status_code == 200  # only the user's own tokens
    assert AuditEvent.objects.filter(event="api_tokens_end_all", detail__why="web_logout").count() == 1


def test_21_11_list_shows_own_tokens_without_the_secret(cast):
    set_password(cast.users["member_a"])
    set_password(cast.users["secretary_a"])
    mine_old, mine_new = api_login("member_a"), api_login("member_a")
    api_login("secretary_a")
    listing = get("/api/v1/auth/tokens/", mine_new)
    assert listing.status_code == 200
    rows = listing.json()
    assert [r["prefix"] for r in rows] == [mine_new[:15], mine_old[:15]]
    assert set(rows[0]) == {"prefix", "created", "expiry", "current"}
    assert rows[0]["current"] is True and rows[1]["current"] is False
    assert mine_new not in listing.content.decode() and mine_old not in listing.content.decode()


def test_21_11_one_user_cannot_list_or_delete_anothers_token(cast):
    set_password(cast.users["member_a"])
    set_password(cast.users["secretary_a"])
    victim, attacker = api_login("member_a"), api_login("secretary_a")
    seen = get("/api/v1/auth/tokens/", attacker).json()
    assert victim[:15] not in [r["prefix"] for r in seen]
    response = Client().delete(f"/api/v1/auth/tokens/{victim[:15]}/", HTTP_AUTHORIZATION=f"Token {attacker}")
    assert response.status_code == 404
    assert get("/api/v1/organizations/", victim).status_code == 200
    own = Client().delete(f"/api/v1/auth/tokens/{victim[:15]}/", HTTP_AUTHORIZATION=f"Token {victim}")
    assert own.status_code == 204
    assert get("/api/v1/organizations/", victim).status_code == 401


def test_21_11_expired_token_is_refused(cast):
    set_password(cast.users["member_a"])
    token = api_login("member_a")
    row = AuthToken.objects.get(user=cast.users["member_a"])
    assert abs(row.expiry - row.created - timedelta(hours=12)) < timedelta(seconds=5)  # the policy's session cap
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    refused = get("/api/v1/organizations/", token)
    assert refused.status_code == 401 and "过期" in refused.json()["detail"]


def test_21_11_tokens_per_user_are_capped(cast, settings):
    settings.PB_API_TOKENS_PER_USER = 2
    set_password(cast.users["member_a"])
    oldest = api_login("member_a")
    api_login("member_a")
    api_login("member_a")
    assert AuthToken.objects.filter(user=cast.users["member_a"]).count() == 2
    assert get("/api/v1/organizations/", oldest).status_code == 401


def test_21_11_session_request_cannot_log_out_a_token(cast):
    client = cast.client("member_a")
    response = client.post("/api/v1/auth/logout/", content_type="application/json")
    assert response.status_code == 400


# Measured on main at 3447acf (DRF's plain TokenAuthentication, one query for the token and user):
# a token-authenticated GET of /api/v1/organizations/ as member_a took 6 queries, /api/v1/members/
# as secretary_a 5. Hashed tokens must not cost more, and authentication writes nothing.
@pytest.mark.parametrize(
    "who,url,baseline", [("member_a", "/api/v1/organizations/", 6), ("secretary_a", "/api/v1/members/", 5)]
)
def test_21_11_authenticated_get_costs_no_more_queries(cast, django_assert_max_num_queries, who, url, baseline):
    set_password(cast.users[who])
    token = api_login(who)
    get(url, token)  # warm the policy cache as any running server has it
    with django_assert_max_num_queries(baseline):
        response = get(url, token)
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        get(url, token)
    token_queries = [q["sql"] for q in queries.captured_queries if "knox_authtoken" in q["sql"]]
    assert len(token_queries) == 1 and token_queries[0].lstrip().upper().startswith("SELECT")
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_21_11_existing_plain_tokens_are_hashed_by_the_migration(cast):
    """The data migration: a plain DRF token still logs in afterwards, the plain table is gone."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0003_hash_api_tokens")
    plain, stale = "a" * 8 + "0123456789abcdef0123456789abcdef", "b" * 40
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone, user_id integer)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime, user_id integer)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s), (%s, %s, %s)",
            [
                plain,
                now - timedelta(hours=1),
                cast.users["member_a"].pk,
                stale,
                now - timedelta(hours=13),
                cast.users["secretary_a"].pk,
            ],
        )

    class Editor:  # the two things the migration asks of a schema editor
        def __init__(self) -> None:
            self.connection = connection

        def quote_name(self, name: str) -> str:
            return connection.ops.quote_name(name)

        def execute(self, sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.hash_existing_tokens(apps, Editor())
    assert "authtoken_token" not in connection.introspection.table_names()
    row = AuthToken.objects.get(user=cast.users["member_a"])
    assert row.digest == hashlib.sha512(plain.encode()).hexdigest() and row.token_key == plain[:15]
    assert abs(row.created - (now - timedelta(hours=1))) < timedelta(seconds=1)
    assert not AuthToken.objects.filter(user=cast.users["secretary_a"]).exists()  # already past the cap
    assert get("/api/v1/organizations/", plain).status_code == 200


def test_21_11_expired_tokens_are_purged_daily(cast, settings):
    from accounts.tasks import purge_expired_tokens

    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-api-tokens"]["task"] == "accounts.purge_expired_tokens"
    live, _ = AuthToken.objects.create(user=cast.users["member_a"], expiry=timedelta(hours=1))
    old, _ = AuthToken.objects.create(user=cast.users["member_a"], expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    assert purge_expired_tokens() == 1
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [live.pk]


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token " + "z" * 64, "Token \xff\xfe"])
def test_21_11_malformed_or_unknown_token_is_a_401_in_chinese(cast, header):
    response = Client().get("/api/v1/organizations/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"] == "令牌无效或已注销，请重新登录"
