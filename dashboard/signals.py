"""Hooks that keep the summary tables current.

A change to a source row marks (organization, family) pairs dirty in the same transaction (the
outbox, ``dashboard.outbox``); after the commit a worker runs ``facts_refresh`` for them, which
recomputes those organizations' own facts and carries the difference up the tree, and the sweeper
catches any mark a failed refresh left. Writes that bypass signals (bulk inserts,
``QuerySet.update``) are caught by the nightly rebuild (``dashboard.rebuild`` in
CELERY_BEAT_SCHEDULE), unless the service announces them with ``core.signals.rows_changed`` /
``tree_changed`` (which this module subscribes to). The domain never calls the dashboard.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from core.signals import rows_changed, tree_changed
from dashboard.answers import retire_all
from dashboard.builds import request_rebuild
from dashboard.outbox import outbox_mark
from dashboard.tasks import dashboard_rebuild
from organizations.models import Organization

_local = threading.local()

# (app_label.ModelName, path to organization id(s), families); the domain families add theirs.
WATCHED: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("members.Member", ("organization_id",), ("members", "flags")),
    ("organizations.CommitteeTerm", ("organization_id",), ("flags",)),
    ("organizations.Position", ("term.organization_id",), ("flags",)),
]


def dashboard_mark_dirty(*, org_ids: Iterable[int | None], families: Iterable[str]) -> None:
    """Mark these organizations' facts dirty in the current transaction (the outbox); a worker
    recomputes them after the commit, the sweeper if that fails."""
    outbox_mark(org_ids=[pk for pk in org_ids if pk is not None], families=families)


def _rows_changed(sender: Any, organization_ids: Iterable[int | None] = (), **kwargs: Any) -> None:
    """``core.signals.rows_changed``: rows of ``sender`` changed in bulk (``bulk_create`` /
    ``bulk_update`` / ``update`` send no model signals): refresh every family that watches them."""
    label = sender._meta.label
    families = {family for watched, _paths, fams in WATCHED if watched == label for family in fams}
    if families:
        dashboard_mark_dirty(org_ids=organization_ids, families=sorted(families))


def _resolve(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _org_ids(instance: Any, paths: tuple[str, ...]) -> set[int]:
    ids = {_resolve(instance, path) for path in paths}
    ids |= getattr(instance, "_dashboard_old_orgs", set())
    return {pk for pk in ids if pk is not None}


def _watch(model: Any, paths: tuple[str, ...], families: tuple[str, ...]) -> None:
    uid = f"dashboard:{model._meta.label}:{','.join(families)}"

    def before(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
        if raw or instance.pk is None:
            return
        # The organization before the change (a member moved, a meeting re-assigned).
        fields = [path for path in paths if "." not in path]
        if fields:
            old = sender._default_manager.filter(pk=instance.pk).values(*fields).first()
            if old:
                instance._dashboard_old_orgs = {value for value in old.values() if value is not None}

    def after(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
        if raw:
            return
        dashboard_mark_dirty(org_ids=_org_ids(instance, paths), families=families)

    pre_save.connect(before, sender=model, dispatch_uid=f"{uid}:pre", weak=False)
    post_save.connect(after, sender=model, dispatch_uid=f"{uid}:post", weak=False)
    post_delete.connect(after, sender=model, dispatch_uid=f"{uid}:delete", weak=False)


def watch(label: str, paths: tuple[str, ...], families: tuple[str, ...]) -> None:
    """Watch one more model (called by ``dashboard.sources_apps`` before ``connect``)."""
    WATCHED.append((label, paths, families))


def _connect_one(label: str, paths: tuple[str, ...], families: tuple[str, ...]) -> None:
    _watch(apps.get_model(label), paths, families)


def _organization_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        dashboard_mark_dirty(org_ids=[instance.pk], families=["flags"])
        retire_all()  # its name, type or children are in kept dashboard answers


def _tree_changed(sender: Any, **kwargs: Any) -> None:
    """``core.signals.tree_changed``: an organization moved (treebeard moves with queryset updates,
    which send no signal): the ancestors of a whole subtree changed. The request for a rebuild is
    written in the same transaction (the dashboards say 统计数据生成中 until it has run)."""
    retire_all()
    _request_rebuild_once()


def _organization_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    retire_all()
    _request_rebuild_once()


def _request_rebuild_once() -> None:
    """A request row per change (rolled back with it); one rebuild queued per commit."""
    request_rebuild("tree", queue=False)
    _local.tree_requests = getattr(_local, "tree_requests", 0) + 1
    transaction.on_commit(_queue_tree_rebuild)


def _queue_tree_rebuild() -> None:
    if not getattr(_local, "tree_requests", 0):
        return  # this commit's rebuild is already queued
    _local.tree_requests = 0
    dashboard_rebuild.delay(reason="tree")


def connect() -> None:
    """Connect the receivers of every watched model (the families are registered by then)."""
    # One receiver per model and path, with every family that watches it: a meeting saved writes
    # its 'life' and 'followups' marks in one INSERT, a member saved reads its old organization once.
    merged: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for label, paths, families in WATCHED:
        names = merged.setdefault((label, paths), [])
        names.extend(family for family in families if family not in names)
    for (label, paths), families in merged.items():
        _connect_one(label, paths, tuple(families))
    post_save.connect(_organization_changed, sender=Organization, dispatch_uid="dashboard:org:post", weak=False)
    post_delete.connect(_organization_deleted, sender=Organization, dispatch_uid="dashboard:org:delete", weak=False)
    rows_changed.connect(_rows_changed, dispatch_uid="dashboard:rows_changed", weak=False)
    tree_changed.connect(_tree_changed, dispatch_uid="dashboard:tree_changed", weak=False)
