"""Rule evaluation: which reminders are due on a date for a batch of organizations.

Each evaluator reads through the owning app's models or selectors with a few bulk queries for the
whole batch (never one query per organization or member) and yields ``Candidate`` reminders.
Writing them exactly once is ``services.reminders.reminder_candidates_write``.

Trigger semantics ("catch-up"): a reminder fires on the first scan on or after its trigger date
while its condition still holds, and its dedupe key (rule, target, period) keeps it to one. A day
the scan did not run therefore loses nothing.

The rule families live in this package, one module each; this module lists them, in order.
"""

from __future__ import annotations

from notifications.scan import compliance, development, dues, members, rectification, study, terms
from notifications.scan.context import ORGS, TREE, Candidate, Evaluator, ScanContext

EVALUATORS: dict[str, list[Evaluator]] = {
    ORGS: [
        terms.terms,
        members.political_birthdays,
        members.lost_contact,
        members.away_without_transfer,
        members.sanctions_ending,
        dues.dues_collection,
        development.development,
        dues.dues_arrears,
        study.study_pace,
        rectification.rectifications,
    ],
    TREE: [compliance.compliance],
}


def evaluate(ctx: ScanContext, scope: str = ORGS) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    for fn in EVALUATORS[scope]:
        for candidate in fn(ctx):
            found.setdefault(candidate.dedupe_key, candidate)
    return list(found.values())
