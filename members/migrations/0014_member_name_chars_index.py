"""A GIN index over the characters of ``upper(name)`` (PostgreSQL only), for the member name search.

Names are two or three Chinese characters and the search is usually one of them, so neither a
b-tree nor pg_trgm (no trigram in one character) helps ``name ILIKE '%浩%'``; an array of the
name's characters does: ``members.selectors.member_search_q`` adds ``… @> ARRAY['浩']`` beside the
``icontains`` it keeps (#20.2). SQLite has no GIN: nothing to do there, and the search stays a scan.
Built CONCURRENTLY (outside a transaction), so a deploy on a large province does not hold writes
to the member table while the index builds.
"""

from django.db import migrations

INDEX = "members_member_name_chars"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON members_member USING gin (regexp_split_to_array(upper(name), ''))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("members", "0013_merge_20261206_1637")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
