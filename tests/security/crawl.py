"""Walk the URLconf: every route, its HTTP methods, a concrete URL for it, and the text of a response.

Used by the canary crawl, the role × endpoint × verb matrix and the PI scans, so that every endpoint
another helper adds is crawled without anyone listing it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

SKIP_PREFIXES = ("django-admin/", "static/", "media/")
_KWARG_RE = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>")


@dataclass(frozen=True)
class Route:
    route: str  # the full pattern, e.g. "organizations/<int:pk>/"
    name: str  # the namespaced URL name, e.g. "organizations:detail"
    pattern: URLPattern

    @property
    def kwarg_names(self) -> list[str]:
        return [match.group("name") or match.group("rname") for match in _KWARG_RE.finditer(self.route)]

    @property
    def methods(self) -> list[str]:
        return view_methods(self.pattern)

    @property
    def model(self) -> Any:
        """The model a DRF view serves (``gated_model`` or ``queryset.model``), when it says so."""
        cls = getattr(self.pattern.callback, "cls", None)
        model = getattr(cls, "gated_model", None)
        if model is None:
            queryset = getattr(cls, "queryset", None)
            model = getattr(queryset, "model", None)
        return model

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def url(self, value: Any = None, **kwargs: Any) -> str:
        values = {name: kwargs.get(name, value) for name in self.kwarg_names}
        return reverse(self.name, kwargs=values) if values else reverse(self.name)


def iter_routes() -> Iterator[Route]:
    """Every named route except format-suffix duplicates, the Django admin and static files."""
    seen: set[str] = set()

    def walk(resolver: URLResolver, prefix: str, namespaces: list[str]) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                spaces = [*namespaces, entry.namespace] if entry.namespace else namespaces
                yield from walk(entry, prefix + str(entry.pattern), spaces)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if "(?P<format>" in route or route.startswith(SKIP_PREFIXES) or not entry.name:
                    continue
                name = ":".join([*namespaces, entry.name])
                if name in seen:
                    continue
                seen.add(name)
                yield Route(route=route, name=name, pattern=entry)

    yield from walk(get_resolver(), "", [])


def view_methods(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # DRF ViewSet routes
        # DRF adds "head" to this shared dict on a route's first request, so whether it shows up
        # depends on which tests ran before; HEAD is GET without a body and is left out everywhere.
        return sorted({method.upper() for method in actions if method not in ("head", "options")})
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        return [m.upper() for m in cls.http_method_names if m not in ("options", "head", "trace") and hasattr(cls, m)]
    return ["GET", "POST"]  # function views: both are tried (405 shows what is refused)


def request_rolled_back(client: Any, method: str, url: str) -> Any:
    """One request in a savepoint that is rolled back; the client's cookies are restored after it
    (so a logout, a password change or a new CSRF cookie does not leak into the next request)."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        else:
            response = getattr(client, method.lower())(url, data={}, content_type="application/json")
        transaction.set_rollback(True)
    client.cookies = cookies
    return response


def response_text(response: Any) -> str:
    """All text a person could read from a response: HTML/JSON as text, XLSX and zip contents."""
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                return "\n".join(
                    archive.read(name).decode("utf-8", "ignore")
                    for name in archive.namelist()
                    if name.endswith((".xml", ".txt", ".csv", ".json", ".rels"))
                )
        except zipfile.BadZipFile:
            pass
    text = body.decode("utf-8", "ignore")
    if response.get("Content-Type", "").startswith("application/json"):
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return text
