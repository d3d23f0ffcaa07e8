"""The masked ID number keeps the first two and last two characters only (#21.1): the old mask
(region code + last four) plus the birth date was the full number. Rewritten from the old mask
itself, so no key is needed."""

from django.db import migrations


def remask(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    batch = []
    for pk, masked in Member.objects.exclude(id_number_masked="").values_list("pk", "id_number_masked").iterator():
        if len(masked) < 10:
            continue
        new = f"{masked[:2]}{'*' * (len(masked) - 4)}{masked[-2:]}"
        if new != masked:
            batch.append(Member(pk=pk, id_number_masked=new))
        if len(batch) >= 1000:
            Member.objects.bulk_update(batch, ["id_number_masked"])
            batch = []
    if batch:
        Member.objects.bulk_update(batch, ["id_number_masked"])


class Migration(migrations.Migration):
    dependencies = [("members", "0008_dues_import_rollback")]

    operations = [migrations.RunPython(remask, migrations.RunPython.noop)]
