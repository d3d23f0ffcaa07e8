"""Edits never silently overwrite each other (#17.3).

Records people edit carry ``row_version``. An edit names the version it started from; the first
step of its transaction is ``version_claim``: a conditional ``UPDATE … SET row_version =
row_version + 1 WHERE pk = … AND row_version = …``. It locks the row to the commit, so a second
editor holding the same version waits, then matches no row and gets ``VersionConflict`` — the API
answers 412, the page form shows what changed and keeps what the user typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F


def version_field() -> models.PositiveIntegerField:
    """The field every edited model adds as ``row_version`` (with a database default: bulk loaders
    such as demo/bench_data.py COPY rows without naming it)."""
    return models.PositiveIntegerField("修改版本", default=1, db_default=1, editable=False)


class VersionConflict(Exception):  # noqa: N818 - a domain outcome, named like the others
    """Somebody saved the record after the editor loaded it."""

    def __init__(self, current: int | None) -> None:
        super().__init__("记录已被他人修改")
        self.current = current


def version_claim(obj: Any, expected: int) -> None:
    """Inside the edit's transaction: take the row and move its version on, or raise
    ``VersionConflict`` when it is no longer ``expected``. ``obj.row_version`` follows, so a later
    ``obj.save()`` keeps the new version."""
    manager = type(obj)._base_manager
    if not manager.filter(pk=obj.pk, row_version=expected).update(row_version=F("row_version") + 1):
        raise VersionConflict(manager.filter(pk=obj.pk).values_list("row_version", flat=True).first())
    obj.row_version = expected + 1


def version_parse(value: Any) -> int | None:
    """A version from a form field or a header part: a positive integer, else None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < len(text) < 10 else None


def changed_fields(current: Any, submitted: dict[str, Any], fields: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """For a conflict page: the fields where the saved record differs from what the user typed,
    as ``{"label", "saved", "typed"}`` (display strings)."""
    rows = []
    for name, label in fields:
        if name not in submitted:
            continue
        saved = getattr(current, name, None)
        saved_text = "" if saved is None else str(saved)
        typed_text = "" if submitted[name] is None else str(submitted[name])
        if saved_text.strip() != typed_text.strip():
            rows.append({"label": label, "saved": saved_text, "typed": typed_text})
    return rows
