"""Append-only audit table (AUD-3): the database refuses UPDATE and DELETE of audit rows.

PostgreSQL: a trigger raises on UPDATE and on DELETE, except a DELETE inside the transaction of
``audit.services.audit_purge`` (which sets the transaction-local flag ``pb.audit_purge``).
SQLite: a trigger raises on UPDATE (DELETE stays possible there because Django's test flush empties
tables with DELETE; production runs on PostgreSQL).
"""

from django.db import migrations

PG_INSTALL = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('pb.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only();
"""
PG_REMOVE = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_append_only();
"""
SQLITE_INSTALL = """
CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update
BEFORE UPDATE ON audit_auditevent
BEGIN
    SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE refused');
END;
"""
SQLITE_REMOVE = "DROP TRIGGER IF EXISTS audit_auditevent_no_update;"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_INSTALL, params=None)  # the SQL contains a literal %
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_INSTALL)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REMOVE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REMOVE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_audit_rows_outlive_users")]

    operations = [migrations.RunPython(install, remove)]
