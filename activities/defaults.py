"""The default rule table of the compliance calendar (../shared/domain-rules.md §14).

The data migration 0002 installs the same rows (migrations keep their own frozen copy);
``compliance_defaults_install`` puts back any that are missing (e.g. after a test database flush).
"""

from __future__ import annotations

import datetime as dt

BRANCHES = ("branch", "joint_branch", "temporary_branch")
EFFECTIVE_FROM = dt.date(2000, 1, 1)

# (org types, kind, period, quarter, minimum, requires_committee, basis)
DEFAULT_RULES = [
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


def compliance_defaults_install() -> int:
    """Create the system-default rules that are missing; returns how many were created."""
    from activities.models import ComplianceRule

    existing = set(ComplianceRule.objects.filter(organization=None).values_list("org_type", "kind"))
    rows = [
        ComplianceRule(
            organization=None,
            org_type=org_type,
            kind=kind,
            period=period,
            quarter=quarter,
            minimum=minimum,
            requires_committee=requires_committee,
            basis=basis,
            effective_from=EFFECTIVE_FROM,
        )
        for org_types, kind, period, quarter, minimum, requires_committee, basis in DEFAULT_RULES
        for org_type in org_types
        if (org_type, kind) not in existing
    ]
    ComplianceRule.objects.bulk_create(rows)
    return len(rows)
