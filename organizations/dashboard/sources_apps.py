"""Families fed by the other apps (organizational life, dues, development, assessments).

Each is registered only when the owning app's models exist, and uses that app's own selectors
for its definitions (what counts as done on time, the collection rate, arrears …).
"""

from __future__ import annotations


def register() -> None:
    return None
