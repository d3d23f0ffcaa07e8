"""The audit chain's key, row hash and signed checkpoints (security issue #21.10, write path #17.1).

- Each row's ``row_hash`` is HMAC-SHA256 over its content and the previous row's hash, keyed with
  ``AUDIT_HMAC_KEY``. The database never holds the key, so whoever can write the table (even its
  owner, trigger switched off) cannot recompute a chain that ``audit_verify`` accepts.
- A signed checkpoint of the chain head (id and hash of the newest row) is appended daily to a file
  outside the database (``AUDIT_CHECKPOINT_DIR``) and written to the log. ``audit_verify`` checks
  that the newest checkpoint's row is still there with the same hash: deleting the newest rows or
  emptying the table (TRUNCATE) no longer leaves a chain that verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger("audit.checkpoint")


def chain_key() -> bytes:
    """``AUDIT_HMAC_KEY``; in development (empty) derived from SECRET_KEY. Production settings refuse
    to start without an explicit key."""
    key = getattr(settings, "AUDIT_HMAC_KEY", "")
    if key:
        return key.encode("utf-8")
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), b"pb-audit-chain-v1", hashlib.sha256).digest()


def _payload(prev_hash: str, event: Any) -> bytes:
    return json.dumps(
        [
            prev_hash,
            event.created_at.isoformat(),
            event.user_id,
            event.username,
            event.roles,
            event.ip_address,
            event.request_id,
            event.event,
            event.object_type,
            event.object_id,
            event.organization_id,
            event.outcome,
            event.detail,
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    ).encode("utf-8")


def row_hash(prev_hash: str, event: Any, key: bytes | None = None) -> str:
    """The keyed hash of one row linked to ``prev_hash``."""
    return hmac.new(key or chain_key(), _payload(prev_hash, event), hashlib.sha256).hexdigest()


def unkeyed_row_hash(prev_hash: str, event: Any) -> str:
    """The hash before #21.10 (plain SHA-256): only the migration that re-keys old chains uses it."""
    return hashlib.sha256(_payload(prev_hash, event)).hexdigest()


def sign(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(chain_key(), b"checkpoint:" + text.encode("utf-8"), hashlib.sha256).hexdigest()


# --- checkpoints ----------------------------------------------------------------------------------


def _database_label() -> str:
    """Which database the chain lives in: checkpoints of a test or a scratch copy never mix."""
    name = str(connection.settings_dict.get("NAME") or "default")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name) or "default"


def checkpoint_path() -> Path:
    directory = Path(getattr(settings, "AUDIT_CHECKPOINT_DIR", "") or Path(settings.VAR_DIR) / "audit")
    return directory / f"checkpoints-{_database_label()}.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    head_id: int
    head_hash: str
    at: str
    signed: bool


def checkpoint_write(*, head_id: int, head_hash: str, rows: int, now: datetime | None = None) -> dict[str, Any]:
    """Append one signed line to the checkpoint file and log it; returns the line."""
    fields = {
        "db": _database_label(),
        "at": (now or timezone.now()).isoformat(),
        "head_id": head_id,
        "head_hash": head_hash,
        "rows": rows,
    }
    line = {**fields, "sig": sign(fields)}
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    logger.info("audit checkpoint %s", json.dumps(line, ensure_ascii=False, sort_keys=True))
    return line


def checkpoints_read() -> list[Checkpoint]:
    """Every checkpoint of this database, oldest first; ``signed`` is False for a forged line."""
    path = checkpoint_path()
    if not path.exists():
        return []
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            fields = {key: line[key] for key in ("db", "at", "head_id", "head_hash", "rows")}
            signature = str(line.get("sig", ""))
            found.append(
                Checkpoint(
                    head_id=int(fields["head_id"]),
                    head_hash=str(fields["head_hash"]),
                    at=str(fields["at"]),
                    signed=hmac.compare_digest(signature, sign(fields)),
                )
            )
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(head_id=0, head_hash="", at="", signed=False))
    return found
