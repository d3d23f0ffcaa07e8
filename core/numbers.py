"""Numbers from query strings and forms.

``str.isdigit`` accepts "²" and other digits that ``int`` rejects (a 500), and an id larger than
any row overflows the database's integer (another 500). These two helpers are what every parser
of a user-supplied number uses instead.
"""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1


def is_number(text: Any) -> bool:
    """A plain non-negative decimal integer in ASCII digits."""
    text = str(text)
    return text.isascii() and text.isdigit()


def as_id(text: Any) -> int:
    """A numeric id for a lookup; larger than any id becomes ``MAX_ID`` (finds no row)."""
    return min(int(text), MAX_ID)
