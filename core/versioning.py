"""Edits never silently overwrite each other (#17.3).

Records people edit carry ``row_version``. An edit names the version it started from; the first
step of its transaction is ``version_claim``: a conditional ``UPDATE … SET row_version =
row_version + 1 WHERE pk = … AND row_version = …``. It locks the row to the commit, so a second
editor holding the same version waits, then matches no row and gets ``VersionConflict`` — the API
answers 412, the page form shows what changed and keeps what the user typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction
from django.db.models import F

from core.numbers import is_number

VERSION_FIELD = "row_version"  # the hidden field of a page form that edits a versioned record


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
    return int(text) if is_number(text) and 0 < len(text) < 10 else None


def display(value: Any) -> str:
    """A value as the conflict table shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(display(v) for v in value)
    return str(value).replace("\r\n", "\n").strip()


def _same(saved: str, typed: str) -> bool:
    if saved == typed:
        return True
    try:  # "80.00" saved, "80" typed: the same figure
        return Decimal(saved) == Decimal(typed)
    except (InvalidOperation, ValueError):
        return False


def changed_values(rows: Iterable[tuple[str, Any, Any]]) -> list[dict[str, str]]:
    """For a conflict page: of ``(label, saved, typed)`` rows, those where the saved record differs
    from what the user typed, as ``{"label", "saved", "typed"}`` display strings."""
    changes = []
    for label, saved, typed in rows:
        saved_text, typed_text = display(saved), display(typed)
        if not _same(saved_text, typed_text):
            changes.append({"label": label, "saved": saved_text, "typed": typed_text})
    return changes


def changed_fields(current: Any, submitted: dict[str, Any], fields: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """``changed_values`` of a record's attributes against the submitted values of the same names."""
    return changed_values(
        (label, getattr(current, name, None), submitted[name]) for name, label in fields if name in submitted
    )


# --- page forms -----------------------------------------------------------------------------------
# Every page form that edits a versioned record does the same three things (meeting, member, dues
# fixing, rating, assessment scheme, rectification):
#   1. it carries the version it was loaded at: ``<input type="hidden" name="row_version"
#      value="{{ row_version }}">`` with ``row_version = form_version(request, obj, conflict)``;
#   2. it saves inside ``with page_edit(request, obj):`` — one transaction that first claims that
#      version, so a stale copy raises ``VersionConflict`` and writes nothing;
#   3. on ``VersionConflict`` it re-renders the form from what was posted (nothing the user typed
#      is lost) with status 409 and ``conflict = page_conflict(current, changed_values(...))``,
#      which ``templates/_version_conflict.html`` shows field by field ("他人保存的 / 您填写的").
#      The form then carries the current version: saving again re-applies the user's values.


def posted_version(request: Any) -> int | None:
    return version_parse(request.POST.get(VERSION_FIELD))


@contextmanager
def page_edit(request: Any, obj: Any) -> Iterator[None]:
    """A page form's save as one transaction that starts by claiming the version the form carries
    (the twin of ``core.api.versioning.versioned_edit``). A post without a version (an older page)
    is not checked."""
    expected = posted_version(request)
    with transaction.atomic():
        if obj is not None and expected is not None:
            version_claim(obj, expected)
        yield


def replace_claim(current: Any, seen_pk: int, seen_version: int) -> None:
    """For a form that creates a record or replaces it with a new one (the yearly dues fixing: a
    re-fix deletes the row and inserts another): the form names the record it was loaded with
    (``seen_pk``, 0 for none, and its version). Inside the save's transaction, with ``current``
    the record there is now (locked), raise ``VersionConflict`` when it is another record or a
    newer version; else claim it."""
    if current is None:
        if seen_pk:
            raise VersionConflict(None)
        return
    if current.pk != seen_pk:
        raise VersionConflict(current.row_version)
    version_claim(current, seen_version)


def page_conflict(current: Any, changes: list[dict[str, str]], *, note: str = "") -> dict[str, Any]:
    """The ``conflict`` of a form's context: the changes, and the version the form now carries."""
    return {"changes": changes, "version": current.row_version if current is not None else 0, "note": note}


def form_version(request: Any, obj: Any, conflict: dict[str, Any] | None = None) -> Any:
    """The version a (re-)rendered form carries: after a conflict the current one (saving again
    overwrites knowingly), else the one it was first loaded at, else the record's."""
    if conflict is not None:
        return conflict["version"]
    return request.POST.get(VERSION_FIELD) or (obj.row_version if obj is not None else "")
