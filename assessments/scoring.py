"""The scoring engine: pure functions from indicator definitions and entered points to a total
and a star level. No database access here; services load rows and call these.

- score / bonus indicators add their points (0..max);
- deduction indicators subtract theirs (0..max);
- a veto (一票否决) indicator that is triggered caps the stars at ``veto_cap_stars`` (0 = no star);
- the total is floored at 0 and capped at the scheme's total points;
- bands map the total to stars; a band with a required indicator is reached only when that
  indicator scored above 0, otherwise the rating falls to the next lower band.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from assessments.choices import IndicatorKind, MappingType

ZERO = Decimal(0)
CENT = Decimal("0.01")


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def points_from_value(indicator: Any, value: Decimal | None) -> Decimal | None:
    """Points for a computed indicator from its metric value (None when the value is unknown).

    score/bonus: LINEAR → value (0..1) × max; STEPS → points of the highest step whose ``min`` the
    value reaches; BOOLEAN → max when value ≥ threshold (default 1).
    deduction: the full deduction when the value is below ``threshold`` (default 1), else 0.
    veto: 1 (triggered) when the value is below ``threshold`` (default 1), else 0.
    """
    if value is None:
        return None
    value = Decimal(value)
    max_points = Decimal(indicator.max_points)
    threshold = Decimal(indicator.threshold) if indicator.threshold is not None else Decimal(1)
    if indicator.kind == IndicatorKind.DEDUCTION:
        return max_points if value < threshold else ZERO
    if indicator.kind == IndicatorKind.VETO:
        return Decimal(1) if value < threshold else ZERO
    if indicator.mapping_type == MappingType.STEPS:
        reached = [Decimal(str(step["points"])) for step in indicator.mapping if value >= Decimal(str(step["min"]))]
        return min(max(reached), max_points) if reached else ZERO
    if indicator.mapping_type == MappingType.BOOLEAN:
        return max_points if value >= threshold else ZERO
    share = min(Decimal(1), max(ZERO, value))
    return q2(share * max_points)


@dataclass
class ScoreResult:
    total: Decimal
    score_points: Decimal
    bonus_points: Decimal
    deduction_points: Decimal
    veto_cap: int | None  # the lowest cap among triggered vetoes, None when none triggered
    vetoes: list[str] = field(default_factory=list)
    met: set[int] = field(default_factory=set)  # indicator ids that scored above 0
    missing: list[str] = field(default_factory=list)  # indicators without any points yet


def score_total(items: Iterable[tuple[Any, Decimal | None]], *, total_points: Decimal) -> ScoreResult:
    """Add up ``(indicator, points)`` pairs. ``points`` None means not scored yet."""
    score = bonus = deduction = ZERO
    veto_cap: int | None = None
    vetoes: list[str] = []
    met: set[int] = set()
    missing: list[str] = []
    for indicator, points in items:
        if points is None:
            if indicator.kind in (IndicatorKind.SCORE, IndicatorKind.BONUS):
                missing.append(indicator.name)
            continue
        points = Decimal(points)
        if points > 0:
            met.add(indicator.pk)
        if indicator.kind == IndicatorKind.SCORE:
            score += points
        elif indicator.kind == IndicatorKind.BONUS:
            bonus += points
        elif indicator.kind == IndicatorKind.DEDUCTION:
            deduction += points
        elif indicator.kind == IndicatorKind.VETO and points > 0:
            vetoes.append(indicator.name)
            cap = int(indicator.veto_cap_stars)
            veto_cap = cap if veto_cap is None else min(veto_cap, cap)
    total = min(Decimal(total_points), max(ZERO, score + bonus - deduction))
    return ScoreResult(
        total=q2(total),
        score_points=q2(score),
        bonus_points=q2(bonus),
        deduction_points=q2(deduction),
        veto_cap=veto_cap,
        vetoes=vetoes,
        met=met,
        missing=missing,
    )


def stars_for(bands: Iterable[Any], result: ScoreResult) -> int:
    """The star level for a total: the highest band reached whose requirement is met, then the
    veto cap. Bands are objects with ``stars``, ``min_points``, ``required_indicator_id``."""
    stars = 0
    for band in sorted(bands, key=lambda b: Decimal(b.min_points), reverse=True):
        if result.total < Decimal(band.min_points):
            continue
        if band.required_indicator_id and band.required_indicator_id not in result.met:
            continue
        stars = int(band.stars)
        break
    if result.veto_cap is not None:
        stars = min(stars, result.veto_cap)
    return stars


def quota_allowed(count: int, percent: Decimal) -> int:
    """How many organizations of ``count`` may be at a band with ``percent`` quota: rounded up,
    so a small committee can still have one (10% of 3 → 1)."""
    return math.ceil(Decimal(count) * Decimal(percent) / Decimal(100))


def fmt_points(value: Decimal | None) -> str:
    """10.00 → "10", 8.50 → "8.5" (for messages and reports)."""
    if value is None:
        return "—"
    return format(Decimal(value).normalize(), "f")
