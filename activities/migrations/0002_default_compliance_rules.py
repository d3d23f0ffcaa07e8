"""The default rule table of the compliance calendar (../shared/domain-rules.md §14).

System defaults have no organization; an org_admin overrides them for a subtree with new
versions (never by editing these rows).
"""

import datetime

from django.db import migrations

BRANCHES = ("branch", "joint_branch", "temporary_branch")
EFFECTIVE_FROM = datetime.date(2000, 1, 1)

# (org types, kind, period, quarter, minimum, requires_committee, basis)
DEFAULTS = [
    (BRANCHES, "general_assembly", "quarter", None, 1, False, "ZB §11"),
    (BRANCHES, "committee", "month", None, 1, True, "ZB §12"),
    (("group",), "group", "month", None, 1, False, "ZB §13"),
    (BRANCHES, "lecture", "quarter", None, 1, False, "实践（ZB：按期）"),
    (BRANCHES, "theme_day", "month", None, 1, False, "ZB，JY §16"),
    (BRANCHES, "org_life", "year", 4, 1, False, "ZB §17"),
    (BRANCHES, "appraisal", "year", None, 1, False, "JY §18"),
    (BRANCHES, "talk", "year", None, 1, False, "ZB"),
    (("committee",), "secretary_lecture", "year", None, 1, False, "ZB"),
    (BRANCHES, "study_hours", "year", None, 32, False, "JY §20"),
]


def forwards(apps, schema_editor):
    ComplianceRule = apps.get_model("activities", "ComplianceRule")
    rows = []
    for org_types, kind, period, quarter, minimum, requires_committee, basis in DEFAULTS:
        for org_type in org_types:
            if ComplianceRule.objects.filter(organization=None, org_type=org_type, kind=kind).exists():
                continue
            rows.append(
                ComplianceRule(
                    organization=None,
                    org_type=org_type,
                    kind=kind,
                    period=period,
                    quarter=quarter,
                    minimum=minimum,
                    requires_committee=requires_committee,
                    is_active=True,
                    basis=basis,
                    effective_from=EFFECTIVE_FROM,
                )
            )
    ComplianceRule.objects.bulk_create(rows)


def backwards(apps, schema_editor):
    ComplianceRule = apps.get_model("activities", "ComplianceRule")
    ComplianceRule.objects.filter(organization=None, effective_from=EFFECTIVE_FROM, created_by=None).delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_organizational_life")]

    operations = [migrations.RunPython(forwards, backwards)]
