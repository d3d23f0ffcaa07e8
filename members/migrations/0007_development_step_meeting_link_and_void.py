"""DevelopmentStep: the 支部大会 vote links the activities meeting record (was a bare id), and a
wrongly recorded step can be voided (who, when, why) instead of being lost."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def link_meetings(apps, schema_editor):
    """Keep a bare id that names an existing meeting as the link; any other id goes to the note."""
    Step = apps.get_model("members", "DevelopmentStep")
    Meeting = apps.get_model("activities", "Meeting")
    steps = list(Step.objects.filter(legacy_meeting_id__isnull=False))
    existing = set(Meeting.objects.filter(pk__in=[s.legacy_meeting_id for s in steps]).values_list("pk", flat=True))
    for step in steps:
        if step.legacy_meeting_id in existing:
            step.meeting_id = step.legacy_meeting_id
        else:
            step.note = f"{step.note}\n原会议记录编号：{step.legacy_meeting_id}".strip()
        step.save(update_fields=["meeting", "note"])


def unlink_meetings(apps, schema_editor):
    Step = apps.get_model("members", "DevelopmentStep")
    for step in Step.objects.filter(meeting__isnull=False):
        step.legacy_meeting_id = step.meeting_id
        step.save(update_fields=["legacy_meeting_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_organizational_life"),
        ("members", "0006_dues_month_payment_set_null"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="developmentstep", old_name="meeting_id", new_name="legacy_meeting_id"),
        migrations.AddField(
            model_name="developmentstep",
            name="meeting",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="development_steps",
                to="activities.meeting",
                verbose_name="支部党员大会会议记录",
            ),
        ),
        migrations.RunPython(link_meetings, unlink_meetings),
        migrations.RemoveField(model_name="developmentstep", name="legacy_meeting_id"),
        migrations.AddField(
            model_name="developmentstep",
            name="voided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="作废时间"),
        ),
        migrations.AddField(
            model_name="developmentstep",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="developmentstep",
            name="void_reason",
            field=models.TextField(blank=True, verbose_name="作废原因"),
        ),
    ]
