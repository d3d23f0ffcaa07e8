"""API test helpers: send the ETag back (#17.3)."""

from __future__ import annotations

from typing import Any


def if_match(api: Any, url: str) -> dict[str, str]:
    """GET ``url`` and return the ``If-Match`` header a PUT/PATCH of it must carry."""
    response = api.get(url)
    assert response.status_code == 200, response.content
    return {"HTTP_IF_MATCH": response["ETag"]}
