"""Keyed and anchored audit chain (#21.10), linear under concurrency (#17.1).

1. Re-keys the existing chain: every row's hash becomes HMAC-SHA256 with ``AUDIT_HMAC_KEY`` (run
   ``migrate`` with the production key set). Rows the old, unkeyed chain flagged (edited rows, or
   the forks concurrent writers made before #17.1) are named in an ``audit_chain_rekeyed`` event, so
   re-keying hides nothing. Fills the one-row chain head.
2. PostgreSQL: DELETE is refused for every row younger than the minimum retention (190 days),
   whatever the session sets (``set_config('pb.audit_purge', …)`` no longer opens anything);
   TRUNCATE is refused by a statement trigger. UPDATE stays refused.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

MINIMUM_DAYS = int(getattr(settings, "PB_AUDIT_RETENTION_DAYS_MINIMUM", 190))

PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '{MINIMUM_DAYS} days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION audit_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_no_truncate();
"""
PG_REMOVE = """
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_no_truncate();
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('pb.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update
BEFORE UPDATE ON audit_auditevent
BEGIN
    SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE refused');
END;
"""


def _set_update_trigger(schema_editor, enabled: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        action = "ENABLE" if enabled else "DISABLE"
        schema_editor.execute(f"ALTER TABLE audit_auditevent {action} TRIGGER audit_auditevent_append_only")
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER if enabled else "DROP TRIGGER IF EXISTS audit_auditevent_no_update")


def rekey(apps, schema_editor):
    from audit.chain import chain_key, row_hash, unkeyed_row_hash

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    key = chain_key()
    rows = AuditEvent.objects.using(schema_editor.connection.alias).order_by("id")
    if not rows.exists():
        return
    _set_update_trigger(schema_editor, enabled=False)
    old_prev, new_prev, broken, count = "", "", [], 0
    for row in rows.iterator(chunk_size=2000):
        if row.prev_hash != old_prev or unkeyed_row_hash(old_prev, row) != row.row_hash:
            broken.append(row.pk)
        old_prev = row.row_hash
        row.prev_hash, row.row_hash = new_prev, row_hash(new_prev, row, key)
        AuditEvent.objects.filter(pk=row.pk).update(prev_hash=row.prev_hash, row_hash=row.row_hash)
        new_prev, count = row.row_hash, count + 1
    _set_update_trigger(schema_editor, enabled=True)
    note = AuditEvent(
        created_at=timezone.now(),
        event="audit_chain_rekeyed",
        outcome="success",
        detail={
            "rows": count,
            "legacy_head_hash": old_prev,
            "legacy_broken": len(broken),
            "legacy_broken_ids": broken[:200],
        },
        prev_hash=new_prev,
    )
    note.row_hash = row_hash(new_prev, note, key)
    note.save(force_insert=True)
    AuditChainHead.objects.update_or_create(pk=1, defaults={"last_id": note.pk, "last_hash": note.row_hash})


def unrekey(apps, schema_editor):
    """Going back leaves the keyed hashes (the old verifier then reports them): nothing to undo."""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_head")]

    operations = [
        migrations.RunPython(rekey, unrekey),
        migrations.RunPython(install, remove),
    ]
