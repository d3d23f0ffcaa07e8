"""Every URL pattern is either in an explicit public allow-list or refuses anonymous users."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Pattern names (or path prefixes) that are public on purpose.
PUBLIC = {
    "login",  # the login form itself
    "healthz",  # load-balancer probes (#18.2): status only, no data
    "readyz",
    "api-token",  # POST username/password → token (it is a login)
    # #21.14: the password reset link sent to the user by e-mail (256 random bits, single use, 30 min)
    "password_reset_link",
    "password_reset_set",
    # activities: a user's personal iCalendar feed. Calendar apps cannot log in, so the URL carries a
    # secret token (only its hash is stored); a wrong or revoked token is a 404.
    "feed",
}
PUBLIC_PREFIXES = ("django-admin/",)  # Django's admin has its own login page; it redirects anonymous users


def iter_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def concrete(route: str, pk: int) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<(?:\w+:)?pk>", str(pk), route)
    route = re.sub(r"\(\?P<pk>[^)]*\)", str(pk), route)
    route = re.sub(r"<(?:int:)?\w+>", "1", route)
    route = re.sub(r"\(\?P<format>[^)]*\)", "json", route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = route.replace("\\.", ".").replace("/?", "/")
    return "/" + route


def test_every_url_is_public_or_refuses_anonymous(cast, client):
    checked = 0
    for route, pattern in iter_patterns():
        if pattern.name in PUBLIC or route.startswith(PUBLIC_PREFIXES):
            continue
        url = concrete(route, cast.A.pk)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (302, 401, 403, 404, 405), (route, method, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), (route, response["Location"])
            checked += 1
    assert checked > 10


def test_public_allow_list_names_exist():
    names = {pattern.name for _, pattern in iter_patterns()}
    assert names >= PUBLIC
