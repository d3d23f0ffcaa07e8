"""The election rules as pure functions on whole numbers (no floats, so the boundaries are exact).

Sources (short keys of shared/domain-rules.md §0): XJ = 《中国共产党基层组织选举工作条例》(2020),
ZB = 《中国共产党支部工作条例（试行）》(2018), RQ = 中办《关于党的基层组织任期的意见》(2018).
Who has the right to vote and to be elected is *not* decided here: see
``activities.elections.services.prepare.electorate_on``, which takes the voters of the 支部党员大会
roster of ``activities.selectors.meeting_roster`` (``is_voter``: ``members.selectors.member_can_vote_on``
and the sanctions the status work adds there), and ``prepare.candidate_ineligibility``.
"""

from __future__ import annotations

from datetime import date

from core.dates import add_years

# 差额: the 委员 candidate list exceeds the seats by at least 20% (XJ), rounded up.
CANDIDATE_SURPLUS_PERCENT = 20
# 换届 may be advanced or delayed with the upper organization's approval, generally ≤ 1 year (XJ §3, RQ).
MAX_SHIFT_YEARS = 1
# A 书记 has generally ≥ 1 year of 党龄 (ZB §23); 党龄 counts from 转正 (FZ).
SECRETARY_MIN_PARTY_YEARS = 1
# Committee size by organization type (ZB, JG §6–§9): (minimum, maximum).
COMMITTEE_SEATS = {"branch": (3, 7), "joint_branch": (3, 7), "general_branch": (5, 9), "committee": (5, 11)}
# A committee exists with at least this many members (activities.selectors.COMMITTEE_MIN_SIZE).
COMMITTEE_MIN_ELECTED = 3


def min_candidates(seats: int) -> int:
    """ceil(seats × 1.2): 3 seats → 4, 5 → 6, 7 → 9 (XJ)."""
    return (seats * (100 + CANDIDATE_SURPLUS_PERCENT) + 99) // 100


def assembly_valid(*, voters_present: int, voters_expected: int) -> bool:
    """More than 4/5 of the members entitled to vote are present (XJ). Exactly 4/5 is not enough."""
    return voters_expected > 0 and voters_present * 5 > voters_expected * 4


def is_elected(*, votes_for: int, voters_present: int) -> bool:
    """Votes in favour from more than half of the voters present (XJ; 基层组织 count those
    present). Exactly half is not enough."""
    return votes_for * 2 > voters_present


def committee_quorum(*, present: int, size: int) -> bool:
    """More than half of the committee present (ZB §12)."""
    return present * 2 > size


def committee_elects(*, votes_for: int, size: int) -> bool:
    """书记/副书记 elected by the committee with votes from more than half of its members (ZB §12,
    the rule of ``activities.services.meeting_rules.resolution_outcome`` for 支委会)."""
    return votes_for * 2 > size


def party_years_enough(*, full_on: date | None, on: date) -> bool:
    """≥ 1 year since 转正 on ``on`` (ZB §23)."""
    return full_on is not None and full_on <= add_years(on, -SECRETARY_MIN_PARTY_YEARS)


def assembly_invalid_message(*, voters_present: int, voters_expected: int) -> str:
    return (
        f"到会有选举权党员 {voters_present} 人，未超过应到 {voters_expected} 人的五分之四，选举无效"
        "（选举工作条例：有选举权的党员到会超过应到会人数的五分之四，方可进行选举）"
    )
