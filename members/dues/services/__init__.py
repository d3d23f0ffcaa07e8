"""Writes and rules for 党费 (§5), by concern: the yearly fixing, approvals, payments, the ledger.

Every service validates everything first, raises ``ValidationError({field: 中文})`` and writes
nothing when it refuses; the writes and their audit record share one transaction. A service given
the acting user authorizes it through the gate (``core.access.authorize``); called with none, it
is a system call (tasks, imports, demo) that trusts its caller.
"""
